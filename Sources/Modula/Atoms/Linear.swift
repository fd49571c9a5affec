/// A dense layer `y = x Wᵀ` with weight `[fanOut, fanIn]` (no bias: add a ``Bias`` when wanted).
///
/// By default its norm is the RMS→RMS operator norm √(in/out)·‖W‖₂ and its duality map
/// √(out/in)·UVᵀ (the polar factor of the gradient, from the chosen ``Orthogonalizer``); any norm of
/// ``MatrixNorm`` can be chosen instead. Initialization draws a Gaussian matrix and projects it: a
/// scaled orthogonal matrix for the spectral norms [Bernstein & Newhouse 2024, §3].
public struct Linear: Atom {
    /// Input features.
    public let fanIn: Int
    /// Output features.
    public let fanOut: Int
    /// The norm the weight is measured and dualized in.
    public let matrixNorm: MatrixNorm
    /// How the spectral norms' duality map UVᵀ is computed.
    public let orthogonalizer: any Orthogonalizer
    /// The atom's mass (1 unless chosen).
    public let mass: Double

    /// A dense layer from `fanIn` to `fanOut` features.
    ///
    /// - Precondition: `fanIn` and `fanOut` are positive. Stops with a message otherwise.
    public init(
        in fanIn: Int, out fanOut: Int, norm: MatrixNorm = .spectral,
        orthogonalizer: any Orthogonalizer = defaultOrthogonalizer, mass: Double = 1
    ) {
        require(fanIn > 0 && fanOut > 0, "Linear: dimensions must be positive, got in: \(fanIn), out: \(fanOut)")
        self.fanIn = fanIn
        self.fanOut = fanOut
        self.matrixNorm = norm
        self.orthogonalizer = orthogonalizer
        self.mass = mass
    }

    public var name: String { "Linear(\(fanIn)→\(fanOut)\(matrixNorm == .spectral ? "" : ", \(matrixNorm)"))" }
    public var weightShape: [Int] { [fanOut, fanIn] }

    public func apply<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>) throws -> Tensor<S> {
        try expectLastAxis(x, fanIn)
        return x.rank == 1
            ? x.reshaped([1, fanIn]).matmul(weight, transposeB: true).reshaped([fanOut])
            : x.matmul(weight, transposeB: true)
    }
    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> Tensor<S> {
        project(Tensor<S>.randomNormal(weightShape, using: &rng))
    }
    public func project<S: TensorScalar>(_ w: Tensor<S>) -> Tensor<S> { matrixNorm.project(w) }
    public func norm<S: TensorScalar>(_ w: Tensor<S>) -> S { matrixNorm.norm(w) }
    public func dualNorm<S: TensorScalar>(_ g: Tensor<S>) -> S { matrixNorm.dualNorm(g) }
    public func dualize<S: TensorScalar>(_ g: consuming Tensor<S>) -> Tensor<S> {
        matrixNorm.dualize(consume g, orthogonalizer: orthogonalizer)
    }

    /// A copy with another orthogonalizer.
    public func with(orthogonalizer: any Orthogonalizer) -> Linear {
        Linear(in: fanIn, out: fanOut, norm: matrixNorm, orthogonalizer: orthogonalizer, mass: mass)
    }
}
