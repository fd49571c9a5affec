import Foundation
import Modula
import ModulaData

/// The learning-rate transfer study: for every optimizer and parametrization, does the optimal learning rate stay
/// put as the network widens (or deepens)? [Gupta et al. 2026, arXiv 2602.20937; Large et al. 2024]
///
/// Each point of the grid (model, optimizer, parametrization, width, depth, log₂ learning rate, seed) trains for a
/// fixed number of steps and records the loss on a fixed evaluation set and the spectral size of each role's change
/// over training, ‖W_T − W₀‖₂, against √(fan_out/fan_in). Points are appended to `points.jsonl` and `points.csv` in the output
/// folder as they finish, and a re-run skips the points already there, so an interrupted study resumes. When the best
/// rate of some size sits on the edge of the grid, the grid is extended by one step on that side (up to
/// `maxExtensions` times) and the new points are run.
public enum TransferStudy {
    public enum Model: String, Sendable, CaseIterable { case mlp, gpt }

    /// The optimizers the study knows, as the command line spells them.
    public static let optimizerNames = ["sgd", "adamw", "adopt", "lamb", "sophia", "shampoo", "muon", "fromage", "lars",
                                        "agd", "kfac", "modular", "scion"]
    public static let parametrizationNames = ["standard", "mup", "modular"]

    public struct Configuration: Sendable {
        public var model = Model.mlp
        public var optimizers = ["sgd", "adamw", "muon"]
        public var parametrizations = ["standard", "mup"]
        public var widths = [64, 128, 256]
        /// Depths for a depth sweep (residual MLP blocks or GPT blocks); empty: none.
        public var depths: [Int] = []
        /// Depth of the width sweep, and width of the depth sweep.
        public var depth = 3, depthWidth = 128
        /// log₂ learning rates; nil: each optimizer's default range.
        public var log2LearningRates: ClosedRange<Int>? = nil
        public var steps = 60, batch = 128, seeds = 1
        public var maxExtensions = 3
        /// Where points, tables and figures go; nil: nowhere (nothing resumes).
        public var outputDirectory: String? = nil
        public var textPath: String? = nil, text: String? = nil
        public var dataDirectory: String? = nil, limit: Int? = nil
        /// GPT: context length and heads.
        public var context = 32, heads = 2
        public init() {}
    }

    /// One finished point.
    public struct Point: Sendable, Codable, Equatable {
        public var model: String, optimizer: String, parametrization: String, sweep: String
        public var width: Int, depth: Int, log2LearningRate: Int, seed: Int, steps: Int, batch: Int
        /// The evaluation loss after training; nil when training diverged (a non-finite or exploding loss).
        public var loss: Double?
        /// Mean ‖W_T − W₀‖₂ ÷ √(fan_out/fan_in) over the weights of each role: the change over training against the
        /// spectral condition.
        public var spectralInput: Double?, spectralHidden: Double?, spectralOutput: Double?
        public var seconds: Double

        var key: String {
            "\(model)|\(optimizer)|\(parametrization)|\(sweep)|\(width)|\(depth)|\(log2LearningRate)|\(seed)|\(steps)|\(batch)"
        }
    }

    /// The default grid of log₂ learning rates of an optimizer under a parametrization: under `modular` every rule's
    /// step is dualized, so its rates are the modular norm's.
    static func defaultGrid(_ optimizer: String, _ parametrization: String) -> ClosedRange<Int> {
        parametrization == "modular" && optimizer != "scion" ? defaultGrid("modular") : defaultGrid(optimizer)
    }

    /// Each optimizer's default grid of log₂ learning rates (MLP, tens of steps).
    static func defaultGrid(_ optimizer: String) -> ClosedRange<Int> {
        switch optimizer {
        case "sgd": -6...2
        case "adamw", "adopt", "sophia": -12...(-5)
        case "lamb", "shampoo": -10...(-3)
        case "muon", "fromage": -8...(-1)
        case "lars": -3...4
        case "kfac": -8...(-1)
        case "agd": -2...2
        case "modular": -3...3
        default: -9...(-3)
        }
    }

    /// The parametrizations an optimizer runs under: the modular and Scion presets are modular by construction.
    static func parametrizations(_ optimizer: String, _ requested: [String]) -> [String] {
        ["modular", "scion"].contains(optimizer) ? ["modular"] : requested
    }

    /// An optimizer for `module` by name, at learning rate `lr` decayed linearly over `steps`.
    static func optimizer(
        _ name: String, parametrization: String, module: any Module, base: any Module, lr: Double, steps: Int
    ) throws -> Optimizer<Float> {
        let schedule = Schedule.linearDecay(lr, steps: steps)
        let p: Parametrization = switch parametrization {
        case "mup": .muP(base: base)
        case "modular": .modular
        default: .standard
        }
        func rule(_ r: any OptimizerRule) throws -> Optimizer<Float> {
            try Optimizer(module: module, groups: [ParameterGroup(name, rule: .rule(r), learningRate: schedule)], parametrization: p)
        }
        switch name {
        case "sgd": return try rule(SGDRule(momentum: 0.9))
        case "adamw": return try rule(AdamWRule(beta1: 0.9, beta2: 0.99))
        case "adopt": return try rule(ADOPTRule())
        case "lamb": return try rule(LAMBRule(weightDecay: 0))
        case "sophia": return try rule(SophiaRule())
        case "shampoo": return try rule(ShampooRule(epsilon: 1e-6, interval: 5))
        case "fromage": return try rule(FromageRule())
        case "lars": return try rule(LARSRule())
        case "agd": return try rule(AGDRule())
        case "kfac":
            // Linear atoms by K-FAC; the rest (an embedding, vectors) by AdamW.
            return try Optimizer(module: module, groups: [
                ParameterGroup("kfac", selects: { _, a in a is Linear }, rule: .rule(KFACRule()), learningRate: schedule),
                ParameterGroup("adamw", rule: .rule(AdamWRule(beta1: 0.9, beta2: 0.99)), learningRate: schedule,
                               learningRateMultiplier: 0.01),
            ], parametrization: p)
        case "muon":
            // Hidden matrices by Muon; the input and output layers and vectors by AdamW at Muon's ratio of rates
            // (3·10⁻⁴ to 0.02).
            let hidden = Set(zip(module.weightNames, module.roles()).filter { $0.1 == .hidden }.map(\.0))
            return try Optimizer(module: module, groups: [
                ParameterGroup("muon", selects: { n, a in hidden.contains(n) && a is any MatrixAtom && !(a is Embed) },
                               rule: .rule(MuonRule()), learningRate: schedule),
                ParameterGroup("adamw", rule: .rule(AdamWRule(beta1: 0.9, beta2: 0.95)), learningRate: schedule,
                               learningRateMultiplier: 0.015),
            ], parametrization: p)
        case "modular": return try .modular(module: module, learningRate: schedule)
        case "scion": return try .scion(module: module, learningRate: schedule)
        default:
            throw StudyError.invalidOption("--optimizers", "unknown optimizer '\(name)': use \(optimizerNames.joined(separator: ", "))")
        }
    }
}

/// An option of the study that cannot be honoured, named with what is allowed.
public enum StudyError: Error, CustomStringConvertible {
    case invalidOption(String, String)
    public var description: String {
        switch self { case let .invalidOption(option, reason): "\(option): \(reason)" }
    }
}
