// Scale-robust normalization shared by the orthogonalizers.
//
// X₀ = G/‖G‖_F must not depend on the scale of G: an absolute ε in G/(‖G‖_F + ε) (Muon uses 1e-7)
// leaves a gradient of norm 1e-9 almost untouched instead of orthogonalizing it, and ε = 0 (Modula)
// returns NaN on G = 0. Squaring entries underflows for |g| < 1e-19 in Float and overflows above
// 1e19, so the norm is taken after dividing by the largest magnitude; only an exact zero is special.

enum MatrixScaling {
    /// The largest |x|, or nil when some entry is NaN or infinite.
    static func largestMagnitude<S: TensorScalar>(_ x: UnsafeBufferPointer<S>) -> S? {
        var largest = S(0)
        var finite = true
        for v in x {
            let a = v.magnitude
            finite = finite && a.isFinite
            largest = a > largest ? a : largest
        }
        return finite ? largest : nil
    }

    /// Writes `y = x / (‖x‖_F · safety)`, given `largest` = max|x| > 0 (see ``largestMagnitude(_:)``).
    static func normalize<S: TensorScalar>(
        _ x: UnsafeBufferPointer<S>, largest: S, into y: UnsafeMutableBufferPointer<S>, safety: S
    ) {
        require(largest > 0 && largest.isFinite, "normalize: needs 0 < max|x| < ∞, got \(largest)")
        let n = x.count
        var divisor = largest
        // y = x / max|x| lies in [-1, 1] with one entry of magnitude 1, so 1 ≤ Σy² ≤ n: no under/overflow.
        S.binary(.div, x.baseAddress!, 1, &divisor, 0, y.baseAddress!, n)
        let norm = S.sumOfSquares(UnsafePointer(y.baseAddress!), n).squareRoot()
        S.affine(UnsafePointer(y.baseAddress!), 1 / (norm * safety), 0, y.baseAddress!, n)
    }

    /// `g / max|g|`, and whether `g` is zero; nil when `g` has a non-finite entry.
    static func dividedByLargestMagnitude<S: TensorScalar>(_ g: Tensor<S>) -> (matrix: Tensor<S>, isZero: Bool)? {
        var out = Tensor<S>(uninitializedShape: g.shape)
        let largest: S? = g.withUnsafeBufferPointer { gp in
            guard let largest = largestMagnitude(gp) else { return nil }
            if largest > 0 {
                var divisor = largest
                out.withUnsafeMutableBufferPointer { op in
                    S.binary(.div, gp.baseAddress!, 1, &divisor, 0, op.baseAddress!, gp.count)
                }
            }
            return largest
        }
        guard let largest else { return nil }
        return largest == 0 ? (.zeros(g.shape), true) : (out, false)
    }
}
