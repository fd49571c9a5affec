// The orthogonalizer protocol and its diagnostics: the polar factor as the spectral norm's duality map
// (Bernstein & Newhouse 2024, "Old optimizer, new norm").

/// A method that approximates the polar factor `U Vᵀ` of a matrix `G = U Σ Vᵀ`.
///
/// The polar factor is the duality map of the spectral norm: `dualize(G)` for a Linear atom is
/// `√(out/in)·U Vᵀ` (Bernstein & Newhouse 2024, "Modular Duality in Deep Learning"). Exact SVD is slow, so
/// optimizers use polynomial iterations (Newton–Schulz and its tuned variants) that push every nonzero
/// singular value towards 1 with matrix products only.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let g = Tensor<Float>.randomNormal([256, 784], using: &rng)
/// let o = PolarExpress().orthogonalize(g)               // singular values ≈ 1
/// let report = try PolarExpress().diagnostics(for: g)   // achieved σ range and error vs. SVD
/// ```
///
/// Every conforming type maps a zero matrix to zeros (never NaN), orthogonalizes a tiny nonzero
/// matrix exactly like its rescaled copy, and accepts matrices (rank 2) only.
public protocol Orthogonalizer: Sendable {
    /// Approximates the polar factor `U Vᵀ` of `g = U Σ Vᵀ` (same shape as `g`).
    ///
    /// `g` must be a matrix (rank 2): reshape convolution kernels or batches first. `g` is taken over: a method
    /// may compute the result in `g`'s memory when no other tensor shares it (pass `consume g` to allow that).
    func orthogonalize<S: TensorScalar>(_ g: consuming Tensor<S>) -> Tensor<S>
    /// A short identifier: `"muon5"`, `"six-step"`, `"quintic"`, `"polar-express"` or `"svd"`.
    var name: String { get }
}

/// How well an ``Orthogonalizer`` did on one matrix, measured with LAPACK's SVD (for tests and
/// diagnostics only: the SVD costs far more than the orthogonalization).
public struct OrthogonalizationDiagnostics<Scalar: TensorScalar>: Sendable, CustomStringConvertible {
    /// The method's ``Orthogonalizer/name``.
    public var method: String
    /// Numerical rank r of the input: singular values above `max(m, n)·ε·σ₁` count as nonzero.
    public var rank: Int
    /// Smallest of the result's r largest singular values (the image of the input's nonzero part).
    public var minSingularValue: Scalar
    /// Largest singular value of the result.
    public var maxSingularValue: Scalar
    /// Largest singular value of the result beyond the first r (what leaked into the input's null
    /// space); 0 when the input has full rank.
    public var nullSpaceSingularValue: Scalar
    /// `‖O − Uᵣ Vᵣᵀ‖_F / ‖Uᵣ Vᵣᵀ‖_F` against the exact polar factor of the nonzero part; 0 for a zero input.
    public var relativeError: Scalar

    public var description: String {
        "\(method): rank \(rank), σ ∈ [\(minSingularValue), \(maxSingularValue)], "
            + "null-space σ \(nullSpaceSingularValue), relative error \(relativeError)"
    }
}

extension Orthogonalizer {
    /// Orthogonalizes `g` and measures the result against the exact polar factor (through SVD).
    ///
    /// - Throws: `LinearAlgebraError` (from ModulaTensor) when LAPACK's SVD fails to converge.
    ///
    /// - Precondition: `g` is a matrix (rank 2). Stops with a message otherwise.
    public func diagnostics<S: TensorScalar>(for g: Tensor<S>) throws -> OrthogonalizationDiagnostics<S> {
        require(g.rank == 2, "\(name).diagnostics: needs a matrix (rank 2), got shape \(g.shape)")
        let o = orthogonalize(g)
        let (exact, rank) = try exactPolarFactor(g)
        let sigma = try o.singularValues()
        let head = sigma.prefix(rank), tail = sigma.dropFirst(rank)
        let difference = (o - exact).frobeniusNormValue
        return OrthogonalizationDiagnostics(
            method: name,
            rank: rank,
            minSingularValue: head.min() ?? 0,
            maxSingularValue: sigma.first ?? 0,
            nullSpaceSingularValue: tail.max() ?? 0,
            relativeError: rank == 0 ? difference : difference / S(rank).squareRoot())
    }
}

/// The exact polar factor `Uᵣ Vᵣᵀ` of a matrix's nonzero part, through LAPACK's SVD, with the numerical rank r.
///
/// Singular values at or below `max(m, n)·ε·σ₁` are treated as zero, so a rank-deficient matrix gets a
/// partial isometry whose null space is the input's (the limit of every polynomial iteration), and a
/// zero matrix gets zeros. Non-finite inputs give an all-NaN result.
///
/// - Throws: `LinearAlgebraError` (from ModulaTensor) when LAPACK's SVD fails to converge.
///
/// - Precondition: `g` is a matrix (rank 2). Stops with a message otherwise.
public func exactPolarFactor<S: TensorScalar>(_ g: Tensor<S>) throws -> (factor: Tensor<S>, rank: Int) {
    require(g.rank == 2, "exactPolarFactor: needs a matrix (rank 2), got shape \(g.shape)")
    let (m, n) = (g.shape[0], g.shape[1])
    // Rescaling by the largest magnitude first keeps tiny and huge matrices in LAPACK's comfortable range.
    guard let x = MatrixScaling.dividedByLargestMagnitude(g) else {
        return (Tensor(repeating: .nan, shape: g.shape), 0)
    }
    if x.isZero { return (.zeros(g.shape), 0) }
    let (u, s, vt) = try x.matrix.svd()
    let sigma = s.scalars
    let tolerance = S(Swift.max(m, n)) * S.ulpOfOne * sigma[0]
    let rank = sigma.prefix { $0 > tolerance }.count
    // Uᵣ is the first r columns of u (m×k), Vᵣᵀ the first r rows of vt (k×n).
    let out = u.slice(axis: 1, 0..<rank).matmul(vt.slice(axis: 0, 0..<rank))
    return (out, rank)
}
