#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Automatic gradient descent [Bernstein et al. 2023, arXiv 2304.05187]: a step size solved from the network's
/// structure and gradients each step, with no learning rate to tune.
///
/// For L layers with widths d₀…d_L: G = (1/L)·Σₗ ‖∇Wₗ‖_F·√(dₗ/dₗ₋₁), η = log((1 + √(1 + 4G))/2), and
/// Wₗ ← Wₗ − (η/L)·√(dₗ/dₗ₋₁)·∇Wₗ/‖∇Wₗ‖_F, with dₗ/dₗ₋₁ = fan-out/fan-in of the layer. The learning rate of the
/// context multiplies the step (1 gives the paper's rule). The paper pairs it with an orthogonal initialization
/// scaled by √(dₗ/dₗ₋₁) (`MLP`'s initialization).
public struct AGDRule: OptimizerRule {
    public init() {}

    public var name: String { "agd" }

    public func networkFactor<S: TensorScalar>(gradients: [Tensor<S>], contexts: [WeightContext]) -> Double {
        let layers = Double(Swift.max(contexts.count, 1))
        let g = zip(gradients, contexts).reduce(0.0) { sum, pair in
            sum + Double(pair.0.frobeniusNormValue) * (Double(pair.1.fanOut) / Double(pair.1.fanIn)).squareRoot()
        } / layers
        return log((1 + (1 + 4 * g).squareRoot()) / 2) / layers
    }

    public func update<S: TensorScalar>(
        _ w: inout Tensor<S>, gradient g: Tensor<S>, state: inout RuleState<S>, context: WeightContext
    ) {
        let norm = Double(g.frobeniusNormValue)
        guard norm > 0 else { return }
        let scale = (Double(context.fanOut) / Double(context.fanIn)).squareRoot()
        w.addScaled(g, by: S(-context.learningRate * context.networkFactor * scale / norm))
    }
}
