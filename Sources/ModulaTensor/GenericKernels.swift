// The loops behind the kernel table, written once for Float and Double. Each conformance's table
// (Float+Kernels.swift, Double+Kernels.swift) calls them with a concrete type, so the compiler
// specializes every loop for it.

// In-place calls (`y == x`) get loops over one pointer: LLVM's runtime overlap check rejects a
// distance of zero and would run the two-pointer loop scalar, 4–8× slower than vectorized.

/// `y[i] = f(x[i])`, vectorizable also when `y == x`.
@inline(__always)
func mapKernel<T>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ n: Int, _ f: (T) -> T) {
    if UnsafePointer(y) == x {
        for i in 0..<n { y[i] = f(y[i]) }
    } else {
        for i in 0..<n { y[i] = f(x[i]) }
    }
}

/// `z[i] = f(x[i], y[i])`, vectorizable also when `z` is `x` or `y`.
@inline(__always)
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

let geluC0 = 0.7978845608028654  // √(2/π)
let geluC1 = 0.044715

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
let pairwiseBlock = 2048

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

func extremumKernel<T: TensorScalar>(_ x: UnsafePointer<T>, _ n: Int, largest: Bool) -> T {
    // A NaN element replaces the running value and then stays (every comparison with it fails):
    // the extremum of a tensor holding NaN is NaN.
    largest ? runningExtremum(x, n) { v, m in v > m || v != v ? v : m } : runningExtremum(x, n) { v, m in v < m || v != v ? v : m }
}

/// Four running extrema, `m = pick(x[i], m)`: a select per element, which vectorizes (a `where` filter does not).
@inline(__always)
private func runningExtremum<T: TensorScalar>(_ x: UnsafePointer<T>, _ n: Int, _ pick: (T, T) -> T) -> T {
    var m = (x[0], x[0], x[0], x[0])
    var i = 0
    while i + 4 <= n {
        m.0 = pick(x[i], m.0); m.1 = pick(x[i + 1], m.1)
        m.2 = pick(x[i + 2], m.2); m.3 = pick(x[i + 3], m.3)
        i += 4
    }
    while i < n { m.0 = pick(x[i], m.0); i += 1 }
    return pick(pick(m.0, m.1), pick(m.2, m.3))
}

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

