/// Fromage [Bernstein et al. 2020, arXiv 2002.03432]: w ← (w − η·(‖w‖_F/‖g‖_F)·g)/√(1 + η²), a step of relative
/// size η in the Frobenius norm (the plain step when either norm is 0, as in the authors' code).
///
/// Frobenius-relative steps do not transfer across width: the spectral size of a step shrinks as layers widen
/// [Bernstein et al. 2023, Modula's "science of scale"]; the transfer study shows it.
public struct FromageRule: OptimizerRule {
    public init() {}

    public var name: String { "fromage" }

    public func update<S: TensorScalar>(
        _ w: inout Tensor<S>, gradient g: Tensor<S>, state: inout RuleState<S>, context: WeightContext
    ) {
        let eta = context.learningRate
        let wn = Double(w.frobeniusNormValue), gn = Double(g.frobeniusNormValue)
        w.addScaled(g, by: S(-eta * (wn > 0 && gn > 0 ? wn / gn : 1)))
        w.scaleInPlace(by: S(1 / (1 + eta * eta).squareRoot()))
    }
}
