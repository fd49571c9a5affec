/// ADOPT [Taniguchi et al. 2024, arXiv 2411.02853, Algorithm 2]: Adam with the current gradient left out of its own
/// normalization, which converges for any β₂.
///
/// The first step only records v₀ = g₀² and leaves the weight alone. Every later step t ≥ 1:
/// w ← (1 − ηλ)·w; n = g / max(√v, ε) with the *previous* v, clipped to ±t^¼ when `clip` is on;
/// m ← β₁m + (1−β₁)·n; w ← w − η·m; v ← β₂v + (1−β₂)·g².
/// The authors' implementation clips by default (`clip_lambda = step**0.25`, added after publication for stability).
public struct ADOPTRule: OptimizerRule {
    public var beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double
    /// Clip the normalized gradient to ±t^¼ at update t (t = 1 for the first update after v₀).
    public var clip: Bool

    public init(beta1: Double = 0.9, beta2: Double = 0.9999, epsilon: Double = 1e-6, weightDecay: Double = 0,
                clip: Bool = true) {
        (self.beta1, self.beta2, self.epsilon, self.weightDecay, self.clip) = (beta1, beta2, epsilon, weightDecay, clip)
    }

    public var name: String { "adopt" }

    public func update<S: TensorScalar>(
        _ w: inout Tensor<S>, gradient g: Tensor<S>, state: inout RuleState<S>, context: WeightContext
    ) {
        let squared = g.squared()
        guard let v = state["exp_avg_sq"] else {
            state["exp_avg_sq"] = squared
            return
        }
        let eta = context.learningRate
        w.decay(rate: eta, weightDecay: weightDecay * context.weightDecayScale)
        let eps = S(epsilon * context.epsilonScale)
        let denominator = Tensor.maximum(v.sqrt(), Tensor(eps))
        var n = g / denominator
        if clip {
            let bound = S(Double.pow(Double(context.step), 0.25))
            n = n.clamped(-bound, bound)
        }
        state["exp_avg", default: .zeros(g.shape)].blend(S(beta1), n, S(1 - beta1))
        w.addScaled(state["exp_avg"]!, by: S(-eta))
        state["exp_avg_sq"]!.blend(S(beta2), squared, S(1 - beta2))
    }
}
