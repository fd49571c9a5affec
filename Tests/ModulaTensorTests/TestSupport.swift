// Shared helpers: naive reference implementations, approximate comparison and a finite-difference
// gradient checker. The references index elements one by one, independently of the kernels under test.
import Testing
@testable import ModulaTensor

// MARK: - Indexing

/// Row-major strides of a shape.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
    return s
}

/// The multi-index of flat position `flat` in `shape`.
func multiIndex(_ flat: Int, _ shape: [Int]) -> [Int] {
    var idx = [Int](repeating: 0, count: shape.count)
    var r = flat
    for i in stride(from: shape.count - 1, through: 0, by: -1) { idx[i] = r % shape[i]; r /= shape[i] }
    return idx
}

/// The flat position of a multi-index in `shape`.
func flatIndex(_ idx: [Int], _ shape: [Int]) -> Int {
    zip(idx, rowMajorStrides(shape)).reduce(0) { $0 + $1.0 * $1.1 }
}

// MARK: - Naive references

/// `f(a, b)` with NumPy broadcasting, one element at a time.
func naiveBroadcast<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, _ f: (T, T) -> T) -> (shape: [Int], scalars: [T]) {
    let r = max(a.rank, b.rank)
    let pa = [Int](repeating: 1, count: r - a.rank) + a.shape
    let pb = [Int](repeating: 1, count: r - b.rank) + b.shape
    let out = (0..<r).map { max(pa[$0], pb[$0]) }
    let sa = a.scalars, sb = b.scalars
    let n = out.reduce(1, *)
    var result: [T] = []
    for k in 0..<n {
        let idx = multiIndex(k, out)
        let ia = (0..<r).map { pa[$0] == 1 ? 0 : idx[$0] }
        let ib = (0..<r).map { pb[$0] == 1 ? 0 : idx[$0] }
        result.append(f(sa[flatIndex(ia, pa)], sb[flatIndex(ib, pb)]))
    }
    return (out, result)
}

/// Reduction of `x` over `axes` with `f`, starting from `initial`.
func naiveReduce<T: TensorScalar>(
    _ x: Tensor<T>, axes: [Int], keep: Bool, initial: T, _ f: (T, T) -> T
) -> (shape: [Int], scalars: [T]) {
    let axes = Set(axes.map { $0 < 0 ? $0 + x.rank : $0 })
    let kept = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
    var acc = [T](repeating: initial, count: kept.reduce(1, *))
    let s = x.scalars
    for k in 0..<x.count {
        var idx = multiIndex(k, x.shape)
        for a in axes { idx[a] = 0 }
        let o = flatIndex(idx, kept)
        acc[o] = f(acc[o], s[k])
    }
    let shape = keep ? kept : x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    return (shape, acc)
}

/// `op(a) · op(b)` for matrices or equal-batch stacks, by the triple loop.
func naiveMatmul<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool) -> Tensor<T> {
    let batch = Array(a.shape.dropLast(2))
    let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
    let (m, k) = transposeA ? (ac, ar) : (ar, ac)
    let n = transposeB ? br : bc
    let sa = a.scalars, sb = b.scalars
    let bBatched = b.rank > 2
    var out: [T] = []
    for bi in 0..<batch.reduce(1, *) {
        for i in 0..<m {
            for j in 0..<n {
                var s = T(0)
                for p in 0..<k {
                    let x = transposeA ? sa[bi * ar * ac + p * ac + i] : sa[bi * ar * ac + i * ac + p]
                    let bo = bBatched ? bi * br * bc : 0
                    let y = transposeB ? sb[bo + j * bc + p] : sb[bo + p * bc + j]
                    s += x * y
                }
                out.append(s)
            }
        }
    }
    return Tensor(shape: batch + [m, n], scalars: out)
}

// MARK: - Comparison

/// Default comparison tolerance per scalar type.
func defaultTolerance<T: TensorScalar>(_: T.Type) -> T { T.self == Float.self ? 1e-5 : 1e-12 }

/// Whether `a` and `b` agree elementwise to `tol` relative to the larger magnitude (absolute near 0).
func isClose<T: TensorScalar>(_ a: [T], _ b: [T], tolerance tol: T? = nil) -> Bool {
    let tol = tol ?? defaultTolerance(T.self)
    guard a.count == b.count else { return false }
    for (x, y) in zip(a, b) {
        if x.isNaN || y.isNaN { return false }
        if Swift.abs(x - y) > tol * Swift.max(1, Swift.abs(x), Swift.abs(y)) { return false }
    }
    return true
}

/// Expects `t` to have `shape` and scalars close to `scalars`.
func expectClose<T: TensorScalar>(
    _ t: Tensor<T>, _ shape: [Int], _ scalars: [T], tolerance: T? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(t.shape == shape, "shape", sourceLocation: sourceLocation)
    #expect(isClose(t.scalars, scalars, tolerance: tolerance), "\(t.scalars) vs \(scalars)", sourceLocation: sourceLocation)
}

/// Expects two tensors to have the same shape and close scalars.
func expectClose<T: TensorScalar>(
    _ a: Tensor<T>, _ b: Tensor<T>, tolerance: T? = nil, sourceLocation: SourceLocation = #_sourceLocation
) {
    expectClose(a, b.shape, b.scalars, tolerance: tolerance, sourceLocation: sourceLocation)
}

// MARK: - Random inputs

/// Normal samples; with `awayFromZero`, magnitudes are at least that value (for kinks at 0).
func randn<T: TensorScalar>(
    _ shape: [Int], seed: UInt64, scale: T = 1, awayFromZero: T = 0, as: T.Type = T.self
) -> Tensor<T> {
    var rng = RandomGenerator(seed: seed)
    var t = Tensor<T>.randomNormal(shape, standardDeviation: scale, using: &rng)
    if awayFromZero > 0 {
        t.withUnsafeMutableBufferPointer { p in
            for i in p.indices where Swift.abs(p[i]) < awayFromZero { p[i] = p[i] < 0 ? -awayFromZero : awayFromZero }
        }
    }
    return t
}

/// Uniform samples on `[low, high)`.
func randu<T: TensorScalar>(_ shape: [Int], seed: UInt64, _ low: T, _ high: T) -> Tensor<T> {
    var rng = RandomGenerator(seed: seed)
    return Tensor<T>.randomUniform(shape, low: low, high: high, using: &rng)
}

// MARK: - Finite-difference gradient check

/// Relative error ‖g_ad − g_fd‖ / max(‖g_ad‖, ‖g_fd‖, tiny) of the reverse-mode gradient of `f` at `inputs`,
/// computed on the whole gradient (all inputs concatenated).
///
/// The scalar loss is `sum(f(x) ⊙ R)` for a fixed random `R`, so every output component matters.
/// Finite differences are central with step `h`.
func gradientError(
    at inputs: [Tensor<Double>], seed: UInt64 = 7, step h: Double = 1e-6,
    _ f: ([Tensor<Double>]) -> Tensor<Double>
) -> Double {
    let out = f(inputs)
    let r = randn(out.shape, seed: seed, as: Double.self)
    func loss(_ xs: [Tensor<Double>]) -> Double {
        let y = f(xs).scalars, w = r.scalars
        var s = 0.0
        for i in 0..<y.count { s += y[i] * w[i] }
        return s
    }
    let (value, ad) = valueWithGradient(at: inputs) { (f($0) * r).sum() }
    precondition(Swift.abs(value.scalar - loss(inputs)) <= 1e-9 * Swift.max(1, Swift.abs(value.scalar)),
                 "taped value \(value.scalar) differs from plain value \(loss(inputs))")
    var diff = 0.0, nad = 0.0, nfd = 0.0
    for (i, x) in inputs.enumerated() {
        precondition(ad[i].shape == x.shape, "gradient shape \(ad[i].shape) for input shape \(x.shape)")
        let g = ad[i].scalars
        for j in 0..<x.count {
            var xs = inputs
            xs[i].withUnsafeMutableBufferPointer { $0[j] += h }
            let up = loss(xs)
            xs[i].withUnsafeMutableBufferPointer { $0[j] -= 2 * h }
            let down = loss(xs)
            let fd = (up - down) / (2 * h)
            diff += (g[j] - fd) * (g[j] - fd)
            nad += g[j] * g[j]
            nfd += fd * fd
        }
    }
    return diff.squareRoot() / Swift.max(nad.squareRoot(), nfd.squareRoot(), 1e-30)
}

/// Expects the reverse-mode gradient of `f` to match central finite differences to `tolerance`.
func expectGradient(
    at inputs: [Tensor<Double>], tolerance: Double = 1e-6, seed: UInt64 = 7,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ f: ([Tensor<Double>]) -> Tensor<Double>
) {
    let e = gradientError(at: inputs, seed: seed, f)
    #expect(e <= tolerance, "relative gradient error \(e)", sourceLocation: sourceLocation)
}
