import Modula
import ModulaData
import ModulaMPI

/// Modula's hello-GPT: a character-level transformer trained with EMA momentum and one `dualize`
/// of the whole network per step.
///
/// Defaults are the notebook's: context 64, batch 12, 4 heads, dimension 128, query/value dimension 32,
/// 4 blocks, momentum 0.95, learning rate 0.1·(1 − step/2001), 2001 steps. On tiny-Shakespeare Modula
/// reports validation loss 4.18 at step 0 and 1.8968 at step 2000.
public enum HelloGPT {
    public struct Configuration: Sendable {
        /// A text file; `nil` uses Debian's fortunes files.
        public var textPath: String? = nil
        public var steps = 2001
        public var batch = 12
        public var context = 64
        public var heads = 4
        public var dimension = 128
        public var headDimension = 32
        public var blocks = 4
        public var learningRate = 0.1
        public var momentum = 0.95
        /// Validation batches averaged for each validation loss.
        public var validationBatches = 20
        /// Steps between validation losses.
        public var validationEvery = 200
        /// Characters to sample at the end, and the sampling temperature.
        public var sampleLength = 300
        public var temperature = 0.8
        public var seed: UInt64 = 0
        /// Text given directly (used by tests instead of a file).
        public var text: String? = nil
        /// Skip steps whose loss, gradient or update holds NaN or infinity instead of stopping.
        public var skipNonFiniteSteps = false
        /// Saving and resuming the training state.
        public var checkpoint = CheckpointOptions()
        public init() {}
        public static var quick: Configuration {
            var c = Configuration()
            c.steps = 60; c.dimension = 32; c.headDimension = 8; c.heads = 2; c.blocks = 2
            c.context = 16; c.batch = 8; c.validationBatches = 4; c.validationEvery = 30; c.sampleLength = 40
            return c
        }

        /// Throws unless every size and count is positive (the sample length ≥ 0), the learning rate is
        /// finite and > 0, the momentum lies in [0, 1) and the temperature is finite and ≥ 0.
        public func validate() throws(ExampleError) {
            try requirePositive(steps, "--steps")
            try requireLearningRate(learningRate)
            try requireNonNegative(sampleLength, "--sample-length")
            guard temperature.isFinite && temperature >= 0 else {
                throw .invalidOption("--temperature", value: "\(temperature)", expected: "a finite number ≥ 0 (0 samples greedily)")
            }
            guard momentum >= 0 && momentum < 1 else {
                throw .invalidOption("momentum", value: "\(momentum)", expected: "in [0, 1)")
            }
            for (value, name) in [(batch, "batch"), (context, "context"), (heads, "heads"), (dimension, "dimension"),
                                  (headDimension, "headDimension"), (blocks, "blocks"),
                                  (validationBatches, "validationBatches"), (validationEvery, "validationEvery")] {
                try requirePositive(value, name)
            }
        }

        /// The shortest text whose training and validation parts (90 % and 10 %) each exceed the context.
        public var shortestText: Int {
            var n = context + 1
            while Int(Double(n) * 0.9) <= context || n - Int(Double(n) * 0.9) <= context { n += 1 }
            return n
        }
    }

    /// Trains and returns `initial_val_loss`, `val_loss`, `train_loss`, `tokens_per_second`, `seconds` and
    /// `weights_digest` (``Checkpoint/digest(_:)`` of the final weights), and `skipped_steps` with
    /// ``Configuration/skipNonFiniteSteps``.
    ///
    /// - Throws: ``ExampleError/textTooShort(source:characters:needed:context:)`` when a split of the text is
    ///   not longer than the context.
    public static func run(_ c: Configuration, environment env: ExampleEnvironment = .init()) throws -> ExampleResult {
        try run(c, environment: env, over: nil)
    }

    /// The training run in one process, or on the ranks of `parallel` (``runDistributed(_:world:environment:)``).
    static func run(_ c: Configuration, environment env: ExampleEnvironment, over parallel: DataParallel?) throws -> ExampleResult {
        try c.validate()
        let data: CharacterDataset
        if let text = c.text { data = try CharacterDataset(text: text, source: "text") } else {
            data = try CharacterDataset.load(path: c.textPath)
        }
        guard data.tokens(.train).count > c.context && data.tokens(.validation).count > c.context else {
            throw ExampleError.textTooShort(source: data.source, characters: data.tokens.count,
                                            needed: c.shortestText, context: c.context)
        }
        env.log("text: \(data.source) — \(data.tokens.count) characters, vocabulary \(data.vocabularySize)")
        let gpt = Sequential.gpt(vocabulary: data.vocabularySize, heads: c.heads, dimension: c.dimension,
                      queryDimension: c.headDimension, valueDimension: c.headDimension, blocks: c.blocks)
        env.log("GPT: \(gpt.atomCount) atoms, mass \(gpt.mass), sensitivity \(gpt.sensitivity), \(gpt.parameterCount) weights")
        var rng = RandomGenerator(seed: c.seed)
        var weights: [Tensor<Float>] = gpt.initialize(using: &rng)
        var optimizer = try Optimizer<Float>.modular(
            module: gpt, learningRate: .linearDecay(c.learningRate, steps: c.steps), momentum: .ema(c.momentum))
        if c.skipNonFiniteSteps { optimizer.nonFiniteSteps = .skip }
        try parallel.prepare(&optimizer, &weights)

        // With `rows`, the loss of this rank's sequences of the batch.
        func loss(_ w: [Tensor<Float>], _ inputs: [Int], _ targets: [Int], batch: Int, rows: DataParallel? = nil) throws -> Tensor<Float> {
            let r = rows?.shard(of: batch) ?? 0..<batch
            let span = (r.lowerBound * c.context)..<(r.upperBound * c.context)
            // One process uses the whole batch as it is: no copy of the token lists per step.
            let ids = rows == nil ? inputs : Array(inputs[span]), labels = rows == nil ? targets : Array(targets[span])
            let logits = try gpt.forward([idTensor(ids, shape: [r.count, c.context])], weights: w[...])[0]
            return crossEntropy(logits: logits, labels: labels)
        }
        func validationLoss(_ w: [Tensor<Float>]) throws -> Double {
            var vrng = RandomGenerator(seed: 12345)  // the same batches every time
            var total = 0.0
            for _ in 0..<c.validationBatches {
                let (x, y) = data.batch(size: c.batch, context: c.context, split: .validation, using: &vrng)
                total += Double(try loss(w, x, y, batch: c.batch).scalar)
            }
            return total / Double(c.validationBatches)
        }

        var options = try env.fitOptions(
            steps: c.steps, label: "hello-gpt", itemsPerStep: c.batch * c.context, throughputName: "tokens_per_second",
            checkpoint: c.checkpoint, run: [
                "example": "hello-gpt", "seed": "\(c.seed)", "steps": "\(c.steps)", "batch": "\(c.batch)",
                "context": "\(c.context)", "learning_rate": "\(c.learningRate)", "momentum": "\(c.momentum)",
                "text": data.source, "characters": "\(data.tokens.count)"])
        options.evaluateAtStart = true; options.evaluateEvery = c.validationEvery; options.evaluateAtEnd = true
        let run = try namingOptions {
            try fit(weights: &weights, optimizer: &optimizer, rng: &rng, options: options) { rng in
                data.batch(size: c.batch, context: c.context, using: &rng)
            } loss: { w, batch in
                try loss(w, batch.0, batch.1, batch: c.batch, rows: parallel)
            } evaluate: { w in
                [Evaluation.Value("validation_loss", try validationLoss(w))]
            } update: { w, optimizer, gradients, loss, _ in
                try parallel.step(&optimizer, &w, gradients: gradients, loss: loss, batch: c.batch)
            }
        }
        try run.requireFinite()
        let trainLosses = run.losses
        let validation = run.evaluations.compactMap { e in e["validation_loss"].map { (e.step, $0) } }
        let initialValidation = validation[0].1
        if run.firstStep == 0 { env.log("step 0: validation loss \(formatted(initialValidation, digits: 4))") }

        let sample = try generate(gpt, weights, data, length: c.sampleLength, temperature: c.temperature, context: c.context, rng: &rng)
        env.log("sample (temperature \(c.temperature)):\n\(sample)\n")

        let textName = data.source.split(separator: "/").last.map(String.init) ?? data.source
        var plot = LinePlot(title: "hello-GPT on \(textName): loss", xLabel: "step", yLabel: "cross-entropy")
        plot.add("train (batch)", y: trainLosses)
        plot.add("validation", x: validation.map { Double($0.0) }, y: validation.map(\.1), markers: true)
        try env.write(plot, "hello-gpt-loss.svg")

        var result = ExampleResult("hello-gpt")
        result.add("initial_val_loss", initialValidation)
        result.add("val_loss", validation.last!.1)
        result.add("train_loss", trainLosses.suffix(100).reduce(0, +) / Double(Swift.min(100, trainLosses.count)))
        result.add("tokens_per_second", Double(run.stepsTaken * c.batch * c.context) / run.trainingSeconds, digits: 0)
        result.add("seconds", run.trainingSeconds, digits: 2)
        if c.skipNonFiniteSteps { result.add("skipped_steps", Double(optimizer.skippedSteps), digits: 0) }
        result.add("weights_digest", Checkpoint.digest(weights))
        parallel.report(&result, optimizer, trainingSeconds: run.trainingSeconds)
        return result
    }

    /// Samples `length` characters after a newline, at the given temperature (0: the most likely one).
    static func generate(_ gpt: any Module, _ w: [Tensor<Float>], _ data: CharacterDataset, length: Int,
                         temperature: Double, context: Int, rng: inout RandomGenerator) throws -> String {
        var ids = (try? data.encode("\n")) ?? [0]
        for _ in 0..<length {
            let window = Array(ids.suffix(context))
            let logits = try gpt.forward([idTensor(window, shape: [1, window.count])], weights: w[...])[0]
            let last = logits.slice(axis: 1, (window.count - 1)..<window.count).reshaped([-1])
            if temperature == 0 {
                ids.append(last.reshaped([1, -1]).argmax(alongAxis: -1)[0])
                continue
            }
            let p = (last * Float(1 / Swift.max(temperature, 1e-3))).softmax().scalars
            var u = Float(rng.nextUnitDouble()), choice = p.count - 1
            for (i, pi) in p.enumerated() { u -= pi; if u <= 0 { choice = i; break } }
            ids.append(choice)
        }
        return data.decode(ids.dropFirst())
    }
}
