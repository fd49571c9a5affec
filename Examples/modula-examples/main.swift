import ArgumentParser
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

    func validate() throws {
        if let threads { try checked { try validateThreads(threads) } }
    }

    func environment() -> ExampleEnvironment {
        if let threads { setBLASThreads(threads) }
        return ExampleEnvironment(figures: noFigures ? nil : figures)
    }
}

func finish(_ result: ExampleResult) {
    print(result)
}

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
        return c
    }
    func validate() throws { try checked { try configuration.validate() } }
    func run() throws { finish(try HelloWorld.run(configuration, environment: common.environment())) }
}

struct HelloMNISTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hello-mnist", abstract: "Train the hello-world MLP on Fashion-MNIST (Debian package dataset-fashion-mnist).")
    @OptionGroup var common: Common
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
        return c
    }
    func validate() throws { try checked { try configuration.validate() } }
    func run() throws { finish(try HelloMNIST.run(configuration, environment: common.environment())) }
}

struct HelloGPTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hello-gpt", abstract: "Train Modula's character-level GPT (default text: Debian's fortunes files).")
    @OptionGroup var common: Common
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

    var configuration: HelloGPT.Configuration {
        var c = common.quick ? HelloGPT.Configuration.quick : .init()
        c.seed = common.seed
        c.textPath = text
        if let steps { c.steps = steps }
        if let learningRate { c.learningRate = learningRate }
        if let temperature { c.temperature = temperature }
        if let sampleLength { c.sampleLength = sampleLength }
        c.skipNonFiniteSteps = skipNonfiniteSteps
        return c
    }
    func validate() throws { try checked { try configuration.validate() } }
    func run() throws { finish(try HelloGPT.run(configuration, environment: common.environment())) }
}

struct WeightErasureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weight-erasure",
        abstract: "Stamp a letter into a hidden weight matrix and train with and without dualization.")
    @OptionGroup var common: Common
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
    func validate() throws { try checked { try configuration.validate() } }
    func run() throws { finish(try WeightErasure.run(configuration, environment: common.environment())) }
}

struct LRTransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lr-transfer",
        abstract: "Sweep learning rates across widths and depths: modular norm against SGD and AdamW.")
    @OptionGroup var common: Common
    @Option(parsing: .upToNextOption, help: "Widths to sweep, each > 0 \(defaults(LRTransfer.Configuration().widths, quick: LRTransfer.Configuration.quick.widths)).")
    var widths: [Int] = []
    @Option(parsing: .upToNextOption, help: "Depths of the residual MLP to sweep, each > 0 \(defaults(LRTransfer.Configuration().depths, quick: LRTransfer.Configuration.quick.depths)).")
    var depths: [Int] = []
    @Flag(help: "Skip the depth sweep.") var noDepth = false
    @Option(help: "Training steps per run \(defaults(LRTransfer.Configuration().steps, quick: LRTransfer.Configuration.quick.steps)).")
    var steps: Int?
    @Option(parsing: .upToNextOption, help: "Methods: modular, sgd, adamw (default: all three).") var methods: [String] = []
    @Option(help: "A folder with MNIST-format IDX files instead of Fashion-MNIST.") var data: String?

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
        let c = try configuration()
        try checked { try c.validate() }
    }
    func run() throws { finish(try LRTransfer.run(configuration(), environment: common.environment())) }
}

struct ModulaExamplesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modula-examples",
        abstract: "The classic examples of training under the modular norm.",
        discussion: "Each run ends with one machine-readable line: result <example> key=value …",
        subcommands: [HelloWorldCommand.self, HelloMNISTCommand.self, HelloGPTCommand.self, WeightErasureCommand.self, LRTransferCommand.self])
}

ModulaExamplesCommand.main()
