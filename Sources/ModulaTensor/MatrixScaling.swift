// Scale-robust normalization for the orthogonalizers.
//
// X₀ = G/‖G‖_F must not depend on the scale of G: an absolute ε in G/(‖G‖_F + ε) (Muon uses 1e-7)
// leaves a gradient of norm 1e-9 almost untouched instead of orthogonalizing it, and ε = 0 (Modula)
// returns NaN on G = 0. Squaring entries underflows for |g| < 1e-19 in Float and overflows above
// 1e19, so the norm is taken after dividing by the largest magnitude; only an exact zero is special.

package enum MatrixScaling {
    /// The largest |x|, or nil when some entry is NaN or infinite.
    package static func largestMagnitude<S: TensorScalar>(_ x: Tensor<S>) -> S? {
        S._kernels.largestMagnitude(x.storage.pointer, x.count)
    }

    /// `x / (‖x‖_F · safety)`, given `largest` = max|x| > 0 (see ``largestMagnitude(_:)``).
    package static func normalized<S: TensorScalar>(_ x: Tensor<S>, largest: S, safety: S) -> Tensor<S> {
        require(largest > 0 && largest.isFinite, "normalize: needs 0 < max|x| < ∞, got \(largest)")
        let out = Tensor<S>(uninitializedShape: x.shape)
        withExtendedLifetime(x) { scale(x.storage.pointer, into: out.storage.pointer, x.count, largest, safety) }
        return out
    }

    /// Scales `x` to `x / (‖x‖_F · safety)` as ``normalized(_:largest:safety:)`` does, in its own memory when no
    /// other tensor shares it (a gradient handed over with `consume`), otherwise into a new tensor.
    package static func normalize<S: TensorScalar>(_ x: inout Tensor<S>, largest: S, safety: S) {
        guard isKnownUniquelyReferenced(&x.storage), x.node == nil else {
            x = normalized(x, largest: largest, safety: safety)
            return
        }
        require(largest > 0 && largest.isFinite, "normalize: needs 0 < max|x| < ∞, got \(largest)")
        scale(x.storage.pointer, into: x.storage.pointer, x.count, largest, safety)  // elementwise: in place is fine
    }

    /// y = x / (‖x‖_F · safety) over n elements, given largest = max|x|; `y` may be `x`.
    private static func scale<S: TensorScalar>(
        _ x: UnsafeMutablePointer<S>, into y: UnsafeMutablePointer<S>, _ n: Int, _ largest: S, _ safety: S
    ) {
        var divisor = largest
        // y = x / max|x| lies in [-1, 1] with one entry of magnitude 1, so 1 ≤ Σy² ≤ n: no under/overflow.
        S.binary(.div, x, 1, &divisor, 0, y, n)
        let norm = S.sumOfSquares(y, n).squareRoot()
        S.affine(y, 1 / (norm * safety), 0, y, n)
    }

    /// `g / max|g|`, and whether `g` is zero; nil when `g` has a non-finite entry.
    package static func dividedByLargestMagnitude<S: TensorScalar>(_ g: Tensor<S>) -> (matrix: Tensor<S>, isZero: Bool)? {
        guard let largest = largestMagnitude(g) else { return nil }
        if largest == 0 { return (.zeros(g.shape), true) }
        let out = Tensor<S>(uninitializedShape: g.shape)
        var divisor = largest
        withExtendedLifetime(g) { S.binary(.div, g.storage.pointer, 1, &divisor, 0, out.storage.pointer, g.count) }
        return (out, false)
    }
}
