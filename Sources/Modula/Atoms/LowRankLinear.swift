/// A dense layer of rank at most `rank`, `y = x (UV)ᵀ`, kept as its two factors: `u` `[fanOut, rank]` and
/// `v` `[rank, fanIn]` (an atom with two weights).
///
/// The atom has the norm and duality map of the composition of two ``Linear`` layers of mass ½ each, x ↦ Vx
/// (fanIn → rank) then ↦ Uy (rank → fanOut), so that it is well-normed for the reason every composition is
/// [Large et al. 2024, §3]. With the RMS→RMS operator norms ‖V‖ = √(fanIn/rank)·‖V‖₂ and
/// ‖U‖ = √(rank/fanOut)·‖U‖₂ [Bernstein & Newhouse 2024, §3]:
///
/// - norm ‖(U, V)‖ = 2·max(‖U‖, ‖V‖): a change of the output is at most ‖ΔU‖·‖V‖ + ‖U‖·‖ΔV‖ ≤ ‖ΔU‖ + ‖ΔV‖
///   while both factors have norm ≤ 1, and that is at most 2·max(‖ΔU‖, ‖ΔV‖);
/// - dual norm ½·(√(fanOut/rank)·‖G_U‖_* + √(rank/fanIn)·‖G_V‖_*), with ‖·‖_* the nuclear norm;
/// - duality map (½·√(fanOut/rank)·polar(G_U), ½·√(rank/fanIn)·polar(G_V)), each factor's polar factor from the
///   chosen ``Orthogonalizer``: the unit-norm pair that attains the dual norm, and zero for a zero gradient;
/// - initialization and projection: each factor a Gaussian matrix projected to RMS→RMS norm 1 (a scaled
///   semi-orthogonal matrix), so that ‖UV‖ ≤ 1 and the input sensitivity is 1.
///
/// ```swift
/// let net = Sequential {
///     LowRankLinear(in: 784, out: 256, rank: 32).named("compress"); ReLU()
///     Linear(in: 256, out: 10)
/// }
/// net.weightNames   // ["compress.u", "compress.v", "2.weight"]
/// ```
public struct LowRankLinear: MatrixAtom {
    /// Input features.
    public let fanIn: Int
    /// Output features.
    public let fanOut: Int
    /// The inner dimension of the factorization: the largest rank of UV.
    public let rank: Int
    /// How the factors' polar factors are computed in the duality map.
    public let orthogonalizer: any Orthogonalizer
    /// The atom's mass (1 unless chosen).
    public let mass: Double

    /// A layer from `fanIn` to `fanOut` features through `rank` inner features.
    ///
    /// - Precondition: `fanIn`, `fanOut` and `rank` are positive. Stops with a message otherwise.
    public init(
        in fanIn: Int, out fanOut: Int, rank: Int, orthogonalizer: any Orthogonalizer = defaultOrthogonalizer,
        mass: Double = 1
    ) {
        require(fanIn > 0 && fanOut > 0 && rank > 0,
                "LowRankLinear: dimensions must be positive, got in: \(fanIn), out: \(fanOut), rank: \(rank)")
        self.fanIn = fanIn
        self.fanOut = fanOut
        self.rank = rank
        self.orthogonalizer = orthogonalizer
        self.mass = mass
    }

    public var name: String { "LowRankLinear(\(fanIn)→\(fanOut), rank \(rank))" }
    public var weightNames: [String] { ["u", "v"] }
    public var weightShapes: [[Int]] { [[fanOut, rank], [rank, fanIn]] }

    public func apply<S: TensorScalar>(_ x: Tensor<S>, weights w: [Tensor<S>]) throws -> Tensor<S> {
        try expectLastAxis(x, fanIn)
        let rows = x.rank == 1 ? x.reshaped([1, fanIn]) : x
        let y = rows.matmul(w[1], transposeB: true).matmul(w[0], transposeB: true)
        return x.rank == 1 ? y.reshaped([fanOut]) : y
    }
    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> [Tensor<S>] {
        let u = Tensor<S>.randomNormal([fanOut, rank], using: &rng), v = Tensor<S>.randomNormal([rank, fanIn], using: &rng)
        return project(weights: [u, v])
    }
    public func project<S: TensorScalar>(weights w: [Tensor<S>]) -> [Tensor<S>] { w.map { MatrixNorm.spectral.project($0) } }
    public func norm<S: TensorScalar>(weights w: [Tensor<S>]) -> S {
        let (nu, nv) = (MatrixNorm.spectral.norm(w[0]), MatrixNorm.spectral.norm(w[1]))
        return 2 * (nu > nv || nu.isNaN ? nu : nv)  // Swift.max would drop a NaN norm
    }
    public func dualNorm<S: TensorScalar>(gradients g: [Tensor<S>]) -> S {
        (MatrixNorm.spectral.dualNorm(g[0]) + MatrixNorm.spectral.dualNorm(g[1])) / 2
    }
    public func dualize<S: TensorScalar>(gradients g: consuming [Tensor<S>]) -> [Tensor<S>] {
        var out: [Tensor<S>] = []
        for k in g.indices {
            var d = MatrixNorm.spectral.dualize(g[k].take(), orthogonalizer: orthogonalizer)
            d.scaleInPlace(by: S(0.5))
            out.append(d)
        }
        return out
    }
}
