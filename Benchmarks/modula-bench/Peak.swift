// bench peak/fma <isa> gflops=… threads=…
//
// The FP32 peak of this machine per instruction set, measured with chains of dependent multiply-adds
// (Benchmarks/CBenchKernels/peak.c) on one thread and on as many threads as the tensor layer uses, all running at
// once. The orthogonalize, matmul and blas/sgemm lines divide their rate by the peak of the widest set at their
// thread count (`peak_fraction`).
import CBenchKernels
import Dispatch
import ModulaTensor

let peakInstructionSets: [(name: String, isa: Int32)] = [
    ("avx512", Int32(MODULA_PEAK_AVX512)), ("avx2", Int32(MODULA_PEAK_AVX2)), ("sse", Int32(MODULA_PEAK_SSE)),
].filter { modula_peak_supported($0.isa) != 0 }

/// FLOP/s of the multiply-add loop of `isa` on `threads` threads at once (the best of seven timed runs).
func measurePeak(isa: Int32, threads: Int) -> Double {
    let iterations = 10_000_000  // about 20–100 ms per thread
    let flopsPerIteration = modula_peak_flops(isa, 1)  // also the warm-up: code paged in
    blackHole(modula_peak_flops(isa, 100_000))  // clocks up
    var best = 0.0
    for _ in 0..<7 {
        let t0 = now()
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            blackHole(modula_peak_flops(isa, iterations))
            blackHole(modula_peak_sink())
        }
        let t = now() - t0
        best = Swift.max(best, Double(threads) * flopsPerIteration * Double(iterations) / t)
    }
    return best
}

/// The widest instruction set's peak at each thread count, measured once per process.
nonisolated(unsafe) var peakCache: [Int: Double] = [:]

/// The FP32 peak (FLOP/s) of the widest instruction set at the current thread count of the tensor layer.
func fp32Peak() -> Double {
    let threads = tensorThreads()
    if let p = peakCache[threads] { return p }
    let p = measurePeak(isa: peakInstructionSets[0].isa, threads: threads)
    peakCache[threads] = p
    return p
}

func benchPeak() {
    withEachThreadCount {
        for set in peakInstructionSets {
            let flops = measurePeak(isa: set.isa, threads: tensorThreads())
            if set.isa == peakInstructionSets[0].isa { peakCache[tensorThreads()] = flops }
            report("peak/fma", set.name, [("gflops", fmt(flops / 1e9, 1)), ("threads", "\(tensorThreads())")])
        }
    }
}
