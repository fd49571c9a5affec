import Testing
@testable import ModulaData
import ModulaTensor

/// Calls that stop with a message on bad arguments (in release builds too).
@Suite("Data contracts")
struct DataContractTests {
    func expectMessage(_ result: ExitTest.Result?, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains(text), "stderr: \(stderr.prefix(300))", sourceLocation: sourceLocation)
    }

    @Test func imageBatchOfSizeZero() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let data = ImageClassificationDataset(
                name: "tiny", rows: 1, columns: 2, classNames: ["a", "b"],
                trainPixels: [0, 255], trainLabels: [1], testPixels: [], testLabels: [])
            var rng = RandomGenerator(seed: 0)
            _ = data.batch(size: 0, using: &rng)
        }
        expectMessage(result, "tiny.batch(size:): size must be positive, got 0")
    }

    @Test func characterBatchLongerThanTheText() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let data = try! CharacterDataset(text: "abcdefghij")
            var rng = RandomGenerator(seed: 0)
            _ = data.batch(size: 1, context: 20, using: &rng)
        }
        expectMessage(result, "CharacterDataset.batch: the train split has 9 characters, needs more than context 20")
    }
}
