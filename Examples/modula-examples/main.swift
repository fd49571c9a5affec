import ArgumentParser
import ModulaMPI
import Modula
import ModulaExamples

/// Options every example shares.
struct Common: ParsableArguments {
    @Flag(help: "Run the reduced form the test suite uses (seconds, not minutes).")
    var quick = false
    @Option(help: "Random seed.")
    var seed: UInt64 = 0
    @Option(help: "Folder for the SVG figures.")
    var figures = "figures"
    @Flag(help: "Write no figures.")
    var noFigures = false
    @Option(help: "Threads for tensor work, 1 to the number of cores (default: OpenBLAS's choice).")
    var threads: Int?
    @Option(help: ArgumentHelp("Write per-step metrics to this folder: metrics.jsonl and TensorBoard event files.", valueName: "dir"))
    var logDir: String?

    func validate() throws {
        if let threads { try checked { try validateThreads(threads) } }
    }

    func environment() -> ExampleEnvironment {
        if let threads { setTensorThreads(threads) }
        var env = ExampleEnvironment(figures: noFigures ? nil : figures)
        env.metricsDirectory = logDir
        return env
    }
}

/// Checkpoint options of the training examples.
struct CheckpointArguments: ParsableArguments {
    @Option(help: ArgumentHelp("Save the whole training state (safetensors) to this file at the end.", valueName: "file"))
    var checkpoint: String?
    @Option(help: ArgumentHelp("Also save every N steps (needs --checkpoint).", valueName: "n"))
    var checkpointEvery = 0
    @Option(help: ArgumentHelp("Continue from a checkpoint saved by the same example and options.", valueName: "file"))
    var resume: String?
    @Option(help: ArgumentHelp("Stop after step N (saving with --checkpoint), to --resume later.", valueName: "n"))
    var stopAfter: Int?

    /// Rejects impossible combinations before any data is loaded.
    func validate() throws {
        if checkpointEvery < 0 { throw ValidationError("--checkpoint-every must be 0 or positive, got \(checkpointEvery)") }
        if checkpointEvery > 0 && checkpoint == nil { throw ValidationError("--checkpoint-every needs --checkpoint FILE") }
        if let stopAfter, stopAfter < 1 { throw ValidationError("--stop-after must be at least 1, got \(stopAfter)") }
    }

    var options: CheckpointOptions {
        var o = CheckpointOptions()
        o.path = checkpoint; o.every = checkpointEvery; o.resume = resume; o.stopAfter = stopAfter
        return o
    }

    /// For the examples that train many networks: refuse the options instead of ignoring them.
    func rejectUnsupported(_ example: String) throws {
        if options.isSet { throw ValidationError("\(example) trains many networks; --checkpoint, --checkpoint-every, --resume and --stop-after are not supported") }
    }
}

func finish(_ result: ExampleResult) {
    print(result)
}

/// Runs `body` on the ranks of mpirun (`--distributed`) and prints rank 0's result; an error on any rank stops all.
func onRanks(_ example: String, _ common: Common, _ body: (Communicator, ExampleEnvironment) throws -> ExampleResult?) throws {
    let world = try MPI.initialize()
    do {
        let env = common.environment()  // on every rank: it also sets the threads for tensor work
        if let result = try body(world, env) { finish(result) }
        try MPI.finalize()
    } catch { world.abort("\(example): \(error)") }
}

let distributedHelp: ArgumentHelp = "Train data-parallel over the ranks of mpirun (Open MPI), dualizing atoms on different ranks."

/// Runs a library check, reporting its ``ExampleError`` as argument-parser's usage error.
func checked(_ body: () throws -> Void) throws {
    do { try body() } catch let error as ExampleError { throw ValidationError(error.description) }
}

/// "(default: D)" or "(default: D; with --quick: Q)".
func defaults<T: Equatable>(_ full: T, quick: T) -> String {
    full == quick ? "(default: \(full))" : "(default: \(full); with --quick: \(quick))"
}

let skipHelp: ArgumentHelp = "Skip (and count, as skipped_steps) steps whose loss, gradient or update holds NaN or infinity, instead of stopping."

struct HelloWorldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hello-world", abstract: "Fit an MLP to Gaussian targets with dualized gradient descent (Modula's hello-world).")
    @OptionGroup var common: Common
    @OptionGroup var checkpoint: CheckpointArguments
    @Option(help: "Training steps \(defaults(HelloWorld.Configuration().steps, quick: HelloWorld.Configuration.quick.steps)).")
    var steps: Int?
    @Option(help: "Hidden width \(defaults(HelloWorld.Configuration().width, quick: HelloWorld.Configuration.quick.width)).")
    var width: Int?
    @Flag(help: skipHelp) var skipNonfiniteSteps = false

    var configuration: HelloWorld.Configuration {
        var c = common.quick ? HelloWorld.Configuration.quick : .init()
        c.seed = common.seed
        if let steps { c.steps = steps }
        if let width { c.width = width }
        c.skipNonFiniteSteps = skipNonfiniteSteps
        c.checkpoint = checkpoint.options
        return c
    }
    func validate() throws { try checked { try configuration.validate() } }
    func run() throws { finish(try HelloWorld.run(configuration, environment: common.environment())) }
}

struct HelloMNISTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hello-mnist", abstract: "Train the hello-world MLP on Fashion-MNIST (Debian package dataset-fashion-mnist).")
    @OptionGroup var common: Common
    @OptionGroup var checkpoint: CheckpointArguments
    @Option(help: "Training steps \(defaults(HelloMNIST.Configuration().steps, quick: HelloMNIST.Configuration.quick.steps)).")
    var steps: Int?
    @Option(help: "Hidden width \(defaults(HelloMNIST.Configuration().width, quick: HelloMNIST.Configuration.quick.width)).")
    var width: Int?
    @Option(help: "Batch size \(defaults(HelloMNIST.Configuration().batch, quick: HelloMNIST.Configuration.quick.batch)).")
    var batch: Int?
    @Option(help: "Learning rate, finite and > 0 \(defaults(HelloMNIST.Configuration().learningRate, quick: HelloMNIST.Configuration.quick.learningRate)).")
    var learningRate: Double?
    @Flag(help: "Decay the learning rate linearly to zero instead of keeping it constant.") var decay = false
    @Option(help: "A folder with MNIST-format IDX files (train-images-idx3-ubyte[.gz], …) instead of Fashion-MNIST.")
    var data: String?
    @Flag(help: skipHelp) var skipNonfiniteSteps = false
    @Flag(help: distributedHelp) var distributed = false

    var configuration: HelloMNIST.Configuration {
        var c = common.quick ? HelloMNIST.Configuration.quick : .init()
        c.seed = common.seed
        if let steps { c.steps = steps }
        if let width { c.width = width }
        if let batch { c.batch = batch }
        if let learningRate { c.learningRate = learningRate }
        if decay { c.decay = true }
        c.dataDirectory = data
        c.skipNonFiniteSteps = skipNonfiniteSteps
        c.checkpoint = checkpoint.options
        return c
    }
    func validate() throws { try checked { try configuration.validate() } }
    func run() throws {
        let c = configuration
        if distributed { return try onRanks("hello-mnist", common) { try HelloMNIST.runDistributed(c, world: $0, environment: $1) } }
        finish(try HelloMNIST.run(c, environment: common.environment()))
    }
}

struct HelloGPTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hello-gpt", abstract: "Train Modula's character-level GPT (default text: Debian's fortunes files).")
    @OptionGroup var common: Common
    @OptionGroup var checkpoint: CheckpointArguments
    @Option(help: "A text file to train on (e.g. tiny-Shakespeare), at least \(HelloGPT.Configuration().shortestText) characters (\(HelloGPT.Configuration.quick.shortestText) with --quick).")
    var text: String?
    @Option(help: "Training steps \(defaults(HelloGPT.Configuration().steps, quick: HelloGPT.Configuration.quick.steps)).")
    var steps: Int?
    @Option(help: "Learning rate, finite and > 0, decayed linearly to 0 \(defaults(HelloGPT.Configuration().learningRate, quick: HelloGPT.Configuration.quick.learningRate)).")
    var learningRate: Double?
    @Option(help: "Sampling temperature ≥ 0 for the text printed at the end; 0 picks the most likely character \(defaults(HelloGPT.Configuration().temperature, quick: HelloGPT.Configuration.quick.temperature)).")
    var temperature: Double?
    @Option(help: "Characters to sample at the end, ≥ 0 \(defaults(HelloGPT.Configuration().sampleLength, quick: HelloGPT.Configuration.quick.sampleLength)).")
    var sampleLength: Int?
    @Flag(help: skipHelp) var skipNonfiniteSteps = false
    @Flag(help: distributedHelp) var distributed = false

    var configuration: HelloGPT.Configuration {
        var c = common.quick ? HelloGPT.Configuration.quick : .init()
        c.seed = common.seed
        c.textPath = text
        if let steps { c.steps = steps }
        if let learningRate { c.learningRate = learningRate }
        if let temperature { c.temperature = temperature }
        if let sampleLength { c.sampleLength = sampleLength }
        c.skipNonFiniteSteps = skipNonfiniteSteps
        c.checkpoint = checkpoint.options
        return c
    }
    func validate() throws { try checked { try configuration.validate() } }
    func run() throws {
        let c = configuration
        if distributed { return try onRanks("hello-gpt", common) { try HelloGPT.runDistributed(c, world: $0, environment: $1) } }
        finish(try HelloGPT.run(c, environment: common.environment()))
    }
}

struct WeightErasureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weight-erasure",
        abstract: "Stamp a letter into a hidden weight matrix and train with and without dualization.")
    @OptionGroup var common: Common
    @OptionGroup var checkpoint: CheckpointArguments
    @Option(help: "Hidden width \(defaults(WeightErasure.Configuration().width, quick: WeightErasure.Configuration.quick.width)).")
    var width: Int?
    @Option(help: "Training steps per learning rate \(defaults(WeightErasure.Configuration().steps, quick: WeightErasure.Configuration.quick.steps)).")
    var steps: Int?
    @Option(help: "A folder with MNIST-format IDX files instead of Fashion-MNIST.") var data: String?

    var configuration: WeightErasure.Configuration {
        var c = common.quick ? WeightErasure.Configuration.quick : .init()
        c.seed = common.seed
        if let width { c.width = width }
        if let steps { c.steps = steps }
        c.dataDirectory = data
        return c
    }
    func validate() throws {
        try checkpoint.rejectUnsupported("weight-erasure")
        try checked { try configuration.validate() }
    }
    func run() throws { finish(try WeightErasure.run(configuration, environment: common.environment())) }
}

struct LRTransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lr-transfer",
        abstract: "Sweep learning rates across widths and depths: modular norm against SGD and AdamW.",
        discussion: """
            Any of --model, --optimizers, --parametrizations, --log2-lr, --seeds or --out runs the transfer study \
            instead: every optimizer under every parametrization, one `result lr-transfer model=… optimizer=… \
            parametrization=…` line per curve, resumable in --out. Example: \
            modula-examples lr-transfer --optimizers adamw,muon,fromage --parametrizations standard,mup \
            --widths 64 128 256 512 --out study
            """)
    @OptionGroup var common: Common
    @OptionGroup var checkpoint: CheckpointArguments
    @Option(parsing: .upToNextOption, help: "Widths to sweep, each > 0 \(defaults(LRTransfer.Configuration().widths, quick: LRTransfer.Configuration.quick.widths)).")
    var widths: [Int] = []
    @Option(parsing: .upToNextOption, help: "Depths of the residual MLP to sweep, each > 0 \(defaults(LRTransfer.Configuration().depths, quick: LRTransfer.Configuration.quick.depths)).")
    var depths: [Int] = []
    @Flag(help: "Skip the depth sweep.") var noDepth = false
    @Option(help: "Training steps per run \(defaults(LRTransfer.Configuration().steps, quick: LRTransfer.Configuration.quick.steps)).")
    var steps: Int?
    @Option(parsing: .upToNextOption, help: "Methods: modular, sgd, adamw (default: all three).") var methods: [String] = []
    @Option(help: "A folder with MNIST-format IDX files instead of Fashion-MNIST.") var data: String?

    // The transfer study: any of these options runs it instead of the three-method sweep above.
    @Option(help: "Study: the model, mlp (Fashion-MNIST) or gpt (a character GPT on --text).") var model: String?
    @Option(help: "Study: comma-separated optimizers, of \(TransferStudy.optimizerNames.joined(separator: ",")).")
    var optimizers: String?
    @Option(help: "Study: comma-separated parametrizations, of standard,mup,modular (default: standard,mup).")
    var parametrizations: String?
    @Option(name: .customLong("log2-lr"), help: "Study: log₂ learning rates MIN:MAX, written --log2-lr=-12:-4 when MIN is negative (default: a range per optimizer).")
    var log2LR: String?
    @Option(help: "Study: batch size (default: 128 for the MLP, 8 for the GPT).") var batch: Int?
    @Option(help: "Study: seeds per point; the tables give their mean and spread (default: 1).") var seeds: Int?
    @Option(help: "Study: folder for points.jsonl, points.csv, table.md and figures; a re-run there resumes.")
    var out: String?
    @Option(help: "Study: the text file of the GPT (default: Debian's fortunes).") var text: String?
    @Option(help: "Study: how often a grid may be extended when a best rate lies on its edge (default: 3).")
    var maxExtensions: Int?

    var isStudy: Bool {
        model != nil || optimizers != nil || parametrizations != nil || log2LR != nil || seeds != nil || out != nil
    }

    func study() throws -> TransferStudy.Configuration {
        var c = TransferStudy.Configuration()
        if let model {
            guard let m = TransferStudy.Model(rawValue: model) else { throw ValidationError("--model must be mlp or gpt, got '\(model)'") }
            c.model = m
        }
        if c.model == .gpt { (c.widths, c.depth, c.depthWidth, c.batch, c.steps) = ([32, 64, 128], 2, 64, 8, 100) }
        if common.quick { (c.widths, c.steps, c.limit) = ([32, 64], 20, 4000) }
        if let optimizers { c.optimizers = optimizers.split(separator: ",").map(String.init) }
        if let parametrizations { c.parametrizations = parametrizations.split(separator: ",").map(String.init) }
        for o in c.optimizers where !TransferStudy.optimizerNames.contains(o) {
            throw ValidationError("--optimizers: unknown optimizer '\(o)'; use \(TransferStudy.optimizerNames.joined(separator: ","))")
        }
        for p in c.parametrizations where !TransferStudy.parametrizationNames.contains(p) {
            throw ValidationError("--parametrizations: unknown parametrization '\(p)'; use standard,mup,modular")
        }
        if let log2LR {
            let parts = log2LR.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
            guard parts.count == 2, let lo = parts[0], let hi = parts[1], lo <= hi else {
                throw ValidationError("--log2-lr must be MIN:MAX with integers MIN ≤ MAX (e.g. --log2-lr=-12:-4), got '\(log2LR)'")
            }
            c.log2LearningRates = lo...hi
        }
        if !widths.isEmpty { c.widths = widths }
        if !depths.isEmpty { c.depths = depths }
        if noDepth { c.depths = [] }
        if let steps { c.steps = steps }
        if let batch { c.batch = batch }
        if let seeds { c.seeds = seeds }
        if let maxExtensions { c.maxExtensions = maxExtensions }
        for (value, option) in [(c.steps, "--steps"), (c.batch, "--batch"), (c.seeds, "--seeds")] where value <= 0 {
            throw ValidationError("\(option) must be a positive integer, got \(value)")
        }
        if c.maxExtensions < 0 { throw ValidationError("--max-extensions must be an integer ≥ 0, got \(c.maxExtensions)") }
        for w in c.widths + c.depths where w <= 0 { throw ValidationError("--widths and --depths must be positive integers, got \(w)") }
        if c.model == .gpt, let bad = c.widths.first(where: { $0 % c.heads != 0 }) {
            throw ValidationError("--widths: a GPT width must be a multiple of its \(c.heads) heads, got \(bad)")
        }
        c.outputDirectory = out
        c.textPath = text
        c.dataDirectory = data
        return c
    }

    func configuration() throws -> LRTransfer.Configuration {
        var c = common.quick ? LRTransfer.Configuration.quick : .init()
        c.seed = common.seed
        if !widths.isEmpty { c.widths = widths }
        if !depths.isEmpty { c.depths = depths }
        if noDepth { c.depths = [] }
        if let steps { c.steps = steps }
        if !methods.isEmpty {
            c.methods = try methods.map {
                guard let m = LRTransfer.Method(rawValue: $0) else {
                    throw ValidationError("--methods must be modular, sgd or adamw, got '\($0)'")
                }
                return m
            }
        }
        c.dataDirectory = data
        return c
    }
    func validate() throws {
        try checkpoint.rejectUnsupported("lr-transfer")
        if isStudy { _ = try study(); return }
        let c = try configuration()
        try checked { try c.validate() }
    }
    func run() throws {
        if isStudy {
            for r in try TransferStudy.run(study(), environment: common.environment()) { finish(r) }
        } else {
            finish(try LRTransfer.run(configuration(), environment: common.environment()))
        }
    }
}

struct CoordCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coord-check",
        abstract: "mup's coordinate check and the spectral check: activation sizes and weight norms against width.")
    @OptionGroup var common: Common
    @Option(help: "The model, mlp (Fashion-MNIST) or gpt (a character GPT on --text) (default: mlp).") var model = "mlp"
    @Option(help: "The optimizer, of \(TransferStudy.optimizerNames.joined(separator: ",")) (default: adamw).") var optimizer = "adamw"
    @Option(help: "The parametrization: standard, mup or modular (default: standard).") var parametrization = "standard"
    @Option(parsing: .upToNextOption, help: "Widths, each > 0 (default: 64 128 256 512; with --quick: 32 64 128).")
    var widths: [Int] = []
    @Option(help: "Training steps (default: 10).") var steps: Int?
    @Option(name: .customLong("log2-lr"), help: "log₂ of the learning rate (default: near the top of the optimizer's study grid).")
    var log2LR: Int?
    @Option(help: "The GPT's text file (default: Debian's fortunes).") var text: String?
    @Option(help: "A folder with MNIST-format IDX files instead of Fashion-MNIST.") var data: String?

    func configuration() throws -> CoordCheckExample.Configuration {
        var c = common.quick ? CoordCheckExample.Configuration.quick : .init()
        guard let m = TransferStudy.Model(rawValue: model) else { throw ValidationError("--model must be mlp or gpt, got '\(model)'") }
        c.model = m
        guard TransferStudy.optimizerNames.contains(optimizer) else {
            throw ValidationError("--optimizer: unknown optimizer '\(optimizer)'; use \(TransferStudy.optimizerNames.joined(separator: ","))")
        }
        guard TransferStudy.parametrizationNames.contains(parametrization) else {
            throw ValidationError("--parametrization must be standard, mup or modular, got '\(parametrization)'")
        }
        (c.optimizer, c.parametrization, c.seed) = (optimizer, parametrization, common.seed)
        if !widths.isEmpty { c.widths = widths }
        if c.widths.count < 2 || c.widths.contains(where: { $0 <= 0 }) {
            throw ValidationError("--widths needs at least two positive widths, got \(c.widths)")
        }
        if m == .gpt, let bad = c.widths.first(where: { $0 % 2 != 0 }) {
            throw ValidationError("--widths: a GPT width must be a multiple of its 2 heads, got \(bad)")
        }
        if let steps {
            guard steps >= 0 else { throw ValidationError("--steps must be an integer ≥ 0, got \(steps)") }
            c.steps = steps
        }
        c.log2LearningRate = log2LR
        c.textPath = text
        c.dataDirectory = data
        if m == .gpt { c.batch = 8 }
        return c
    }
    func validate() throws { _ = try configuration() }
    func run() throws { finish(try CoordCheckExample.run(configuration(), environment: common.environment())) }
}

struct FashionCNNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fashion-cnn", abstract: "Train a small CNN on Fashion-MNIST with the fit training loop (the training-loop article).")
    @OptionGroup var common: Common
    @OptionGroup var checkpoint: CheckpointArguments
    @Option(help: "Training steps \(defaults(FashionCNN.Configuration().steps, quick: FashionCNN.Configuration.quick.steps)).")
    var steps: Int?
    @Option(help: "Channels of the first convolution \(defaults(FashionCNN.Configuration().channels, quick: FashionCNN.Configuration.quick.channels)).")
    var channels: Int?
    @Option(help: "Batch size \(defaults(FashionCNN.Configuration().batch, quick: FashionCNN.Configuration.quick.batch)).")
    var batch: Int?
    @Option(help: "Learning rate, finite and > 0, decayed linearly to 0 \(defaults(FashionCNN.Configuration().learningRate, quick: FashionCNN.Configuration.quick.learningRate)).")
    var learningRate: Double?
    @Option(help: "Steps between test-accuracy evaluations \(defaults(FashionCNN.Configuration().evaluateEvery, quick: FashionCNN.Configuration.quick.evaluateEvery)).")
    var evaluateEvery: Int?
    @Option(help: "A folder with MNIST-format IDX files of 28×28 images instead of Fashion-MNIST.")
    var data: String?

    var configuration: FashionCNN.Configuration {
        var c = common.quick ? FashionCNN.Configuration.quick : .init()
        c.seed = common.seed
        if let steps { c.steps = steps }
        if let channels { c.channels = channels }
        if let batch { c.batch = batch }
        if let learningRate { c.learningRate = learningRate }
        if let evaluateEvery { c.evaluateEvery = evaluateEvery }
        c.dataDirectory = data
        c.checkpoint = checkpoint.options
        return c
    }
    func validate() throws { try checked { try configuration.validate() } }
    func run() throws { finish(try FashionCNN.run(configuration, environment: common.environment())) }
}

struct ModulaExamplesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modula-examples",
        abstract: "The classic examples of training under the modular norm.",
        discussion: "Each run ends with one machine-readable line: result <example> key=value …",
        version: "swift-modula (unreleased); \(blasConfiguration)",
        subcommands: [HelloWorldCommand.self, HelloMNISTCommand.self, HelloGPTCommand.self, WeightErasureCommand.self, LRTransferCommand.self, CoordCheckCommand.self,
                      FashionCNNCommand.self])
}

ModulaExamplesCommand.main()
