import Testing
@testable import Modula

// The same seed, thread count, machine and build give bit-identical training: nothing in a step depends on timing
// (which worker finishes first) or on memory addresses. What does change results is listed in the README
// ("Determinism"): the thread count, the CPU and its OpenBLAS kernels, and the Float kernels' instruction set.
@Suite("Determinism")
struct DeterminismTests {
    /// Trains `module` on seeded data for `steps` steps and returns the final weights' bits.
    func train(
        _ module: any Module, input: (inout RandomGenerator) -> Tensor<Float>,
        loss: (Tensor<Float>) -> Tensor<Float>, steps: Int
    ) throws -> [[UInt32]] {
        var rng = RandomGenerator(seed: 42)
        var weights: [Tensor<Float>] = module.initialize(using: &rng)
        var optimizer = try Optimizer<Float>.modular(
            module: module, learningRate: .constant(0.1), momentum: .ema(0.9))
        for _ in 0..<steps {
            let x = input(&rng)
            let (_, grads) = try valueWithGradient(at: weights) { w in loss(try module(x, w)) }
            try optimizer.update(&weights, gradients: grads)
        }
        return weights.map { $0.scalars.map(\.bitPattern) }
    }

    @Test("an MLP wide enough to split its products between threads trains to the same bits twice")
    func mlpTwice() throws {
        // 320-wide layers: the Newton–Schulz SYRKs and the elementwise passes take their multi-threaded paths
        // when the machine has two cores.
        let mlp = Sequential.mlp(input: 48, width: 320, output: 10, depth: 3)
        let input: (inout RandomGenerator) -> Tensor<Float> = { rng in .randomNormal([32, 48], using: &rng) }
        let target = Tensor<Float>.zeros([32, 10])
        let a = try train(mlp, input: input, loss: { meanSquaredError($0, target) }, steps: 3)
        let b = try train(mlp, input: input, loss: { meanSquaredError($0, target) }, steps: 3)
        #expect(a == b)
    }

    @Test("a small GPT trains to the same bits twice")
    func gptTwice() throws {
        let gpt = Sequential.gpt(vocabulary: 11, heads: 2, dimension: 16, queryDimension: 8, valueDimension: 8, blocks: 2)
        var labels: [Int] = []
        let input: (inout RandomGenerator) -> Tensor<Float> = { rng in
            let tokens = (0..<(4 * 9)).map { _ in rng.nextInt(below: 11) }
            labels = Array(tokens.enumerated().filter { $0.offset % 9 != 0 }.map(\.element))
            return Tensor(shape: [4, 8], scalars: tokens.enumerated().filter { $0.offset % 9 != 8 }.map { Float($0.element) })
        }
        let loss: (Tensor<Float>) -> Tensor<Float> = { logits in crossEntropy(logits: logits.reshaped([32, 11]), labels: labels) }
        let a = try train(gpt, input: input, loss: loss, steps: 3)
        let b = try train(gpt, input: input, loss: loss, steps: 3)
        #expect(a == b)
    }
}
