/// An elementwise map of one tensor, applied by a vectorizable kernel.
@usableFromInline package enum UnaryOp: Sendable {
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
    var isCheap: Bool {
        switch self {
        case .neg, .abs, .relu, .square, .sign, .step, .sqrt, .reciprocal: return true
        case .exp, .log, .tanh, .sigmoid, .gelu, .geluDerivative: return false
        }
    }
}

/// A binary elementwise operation.
@usableFromInline package enum BinaryOp: Sendable {
    case add, sub, mul, div, max, min
}

/// The scalar types a ``Tensor`` can hold: `Float` and `Double`.
///
/// Use it as a generic constraint (`func f<S: TensorScalar>(_ x: Tensor<S>)`). Its one requirement,
/// ``_kernels``, hands the tensor layer the raw-pointer kernels (BLAS, LAPACK, vectorized loops) of the
/// type; they are `package` API, so they neither appear in a user's completions nor clash with other
/// libraries' `Float.exp` or `Float.pow`. Only swift-modula can make a kernel table, so other types cannot
/// usefully conform.
public protocol TensorScalar: BinaryFloatingPoint, Sendable, CustomStringConvertible
where RawSignificand: FixedWidthInteger {
    /// The tensor layer's kernels for this type (an implementation detail of swift-modula, not API).
    static var _kernels: _TensorKernels<Self> { get }
}

/// The kernels behind ``Tensor``'s operations for one scalar type (an implementation detail, not API).
///
/// A table rather than protocol requirements: requirements of a public protocol are public, while the
/// table's members are `package`, so code outside swift-modula can neither call a kernel nor make a table
/// (which keeps ``TensorScalar`` to `Float` and `Double`). Generic code pays one witness call and one
/// indirect call per operation, as it paid one witness call before; the loops inside are specialized
/// for the type. Everything but the BLAS/LAPACK routines and Float's vectorized transcendental maps is
/// written once, in ``init(blas:unary:gelu:softmaxRows:)``.
public final class _TensorKernels<Scalar: TensorScalar>: Sendable {
    typealias In = UnsafePointer<Scalar>
    typealias Out = UnsafeMutablePointer<Scalar>

    let unary: @Sendable (UnaryOp, In, Out, Int) -> Void
    let binary: @Sendable (BinaryOp, In, Int, In, Int, Out, Int) -> Void
    let affine: @Sendable (In, Scalar, Scalar, Out, Int) -> Void
    let axpy: @Sendable (Int, Scalar, In, Out) -> Void
    let sum: @Sendable (In, Int) -> Scalar
    let dot: @Sendable (In, In, Int) -> Scalar
    let extremum: @Sendable (In, Int, Bool) -> Scalar
    let pow: @Sendable (In, Scalar, Out, Int) -> Void
    let fill: @Sendable (Out, Scalar, Int) -> Void
    let copy: @Sendable (In, Out, Int) -> Void
    let stridedCopy: @Sendable (In, Int, Out, Int) -> Void
    let transpose: @Sendable (In, Int, Int, Out) -> Void
    let gelu: @Sendable (In, Scalar, In?, Out, Int) -> Void
    let patches: @Sendable (Out, Out, Int, Int, Int, Int, Int, Int, Bool) -> Void
    let softmaxRows: @Sendable (In, Out, Int, Int) -> Void
    let softmaxPullbackRows: @Sendable (In, In, Out, Int, Int) -> Void
    let allFinite: @Sendable (In, Int) -> Bool
    let rotateHalves: @Sendable (In, Out, Int, Int, In, In, Int, Scalar) -> Void
    let mirrorUpper: @Sendable (Out, Int, Out?) -> Void
    let largestMagnitude: @Sendable (In, Int) -> Scalar?
    let gemm: @Sendable (Bool, Bool, Int, Int, Int, Scalar, In, Int, In, Int, Scalar, Out, Int) -> Void
    let syrk: @Sendable (Bool, Int, Int, Scalar, In, Int, Scalar, Out, Int) -> Void
    let symm: @Sendable (Int, Int, Scalar, In, Int, In, Int, Scalar, Out, Int) -> Void
    let gesdd: @Sendable (Int, Int, Out, Out, Out, Int, Out, Int) -> Int
    let syevd: @Sendable (Int, Out, Out) -> Int

    /// The table of one type from its BLAS/LAPACK routines and its chunk kernels for the transcendental
    /// maps (each called on one contiguous chunk; splitting between threads is done here).
    ///
    /// Inlined into each conformance's `static let`, so that every closure below is compiled for the
    /// concrete type (a generic closure would run its loops unspecialized, 10–100× slower).
    @inline(__always)
    init(
        blas: BLASRoutines<Scalar>,
        unary unaryChunk: @escaping @Sendable (UnaryOp, In, Out, Int) -> Void,
        gelu geluChunk: @escaping @Sendable (In, Scalar, In?, Out, Int) -> Void,
        softmaxRows softmaxChunk: @escaping @Sendable (In, Out, Int, Int) -> Void
    ) {
        unary = { op, x, y, n in inChunks(n, op.isCheap ? cheapChunk : costlyChunk) { i, n in unaryChunk(op, x + i, y + i, n) } }
        gelu = { x, scale, g, y, n in inChunks(n, costlyChunk) { i, n in geluChunk(x + i, scale, g.map { $0 + i }, y + i, n) } }
        softmaxRows = { x, y, rows, length in
            // exp(x − max) ≤ 1; masked (−∞) entries give exactly 0.
            inChunks(rows, Swift.max(1, costlyChunk / Swift.max(length, 1))) { r0, count in
                softmaxChunk(x + r0 * length, y + r0 * length, count, length)
            }
        }
        binary = { op, x, sx, y, sy, z, n in
            inChunks(n, cheapChunk) { i, n in binaryKernel(op, x + i * sx, sx, y + i * sy, sy, z + i, n) }
        }
        affine = { x, a, b, y, n in inChunks(n, cheapChunk) { i, n in mapKernel(x + i, y + i, n) { a * $0 + b } } }
        axpy = { n, a, x, y in for i in 0..<n { y[i] += a * x[i] } }
        sum = { x, n in sumKernel(x, n) }
        dot = { x, y, n in dotKernel(x, y, n) }
        extremum = { x, n, largest in extremumKernel(x, n, largest: largest) }
        pow = { x, p, y, n in mapKernel(x, y, n) { Scalar.pow($0, p) } }
        fill = { y, value, n in for i in 0..<n { y[i] = value } }
        copy = { x, y, n in y.update(from: x, count: n) }
        stridedCopy = { x, stride, y, n in for i in 0..<n { y[i] = x[i * stride] } }
        transpose = { x, rows, cols, y in transposeKernel(x, rows, cols, y) }
        patches = { x, y, n, c, h, w, k, p, adding in patchesKernel(x, y, n, c, h, w, k, p, adding) }
        softmaxPullbackRows = { y, g, dx, rows, length in
            inChunks(rows, Swift.max(1, cheapChunk / Swift.max(length, 1))) { r0, count in
                softmaxPullbackLoop(y + r0 * length, g + r0 * length, dx + r0 * length, count, length)
            }
        }
        allFinite = { x, n in allFiniteKernel(x, n) }
        rotateHalves = { x, y, rows, half, cos, sin, period, sign in rotateHalvesKernel(x, y, rows, half, cos, sin, period, sign) }
        mirrorUpper = { p, k, upper in mirrorUpperKernel(p, k, copyingUpperTo: upper) }
        largestMagnitude = { x, n in largestMagnitudeKernel(x, n) }
        gemm = { transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc in
            blas.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        }
        syrk = { t, n, k, alpha, a, lda, beta, c, ldc in blas.syrk(t, n, k, alpha, a, lda, beta, c, ldc) }
        symm = { m, n, alpha, a, lda, b, ldb, beta, c, ldc in blas.symm(m, n, alpha, a, lda, b, ldb, beta, c, ldc) }
        gesdd = { m, n, a, s, u, ldu, vt, ldvt in blas.gesdd(m, n, a, s, u, ldu, vt, ldvt) }
        syevd = { n, a, w in blas.syevd(n, a, w) }
    }
}
