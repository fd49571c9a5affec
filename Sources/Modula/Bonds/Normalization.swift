// Normalizations over the last axis [Large et al. 2024, §3].

/// Subtracts the mean over the last axis (sensitivity 1: an orthogonal projection).
public struct MeanSubtract: UnaryBond {
    /// The bond (it has no parameters).
    public init() {}
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
        guard x.rank >= 1 else { throw ModuleError(module: name, problem: "needs rank ≥ 1, got shape \(x.shape)") }
        return x - x.mean(alongAxis: -1, keepingDimensions: true)
    }
}

/// Divides by the root mean square over the last axis, x / √(mean(x²) + ε) (sensitivity 1 in RMS norm).
public struct RMSDivide: UnaryBond {
    /// Added to the mean square before the square root, for stability near zero.
    public let epsilon: Double
    /// The bond with stabilizer `epsilon`.
    public init(epsilon: Double = 1e-6) { self.epsilon = epsilon }
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
        guard x.rank >= 1 else { throw ModuleError(module: name, problem: "needs rank ≥ 1, got shape \(x.shape)") }
        return x / (x.squared().mean(alongAxis: -1, keepingDimensions: true) + S(epsilon)).sqrt()
    }
}

/// Layer normalization without gain or bias: ``RMSDivide`` after ``MeanSubtract`` (sensitivity 1).
public struct LayerNorm: UnaryBond {
    /// Added to the mean square before the square root, for stability near zero.
    public let epsilon: Double
    /// The bond with stabilizer `epsilon`.
    public init(epsilon: Double = 1e-6) { self.epsilon = epsilon }
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
        try RMSDivide(epsilon: epsilon).apply(try MeanSubtract().apply(x))
    }
}
