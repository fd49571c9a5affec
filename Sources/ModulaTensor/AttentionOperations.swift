// Fused kernels for attention — rotary position embedding and the causal mask, each one pass forward
// and one pass backward (instead of slices, broadcast products, a concatenation or a mask tensor) —
// and the patches (im2col) of a convolution.

extension Tensor {
    /// Rotary position embedding: rotates the two halves `(x₁, x₂)` of the last axis of `[…, tokens, d]`
    /// by the angle whose cosine and sine are row `t` of `cos` and `sin` (each `[tokens, d/2]`) at token
    /// `t`: `(x₁ cos − x₂ sin, x₁ sin + x₂ cos)`. Its pullback rotates the cotangent back (a rotation is
    /// orthogonal). `cos` and `sin` are constants (not differentiated).
    ///
    /// - Precondition: the last axis is even and `cos`, `sin` are `[tokens, half]`. Stops with a message otherwise.
    public func rotatingHalves(cos: Tensor, sin: Tensor) -> Tensor {
        require(rank >= 2 && shape[rank - 1] % 2 == 0,
                     "rotatingHalves: needs [..., tokens, d] with d even, got shape \(shape)")
        let tokens = shape[rank - 2], half = shape[rank - 1] / 2
        require(cos.shape == [tokens, half] && sin.shape == [tokens, half],
                     "rotatingHalves: cos and sin must have shape [\(tokens), \(half)], got \(cos.shape) and \(sin.shape)")
        let rows = half == 0 ? 0 : count / (2 * half)
        func rotate(_ x: Tensor, _ sign: Scalar) -> Tensor {
            let y = Tensor(uninitializedShape: x.shape)
            withExtendedLifetime((x, cos, sin)) {
                Scalar.rotateHalves(x.storage.pointer, y.storage.pointer, rows: rows, half: half,
                                    cos: cos.storage.pointer, sin: sin.storage.pointer, period: tokens, sinSign: sign)
            }
            return y
        }
        return rotate(self, 1).recorded([self]) { g in [rotate(g, -1)] }
    }

    /// The scores of causal attention: entries above the diagonal of the last two axes (a later key
    /// than the query) become `−∞`; the others are kept, and so is their cotangent (the masked entries
    /// get none).
    ///
    /// - Precondition: the last two axes are equal. Stops with a message otherwise.
    public func causallyMasked() -> Tensor {
        require(rank >= 2 && shape[rank - 1] == shape[rank - 2],
                     "causallyMasked: needs [..., tokens, tokens], got shape \(shape)")
        let t = shape[rank - 1]
        let matrices = t == 0 ? 0 : count / (t * t)
        func mask(_ x: Tensor, _ value: Scalar) -> Tensor {
            let y = Tensor(uninitializedShape: x.shape)
            let p = x.storage.pointer, q = y.storage.pointer
            for m in 0..<matrices {
                for i in 0..<t {
                    let row = m * t * t + i * t
                    (q + row).update(from: p + row, count: i + 1)
                    if i + 1 < t { Scalar.fill(q + row + i + 1, value, t - i - 1) }
                }
            }
            return y
        }
        return mask(self, -Scalar.infinity).recorded([self]) { g in [mask(g, 0)] }
    }
}

extension Tensor {
    /// The `kernel × kernel` patches of images `[n, channels, height, width]` (stride 1, zero padding
    /// `padding`) as the columns of a `[channels·kernel², n·ho·wo]` matrix (im2col), so that a convolution
    /// is one GEMM `W[out, channels·kernel²] · patches`. Column `(b, i, j)` holds
    /// `x[b, c, i + di − padding, j + dj − padding]` in `(c, di, dj)` order; the pullback adds each
    /// patch's cotangent back into the image (col2im).
    ///
    /// - Precondition: a rank-4 tensor, a positive kernel no larger than the padded image, padding ≥ 0. Stops with a message otherwise.
    public func patches(kernel: Int, padding: Int) -> Tensor {
        require(rank == 4 && kernel > 0 && padding >= 0, "patches: needs [n, channels, height, width], a positive kernel and padding ≥ 0, got shape \(shape)")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let ho = h + 2 * padding - kernel + 1, wo = w + 2 * padding - kernel + 1
        require(ho > 0 && wo > 0, "patches: \(h)×\(w) images are smaller than a \(kernel)×\(kernel) kernel with padding \(padding)")
        let out = Tensor(uninitializedShape: [c * kernel * kernel, n * ho * wo])
        withExtendedLifetime(self) {
            Scalar.patches(storage.pointer, out.storage.pointer, images: n, channels: c, height: h, width: w,
                           kernel: kernel, padding: padding, adding: false)
        }
        let shape = self.shape
        return out.recorded([self]) { g in
            let dx = Tensor.zeros(shape)
            withExtendedLifetime(g) {
                Scalar.patches(dx.storage.pointer, g.storage.pointer, images: n, channels: c, height: h, width: w,
                               kernel: kernel, padding: padding, adding: true)
            }
            return [dx]
        }
    }
}
