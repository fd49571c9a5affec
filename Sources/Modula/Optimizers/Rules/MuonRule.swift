/// Muon [Jordan et al. 2024] for one weight: Nesterov momentum, Newton–Schulz orthogonalization, and the
/// scale √max(1, rows/cols): buf ← β·buf + (1−β)·g; u = (1−β)·g + β·buf; w ← (1 − ηλ)·w − η·√max(1, m/n)·NS(u).
///
/// A convolution kernel is orthogonalized as one out × (in·k²) matrix, as Muon's reference does; vectors are not
/// Muon's business (the `muon` preset sends them, the embedding and the head to AdamW).
public struct MuonRule: OptimizerRule {
    public var momentum: Double, nesterov: Bool, weightDecay: Double
    public var orthogonalizer: any Orthogonalizer

    public init(momentum: Double = 0.95, nesterov: Bool = true, weightDecay: Double = 0,
                orthogonalizer: any Orthogonalizer = MuonNewtonSchulz()) {
        (self.momentum, self.nesterov, self.weightDecay, self.orthogonalizer) = (momentum, nesterov, weightDecay, orthogonalizer)
    }

    public var name: String { "muon" }

    public func update<S: TensorScalar>(
        _ w: inout Tensor<S>, gradient g: Tensor<S>, state: inout RuleState<S>, context: WeightContext
    ) {
        state["momentum", default: .zeros(g.shape)].blend(S(momentum), g, S(1 - momentum))
        var u = state["momentum"]!
        if nesterov {
            u = g
            u.blend(S(1 - momentum), state["momentum"]!, S(momentum))
        }
        let rows = g.rank == 0 ? 1 : g.shape[0]
        let matrix = u.reshaped([rows, g.count / Swift.max(rows, 1)])
        var o = orthogonalizer.orthogonalize(matrix).reshaped(g.shape)
        o.scaleInPlace(by: S(Swift.max(1, Double(matrix.shape[0]) / Double(matrix.shape[1])).squareRoot()))
        let eta = context.learningRate
        w.decay(rate: eta, weightDecay: weightDecay * context.weightDecayScale)
        w.addScaled(o, by: S(-eta))
    }
}
