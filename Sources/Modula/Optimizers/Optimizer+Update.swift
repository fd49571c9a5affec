import ModulaTensor

// One optimizer step: directions, duality maps and updates, checked before any weight changes.
extension Optimizer {
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
    ///   - gradients: one gradient per weight, of the weight's shape. The step takes them over: passed with
    ///     `consume` (or as a list nothing else holds), their memory is reused, so that a momentum-free direction is
    ///     orthogonalized in its gradient's own memory and a gradient the momentum has absorbed is freed before the
    ///     duality maps run; a list the caller keeps is only read.
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
        _ weights: inout [Tensor<Scalar>], gradients: consuming [Tensor<Scalar>], loss: Tensor<Scalar>? = nil,
        inputs: [Tensor<Scalar>] = [], curvature: [Tensor<Scalar>]? = nil, curvatureBatchSize: Int = 1,
        factors: [LayerFactors<Scalar>?]? = nil
    ) throws -> Bool {
        let n = atoms.count
        guard weights.count == n, gradients.count == n else {
            throw OptimizerError.wrongCount(expected: n, weights: weights.count, gradients: gradients.count)
        }
        let shapes = module.weightShapes
        for i in 0..<n where weights[i].shape != gradients[i].shape || weights[i].shape != shapes[i] {
            throw OptimizerError.wrongShape(weight: atoms[i].name, expected: shapes[i],
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

        // Pass 1: per-weight directions from each group's rule (momentum, Adam moments). Only rules read the gradients
        // again: the others' are taken out of the list, so that a gradient the momentum absorbs is freed here and a
        // direction that is the gradient itself owns its memory.
        var direction = [Tensor<Scalar>?](repeating: nil, count: n)
        for i in 0..<n {
            switch groups[assignment[i]].rule {
            case .dualized(let momentum, _, _, _):
                direction[i] = applyMomentum(momentum, i, gradients[i].take())
            case .sgd(let beta, let nesterov):
                direction[i] = applyMomentum(beta == 0 ? .none : (nesterov ? .nesterov(beta) : .ema(beta)), i, gradients[i].take(), heavyBall: !nesterov)
            case .adamW(let b1, let b2, let eps), .adamThenDualize(let b1, let b2, let eps, _):
                direction[i] = adamDirection(i, gradients[i].take(), b1, b2, eps, t)
            case .rule:
                break
            }
        }
        // Weight i's direction, handed over to its duality map (which may work in its memory), unless its atom has other
        // weights: their maps read it too.
        func handOver(_ i: Int) -> Tensor<Scalar> { atomWeights[i].count == 1 ? direction[i]!.take() : direction[i]! }

        // Pass 2: dualize, group by group (a modular layout dualizes the whole network once).
        // Cached per group: a modular group dualizes the whole network once per step.
        var modularCache: [Int: [Tensor<Scalar>]] = [:]
        func modular(_ group: Int, _ target: Double) throws -> [Tensor<Scalar>] {
            if let c = modularCache[group] { return c }
            var all: [Tensor<Scalar>] = []
            all.reserveCapacity(n)
            for i in 0..<n { all.append(assignment[i] == group ? handOver(i) : .zeros(shapes[i])) }
            try dualizer.dualizeInPlace(&all, of: module, targetNorm: Scalar(target))
            modularCache[group] = all
            return all
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
            var d = (0..<n).map { i -> Tensor<Scalar> in
                guard assignment[i] == group else { return Tensor.zeros(shapes[i]) }
                var moved = weights[i]
                var c = contexts[i]
                c.learningRate = 1
                c.weightDecayScale = 0
                r.update(&moved, gradient: gradients[i], state: &state.rules[i], context: c)
                return weights[i] - moved
            }
            try dualizer.dualizeInPlace(&d, of: module, targetNorm: 1)
            ruleDirections[group] = d
            return d
        }
        // Directions of weights outside dualized groups are zero when the whole network is dualized.
        func fullDirections(_ groupIndex: Int) -> [Tensor<Scalar>] {
            (0..<n).map { assignment[$0] == groupIndex ? direction[$0]! : Tensor.zeros(shapes[$0]) }
        }

        if case .modular = parametrization {
            // Before any weight moves (or decays), so every direction sees this step's weights.
            for (gi, g) in groups.enumerated() { if case .rule(let r) = g.rule { _ = try modularRuleDirection(gi, r) } }
        }
        // The steepest steps' scales (dual norms of the directions), before the duality maps take the directions over.
        var steepestScale = [Scalar](repeating: 1, count: n)
        for i in 0..<n {
            guard case .dualized(_, let layout, let norm, .steepest) = groups[assignment[i]].rule else { continue }
            if case .modular = layout, case .atom = norm {
                steepestScale[i] = modularDualNorm(assignment[i])
            } else {
                steepestScale[i] = dualNorm(i, layout, norm, direction[i]!, direction)
            }
        }
        // The layer-wise duality maps, handed over together so that a distributed dualizer can divide them.
        let alone = (0..<n).filter { perAtomMap($0) != nil }
        var joint: JointMaps = [:]
        let aloneDuals = try dualizer.each(alone, of: module) { i in
            let (layout, norm) = perAtomMap(i)!
            let d = handOver(i)
            return dualized(i, layout, norm, consume d, direction, &joint)
        }
        let atomDuals = Dictionary(uniqueKeysWithValues: zip(alone, aloneDuals))
        // Weight i's duality map: layer-wise (above), the whole network's for its group, or a matrix norm's.
        func dual(_ i: Int, _ layout: DualizationLayout, _ norm: NormChoice) throws -> Tensor<Scalar> {
            if let u = atomDuals[i] { return u }
            if case .modular(let target) = layout, case .atom = norm { return try modular(assignment[i], target)[i] }
            return dualized(i, layout, norm, direction[i]!, direction, &joint)
        }

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
                let u = try dual(i, layout, norm)
                switch step {
                case .unconstrained: updates.append((u, -eta, 1))
                case .constrained(let radius): updates.append((u, -eta * Scalar(radius), 1 - eta))
                case .steepest: updates.append((u, -eta * steepestScale[i], 1))
                }
            case .adamThenDualize(_, _, _, let layout):
                let u = try dual(i, layout, .atom)
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
}
