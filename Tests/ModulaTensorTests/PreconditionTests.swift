import Testing
@testable import ModulaTensor

/// Bad input stops the process with a message naming the operation and the shapes. Exit tests run
/// each case in a child process and capture its standard error.
@Suite("Preconditions on bad input")
struct PreconditionTests {
    /// Expects the captured standard error to contain `text`.
    func expectMessage(_ result: ExitTest.Result?, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains(text), "stderr: \(stderr.prefix(300))", sourceLocation: sourceLocation)
    }

    @Test func matmulInnerDimensionMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]).matmul(.zeros([4, 5]))
        }
        expectMessage(result, "matmul: shapes [2, 3] and [4, 5] are incompatible: inner dimensions 3 and 4 must match")
    }

    @Test func reshapeWrongCount() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]).reshaped([4, 2])
        }
        expectMessage(result, "reshape: cannot reshape [2, 3] (6 elements) to [4, 2] (8 elements)")
    }

    @Test func gatherIndexOutOfRange() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([3, 2]).gather([0, 3])
        }
        expectMessage(result, "gather: index 3 at position 1 is out of range 0..<3 for shape [3, 2]")
    }

    @Test func broadcastMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([2, 3]) + Tensor<Float>.zeros([4])
        }
        expectMessage(result, "add: shapes [2, 3] and [4] cannot be broadcast together")
    }
}

/// Contracts of the losses, which stop with a message in release builds too.
@Suite("Loss contracts")
struct LossContractTests {
    func expectMessage(_ result: ExitTest.Result?, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains(text), "stderr: \(stderr.prefix(300))", sourceLocation: sourceLocation)
    }

    @Test func crossEntropyLabelOutOfRange() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = crossEntropy(logits: Tensor<Float>.zeros([2, 3]), labels: [0, 3])
        }
        expectMessage(result, "crossEntropy: label 3 at position 1 is out of range 0..<3")
    }

    @Test func meanSquaredErrorShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = meanSquaredError(Tensor<Float>.zeros([2, 3]), Tensor<Float>.zeros([3, 2]))
        }
        expectMessage(result, "meanSquaredError: prediction shape [2, 3] and target shape [3, 2] must be equal")
    }
}
