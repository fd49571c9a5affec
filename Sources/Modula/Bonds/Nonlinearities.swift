// Elementwise nonlinearities, each 1-Lipschitz [Large et al. 2024, §3].

/// max(x, 0) (sensitivity 1); NaN stays NaN.
public struct ReLU: UnaryBond {
    /// The bond (it has no parameters).
    public init() {}
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> { x.relu() }
}

/// GELU divided by its largest slope 1.1289, so that its sensitivity is 1 (as in Modula).
public struct GELU: UnaryBond {
    /// The bond (it has no parameters).
    public init() {}
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> { x.gelu(scaledBy: S(1 / 1.1289)) }
}

/// |x| (sensitivity 1).
public struct Abs: UnaryBond {
    /// The bond (it has no parameters).
    public init() {}
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> { x.abs() }
}
