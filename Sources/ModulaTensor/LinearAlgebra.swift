// SVD, symmetric eigendecomposition and matrix norms through LAPACK.

/// A failure reported by LAPACK.
public struct LinearAlgebraError: Error, CustomStringConvertible {
    /// The LAPACK routine.
    public let routine: String
    /// LAPACK's `info` code.
    public let info: Int
    public var description: String { "\(routine) failed to converge (info = \(info))" }
}

extension Tensor {
    /// The thin singular value decomposition `self = u · diag(s) · vt` of a matrix (LAPACK `?gesdd`).
    ///
    /// For an m×n matrix with k = min(m, n): `u` is m×k, `s` has k values in descending order, `vt` is k×n.
    ///
    /// - Precondition: a matrix (rank 2). Stops with a message otherwise.
    public func svd() throws -> (u: Tensor, s: Tensor, vt: Tensor) {
        require(rank == 2, "svd: needs a matrix, got shape \(shape)")
        let (m, n) = (shape[0], shape[1]), k = Swift.min(m, n)
        // Row-major A is column-major Aᵀ (n×m). With Aᵀ = U'ΣV'ᵀ, A = V'ΣU'ᵀ, and LAPACK's
        // column-major U' (n×k) is exactly row-major Vᵀ (k×n); its V'ᵀ (k×m) is row-major U (m×k).
        var a = self.detached
        a.makeUnique()
        var s = Tensor(uninitializedShape: [k]), vt = Tensor(uninitializedShape: [k, n]), u = Tensor(uninitializedShape: [m, k])
        if k == 0 { return (Tensor.zeros([m, 0]), Tensor.zeros([0]), Tensor.zeros([0, n])) }
        // `a` is not used after the call: keep its storage alive through it.
        let info = withExtendedLifetime(a) {
            Scalar.gesdd(
                m: n, n: m, a: a.storage.pointer, s: s.storage.pointer,
                u: vt.storage.pointer, ldu: n, vt: u.storage.pointer, ldvt: k)
        }
        if info != 0 { throw LinearAlgebraError(routine: "\(Scalar.self == Float.self ? "s" : "d")gesdd", info: info) }
        s.node = nil
        return (u, s, vt)
    }

    /// Eigenvalues (ascending) and eigenvectors (as columns) of a symmetric matrix (LAPACK `?syevd`).
    ///
    /// - Precondition: a square matrix. Stops with a message otherwise.
    public func symmetricEigen() throws -> (values: Tensor, vectors: Tensor) {
        require(rank == 2 && shape[0] == shape[1], "symmetricEigen: needs a square matrix, got shape \(shape)")
        let n = shape[0]
        var a = self.detached
        a.makeUnique()
        var w = Tensor(uninitializedShape: [n])
        let info = Scalar.syevd(n: n, a: a.storage.pointer, w: w.storage.pointer)
        if info != 0 { throw LinearAlgebraError(routine: "\(Scalar.self == Float.self ? "s" : "d")syevd", info: info) }
        w.node = nil
        // LAPACK leaves eigenvector j in column j (column-major), i.e. row j of the row-major buffer.
        return (w, a.transposed())
    }

    /// The Frobenius norm, differentiable (a rank-0 tensor).
    public func frobeniusNorm() -> Tensor { squared().sum().sqrt() }

    /// The Frobenius norm as a number (not recorded).
    public var frobeniusNormValue: Scalar { squaredNormValue.squareRoot() }

    /// The largest singular value of a matrix (through SVD; not recorded).
    public func spectralNorm() throws -> Scalar {
        if count == 0 { return 0 }
        return try svd().s[0]  // not `.storage.pointer[0]`: the temporary could be freed before the read
    }

    /// Singular values of a matrix in descending order (not recorded).
    public func singularValues() throws -> [Scalar] { try svd().s.scalars }

    /// Stable rank ‖A‖²_F / ‖A‖²₂ of a matrix (0 for a zero matrix).
    public func stableRank() throws -> Scalar {
        let s = try spectralNorm()
        return s == 0 ? 0 : squaredNormValue / (s * s)
    }
}
