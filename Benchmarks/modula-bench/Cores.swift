// blas/sgemm: `cblas_sgemm` 1024³ on one and on two OpenBLAS threads, with the core this process uses
// (`blasConfiguration`). The core is chosen once per process: `scripts/compare-blas-cores` runs this line
// under several settings, alternating, to compare OpenBLAS's own choice with the others side by side.
import CBLAS
import ModulaTensor

func benchSgemmCore() {
    let n = 1024
    let a = Buffer(n * n, seed: 21), b = Buffer(n * n, seed: 22), c = Buffer(n * n)
    let configuration = blasConfiguration
    withEachThreadCount {
        let t = timeInterleaved(budget: 1.5, maxReps: 30, [{ sgemm(false, false, n, n, n, a, b, c) }])
        report("blas/sgemm", "\(n)x\(n)x\(n)", [
            ("gflops", fmt(2.0 * Double(n * n * n) / t[0] / 1e9, 1)), ("core", configuration.core),
            ("peak_fraction", fmt(2.0 * Double(n * n * n) / t[0] / fp32Peak())),
            ("threads", "\(tensorThreads())"),
        ])
    }
}
