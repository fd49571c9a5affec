import CBLAS

// Double's maps are the shared Swift loops (GenericKernels.swift), with Glibc's exp and tanh.

extension Double: TensorScalar {
    /// The tensor layer's kernels for `Double` (an implementation detail, not API).
    public static let _kernels = _TensorKernels<Double>(
        blas: BLASRoutines(
            cblasGEMM: cblas_dgemm, cblasSYRK: cblas_dsyrk, cblasSYMM: cblas_dsymm,
            lapackGESDD: dgesdd_, lapackSYEVD: dsyevd_),
        unary: { op, x, y, n in unaryKernel(op, x, y, n) },
        gelu: { x, scale, g, y, n in geluLoop(x, scale, g, y, n) { 1 / (1 + Double.exp(-$0)) } },
        softmaxRows: { x, y, rows, length in softmaxLoop(x, y, rows, length) { Double.exp($0) } })
}
