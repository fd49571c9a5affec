import Modula
import ModulaData
import ModulaMPI

/// Modula's hello-MNIST recipe on Fashion-MNIST: the hello-world MLP trained with dualized updates
/// on images/255 against one-hot targets with mean-squared error, batches of 128 drawn from the
/// whole training set.
public enum HelloMNIST {
    public struct Configuration: Sendable {
        public var steps = 1000
        public var batch = 128
        public var width = 256
        public var learningRate = 0.1
        /// Decay the rate linearly to zero instead of keeping it constant (the notebook keeps it constant).
        public var decay = false
        public var seed: UInt64 = 0
        /// A folder of MNIST-format IDX files instead of the Fashion-MNIST package.
        public var dataDirectory: String? = nil
        /// Use only the first `limit` images of each split.
        public var limit: Int? = nil
        /// Skip steps whose inputs, loss, gradient or update hold NaN or infinity instead of stopping.
        public var skipNonFiniteSteps = false
        /// Saving and resuming the training state.
        public var checkpoint = CheckpointOptions()
        public init() {}
        public static var quick: Configuration {
            var c = Configuration()
            c.steps = 150; c.width = 64; c.limit = 6000
            return c
        }

        /// Throws unless the step count, batch and width are positive and the learning rate is finite and > 0.
        public func validate() throws(ExampleError) {
            try requirePositive(steps, "--steps")
            try requirePositive(batch, "--batch")
            try requirePositive(width, "--width")
            try requireLearningRate(learningRate)
            try requireLimit(limit)
        }
    }

    /// Trains and returns `test_accuracy`, `train_loss`, `images_per_second`, `seconds` and `weights_digest`
    /// (``Checkpoint/digest(_:)`` of the final weights), and `skipped_steps` with ``Configuration/skipNonFiniteSteps``.
    public static func run(_ c: Configuration, environment env: ExampleEnvironment = .init()) throws -> ExampleResult {
        try run(c, environment: env, over: nil)
    }

    /// The training run in one process, or on the ranks of `parallel` (``runDistributed(_:world:environment:)``).
    static func run(_ c: Configuration, environment env: ExampleEnvironment, over parallel: DataParallel?) throws -> ExampleResult {
        try c.validate()
        let loadStart = now()
        let data = try loadImages(directory: c.dataDirectory, limit: c.limit)
        env.log("loaded \(data.count(.train)) training and \(data.count(.test)) test images in \(formatted(now() - loadStart, digits: 2)) s")
        var rng = RandomGenerator(seed: c.seed)
        let mlp = Sequential.mlp(input: data.featureCount, width: c.width, output: data.classCount, depth: 3)
        var weights: [Tensor<Float>] = mlp.initialize(using: &rng)
        let schedule: Schedule = c.decay ? .linearDecay(c.learningRate, steps: c.steps) : .constant(c.learningRate)
        var optimizer = try Optimizer<Float>.modular(module: mlp, learningRate: schedule)
        if c.skipNonFiniteSteps { optimizer.nonFiniteSteps = .skip }
        try parallel.prepare(&optimizer, &weights)
        let options = try env.fitOptions(
            steps: c.steps, label: "hello-mnist", itemsPerStep: c.batch, throughputName: "images_per_second",
            checkpoint: c.checkpoint, run: [
                "example": "hello-mnist", "seed": "\(c.seed)", "steps": "\(c.steps)", "batch": "\(c.batch)",
                "learning_rate": "\(c.learningRate)", "decay": "\(c.decay)", "data": data.name,
                "training_images": "\(data.count(.train))"])
        let run = try namingOptions {
            try fit(weights: &weights, optimizer: &optimizer, rng: &rng, options: options) { rng in
                let (images, labels) = data.batch(size: c.batch, using: &rng)
                return (images: images, targets: oneHot(labels, classes: data.classCount, as: Float.self))
            } loss: { w, batch in
                meanSquaredError(try mlp.forward([parallel.shard(batch.images)], weights: w[...])[0], parallel.shard(batch.targets))
            } inputs: { batch in [batch.images] } update: { w, optimizer, gradients, loss, inputs in
                try parallel.step(&optimizer, &w, gradients: gradients, loss: loss, inputs: inputs, batch: c.batch)
            }
        }
        try run.requireFinite()
        let losses = run.losses
        let testAccuracy = try evaluate(mlp, weights, data)
        env.log("test accuracy \(formatted(100 * testAccuracy, digits: 2)) % after \(losses.count) steps")

        var plot = LinePlot(title: "hello-MNIST: training loss", xLabel: "step", yLabel: "MSE loss", yScale: .log10)
        plot.add("batch loss", y: losses)
        try env.write(plot, "hello-mnist-loss.svg")

        var result = ExampleResult("hello-mnist")
        result.add("test_accuracy", testAccuracy)
        result.add("train_loss", losses.suffix(50).reduce(0, +) / Double(Swift.min(50, losses.count)))
        result.add("images_per_second", Double(run.stepsTaken * c.batch) / run.trainingSeconds, digits: 0)
        result.add("seconds", run.trainingSeconds, digits: 2)
        if c.skipNonFiniteSteps { result.add("skipped_steps", Double(optimizer.skippedSteps), digits: 0) }
        result.add("weights_digest", Checkpoint.digest(weights))
        parallel.report(&result, optimizer, trainingSeconds: run.trainingSeconds)
        return result
    }
}
