/// Momentum applied to gradients before they are dualized.
public enum Momentum: Sendable, Codable, Equatable {
    /// The raw gradient.
    case none
    /// Exponential moving average d ← β·d + (1−β)·g, used as is.
    case ema(Double)
    /// Nesterov: d ← β·d + (1−β)·g, then u = β·d + (1−β)·g (Muon's form).
    case nesterov(Double)
}

/// How a dualized direction u becomes a step [Pethick et al. 2025, arXiv 2502.07529].
public enum StepRule: Sendable, Codable, Equatable {
    /// w ← w − η·u (unconstrained steepest descent under the norm; Modula's loop, uSCG).
    case unconstrained
    /// w ← (1 − η)·w − η·ρ·u (Frank–Wolfe / SCG: the weights stay in the ρ-ball; Scion's default).
    case constrained(radius: Double)
    /// w ← w − η·‖d‖†·u (true steepest descent, scaled by the dual norm of the momentum).
    case steepest
}

/// Which targets the atoms of a group receive when the group's gradient is dualized.
public enum DualizationLayout: Sendable, Codable, Equatable {
    /// One `dualize` of the whole network at target norm `t`: each atom gets t·(μ_atom/μ)/Π(downstream
    /// sensitivities), so learning rates transfer across width and depth [Large et al. 2024].
    case modular(targetNorm: Double)
    /// Each atom dualized alone at unit norm, times `scale` (the layer-wise layout of Muon and Scion).
    case perAtom(scale: Double)
}

/// The norm a group's atoms are dualized in.
public enum NormChoice: Sendable {
    /// Each atom's own declared norm and duality map.
    case atom
    /// A matrix norm from Scion's menu, with an orthogonalizer for the spectral ones.
    case matrix(MatrixNorm, orthogonalizer: any Orthogonalizer)
}

/// How the weights of one group are updated.
public enum UpdateRule: Sendable {
    /// Momentum, then dualize, then a step rule: the modular-norm optimizer (and Muon's and Scion's core).
    case dualized(momentum: Momentum, layout: DualizationLayout, norm: NormChoice, step: StepRule)
    /// AdamW [Loshchilov & Hutter 2019] in standard parametrization.
    case adamW(beta1: Double, beta2: Double, epsilon: Double)
    /// Adam's moment estimate m/(√v + ε), then normalized in the modular norm (Modula's earlier recipe).
    case adamThenDualize(beta1: Double, beta2: Double, epsilon: Double, layout: DualizationLayout)
    /// Stochastic gradient descent with (heavy-ball or Nesterov) momentum.
    case sgd(momentum: Double, nesterov: Bool)
    /// Any ``OptimizerRule``: AdamW, ADOPT, LAMB, Sophia, Shampoo, Muon, Fromage, LARS, AGD, SGD or a user's own.
    case rule(any OptimizerRule)
}

/// A set of weights that share an update rule, a learning-rate schedule and weight decay.
public struct ParameterGroup: Sendable {
    /// A label for reports.
    public var label: String
    /// Whether the weight with this name, owned by this atom, belongs to the group.
    public var selects: @Sendable (_ name: String, _ atom: any MultiWeightAtom) -> Bool
    /// How the group's weights are updated.
    public var rule: UpdateRule
    /// The learning-rate schedule η(step).
    public var learningRate: Schedule
    /// Decoupled weight decay λ: w ← (1 − η·λ)·w before the step.
    public var weightDecay: Double
    /// Multiplies this group's learning rate (per-group rates on a shared schedule).
    public var learningRateMultiplier: Double

    /// A group named `label` of the weights `selects` accepts (all by default).
    public init(
        _ label: String, selects: @escaping @Sendable (String, any MultiWeightAtom) -> Bool = { _, _ in true },
        rule: UpdateRule, learningRate: Schedule, weightDecay: Double = 0, learningRateMultiplier: Double = 1
    ) {
        self.label = label
        self.selects = selects
        self.rule = rule
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.learningRateMultiplier = learningRateMultiplier
    }
}

/// Everything an ``Optimizer`` remembers between steps: a plain value that saves and restores exactly.
public struct OptimizerState<Scalar: TensorScalar>: Sendable, Codable, Equatable {
    /// Steps taken so far.
    public var step: Int = 0
    /// First-moment (momentum) buffers, one per weight (empty until first used).
    public var firstMoment: [Tensor<Scalar>] = []
    /// Second-moment buffers for Adam-type rules (empty until first used).
    public var secondMoment: [Tensor<Scalar>] = []
    /// The named buffers of ``UpdateRule/rule(_:)`` groups, one dictionary per weight (empty until first used).
    public var rules: [RuleState<Scalar>] = []
    /// The state before the first step.
    public init() {}
}

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
    public private(set) var skippedSteps = 0
    /// Where the duality maps run: ``LocalDualize`` (this process), or divided among processes (ModulaMPI).
    public var dualizer: any DualizeStrategy = LocalDualize()
    private let atoms: [(name: String, atom: any MultiWeightAtom)]
    /// Each weight's fan-in and fan-out, and the weights of the atom that owns it.
    private let fans: [(fanIn: Int, fanOut: Int)], atomWeights: [Range<Int>]

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
    private var usesFirstMoment: Bool {
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

    /// Applies one step to `weights` given their `gradients`, then advances the step counter.
    ///
    /// Before anything changes, the step checks, in this order, that `inputs`, `weights`, `loss` and
    /// `gradients` are finite, and after dualizing, that every update is finite. The first NaN or
    /// infinity found stops training with ``OptimizerError/nonFinite(step:source:)`` naming the step
    /// and where it appeared (the input batch, the loss, or the first weight, gradient or update), or,
    /// with ``nonFiniteSteps`` set to ``NonFinitePolicy/skip``, skips the step: weights and state stay
    /// as they were and ``skippedSteps`` counts it. Passing the batch as `inputs` lets the error blame
    /// bad data rather than the gradient it poisoned. The weights never change in a refused step; when
    /// it is the update that is not finite and training stops, the momentum buffers have already taken
    /// in this step's gradient (only ``NonFinitePolicy/skip`` keeps a copy to restore them).
    ///
    /// - Parameters:
    ///   - weights: the module's weights, updated in place.
    ///   - gradients: one gradient per weight, of the weight's shape.
    ///   - loss: the loss the gradients came from, checked when given.
    ///   - inputs: the input batch, checked when given.
    ///   - curvature: when a rule asks for it (``needsCurvature``), for every weight the gradient of the loss at
    ///     labels sampled from the model (Sophia's Gauss–Newton–Bartlett sample).
    ///   - curvatureBatchSize: the number of examples (rows of logits) `curvature` was computed over.
    ///   - factors: when a rule asks for them (``needsFactors``, K-FAC), for every weight the atom's input
    ///     activations and output gradients of this step (from ``kfacFactors(module:weights:loss:)``; nil entries
    ///     for atoms without them).
    /// - Returns: whether the step was taken (`false` when a non-finite step was skipped).
    /// - Throws: ``OptimizerError/wrongCount(expected:weights:gradients:)`` or
    ///   ``OptimizerError/wrongShape(weight:expected:actual:gradient:)`` for lists that do not fit the module,
    ///   ``OptimizerError/stateMismatch(weight:reason:)`` for a ``state`` that does not fit them,
    ///   ``OptimizerError/invalidLearningRate(group:step:rate:)`` for a NaN, infinite or negative rate,
    ///   ``OptimizerError/nonFinite(step:source:)`` as described above, and
    ///   ``OptimizerError/needsCurvature(group:rule:step:)`` or ``OptimizerError/needsFactors(group:rule:step:)``
    ///   when a rule's extra input is missing, and what the ``dualizer`` throws (a distributed one: a failed
    ///   collective), before any weight changes.
    @discardableResult
    public mutating func update(
        _ weights: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>], loss: Tensor<Scalar>? = nil,
        inputs: [Tensor<Scalar>] = [], curvature: [Tensor<Scalar>]? = nil, curvatureBatchSize: Int = 1,
        factors: [LayerFactors<Scalar>?]? = nil
    ) throws -> Bool {
        let n = atoms.count
        guard weights.count == n, gradients.count == n else {
            throw OptimizerError.wrongCount(expected: n, weights: weights.count, gradients: gradients.count)
        }
        for i in 0..<n where weights[i].shape != gradients[i].shape || weights[i].shape != module.weightShapes[i] {
            throw OptimizerError.wrongShape(weight: atoms[i].name, expected: module.weightShapes[i],
                                            actual: weights[i].shape, gradient: gradients[i].shape)
        }
        try checkState()
        for g in groups.indices {
            let rate = learningRate(group: g)
            guard rate.isFinite && rate >= 0 else {
                throw OptimizerError.invalidLearningRate(group: groups[g].label, step: state.step, rate: rate)
            }
        }
        if let source = firstNonFinite(inputs: inputs, weights: weights, loss: loss, gradients: gradients) {
            return try refuse(source)
        }
        // A skipped step must leave the momentum buffers as they were; only then is a copy kept.
        let saved = nonFiniteSteps == .skip ? state : nil
        if state.firstMoment.isEmpty && usesFirstMoment { state.firstMoment = gradients.map { Tensor.zeros($0.shape) } }
        let t = state.step
        if state.rules.isEmpty { state.rules = Array(repeating: [:], count: n) }

        // Rules: curvature samples and whole-network factors, before any weight moves.
        var contexts = (0..<n).map { context(ofWeight: $0) }
        for (gi, g) in groups.enumerated() {
            guard case .rule(let r) = g.rule else { continue }
            let members = (0..<n).filter { assignment[$0] == gi }
            if r.needsCurvature(atStep: t) {
                guard let curvature, curvature.count == n else {
                    throw OptimizerError.needsCurvature(group: g.label, rule: r.name, step: t)
                }
                for i in members { r.observeCurvature(curvature[i], batchSize: curvatureBatchSize, state: &state.rules[i]) }
            }
            if r.needsFactors {
                guard let factors, factors.count == n else {
                    throw OptimizerError.needsFactors(group: g.label, rule: r.name, step: t)
                }
                for i in members {
                    if let f = factors[i] { r.observeFactors(input: f.input, outputGradient: f.outputGradient, state: &state.rules[i]) }
                }
            }
            let factor = r.networkFactor(gradients: members.map { gradients[$0] }, contexts: members.map { contexts[$0] })
            for i in members { contexts[i].networkFactor = factor }
        }

        // Pass 1: per-weight directions from each group's rule (momentum, Adam moments).
        var direction = [Tensor<Scalar>?](repeating: nil, count: n)
        for i in 0..<n {
            switch groups[assignment[i]].rule {
            case .dualized(let momentum, _, _, _):
                direction[i] = applyMomentum(momentum, i, gradients[i])
            case .sgd(let beta, let nesterov):
                direction[i] = applyMomentum(beta == 0 ? .none : (nesterov ? .nesterov(beta) : .ema(beta)), i, gradients[i], heavyBall: !nesterov)
            case .adamW(let b1, let b2, let eps), .adamThenDualize(let b1, let b2, let eps, _):
                direction[i] = adamDirection(i, gradients[i], b1, b2, eps, t)
            case .rule:
                break
            }
        }

        // Pass 2: dualize, group by group (a modular layout dualizes the whole network once).
        // Cached per group: a modular group dualizes the whole network once per step.
        var modularCache: [Int: [Tensor<Scalar>]] = [:]
        func modular(_ group: Int, _ target: Double) throws -> [Tensor<Scalar>] {
            if let c = modularCache[group] { return c }
            let d = try dualizer.dualize(fullDirections(group), of: module, targetNorm: Scalar(target))
            modularCache[group] = d
            return d
        }
        var modularDualNorms: [Int: Scalar] = [:]
        func modularDualNorm(_ group: Int) -> Scalar {
            if let c = modularDualNorms[group] { return c }
            let v = module.dualNorm(fullDirections(group))
            modularDualNorms[group] = v
            return v
        }
        // Modular parametrization of a rule: its step at learning rate 1 (without its own weight decay), for every
        // weight of the group, dualized once over the whole network [Large et al. 2024].
        var ruleDirections: [Int: [Tensor<Scalar>]] = [:]
        func modularRuleDirection(_ group: Int, _ r: any OptimizerRule) throws -> [Tensor<Scalar>] {
            if let c = ruleDirections[group] { return c }
            let d = (0..<n).map { i -> Tensor<Scalar> in
                guard assignment[i] == group else { return Tensor.zeros(gradients[i].shape) }
                var moved = weights[i]
                var c = contexts[i]
                c.learningRate = 1
                c.weightDecayScale = 0
                r.update(&moved, gradient: gradients[i], state: &state.rules[i], context: c)
                return weights[i] - moved
            }
            let u = try dualizer.dualize(d, of: module, targetNorm: 1)
            ruleDirections[group] = u
            return u
        }
        // Directions of weights outside dualized groups are zero when the whole network is dualized.
        func fullDirections(_ groupIndex: Int) -> [Tensor<Scalar>] {
            (0..<n).map { assignment[$0] == groupIndex ? direction[$0]! : Tensor.zeros(gradients[$0].shape) }
        }

        if case .modular = parametrization {
            // Before any weight moves (or decays), so every direction sees this step's weights.
            for (gi, g) in groups.enumerated() { if case .rule(let r) = g.rule { _ = try modularRuleDirection(gi, r) } }
        }
        // The layer-wise duality maps, handed over together so that a distributed dualizer can divide them.
        let alone = (0..<n).filter { perAtomMap($0) != nil }
        let aloneDuals = try dualizer.each(alone, of: module) { i in
            let (layout, norm) = perAtomMap(i)!
            return dualized(i, layout, norm, direction[i]!, direction) { _ in Tensor.zeros([]) }  // a per-atom layout never asks
        }
        let atomDuals = Dictionary(uniqueKeysWithValues: zip(alone, aloneDuals))

        // Pass 3: every update and its coefficient, checked before any weight changes. A rule moves a copy of its
        // weight, which replaces the weight in pass 4.
        var updates: [(u: Tensor<Scalar>, alpha: Scalar, shrink: Scalar)] = []
        updates.reserveCapacity(n)
        var replacements = [Tensor<Scalar>?](repeating: nil, count: n)
        for i in 0..<n {
            let g = groups[assignment[i]]
            let eta = Scalar(learningRate(group: assignment[i]))
            switch g.rule {
            case .dualized(_, let layout, let norm, let step):
                let u = try atomDuals[i] ?? dualized(i, layout, norm, direction[i]!, direction, { try modular(assignment[i], $0)[i] })
                switch step {
                case .unconstrained: updates.append((u, -eta, 1))
                case .constrained(let radius): updates.append((u, -eta * Scalar(radius), 1 - eta))
                case .steepest:
                    let scale: Scalar
                    if case .modular = layout, case .atom = norm { scale = modularDualNorm(assignment[i]) } else {
                        scale = dualNorm(i, layout, norm, direction[i]!, direction)
                    }
                    updates.append((u, -eta * scale, 1))
                }
            case .adamThenDualize(_, _, _, let layout):
                let u = try atomDuals[i] ?? dualized(i, layout, .atom, direction[i]!, direction, { try modular(assignment[i], $0)[i] })
                updates.append((u, -eta, 1))
            case .adamW, .sgd:
                updates.append((direction[i]!, -eta, 1))
            case .rule(let r):
                if case .modular = parametrization {
                    updates.append((try modularRuleDirection(assignment[i], r)[i], -eta, 1))
                } else {
                    var moved = weights[i]
                    r.update(&moved, gradient: gradients[i], state: &state.rules[i], context: contexts[i])
                    replacements[i] = moved
                    updates.append((Tensor.zeros([]), 0, 1))
                }
            }
            if !updates[i].u.isFinite || !updates[i].alpha.isFinite || !(replacements[i]?.isFinite ?? true) {
                if let saved { state = saved }
                return try refuse(.update(weight: atoms[i].name))
            }
        }

        // Pass 4: decay, then step (the same operations, in the same order, as one pass would do).
        for i in 0..<n {
            let g = groups[assignment[i]]
            let eta = Scalar(learningRate(group: assignment[i]))
            if let moved = replacements[i] {
                weights[i] = moved
                if g.weightDecay != 0 { weights[i].scaleInPlace(by: 1 - eta * Scalar(g.weightDecay)) }
                continue
            }
            if g.weightDecay != 0 { weights[i].scaleInPlace(by: 1 - eta * Scalar(g.weightDecay)) }
            if updates[i].shrink != 1 { weights[i].scaleInPlace(by: updates[i].shrink) }
            weights[i].addScaled(updates[i].u, by: updates[i].alpha)
        }
        state.step += 1
        return true
    }

    /// Where the first NaN or infinity is, looking at the inputs, weights, loss and gradients in turn.
    private func firstNonFinite(
        inputs: [Tensor<Scalar>], weights: [Tensor<Scalar>], loss: Tensor<Scalar>?, gradients: [Tensor<Scalar>]
    ) -> NonFiniteSource? {
        if !inputs.allSatisfy(\.isFinite) { return .inputBatch }
        if let i = weights.firstIndex(where: { !$0.isFinite }) { return .weight(atoms[i].name) }
        if let loss, !loss.isFinite { return .loss }
        if let i = gradients.firstIndex(where: { !$0.isFinite }) { return .gradient(weight: atoms[i].name) }
        return nil
    }

    /// Throws for a non-finite step, or counts it as skipped and returns `false`.
    private mutating func refuse(_ source: NonFiniteSource) throws -> Bool {
        let step = state.step + skippedSteps
        guard nonFiniteSteps == .skip else { throw OptimizerError.nonFinite(step: step, source: source) }
        skippedSteps += 1
        return false
    }

    /// Throws unless the momentum buffers are empty or have one buffer of each weight's shape.
    private func checkState() throws {
        let shapes = module.weightShapes
        for (label, buffers) in [("first-moment", state.firstMoment), ("second-moment", state.secondMoment)] where !buffers.isEmpty {
            guard buffers.count == shapes.count else {
                throw OptimizerError.stateMismatch(
                    weight: nil, reason: "has \(buffers.count) \(label) buffers for \(shapes.count) weights")
            }
            for i in shapes.indices where buffers[i].shape != shapes[i] {
                throw OptimizerError.stateMismatch(
                    weight: atoms[i].name, reason: "its \(label) buffer has shape \(buffers[i].shape), expected \(shapes[i])")
            }
        }
        if !state.rules.isEmpty && state.rules.count != shapes.count {
            throw OptimizerError.stateMismatch(
                weight: nil, reason: "has rule state for \(state.rules.count) weights, the module has \(shapes.count)")
        }
    }

    private mutating func applyMomentum(_ m: Momentum, _ i: Int, _ g: Tensor<Scalar>, heavyBall: Bool = false) -> Tensor<Scalar> {
        switch m {
        case .none: return g
        case .ema(let beta):
            // SGD's heavy ball accumulates d ← β·d + g; the EMA form scales the new gradient by 1 − β.
            state.firstMoment[i].blend(Scalar(beta), g, heavyBall ? 1 : Scalar(1 - beta))
            return state.firstMoment[i]
        case .nesterov(let beta):
            state.firstMoment[i].blend(Scalar(beta), g, Scalar(1 - beta))
            var u = g
            u.blend(Scalar(1 - beta), state.firstMoment[i], Scalar(beta))
            return u
        }
    }

    private mutating func adamDirection(_ i: Int, _ g: Tensor<Scalar>, _ b1: Double, _ b2: Double, _ eps: Double, _ t: Int) -> Tensor<Scalar> {
        if state.secondMoment.isEmpty { state.secondMoment = state.firstMoment.map { Tensor.zeros($0.shape) } }
        state.firstMoment[i].blend(Scalar(b1), g, Scalar(1 - b1))
        state.secondMoment[i].blend(Scalar(b2), g.squared(), Scalar(1 - b2))
        let c1 = 1 - Scalar.pow(Scalar(b1), Scalar(t + 1)), c2 = 1 - Scalar.pow(Scalar(b2), Scalar(t + 1))
        // (m / c1) / (√(v / c2) + ε), built in place in one new tensor.
        var d = state.secondMoment[i].detached
        d.scaleInPlace(by: 1 / c2)
        d.formSquareRoot()
        d.scaleInPlace(by: 1, adding: Scalar(eps))
        d.formQuotient(state.firstMoment[i], scaledBy: 1 / c1)
        return d
    }

    /// The layout and norm weight `i` is dualized alone with (the layer-wise layouts); `nil` for a modular layout.
    private func perAtomMap(_ i: Int) -> (layout: DualizationLayout, norm: NormChoice)? {
        switch groups[assignment[i]].rule {
        case .dualized(_, .perAtom(let scale), let norm, _): return (.perAtom(scale: scale), norm)
        case .adamThenDualize(_, _, _, .perAtom(let scale)): return (.perAtom(scale: scale), .atom)
        default: return nil
        }
    }

    private func dualized(
        _ i: Int, _ layout: DualizationLayout, _ norm: NormChoice, _ d: Tensor<Scalar>, _ all: [Tensor<Scalar>?],
        _ modular: (Double) throws -> Tensor<Scalar>
    ) rethrows -> Tensor<Scalar> {
        switch (layout, norm) {
        case (.modular(let target), .atom):
            return try modular(target)
        case (.modular, .matrix), (.perAtom, _):
            let scale: Double
            if case .perAtom(let s) = layout { scale = s } else { scale = 1 }
            var u: Tensor<Scalar>
            switch norm {
            case .atom: u = atomDualized(i, d, all)
            case .matrix(let m, let orth):
                u = d.rank == 2 ? m.dualize(d, orthogonalizer: orth) : atomDualized(i, d, all)
            }
            if scale != 1 { u.scaleInPlace(by: Scalar(scale)) }
            return u
        }
    }

    private func dualNorm(_ i: Int, _ layout: DualizationLayout, _ norm: NormChoice, _ d: Tensor<Scalar>, _ all: [Tensor<Scalar>?]) -> Scalar {
        switch norm {
        case .matrix(let m, _) where d.rank == 2: return m.dualNorm(d)
        default: return atoms[i].atom.dualNorm(gradients: atomDirections(i, d, all))
        }
    }

    /// Weight i's part of its atom's unit duality map (an atom's map takes all its weights' directions at once).
    private func atomDualized(_ i: Int, _ d: Tensor<Scalar>, _ all: [Tensor<Scalar>?]) -> Tensor<Scalar> {
        atoms[i].atom.dualize(gradients: atomDirections(i, d, all))[i - atomWeights[i].lowerBound]
    }

    /// The directions of the weights of the atom that owns weight i: `d` for weight i, each other weight's direction of
    /// this step, and zero for a weight that has none (its group's rule keeps no direction).
    private func atomDirections(_ i: Int, _ d: Tensor<Scalar>, _ all: [Tensor<Scalar>?]) -> [Tensor<Scalar>] {
        let r = atomWeights[i]
        return r.map { j in j == i ? d : all[j] ?? Tensor.zeros(atoms[i].atom.weightShapes[j - r.lowerBound]) }
    }
}

/// What an optimizer step does when its inputs, loss, gradients or update hold NaN or infinity.
public enum NonFinitePolicy: Sendable, Equatable {
    /// Throw ``OptimizerError/nonFinite(step:source:)``: training stops.
    case stop
    /// Leave the weights and the state unchanged, count the step in ``Optimizer/skippedSteps``, go on.
    case skip
}

/// Where an optimizer step first met NaN or infinity.
public enum NonFiniteSource: Sendable, Equatable, CustomStringConvertible {
    /// The input batch passed to ``Optimizer/update(_:gradients:loss:inputs:curvature:curvatureBatchSize:factors:)``.
    case inputBatch
    /// The loss passed to ``Optimizer/update(_:gradients:loss:inputs:curvature:curvatureBatchSize:factors:)``.
    case loss
    /// A weight, before the step.
    case weight(String)
    /// The gradient of a weight.
    case gradient(weight: String)
    /// The update of a weight (its dualized or Adam direction).
    case update(weight: String)

    public var description: String {
        switch self {
        case .inputBatch: return "the input batch"
        case .loss: return "the loss"
        case .weight(let w): return "weight \(w)"
        case .gradient(let w): return "the gradient of \(w)"
        case .update(let w): return "the update of \(w)"
        }
    }
}

/// Problems an optimizer step refuses to take.
public enum OptimizerError: Error, CustomStringConvertible, Equatable {
    /// No parameter group selects this weight.
    case unassigned(weight: String)
    /// The weight or gradient list has the wrong length.
    case wrongCount(expected: Int, weights: Int, gradients: Int)
    /// A weight or its gradient has the wrong shape.
    case wrongShape(weight: String, expected: [Int], actual: [Int], gradient: [Int])
    /// NaN or infinity at step `step` (counting skipped steps), first seen in `source`; no weight was changed.
    case nonFinite(step: Int, source: NonFiniteSource)
    /// A group's learning rate is NaN, infinite or negative at `step`.
    case invalidLearningRate(group: String, step: Int, rate: Double)
    /// The ``Optimizer/state`` does not fit the module's weights (`weight` is `nil` for a wrong count).
    case stateMismatch(weight: String?, reason: String)
    /// A group's configuration cannot be honoured.
    case unsupported(group: String, reason: String)
    /// A rule needs a curvature sample at this step and none (or one of the wrong length) was passed.
    case needsCurvature(group: String, rule: String, step: Int)
    /// A rule needs layer factors (inputs and output gradients) and none (or a list of the wrong length) was passed.
    case needsFactors(group: String, rule: String, step: Int)

    public var description: String {
        switch self {
        case .unassigned(let w): return "optimizer: weight \(w) belongs to no parameter group"
        case .wrongCount(let e, let w, let g): return "optimizer: expected \(e) weights and gradients, got \(w) weights and \(g) gradients"
        case .wrongShape(let name, let e, let w, let g):
            return "optimizer: weight \(name) expects shape \(e), got weight \(w) and gradient \(g)"
        case .nonFinite(let step, let source):
            return "optimizer: step \(step): \(source) contains NaN or infinity; no step was taken"
        case .invalidLearningRate(let g, let step, let r):
            return "optimizer: group \(g): the learning rate at step \(step) is \(r); it must be finite and ≥ 0"
        case .stateMismatch(let w, let r):
            return "optimizer: the state does not fit the module: " + (w.map { "weight \($0): " } ?? "") + r
        case .unsupported(let g, let r): return "optimizer: group \(g): \(r)"
        case .needsCurvature(let g, let r, let t):
            return "optimizer: group \(g) (\(r)) needs a curvature sample at step \(t): pass update(…, curvature: sophiaCurvatureGradients(…)) whenever needsCurvature is true"
        case .needsFactors(let g, let r, let t):
            return "optimizer: group \(g) (\(r)) needs layer factors at step \(t): compute the step with kfacFactors(module:weights:loss:) and pass update(…, factors:)"
        }
    }
}
