// Reductions over axes: sum, mean, max, logsumexp, argmax.

extension Tensor {
    @usableFromInline
    func normalizedAxis(_ axis: Int, _ op: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        require(a >= 0 && a < rank, "\(op): axis \(axis) is out of range for shape \(shape)")
        return a
    }

    /// Reduces one axis with `op` (`.add` or `.max`), keeping it with extent 1. Not recorded.
    @usableFromInline
    func reduced(_ op: BinaryOp, axis: Int) -> Tensor {
        let n = shape[axis]
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        var outShape = shape
        outShape[axis] = 1
        let out = Tensor(uninitializedShape: outShape)
        let p = storage.pointer, q = out.storage.pointer
        require(n > 0 || op == .add, "max: cannot reduce an empty axis \(axis) of shape \(shape)")
        for o in 0..<outer {
            let dst = q + o * inner
            let src = p + o * n * inner
            if inner == 1 {
                dst[0] = op == .add ? Scalar.sum(src, n) : Scalar.maxElement(src, n)
            } else if n == 0 {
                Scalar.fill(dst, 0, inner)
            } else {
                dst.update(from: src, count: inner)
                for k in 1..<n { Scalar.binary(op, dst, 1, src + k * inner, 1, dst, inner) }
            }
        }
        return out
    }

    @usableFromInline
    func reducedShape(_ axes: [Int], keep: Bool) -> [Int] {
        keep ? shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
            : shape.enumerated().filter { !axes.contains($0.offset) }.map { $0.element }
    }

    @usableFromInline
    func normalizedAxes(_ axes: [Int], _ op: String) -> [Int] {
        let a = Array(Set(axes.map { normalizedAxis($0, op) })).sorted()
        return a
    }

    /// Sum of all elements (a rank-0 tensor).
    public func sum() -> Tensor {
        let s = Tensor(Scalar.sum(storage.pointer, count))
        let shape = self.shape
        return s.recorded([self]) { g in [Tensor(repeating: g.scalar, shape: shape)] }
    }

    /// Sum along the given axes (negative axes count from the end).
    ///
    /// - Precondition: every axis is in range (as for the other reductions along axes). Stops with a message otherwise.
    public func sum(alongAxes axes: [Int], keepingDimensions keep: Bool = false) -> Tensor {
        let axes = normalizedAxes(axes, "sum")
        var t = detached
        for a in axes { t = t.reduced(.add, axis: a) }
        let shape = self.shape, kept = reducedShape(axes, keep: true)
        return t.reshaped(reducedShape(axes, keep: keep)).recorded([self]) { g in
            [g.reshaped(kept).combined(.add, Tensor.zeros(shape), "sum")]
        }
    }
    /// Sum along one axis.
    public func sum(alongAxis axis: Int, keepingDimensions keep: Bool = false) -> Tensor {
        sum(alongAxes: [axis], keepingDimensions: keep)
    }

    /// Mean of all elements (a rank-0 tensor).
    public func mean() -> Tensor { sum() * (1 / Scalar(Swift.max(count, 1))) }

    /// Mean along the given axes.
    public func mean(alongAxes axes: [Int], keepingDimensions keep: Bool = false) -> Tensor {
        let n = normalizedAxes(axes, "mean").reduce(1) { $0 * shape[$1] }
        return sum(alongAxes: axes, keepingDimensions: keep) * (1 / Scalar(Swift.max(n, 1)))
    }
    /// Mean along one axis.
    public func mean(alongAxis axis: Int, keepingDimensions keep: Bool = false) -> Tensor {
        mean(alongAxes: [axis], keepingDimensions: keep)
    }

    /// Maximum along the given axes. The cotangent is shared equally among tied maxima.
    public func max(alongAxes axes: [Int], keepingDimensions keep: Bool = false) -> Tensor {
        let axes = normalizedAxes(axes, "max")
        var m = detached
        for a in axes { m = m.reduced(.max, axis: a) }
        let x = detached, kept = m
        return m.reshaped(reducedShape(axes, keep: keep)).recorded([self]) { g in
            // mask = (x == max) = 1 − sign|x − max|, normalized by the number of ties
            let mask = 1 - x.combined(.sub, kept, "max").map(.abs).map(.sign)
            var ties = mask
            for a in axes { ties = ties.reduced(.add, axis: a) }
            return [mask.combined(.mul, g.reshaped(kept.shape).combined(.div, ties, "max"), "max")]
        }
    }
    /// Maximum along one axis.
    public func max(alongAxis axis: Int, keepingDimensions keep: Bool = false) -> Tensor {
        max(alongAxes: [axis], keepingDimensions: keep)
    }
    /// Largest element (not recorded); NaN when the tensor holds NaN.
    ///
    /// - Precondition: the tensor is not empty. Stops with a message otherwise.
    public func max() -> Scalar {
        require(count > 0, "max: tensor of shape \(shape) is empty")
        return Scalar.maxElement(storage.pointer, count)
    }
    /// Smallest element (not recorded); NaN when the tensor holds NaN.
    ///
    /// - Precondition: the tensor is not empty. Stops with a message otherwise.
    public func min() -> Scalar {
        require(count > 0, "min: tensor of shape \(shape) is empty")
        return Scalar.minElement(storage.pointer, count)
    }

    /// log Σ exp along the given axes, computed stably.
    public func logSumExp(alongAxes axes: [Int], keepingDimensions keep: Bool = false) -> Tensor {
        let m = detached.max(alongAxes: axes, keepingDimensions: true)
        let s = (self - m).exp().sum(alongAxes: axes, keepingDimensions: true).log() + m
        return keep ? s : s.reshaped(reducedShape(normalizedAxes(axes, "logSumExp"), keep: false))
    }
    /// log Σ exp along one axis.
    public func logSumExp(alongAxis axis: Int, keepingDimensions keep: Bool = false) -> Tensor {
        logSumExp(alongAxes: [axis], keepingDimensions: keep)
    }

    /// Index of the largest element along `axis` (first one on ties; the first NaN, as in NumPy, where
    /// there is one, so that NaN logits do not pass for a prediction of class 0).
    ///
    /// - Precondition: `axis` is in range and not empty. Stops with a message otherwise.
    public func argmax(alongAxis axis: Int) -> [Int] {
        let axis = normalizedAxis(axis, "argmax")
        let n = shape[axis]
        require(n > 0, "argmax: axis \(axis) of shape \(shape) is empty")
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        var result = [Int](repeating: 0, count: outer * inner)
        let p = storage.pointer
        for o in 0..<outer {
            for i in 0..<inner {
                var best = 0
                var bv = p[o * n * inner + i]
                for k in 1..<n {
                    let v = p[(o * n + k) * inner + i]
                    if v > bv || (v != v && bv == bv) { bv = v; best = k }
                }
                result[o * inner + i] = best
            }
        }
        return result
    }

    /// Squared Frobenius norm as a plain number (not recorded).
    public var squaredNormValue: Scalar { Scalar.sumOfSquares(storage.pointer, count) }

    /// Inner product of all elements with another tensor of the same shape (not recorded).
    ///
    /// - Precondition: equal shapes. Stops with a message otherwise.
    public func dotValue(_ other: Tensor) -> Scalar {
        require(shape == other.shape, "dot: shapes \(shape) and \(other.shape) must be equal")
        return Scalar.dot(storage.pointer, other.storage.pointer, count)
    }
}
