// The bonds the combinators are built from: `Identity` (a residual's skip), `Add` (after a ``Sum``'s branches)
// and `Mul` (after a ``Scaled`` module) [Large et al. 2024, §3].

/// The identity map (sensitivity 1).
public struct Identity: Bond {
    /// The bond (it has no parameters).
    public init() {}
    public func apply<S: TensorScalar>(_ inputs: [Tensor<S>]) throws -> [Tensor<S>] { inputs }
}

/// The sum of all inputs (sensitivity 1: the norm of a tuple is the sum of its parts' norms).
public struct Add: Bond {
    /// The bond (it has no parameters).
    public init() {}
    public func apply<S: TensorScalar>(_ inputs: [Tensor<S>]) throws -> [Tensor<S>] {
        guard let first = inputs.first else { throw ModuleError(module: name, problem: "expected at least 1 input, got 0") }
        for x in inputs where x.shape != first.shape {
            throw ModuleError(module: name, problem: "inputs must have equal shapes, got \(inputs.map(\.shape))")
        }
        return [inputs.dropFirst().reduce(first, +)]
    }
}

/// Multiplication by a constant (sensitivity |a|).
public struct Mul: UnaryBond {
    /// The constant multiplying the input.
    public let factor: Double
    /// Multiplication by `factor`.
    public init(_ factor: Double) { self.factor = factor }
    public var name: String { "Mul(\(formatNumber(factor)))" }
    public var sensitivity: Double { Swift.abs(factor) }
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> { x * S(factor) }
}
