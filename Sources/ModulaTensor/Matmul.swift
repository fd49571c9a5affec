// Matrix products through BLAS GEMM, for matrices and batches of matrices.

extension Tensor {
    /// The matrix product `op(self) · op(other)`, where `op` transposes the last two axes when asked.
    ///
    /// - Both rank 2: a single GEMM.
    /// - `self` of rank ≥ 3 and `other` of rank 2 (e.g. activations `[batch, tokens, in]` times a weight):
    ///   the leading axes of `self` are folded into the rows of one GEMM (`transposeA` must be false).
    /// - Both of rank ≥ 3 with equal leading (batch) axes: one GEMM per batch element.
    public func matmul(_ other: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        matmul(other, transposeA: transposeA, transposeB: transposeB, scaledBy: 1)
    }

    /// `alpha · op(self) · op(other)`, the scale applied inside the GEMM (no extra pass over the result).
    ///
    /// - Precondition: rank ≥ 2 operands whose inner dimensions match and whose batch axes agree. Stops with a message otherwise.
    public func matmul(_ other: Tensor, transposeA: Bool = false, transposeB: Bool = false, scaledBy alpha: Scalar) -> Tensor {
        let a = self, b = other
        require(a.rank >= 2 && b.rank >= 2, "matmul: needs rank ≥ 2 operands, got shapes \(a.shape) and \(b.shape)")
        if a.rank > 2 && b.rank == 2 && !transposeA {
            let k = a.shape[a.rank - 1]
            let flat = a.reshaped([-1, k])
            let out = flat.matmul(b, transposeB: transposeB, scaledBy: alpha)
            return out.reshaped(Array(a.shape.dropLast()) + [out.shape[1]])
        }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        require(
            batchA == batchB,
            "matmul: batch axes \(batchA) and \(batchB) of shapes \(a.shape) and \(b.shape) must be equal")
        let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (m, k) = transposeA ? (ac, ar) : (ar, ac)
        let (k2, n) = transposeB ? (bc, br) : (br, bc)
        require(
            k == k2,
            "matmul: shapes \(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape)\(transposeB ? "ᵀ" : "") are incompatible: inner dimensions \(k) and \(k2) must match")
        let batch = batchA.reduce(1, *)
        let out = Tensor(uninitializedShape: batchA + [m, n])
        if k == 0 {
            Scalar.fill(out.storage.pointer, 0, out.count)
        } else {
            let pa = a.storage.pointer, pb = b.storage.pointer, pc = out.storage.pointer
            func products(_ range: Range<Int>) {
                for i in range {
                    Scalar.gemm(
                        transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: alpha,
                        a: pa + i * ar * ac, lda: ac, b: pb + i * br * bc, ldb: bc,
                        beta: 0, c: pc + i * m * n, ldc: n)
                }
            }
            // Many small products (attention heads): the batch in two halves on two threads.
            if batch >= 2 && shouldSplit(batch * m * n * k) {
                let h = batch / 2
                withExtendedLifetime((a, b)) { parallelForEach(2) { products($0 == 0 ? 0..<h : h..<batch) } }
            } else {
                withExtendedLifetime((a, b)) { products(0..<batch) }
            }
        }
        let ad = a.detached, bd = b.detached
        return out.recorded([a, b]) { g in
            var ga: Tensor? = nil, gb: Tensor? = nil
            if a.isRecorded {
                switch (transposeA, transposeB) {
                case (false, false): ga = g.matmul(bd, transposeB: true, scaledBy: alpha)
                case (false, true): ga = g.matmul(bd, scaledBy: alpha)
                case (true, false): ga = bd.matmul(g, transposeB: true, scaledBy: alpha)
                case (true, true): ga = bd.matmul(g, transposeA: true, transposeB: true, scaledBy: alpha)
                }
            }
            if b.isRecorded {
                switch (transposeA, transposeB) {
                case (false, false): gb = ad.matmul(g, transposeA: true, scaledBy: alpha)
                case (false, true): gb = g.matmul(ad, transposeA: true, scaledBy: alpha)
                case (true, false): gb = ad.matmul(g, scaledBy: alpha)
                case (true, true): gb = g.matmul(ad, transposeA: true, transposeB: true, scaledBy: alpha)
                }
            }
            return [ga, gb]
        }
    }

    /// The Gram matrix `self · selfᵀ` (or `selfᵀ · self` when `transpose`) of a matrix, through SYRK.
    ///
    /// SYRK computes one triangle (half the FLOPs of GEMM); the other is mirrored. Not recorded.
    ///
    /// - Precondition: a matrix (rank 2). Stops with a message otherwise.
    public func gram(transpose: Bool = false) -> Tensor {
        require(rank == 2, "gram: needs a matrix, got shape \(shape)")
        let (r, c) = (shape[0], shape[1])
        let n = transpose ? c : r, k = transpose ? r : c
        let out = Tensor.zeros([n, n])
        let p = out.storage.pointer
        if k > 0 {
            Scalar.syrk(trans: transpose, n: n, k: k, alpha: 1, a: storage.pointer, lda: c, beta: 0, c: p, ldc: n)
        }
        for i in 1..<Swift.max(n, 1) { Scalar.stridedCopy(p + i, n, p + i * n, i) }  // row i ← column i
        return out
    }
}

/// The matrix product of two tensors (see ``Tensor/matmul(_:transposeA:transposeB:)``).
public func matmul<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, transposeA: Bool = false, transposeB: Bool = false) -> Tensor<S> {
    a.matmul(b, transposeA: transposeA, transposeB: transposeB)
}
