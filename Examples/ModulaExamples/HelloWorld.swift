import Modula
import ModulaData

/// Modula's hello-world: an MLP fitted to Gaussian targets with dualized gradient descent.
///
/// MLP 784→256→256→10, mean-squared error on 128 Gaussian inputs and targets (full batch),
/// learning rate 0.1·(1 − step/steps), no momentum. Modula reports loss 0.979 at step 0 and
/// 0.000025 at step 900.
public enum HelloWorld {
    public struct Configuration: Sendable {
        public var steps = 1000
        public var batch = 128
        public var input = 784
        public var width = 256
        public var output = 10
        public var learningRate = 0.1
        public var seed: UInt64 = 0
        /// Skip steps whose loss, gradient or update holds NaN or infinity instead of stopping.
        public var skipNonFiniteSteps = false
        /// Saving and resuming the training state.
        public var checkpoint = CheckpointOptions()
        public init() {}
        /// The reduced form the tests run.
        public static var quick: Configuration {
            var c = Configuration()
            c.steps = 300; c.input = 64; c.width = 64; c.batch = 32
            return c
        }

        /// Throws unless every size and the step count are positive and the learning rate is finite and > 0.
        public func validate() throws(ExampleError) {
            try requirePositive(steps, "--steps")
            try requirePositive(width, "--width")
            try requirePositive(batch, "batch")
            try requirePositive(input, "input")
            try requirePositive(output, "output")
            try requireLearningRate(learningRate)
        }
    }

    /// Trains and returns the `result` with `initial_loss`, `loss_at_900` (when reached), `final_loss`,
    /// `steps_per_second`, `seconds` and `weights_digest` (``Checkpoint/digest(_:)`` of the final weights).
    /// With ``Configuration/skipNonFiniteSteps`` the result also has `skipped_steps`.
    public static func run(_ c: Configuration, environment env: ExampleEnvironment = .init()) throws -> ExampleResult {
        try c.validate()
        var rng = RandomGenerator(seed: c.seed)
        let mlp = Sequential.mlp(input: c.input, width: c.width, output: c.output, depth: 3)
        env.log("\(mlp)")
        var weights: [Tensor<Float>] = mlp.initialize(using: &rng)
        let x = Tensor<Float>.randomNormal([c.batch, c.input], using: &rng)
        let y = Tensor<Float>.randomNormal([c.batch, c.output], using: &rng)
        var optimizer = try Optimizer<Float>.modular(module: mlp, learningRate: .linearDecay(c.learningRate, steps: c.steps))
        if c.skipNonFiniteSteps { optimizer.nonFiniteSteps = .skip }
        let options = try env.fitOptions(steps: c.steps, label: "hello-world", itemsPerStep: 1, checkpoint: c.checkpoint, run: [
            "example": "hello-world", "seed": "\(c.seed)", "steps": "\(c.steps)", "batch": "\(c.batch)",
            "learning_rate": "\(c.learningRate)"])
        let run = try namingOptions {
            try fit(weights: &weights, optimizer: &optimizer, rng: &rng, options: options) { _ in
            } loss: { w, _ in
                meanSquaredError(try mlp.forward([x], weights: w[...])[0], y)
            } inputs: { _ in [x] }
        }
        try run.requireFinite()
        let losses = run.losses
        var plot = LinePlot(title: "hello-world: training loss", xLabel: "step", yLabel: "loss", yScale: .log10)
        plot.add("modular-norm descent", y: losses)
        try env.write(plot, "hello-world-loss.svg")

        var result = ExampleResult("hello-world")
        result.add("initial_loss", losses[0])
        if losses.count > 900 { result.add("loss_at_900", losses[900], digits: 8) }
        result.add("final_loss", losses.last!, digits: 8)
        result.add("steps_per_second", Double(run.stepsTaken) / run.trainingSeconds, digits: 1)
        result.add("seconds", run.trainingSeconds, digits: 2)
        if c.skipNonFiniteSteps { result.add("skipped_steps", Double(optimizer.skippedSteps), digits: 0) }
        result.add("weights_digest", Checkpoint.digest(weights))
        return result
    }
}
