// bench orthogonalize/<method> <rows>x<cols> ms=… gflops=… sgemm_ratio=… peak_fraction=… kernels_ms=… gemm_form_ms=… threads=…
//
// Each polynomial method issues, per step, k²L + k³ + 2k²L FLOPs on a k×L matrix (k the short side):
// the Gram matrix by SYRK, the quadratic term by SYRK, and the update by SYMM/GEMM. `gflops` counts
// those FLOPs; `sgemm_ratio` divides that rate by the rate of `cblas_sgemm` on a 1024³ product timed
// in the same run and thread count. The SVD line gives milliseconds only.
//
// Two baselines, timed interleaved with the method (one step each, times the method's step count):
// - kernels_ms: the same BLAS calls alone (SYRK, SYRK, SYMM or GEMM per step, through the tensor layer's thread
//   split, on preallocated buffers, no scaling, mirroring or panels): what the iteration would take if everything
//   but OpenBLAS's kernels cost nothing. A competitor issuing more FLOPs can be beaten by at most its time over this.
// - gemm_form_ms: the plain-GEMM form that the JAX reference compiles (A = X Xᵀ, A·A, B·X: 2k²L + 2k³ + 2k²L
//   FLOPs, 6n³ for a square matrix) with OpenBLAS's GEMM: JAX's time over this compares XLA's GEMMs with
//   OpenBLAS's on the same FLOPs.
import CBLAS
import Modula
import ModulaTensor

let orthogonalizers: [(String, any Orthogonalizer, Int?)] = [
    ("muon5", MuonNewtonSchulz(), 5), ("six-step", SixStepNewtonSchulz(), 6),
    ("quintic", ConvergentQuintic(), 10), ("polar-express", PolarExpress(), 8), ("svd", SVDOrthogonalizer(), nil),
]

func benchOrthogonalize(_ filters: [String]) {
    let shapes = [(256, 256), (1024, 1024), (1024, 4096), (4096, 1024)]
    withEachThreadCount {
        let n = 1024
        let a = Buffer(n * n, seed: 5), b = Buffer(n * n, seed: 6), c = Buffer(n * n, seed: 7)
        let sgemmSeconds = timeInterleaved(budget: 1, maxReps: 20, [{ sgemm(false, false, n, n, n, a, b, c) }])[0]
        let sgemmRate = 2.0 * Double(n * n * n) / sgemmSeconds
        letOpenBLASWorkersSleep()
        for (name, method, steps) in orthogonalizers where selected("orthogonalize/\(name)", filters) {
            for (rows, cols) in shapes {
                // The exact SVD of the two large rectangular shapes takes seconds: one repetition.
                var rng = RandomGenerator(seed: 8)
                let g = Tensor<Float>.randomNormal([rows, cols], using: &rng)
                let big = rows * cols > 1 << 21
                var bodies = [{ blackHole(method.orthogonalize(g)) }]
                if steps != nil { bodies += newtonSchulzBaselines(rows: rows, cols: cols) }
                let times = timeInterleaved(budget: big ? 2 : 1, maxReps: big ? 3 : 20, bodies)
                let t = times[0]
                var fields = [("ms", fmt(t * 1e3, 2))]
                if let steps {
                    let k = Double(Swift.min(rows, cols)), l = Double(Swift.max(rows, cols))
                    let flops = Double(steps) * (3 * k * k * l + k * k * k)
                    fields += [("gflops", fmt(flops / t / 1e9, 1)), ("sgemm_ratio", fmt(flops / t / sgemmRate)),
                               ("peak_fraction", fmt(flops / t / fp32Peak())),
                               ("kernels_ms", fmt(Double(steps) * times[1] * 1e3, 2)),
                               ("gemm_form_ms", fmt(Double(steps) * times[2] * 1e3, 2))]
                }
                fields.append(("threads", "\(tensorThreads())"))
                report("orthogonalize/\(name)", "\(rows)x\(cols)", fields)
            }
        }
    }
}

/// One step of each baseline of the polynomial iterations on a rows×cols matrix (see the top of this file): the
/// iteration's own BLAS calls, and the plain-GEMM form, both through the tensor layer's routines and thread split.
func newtonSchulzBaselines(rows: Int, cols: Int) -> [() -> Void] {
    let wide = rows <= cols
    let k = Swift.min(rows, cols), l = Swift.max(rows, cols)
    // Inputs of magnitude ≤ 1/(2√L) keep every product of size ~1, as in the iteration (no overflow, no denormals).
    let x = Buffer(rows * cols, seed: 9), a = Buffer(k * k, seed: 10), b = Buffer(k * k, seed: 11)
    let t = Buffer(rows * cols, seed: 12)
    let scale = 1 / Float(l).squareRoot()
    for i in 0..<x.count { x.p[i] *= scale }
    for i in 0..<a.count { a.p[i] *= scale; b.p[i] *= scale }
    let kernels = {
        Float.syrk(trans: !wide, n: k, k: l, alpha: 1, a: x.p, lda: cols, beta: 0, c: a.p, ldc: k)
        Float.syrk(trans: false, n: k, k: k, alpha: 1, a: a.p, lda: k, beta: 1, c: b.p, ldc: k)
        if wide {
            Float.symm(m: k, n: l, alpha: 1, a: b.p, lda: k, b: x.p, ldb: cols, beta: 0, c: t.p, ldc: cols)
        } else {
            Float.gemm(transA: false, transB: false, m: rows, n: cols, k: k, alpha: 1, a: x.p, lda: cols,
                       b: b.p, ldb: k, beta: 0, c: t.p, ldc: cols)
        }
        blackHole(t)
    }
    // The form JAX compiles, on the wide orientation (k×L; the reference transposes a tall input first).
    let gemmForm = {
        Float.gemm(transA: false, transB: true, m: k, n: k, k: l, alpha: 1, a: x.p, lda: l, b: x.p, ldb: l,
                   beta: 0, c: a.p, ldc: k)
        Float.gemm(transA: false, transB: false, m: k, n: k, k: k, alpha: 1, a: a.p, lda: k, b: a.p, ldb: k,
                   beta: 1, c: b.p, ldc: k)
        Float.gemm(transA: false, transB: false, m: k, n: l, k: k, alpha: 1, a: b.p, lda: k, b: x.p, ldb: l,
                   beta: 0, c: t.p, ldc: l)
        blackHole(t)
    }
    return [kernels, gemmForm]
}
