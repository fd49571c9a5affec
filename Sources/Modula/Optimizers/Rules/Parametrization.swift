/// How initialization scales and per-layer learning rates, ε and weight decay follow from width: one option shared
/// by every ``OptimizerRule``.
///
/// - `standard` (SP): W ~ N(0, 1/fan_in) for matrices (N(0, 1) for embeddings), every multiplier 1.
/// - `muP(base:)`: the maximal-update parametrization derived from the spectral condition ‖W‖, ‖ΔW‖ =
///   Θ(√(fan_out/fan_in)) with fan_in := 1 for input layers and fan_out := 1 for output layers [Yang, Simon &
///   Bernstein 2023; for adaptive rules Gupta et al. 2026, arXiv 2602.20937]. Initialization
///   σ = (1/√fan_in)·min(1, √(fan_out/fan_in)); the learning-rate, ε and weight-decay multipliers of the rule's
///   ``MuPScaling`` (the table in the "Parametrizations" article), each a power of the weight's fan-in and
///   fan-out ratios to those of the same weight in `base`, the network at its base width. At the base width every
///   multiplier is 1, so a learning rate tuned there transfers.
/// - `modular`: each atom's own initialization, and the rule's update direction normalized by one
///   ``Module/dualize(_:targetNorm:)`` of the whole network, so that the module tree supplies every scale
///   [Large et al. 2024].
public enum Parametrization: Sendable {
    case standard
    case muP(base: any Module)
    case modular

    /// A short name: `standard`, `muP`, `modular`.
    public var name: String {
        switch self {
        case .standard: "standard"
        case .muP: "muP"
        case .modular: "modular"
        }
    }
}

/// The family of μP multipliers a rule follows [Gupta et al. 2026, table 1; Yang, Simon & Bernstein 2023].
///
/// With r_in and r_out the ratios of a weight's fan-in and fan-out to the base network's (1 for input layers' fan-in
/// and output layers' fan-out), the learning-rate multiplier is:
///
/// | scaling | input | hidden | output | also |
/// |---|---|---|---|---|
/// | `sgd` | r_out | r_out/r_in | 1/r_in | |
/// | `adam` (AdamW, ADOPT, Sophia) | 1 | 1/r_in | 1/r_in | ε × 1/r_out, weight decay × r_in |
/// | `lamb` | 1 | 1 | 1 | (the trust ratio already scales like 1/fan_in) |
/// | `shampoo` | √r_out | √(r_out/r_in) | 1/√r_in | damping not scaled |
/// | `spectral` (Muon) | 1 | 1 | 1 | the rule scales by √(fan_out/fan_in) itself |
/// | `none` (Fromage, LARS, AGD) | 1 | 1 | 1 | the rule decides its own scale |
public enum MuPScaling: String, Sendable, Codable {
    case sgd, adam, lamb, shampoo, spectral, none
}

extension OptimizerRule {
    /// The μP family this rule follows: `none` unless the rule says otherwise.
    public var muPScaling: MuPScaling {
        switch self {
        case is SGDRule: .sgd
        case is AdamWRule, is ADOPTRule, is SophiaRule: .adam
        case is LAMBRule: .lamb
        case is ShampooRule: .shampoo
        case is MuonRule: .spectral
        default: .none
        }
    }
}

/// The multipliers one weight receives under a parametrization.
public struct WeightScaling: Sendable, Equatable, CustomStringConvertible {
    /// Standard deviation of the Gaussian initialization (nil: the atom's own initialization).
    public var initialStandardDeviation: Double?
    public var learningRate: Double = 1
    public var epsilon: Double = 1
    public var weightDecay: Double = 1

    public var description: String {
        let sigma = initialStandardDeviation.map { formatted($0) } ?? "atom's own"
        return "init σ \(sigma), lr ×\(formatted(learningRate)), ε ×\(formatted(epsilon)), decay ×\(formatted(weightDecay))"
    }
}

/// Short enough for a report: the exact value when short, else four decimals (the exact value below 10⁻³).
func formatted(_ v: Double) -> String {
    let s = "\(v)"
    return s.count <= 10 || Swift.abs(v) < 1e-3 ? s : String(format4: v)
}

extension Parametrization {
    /// The scaling of every weight of `module` under `rules` (one per weight; nil for weights whose group is not a
    /// ``UpdateRule/rule(_:)``), with `roles` from ``Module/roles(overrides:)``.
    ///
    /// - Throws: ``OptimizerError/unsupported(group:reason:)`` when the base network's weights do not match
    ///   `module`'s by name and rank.
    public func scalings(
        of module: any Module, rules: [(any OptimizerRule)?], roles: [WeightRole]
    ) throws -> [WeightScaling] {
        let atoms = module.atoms, fans = module.weightFans
        var baseFans: [String: (Int, Int)] = [:]
        if case .muP(let base) = self {
            for (name, f) in zip(base.weightNames, base.weightFans) { baseFans[name] = f }
            for a in atoms where baseFans[a.name] == nil {
                throw OptimizerError.unsupported(
                    group: "muP", reason: "the base network has no weight \(a.name); build it with the same structure at the base width")
            }
        }
        return atoms.indices.map { i in
            let atom = atoms[i].atom, role = roles[i]
            let (fanIn, fanOut) = fans[i]
            let isMatrix = atom is any MatrixAtom
            // The spectral condition's conventions: an input layer's fan-in and an output layer's fan-out are 1.
            let fi = role == .input ? 1.0 : Double(fanIn), fo = role == .output ? 1.0 : Double(fanOut)
            switch self {
            case .modular:
                return WeightScaling(initialStandardDeviation: nil)
            case .standard:
                guard isMatrix else { return WeightScaling(initialStandardDeviation: nil) }
                return WeightScaling(initialStandardDeviation: atom is Embed ? 1 : 1 / Double(fanIn).squareRoot())
            case .muP:
                let sigma = isMatrix ? (1 / fi.squareRoot()) * Swift.min(1, (fo / fi).squareRoot()) : nil
                var s = WeightScaling(initialStandardDeviation: sigma)
                guard let rule = rules[i], let (bi, bo) = baseFans[atoms[i].name] else { return s }
                let rIn = role == .input ? 1 : Double(fanIn) / Double(bi)
                let rOut = role == .output ? 1 : Double(fanOut) / Double(bo)
                switch rule.muPScaling {
                case .sgd:
                    s.learningRate = role == .input ? rOut : role == .hidden ? rOut / rIn : 1 / rIn
                case .adam:
                    s.learningRate = role == .input ? 1 : 1 / rIn
                    s.epsilon = 1 / rOut
                    s.weightDecay = rIn
                case .shampoo:
                    s.learningRate = role == .input ? rOut.squareRoot() : role == .hidden ? (rOut / rIn).squareRoot() : 1 / rIn.squareRoot()
                case .lamb, .spectral, .none:
                    break
                }
                return s
            }
        }
    }

    /// Initial weights of `module` under this parametrization: Gaussian with each matrix weight's σ, the atom's own
    /// initialization for the rest (and for every weight under `modular`).
    public func initialize<S: TensorScalar>(
        _ module: any Module, roles: [WeightRole]? = nil, using rng: inout RandomGenerator
    ) throws -> [Tensor<S>] {
        let roles = roles ?? module.roles()
        let scalings = try scalings(of: module, rules: Array(repeating: nil, count: roles.count), roles: roles)
        var own: [Tensor<S>] = module.initialize(using: &rng)
        for i in own.indices {
            if let sigma = scalings[i].initialStandardDeviation {
                own[i] = Tensor<S>.randomNormal(own[i].shape, using: &rng) * S(sigma)
            }
        }
        return own
    }
}
