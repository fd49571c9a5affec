// The training examples: hello-world, hello-mnist, hello-gpt and fashion-cnn.
import ArgumentParser
import ModulaMPI
import Modula
import ModulaExamples

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
