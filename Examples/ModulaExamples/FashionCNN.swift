import Modula
import ModulaData

/// The training-loop article's example: a small convolutional network on Fashion-MNIST, trained with
/// ``fit(weights:optimizer:rng:options:batch:loss:inputs:evaluate:update:)`` (evaluation, checkpoints, logs, progress).
///
/// Two 3×3 convolutions (16 and 32 channels), each followed by ReLU and 2×2 average pooling, then a linear
/// classifier; cross-entropy, batches of 64, EMA momentum 0.9, the modular learning rate decayed linearly to 0.
public enum FashionCNN {
    public struct Configuration: Sendable {
        public var steps = 2000
        public var batch = 64
        /// Channels of the first convolution (the second has twice as many).
        public var channels = 16
        public var learningRate = 0.5
        public var momentum = 0.9
        /// Steps between test-accuracy evaluations (the last step is always evaluated).
        public var evaluateEvery = 500
        public var seed: UInt64 = 0
        /// A folder of MNIST-format IDX files instead of the Fashion-MNIST package.
        public var dataDirectory: String? = nil
        /// Use only the first `limit` images of each split.
        public var limit: Int? = nil
        /// Saving and resuming the training state.
        public var checkpoint = CheckpointOptions()
        public init() {}
        /// The reduced form the tests run.
        public static var quick: Configuration {
            var c = Configuration()
            c.steps = 40; c.channels = 4; c.batch = 32; c.evaluateEvery = 20; c.limit = 2000
            return c
        }

        /// Throws unless the counts are positive and the learning rate is finite and > 0.
        public func validate() throws(ExampleError) {
            try requirePositive(steps, "--steps")
            try requirePositive(batch, "--batch")
            try requirePositive(channels, "--channels")
            try requirePositive(evaluateEvery, "--evaluate-every")
            try requireLearningRate(learningRate)
            try requireLimit(limit)
            guard momentum >= 0 && momentum < 1 else {
                throw .invalidOption("momentum", value: "\(momentum)", expected: "in [0, 1)")
            }
        }
    }

    /// The article's network for 28×28 grey images.
    public static func network(channels c: Int) -> Sequential {
        Sequential {
            Conv2D(in: 1, out: c); ReLU(); AvgPool(2)          // 28×28 → 14×14
            Conv2D(in: c, out: 2 * c); ReLU(); AvgPool(2)      // → 7×7
            Flatten()
            Linear(in: 2 * c * 7 * 7, out: 10)
        }
    }

    /// Trains and returns `test_accuracy`, `train_loss` (mean of the last 50 steps), `images_per_second`,
    /// `seconds` and `weights_digest`.
    public static func run(_ c: Configuration, environment env: ExampleEnvironment = .init()) throws -> ExampleResult {
        try c.validate()
        let data = try loadImages(directory: c.dataDirectory, limit: c.limit)
        guard data.rows == 28 && data.columns == 28 else {
            throw ExampleError.invalidOption("--data", value: "\(data.rows)×\(data.columns) images", expected: "28×28 images")
        }
        let cnn = network(channels: c.channels)
        env.log("\(cnn)")
        var rng = RandomGenerator(seed: c.seed)
        var weights: [Tensor<Float>] = cnn.initialize(using: &rng)
        var optimizer = try Optimizer<Float>.modular(
            module: cnn, learningRate: .linearDecay(c.learningRate, steps: c.steps), momentum: .ema(c.momentum))

        func images(_ x: Tensor<Float>) -> Tensor<Float> { x.reshaped([-1, 1, 28, 28]) }
        func testAccuracy(_ w: [Tensor<Float>]) throws -> Double {
            var correct = 0
            for chunk in data.chunks(of: .test, size: 500) {
                let predicted = try cnn(images(chunk.images), w).argmax(alongAxis: -1)
                correct += zip(predicted, chunk.labels).filter { $0 == $1 }.count
            }
            return Double(correct) / Double(data.count(.test))
        }

        var options = try env.fitOptions(
            steps: c.steps, label: "fashion-cnn", itemsPerStep: c.batch, throughputName: "images_per_second",
            checkpoint: c.checkpoint, run: [
                "example": "fashion-cnn", "seed": "\(c.seed)", "steps": "\(c.steps)", "batch": "\(c.batch)",
                "learning_rate": "\(c.learningRate)", "data": data.name, "training_images": "\(data.count(.train))"])
        options.evaluateEvery = c.evaluateEvery; options.evaluateAtEnd = true
        let run = try namingOptions {
            try fit(weights: &weights, optimizer: &optimizer, rng: &rng, options: options) { rng in
                data.batch(size: c.batch, using: &rng)
            } loss: { w, batch in
                crossEntropy(logits: try cnn(images(batch.images), w), labels: batch.labels)
            } inputs: { batch in
                [batch.images]
            } evaluate: { w in
                [Evaluation.Value("test_accuracy", try testAccuracy(w))]
            }
        }
        try run.requireFinite()
        for e in run.evaluations { env.log("step \(e.step): test accuracy \(formatted(100 * e["test_accuracy"]!, digits: 2)) %") }

        var plot = LinePlot(title: "Fashion-MNIST CNN: training loss", xLabel: "step", yLabel: "cross-entropy", yScale: .log10)
        plot.add("batch loss", y: run.losses)
        try env.write(plot, "fashion-cnn-loss.svg")

        var result = ExampleResult("fashion-cnn")
        // After --stop-after, the last evaluation may be older than the weights: measure them.
        let final = run.evaluations.last { $0.step == run.losses.count }?["test_accuracy"]
        result.add("test_accuracy", try final ?? testAccuracy(weights))
        result.add("train_loss", run.losses.suffix(50).reduce(0, +) / Double(Swift.min(50, run.losses.count)))
        result.add("images_per_second", Double(run.stepsTaken * c.batch) / run.trainingSeconds, digits: 0)
        result.add("seconds", run.trainingSeconds, digits: 2)
        result.add("weights_digest", Checkpoint.digest(weights))
        return result
    }
}
