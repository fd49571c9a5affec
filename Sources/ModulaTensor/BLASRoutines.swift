import CBLAS

// One scalar type's BLAS and LAPACK routines (cblas_sgemm or cblas_dgemm, …), and the calls the kernel
// table makes with them, written once for both types: single-threaded OpenBLAS inside tensor operations,
// large products split between the tensor layer's threads (Parallel.swift), LAPACK's work-space query.

/// The C routines of one scalar type, as Swift imports them from `cblas.h` and the Fortran LAPACK symbols.
struct BLASRoutines<T: TensorScalar>: Sendable {
    typealias In = UnsafePointer<T>?
    typealias Out = UnsafeMutablePointer<T>?
    typealias Int32In = UnsafePointer<Int32>?
    typealias Int32Out = UnsafeMutablePointer<Int32>?
    typealias Text = UnsafePointer<CChar>?

    let cblasGEMM: @Sendable (
        CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, Int32, Int32, Int32, T, In, Int32, In, Int32, T, Out, Int32) -> Void
    let cblasSYRK: @Sendable (CBLAS_ORDER, CBLAS_UPLO, CBLAS_TRANSPOSE, Int32, Int32, T, In, Int32, T, Out, Int32) -> Void
    let cblasSYMM: @Sendable (
        CBLAS_ORDER, CBLAS_SIDE, CBLAS_UPLO, Int32, Int32, T, In, Int32, In, Int32, T, Out, Int32) -> Void
    /// `?gesdd_`: jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, iwork, info, length of jobz.
    let lapackGESDD: @Sendable (
        Text, Int32In, Int32In, Out, Int32In, Out, Out, Int32In, Out, Int32In, Out, Int32In, Int32Out, Int32Out, Int) -> Void
    /// `?syevd_`: jobz, uplo, n, a, lda, w, work, lwork, iwork, liwork, info, lengths of jobz and uplo.
    let lapackSYEVD: @Sendable (
        Text, Text, Int32In, Out, Int32In, Out, Out, Int32In, Int32Out, Int32In, Int32Out, Int, Int) -> Void

    func gemm(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: T,
        _ a: UnsafePointer<T>, _ lda: Int, _ b: UnsafePointer<T>, _ ldb: Int,
        _ beta: T, _ c: UnsafeMutablePointer<T>, _ ldc: Int
    ) {
        splitGEMM(transA, transB, m, n, k, a, lda, b, ldb, c, ldc) { m, n, a, b, c in
            cblasGEMM(CblasRowMajor, trans(transA), trans(transB), Int32(m), Int32(n), Int32(k), alpha,
                      a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }

    func syrk(
        _ t: Bool, _ n: Int, _ k: Int, _ alpha: T, _ a: UnsafePointer<T>, _ lda: Int,
        _ beta: T, _ c: UnsafeMutablePointer<T>, _ ldc: Int
    ) {
        splitSYRK(t, n, k, a, lda, c, ldc) { n, a, c in
            cblasSYRK(CblasRowMajor, CblasUpper, trans(t), Int32(n), Int32(k), alpha, a, Int32(lda), beta, c, Int32(ldc))
        } gemm: { m, n, a, b, c in
            cblasGEMM(CblasRowMajor, trans(t), trans(!t), Int32(m), Int32(n), Int32(k), alpha,
                      a, Int32(lda), b, Int32(lda), beta, c, Int32(ldc))
        }
    }

    func symm(
        _ m: Int, _ n: Int, _ alpha: T, _ a: UnsafePointer<T>, _ lda: Int, _ b: UnsafePointer<T>, _ ldb: Int,
        _ beta: T, _ c: UnsafeMutablePointer<T>, _ ldc: Int
    ) {
        splitSYMM(m, n, b, c) { n, b, c in
            cblasSYMM(CblasRowMajor, CblasLeft, CblasUpper, Int32(m), Int32(n), alpha, a, Int32(lda),
                      b, Int32(ldb), beta, c, Int32(ldc))
        }
    }

    func gesdd(
        _ m: Int, _ n: Int, _ a: UnsafeMutablePointer<T>, _ s: UnsafeMutablePointer<T>,
        _ u: UnsafeMutablePointer<T>, _ ldu: Int, _ vt: UnsafeMutablePointer<T>, _ ldvt: Int
    ) -> Int {
        var jobz = CChar(UInt8(ascii: "S")), mm = Int32(m), nn = Int32(n), lda = Int32(Swift.max(1, m))
        var ldu32 = Int32(ldu), ldvt32 = Int32(ldvt), info: Int32 = 0, lwork: Int32 = -1
        var iwork = [Int32](repeating: 0, count: 8 * Swift.max(1, Swift.min(m, n)))
        var query = T(0)
        lapackGESDD(&jobz, &mm, &nn, a, &lda, s, u, &ldu32, vt, &ldvt32, &query, &lwork, &iwork, &info, 1)
        lwork = Int32(query) + 1
        var work = [T](repeating: 0, count: Int(lwork))
        ThreadPolicy.singleThreadedBLAS {
            lapackGESDD(&jobz, &mm, &nn, a, &lda, s, u, &ldu32, vt, &ldvt32, &work, &lwork, &iwork, &info, 1)
        }
        return Int(info)
    }

    func syevd(_ n: Int, _ a: UnsafeMutablePointer<T>, _ w: UnsafeMutablePointer<T>) -> Int {
        var jobz = CChar(UInt8(ascii: "V")), uplo = CChar(UInt8(ascii: "U"))
        var nn = Int32(n), lda = Int32(Swift.max(1, n)), info: Int32 = 0, lwork: Int32 = -1, liwork: Int32 = -1
        var query = T(0), iquery: Int32 = 0
        lapackSYEVD(&jobz, &uplo, &nn, a, &lda, w, &query, &lwork, &iquery, &liwork, &info, 1, 1)
        lwork = Int32(query) + 1; liwork = iquery
        var work = [T](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(Swift.max(1, liwork)))
        ThreadPolicy.singleThreadedBLAS {
            lapackSYEVD(&jobz, &uplo, &nn, a, &lda, w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
        }
        return Int(info)
    }
}

@inline(__always) private func trans(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }
