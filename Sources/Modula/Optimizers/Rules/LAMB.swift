/// LAMB [You et al. 2019, arXiv 1904.00962]: Adam's bias-corrected r = m̂/(√v̂ + ε), u = r + λw, and one trust
/// ratio per weight tensor: w ← w − η·(‖w‖_F/‖u‖_F)·u (ratio 1 when either norm is 0).
public struct LAMBRule: OptimizerRule {
    public var beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double

    public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-6, weightDecay: Double = 0.01) {
        (self.beta1, self.beta2, self.epsilon, self.weightDecay) = (beta1, beta2, epsilon, weightDecay)
    }

    public var name: String { "lamb" }

    public func update<S: TensorScalar>(
        _ w: inout Tensor<S>, gradient g: Tensor<S>, state: inout RuleState<S>, context: WeightContext
    ) {
        var u = adamDirection(g, &state, step: context.step, beta1: beta1, beta2: beta2,
                              epsilon: epsilon * context.epsilonScale)
        let lambda = weightDecay * context.weightDecayScale
        if lambda != 0 { u.addScaled(w, by: S(lambda)) }
        let wn = Double(w.frobeniusNormValue), un = Double(u.frobeniusNormValue)
        let trust = wn > 0 && un > 0 ? wn / un : 1
        w.addScaled(u, by: S(-context.learningRate * trust))
    }
}
