/// The sum of several modules' outputs: `Add` after a ``Parallel``, with the tuple's rules.
public struct Sum: Module {
    /// The summands.
    public let branches: Parallel
    /// The sum of `modules`' outputs (each must produce one tensor of the same shape).
    public init(_ modules: [any Module]) { branches = Parallel(modules) }

    public var name: String { "Sum" }
    public var mass: Double { branches.mass }
    public var sensitivity: Double { branches.sensitivity * Add().sensitivity }
    public var children: [(label: String, module: any Module)] { branches.children }

    public func forward<S: TensorScalar>(_ inputs: [Tensor<S>], weights: ArraySlice<Tensor<S>>) throws -> [Tensor<S>] {
        // Add after the tuple, with the constant of each scaling branch (a residual's 1 − α and α)
        // folded into one weighted sum: one pass instead of a scaling pass per branch and the sum.
        var terms: [Tensor<S>] = [], factors: [S] = []
        for ((label, m), w) in zip(branches.children, split(weights, branches.weightCounts, name)) {
            if let scaled = m as? any ForwardingModule, scaled.outputFactor != 1 {
                let out = try within(label) { try scaled.module.forward(inputs, weights: w) }
                guard out.count == 1 else { return try within(label) { try Mul(scaled.outputFactor).apply(out) } }  // its error
                terms.append(out[0]); factors.append(S(scaled.outputFactor))
            } else {
                let out = try within(label) { try m.forward(inputs, weights: w) }
                terms += out; factors += Array(repeating: 1, count: out.count)
            }
        }
        guard let first = terms.first, terms.allSatisfy({ $0.shape == first.shape }) else {
            return try Add().apply(terms)  // its error
        }
        return [Tensor.linearCombination(terms, coefficients: factors)]
    }
    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> [Tensor<S>] { branches.initialize(using: &rng) }
    public func project<S: TensorScalar>(_ w: ArraySlice<Tensor<S>>) -> [Tensor<S>] { branches.project(w) }
    public func norm<S: TensorScalar>(_ w: ArraySlice<Tensor<S>>) -> S { branches.norm(w) }
    public func dualNorm<S: TensorScalar>(_ g: ArraySlice<Tensor<S>>) -> S { branches.dualNorm(g) }
    public func dualize<S: TensorScalar>(_ g: ArraySlice<Tensor<S>>, targetNorm: S) -> [Tensor<S>] {
        branches.dualize(g, targetNorm: targetNorm)
    }
    public func dualizeInPlace<S: TensorScalar>(_ g: inout [Tensor<S>], _ range: Range<Int>, targetNorm: S) {
        branches.dualizeInPlace(&g, range, targetNorm: targetNorm)
    }
}
