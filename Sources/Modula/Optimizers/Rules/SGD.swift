/// Stochastic gradient descent with heavy-ball or Nesterov momentum, as `torch.optim.SGD` writes it:
/// g ← g + λw (coupled decay), v ← μv + g, and w ← w − η·v (heavy ball) or w ← w − η·(g + μv) (Nesterov).
public struct SGDRule: OptimizerRule {
    /// The momentum μ (0: plain SGD, no buffer kept).
    public var momentum: Double
    /// Nesterov's look-ahead form.
    public var nesterov: Bool
    /// L2 weight decay λ, added to the gradient.
    public var weightDecay: Double

    public init(momentum: Double = 0.9, nesterov: Bool = false, weightDecay: Double = 0) {
        (self.momentum, self.nesterov, self.weightDecay) = (momentum, nesterov, weightDecay)
    }

    public var name: String { "sgd" }

    public func update<S: TensorScalar>(
        _ w: inout Tensor<S>, gradient: Tensor<S>, state: inout RuleState<S>, context: WeightContext
    ) {
        var g = gradient
        let lambda = weightDecay * context.weightDecayScale
        if lambda != 0 { g.addScaled(w, by: S(lambda)) }
        guard momentum != 0 else { return w.addScaled(g, by: S(-context.learningRate)) }
        // The first step starts the buffer at g (PyTorch's convention), which v ← μ·0 + g also gives.
        state["momentum", default: .zeros(g.shape)].blend(S(momentum), g, 1)
        let v = state["momentum"]!
        if nesterov { g.addScaled(v, by: S(momentum)) } else { g = v }
        w.addScaled(g, by: S(-context.learningRate))
    }
}
