// The studies: weight-erasure, lr-transfer (with the transfer study) and coord-check.
import ArgumentParser
import ModulaMPI
import Modula
import ModulaExamples

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
