/// Sophia-G [Liu et al. 2023, arXiv 2305.14342]: a diagonal Gauss–Newton–Bartlett curvature estimate refreshed
/// every `interval` steps, and a clipped, curvature-scaled sign step.
///
/// m ← β₁m + (1−β₁)g every step; at steps 0, k, 2k, … the training loop supplies ĝ, the gradient of the loss at
/// labels sampled from the model's own softmax over a batch of B examples, and h ← β₂h + (1−β₂)·B·ĝ⊙ĝ;
/// then w ← (1 − ηλ)·w and w ← w − η·sign(m)·min(|m|/(ρ·h + ε), 1), the same as clamping m/(ρh + ε) to [−1, 1].
/// ``Optimizer`` asks for ĝ through ``needsCurvature(atStep:)``; `sophiaCurvatureGradients` computes it.
public struct SophiaRule: OptimizerRule {
    public var beta1: Double, beta2: Double, rho: Double, epsilon: Double, weightDecay: Double
    /// Steps between curvature refreshes k.
    public var interval: Int

    public init(beta1: Double = 0.965, beta2: Double = 0.99, rho: Double = 0.04, epsilon: Double = 1e-15,
                weightDecay: Double = 0, interval: Int = 10) {
        (self.beta1, self.beta2, self.rho, self.epsilon, self.weightDecay, self.interval) =
            (beta1, beta2, rho, epsilon, weightDecay, Swift.max(1, interval))
    }

    public var name: String { "sophia" }

    public func needsCurvature(atStep step: Int) -> Bool { step % interval == 0 }

    public func observeCurvature<S: TensorScalar>(_ sample: Tensor<S>, batchSize: Int, state: inout RuleState<S>) {
        state["hessian", default: .zeros(sample.shape)].blend(S(beta2), sample.squared(), S((1 - beta2) * Double(batchSize)))
    }

    public func update<S: TensorScalar>(
        _ w: inout Tensor<S>, gradient g: Tensor<S>, state: inout RuleState<S>, context: WeightContext
    ) {
        state["exp_avg", default: .zeros(g.shape)].blend(S(beta1), g, S(1 - beta1))
        let h = state["hessian", default: .zeros(g.shape)]
        let eta = context.learningRate
        w.decay(rate: eta, weightDecay: weightDecay * context.weightDecayScale)
        var denominator = h.detached
        denominator.scaleInPlace(by: S(rho), adding: S(epsilon * context.epsilonScale))
        let step = (state["exp_avg"]! / denominator).clamped(-1, 1)
        w.addScaled(step, by: S(-eta))
    }
}

/// Sophia's curvature sample: the gradient of the mean cross-entropy at labels drawn from the model's own softmax
/// (one per row of the logits), and the number of rows B [Liu et al. 2023, Algorithm 2].
///
/// Pass both to ``Optimizer/update(_:gradients:loss:inputs:curvature:curvatureBatchSize:factors:)`` on the steps where
/// ``Optimizer/needsCurvature`` is true; it costs one more forward and backward pass.
/// - Throws: what the module's forward pass throws (a wrong input shape, say).
public func sophiaCurvatureGradients<S: TensorScalar>(
    module: any Module, weights: [Tensor<S>], input: Tensor<S>, using rng: inout RandomGenerator
) throws -> (gradients: [Tensor<S>], batchSize: Int) {
    let logits = try module(input, weights.map(\.detached))
    let classes = logits.shape.last ?? 1
    let rows = logits.count / Swift.max(classes, 1)
    let p = logits.detached.reshaped([rows, classes]).softmax().scalars
    var labels: [Int] = []
    labels.reserveCapacity(rows)
    for r in 0..<rows {
        let u = rng.nextUnitDouble()
        var cumulative = 0.0, label = classes - 1
        for c in 0..<classes {
            cumulative += Double(p[r * classes + c])
            if u < cumulative { label = c; break }
        }
        labels.append(label)
    }
    let (_, gradients) = try valueWithGradient(at: weights) { w in crossEntropy(logits: try module(input, w), labels: labels) }
    return (gradients, rows)
}
