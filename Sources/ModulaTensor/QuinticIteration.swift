// Odd quintic matrix iterations X ← aX + b(XXᵀ)X + c(XXᵀ)²X: the Newton–Schulz iterations of Muon
// (Jordan et al. 2024) and their tuned schedules, which approximate the polar factor, the duality map of
// the spectral norm (Bernstein & Newhouse 2024, "Old optimizer, new norm").

extension Tensor {
    /// Runs odd quintic steps `X ← a·X + b·(X Xᵀ) X + c·(X Xᵀ)² X` from `X₀ = self / (‖self‖_F · safety)`.
    ///
    /// Each step maps every singular value σ of X to `aσ + bσ³ + cσ⁵` and keeps the singular vectors. A
    /// zero matrix gives zeros, a matrix with a NaN or infinite entry all NaN, any other the same result
    /// as its rescaled copies (the normalization divides by the largest magnitude first).
    ///
    /// The iteration works on the orientation with the smaller Gram matrix: for an m×n input with
    /// k = min(m, n) and L = max(m, n), each step issues one SYRK for the Gram matrix A (k²L FLOPs), one
    /// SYRK for `B = b·A + c·A²` (k³ FLOPs, as A is symmetric) and one SYMM/GEMM for X ← a·X + B·X
    /// (2k²L FLOPs): 3k²L + k³ FLOPs, 4n³ for a square matrix (a plain GEMM version issues 6n³).
    ///
    /// Memory: the result X is `self`'s own memory when no other tensor shares it (the caller handed it over with
    /// `consume`, as the optimizer does with a gradient it owns), otherwise a new tensor; besides X, two k×k matrices for the whole iteration, allocated once and reused
    /// by every step. X is updated in place, one panel of columns (rows when tall) at a time: each panel
    /// of B·X needs only the same panel of X, and A is free once B is formed, so the panels of B·X are
    /// written into A's memory (panels at most k wide). Only when that would make panels narrower than 64,
    /// or a separate panel buffer is small anyway (2¹⁴ elements or fewer), is one allocated. Measured
    /// speeds are in the README (`modula-bench orthogonalize/…`).
    ///
    /// - Parameter panelElements: the most elements of one panel (4 MiB of Float by default): a 1024×1024
    ///   matrix is one panel, a 1024×4096 one four. (Narrower panels cost speed: 1024² on 256-column
    ///   panels took 5–25 % longer here.)
    /// - Precondition: a matrix (rank 2).
    package consuming func quinticIteration(
        _ steps: [(a: Double, b: Double, c: Double)], safety: Scalar, panelElements: Int = 1 << 20
    ) -> Tensor {
        require(rank == 2, "quinticIteration: needs a matrix (rank 2), got shape \(shape)")
        let (m, n) = (shape[0], shape[1])
        if m == 0 || n == 0 { return .zeros(shape) }
        guard let largest = MatrixScaling.largestMagnitude(self) else { return Tensor(repeating: .nan, shape: shape) }
        if largest == 0 { return .zeros(shape) }
        var x = consume self
        MatrixScaling.normalize(&x, largest: largest, safety: safety)

        // Wide (m ≤ n): A = X Xᵀ (m×m), X ← a X + B X.  Tall: A = Xᵀ X (n×n), X ← a X + X B.
        let wide = m <= n
        let k = wide ? m : n, long = wide ? n : m
        var width = Swift.min(long, Swift.max(64, panelElements / k))  // columns (rows when tall) per panel
        let separate = k < 64 || k * width <= 1 << 14
        if !separate { width = Swift.min(width, k) }  // panels of B·X fit in A
        let panels = (long + width - 1) / width
        let panel = Swift.min(width, ((long + panels - 1) / panels + 7) & ~7)  // equal panels, multiples of 8
        let gram = Tensor(uninitializedShape: [k, k]), poly = Tensor(uninitializedShape: [k, k])
        let buffer = separate ? Tensor(uninitializedShape: [k * panel]) : gram

        withExtendedLifetime((gram, poly, buffer)) {
            let X = x.storage.pointer, A = gram.storage.pointer, B = poly.storage.pointer, T = buffer.storage.pointer
            for step in steps {
                let (a, b, c) = (Scalar(step.a), Scalar(step.b), Scalar(step.c))
                // A = X Xᵀ or Xᵀ X (upper triangle), then mirrored (SYRK below reads A as a general matrix),
                // in the same pass copying A's upper triangle into B.
                Scalar.syrk(trans: !wide, n: k, k: long, alpha: 1, a: X, lda: n, beta: 0, c: A, ldc: k)
                Scalar._kernels.mirrorUpper(A, k, B)
                // B = b·A + c·A², with A² = A Aᵀ by SYRK (upper triangle). (Folding a·I into B would save the
                // a·X pass below, but in Float it lets rounding grow in the null space of rank-deficient
                // inputs: 2.6e-3 instead of under 2e-3 after ten quintic steps.)
                Scalar.syrk(trans: false, n: k, k: k, alpha: c, a: A, lda: k, beta: b, c: B, ldc: k)
                // BLAS SYMM with B on the right is not wrapped: the tall case uses GEMM on the full B.
                if !wide { Scalar._kernels.mirrorUpper(B, k, nil) }
                var p0 = 0
                while p0 < long {
                    let w = Swift.min(panel, long - p0)
                    if wide {  // T = B · X[:, p0..<p0+w] (k×w), then X[:, p0..<p0+w] = T + a·X[:, …]
                        Scalar.symm(m: k, n: w, alpha: 1, a: B, lda: k, b: X + p0, ldb: n, beta: 0, c: T, ldc: w)
                        inChunks(k, Swift.max(2, cheapChunk / w)) { i0, count in  // bands of rows, large ones on two threads
                            for i in i0..<i0 + count {
                                let row = X + i * n + p0, ti = T + i * w
                                Scalar.axpy(w, a, row, ti)
                                Scalar.copy(ti, row, w)
                            }
                        }
                    } else {  // T = X[p0..<p0+w, :] · B (w×k), then those rows of X = T + a·X
                        let rows = X + p0 * n
                        Scalar.gemm(transA: false, transB: false, m: w, n: n, k: k, alpha: 1,
                                    a: rows, lda: n, b: B, ldb: k, beta: 0, c: T, ldc: n)
                        inChunks(w * n, cheapChunk) { e0, count in
                            Scalar.axpy(count, a, rows + e0, T + e0)
                            Scalar.copy(T + e0, rows + e0, count)
                        }
                    }
                    p0 += w
                }
            }
        }
        return x
    }
}

/// The largest |x| of `n` elements, or nil when some entry is NaN or infinite.
func largestMagnitudeKernel<S: TensorScalar>(_ x: UnsafePointer<S>, _ n: Int) -> S? {
    var largest = S(0)
    var finite = true
    for i in 0..<n {
        let a = x[i].magnitude
        finite = finite && a.isFinite
        largest = a > largest ? a : largest
    }
    return finite ? largest : nil
}

/// Copies the upper triangle of a k×k row-major matrix into its lower triangle, in cache-sized tiles,
/// and, when `upper` is given, the upper triangle (with the diagonal) into that matrix too. Large
/// matrices are done in bands of rows on all threads (bands write only their own rows' lower parts
/// and read only upper parts, which nobody writes).
@inline(__always)
func mirrorUpperKernel<S: TensorScalar>(
    _ p: UnsafeMutablePointer<S>, _ k: Int, copyingUpperTo upper: UnsafeMutablePointer<S>?
) {
    let tile = 32
    let bands = (k + tile - 1) / tile
    func band(_ t: Int) {
        let i0 = t * tile, i1 = Swift.min(i0 + tile, k)
        var j0 = 0
        while j0 <= i0 {
            let j1 = Swift.min(j0 + tile, k)
            for i in i0..<i1 {
                let row = p + i * k
                for j in j0..<Swift.min(j1, i) { row[j] = p[j * k + i] }
            }
            j0 += tile
        }
        if let upper {
            for i in i0..<i1 { (upper + i * k + i).update(from: p + i * k + i, count: k - i) }
        }
    }
    if k >= 256 {
        parallelForEach(bands, band)
    } else {
        for t in 0..<bands { band(t) }
    }
}
