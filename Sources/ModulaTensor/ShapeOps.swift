// Reshape, permutation, slicing, concatenation, gather and scatter-add.

extension Tensor {
    /// The same elements with a new shape (no copy). One axis may be `-1` and is inferred.
    ///
    /// - Precondition: the new shape holds as many elements (one axis may be −1). Stops with a message otherwise.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var newShape = newShape
        if let i = newShape.firstIndex(of: -1) {
            let rest = newShape.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            require(rest > 0 && count % rest == 0, "reshape: cannot infer axis \(i) of \(newShape) for \(count) elements (shape \(shape))")
            newShape[i] = count / rest
        }
        require(
            newShape.allSatisfy { $0 >= 0 } && newShape.reduce(1, *) == count,
            "reshape: cannot reshape \(shape) (\(count) elements) to \(newShape) (\(newShape.reduce(1, *)) elements)")
        let old = shape
        let out = Tensor(shape: newShape, storage: storage)
        return out.recorded([self]) { g in [g.reshaped(old)] }
    }

    /// Axes permuted: axis `i` of the result is axis `permutation[i]` of `self`.
    ///
    /// - Precondition: `permutation` is a permutation of the axes. Stops with a message otherwise.
    public func permuted(_ permutation: [Int]) -> Tensor {
        require(
            permutation.count == rank && Set(permutation) == Set(0..<rank),
            "permute: \(permutation) is not a permutation of the \(rank) axes of shape \(shape)")
        if permutation == Array(0..<rank) { return self }
        let outShape = permutation.map { shape[$0] }
        let out = Tensor(uninitializedShape: outShape)
        var inStrides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
        let st = permutation.map { inStrides[$0] }
        let p = storage.pointer, q = out.storage.pointer
        if permutation.dropLast(2).elementsEqual(0..<(rank - 2)) {
            // A swap of the last two axes: one blocked transpose per matrix of the batch.
            let rows = shape[rank - 2], cols = shape[rank - 1]
            for b in 0..<(rows * cols == 0 ? 0 : count / (rows * cols)) {
                Scalar.transpose(p + b * rows * cols, rows: rows, cols: cols, q + b * rows * cols)
            }
        } else if out.count > 0 {
            let inner = outShape[rank - 1], si = st[rank - 1]
            var index = [Int](repeating: 0, count: rank - 1)
            var off = 0
            for row in 0..<(out.count / inner) {
                // The last axis kept in place (attention heads: [b, t, h, d] → [b, h, t, d]): contiguous runs.
                if si == 1 {
                    (q + row * inner).update(from: p + off, count: inner)
                } else {
                    Scalar.stridedCopy(p + off, si, q + row * inner, inner)
                }
                var axis = rank - 2
                while axis >= 0 {
                    index[axis] += 1; off += st[axis]
                    if index[axis] < outShape[axis] { break }
                    off -= st[axis] * outShape[axis]; index[axis] = 0; axis -= 1
                }
            }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in permutation.enumerated() { inverse[p] = i }
        return out.recorded([self]) { g in [g.permuted(inverse)] }
    }

    /// The matrix transpose of a rank-2 tensor, or the swap of the last two axes of a batch.
    ///
    /// - Precondition: rank ≥ 2. Stops with a message otherwise.
    public func transposed() -> Tensor {
        require(rank >= 2, "transposed: needs rank ≥ 2, got shape \(shape)")
        var p = Array(0..<rank)
        p.swapAt(rank - 1, rank - 2)
        return permuted(p)
    }

    /// Elements `range` along `axis`.
    ///
    /// - Precondition: `axis` and `range` are in bounds. Stops with a message otherwise.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let axis = normalizedAxis(axis, "slice")
        require(
            range.lowerBound >= 0 && range.upperBound <= shape[axis],
            "slice: range \(range) is out of bounds for axis \(axis) of shape \(shape)")
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        var outShape = shape
        outShape[axis] = range.count
        let out = Tensor(uninitializedShape: outShape)
        let chunk = range.count * inner
        for o in 0..<outer {
            (out.storage.pointer + o * chunk).update(
                from: storage.pointer + (o * shape[axis] + range.lowerBound) * inner, count: chunk)
        }
        let shape = self.shape
        return out.recorded([self]) { g in
            let full = Tensor.zeros(shape)
            for o in 0..<outer {
                (full.storage.pointer + (o * shape[axis] + range.lowerBound) * inner).update(
                    from: g.storage.pointer + o * chunk, count: chunk)
            }
            return [full]
        }
    }

    /// Concatenation of tensors along `axis`; all other extents must agree.
    ///
    /// - Precondition: at least one tensor, all of one rank and equal off `axis`. Stops with a message otherwise.
    public static func concatenate(_ parts: [Tensor], alongAxis axis: Int) -> Tensor {
        require(!parts.isEmpty, "concatenate: needs at least one tensor")
        let first = parts[0]
        let axis = first.normalizedAxis(axis, "concatenate")
        for p in parts {
            var a = p.shape, b = first.shape
            require(a.count == b.count, "concatenate: shapes \(first.shape) and \(p.shape) have different ranks")
            a[axis] = 0; b[axis] = 0
            require(a == b, "concatenate: shapes \(first.shape) and \(p.shape) differ off axis \(axis)")
        }
        let outer = first.shape[..<axis].reduce(1, *), inner = first.shape[(axis + 1)...].reduce(1, *)
        var outShape = first.shape
        outShape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        let out = Tensor(uninitializedShape: outShape)
        let rowOut = outShape[axis] * inner
        var start = 0  // offset of the current part along `axis`
        var ranges: [Range<Int>] = []
        for p in parts {
            let w = p.shape[axis] * inner
            for o in 0..<outer {
                (out.storage.pointer + o * rowOut + start * inner).update(from: p.storage.pointer + o * w, count: w)
            }
            ranges.append(start..<(start + p.shape[axis]))
            start += p.shape[axis]
        }
        return out.recorded(parts) { g in ranges.map { g.slice(axis: axis, $0) } }
    }

    /// Rows of a tensor selected by integer indices along axis 0 (an embedding lookup).
    ///
    /// The result has shape `indexShape + shape[1...]`; `indexShape` defaults to `[indices.count]`.
    ///
    /// - Precondition: every index lies in `0..<shape[0]` and `indexShape` holds them all. Stops with a message otherwise.
    public func gather(_ indices: [Int], indexShape: [Int]? = nil) -> Tensor {
        require(rank >= 1, "gather: needs rank ≥ 1, got shape \(shape)")
        let ishape = indexShape ?? [indices.count]
        require(ishape.reduce(1, *) == indices.count, "gather: index shape \(ishape) does not hold \(indices.count) indices")
        let rows = shape[0], w = count / Swift.max(rows, 1)
        let out = Tensor(uninitializedShape: ishape + shape.dropFirst())
        for (i, k) in indices.enumerated() {
            require(k >= 0 && k < rows, "gather: index \(k) at position \(i) is out of range 0..<\(rows) for shape \(shape)")
            (out.storage.pointer + i * w).update(from: storage.pointer + k * w, count: w)
        }
        let shape = self.shape
        return out.recorded([self]) { g in [g.scatterAdding(indices, into: shape)] }
    }

    /// The adjoint of ``gather(_:indexShape:)``: sums slice `i` of `self` (in index order) into row
    /// `indices[i]` of a zero tensor of shape `targetShape`.
    ///
    /// - Precondition: every index lies in `0..<targetShape[0]` and the shapes fit. Stops with a message otherwise.
    public func scatterAdding(_ indices: [Int], into targetShape: [Int]) -> Tensor {
        require(!targetShape.isEmpty, "scatterAdd: target shape must have rank ≥ 1")
        let rows = targetShape[0], w = targetShape.dropFirst().reduce(1, *)
        require(
            indices.count * w == count,
            "scatterAdd: \(indices.count) indices of rows shaped \(Array(targetShape.dropFirst())) need \(indices.count * w) elements, got shape \(shape)")
        let out = Tensor.zeros(targetShape)
        for (i, k) in indices.enumerated() {
            require(k >= 0 && k < rows, "scatterAdd: index \(k) at position \(i) is out of range 0..<\(rows)")
            Scalar.axpy(w, 1, storage.pointer + i * w, out.storage.pointer + k * w)
        }
        let ishape = shape
        return out.recorded([self]) { g in [g.gather(indices).reshaped(ishape)] }
    }
}
