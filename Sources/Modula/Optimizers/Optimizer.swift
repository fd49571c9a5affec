import ModulaTensor

/// One optimizer for any module: every preset (modular-norm descent, Muon, Scion, AdamW, SGD) is a
/// list of ``ParameterGroup``s.
///
/// ```swift
/// var opt = Optimizer<Float>(module: mlp, groups: [
///     ParameterGroup("all", rule: .dualized(momentum: .none, layout: .modular(targetNorm: 1),
///                                           norm: .atom, step: .unconstrained),
///                    learningRate: .linearDecay(0.1, steps: 1000))
/// ])
/// for step in 0..<1000 {
///     let (loss, grads) = try valueWithGradient(at: weights) { w in meanSquaredError(try mlp(x, w), y) }
///     try opt.update(&weights, gradients: grads)
/// }
/// ```
public struct Optimizer<Scalar: TensorScalar>: Sendable {
    /// The network whose weights are updated.
    public let module: any Module
    /// The parameter groups, in the order that weights are matched against them.
    public let groups: [ParameterGroup]
    /// The group index of each weight.
    public let assignment: [Int]
    /// Each weight's role (input, hidden, output), from the module tree (see ``Module/roles(overrides:)``).
    public let roles: [WeightRole]
    /// How ``UpdateRule/rule(_:)`` groups scale with width (standard, μP or modular).
    public let parametrization: Parametrization
    /// Each weight's multipliers under ``parametrization`` (used by ``UpdateRule/rule(_:)`` groups only).
    public let scalings: [WeightScaling]
    /// Everything remembered between steps (save and restore it to resume exactly).
    public var state = OptimizerState<Scalar>()
    /// What a step does when it meets NaN or infinity (``NonFinitePolicy/stop`` by default).
    public var nonFiniteSteps = NonFinitePolicy.stop
    /// How many steps were skipped under ``NonFinitePolicy/skip`` (not part of ``state``).
    public internal(set) var skippedSteps = 0
    /// Where the duality maps run: ``LocalDualize`` (this process), or divided among processes (ModulaMPI).
    public var dualizer: any DualizeStrategy = LocalDualize()
    let atoms: [(name: String, atom: any MultiWeightAtom)]
    /// Each weight's fan-in and fan-out, and the weights of the atom that owns it.
    let fans: [(fanIn: Int, fanOut: Int)], atomWeights: [Range<Int>]

    /// An optimizer for `module`; each weight joins the first group that selects it.
    ///
    /// `roles` overrides the derived role of weights by name; `parametrization` applies to the groups whose rule is
    /// an ``OptimizerRule`` (initialize the weights with ``Parametrization/initialize(_:roles:using:)``).
    public init(
        module: any Module, groups: [ParameterGroup], roles overrides: [String: WeightRole] = [:],
        parametrization: Parametrization = .standard
    ) throws {
        self.module = module
        self.groups = groups
        self.parametrization = parametrization
        atoms = module.atoms
        fans = module.weightFans
        atomWeights = module.atomEntries.flatMap { e in e.weights.map { _ in e.weights } }
        roles = module.roles(overrides: overrides)
        assignment = try atoms.map { a in
            guard let g = groups.firstIndex(where: { $0.selects(a.name, a.atom) }) else {
                throw OptimizerError.unassigned(weight: a.name)
            }
            return g
        }
        let rules: [(any OptimizerRule)?] = assignment.map { g in
            if case .rule(let r) = groups[g].rule { return r }
            return nil
        }
        scalings = try parametrization.scalings(of: module, rules: rules, roles: roles)
        for g in groups {
            if case .dualized(_, .modular, .matrix, _) = g.rule {
                throw OptimizerError.unsupported(group: g.label, reason: "a modular layout dualizes with each atom's own norm; use norm: .atom, or layout: .perAtom with a matrix norm")
            }
            let rate = g.learningRate.rate(at: 0) * g.learningRateMultiplier
            guard rate.isFinite && rate >= 0 else { throw OptimizerError.invalidLearningRate(group: g.label, step: 0, rate: rate) }
        }
    }

    /// Whether some group keeps momentum buffers (plain dualized or SGD steps without momentum do not).
    var usesFirstMoment: Bool {
        groups.contains { group in
            switch group.rule {
            case .dualized(let momentum, _, _, _): return momentum != .none
            case .sgd(let beta, _): return beta != 0
            case .adamW, .adamThenDualize: return true
            case .rule: return false
            }
        }
    }

    /// The learning rate group `g` uses at the current step.
    public func learningRate(group g: Int) -> Double {
        groups[g].learningRate.rate(at: state.step) * groups[g].learningRateMultiplier
    }

    /// Whether ``update(_:gradients:loss:inputs:curvature:curvatureBatchSize:factors:)`` needs a curvature sample this step
    /// (Sophia's refresh steps): compute it with `sophiaCurvatureGradients` and pass it along.
    public var needsCurvature: Bool {
        groups.contains { g in
            if case .rule(let r) = g.rule { return r.needsCurvature(atStep: state.step) }
            return false
        }
    }

    /// Whether some group's rule wants layer factors (K-FAC): compute the step with
    /// ``kfacFactors(module:weights:loss:)`` and pass them to ``update(_:gradients:loss:inputs:curvature:curvatureBatchSize:factors:)``.
    public var needsFactors: Bool {
        groups.contains { g in
            if case .rule(let r) = g.rule { return r.needsFactors }
            return false
        }
    }

    /// The rule context of weight `i` at the current step.
    public func context(ofWeight i: Int) -> WeightContext {
        let (fanIn, fanOut) = fans[i]
        var c = WeightContext(name: atoms[i].name, atom: atoms[i].atom, role: roles[i], fanIn: fanIn, fanOut: fanOut,
                              step: state.step, learningRate: learningRate(group: assignment[i]) * scalings[i].learningRate)
        c.epsilonScale = scalings[i].epsilon
        c.weightDecayScale = scalings[i].weightDecay
        return c
    }

    /// One line per weight: its role, fan-in and fan-out, rule and the multipliers of ``parametrization`` (like
    /// mup's base-shape report).
    public func report() -> String {
        var lines = ["parametrization \(parametrization.name)"]
        for i in atoms.indices {
            let (fanIn, fanOut) = fans[i]
            let rule: String
            if case .rule(let r) = groups[assignment[i]].rule { rule = r.name } else { rule = groups[assignment[i]].label }
            lines.append("\(atoms[i].name): \(roles[i]), fan-in \(fanIn), fan-out \(fanOut), \(rule), \(scalings[i])")
        }
        return lines.joined(separator: "\n")
    }
}
