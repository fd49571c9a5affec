#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The kernels as the package calls them: labelled static functions on the scalar type that forward to
// its table (`S.gemm(transA: …)`). `package`, so that the tensor layer, the modules and the benchmarks
// use them while a user of the libraries never sees them.

extension TensorScalar {
    /// `y[i] = op(x[i])` for `n` contiguous elements.
    package static func unary(_ op: UnaryOp, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int) {
        _kernels.unary(op, x, y, n)
    }
    /// `z[i*sz] = op(x[i*sx], y[i*sy])`, strides 0 or 1 (broadcast or contiguous).
    package static func binary(
        _ op: BinaryOp, _ x: UnsafePointer<Self>, _ sx: Int, _ y: UnsafePointer<Self>, _ sy: Int,
        _ z: UnsafeMutablePointer<Self>, _ n: Int
    ) { _kernels.binary(op, x, sx, y, sy, z, n) }
    /// `y[i] = a * x[i] + b`.
    package static func affine(_ x: UnsafePointer<Self>, _ a: Self, _ b: Self, _ y: UnsafeMutablePointer<Self>, _ n: Int) {
        _kernels.affine(x, a, b, y, n)
    }
    /// `y[i] += a * x[i]`.
    package static func axpy(_ n: Int, _ a: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>) {
        _kernels.axpy(n, a, x, y)
    }
    /// Sum of `n` contiguous elements (eight accumulators per block, blocks added pairwise).
    package static func sum(_ x: UnsafePointer<Self>, _ n: Int) -> Self { _kernels.sum(x, n) }
    /// Sum of squares of `n` contiguous elements.
    package static func sumOfSquares(_ x: UnsafePointer<Self>, _ n: Int) -> Self { _kernels.dot(x, x, n) }
    /// Dot product of `n` contiguous elements.
    package static func dot(_ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>, _ n: Int) -> Self { _kernels.dot(x, y, n) }
    /// Largest of `n ≥ 1` contiguous elements (NaN if any is NaN).
    package static func maxElement(_ x: UnsafePointer<Self>, _ n: Int) -> Self { _kernels.extremum(x, n, true) }
    /// Smallest of `n ≥ 1` contiguous elements (NaN if any is NaN).
    package static func minElement(_ x: UnsafePointer<Self>, _ n: Int) -> Self { _kernels.extremum(x, n, false) }
    /// `y[i] = x[i]^p`.
    package static func pow(_ x: UnsafePointer<Self>, _ p: Self, _ y: UnsafeMutablePointer<Self>, _ n: Int) {
        _kernels.pow(x, p, y, n)
    }
    /// `y[i] = value` for `n` elements (initializing or overwriting).
    package static func fill(_ y: UnsafeMutablePointer<Self>, _ value: Self, _ n: Int) { _kernels.fill(y, value, n) }
    /// `y[i] = x[i]` for `n` elements (`y` initialized, or of a trivial type as here).
    package static func copy(_ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int) { _kernels.copy(x, y, n) }
    /// `y[i] = x[i * stride]` for `n` elements.
    package static func stridedCopy(_ x: UnsafePointer<Self>, _ stride: Int, _ y: UnsafeMutablePointer<Self>, _ n: Int) {
        _kernels.stridedCopy(x, stride, y, n)
    }
    /// `y = xᵀ`: `x` is a contiguous rows×cols matrix, `y` a contiguous cols×rows one.
    package static func transpose(_ x: UnsafePointer<Self>, rows: Int, cols: Int, _ y: UnsafeMutablePointer<Self>) {
        _kernels.transpose(x, rows, cols, y)
    }
    /// `y[i] = scale · gelu(x[i])` (tanh approximation); with a cotangent `g`, its pullback
    /// `y[i] = scale · gelu′(x[i]) · g[i]`.
    package static func gelu(
        _ x: UnsafePointer<Self>, scale: Self, cotangent g: UnsafePointer<Self>?, _ y: UnsafeMutablePointer<Self>, _ n: Int
    ) { _kernels.gelu(x, scale, g, y, n) }
    /// Patches of `n` images `[channels, height, width]` for a stride-1 convolution with `kernel × kernel`
    /// windows and zero padding `padding` (im2col), one column per output position: entry
    /// `((c·k + di)·k + dj, (b·ho + i)·wo + j)` of the `[channels·k², n·ho·wo]` result is
    /// `x[b, c, i + di − p, j + dj − p]`. With `adding`, the adjoint (col2im): every entry of `y` is added
    /// back into `x`.
    package static func patches(
        _ x: UnsafeMutablePointer<Self>, _ y: UnsafeMutablePointer<Self>, images: Int, channels: Int,
        height: Int, width: Int, kernel: Int, padding: Int, adding: Bool
    ) { _kernels.patches(x, y, images, channels, height, width, kernel, padding, adding) }
    /// Softmax of each of `rows` contiguous rows of `length` elements: `y = exp(x − max x) / Σ exp(x − max x)`.
    package static func softmaxRows(_ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, rows: Int, length: Int) {
        _kernels.softmaxRows(x, y, rows, length)
    }
    /// The pullback of ``softmaxRows(_:_:rows:length:)`` at output `y`: `dx = y ⊙ (g − ⟨g, y⟩)` per row.
    package static func softmaxPullbackRows(
        _ y: UnsafePointer<Self>, _ g: UnsafePointer<Self>, _ dx: UnsafeMutablePointer<Self>, rows: Int, length: Int
    ) { _kernels.softmaxPullbackRows(y, g, dx, rows, length) }
    /// Whether all `n` contiguous elements are finite (no NaN or infinity).
    package static func allFinite(_ x: UnsafePointer<Self>, _ n: Int) -> Bool { _kernels.allFinite(x, n) }
    /// Rotates the two halves of each of `rows` rows of length `2·half` (a rotary position embedding):
    /// with `(x₁, x₂)` the halves of row `r` and `c`, `s` row `r % period` of `cos` and `sin`
    /// (each `period × half`), `y = (x₁c − σx₂s, σx₁s + x₂c)` where σ = `sinSign` (−1 rotates back).
    package static func rotateHalves(
        _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, rows: Int, half: Int,
        cos: UnsafePointer<Self>, sin: UnsafePointer<Self>, period: Int, sinSign: Self
    ) { _kernels.rotateHalves(x, y, rows, half, cos, sin, period, sinSign) }

    /// Row-major GEMM: `C = alpha * op(A) op(B) + beta * C`.
    package static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int
    ) { _kernels.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) }
    /// Row-major SYRK, upper triangle: `C = alpha * A Aᵀ + beta * C` (or `AᵀA` when `trans`).
    package static func syrk(
        trans: Bool, n: Int, k: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int
    ) { _kernels.syrk(trans, n, k, alpha, a, lda, beta, c, ldc) }
    /// Row-major SYMM with the symmetric matrix on the left (upper triangle read):
    /// `C = alpha * A B + beta * C`, `A` is m×m, `B` and `C` are m×n.
    package static func symm(
        m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int
    ) { _kernels.symm(m, n, alpha, a, lda, b, ldb, beta, c, ldc) }
    /// LAPACK `?gesdd` on a column-major m×n matrix (overwritten). Returns LAPACK's `info`.
    ///
    /// LAPACK calls run with OpenBLAS on one thread, so that their results do not depend on the
    /// thread count (OpenBLAS's threaded reductions round differently) or on other threads' work.
    package static func gesdd(
        m: Int, n: Int, a: UnsafeMutablePointer<Self>, s: UnsafeMutablePointer<Self>,
        u: UnsafeMutablePointer<Self>, ldu: Int, vt: UnsafeMutablePointer<Self>, ldvt: Int
    ) -> Int { _kernels.gesdd(m, n, a, s, u, ldu, vt, ldvt) }
    /// LAPACK `?syevd` on a symmetric n×n matrix (overwritten by eigenvectors). Returns LAPACK's `info`.
    package static func syevd(n: Int, a: UnsafeMutablePointer<Self>, w: UnsafeMutablePointer<Self>) -> Int {
        _kernels.syevd(n, a, w)
    }
}

// MARK: - Elementary functions of one scalar

// These run inside element loops, so they must resolve at compile time: a table entry would be an
// indirect call per element. `TensorScalar` is Float or Double only (a conformance needs a table,
// which only this package can make), so a type test that the specializer folds away picks the C function.

extension TensorScalar {
    @inline(__always)
    static func elementary(_ x: Self, _ float: (Float) -> Float, _ double: (Double) -> Double) -> Self {
        if Self.self == Float.self { return unsafeBitCast(float(unsafeBitCast(x, to: Float.self)), to: Self.self) }
        return unsafeBitCast(double(unsafeBitCast(x, to: Double.self)), to: Self.self)
    }

    /// e^x.
    @inline(__always) package static func exp(_ x: Self) -> Self { elementary(x, { expf($0) }, { Glibc.exp($0) }) }
    /// The natural logarithm.
    @inline(__always) package static func log(_ x: Self) -> Self { elementary(x, { logf($0) }, { Glibc.log($0) }) }
    /// The hyperbolic tangent.
    @inline(__always) package static func tanh(_ x: Self) -> Self { elementary(x, { tanhf($0) }, { Glibc.tanh($0) }) }
    /// x^y.
    @inline(__always) package static func pow(_ x: Self, _ y: Self) -> Self {
        if Self.self == Float.self {
            return unsafeBitCast(powf(unsafeBitCast(x, to: Float.self), unsafeBitCast(y, to: Float.self)), to: Self.self)
        }
        return unsafeBitCast(Glibc.pow(unsafeBitCast(x, to: Double.self), unsafeBitCast(y, to: Double.self)), to: Self.self)
    }
}
