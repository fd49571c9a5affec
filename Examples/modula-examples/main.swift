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
    @Flag(help: "Decay the learning rate linearly to zero instead of keeping it constant.") var decay = false
    @Option(help: "A folder with MNIST-format IDX files (train-images-idx3-ubyte[.gz], …) instead of Fashion-MNIST.")
    var data: String?
    @Flag(help: "Train data-parallel over the ranks of mpirun (Open MPI), dualizing atoms on different ranks.")
    var distributed = false

    func run() throws {
        var c = common.quick ? HelloMNIST.Configuration.quick : .init()
        c.seed = common.seed
        if let steps { c.steps = steps }
        if let width { c.width = width }
        if let batch { c.batch = batch }
        if let learningRate { c.learningRate = learningRate }
        if decay { c.decay = true }
        c.dataDirectory = data
        if distributed {
            let world = try MPI.initialize()
            do {
                let env = world.isRoot ? common.environment() : ExampleEnvironment(figures: nil, showProgress: false, log: { _ in })
                if let result = try HelloMNIST.runDistributed(c, world: world, environment: env) { finish(result) }
                try MPI.finalize()
            } catch { world.abort("hello-mnist: \(error)") }
            return
        }
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

struct WeightErasureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weight-erasure",
        abstract: "Stamp a letter into a hidden weight matrix and train with and without dualization.")
    @OptionGroup var common: Common
    @Option(help: "Hidden width.") var width: Int?
    @Option(help: "Training steps per learning rate.") var steps: Int?
    @Option(help: "A folder with MNIST-format IDX files instead of Fashion-MNIST.") var data: String?

    func run() throws {
        var c = common.quick ? WeightErasure.Configuration.quick : .init()
        c.seed = common.seed
        if let width { c.width = width }
        if let steps { c.steps = steps }
        c.dataDirectory = data
        finish(try WeightErasure.run(c, environment: common.environment()))
    }
}

struct LRTransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lr-transfer",
        abstract: "Sweep learning rates across widths and depths: modular norm against SGD and AdamW.")
    @OptionGroup var common: Common
    @Option(parsing: .upToNextOption, help: "Widths to sweep.") var widths: [Int] = []
    @Option(parsing: .upToNextOption, help: "Depths of the residual MLP to sweep (none: skip).") var depths: [Int] = []
    @Flag(help: "Skip the depth sweep.") var noDepth = false
    @Option(help: "Training steps per run.") var steps: Int?
    @Option(parsing: .upToNextOption, help: "Methods: modular, sgd, adamw.") var methods: [String] = []
    @Option(help: "A folder with MNIST-format IDX files instead of Fashion-MNIST.") var data: String?

    func run() throws {
        var c = common.quick ? LRTransfer.Configuration.quick : .init()
        c.seed = common.seed
        if !widths.isEmpty { c.widths = widths }
        if !depths.isEmpty { c.depths = depths }
        if noDepth { c.depths = [] }
        if let steps { c.steps = steps }
        if !methods.isEmpty {
            c.methods = try methods.map {
                guard let m = LRTransfer.Method(rawValue: $0) else { throw ValidationError("unknown method '\($0)': use modular, sgd or adamw") }
                return m
            }
        }
        c.dataDirectory = data
        finish(try LRTransfer.run(c, environment: common.environment()))
    }
}

struct ModulaExamplesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modula-examples",
        abstract: "The classic examples of training under the modular norm.",
        discussion: "Each run ends with one machine-readable line: result <example> key=value …",
        subcommands: [HelloWorldCommand.self, HelloMNISTCommand.self, HelloGPTCommand.self, WeightErasureCommand.self, LRTransferCommand.self])
}

ModulaExamplesCommand.main()
