import CBLAS
import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An elementwise map of one tensor, applied by a vectorizable kernel.
public enum UnaryOp: Sendable {
    case neg, exp, log, tanh, sqrt, abs, relu, square, sign, sigmoid, reciprocal
    /// GELU (tanh approximation), unscaled.
    case gelu
    /// Derivative of the tanh-approximated GELU.
    case geluDerivative
    /// 1 where x > 0, NaN where x is NaN, else 0.
    case step
}

extension UnaryOp {
    /// A few cycles per element (memory-bound), as opposed to the transcendental maps.
    @usableFromInline var isCheap: Bool {
        switch self {
        case .neg, .abs, .relu, .square, .sign, .step, .sqrt, .reciprocal: return true
        case .exp, .log, .tanh, .sigmoid, .gelu, .geluDerivative: return false
        }
    }
}

/// A binary elementwise operation.
public enum BinaryOp: Sendable {
    case add, sub, mul, div, max, min
}

/// The scalar types a ``Tensor`` can hold: `Float` and `Double`.
///
/// The protocol routes every hot loop and every BLAS/LAPACK call through a static requirement, so that
/// generic tensor code pays one witness call per operation and the loops themselves are specialized.
public protocol TensorScalar: BinaryFloatingPoint, Sendable, CustomStringConvertible
where RawSignificand: FixedWidthInteger {
    /// `y[i] = op(x[i])` for `n` contiguous elements.
    static func unary(_ op: UnaryOp, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int)
    /// `z[i*sz] = op(x[i*sx], y[i*sy])`, strides 0 or 1 (broadcast or contiguous).
    static func binary(
        _ op: BinaryOp, _ x: UnsafePointer<Self>, _ sx: Int, _ y: UnsafePointer<Self>, _ sy: Int,
        _ z: UnsafeMutablePointer<Self>, _ n: Int)
    /// `y[i] = a * x[i] + b`.
    static func affine(_ x: UnsafePointer<Self>, _ a: Self, _ b: Self, _ y: UnsafeMutablePointer<Self>, _ n: Int)
    /// `y[i] += a * x[i]`.
    static func axpy(_ n: Int, _ a: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>)
    /// Sum of `n` contiguous elements (eight accumulators per block, blocks added pairwise).
    static func sum(_ x: UnsafePointer<Self>, _ n: Int) -> Self
    /// Sum of squares of `n` contiguous elements.
    static func sumOfSquares(_ x: UnsafePointer<Self>, _ n: Int) -> Self
    /// Dot product of `n` contiguous elements.
    static func dot(_ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>, _ n: Int) -> Self
    /// Largest of `n ≥ 1` contiguous elements.
    static func maxElement(_ x: UnsafePointer<Self>, _ n: Int) -> Self
    /// Smallest of `n ≥ 1` contiguous elements.
    static func minElement(_ x: UnsafePointer<Self>, _ n: Int) -> Self
    /// `y[i] = x[i]^p`.
    static func pow(_ x: UnsafePointer<Self>, _ p: Self, _ y: UnsafeMutablePointer<Self>, _ n: Int)
    /// `y[i] = value` for `n` elements (initializing or overwriting).
    static func fill(_ y: UnsafeMutablePointer<Self>, _ value: Self, _ n: Int)
    /// `y[i] = x[i * stride]` for `n` elements.
    static func stridedCopy(_ x: UnsafePointer<Self>, _ stride: Int, _ y: UnsafeMutablePointer<Self>, _ n: Int)
    /// `y = xᵀ`: `x` is a contiguous rows×cols matrix, `y` a contiguous cols×rows one.
    static func transpose(_ x: UnsafePointer<Self>, rows: Int, cols: Int, _ y: UnsafeMutablePointer<Self>)
    /// `y[i] = scale · gelu(x[i])` (tanh approximation); with a cotangent `g`, its pullback
    /// `y[i] = scale · gelu′(x[i]) · g[i]`.
    static func gelu(
        _ x: UnsafePointer<Self>, scale: Self, cotangent g: UnsafePointer<Self>?, _ y: UnsafeMutablePointer<Self>, _ n: Int)
    /// Patches of `n` images `[channels, height, width]` for a stride-1 convolution with `kernel × kernel`
    /// windows and zero padding `padding` (im2col), one column per output position: entry
    /// `((c·k + di)·k + dj, (b·ho + i)·wo + j)` of the `[channels·k², n·ho·wo]` result is
    /// `x[b, c, i + di − p, j + dj − p]`. With `adding`, the adjoint (col2im): every entry of `y` is added
    /// back into `x`.
    static func patches(
        _ x: UnsafeMutablePointer<Self>, _ y: UnsafeMutablePointer<Self>, images: Int, channels: Int,
        height: Int, width: Int, kernel: Int, padding: Int, adding: Bool)
    /// Softmax of each of `rows` contiguous rows of `length` elements: `y = exp(x − max x) / Σ exp(x − max x)`.
    static func softmaxRows(_ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, rows: Int, length: Int)
    /// The pullback of ``softmaxRows(_:_:rows:length:)`` at output `y`: `dx = y ⊙ (g − ⟨g, y⟩)` per row.
    static func softmaxPullbackRows(
        _ y: UnsafePointer<Self>, _ g: UnsafePointer<Self>, _ dx: UnsafeMutablePointer<Self>, rows: Int, length: Int)
    /// Whether all `n` contiguous elements are finite (no NaN or infinity).
    static func allFinite(_ x: UnsafePointer<Self>, _ n: Int) -> Bool
    /// Rotates the two halves of each of `rows` rows of length `2·half` (a rotary position embedding):
    /// with `(x₁, x₂)` the halves of row `r` and `c`, `s` row `r % period` of `cos` and `sin`
    /// (each `period × half`), `y = (x₁c − σx₂s, σx₁s + x₂c)` where σ = `sinSign` (−1 rotates back).
    static func rotateHalves(
        _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, rows: Int, half: Int,
        cos: UnsafePointer<Self>, sin: UnsafePointer<Self>, period: Int, sinSign: Self)

    /// Row-major GEMM: `C = alpha * op(A) op(B) + beta * C`.
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// Row-major SYRK, upper triangle: `C = alpha * A Aᵀ + beta * C` (or `AᵀA` when `trans`).
    static func syrk(
        trans: Bool, n: Int, k: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// Row-major SYMM with the symmetric matrix on the left (upper triangle read):
    /// `C = alpha * A B + beta * C`, `A` is m×m, `B` and `C` are m×n.
    static func symm(
        m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// LAPACK `?gesdd` on a column-major m×n matrix (overwritten). Returns LAPACK's `info`.
    ///
    /// LAPACK calls run with OpenBLAS on one thread, so that their results do not depend on the
    /// thread count (OpenBLAS's threaded reductions round differently) or on other threads' work.
    static func gesdd(
        m: Int, n: Int, a: UnsafeMutablePointer<Self>, s: UnsafeMutablePointer<Self>,
        u: UnsafeMutablePointer<Self>, ldu: Int, vt: UnsafeMutablePointer<Self>, ldvt: Int) -> Int
    /// LAPACK `?syevd` on a symmetric n×n matrix (overwritten by eigenvectors). Returns LAPACK's `info`.
    static func syevd(n: Int, a: UnsafeMutablePointer<Self>, w: UnsafeMutablePointer<Self>) -> Int

    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func pow(_ x: Self, _ y: Self) -> Self
}

extension TensorScalar {
    // Defaults for requirements added after the first release, so that other conformances keep
    // compiling; Float and Double replace them with specialized copies.
    public static func allFinite(_ x: UnsafePointer<Self>, _ n: Int) -> Bool { allFiniteKernel(x, n) }
    public static func rotateHalves(
        _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, rows: Int, half: Int,
        cos: UnsafePointer<Self>, sin: UnsafePointer<Self>, period: Int, sinSign: Self
    ) { rotateHalvesKernel(x, y, rows, half, cos, sin, period, sinSign) }
    public static func gelu(
        _ x: UnsafePointer<Self>, scale: Self, cotangent g: UnsafePointer<Self>?, _ y: UnsafeMutablePointer<Self>, _ n: Int
    ) {
        inChunks(n, costlyChunk) { i, n in geluLoop(x + i, scale, g.map { $0 + i }, y + i, n) { 1 / (1 + Self.exp(-$0)) } }
    }
    public static func patches(
        _ x: UnsafeMutablePointer<Self>, _ y: UnsafeMutablePointer<Self>, images: Int, channels: Int,
        height: Int, width: Int, kernel: Int, padding: Int, adding: Bool
    ) { patchesKernel(x, y, images, channels, height, width, kernel, padding, adding) }
    public static func softmaxRows(_ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, rows: Int, length: Int) {
        inChunks(rows, Swift.max(1, costlyChunk / Swift.max(length, 1))) { r0, count in
            softmaxLoop(x + r0 * length, y + r0 * length, count, length) { Self.exp($0) }
        }
    }
    public static func softmaxPullbackRows(
        _ y: UnsafePointer<Self>, _ g: UnsafePointer<Self>, _ dx: UnsafeMutablePointer<Self>, rows: Int, length: Int
    ) {
        inChunks(rows, Swift.max(1, cheapChunk / Swift.max(length, 1))) { r0, count in
            softmaxPullbackLoop(y + r0 * length, g + r0 * length, dx + r0 * length, count, length)
        }
    }
}

// MARK: - Generic kernels, specialized inside each conformance.

// In-place calls (`y == x`) get loops over one pointer: LLVM's runtime overlap check rejects a
// distance of zero and would run the two-pointer loop scalar, 4–8× slower than vectorized.

/// `y[i] = f(x[i])`, vectorizable also when `y == x`.
@inlinable @inline(__always)
func mapKernel<T>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int, _ f: (T) -> T) {
    if UnsafePointer(y) == x {
        for i in 0..<n { y[i] = f(y[i]) }
    } else {
        for i in 0..<n { y[i] = f(x[i]) }
    }
}

/// `z[i] = f(x[i], y[i])`, vectorizable also when `z` is `x` or `y`.
@inlinable @inline(__always)
func zipKernel<T>(_ x: UnsafePointer<T>, _ y: UnsafePointer<T>, _ z: UnsafeMutablePointer<T>, _ n: Int, _ f: (T, T) -> T) {
    let rz = UnsafePointer(z)
    if rz == x && rz == y {
        for i in 0..<n { z[i] = f(z[i], z[i]) }
    } else if rz == x {
        for i in 0..<n { z[i] = f(z[i], y[i]) }
    } else if rz == y {
        for i in 0..<n { z[i] = f(x[i], z[i]) }
    } else {
        for i in 0..<n { z[i] = f(x[i], y[i]) }
    }
}

/// `scale · gelu(x)` or its pullback, with `sigmoid` the logistic function: ½(1 + tanh z) = σ(2z) and
/// ½(1 − tanh² z) = 2σ(2z)(1 − σ(2z)), one exponential and one division per element.
///
/// Callers pass `sigmoid` as a closure literal inside their own chunk closure, so that it is inlined
/// there too: captured from outside, it would be an indirect call per element on the parallel path.
@inline(__always)
func geluLoop<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ scale: T, _ g: UnsafePointer<T>?, _ y: UnsafeMutablePointer<T>, _ n: Int,
    _ sigmoid: (T) -> T
) {
    let c0 = T(geluC0), c1 = T(geluC1)
    if let g {
        zipKernel(x, g, y, n) { v, gi in
            let s = sigmoid(2 * c0 * (v + c1 * v * v * v))
            return scale * (s + 2 * v * s * (1 - s) * c0 * (1 + 3 * c1 * v * v)) * gi
        }
    } else {
        mapKernel(x, y, n) { v in scale * v * sigmoid(2 * c0 * (v + c1 * v * v * v)) }
    }
}

/// Softmax of `rows` rows: the largest element, the shifted exponentials, their sum, the scaling.
/// (`exp` is a closure literal at each call site, inlined there.)
@inline(__always)
func softmaxLoop<T: TensorScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ rows: Int, _ n: Int, _ exp: (T) -> T) {
    guard n > 0 else { return }
    for r in 0..<rows {
        let xr = x + r * n, yr = y + r * n
        let m = extremumKernel(xr, n, largest: true)
        mapKernel(xr, yr, n) { exp($0 - m) }
        let s = sumKernel(UnsafePointer(yr), n)
        let inverse = 1 / s
        mapKernel(UnsafePointer(yr), yr, n) { $0 * inverse }
    }
}

/// `dx = y ⊙ (g − ⟨g, y⟩)` for each of `rows` rows.
@inline(__always)
func softmaxPullbackLoop<T: TensorScalar>(
    _ y: UnsafePointer<T>, _ g: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, _ rows: Int, _ n: Int
) {
    for r in 0..<rows {
        let yr = y + r * n, gr = g + r * n, dr = dx + r * n
        let d = dotKernel(gr, yr, n)
        zipKernel(gr, yr, dr, n) { gi, yi in (gi - d) * yi }
    }
}

/// im2col (`adding == false`: y ← patches of x) or its adjoint col2im (`adding == true`: x += patches in y).
///
/// For each patch row `(c, di, dj)` and output line `(b, i)` the `wo` entries are one contiguous run in
/// `y` and (but for the zero padding) in the image line: plain vectorizable copies and additions.
@inline(__always)
func patchesKernel<T: TensorScalar>(
    _ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int, _ c: Int, _ h: Int, _ w: Int,
    _ k: Int, _ p: Int, _ adding: Bool
) {
    let ho = h + 2 * p - k + 1, wo = w + 2 * p - k + 1
    guard ho > 0 && wo > 0 else { return }
    let positions = n * ho * wo
    // Patch rows are independent (and in the adjoint, rows of one channel add into the same image
    // plane, so the split is by channel): two halves on two threads.
    inChunks(c, Swift.max(1, (1 << 17) / Swift.max(1, k * k * positions))) { c0, count in
        for ch in c0..<(c0 + count) {
            for di in 0..<k {
                for dj in 0..<k {
                    let row = y + ((ch * k + di) * k + dj) * positions
                    // Output columns j whose input column j + dj − p lies inside the image.
                    let jStart = Swift.max(0, p - dj), jEnd = Swift.min(wo, w + p - dj)
                    for b in 0..<n {
                        let image = x + (b * c + ch) * h * w
                        for i in 0..<ho {
                            let out = row + (b * ho + i) * wo
                            let yy = i + di - p
                            if yy < 0 || yy >= h || jStart >= jEnd {
                                if !adding { for j in 0..<wo { out[j] = 0 } }
                                continue
                            }
                            let src = image + yy * w + (dj - p)  // src[j] is column j + dj − p
                            if adding {
                                for j in jStart..<jEnd { src[j] += out[j] }
                            } else {
                                for j in 0..<jStart { out[j] = 0 }
                                for j in jStart..<jEnd { out[j] = src[j] }
                                for j in jEnd..<wo { out[j] = 0 }
                            }
                        }
                    }
                }
            }
        }
    }
}

@inlinable
func allFiniteKernel<T: TensorScalar>(_ x: UnsafePointer<T>, _ n: Int) -> Bool {
    // x − x is 0 for finite x and NaN for ±inf and NaN; a NaN poisons the sum. Blocks of 1024 stop early.
    var i = 0
    while i < n {
        let m = Swift.min(1024, n - i)
        var acc = (T(0), T(0), T(0), T(0))
        var j = 0
        while j + 4 <= m {
            acc.0 += x[i + j] - x[i + j]; acc.1 += x[i + j + 1] - x[i + j + 1]
            acc.2 += x[i + j + 2] - x[i + j + 2]; acc.3 += x[i + j + 3] - x[i + j + 3]
            j += 4
        }
        while j < m { acc.0 += x[i + j] - x[i + j]; j += 1 }
        if !((acc.0 + acc.1) + (acc.2 + acc.3)).isFinite { return false }
        i += m
    }
    return true
}

@inlinable
func rotateHalvesKernel<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ rows: Int, _ half: Int,
    _ cos: UnsafePointer<T>, _ sin: UnsafePointer<T>, _ period: Int, _ sinSign: T
) {
    let d = 2 * half
    for r in 0..<rows {
        let p = r % period
        let x1 = x + r * d, x2 = x1 + half, y1 = y + r * d, y2 = y1 + half
        let c = cos + p * half, s = sin + p * half
        for i in 0..<half {
            let a = x1[i], b = x2[i], si = sinSign * s[i]
            y1[i] = a * c[i] - b * si
            y2[i] = a * si + b * c[i]
        }
    }
}

@usableFromInline let geluC0 = 0.7978845608028654  // √(2/π)
@usableFromInline let geluC1 = 0.044715

@inlinable
func unaryKernel<T: TensorScalar>(
    _ op: UnaryOp, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int
) {
    switch op {
    case .neg: mapKernel(x, y, n) { -$0 }
    case .exp: mapKernel(x, y, n) { T.exp($0) }
    case .log: mapKernel(x, y, n) { T.log($0) }
    case .tanh: mapKernel(x, y, n) { T.tanh($0) }
    case .sqrt: mapKernel(x, y, n) { $0.squareRoot() }
    case .abs: mapKernel(x, y, n) { Swift.abs($0) }
    // NaN fails every comparison; `$0 != $0` lets it through where a bare select would map it to 0.
    case .relu: mapKernel(x, y, n) { $0 > 0 || $0 != $0 ? $0 : 0 }
    case .square: mapKernel(x, y, n) { $0 * $0 }
    case .sign: mapKernel(x, y, n) { $0 > 0 ? 1 : ($0 < 0 ? -1 : ($0 != $0 ? $0 : 0)) }
    case .sigmoid: mapKernel(x, y, n) { 1 / (1 + T.exp(-$0)) }
    case .reciprocal: mapKernel(x, y, n) { 1 / $0 }
    case .step: mapKernel(x, y, n) { $0 > 0 ? 1 : ($0 != $0 ? $0 : 0) }
    case .gelu:
        let c0 = T(geluC0), c1 = T(geluC1)
        mapKernel(x, y, n) { v in T(0.5) * v * (1 + T.tanh(c0 * (v + c1 * v * v * v))) }
    case .geluDerivative:
        let c0 = T(geluC0), c1 = T(geluC1)
        mapKernel(x, y, n) { v in
            let t = T.tanh(c0 * (v + c1 * v * v * v))
            return T(0.5) * (1 + t) + T(0.5) * v * (1 - t * t) * c0 * (1 + 3 * c1 * v * v)
        }
    }
}

@inlinable
func binaryKernel<T: TensorScalar>(
    _ op: BinaryOp, _ x: UnsafePointer<T>, _ sx: Int, _ y: UnsafePointer<T>, _ sy: Int,
    _ z: UnsafeMutablePointer<T>, _ n: Int
) {
    // Separate loops per stride pattern so that the contiguous cases vectorize.
    @inline(__always) func run(_ f: (T, T) -> T) {
        if sx == 1 && sy == 1 {
            zipKernel(x, y, z, n, f)
        } else if sx == 1 {
            let b = y[0]
            mapKernel(x, z, n) { f($0, b) }
        } else if sy == 1 {
            let a = x[0]
            mapKernel(y, z, n) { f(a, $0) }
        } else {
            let v = f(x[0], y[0])
            for i in 0..<n { z[i] = v }
        }
    }
    switch op {
    case .add: run { $0 + $1 }
    case .sub: run { $0 - $1 }
    case .mul: run { $0 * $1 }
    case .div: run { $0 / $1 }
    // A NaN operand wins (IEEE 754-2019 maximum/minimum), so that clamping or pooling never hides it.
    case .max: run { $0 >= $1 || $0 != $0 ? $0 : $1 }
    case .min: run { $0 <= $1 || $0 != $0 ? $0 : $1 }
    }
}

/// Contiguous runs up to this length are summed directly; longer ones are split in halves and the
/// halves' sums added (pairwise summation), so rounding error grows with log n rather than n.
@usableFromInline let pairwiseBlock = 2048

@inlinable
func sumKernel<T: TensorScalar>(_ x: UnsafePointer<T>, _ n: Int) -> T {
    if n > pairwiseBlock {
        let h = (n / 2) & ~7
        return sumKernel(x, h) + sumKernel(x + h, n - h)
    }
    // Eight independent accumulators: vectorizes and keeps rounding error small.
    var acc = (T(0), T(0), T(0), T(0), T(0), T(0), T(0), T(0))
    var i = 0
    while i + 8 <= n {
        acc.0 += x[i]; acc.1 += x[i + 1]; acc.2 += x[i + 2]; acc.3 += x[i + 3]
        acc.4 += x[i + 4]; acc.5 += x[i + 5]; acc.6 += x[i + 6]; acc.7 += x[i + 7]
        i += 8
    }
    var tail = T(0)
    while i < n { tail += x[i]; i += 1 }
    // Lanes 0–3 and 4–7 added lane-wise first, so that the accumulators form two natural vectors.
    return ((acc.0 + acc.4) + (acc.2 + acc.6)) + ((acc.1 + acc.5) + (acc.3 + acc.7)) + tail
}

@inlinable
func dotKernel<T: TensorScalar>(_ x: UnsafePointer<T>, _ y: UnsafePointer<T>, _ n: Int) -> T {
    if n > pairwiseBlock {
        let h = (n / 2) & ~7
        return dotKernel(x, y, h) + dotKernel(x + h, y + h, n - h)
    }
    var acc = (T(0), T(0), T(0), T(0), T(0), T(0), T(0), T(0))
    var i = 0
    while i + 8 <= n {
        acc.0 += x[i] * y[i]; acc.1 += x[i + 1] * y[i + 1]
        acc.2 += x[i + 2] * y[i + 2]; acc.3 += x[i + 3] * y[i + 3]
        acc.4 += x[i + 4] * y[i + 4]; acc.5 += x[i + 5] * y[i + 5]
        acc.6 += x[i + 6] * y[i + 6]; acc.7 += x[i + 7] * y[i + 7]
        i += 8
    }
    var tail = T(0)
    while i < n { tail += x[i] * y[i]; i += 1 }
    // Lanes 0–3 and 4–7 added lane-wise first, so that the accumulators form two natural vectors.
    return ((acc.0 + acc.4) + (acc.2 + acc.6)) + ((acc.1 + acc.5) + (acc.3 + acc.7)) + tail
}

@inlinable
func extremumKernel<T: TensorScalar>(_ x: UnsafePointer<T>, _ n: Int, largest: Bool) -> T {
    // Four running extrema: a select per element, which vectorizes (a `where` filter does not).
    // A NaN element replaces the running value and then stays (every comparison with it fails):
    // the extremum of a tensor holding NaN is NaN.
    var m = (x[0], x[0], x[0], x[0])
    var i = 0
    if largest {
        @inline(__always) func pick(_ v: T, _ m: T) -> T { v > m || v != v ? v : m }
        while i + 4 <= n {
            m.0 = pick(x[i], m.0); m.1 = pick(x[i + 1], m.1)
            m.2 = pick(x[i + 2], m.2); m.3 = pick(x[i + 3], m.3)
            i += 4
        }
        while i < n { m.0 = pick(x[i], m.0); i += 1 }
        return pick(pick(m.0, m.1), pick(m.2, m.3))
    } else {
        @inline(__always) func pick(_ v: T, _ m: T) -> T { v < m || v != v ? v : m }
        while i + 4 <= n {
            m.0 = pick(x[i], m.0); m.1 = pick(x[i + 1], m.1)
            m.2 = pick(x[i + 2], m.2); m.3 = pick(x[i + 3], m.3)
            i += 4
        }
        while i < n { m.0 = pick(x[i], m.0); i += 1 }
        return pick(pick(m.0, m.1), pick(m.2, m.3))
    }
}

@inlinable
func transposeKernel<T: TensorScalar>(_ x: UnsafePointer<T>, _ rows: Int, _ cols: Int, _ y: UnsafeMutablePointer<T>) {
    // 32×32 blocks keep both the rows read and the rows written in cache.
    let b = 32
    for i0 in stride(from: 0, to: rows, by: b) {
        let i1 = Swift.min(i0 + b, rows)
        for j0 in stride(from: 0, to: cols, by: b) {
            let j1 = Swift.min(j0 + b, cols)
            for j in j0..<j1 { for i in i0..<i1 { y[j * rows + i] = x[i * cols + j] } }
        }
    }
}

@inline(__always) private func trans(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

// MARK: - Float

// Float's transcendental maps (exp, tanh, the logistic, GELU, softmax) run in the CKernels C target:
// compiled for AVX-512, AVX2+FMA and the baseline and chosen at run time, 8 or 16 lanes wide where Swift's
// baseline (SSE2) gives 4. Branch-free Cephes polynomials, within 3 ulp (checked against Double in
// the tests).

/// The instruction set that Float's transcendental kernels (exp, tanh, the logistic function, GELU and
/// softmax) use on this CPU: `"avx512"`, `"avx2"` (with FMA) or `"baseline"`, chosen once per process.
public var floatKernelInstructionSet: String { String(cString: modula_kernels_isa()) }

extension Float: TensorScalar {
    public static func unary(_ op: UnaryOp, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        // GELU's ½(1 + tanh z) is σ(2z) = 1/(1 + e^(−2z)): one exponential and one division, and
        // ½(1 − tanh² z) = 2σ(1 − σ) for its derivative (the same functions, fewer operations).
        inChunks(n, op.isCheap ? cheapChunk : costlyChunk) { i, n in
            let x = x + i, y = y + i
            switch op {
            case .exp: modula_f32_exp(x, y, n)
            case .tanh: modula_f32_tanh(x, y, n)
            case .sigmoid: modula_f32_sigmoid(x, y, n)
            case .gelu: modula_f32_gelu(x, y, n)
            case .geluDerivative: modula_f32_gelu_derivative(x, y, n)
            default: unaryKernel(op, x, y, n)
            }
        }
    }
    public static func binary(
        _ op: BinaryOp, _ x: UnsafePointer<Float>, _ sx: Int, _ y: UnsafePointer<Float>, _ sy: Int,
        _ z: UnsafeMutablePointer<Float>, _ n: Int
    ) {
        inChunks(n, cheapChunk) { i, n in binaryKernel(op, x + i * sx, sx, y + i * sy, sy, z + i, n) }
    }
    public static func affine(_ x: UnsafePointer<Float>, _ a: Float, _ b: Float, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        inChunks(n, cheapChunk) { i, n in mapKernel(x + i, y + i, n) { a * $0 + b } }
    }
    public static func axpy(_ n: Int, _ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        for i in 0..<n { y[i] += a * x[i] }
    }
    public static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float { sumKernel(x, n) }
    public static func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Float { dotKernel(x, x, n) }
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float { dotKernel(x, y, n) }
    public static func maxElement(_ x: UnsafePointer<Float>, _ n: Int) -> Float { extremumKernel(x, n, largest: true) }
    public static func minElement(_ x: UnsafePointer<Float>, _ n: Int) -> Float { extremumKernel(x, n, largest: false) }
    public static func fill(_ y: UnsafeMutablePointer<Float>, _ value: Float, _ n: Int) {
        for i in 0..<n { y[i] = value }
    }
    public static func stridedCopy(_ x: UnsafePointer<Float>, _ stride: Int, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] = x[i * stride] }
    }
    public static func transpose(_ x: UnsafePointer<Float>, rows: Int, cols: Int, _ y: UnsafeMutablePointer<Float>) {
        transposeKernel(x, rows, cols, y)
    }
    public static func allFinite(_ x: UnsafePointer<Float>, _ n: Int) -> Bool { allFiniteKernel(x, n) }
    public static func softmaxRows(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, length: Int) {
        // exp(x − max) ≤ 1; masked (−∞) entries give exactly 0.
        inChunks(rows, Swift.max(1, costlyChunk / Swift.max(length, 1))) { r0, count in
            modula_f32_softmax_rows(x + r0 * length, y + r0 * length, count, length)
        }
    }
    public static func softmaxPullbackRows(
        _ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, rows: Int, length: Int
    ) {
        inChunks(rows, Swift.max(1, cheapChunk / Swift.max(length, 1))) { r0, count in
            softmaxPullbackLoop(y + r0 * length, g + r0 * length, dx + r0 * length, count, length)
        }
    }
    public static func patches(
        _ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, images: Int, channels: Int,
        height: Int, width: Int, kernel: Int, padding: Int, adding: Bool
    ) { patchesKernel(x, y, images, channels, height, width, kernel, padding, adding) }
    public static func gelu(
        _ x: UnsafePointer<Float>, scale: Float, cotangent g: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, _ n: Int
    ) {
        inChunks(n, costlyChunk) { i, n in modula_f32_gelu_scaled(x + i, scale, g.map { $0 + i }, y + i, n) }
    }
    public static func rotateHalves(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, half: Int,
        cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, period: Int, sinSign: Float
    ) { rotateHalvesKernel(x, y, rows, half, cos, sin, period, sinSign) }
    public static func pow(_ x: UnsafePointer<Float>, _ p: Float, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        mapKernel(x, y, n) { powf($0, p) }
    }
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        splitGEMM(transA, transB, m, n, k, a, lda, b, ldb, c, ldc) { m, n, a, b, c in
            cblas_sgemm(CblasRowMajor, trans(transA), trans(transB), Int32(m), Int32(n), Int32(k), alpha,
                        a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }
    public static func syrk(
        trans t: Bool, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        splitSYRK(t, n, k, a, lda, c, ldc) { n, a, c in
            cblas_ssyrk(CblasRowMajor, CblasUpper, trans(t), Int32(n), Int32(k), alpha, a, Int32(lda), beta, c, Int32(ldc))
        } gemm: { m, n, a, b, c in
            cblas_sgemm(CblasRowMajor, trans(t), trans(!t), Int32(m), Int32(n), Int32(k), alpha,
                        a, Int32(lda), b, Int32(lda), beta, c, Int32(ldc))
        }
    }
    public static func symm(
        m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        splitSYMM(m, n, b, c) { n, b, c in
            cblas_ssymm(CblasRowMajor, CblasLeft, CblasUpper, Int32(m), Int32(n), alpha, a, Int32(lda),
                        b, Int32(ldb), beta, c, Int32(ldc))
        }
    }
    public static func gesdd(
        m: Int, n: Int, a: UnsafeMutablePointer<Float>, s: UnsafeMutablePointer<Float>,
        u: UnsafeMutablePointer<Float>, ldu: Int, vt: UnsafeMutablePointer<Float>, ldvt: Int
    ) -> Int {
        var jobz = CChar(UInt8(ascii: "S")), mm = Int32(m), nn = Int32(n), lda = Int32(max(1, m))
        var ldu32 = Int32(ldu), ldvt32 = Int32(ldvt), info: Int32 = 0, lwork: Int32 = -1
        var iwork = [Int32](repeating: 0, count: 8 * max(1, min(m, n)))
        var query: Float = 0
        sgesdd_(&jobz, &mm, &nn, a, &lda, s, u, &ldu32, vt, &ldvt32, &query, &lwork, &iwork, &info, 1)
        lwork = Int32(query) + 1
        var work = [Float](repeating: 0, count: Int(lwork))
        ThreadPolicy.singleThreadedBLAS {
            sgesdd_(&jobz, &mm, &nn, a, &lda, s, u, &ldu32, vt, &ldvt32, &work, &lwork, &iwork, &info, 1)
        }
        return Int(info)
    }
    public static func syevd(n: Int, a: UnsafeMutablePointer<Float>, w: UnsafeMutablePointer<Float>) -> Int {
        var jobz = CChar(UInt8(ascii: "V")), uplo = CChar(UInt8(ascii: "U"))
        var nn = Int32(n), lda = Int32(max(1, n)), info: Int32 = 0, lwork: Int32 = -1, liwork: Int32 = -1
        var query: Float = 0, iquery: Int32 = 0
        ssyevd_(&jobz, &uplo, &nn, a, &lda, w, &query, &lwork, &iquery, &liwork, &info, 1, 1)
        lwork = Int32(query) + 1; liwork = iquery
        var work = [Float](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(max(1, liwork)))
        ThreadPolicy.singleThreadedBLAS {
            ssyevd_(&jobz, &uplo, &nn, a, &lda, w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
        }
        return Int(info)
    }
    @inlinable public static func exp(_ x: Float) -> Float { expf(x) }
    @inlinable public static func log(_ x: Float) -> Float { logf(x) }
    @inlinable public static func tanh(_ x: Float) -> Float { tanhf(x) }
    @inlinable public static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
}

// MARK: - Double

extension Double: TensorScalar {
    public static func unary(_ op: UnaryOp, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
        inChunks(n, op.isCheap ? cheapChunk : costlyChunk) { i, n in unaryKernel(op, x + i, y + i, n) }
    }
    public static func binary(
        _ op: BinaryOp, _ x: UnsafePointer<Double>, _ sx: Int, _ y: UnsafePointer<Double>, _ sy: Int,
        _ z: UnsafeMutablePointer<Double>, _ n: Int
    ) {
        inChunks(n, cheapChunk) { i, n in binaryKernel(op, x + i * sx, sx, y + i * sy, sy, z + i, n) }
    }
    public static func affine(_ x: UnsafePointer<Double>, _ a: Double, _ b: Double, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
        inChunks(n, cheapChunk) { i, n in mapKernel(x + i, y + i, n) { a * $0 + b } }
    }
    public static func axpy(_ n: Int, _ a: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
        for i in 0..<n { y[i] += a * x[i] }
    }
    public static func sum(_ x: UnsafePointer<Double>, _ n: Int) -> Double { sumKernel(x, n) }
    public static func sumOfSquares(_ x: UnsafePointer<Double>, _ n: Int) -> Double { dotKernel(x, x, n) }
    public static func dot(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ n: Int) -> Double { dotKernel(x, y, n) }
    public static func maxElement(_ x: UnsafePointer<Double>, _ n: Int) -> Double { extremumKernel(x, n, largest: true) }
    public static func minElement(_ x: UnsafePointer<Double>, _ n: Int) -> Double { extremumKernel(x, n, largest: false) }
    public static func fill(_ y: UnsafeMutablePointer<Double>, _ value: Double, _ n: Int) {
        for i in 0..<n { y[i] = value }
    }
    public static func stridedCopy(_ x: UnsafePointer<Double>, _ stride: Int, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0..<n { y[i] = x[i * stride] }
    }
    public static func transpose(_ x: UnsafePointer<Double>, rows: Int, cols: Int, _ y: UnsafeMutablePointer<Double>) {
        transposeKernel(x, rows, cols, y)
    }
    public static func allFinite(_ x: UnsafePointer<Double>, _ n: Int) -> Bool { allFiniteKernel(x, n) }
    public static func softmaxRows(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, rows: Int, length: Int) {
        // exp(x − max) ≤ 1; masked (−∞) entries give exactly 0.
        inChunks(rows, Swift.max(1, costlyChunk / Swift.max(length, 1))) { r0, count in
            softmaxLoop(x + r0 * length, y + r0 * length, count, length) { Double.exp($0) }
        }
    }
    public static func softmaxPullbackRows(
        _ y: UnsafePointer<Double>, _ g: UnsafePointer<Double>, _ dx: UnsafeMutablePointer<Double>, rows: Int, length: Int
    ) {
        inChunks(rows, Swift.max(1, cheapChunk / Swift.max(length, 1))) { r0, count in
            softmaxPullbackLoop(y + r0 * length, g + r0 * length, dx + r0 * length, count, length)
        }
    }
    public static func patches(
        _ x: UnsafeMutablePointer<Double>, _ y: UnsafeMutablePointer<Double>, images: Int, channels: Int,
        height: Int, width: Int, kernel: Int, padding: Int, adding: Bool
    ) { patchesKernel(x, y, images, channels, height, width, kernel, padding, adding) }
    public static func gelu(
        _ x: UnsafePointer<Double>, scale: Double, cotangent g: UnsafePointer<Double>?, _ y: UnsafeMutablePointer<Double>, _ n: Int
    ) {
        inChunks(n, costlyChunk) { i, n in geluLoop(x + i, scale, g.map { $0 + i }, y + i, n) { 1 / (1 + Double.exp(-$0)) } }
    }
    public static func rotateHalves(
        _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, rows: Int, half: Int,
        cos: UnsafePointer<Double>, sin: UnsafePointer<Double>, period: Int, sinSign: Double
    ) { rotateHalvesKernel(x, y, rows, half, cos, sin, period, sinSign) }
    public static func pow(_ x: UnsafePointer<Double>, _ p: Double, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
        mapKernel(x, y, n) { Glibc.pow($0, p) }
    }
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        splitGEMM(transA, transB, m, n, k, a, lda, b, ldb, c, ldc) { m, n, a, b, c in
            cblas_dgemm(CblasRowMajor, trans(transA), trans(transB), Int32(m), Int32(n), Int32(k), alpha,
                        a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }
    public static func syrk(
        trans t: Bool, n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        splitSYRK(t, n, k, a, lda, c, ldc) { n, a, c in
            cblas_dsyrk(CblasRowMajor, CblasUpper, trans(t), Int32(n), Int32(k), alpha, a, Int32(lda), beta, c, Int32(ldc))
        } gemm: { m, n, a, b, c in
            cblas_dgemm(CblasRowMajor, trans(t), trans(!t), Int32(m), Int32(n), Int32(k), alpha,
                        a, Int32(lda), b, Int32(lda), beta, c, Int32(ldc))
        }
    }
    public static func symm(
        m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        splitSYMM(m, n, b, c) { n, b, c in
            cblas_dsymm(CblasRowMajor, CblasLeft, CblasUpper, Int32(m), Int32(n), alpha, a, Int32(lda),
                        b, Int32(ldb), beta, c, Int32(ldc))
        }
    }
    public static func gesdd(
        m: Int, n: Int, a: UnsafeMutablePointer<Double>, s: UnsafeMutablePointer<Double>,
        u: UnsafeMutablePointer<Double>, ldu: Int, vt: UnsafeMutablePointer<Double>, ldvt: Int
    ) -> Int {
        var jobz = CChar(UInt8(ascii: "S")), mm = Int32(m), nn = Int32(n), lda = Int32(max(1, m))
        var ldu32 = Int32(ldu), ldvt32 = Int32(ldvt), info: Int32 = 0, lwork: Int32 = -1
        var iwork = [Int32](repeating: 0, count: 8 * max(1, min(m, n)))
        var query: Double = 0
        dgesdd_(&jobz, &mm, &nn, a, &lda, s, u, &ldu32, vt, &ldvt32, &query, &lwork, &iwork, &info, 1)
        lwork = Int32(query) + 1
        var work = [Double](repeating: 0, count: Int(lwork))
        ThreadPolicy.singleThreadedBLAS {
            dgesdd_(&jobz, &mm, &nn, a, &lda, s, u, &ldu32, vt, &ldvt32, &work, &lwork, &iwork, &info, 1)
        }
        return Int(info)
    }
    public static func syevd(n: Int, a: UnsafeMutablePointer<Double>, w: UnsafeMutablePointer<Double>) -> Int {
        var jobz = CChar(UInt8(ascii: "V")), uplo = CChar(UInt8(ascii: "U"))
        var nn = Int32(n), lda = Int32(max(1, n)), info: Int32 = 0, lwork: Int32 = -1, liwork: Int32 = -1
        var query: Double = 0, iquery: Int32 = 0
        dsyevd_(&jobz, &uplo, &nn, a, &lda, w, &query, &lwork, &iquery, &liwork, &info, 1, 1)
        lwork = Int32(query) + 1; liwork = iquery
        var work = [Double](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(max(1, liwork)))
        ThreadPolicy.singleThreadedBLAS {
            dsyevd_(&jobz, &uplo, &nn, a, &lda, w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
        }
        return Int(info)
    }
    @inlinable public static func exp(_ x: Double) -> Double { Glibc.exp(x) }
    @inlinable public static func log(_ x: Double) -> Double { Glibc.log(x) }
    @inlinable public static func tanh(_ x: Double) -> Double { Glibc.tanh(x) }
    @inlinable public static func pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
}

/// Sets the number of threads for tensor work.
///
/// Tensor operations use them through ``parallelForEach(_:_:)`` (independent pieces, halves of large
/// products) and call OpenBLAS on one thread; LAPACK calls (SVD, eigendecomposition) run on one
/// thread; code calling OpenBLAS directly gets `n` OpenBLAS threads.
public func setBLASThreads(_ n: Int) { ThreadPolicy.setThreads(Swift.max(1, n)) }
/// The number of threads for tensor work (see ``setBLASThreads(_:)``).
public func blasThreads() -> Int { ThreadPolicy.threads }
