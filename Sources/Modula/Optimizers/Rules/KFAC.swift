/// One matrix atom's input activations and output gradients from a forward and backward pass (K-FAC's raw data).
public struct LayerFactors<Scalar: TensorScalar>: Sendable {
    /// The atom's inputs, [rows, fan_in] (leading axes flattened).
    public var input: Tensor<Scalar>
    /// The gradient of the loss at the atom's outputs, [rows, fan_out].
    public var outputGradient: Tensor<Scalar>
}

/// K-FAC [Martens & Grosse 2015, arXiv 1503.05671] for ``Linear`` atoms: the Fisher block of a layer approximated by
/// the Kronecker product of its input second moment A and its output-gradient second moment S.
///
/// Each step, from the layer's inputs X [rows, fan_in] and the gradient D [rows, fan_out] of the (mean) loss at its
/// outputs: A ← β·A + (1−β)·XᵀX/rows and S ← β·S + (1−β)·rows·DᵀD (the first step starts both at their samples);
/// every `interval` steps the damped inverses (A + √γ·I)⁻¹ and (S + √γ·I)⁻¹ are recomputed (factored Tikhonov
/// damping, through LAPACK's symmetric eigensolver); then w ← (1 − ηλ)·w − η·(S + √γI)⁻¹·G·(A + √γI)⁻¹.
/// A weight without factors (an embedding, a vector) takes a plain gradient step.
/// ``kfacFactors(module:weights:loss:)`` collects the factors with hooks during the step's own backward pass.
public struct KFACRule: OptimizerRule {
    /// Damping γ (√γ is added to both factors), the averaging β and the refresh interval k.
    public var damping: Double, beta: Double, interval: Int, weightDecay: Double

    public init(damping: Double = 1e-3, beta: Double = 0.95, interval: Int = 10, weightDecay: Double = 0) {
        (self.damping, self.beta, self.interval, self.weightDecay) = (damping, beta, Swift.max(1, interval), weightDecay)
    }

    public var name: String { "kfac" }
    public var needsFactors: Bool { true }

    public func observeFactors<S: TensorScalar>(input x: Tensor<S>, outputGradient d: Tensor<S>, state: inout RuleState<S>) {
        let rows = S(x.shape[0])
        let a = x.matmul(x, transposeA: true) * (1 / rows), s = d.matmul(d, transposeA: true) * rows
        if state["A"] == nil {
            (state["A"], state["S"]) = (a, s)
        } else {
            state["A"]!.blend(S(beta), a, S(1 - beta))
            state["S"]!.blend(S(beta), s, S(1 - beta))
        }
        state["observed"] = Tensor(S(1))
    }

    public func update<S: TensorScalar>(
        _ w: inout Tensor<S>, gradient g: Tensor<S>, state: inout RuleState<S>, context: WeightContext
    ) {
        let eta = context.learningRate
        w.decay(rate: eta, weightDecay: weightDecay * context.weightDecayScale)
        guard state.removeValue(forKey: "observed") != nil, g.rank == 2, let a = state["A"], let s = state["S"] else {
            return w.addScaled(g, by: S(-eta))
        }
        let shift = damping.squareRoot()
        if context.step % interval == 0 || state["A_inverse"] == nil {
            state["A_inverse"] = dampedInverse(a, shift) ?? state["A_inverse"] ?? .identity(a.shape[0])
            state["S_inverse"] = dampedInverse(s, shift) ?? state["S_inverse"] ?? .identity(s.shape[0])
        }
        w.addScaled(state["S_inverse"]!.matmul(g).matmul(state["A_inverse"]!), by: S(-eta))
    }
}

/// (A + shift·I)⁻¹ of a symmetric positive semidefinite matrix, through its eigendecomposition; nil when LAPACK's
/// solver fails to converge.
func dampedInverse<S: TensorScalar>(_ a: Tensor<S>, _ shift: Double) -> Tensor<S>? {
    guard let (values, vectors) = try? a.symmetricEigen() else { return nil }
    let d = Tensor<S>(values.scalars.map { S(1 / (Swift.max(Double($0), 0) + shift)) })
    return (vectors * d.reshaped([1, d.count])).matmul(vectors, transposeB: true)
}

/// The loss, the gradients and each ``MatrixAtom``'s ``LayerFactors`` of one forward and backward pass, collected
/// with hooks (``withHooks(_:_:)``): what ``Optimizer/update(_:gradients:loss:inputs:curvature:curvatureBatchSize:factors:)``
/// needs for K-FAC. Atoms that run more than once in the pass, or are not matrices, get nil.
/// - Throws: what `loss` throws.
public func kfacFactors<S: TensorScalar>(
    module: any Module, weights: [Tensor<S>], loss: ([Tensor<S>]) throws -> Tensor<S>
) throws -> (loss: Tensor<S>, gradients: [Tensor<S>], factors: [LayerFactors<S>?]) {
    let paths = module.atomPaths, atoms = module.atoms.map(\.atom)
    var index: [String: Int] = [:]
    for (i, p) in paths.enumerated() where atoms[i] is Linear { index[p] = index[p] == nil ? i : -1 }
    var inputs: [Int: Tensor<S>] = [:], gradients: [Int: Tensor<S>] = [:]
    let selects: (String, any Module) -> Bool = { p, m in m is Linear && (index[p] ?? -1) >= 0 }
    let forward = Hook.forward(S.self, where: selects) { e in
        let x = e.inputs[0].detached
        inputs[index[e.path]!] = x.reshaped([x.count / x.shape.last!, x.shape.last!])
        return nil
    }
    let backward = Hook.gradient(S.self, where: selects) { e in
        let d = e.gradient
        gradients[index[e.path]!] = d.reshaped([d.count / d.shape.last!, d.shape.last!])
        return nil
    }
    let (value, grads) = try withHooks([forward, backward]) { try valueWithGradient(at: weights, of: loss) }
    let factors = weights.indices.map { i -> LayerFactors<S>? in
        guard let x = inputs[i], let d = gradients[i] else { return nil }
        return LayerFactors(input: x, outputGradient: d)
    }
    return (value, grads, factors)
}
