import Foundation
import Modula
import Testing
@testable import ModulaData

// The code of Sources/Modula/Modula.docc/Articles/TrainingLoop.md, which needs ModulaData (so it is checked here,
// not with the other articles in Tests/ModulaTests). Sizes are reduced: a debug build runs the convolutions far
// slower than a release build. The full run is `modula-examples fashion-cnn` (Examples/ModulaExamples/FashionCNN.swift).
@Suite("Docs: The Training Loop", .serialized, .enabled(if: exists(ImageClassificationDataset.fashionMNISTDirectory)))
struct TrainingLoopArticleTests {
    /// The article's program with `channels` (16 in the article), `steps` (2000) and `limit` (all images).
    func train(_ dir: TemporaryDirectory, stopAfter: Int? = nil, resume: Bool = false) throws -> (FitResult, [Tensor<Float>]) {
        let (channels, steps, batchSize) = (4, 24, 16)
        let data = try ImageClassificationDataset.fashionMNIST(limit: 400)
        let cnn = Sequential {
            Conv2D(in: 1, out: channels); ReLU(); AvgPool(2)                // 28×28 → 14×14
            Conv2D(in: channels, out: 2 * channels); ReLU(); AvgPool(2)     // → 7×7
            Flatten()
            Linear(in: 2 * channels * 7 * 7, out: 10)
        }
        var rng = RandomGenerator(seed: 0)
        var weights: [Tensor<Float>] = cnn.initialize(using: &rng)
        var optimizer = try Optimizer<Float>.modular(module: cnn, learningRate: .linearDecay(0.5, steps: steps), momentum: .ema(0.9))

        func images(_ x: Tensor<Float>) -> Tensor<Float> { x.reshaped([-1, 1, 28, 28]) }
        func testAccuracy(_ w: [Tensor<Float>]) throws -> Double {
            var correct = 0
            for chunk in data.chunks(of: .test, size: 500) {
                let predicted = try cnn(images(chunk.images), w).argmax(alongAxis: -1)
                correct += zip(predicted, chunk.labels).filter { $0 == $1 }.count
            }
            return Double(correct) / Double(data.count(.test))
        }

        var options = FitOptions(steps: steps)
        options.evaluateEvery = 8
        options.checkpoint = dir.file("cnn.safetensors"); options.checkpointEvery = 8
        options.logDirectory = dir.file("runs/cnn")
        options.label = "cnn"; options.itemsPerStep = batchSize
        options.showsProgress = false
        options.stopAfter = stopAfter
        if resume { options.resume = dir.file("cnn.safetensors") }
        let run = try fit(weights: &weights, optimizer: &optimizer, rng: &rng, options: options) { rng in
            data.batch(size: batchSize, using: &rng)
        } loss: { w, batch in
            crossEntropy(logits: try cnn(images(batch.images), w), labels: batch.labels)
        } evaluate: { w in
            [Evaluation.Value("test_accuracy", try testAccuracy(w))]
        }
        return (run, weights)
    }

    @Test("the article's CNN trains with fit, evaluates every k steps, and resumes from its checkpoint bit for bit")
    func cnn() throws {
        let whole = TemporaryDirectory(), parts = TemporaryDirectory()
        let (run, weights) = try train(whole)
        #expect(run.evaluations.map(\.step) == [8, 16, 24])
        let accuracy = run.evaluations.last!["test_accuracy"]!
        #expect(accuracy > 0.3, "\(run.evaluations)")   // chance is 0.1
        #expect(exists(whole.file("runs/cnn/metrics.jsonl")) && exists(whole.file("cnn.safetensors")))

        let (first, _) = try train(parts, stopAfter: 12)
        #expect(first.end == .stopped(afterStep: 12))
        let (resumed, resumedWeights) = try train(parts, resume: true)
        #expect(resumed.firstStep == 12 && resumedWeights == weights && resumed.losses == run.losses)
        #expect(resumed.evaluations == run.evaluations)
    }
}
