/// LARS [You et al. 2017, arXiv 1708.03888]: a local rate η·ζ·‖w‖/(‖g‖ + λ‖w‖) per weight tensor (η when either
/// norm is 0), then momentum on the scaled step: v ← μv + local·(g + λw); w ← w − v.
///
/// Like Fromage, its steps are Frobenius-relative, so its learning rate does not transfer across width.
public struct LARSRule: OptimizerRule {
    /// The trust coefficient ζ.
    public var trust: Double, momentum: Double, weightDecay: Double

    public init(trust: Double = 1e-3, momentum: Double = 0.9, weightDecay: Double = 0) {
        (self.trust, self.momentum, self.weightDecay) = (trust, momentum, weightDecay)
    }

    public var name: String { "lars" }

    public func update<S: TensorScalar>(
        _ w: inout Tensor<S>, gradient g: Tensor<S>, state: inout RuleState<S>, context: WeightContext
    ) {
        let eta = context.learningRate, lambda = weightDecay * context.weightDecayScale
        let wn = Double(w.frobeniusNormValue), gn = Double(g.frobeniusNormValue)
        let local = wn > 0 && gn > 0 ? eta * trust * wn / (gn + lambda * wn) : eta
        var step = g
        if lambda != 0 { step.addScaled(w, by: S(lambda)) }
        state["momentum", default: .zeros(g.shape)].blend(S(momentum), step, S(local))
        w.addScaled(state["momentum"]!, by: -1)
    }
}
