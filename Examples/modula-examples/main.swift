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
    @Option(help: "BLAS threads (default: OpenBLAS's choice).")
    var threads: Int?

    func environment() -> ExampleEnvironment {
        if let threads { setBLASThreads(threads) }
        return ExampleEnvironment(figures: noFigures ? nil : figures)
    }
}

func finish(_ result: ExampleResult) {
    print(result)
}

struct HelloWorldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hello-world", abstract: "Fit an MLP to Gaussian targets with dualized gradient descent (Modula's hello-world).")
    @OptionGroup var common: Common
    @Option(help: "Training steps.") var steps: Int?
    @Option(help: "Hidden width.") var width: Int?

    func run() throws {
        var c = common.quick ? HelloWorld.Configuration.quick : .init()
        c.seed = common.seed
        if let steps { c.steps = steps }
        if let width { c.width = width }
        finish(try HelloWorld.run(c, environment: common.environment()))
    }
}

struct HelloMNISTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hello-mnist", abstract: "Train the hello-world MLP on Fashion-MNIST (Debian package dataset-fashion-mnist).")
    @OptionGroup var common: Common
    @Option(help: "Training steps.") var steps: Int?
    @Option(help: "Hidden width.") var width: Int?
    @Option(help: "Batch size.") var batch: Int?
    @Option(help: "Learning rate.") var learningRate: Double?
    @Flag(help: "Keep the learning rate constant instead of decaying it linearly to zero.") var constantRate = false
    @Option(help: "A folder with MNIST-format IDX files (train-images-idx3-ubyte[.gz], …) instead of Fashion-MNIST.")
    var data: String?

    func run() throws {
        var c = common.quick ? HelloMNIST.Configuration.quick : .init()
        c.seed = common.seed
        if let steps { c.steps = steps }
        if let width { c.width = width }
        if let batch { c.batch = batch }
        if let learningRate { c.learningRate = learningRate }
        if constantRate { c.decay = false }
        c.dataDirectory = data
        finish(try HelloMNIST.run(c, environment: common.environment()))
    }
}

struct HelloGPTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hello-gpt", abstract: "Train Modula's character-level GPT (default text: Debian's fortunes files).")
    @OptionGroup var common: Common
    @Option(help: "A text file to train on (e.g. tiny-Shakespeare).") var text: String?
    @Option(help: "Training steps.") var steps: Int?
    @Option(help: "Learning rate.") var learningRate: Double?
    @Option(help: "Sampling temperature for the text printed at the end.") var temperature: Double?
    @Option(help: "Characters to sample at the end.") var sampleLength: Int?

    func run() throws {
        var c = common.quick ? HelloGPT.Configuration.quick : .init()
        c.seed = common.seed
        c.textPath = text
        if let steps { c.steps = steps }
        if let learningRate { c.learningRate = learningRate }
        if let temperature { c.temperature = temperature }
        if let sampleLength { c.sampleLength = sampleLength }
        finish(try HelloGPT.run(c, environment: common.environment()))
    }
}

struct ModulaExamplesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modula-examples",
        abstract: "The classic examples of training under the modular norm.",
        discussion: "Each run ends with one machine-readable line: result <example> key=value …",
        subcommands: [HelloWorldCommand.self, HelloMNISTCommand.self, HelloGPTCommand.self])
}

ModulaExamplesCommand.main()
