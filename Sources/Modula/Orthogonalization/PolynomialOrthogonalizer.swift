// Odd quintic matrix iterations X ← aX + b(XXᵀ)X + c(XXᵀ)²X [DESIGN §6].

/// The coefficients of one step `X ← a·X + b·(X Xᵀ) X + c·(X Xᵀ)² X`, which maps every singular
/// value σ of `X` to `p(σ) = a σ + b σ³ + c σ⁵` and leaves the singular vectors alone.
public struct QuinticStep: Sendable, Hashable, CustomStringConvertible {
    /// The linear coefficient.
    public var a: Double
    /// The cubic coefficient.
    public var b: Double
    /// The quintic coefficient.
    public var c: Double

    /// A step with the given coefficients.
    public init(_ a: Double, _ b: Double, _ c: Double) {
        self.a = a
        self.b = b
        self.c = c
    }

    /// `p(σ) = a σ + b σ³ + c σ⁵`, the step's action on one singular value.
    public func callAsFunction(_ sigma: Double) -> Double {
        let s2 = sigma * sigma
        return sigma * (a + s2 * (b + c * s2))
    }

    public var description: String { "(\(a), \(b), \(c))" }
}

/// An ``Orthogonalizer`` that runs a fixed schedule of odd quintic steps on `G / ‖G‖_F`.
///
/// Conforming types supply the ``schedule`` (and optionally a ``normalizationSafety``); the
/// protocol supplies ``Orthogonalizer/orthogonalize(_:)``. A custom schedule is one small type:
///
/// ```swift
/// struct NewtonSchulz3: PolynomialOrthogonalizer {   // the classical cubic (3/2, −1/2)
///     var name: String { "newton-schulz" }
///     var schedule: [QuinticStep] { Array(repeating: QuinticStep(1.5, -0.5, 0), count: 12) }
/// }
/// ```
///
/// The iteration works on the orientation with the smaller Gram matrix: for an m×n input with
/// k = min(m, n) and L = max(m, n), each step issues one SYRK for the Gram matrix A (k²L FLOPs),
/// one SYRK for `B = b·A + c·A²` (k³ FLOPs, as A is symmetric) and one SYMM/GEMM for X ← a·X + B·X
/// (2k²L FLOPs): 3k²L + k³ FLOPs, 4n³ for a square matrix (a plain GEMM version issues 6n³). Besides
/// the BLAS calls a step makes one pass over A (mirroring its triangle and copying it into B, on all
/// threads when large) and one over X (adding a·X).
/// X, two k×k work matrices and T are allocated once per call and reused by every step; a large X is
/// updated in place, one panel of 2²⁰ elements' worth of columns (rows when tall) at a time, so that T
/// holds one panel. Measured speeds are in the README (`modula-bench orthogonalize/…`).
public protocol PolynomialOrthogonalizer: Orthogonalizer {
    /// The steps, in the order they are applied.
    var schedule: [QuinticStep] { get }
    /// Extra divisor on the initial normalization, `X₀ = G / (‖G‖_F · normalizationSafety)`; 1 by default.
    var normalizationSafety: Double { get }
}

extension PolynomialOrthogonalizer {
    public var normalizationSafety: Double { 1 }

    /// Applies ``schedule`` to `g / (‖g‖_F · normalizationSafety)`.
    ///
    /// A zero matrix gives zeros; a matrix with a NaN or infinite entry gives all NaN (so that a broken
    /// gradient stays visible); any other matrix, however tiny or huge, gives the same result as its
    /// rescaled copies.
    ///
    /// - Precondition: `g` is a matrix (rank 2) whose largest entry is finite and nonzero. Stops with a message otherwise.
    public func orthogonalize<S: TensorScalar>(_ g: Tensor<S>) -> Tensor<S> {
        require(
            g.rank == 2,
            "\(name).orthogonalize: needs a matrix (rank 2), got shape \(g.shape); reshape convolution kernels or batches to matrices first")
        // A public generic called from another module (or through `any Orthogonalizer`) runs unspecialized,
        // with element loops through witness tables (STYLE: 10–100× slower). Route the two scalar types
        // to specialized copies of the kernel.
        if let g = g as? Tensor<Float> {
            return QuinticIteration.run(g, schedule: schedule, safety: Float(normalizationSafety)) as! Tensor<S>
        }
        if let g = g as? Tensor<Double> {
            return QuinticIteration.run(g, schedule: schedule, safety: normalizationSafety) as! Tensor<S>
        }
        return QuinticIteration.run(g, schedule: schedule, safety: S(normalizationSafety))
    }
}

enum QuinticIteration {
    static func run<S: TensorScalar>(
        _ g: Tensor<S>, schedule: [QuinticStep], safety: S, panelElements: Int = panelElements
    ) -> Tensor<S> {
        let (m, n) = (g.shape[0], g.shape[1])
        if m == 0 || n == 0 { return .zeros(g.shape) }
        // Wide (m ≤ n): A = X Xᵀ (m×m), X ← a X + B X.  Tall: A = Xᵀ X (n×n), X ← a X + X B.
        let wide = m <= n
        let k = wide ? m : n, long = wide ? n : m
        let largest = g.withUnsafeBufferPointer { MatrixScaling.largestMagnitude($0) }
        guard let largest else { return Tensor(repeating: .nan, shape: g.shape) }
        if largest == 0 { return .zeros(g.shape) }

        // Work buffers of the whole iteration: X, A and B, and T for the products B·X (X·B when tall).
        // A small X gets a full-size T, swapped with X each step. A large one is updated in place, one
        // panel of columns (rows when tall) at a time, so T holds one panel: each panel of B·X needs
        // only the same panel of X.
        let widest = Swift.max(64, panelElements / k)
        let blocked = long > widest
        let panels = (long + widest - 1) / widest
        let panel = Swift.min(long, ((long + panels - 1) / panels + 7) & ~7)  // equal panels, multiples of 8
        var x = Tensor<S>(uninitializedShape: [m, n])
        var t = Tensor<S>(uninitializedShape: blocked ? [k * panel] : [m, n])
        var gram = Tensor<S>(uninitializedShape: [k, k]), poly = Tensor<S>(uninitializedShape: [k, k])

        // X₀ = G / (‖G‖_F · safety).
        g.withUnsafeBufferPointer { gp in
            x.withUnsafeMutableBufferPointer { xp in
                MatrixScaling.normalize(gp, largest: largest, into: xp, safety: safety)
            }
        }

        var resultInT = false
        x.withUnsafeMutableBufferPointer { xb in
            t.withUnsafeMutableBufferPointer { tb in
                gram.withUnsafeMutableBufferPointer { ab in
                    poly.withUnsafeMutableBufferPointer { bb in
                        var cur = xb.baseAddress!, next = tb.baseAddress!
                        let A = ab.baseAddress!, B = bb.baseAddress!
                        for step in schedule {
                            let (a, b, c) = (S(step.a), S(step.b), S(step.c))
                            // A = X Xᵀ or Xᵀ X (upper triangle), then mirrored (SYRK below reads A as a general
                            // matrix), in the same pass copying A's upper triangle into B.
                            S.syrk(trans: !wide, n: k, k: long, alpha: 1, a: cur, lda: n, beta: 0, c: A, ldc: k)
                            mirrorUpper(A, k, copyingUpperTo: B)
                            // B = b·A + c·A², with A² = A Aᵀ by SYRK (upper triangle). (Folding a·I into B would
                            // save the a·X pass below, but in Float it lets rounding grow in the null space of
                            // rank-deficient inputs: 2.6e-3 instead of under 2e-3 after ten quintic steps.)
                            S.syrk(trans: false, n: k, k: k, alpha: c, a: A, lda: k, beta: b, c: B, ldc: k)
                            // BLAS SYMM with B on the right is not wrapped: the tall case uses GEMM on the full B.
                            if !wide { mirrorUpper(B, k) }
                            if !blocked {
                                if wide {  // next = B · X (SYMM reads B's upper triangle)
                                    S.symm(m: k, n: n, alpha: 1, a: B, lda: k, b: cur, ldb: n, beta: 0, c: next, ldc: n)
                                } else {  // next = X · B
                                    S.gemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1,
                                           a: cur, lda: n, b: B, ldb: k, beta: 0, c: next, ldc: n)
                                }
                                S.axpy(m * n, a, cur, next)  // next += a·X
                                swap(&cur, &next)
                                continue
                            }
                            var p0 = 0
                            while p0 < long {
                                let w = Swift.min(panel, long - p0)
                                if wide {  // T = B · X[:, p0..<p0+w] (k×w), then X[:, p0..<p0+w] = T + a·X[:, …]
                                    S.symm(m: k, n: w, alpha: 1, a: B, lda: k, b: cur + p0, ldb: n, beta: 0, c: next, ldc: w)
                                    for i in 0..<k {
                                        let row = cur + i * n + p0, ti = next + i * w
                                        S.axpy(w, a, row, ti)
                                        row.update(from: ti, count: w)
                                    }
                                } else {  // T = X[p0..<p0+w, :] · B (w×k), then those rows of X = T + a·X
                                    let rows = cur + p0 * n
                                    S.gemm(transA: false, transB: false, m: w, n: n, k: k, alpha: 1,
                                           a: rows, lda: n, b: B, ldb: k, beta: 0, c: next, ldc: n)
                                    S.axpy(w * n, a, rows, next)
                                    rows.update(from: next, count: w * n)
                                }
                                p0 += w
                            }
                        }
                        resultInT = cur == tb.baseAddress!
                    }
                }
            }
        }
        return resultInT ? t : x
    }

    /// Elements of one panel of T in the blocked update (4 MiB of Float). A 1024×1024 matrix fits in
    /// one panel; a 1024×4096 one is updated in four, saving 12 MiB. Narrower panels save more memory
    /// but cost speed: with 2¹⁸ elements, 1024² took 5–25 % longer here (SYMM on 256-column panels).
    static let panelElements = 1 << 20

    /// Copies the upper triangle of a k×k row-major matrix into its lower triangle, in cache-sized tiles,
    /// and, when `upper` is given, the upper triangle (with the diagonal) into that matrix too. Large
    /// matrices are done in bands of rows on all threads (bands write only their own rows' lower parts
    /// and read only upper parts, which nobody writes).
    static func mirrorUpper<S: TensorScalar>(
        _ p: UnsafeMutablePointer<S>, _ k: Int, copyingUpperTo upper: UnsafeMutablePointer<S>? = nil
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
}
