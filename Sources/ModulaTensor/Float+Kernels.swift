import CBLAS
import CKernels

// Float's transcendental maps (exp, tanh, the logistic, GELU, softmax) run in the CKernels C target:
// compiled for AVX-512, AVX2+FMA and the baseline and chosen at run time, 8 or 16 lanes wide where Swift's
// baseline (SSE2) gives 4. Branch-free Cephes polynomials, within 3 ulp (checked against Double in
// the tests). Everything else is the shared table (TensorScalar.swift).

/// The instruction set that Float's transcendental kernels (exp, tanh, the logistic function, GELU and
/// softmax) use on this CPU: `"avx512"`, `"avx2"` (with FMA) or `"baseline"`, chosen once per process.
public var floatKernelInstructionSet: String { String(cString: modula_kernels_isa()) }

extension Float: TensorScalar {
    /// The tensor layer's kernels for `Float` (an implementation detail, not API).
    public static let _kernels = _TensorKernels<Float>(
        blas: BLASRoutines(
            cblasGEMM: cblas_sgemm, cblasSYRK: cblas_ssyrk, cblasSYMM: cblas_ssymm,
            lapackGESDD: sgesdd_, lapackSYEVD: ssyevd_),
        // GELU's ½(1 + tanh z) is σ(2z) = 1/(1 + e^(−2z)): one exponential and one division, and
        // ½(1 − tanh² z) = 2σ(1 − σ) for its derivative (the same functions, fewer operations).
        unary: { op, x, y, n in
            switch op {
            case .exp: modula_f32_exp(x, y, n)
            case .tanh: modula_f32_tanh(x, y, n)
            case .sigmoid: modula_f32_sigmoid(x, y, n)
            case .gelu: modula_f32_gelu(x, y, n)
            case .geluDerivative: modula_f32_gelu_derivative(x, y, n)
            default: unaryKernel(op, x, y, n)
            }
        },
        gelu: { x, scale, g, y, n in modula_f32_gelu_scaled(x, scale, g, y, n) },
        softmaxRows: { x, y, rows, length in modula_f32_softmax_rows(x, y, rows, length) })
}
