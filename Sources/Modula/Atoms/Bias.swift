/// A learned vector added to the last axis: `y = x + b`.
///
/// Norm RMS(b) (duality map g/RMS(g), Scion's BiasRMS) or ℓ∞ (duality map sign(g)); initialized to zero.
public struct Bias: Atom {
    /// The vector norm: RMS (duality map g/RMS(g)) or ℓ∞ (duality map sign(g)).
    public enum Norm: String, Sendable, Codable { case rms, infinity }
    /// Length of the vector (the last axis of the input).
    public let width: Int
    /// The norm the vector is measured and dualized in.
    public let vectorNorm: Norm
    /// The atom's mass (1 unless chosen).
    public let mass: Double

    /// A bias of length `width`.
    ///
    /// - Precondition: `width` is positive. Stops with a message otherwise.
    public init(_ width: Int, norm: Norm = .rms, mass: Double = 1) {
        require(width > 0, "Bias: width must be positive, got \(width)")
        self.width = width
        self.vectorNorm = norm
        self.mass = mass
    }

    public var name: String { "Bias(\(width))" }
    public var weightShape: [Int] { [width] }

    public func apply<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>) throws -> Tensor<S> {
        try expectLastAxis(x, width)
        return x + weight
    }
    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> Tensor<S> { .zeros([width]) }
    public func project<S: TensorScalar>(_ w: Tensor<S>) -> Tensor<S> { vectorNormProject(w, vectorNorm) }
    public func norm<S: TensorScalar>(_ w: Tensor<S>) -> S { vectorNormValue(w, vectorNorm) }
    public func dualNorm<S: TensorScalar>(_ g: Tensor<S>) -> S { vectorDualNorm(g, vectorNorm) }
    public func dualize<S: TensorScalar>(_ g: Tensor<S>) -> Tensor<S> { vectorDualize(g, vectorNorm) }
}

/// A learned vector multiplying the last axis: `y = x ⊙ g` (a gain, as in a normalization layer).
///
/// Same norms as ``Bias``; initialized to ones. Its input sensitivity is 1 at initialization (‖g‖∞ = 1).
public struct Gain: Atom {
    /// Length of the vector (the last axis of the input).
    public let width: Int
    /// The norm the vector is measured and dualized in.
    public let vectorNorm: Bias.Norm
    /// The atom's mass (1 unless chosen).
    public let mass: Double

    /// A gain of length `width`.
    ///
    /// - Precondition: `width` is positive. Stops with a message otherwise.
    public init(_ width: Int, norm: Bias.Norm = .infinity, mass: Double = 1) {
        require(width > 0, "Gain: width must be positive, got \(width)")
        self.width = width
        self.vectorNorm = norm
        self.mass = mass
    }

    public var name: String { "Gain(\(width))" }
    public var weightShape: [Int] { [width] }

    public func apply<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>) throws -> Tensor<S> {
        try expectLastAxis(x, width)
        return x * weight
    }
    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> Tensor<S> { .ones([width]) }
    public func norm<S: TensorScalar>(_ w: Tensor<S>) -> S { vectorNormValue(w, vectorNorm) }
    public func dualNorm<S: TensorScalar>(_ g: Tensor<S>) -> S { vectorDualNorm(g, vectorNorm) }
    public func dualize<S: TensorScalar>(_ g: Tensor<S>) -> Tensor<S> { vectorDualize(g, vectorNorm) }
}

func vectorNormValue<S: TensorScalar>(_ w: Tensor<S>, _ n: Bias.Norm) -> S {
    switch n {
    case .rms: return (w.squaredNormValue / S(w.count)).squareRoot()
    case .infinity: return w.count == 0 ? 0 : w.abs().max()
    }
}
func vectorDualNorm<S: TensorScalar>(_ g: Tensor<S>, _ n: Bias.Norm) -> S {
    switch n {
    case .rms: return g.squaredNormValue.squareRoot() * S(g.count).squareRoot()
    case .infinity: return g.abs().sum().scalar
    }
}
func vectorDualize<S: TensorScalar>(_ g: Tensor<S>, _ n: Bias.Norm) -> Tensor<S> {
    switch n {
    case .rms:
        let rms = (g.squaredNormValue / S(g.count)).squareRoot()
        return rms > 0 ? g * (1 / rms) : .zeros(g.shape)
    case .infinity: return g.sign()
    }
}
func vectorNormProject<S: TensorScalar>(_ w: Tensor<S>, _ n: Bias.Norm) -> Tensor<S> {
    // Biases start at zero; projection keeps them inside the unit ball.
    let v = vectorNormValue(w, n)
    return v > 1 ? w * (1 / v) : w
}
