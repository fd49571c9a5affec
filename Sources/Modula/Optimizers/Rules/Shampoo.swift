/// Shampoo [Gupta, Koren & Singer 2018, arXiv 1802.09568]: left and right preconditioners of a matrix gradient,
/// w ← (1 − ηλ)·w − η·L^{−¼}·G·R^{−¼}.
///
/// L ← L + GGᵀ and R ← R + GᵀG (sums, as in the paper, or exponential averages with `beta`). Every `interval`
/// steps the inverse fourth roots of L + εI and R + εI are recomputed with LAPACK's symmetric eigensolver
/// (`?syevd`: Q·diag(λ)·Qᵀ ↦ Q·diag((max(λ, 0) + ε)^{−¼})·Qᵀ); between refreshes the last roots are reused.
/// A vector is treated as a 1×n matrix, a convolution kernel [out, in, k, k] as out × (in·k²). `grafting`
/// optionally rescales the direction to the Frobenius norm of SGD's (the gradient) or Adam's step, as practice
/// does [Agarwal et al. 2020].
public struct ShampooRule: OptimizerRule {
    /// The step size taken from another rule's direction, keeping Shampoo's direction.
    public enum Grafting: String, Sendable, Codable { case none, sgd, adam }

    /// Damping ε added to both preconditioners before the roots (not scaled with width).
    public var epsilon: Double
    /// Steps between root refreshes.
    public var interval: Int
    /// nil: sum the statistics; otherwise L ← β·L + (1−β)·GGᵀ.
    public var beta: Double?
    public var weightDecay: Double
    public var grafting: Grafting

    public init(epsilon: Double = 1e-6, interval: Int = 1, beta: Double? = nil, weightDecay: Double = 0,
                grafting: Grafting = .none) {
        (self.epsilon, self.interval, self.beta, self.weightDecay, self.grafting) =
            (epsilon, Swift.max(1, interval), beta, weightDecay, grafting)
    }

    public var name: String { "shampoo" }

    public func update<S: TensorScalar>(
        _ w: inout Tensor<S>, gradient: Tensor<S>, state: inout RuleState<S>, context: WeightContext
    ) {
        let rows = gradient.rank == 0 ? 1 : (gradient.rank == 1 ? 1 : gradient.shape[0])
        let g = gradient.reshaped([rows, gradient.count / Swift.max(rows, 1)])
        let (m, n) = (g.shape[0], g.shape[1])
        let left = g.matmul(g, transposeB: true), right = g.matmul(g, transposeA: true)
        let (keep, add) = beta.map { (S($0), S(1 - $0)) } ?? (1, 1)
        state["left", default: .zeros([m, m])].blend(keep, left, add)
        state["right", default: .zeros([n, n])].blend(keep, right, add)
        if context.step % interval == 0 || state["left_root"] == nil {
            state["left_root"] = inverseFourthRoot(state["left"]!, epsilon) ?? state["left_root"] ?? .identity(m)
            state["right_root"] = inverseFourthRoot(state["right"]!, epsilon) ?? state["right_root"] ?? .identity(n)
        }
        var direction = state["left_root"]!.matmul(g).matmul(state["right_root"]!).reshaped(gradient.shape)
        let graft: Double? = switch grafting {
        case .none: nil
        case .sgd: Double(gradient.frobeniusNormValue)
        case .adam: Double(adamDirection(gradient, &state, step: context.step, beta1: 0.9, beta2: 0.999,
                                         epsilon: 1e-8).frobeniusNormValue)
        }
        if let graft {
            let norm = Double(direction.frobeniusNormValue)
            direction.scaleInPlace(by: S(norm > 0 ? graft / norm : 0))
        }
        let eta = context.learningRate
        w.decay(rate: eta, weightDecay: weightDecay * context.weightDecayScale)
        w.addScaled(direction, by: S(-eta))
    }
}

/// (A + εI)^{−¼} of a symmetric positive semidefinite matrix, through its eigendecomposition; nil when LAPACK's
/// solver fails to converge.
func inverseFourthRoot<S: TensorScalar>(_ a: Tensor<S>, _ epsilon: Double) -> Tensor<S>? {
    guard let (values, vectors) = try? a.symmetricEigen() else { return nil }
    let d = Tensor<S>(values.scalars.map { S(Double.pow(Swift.max(Double($0), 0) + epsilon, -0.25)) })
    return (vectors * d.reshaped([1, d.count])).matmul(vectors, transposeB: true)
}
