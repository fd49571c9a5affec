/// AdamW [Loshchilov & Hutter 2019]: w ← (1 − ηλ)·w, then m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
/// w ← w − η·m̂/(√v̂ + ε) with the bias corrections m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ) (`torch.optim.AdamW`).
public struct AdamWRule: OptimizerRule {
    public var beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double

    public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0) {
        (self.beta1, self.beta2, self.epsilon, self.weightDecay) = (beta1, beta2, epsilon, weightDecay)
    }

    public var name: String { "adamw" }

    public func update<S: TensorScalar>(
        _ w: inout Tensor<S>, gradient g: Tensor<S>, state: inout RuleState<S>, context: WeightContext
    ) {
        let eta = context.learningRate
        w.decay(rate: eta, weightDecay: weightDecay * context.weightDecayScale)
        let d = adamDirection(g, &state, step: context.step, beta1: beta1, beta2: beta2,
                              epsilon: epsilon * context.epsilonScale)
        w.addScaled(d, by: S(-eta))
    }
}

/// Adam's bias-corrected direction m̂/(√v̂ + ε), updating the moments `exp_avg` and `exp_avg_sq` in `state`.
func adamDirection<S: TensorScalar>(
    _ g: Tensor<S>, _ state: inout RuleState<S>, step: Int, beta1: Double, beta2: Double, epsilon: Double
) -> Tensor<S> {
    state["exp_avg", default: .zeros(g.shape)].blend(S(beta1), g, S(1 - beta1))
    state["exp_avg_sq", default: .zeros(g.shape)].blend(S(beta2), g.squared(), S(1 - beta2))
    let t = Double(step + 1)
    let c1 = 1 - Double.pow(beta1, t), c2 = 1 - Double.pow(beta2, t)
    var d = state["exp_avg_sq"]!.detached
    d.scaleInPlace(by: S(1 / c2))
    d.formSquareRoot()
    d.scaleInPlace(by: 1, adding: S(epsilon))
    d.formQuotient(state["exp_avg"]!, scaledBy: S(1 / c1))
    return d
}
