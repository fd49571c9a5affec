// Whole training steps: forward + backward + optimizer update (momentum, one modular `dualize`,
// weight update), on synthetic data of the examples' shapes, with OpenBLAS on one and on two threads.
//
//   swift run -c release modula-bench step/            (all of them)
//   swift run -c release modula-bench step/hello-gpt   (one)
//   swift run -c release modula-bench step/ threads=1  (one thread count only)
//
// Lines (names and keys are a contract; Benchmarks/jax/reference.py prints the same for JAX):
//
//   bench step/mlp-<width> batch=<b> ms=… threads=…            784→width→width→10, MSE on one-hot, lr 0.1
//   bench step/hello-mnist batch=128 images_per_second=… …     the same at width 256, batch 128
//   bench step/hello-gpt batch=12 context=64 tokens_per_second=… ms=… …   Modula's hello-GPT notebook, EMA 0.95
//   bench step/rescnn batch=<b> images_per_second=… ms=… …     a small ResCNN on 3×16×16 images
//
// cpu_ms: CPU time of the whole process per step (median), steadier than ms on a shared machine.
// Phase keys: forward_ms, backward_ms and update_ms (optimizer: momentum, dualize, step), medians
// over separate steps (they need not add up to ms exactly).
//
// Memory keys on every line:
//   peak_rss_mb      VmHWM of the process while the benchmark ran (reset through /proc/self/clear_refs
//                    and with the tensor buffer cache emptied before each benchmark), so it includes the
//                    code, the runtime, OpenBLAS's buffers and the benchmark's batches;
//   tensor_peak_mb   weights + optimizer state + the most bytes that live tensors of a warm step add to
//                    them (gradients, activations, temporaries; the batches themselves are not counted);
//   essential_mb     weights + gradients + optimizer state + activations kept for the backward pass
//                    (measured: live tensor bytes at the end of a forward pass minus those between steps);
//   bytes_per_step   growth of the process heap (malloc in-use bytes) per warm step, over many steps: what
//                    a step allocates and does not give back (0 means memory does not grow with steps);
//   malloc_bytes_per_step  tensor bytes per warm step that the buffer cache could not serve (new memory
//                    from the system allocator); tensor_bytes_per_step  all tensor bytes created per step.
import Modula
import ModulaTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Process memory

enum ProcessMemory {
    /// The peak resident set size (VmHWM) in bytes, or 0 when /proc is unavailable.
    static func peakRSS() -> Int { statusField("VmHWM:") }
    /// The resident set size (VmRSS) in bytes.
    static func rss() -> Int { statusField("VmRSS:") }

    /// Resets VmHWM to the current RSS (Linux: writing 5 to /proc/self/clear_refs).
    static func resetPeakRSS() {
        guard let f = fopen("/proc/self/clear_refs", "w") else { return }
        fputs("5", f)
        fclose(f)
    }

    /// Bytes malloc has handed out and not yet been given back (arena and mmap'ed blocks).
    ///
    /// glibc's `mallinfo2` is declared in <malloc.h>, which Swift's Glibc module does not import. It
    /// returns a 10-word struct, which the x86-64 System V ABI returns through a hidden pointer passed
    /// as the first argument (and echoed in rax): so it is called here as `(pointer) -> pointer`.
    /// Elsewhere this returns 0 and `bytes_per_step` reads 0.
    static func heapInUse() -> Int {
        #if canImport(Glibc) && arch(x86_64)
        typealias Mallinfo2 = @convention(c) (UnsafeMutableRawPointer) -> UnsafeMutableRawPointer
        guard let symbol = dlsym(nil, "mallinfo2") else { return 0 }  // nil: RTLD_DEFAULT
        let f = unsafeBitCast(symbol, to: Mallinfo2.self)
        var fields = [Int](repeating: 0, count: 10)  // arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost
        fields.withUnsafeMutableBytes { _ = f($0.baseAddress!) }
        return fields[7] + fields[4]  // uordblks (arena bytes in use) + hblkhd (mmap'ed blocks)
        #else
        return 0
        #endif
    }

    private static func statusField(_ key: String) -> Int {
        guard let f = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), f) != nil {
            let s = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if s.hasPrefix(key) {
                let kb = s.dropFirst(key.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) } ?? 0
                return kb * 1024
            }
        }
        return 0
    }
}

/// CPU seconds used by all threads of the process (less sensitive than wall time to other processes
/// sharing the cores; OpenBLAS threads that spin while waiting count too).
func processCPUTime() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

// MARK: - Training steps

/// A training problem: weights, optimizer and batches, and one step that updates them in place.
final class TrainingProblem {
    let module: any Module
    var weights: [Tensor<Float>]
    var optimizer: Optimizer<Float>
    let batches: [(input: Tensor<Float>, loss: (Tensor<Float>) -> Tensor<Float>)]
    var next = 0

    init(module: any Module, optimizer: Optimizer<Float>, seed: UInt64,
         batches: [(input: Tensor<Float>, loss: (Tensor<Float>) -> Tensor<Float>)]) {
        self.module = module
        var rng = RandomGenerator(seed: seed)
        weights = module.initialize(using: &rng)
        self.optimizer = optimizer
        self.batches = batches
    }

    /// One training step on the next batch; returns the loss.
    @discardableResult
    func step() -> Float {
        let (x, loss) = batches[next % batches.count]
        next += 1
        let module = self.module
        let (value, grads) = try! valueWithGradient(at: weights) { w in
            loss(try module.forward([x], weights: w[...])[0])
        }
        try! optimizer.update(&weights, gradients: consume grads)
        return value.scalar
    }

    /// Seconds in the forward pass, the backward pass and the optimizer update of one step.
    func phases() -> (forward: Double, backward: Double, update: Double) {
        let (x, loss) = batches[next % batches.count]
        next += 1
        let module = self.module
        var forward = 0.0
        let t0 = now()
        let (_, grads) = try! valueWithGradient(at: weights) { w in
            let f0 = now()
            let y = loss(try module.forward([x], weights: w[...])[0])
            forward = now() - f0
            return y
        }
        let t1 = now()
        try! optimizer.update(&weights, gradients: consume grads)
        return (forward, t1 - t0 - forward, now() - t1)
    }

    /// Bytes the tape keeps alive for the backward pass: live tensor bytes at the end of a forward
    /// pass minus those alive between steps (weights, optimizer state, batches).
    func activationBytes() -> Int {
        let (x, loss) = batches[0]
        let module = self.module
        let before = TensorMemory.liveBytes
        var during = 0
        _ = try! valueWithGradient(at: weights) { w in
            let y = loss(try module.forward([x], weights: w[...])[0])
            during = TensorMemory.liveBytes
            return y
        }
        return during - before
    }
}

func mlpProblem(width: Int, batch: Int, seed: UInt64 = 7) -> TrainingProblem {
    let mlp = Sequential.mlp(input: 784, width: width, output: 10, depth: 3)
    var rng = RandomGenerator(seed: seed)
    let batches = (0..<4).map { _ -> (input: Tensor<Float>, loss: (Tensor<Float>) -> Tensor<Float>) in
        let x = Tensor<Float>.randomUniform([batch, 784], using: &rng)
        let y = oneHot((0..<batch).map { _ in rng.nextInt(below: 10) }, classes: 10, as: Float.self)
        return (x, { meanSquaredError($0, y) })
    }
    return TrainingProblem(module: mlp, optimizer: try! .modular(module: mlp, learningRate: .constant(0.1)),
                           seed: seed, batches: batches)
}

func gptProblem(batch: Int = 12, context: Int = 64, seed: UInt64 = 8) -> TrainingProblem {
    let vocabulary = 65
    let gpt = Sequential.gpt(vocabulary: vocabulary, heads: 4, dimension: 128, queryDimension: 32, valueDimension: 32, blocks: 4)
    var rng = RandomGenerator(seed: seed)
    let batches = (0..<8).map { _ -> (input: Tensor<Float>, loss: (Tensor<Float>) -> Tensor<Float>) in
        let ids = (0..<(batch * context)).map { _ in Float(rng.nextInt(below: vocabulary)) }
        let labels = (0..<(batch * context)).map { _ in rng.nextInt(below: vocabulary) }
        return (Tensor(shape: [batch, context], scalars: ids), { crossEntropy(logits: $0, labels: labels) })
    }
    return TrainingProblem(
        module: gpt,
        optimizer: try! .modular(module: gpt, learningRate: .linearDecay(0.1, steps: 2001), momentum: .ema(0.95)),
        seed: seed, batches: batches)
}

func resCNNProblem(batch: Int = 32, seed: UInt64 = 9) -> TrainingProblem {
    let cnn = Sequential.resCNN(channels: 3, width: 32, classes: 10, imageSize: 16, depth: 2)
    var rng = RandomGenerator(seed: seed)
    let batches = (0..<4).map { _ -> (input: Tensor<Float>, loss: (Tensor<Float>) -> Tensor<Float>) in
        let x = Tensor<Float>.randomNormal([batch, 3, 16, 16], using: &rng)
        let labels = (0..<batch).map { _ in rng.nextInt(below: 10) }
        return (x, { crossEntropy(logits: $0, labels: labels) })
    }
    return TrainingProblem(
        module: cnn, optimizer: try! .modular(module: cnn, learningRate: .constant(0.1), momentum: .ema(0.9)),
        seed: seed, batches: batches)
}

/// Times `problem.step()` (median of warm steps within `budget` seconds) and measures its memory.
func measureSteps(_ problem: TrainingProblem, budget: Double) -> (seconds: Double, memory: [(String, String)]) {
    TensorMemory.releaseCache()  // buffers kept from earlier benchmarks would count in this one's RSS
    ProcessMemory.resetPeakRSS()
    // Warm-up: the optimizer's state, the buffer cache and OpenBLAS's buffers reach their steady size.
    var t0 = now()
    for _ in 0..<3 { problem.step() }
    let once = (now() - t0) / 3
    let reps = Swift.max(5, Swift.min(200, Int(budget / Swift.max(once, 1e-6))))

    var samples: [Double] = [], cpu: [Double] = []
    samples.reserveCapacity(reps)  // so that the timed loop itself allocates nothing
    cpu.reserveCapacity(reps)
    TensorMemory.resetPeakLiveBytes()
    let between = TensorMemory.liveBytes  // weights, optimizer state, batches
    let heap0 = ProcessMemory.heapInUse(), sys0 = TensorMemory.systemAllocatedBytes, all0 = TensorMemory.allocatedBytes
    for _ in 0..<reps {
        let c0 = processCPUTime()
        t0 = now()
        problem.step()
        samples.append(now() - t0)
        cpu.append(processCPUTime() - c0)
    }
    let heapGrowth = Double(ProcessMemory.heapInUse() - heap0) / Double(reps)
    let systemBytes = Double(TensorMemory.systemAllocatedBytes - sys0) / Double(reps)
    let tensorBytes = Double(TensorMemory.allocatedBytes - all0) / Double(reps)
    let stepPeak = TensorMemory.peakLiveBytes - between  // gradients, activations, temporaries

    let stateBytes = problem.optimizer.state.firstMoment.reduce(0) { $0 + $1.count * 4 }
        + problem.optimizer.state.secondMoment.reduce(0) { $0 + $1.count * 4 }
    let weightBytes = problem.weights.reduce(0) { $0 + $1.count * 4 }
    let essential = 2 * weightBytes + stateBytes + problem.activationBytes()  // gradients: one per weight
    let tensorPeak = weightBytes + stateBytes + stepPeak
    var parts: [(Double, Double, Double)] = []
    for _ in 0..<Swift.min(reps, 10) { parts.append(problem.phases()) }
    let mb = { (b: Double) in fmt(b / 1_048_576, 2) }
    return (median(samples), [
        ("cpu_ms", fmt(median(cpu) * 1e3, 2)),
        ("forward_ms", fmt(median(parts.map(\.0)) * 1e3, 2)),
        ("backward_ms", fmt(median(parts.map(\.1)) * 1e3, 2)),
        ("update_ms", fmt(median(parts.map(\.2)) * 1e3, 2)),
        ("peak_rss_mb", mb(Double(ProcessMemory.peakRSS()))),
        ("tensor_peak_mb", mb(Double(tensorPeak))),
        ("essential_mb", mb(Double(essential))),
        ("bytes_per_step", fmt(heapGrowth, 0)),
        ("malloc_bytes_per_step", fmt(systemBytes, 0)),
        ("tensor_bytes_per_step", fmt(tensorBytes, 0)),
    ])
}

let stepNames = ["step/mlp-256", "step/mlp-1024", "step/hello-mnist", "step/hello-gpt", "step/rescnn"]

/// All whole-step benchmarks the filters select, each on one and on two OpenBLAS threads.
func benchSteps(_ filters: [String]) {
    // `threads=1` or `threads=2` among the filters restricts the thread counts.
    let threadCounts = [1, 2].filter { !filters.contains("threads=\(3 - $0)") }
    let names = filters.filter { !$0.hasPrefix("threads=") }
    let chosen = stepNames.filter { n in names.isEmpty || names.contains { n.contains($0) } }
    if chosen.isEmpty { return }
    let initial = tensorThreads()
    for threads in threadCounts {
        setTensorThreads(threads)
        if chosen.contains("step/hello-gpt") {
            let p = gptProblem()
            let (t, memory) = measureSteps(p, budget: 4)
            report("step/hello-gpt", "batch=12 context=64", [
                ("tokens_per_second", fmt(Double(12 * 64) / t, 0)), ("ms", fmt(t * 1e3, 2)),
                ("threads", "\(threads)"),
            ] + memory)
        }
        if chosen.contains("step/hello-mnist") {
            let (t, memory) = measureSteps(mlpProblem(width: 256, batch: 128), budget: 2)
            report("step/hello-mnist", "batch=128", [
                ("images_per_second", fmt(128 / t, 0)), ("ms", fmt(t * 1e3, 3)), ("threads", "\(threads)"),
            ] + memory)
        }
        for width in [256, 1024] where chosen.contains("step/mlp-\(width)") {
            for batch in [128, 1024] {
                let (t, memory) = measureSteps(mlpProblem(width: width, batch: batch), budget: width >= 1024 ? 4 : 2)
                report("step/mlp-\(width)", "batch=\(batch)", [("ms", fmt(t * 1e3, 3)), ("threads", "\(threads)")] + memory)
            }
        }
        if chosen.contains("step/rescnn") {
            let (t, memory) = measureSteps(resCNNProblem(), budget: 3)
            report("step/rescnn", "batch=32 image=3x16x16 width=32 depth=2", [
                ("images_per_second", fmt(32 / t, 0)), ("ms", fmt(t * 1e3, 2)), ("threads", "\(threads)"),
            ] + memory)
        }
    }
    setTensorThreads(initial)
}
