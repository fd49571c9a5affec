/// Composition: the modules run one after another, the first one first.
///
/// For modules M₁ … Mₙ (M₁ first) with masses μᵢ, sensitivities νᵢ and total mass μ, and Dᵢ the product of
/// the sensitivities of the modules after Mᵢ:
/// - mass μ = Σ μᵢ and sensitivity Π νᵢ;
/// - norm ‖w‖ = maxᵢ (μ/μᵢ)·Dᵢ·‖wᵢ‖ over modules with μᵢ > 0;
/// - dualize gives Mᵢ the target t·(μᵢ/μ)/Dᵢ.
/// This is the binary rule of [Large et al. 2024, Def. 3] folded over the chain.
///
/// ```swift
/// let mlp = Sequential {          // a chain written as a list, first module first
///     Linear(in: 784, out: 256); ReLU()
///     Linear(in: 256, out: 10)
/// }
/// ```
public struct Sequential: ListCombinator {
    /// The modules in execution order.
    public let modules: [any Module]
    /// The number of weight tensors of each module.
    public let weightCounts: [Int]

    /// A chain of modules in execution order (first listed runs first).
    public init(_ modules: [any Module]) {
        self.modules = modules
        weightCounts = modules.map(\.weightCount)
    }

    public var name: String { "Sequential" }
    public var mass: Double { modules.reduce(0) { $0 + $1.mass } }
    public var sensitivity: Double { modules.reduce(1) { $0 * $1.sensitivity } }

    /// (μ/μᵢ)·Dᵢ for each module: the factor on its norm in the composite norm.
    public var scales: [Double] {
        let mu = mass
        var downstream = 1.0
        var out = [Double](repeating: 0, count: modules.count)
        for i in stride(from: modules.count - 1, through: 0, by: -1) {
            let mi = modules[i].mass
            out[i] = mi > 0 ? (mu / mi) * downstream : 0
            downstream *= modules[i].sensitivity
        }
        return out
    }

    public func forward<S: TensorScalar>(_ inputs: [Tensor<S>], weights: ArraySlice<Tensor<S>>) throws -> [Tensor<S>] {
        var x = inputs
        for ((label, m), w) in zip(children, split(weights, weightCounts, name)) {
            x = try within(label) { try m.forward(x, weights: w) }
        }
        return x
    }

    public func dualizeInPlace<S: TensorScalar>(_ g: inout [Tensor<S>], _ range: Range<Int>, targetNorm: S) {
        combinedDualizeInPlace(modules, &g, range, weightCounts, scales, targetNorm, name)
    }
}
