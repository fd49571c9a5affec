// Softmax, log-softmax, cross-entropy, mean-squared error and one-hot encoding.

extension Tensor {
    /// Softmax along the last axis, computed stably in one fused pass per row.
    ///
    /// - Precondition: rank ≥ 1. Stops with a message otherwise.
    public func softmax() -> Tensor {
        require(rank >= 1, "softmax: needs rank ≥ 1, got shape \(shape)")
        let n = shape[rank - 1]
        let y = Tensor(uninitializedShape: shape)
        let rows = n == 0 ? 0 : count / n
        withExtendedLifetime(self) { Scalar.softmaxRows(storage.pointer, y.storage.pointer, rows: rows, length: n) }
        let yd = y
        return y.recorded([self]) { g in
            // dx = y ⊙ (g − Σ g⊙y)
            let dx = Tensor(uninitializedShape: g.shape)
            withExtendedLifetime((g, yd)) {
                Scalar.softmaxPullbackRows(yd.storage.pointer, g.storage.pointer, dx.storage.pointer, rows: rows, length: n)
            }
            return [dx]
        }
    }

    /// Log-softmax along the last axis.
    ///
    /// - Precondition: rank ≥ 1. Stops with a message otherwise.
    public func logSoftmax() -> Tensor {
        require(rank >= 1, "logSoftmax: needs rank ≥ 1, got shape \(shape)")
        let n = shape[rank - 1]
        let y = Tensor(uninitializedShape: shape)
        let rows = n == 0 ? 0 : count / n
        for r in 0..<rows {
            let x = storage.pointer + r * n, o = y.storage.pointer + r * n
            let m = Scalar.maxElement(x, n)
            Scalar.affine(x, 1, -m, o, n)  // o is scratch space until the last line
            Scalar.unary(.exp, o, o, n)
            let lse = m + Scalar.log(Scalar.sum(o, n))
            Scalar.affine(x, 1, -lse, o, n)
        }
        let yd = y
        return y.recorded([self]) { g in
            // dx = g − softmax · Σ g
            let dx = Tensor(uninitializedShape: g.shape)
            for r in 0..<rows {
                let gp = g.storage.pointer + r * n, yp = yd.storage.pointer + r * n, o = dx.storage.pointer + r * n
                let s = Scalar.sum(gp, n)
                Scalar.unary(.exp, yp, o, n)
                Scalar.affine(o, -s, 0, o, n)
                Scalar.axpy(n, 1, gp, o)
            }
            return [dx]
        }
    }
}

/// Mean cross-entropy of `logits` (`[…, classes]`) against integer `labels`, one per row.
///
/// - Precondition: one label per row of `logits`, each in `0..<classes`. Stops with a message otherwise.
public func crossEntropy<S: TensorScalar>(logits: Tensor<S>, labels: [Int]) -> Tensor<S> {
    require(logits.rank >= 1, "crossEntropy: logits need rank ≥ 1, got shape \(logits.shape)")
    let c = logits.shape[logits.rank - 1]
    let rows = c == 0 ? 0 : logits.count / c
    require(
        labels.count == rows,
        "crossEntropy: logits of shape \(logits.shape) have \(rows) rows, got \(labels.count) labels")
    for (i, l) in labels.enumerated() {
        require(l >= 0 && l < c, "crossEntropy: label \(l) at position \(i) is out of range 0..<\(c)")
    }
    let x = logits.detached
    var total = S(0)
    let probs = Tensor<S>(uninitializedShape: [rows, c])
    for r in 0..<rows {
        let p = x.storage.pointer + r * c, o = probs.storage.pointer + r * c
        let m = S.maxElement(p, c)
        Scalar_expShift(p, m, o, c)
        let s = S.sum(o, c)
        total += m + S.log(s) - p[labels[r]]
        S.affine(o, 1 / s, 0, o, c)
    }
    let shape = logits.shape
    return Tensor(total / S(Swift.max(rows, 1))).recorded([logits]) { g in
        // d/dlogits = (softmax − onehot) / rows, written into fresh memory (`probs` stays intact).
        let d = Tensor<S>(uninitializedShape: shape)
        let scale = g.scalar / S(Swift.max(rows, 1))
        S.affine(probs.storage.pointer, scale, 0, d.storage.pointer, rows * c)
        for r in 0..<rows { d.storage.pointer[r * c + labels[r]] -= scale }
        return [d]
    }
}

@inline(__always)
private func Scalar_expShift<S: TensorScalar>(_ x: UnsafePointer<S>, _ m: S, _ o: UnsafeMutablePointer<S>, _ n: Int) {
    S.affine(x, 1, -m, o, n)
    S.unary(.exp, o, o, n)
}

/// Mean of the squared differences of two tensors of the same shape.
///
/// - Precondition: `prediction` and `target` have equal shapes. Stops with a message otherwise.
public func meanSquaredError<S: TensorScalar>(_ prediction: Tensor<S>, _ target: Tensor<S>) -> Tensor<S> {
    require(
        prediction.shape == target.shape,
        "meanSquaredError: prediction shape \(prediction.shape) and target shape \(target.shape) must be equal")
    return (prediction - target).squared().mean()
}

/// One-hot rows: `[labels.count, classes]` with a 1 at each label.
///
/// - Precondition: every label lies in `0..<classes`. Stops with a message otherwise.
public func oneHot<S: TensorScalar>(_ labels: [Int], classes: Int, as: S.Type = S.self) -> Tensor<S> {
    var t = Tensor<S>.zeros([labels.count, classes])
    t.withUnsafeMutableBufferPointer { p in
        for (i, l) in labels.enumerated() {
            require(l >= 0 && l < classes, "oneHot: label \(l) at position \(i) is out of range 0..<\(classes)")
            p[i * classes + l] = 1
        }
    }
    return t
}
