// denormal/…: the cost of denormal numbers, flushed (the library's default) and kept, in one run.
//
// Everything runs on the calling thread (one thread for tensor work, so OpenBLAS too), whose MXCSR each
// timed body sets: flush-to-zero and denormals-are-zero on, or off (gradual underflow).
//
// - denormal/sgemm: `cblas_sgemm` 512³ with normal operands, and with A's entries scaled into the denormal
//   range (|a| < 2⁻¹²⁶), flushing and keeping. `keep_ratio` = keep time / flush time.
// - denormal/step: forward + backward of a 784→256→256→10 ReLU MLP whose input is denormal, so that its
//   activations and most of its GEMMs' operands are too.
import CBLAS
import CKernels
import ModulaTensor

/// `body` with the calling thread flushing denormals or keeping them; the previous setting is restored.
func withDenormals(flushed: Bool, _ body: @escaping () -> Void) -> () -> Void {
    {
        let saved = modula_mxcsr()
        modula_set_denormal_flushing(flushed ? 1 : 0)
        body()
        modula_set_denormal_flushing(saved & 0x8040 == 0x8040 ? 1 : 0)
    }
}

func benchDenormals(_ filters: [String]) {
    let sgemmSelected = selected("denormal/sgemm", filters), stepSelected = selected("denormal/step", filters)
    if !sgemmSelected && !stepSelected { return }
    let initial = tensorThreads()
    setTensorThreads(1)
    defer { setTensorThreads(initial) }

    if sgemmSelected { benchDenormalGEMM() }
    if stepSelected { benchDenormalStep() }
}

func benchDenormalGEMM() {
    let n = 512
    let a = Buffer(n * n, seed: 11), tiny = Buffer(n * n, seed: 11), b = Buffer(n * n, seed: 12), c = Buffer(n * n)
    // Made with flushing off (under flush-to-zero they would be 0): |a| < 2⁻¹²⁸, every entry denormal.
    withDenormals(flushed: false) { for i in 0..<tiny.count { tiny.p[i] *= 0x1p-127 } }()
    let gemm: (Buffer) -> () -> Void = { x in { sgemm(false, false, n, n, n, x, b, c) } }
    let t = timeInterleaved(budget: 2, maxReps: 30, [
        withDenormals(flushed: true, gemm(a)), withDenormals(flushed: true, gemm(tiny)),
        withDenormals(flushed: false, gemm(tiny)),
    ])
    let flops = 2.0 * Double(n * n * n)
    report("denormal/sgemm", "\(n)x\(n)x\(n)", [
        ("normal_gflops", fmt(flops / t[0] / 1e9, 1)), ("flush_gflops", fmt(flops / t[1] / 1e9, 1)),
        ("keep_gflops", fmt(flops / t[2] / 1e9, 1)), ("keep_ratio", fmt(t[2] / t[1])), ("threads", "1"),
    ])

}

func benchDenormalStep() {
    let batch = 128, sizes = [784, 256, 256, 10]
    var rng = RandomGenerator(seed: 13)
    var x = Tensor<Float>(repeating: 0, shape: [batch, sizes[0]])
    withDenormals(flushed: false) { x = Tensor<Float>.randomNormal([batch, sizes[0]], using: &rng) * 0x1p-130 }()
    let labels = (0..<batch).map { _ in rng.nextInt(below: sizes[3]) }
    let weights = (0..<3).map { l in
        Tensor<Float>.randomNormal([sizes[l + 1], sizes[l]], standardDeviation: 1 / Float(sizes[l]).squareRoot(), using: &rng)
    }
    let step = mlpForwardBackward(x, labels, weights)
    let s = timeInterleaved(budget: 2, maxReps: 50, [withDenormals(flushed: true, step), withDenormals(flushed: false, step)])
    report("denormal/step", "mlp-256 batch=\(batch)", [
        ("flush_ms", fmt(s[0] * 1e3)), ("keep_ms", fmt(s[1] * 1e3)), ("keep_ratio", fmt(s[1] / s[0])), ("threads", "1"),
    ])
}
