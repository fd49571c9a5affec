// threads/<op>: whether a second thread pays, per operation and size (issue 16, "threads that pay").
//
//   bench threads/gemm 256x256x256 one_ms=… policy_ms=… split_ms=… openblas_ms=… policy_speedup=… split_speedup=… openblas_speedup=…
//   bench threads/add 65536 one_ms=… policy_ms=… split_ms=… policy_speedup=… split_speedup=…
//
// one: one thread for tensor work. policy: two threads, with the tensor layer's own choice (products of at least
// 2²¹ multiply–adds and maps of at least 2¹⁸ (cheap) or 2¹⁵ (transcendental) elements split in two halves on its
// pool). split: two threads, always split in halves on the pool (a half may split again by the policy). openblas: `cblas_sgemm` on OpenBLAS's own two
// threads, timed after the others (its workers spin after each call and would take the pool's core). Each figure is
// the fastest of interleaved repetitions (on a shared machine the fastest is the least disturbed); speedups are
// one_ms over the variant's ms, so above 1 means the second thread paid.
import CBLAS
import ModulaTensor

/// The fastest run of each body over interleaved repetitions, each body after its own `setup`.
private func fastest(budget: Double, _ variants: [(setup: () -> Void, body: () -> Void)]) -> [Double] {
    var best = [Double](repeating: .infinity, count: variants.count)
    let t0 = now()
    var reps = 0
    while reps < 5 || (now() - t0 < budget && reps < 2000) {
        for (i, v) in variants.enumerated() {
            v.setup()
            let s = now()
            v.body()
            best[i] = Swift.min(best[i], now() - s)
        }
        reps += 1
    }
    return best
}

func benchThreads(_ filters: [String]) {
    let initial = tensorThreads()
    defer { setTensorThreads(initial) }
    let one = { setTensorThreads(1) }, two = { setTensorThreads(2) }
    func line(_ name: String, _ shape: String, _ t: [Double], _ labels: [String]) {
        var fields = zip(labels, t).map { ("\($0)_ms", fmt($1 * 1e3, 4)) }
        fields += zip(labels.dropFirst(), t.dropFirst()).map { ("\($0)_speedup", fmt(t[0] / $1, 2)) }
        report(name, shape, fields)
    }
    if selected("threads/gemm", filters) {
        for n in [64, 128, 192, 256, 384, 512, 1024] {
            let a = Buffer(n * n, seed: 1), b = Buffer(n * n, seed: 2), c = Buffer(n * n)
            let gemm = { (m: Int, c0: Int) in
                Float.gemm(transA: false, transB: false, m: m, n: n, k: n, alpha: 1, a: a.p + c0 * n, lda: n,
                           b: b.p, ldb: n, beta: 0, c: c.p + c0 * n, ldc: n)
            }
            let h = n / 2
            let ours = fastest(budget: 0.4, [
                (one, { gemm(n, 0) }), (two, { gemm(n, 0) }),
                (two, { parallelForEach(2) { $0 == 0 ? gemm(h, 0) : gemm(n - h, h) } }),
            ])
            // OpenBLAS's own threads last: they spin for a while after each call (letOpenBLASWorkersSleep), which
            // would slow down the variants above if it ran between them.
            let t = ours + fastest(budget: 0.2, [(two, { sgemm(false, false, n, n, n, a, b, c) })])
            letOpenBLASWorkersSleep()
            line("threads/gemm", "\(n)x\(n)x\(n)", t, ["one", "policy", "split", "openblas"])
        }
    }
    for (name, costly) in [("threads/add", false), ("threads/exp", true)] where selected(name, filters) {
        for e in stride(from: 12, through: 22, by: 2) {
            let n = 1 << e
            let x = Buffer(n, seed: 3), y = Buffer(n, seed: 4), z = Buffer(n)
            let map = { (i: Int, count: Int) in
                if costly {
                    Float.unary(.exp, x.p + i, z.p + i, count)
                } else {
                    Float.binary(.add, x.p + i, 1, y.p + i, 1, z.p + i, count)
                }
            }
            let t = fastest(budget: 0.3, [
                (one, { map(0, n) }), (two, { map(0, n) }),
                (two, { parallelForEach(2) { $0 == 0 ? map(0, n / 2) : map(n / 2, n - n / 2) } }),
            ])
            line(name, "\(n)", t, ["one", "policy", "split"])
        }
    }
}
