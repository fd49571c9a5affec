// modula-bench: speed of the tensor layer against its hardware baselines, measured in one run.
//
//   swift run -c release modula-bench [filter …]
//
// Each figure is one line `bench <name> <shape> key=value …`; a filter selects the benchmarks whose
// name contains it (`matmul`, `elementwise`, `elementwise/exp`, `reduce`, `step`, `orthogonalize`; `mpi`, under
// mpirun only: scripts/bench-mpi). Every timing is the
// median of several repetitions after a warm-up, and every baseline runs in the same process.
//
// - matmul: `Tensor.matmul` (Float, allocating its result) against `cblas_sgemm` on preallocated buffers,
//   with OpenBLAS on one thread and on its default number of threads.
// - elementwise/<op>, reduce/sum: the kernels with one and with two threads for tensor work (large maps
//   are split in halves) against a single-threaded `memcpy` moving the same number of bytes (bytes read +
//   bytes written, counted the same way for both).
// - peak/fma (Peak.swift): the FP32 peak per instruction set; `peak_fraction` on the matmul, blas/sgemm and
//   orthogonalize lines divides their rate by it.
// - blas/sgemm (Cores.swift): `cblas_sgemm` 1024³ with the OpenBLAS core in use; denormal/… (Denormals.swift):
//   denormal operands, flushed and kept.
// - hooks/… (Hooks.swift): forward + backward with no hook, a no-op forward and a no-op gradient hook, and by hand.
// - threads/gemm, threads/add, threads/exp (Threads.swift, only when named): one thread against two, per size.
// - step/mlp-1024: forward + backward of a 784→1024→1024→10 ReLU MLP with cross-entropy through
//   `valueWithGradient`, and the fraction of that time spent in the same GEMMs called directly.
//
// The raw `cblas_sgemm` baselines run on OpenBLAS's own threads, which keep spinning after each call
// (for 2²⁸ cycles by default) and then compete with the tensor layer's threads in the interleaved
// repetitions: `matmul` at 1024³ and `blas_fraction` on two threads scatter down to about 0.55 because of
// it. `OPENBLAS_THREAD_TIMEOUT=4` in the environment makes those workers sleep at once.
import CBLAS
import ModulaTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Timing

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Keeps a value alive and opaque to the optimizer.
@inline(never) func blackHole<T>(_ x: T) { withExtendedLifetime(x) {} }

/// Median seconds of each body over interleaved repetitions (so drift and noise hit all of them alike).
///
/// The repetition count follows from the first warm-up: about `budget` seconds in all, within `3...maxReps`.
///
/// `rawBLAS` lists the bodies that call OpenBLAS directly on its own threads: after each, the next body waits for
/// OpenBLAS's workers to sleep (``letOpenBLASWorkersSleep()``), so that they do not take the core it runs on.
func timeInterleaved(budget: Double = 1.0, maxReps: Int = 50, rawBLAS: Set<Int> = [], _ bodies: [() -> Void]) -> [Double] {
    func run(_ i: Int) -> Double {
        let t0 = now()
        bodies[i]()
        let t = now() - t0
        if rawBLAS.contains(i) { letOpenBLASWorkersSleep() }
        return t
    }
    // Warm-up (also faults in memory and lets the allocator settle).
    let once = bodies.indices.reduce(0.0) { $0 + run($1) }
    for i in bodies.indices { _ = run(i) }
    let reps = Swift.max(3, Swift.min(maxReps, Int(budget / Swift.max(once, 1e-6))))
    var samples = [[Double]](repeating: [], count: bodies.count)
    for _ in 0..<reps {
        for i in bodies.indices { samples[i].append(run(i)) }
    }
    return samples.map(median)
}

/// After a call that used them, OpenBLAS's worker threads spin (yielding) for 2²⁸ time-stamp-counter ticks before
/// they sleep (OpenBLAS's THREAD_TIMEOUT; `OPENBLAS_THREAD_TIMEOUT` sets the exponent): about 0.1 s, during which
/// they hold the core that the tensor layer's pool would use. Measured on an AMD EPYC Zen 4 (2 cores): Muon's
/// Newton–Schulz on a 256² matrix timed right after a 2-thread `cblas_sgemm` took 4.7–4.8 ms on two threads (one
/// thread: 3.9–4.0 ms), and 3.3–3.4 ms with `OPENBLAS_THREAD_TIMEOUT=4` (workers asleep at once). Tensor operations never wake them (they call OpenBLAS on one thread); a benchmark's raw
/// reference does, so it waits this long after one when OpenBLAS has several threads.
func letOpenBLASWorkersSleep() {
    if tensorThreads() > 1 { usleep(250_000) }
}

/// `x` rounded to `digits` decimals, without trailing zeros.
func fmt(_ x: Double, _ digits: Int = 3) -> String {
    let p = (0..<digits).reduce(1.0) { a, _ in a * 10 }
    var s = "\((x * p).rounded() / p)"
    if s.hasSuffix(".0") { s.removeLast(2) }
    return s
}

func report(_ name: String, _ shape: String, _ fields: [(String, String)]) {
    print((["bench", name, shape] + fields.map { "\($0.0)=\($0.1)" }).joined(separator: " "))
    fflush(nil)  // one line at a time even when piped
}

// MARK: - Buffers

/// A preallocated, initialized Float buffer for the baselines.
final class Buffer {
    let p: UnsafeMutablePointer<Float>
    let count: Int
    init(_ count: Int, seed: UInt64 = 1) {
        self.count = count
        p = .allocate(capacity: count)
        var rng = RandomGenerator(seed: seed)
        for i in 0..<count { p[i] = Float(rng.nextUnitDouble()) - 0.5 }
    }
    deinit { p.deallocate() }
}

func sgemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int,
           _ a: Buffer, _ b: Buffer, _ c: Buffer) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), 1, a.p, Int32(ta ? m : k), b.p, Int32(tb ? k : n), 0, c.p, Int32(n))
}

// MARK: - Benchmarks

/// Runs `body` with OpenBLAS on one thread and then on its default count (once if that is 1).
func withEachThreadCount(_ body: () -> Void) {
    let all = tensorThreads()
    for t in Set([1, all]).sorted() {
        setTensorThreads(t)
        body()
    }
    setTensorThreads(all)
}

func benchMatmul() {
    withEachThreadCount {
    for (m, k, n) in [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048), (4096, 1024, 1024)] {
        var rng = RandomGenerator(seed: 1)
        let a = Tensor<Float>.randomNormal([m, k], using: &rng), b = Tensor<Float>.randomNormal([k, n], using: &rng)
        let ba = Buffer(m * k, seed: 2), bb = Buffer(k * n, seed: 3), bc = Buffer(m * n, seed: 4)
        let flops = 2.0 * Double(m) * Double(n) * Double(k)
        let budget = m >= 2048 || k >= 2048 ? 3.0 : 1.5
        let t = timeInterleaved(budget: budget, maxReps: 40, rawBLAS: [1], [
            { blackHole(a.matmul(b)) },
            { sgemm(false, false, m, n, k, ba, bb, bc) },
        ])
        report("matmul", "\(m)x\(k)x\(n)", [
            ("ms", fmt(t[0] * 1e3)), ("gflops", fmt(flops / t[0] / 1e9, 1)),
            ("sgemm_gflops", fmt(flops / t[1] / 1e9, 1)), ("sgemm_ratio", fmt(t[1] / t[0])),
            ("peak_fraction", fmt(flops / t[0] / fp32Peak())), ("threads", "\(tensorThreads())"),
        ])
    }
    }
}

let elementCount = 4_194_304
let bytesPerFloat = MemoryLayout<Float>.size

/// A memcpy that moves `bytes` in total (half read, half written), on preallocated buffers.
func memcpyBaseline(bytes: Int) -> () -> Void {
    let half = bytes / 2
    let src = Buffer(half / bytesPerFloat), dst = Buffer(half / bytesPerFloat)
    return { memcpy(dst.p, src.p, half); blackHole(dst) }
}

let elementwiseNames = ["elementwise/add", "elementwise/mul", "elementwise/exp", "elementwise/relu", "elementwise/tanh", "reduce/sum"]

func benchElementwise(_ filters: [String]) {
    var rng = RandomGenerator(seed: 5)
    let x = Tensor<Float>.randomNormal([elementCount], using: &rng)
    let y = Tensor<Float>.randomNormal([elementCount], using: &rng)
    let n = elementCount * bytesPerFloat
    // (name, bytes moved, operation)
    let cases: [(String, Int, () -> Void)] = [
        ("elementwise/add", 3 * n, { blackHole(x + y) }),
        ("elementwise/mul", 3 * n, { blackHole(x * y) }),
        ("elementwise/exp", 2 * n, { blackHole(x.exp()) }),
        ("elementwise/relu", 2 * n, { blackHole(x.relu()) }),
        ("elementwise/tanh", 2 * n, { blackHole(x.tanh()) }),
        ("reduce/sum", n, { blackHole(x.sum()) }),
    ]
    // memcpy runs on one thread in both cases: with two threads, the maps split in halves can beat it.
    withEachThreadCount {
        for (name, bytes, op) in cases where selected(name, filters) {
            let t = timeInterleaved(budget: 1.0, maxReps: 60, [op, memcpyBaseline(bytes: bytes)])
            report(name, "\(elementCount)", [
                ("ms", fmt(t[0] * 1e3)), ("gbps", fmt(Double(bytes) / t[0] / 1e9, 2)),
                ("memcpy_gbps", fmt(Double(bytes) / t[1] / 1e9, 2)), ("memcpy_ratio", fmt(t[1] / t[0])),
                ("threads", "\(tensorThreads())"),
            ])
        }
    }
}

/// Forward + backward of a three-layer ReLU MLP with cross-entropy through `valueWithGradient`, as a timed body.
func mlpForwardBackward(_ x: Tensor<Float>, _ labels: [Int], _ weights: [Tensor<Float>]) -> () -> Void {
    {
        let (loss, grads) = valueWithGradient(at: weights) { w in
            let h1 = x.matmul(w[0], transposeB: true).relu()
            let h2 = h1.matmul(w[1], transposeB: true).relu()
            return crossEntropy(logits: h2.matmul(w[2], transposeB: true), labels: labels)
        }
        blackHole((loss, grads))
    }
}

func benchMLPStep() {
    let batch = 128, sizes = [784, 1024, 1024, 10]
    var rng = RandomGenerator(seed: 6)
    let x = Tensor<Float>.randomNormal([batch, sizes[0]], using: &rng)
    let labels = (0..<batch).map { _ in rng.nextInt(below: sizes[3]) }
    let weights = (0..<3).map { l in
        Tensor<Float>.randomNormal([sizes[l + 1], sizes[l]], standardDeviation: 1 / Float(sizes[l]).squareRoot(), using: &rng)
    }
    let step = mlpForwardBackward(x, labels, weights)
    // The same GEMMs, called directly: forward y = x·Wᵀ per layer; backward dW = gᵀ·x per layer and
    // dx = g·W for every layer but the first (the data needs no gradient).
    var gemms: [() -> Void] = []
    for l in 0..<3 {
        let (i, o) = (sizes[l], sizes[l + 1])
        let input = Buffer(batch * i), w = Buffer(o * i), out = Buffer(batch * o), g = Buffer(batch * o)
        let dw = Buffer(o * i), dx = Buffer(batch * i)
        gemms.append { sgemm(false, true, batch, o, i, input, w, out) }      // [b,i]·[o,i]ᵀ
        gemms.append { sgemm(true, false, o, i, batch, g, input, dw) }       // [b,o]ᵀ·[b,i]
        if l > 0 { gemms.append { sgemm(false, false, batch, i, o, g, w, dx) } }  // [b,o]·[o,i]
    }
    let t = timeInterleaved(budget: 3.0, maxReps: 100, rawBLAS: [1], [step, { for f in gemms { f() } }])
    let flops = 2.0 * Double(batch) * (0..<3).reduce(0.0) { acc, l in
        acc + Double(sizes[l] * sizes[l + 1]) * (l > 0 ? 3 : 2)
    }
    report("step/mlp-1024", "batch=\(batch)", [
        ("ms", fmt(t[0] * 1e3)), ("blas_ms", fmt(t[1] * 1e3)), ("blas_fraction", fmt(t[1] / t[0])),
        ("gflops", fmt(flops / t[0] / 1e9, 1)), ("threads", "\(tensorThreads())"),
    ])
}

func selected(_ name: String, _ filters: [String]) -> Bool {
    filters.isEmpty || filters.contains { name.contains($0) }
}

// MARK: - Main

let filters = Array(CommandLine.arguments.dropFirst())
// `mpi/…` runs alone, on the ranks of mpirun (MPI.swift; scripts/bench-mpi), and is not part of a plain run.
if filters.contains(where: { $0.hasPrefix("mpi") }) { benchMPI(filters) }
let start = now()
// Environment first, so that figures from different machines or settings are not compared by mistake.
let coreType = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) } ?? "unset"
print("# \(blasConfiguration)")
print("# float kernels: \(floatKernelInstructionSet), OpenBLAS threads: \(tensorThreads()), OPENBLAS_CORETYPE: \(coreType)")
if selected("peak", filters) { benchPeak() }  // Peak.swift
if selected("matmul", filters) { benchMatmul() }
if elementwiseNames.contains(where: { selected($0, filters) }) { benchElementwise(filters) }
if selected("step/mlp-1024", filters) { benchMLPStep() }
if selected("blas/sgemm", filters) { benchSgemmCore() }  // Cores.swift
benchDenormals(filters)  // Denormals.swift
if orthogonalizers.contains(where: { selected("orthogonalize/\($0.0)", filters) }) { benchOrthogonalize(filters) }
benchSteps(filters)  // Steps.swift: whole training steps (step/…)
benchHooks(filters)  // Hooks.swift: the cost of hooks (hooks/…)
if filters.contains(where: { $0.hasPrefix("threads/") }) { benchThreads(filters) }  // Threads.swift, only when named
print("# total \(fmt(now() - start, 1)) s")
