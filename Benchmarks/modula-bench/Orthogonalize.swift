// bench orthogonalize/<method> <rows>x<cols> ms=… gflops=… sgemm_ratio=… threads=…
//
// Each polynomial method issues, per step, k²L + k³ + 2k²L FLOPs on a k×L matrix (k the short side):
// the Gram matrix by SYRK, the quadratic term by SYRK, and the update by SYMM/GEMM. `gflops` counts
// those FLOPs; `sgemm_ratio` divides that rate by the rate of `cblas_sgemm` on a 1024³ product timed
// in the same run and thread count. The SVD line gives milliseconds only.
import CBLAS
import Modula

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
                let t = timeInterleaved(budget: big ? 2 : 1, maxReps: big ? 3 : 20, [{ blackHole(method.orthogonalize(g)) }])[0]
                var fields = [("ms", fmt(t * 1e3, 2))]
                if let steps {
                    let k = Double(Swift.min(rows, cols)), l = Double(Swift.max(rows, cols))
                    let flops = Double(steps) * (3 * k * k * l + k * k * k)
                    fields += [("gflops", fmt(flops / t / 1e9, 1)), ("sgemm_ratio", fmt(flops / t / sgemmRate)),
                               ("peak_fraction", fmt(flops / t / fp32Peak()))]
                }
                fields.append(("threads", "\(tensorThreads())"))
                report("orthogonalize/\(name)", "\(rows)x\(cols)", fields)
            }
        }
    }
}
