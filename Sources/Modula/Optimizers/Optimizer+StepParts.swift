import ModulaTensor

// The pieces of a step: non-finite checks, momentum and Adam directions, the duality maps of one weight.
extension Optimizer {
    /// Where the first NaN or infinity is, looking at the inputs, weights, loss and gradients in turn.
    func firstNonFinite(
        inputs: [Tensor<Scalar>], weights: [Tensor<Scalar>], loss: Tensor<Scalar>?, gradients: [Tensor<Scalar>]
    ) -> NonFiniteSource? {
        if !inputs.allSatisfy(\.isFinite) { return .inputBatch }
        if let i = weights.firstIndex(where: { !$0.isFinite }) { return .weight(atoms[i].name) }
        if let loss, !loss.isFinite { return .loss }
        if let i = gradients.firstIndex(where: { !$0.isFinite }) { return .gradient(weight: atoms[i].name) }
        return nil
    }

    /// Throws for a non-finite step, or counts it as skipped and returns `false`.
    mutating func refuse(_ source: NonFiniteSource) throws -> Bool {
        let step = state.step + skippedSteps
        guard nonFiniteSteps == .skip else { throw OptimizerError.nonFinite(step: step, source: source) }
        skippedSteps += 1
        return false
    }

    /// Throws unless the momentum buffers are empty or have one buffer of each weight's shape.
    func checkState() throws {
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

    mutating func applyMomentum(_ m: Momentum, _ i: Int, _ g: consuming Tensor<Scalar>, heavyBall: Bool = false) -> Tensor<Scalar> {
        switch m {
        case .none: return g
        case .ema(let beta):
            // SGD's heavy ball accumulates d ← β·d + g; the EMA form scales the new gradient by 1 − β.
            state.firstMoment[i].blend(Scalar(beta), g, heavyBall ? 1 : Scalar(1 - beta))
            return state.firstMoment[i]
        case .nesterov(let beta):
            state.firstMoment[i].blend(Scalar(beta), g, Scalar(1 - beta))
            var u = consume g  // in the gradient's memory when the caller handed it over
            u.blend(Scalar(1 - beta), state.firstMoment[i], Scalar(beta))
            return u
        }
    }

    mutating func adamDirection(_ i: Int, _ g: consuming Tensor<Scalar>, _ b1: Double, _ b2: Double, _ eps: Double, _ t: Int) -> Tensor<Scalar> {
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
    func perAtomMap(_ i: Int) -> (layout: DualizationLayout, norm: NormChoice)? {
        switch groups[assignment[i]].rule {
        case .dualized(_, .perAtom(let scale), let norm, _): return (.perAtom(scale: scale), norm)
        case .adamThenDualize(_, _, _, .perAtom(let scale)): return (.perAtom(scale: scale), .atom)
        default: return nil
        }
    }

    /// Weight i's duality map for a layer-wise layout, or a modular layout with a matrix norm (the whole network's map,
    /// for a modular layout with the atoms' norms, is dualized once per group by the step). `d` is taken over: the map
    /// may work in its memory. `joint` keeps the maps of atoms with several weights, computed once per step.
    func dualized(
        _ i: Int, _ layout: DualizationLayout, _ norm: NormChoice, _ d: consuming Tensor<Scalar>, _ all: [Tensor<Scalar>?],
        _ joint: inout JointMaps
    ) -> Tensor<Scalar> {
        let scale: Double
        if case .perAtom(let s) = layout { scale = s } else { scale = 1 }
        var u: Tensor<Scalar>
        if case .matrix(let m, let orth) = norm, d.rank == 2 {
            u = m.dualize(consume d, orthogonalizer: orth)
        } else {
            u = atomDualized(i, consume d, all, &joint)
        }
        if scale != 1 { u.scaleInPlace(by: Scalar(scale)) }
        return u
    }

    func dualNorm(_ i: Int, _ layout: DualizationLayout, _ norm: NormChoice, _ d: Tensor<Scalar>, _ all: [Tensor<Scalar>?]) -> Scalar {
        switch norm {
        case .matrix(let m, _) where d.rank == 2: return m.dualNorm(d)
        default: return atoms[i].atom.dualNorm(gradients: atomDirections(i, d, all))
        }
    }

    /// The unit duality maps of atoms with several weights, by the atom's first weight: one map serves all its weights.
    typealias JointMaps = [Int: [Tensor<Scalar>]]

    /// Weight i's part of its atom's unit duality map (an atom's map takes all its weights' directions at once). An
    /// atom with several weights is dualized once: its map goes into `joint` for its other weights, whose directions
    /// (`all`, and `d` for weight i) are the same list whichever of them asks.
    func atomDualized(_ i: Int, _ d: consuming Tensor<Scalar>, _ all: [Tensor<Scalar>?], _ joint: inout JointMaps) -> Tensor<Scalar> {
        let r = atomWeights[i]
        if r.count == 1 { return atoms[i].atom.dualize(gradients: [consume d])[0] }
        if let maps = joint[r.lowerBound] { return maps[i - r.lowerBound] }
        let maps = atoms[i].atom.dualize(gradients: atomDirections(i, consume d, all))
        joint[r.lowerBound] = maps
        return maps[i - r.lowerBound]
    }

    /// The directions of the weights of the atom that owns weight i: `d` for weight i, each other weight's direction of
    /// this step, and zero for a weight that has none (its group's rule keeps no direction).
    func atomDirections(_ i: Int, _ d: consuming Tensor<Scalar>, _ all: [Tensor<Scalar>?]) -> [Tensor<Scalar>] {
        let r = atomWeights[i]
        if r.count == 1 { return [consume d] }
        var out: [Tensor<Scalar>] = []
        for j in r { out.append(j == i ? d : all[j] ?? Tensor.zeros(atoms[i].atom.weightShapes[j - r.lowerBound])) }
        return out
    }
}
