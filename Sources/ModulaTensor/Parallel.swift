import CBLAS
import CKernels
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Threads for tensor work, and fork–join parallelism for coarse tasks.
//
// OpenBLAS parallelizes each call on its own. That pays off for large products, but a training
// step is made of many small ones (a 128×128 Newton–Schulz step, a 768×128×128 GEMM, 48 per-head
// 64×64 products): there OpenBLAS's workers spend their time handing work over and spinning in
// `sched_yield`, and when another process holds the second core each call waits for a worker that
// is not running. So with more than one thread configured, tensor operations call OpenBLAS on one
// thread and parallelize one level up: independent pieces (the 26 matrices a GPT's `dualize`
// orthogonalizes, the heads of a batched product) and the two halves of a large product run as
// tasks of `parallelForEach`.
//
// `parallelForEach` runs its iterations on the calling thread and on pool threads. A thread that
// waits for its iterations runs queued work meanwhile (its own or anyone's), so nested calls share
// the workers without deadlock, and a half left behind by a busy or descheduled thread is done by
// the other. Code that calls OpenBLAS directly keeps ``tensorThreads()`` OpenBLAS threads: it is set
// to one thread only while tensor operations run ("single-threaded BLAS regions"). LAPACK calls
// always run in such a region, so that an SVD gives the same bits whatever the thread count and
// whatever other threads are doing.
//
// A direct call that does use OpenBLAS's threads leaves its workers spinning for a while afterwards
// (2²⁸ time-stamp ticks, about 0.1 s: OpenBLAS's THREAD_TIMEOUT), on the cores this pool needs. Measured
// on a 2-core AMD EPYC Zen 4: Muon's Newton–Schulz on 256² took 4.7 ms on two threads right after a
// 2-thread cblas_sgemm, 3.3 ms once the workers slept (one thread: 3.9 ms). Tensor operations never
// wake them; modula-bench waits for them to sleep after its raw references.

/// The number of threads for tensor work, and the regions in which OpenBLAS runs single-threaded.
@usableFromInline
enum ThreadPolicy {
    /// Threads for tensor work; 0 until first asked (then OpenBLAS's default count).
    static let configured = Atomic<Int>(0)
    /// Single-threaded BLAS regions in progress on any thread.
    static let regions = Atomic<Int>(0)
    /// Serializes entering the first region and leaving the last one with the OpenBLAS call each makes.
    nonisolated(unsafe) private static let transitions: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()

    static var threads: Int {
        let t = configured.load(ordering: .relaxed)
        if t > 0 { return t }
        let initial = Swift.max(1, Int(openblas_get_num_threads()))
        _ = configured.compareExchange(expected: 0, desired: initial, ordering: .relaxed)
        return configured.load(ordering: .relaxed)
    }

    static func setThreads(_ n: Int) {
        pthread_mutex_lock(transitions)
        configured.store(n, ordering: .relaxed)
        if regions.load(ordering: .relaxed) == 0 { openblas_set_num_threads(Int32(n)) }
        pthread_mutex_unlock(transitions)
    }

    static func enterRegion() {
        pthread_mutex_lock(transitions)
        if regions.add(1, ordering: .relaxed).newValue == 1 { openblas_set_num_threads(1) }
        pthread_mutex_unlock(transitions)
    }

    static func leaveRegion() {
        pthread_mutex_lock(transitions)
        if regions.subtract(1, ordering: .relaxed).newValue == 0 { openblas_set_num_threads(Int32(threads)) }
        pthread_mutex_unlock(transitions)
    }

    /// Runs `body` with OpenBLAS on one thread (for the whole call: the region stays counted even
    /// when another thread's region, which could close meanwhile, has already set one thread).
    @inline(__always)
    static func singleThreadedBLAS<R>(_ body: () -> R) -> R {
        if threads <= 1 { return body() }
        enterRegion()
        defer { leaveRegion() }
        return body()
    }
}

/// Runs `body(i)` for every `i` in `0..<count`, on up to ``tensorThreads()`` threads (the caller included).
///
/// Iterations must be independent. Calls may nest (a body may call `parallelForEach` again). With one
/// thread configured, or one iteration, the loop runs in order on the calling thread.
package func parallelForEach(_ count: Int, _ body: (Int) -> Void) {
    if count <= 0 { return }
    if count == 1 || ThreadPolicy.threads <= 1 {
        for i in 0..<count { body(i) }
        return
    }
    withoutActuallyEscaping(body) { body in
        WorkerPool.shared.run(count, body)
    }
}

/// `[transform(0), …, transform(count − 1)]`, computed as by ``parallelForEach(_:_:)``.
package func parallelMap<T>(_ count: Int, _ transform: (Int) -> T) -> [T] {
    if count <= 0 { return [] }
    return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        let base = buffer.baseAddress!
        parallelForEach(count) { i in (base + i).initialize(to: transform(i)) }
        initialized = count
    }
}

/// One call of ``parallelForEach(_:_:)``: its body and how many iterations are still to finish.
final class ForkJoinGroup: @unchecked Sendable {
    /// Cleared by the caller once every iteration has run: the closure must not outlive the call
    /// (`withoutActuallyEscaping`), while a worker may still hold the group for a moment.
    var body: ((Int) -> Void)?
    /// Iterations still to finish: changed with the pool's mutex held, read without it by a spinning caller.
    let remaining: Atomic<Int>
    init(_ body: @escaping (Int) -> Void, _ count: Int) {
        self.body = body
        remaining = Atomic(count)
    }
}

final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    /// Pending iterations, newest last (threads take the newest: usually their own, still in cache).
    private var queue: [(ForkJoinGroup, Int)] = []
    /// `queue.count`, stored with the mutex held whenever the queue changes, read without it by spinning threads.
    private let queued = Atomic<Int>(0)
    /// Threads waiting on `condition` (guarded by the mutex): without any, nobody needs a broadcast.
    private var sleepers = 0
    private var workers = 0

    /// How long a thread that runs out of work spins before it sleeps, in nanoseconds: 200 µs, or
    /// `MODULA_POOL_SPIN_US` microseconds (0: sleep at once).
    ///
    /// A step's parallel regions come tens of microseconds apart (the products of one Newton–Schulz step on a
    /// 256² matrix take about 20 µs per half on a Zen 4 core), and waking a sleeping thread costs a futex call and,
    /// on a virtual machine, waking a halted virtual CPU: often longer than the work handed over. Measured on a
    /// 2-core AMD EPYC Zen 4 (shared, noisy; fastest of 3–4 alternating runs, 2 threads): hello-GPT's step 74.9 ms
    /// without spinning, 61.3 / 61.1 / 57.0 ms spinning 20 / 50 / 200 µs; hello-MNIST's 14.6, 13.7 / 12.7 / 12.2 ms;
    /// MLP-1024's the same within noise. The CPU time per step barely changed (hello-MNIST 24–26 ms throughout).
    static let spinNanoseconds: Int = {
        if let v = getenv("MODULA_POOL_SPIN_US"), let us = Int(String(cString: v)), us >= 0 { return us * 1000 }
        return 200_000
    }()

    private init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    func run(_ count: Int, _ body: @escaping (Int) -> Void) {
        ThreadPolicy.enterRegion()
        let group = ForkJoinGroup(body, count)
        pthread_mutex_lock(mutex)
        ensureWorkers(ThreadPolicy.threads - 1)
        for i in stride(from: count - 1, through: 1, by: -1) { queue.append((group, i)) }
        queued.store(queue.count, ordering: .releasing)
        if sleepers > 0 { pthread_cond_broadcast(condition) }
        pthread_mutex_unlock(mutex)

        execute(group, 0)
        // Help until every iteration of this group has finished; spin a while before sleeping.
        pthread_mutex_lock(mutex)
        while group.remaining.load(ordering: .acquiring) > 0 {
            if let (g, i) = pop() {
                pthread_mutex_unlock(mutex)
                execute(g, i)
                pthread_mutex_lock(mutex)
            } else {
                pthread_mutex_unlock(mutex)
                spin { group.remaining.load(ordering: .acquiring) == 0 || queued.load(ordering: .acquiring) > 0 }
                pthread_mutex_lock(mutex)
                if group.remaining.load(ordering: .acquiring) > 0 && queue.isEmpty { sleep() }
            }
        }
        group.body = nil
        pthread_mutex_unlock(mutex)
        ThreadPolicy.leaveRegion()
    }

    /// The newest pending iteration (called with the mutex held).
    private func pop() -> (ForkJoinGroup, Int)? {
        guard let item = queue.popLast() else { return nil }
        queued.store(queue.count, ordering: .releasing)
        return item
    }

    /// Waits on the condition (called with the mutex held, which it releases while waiting).
    private func sleep() {
        sleepers += 1
        pthread_cond_wait(condition, mutex)
        sleepers -= 1
    }

    /// Spins until `ready()` or for ``spinNanoseconds``, whichever comes first.
    private func spin(_ ready: () -> Bool) {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        let deadline = t.tv_sec * 1_000_000_000 + t.tv_nsec + Self.spinNanoseconds
        while !ready() {
            for _ in 0..<8 { modula_spin_pause() }
            clock_gettime(CLOCK_MONOTONIC, &t)
            if t.tv_sec * 1_000_000_000 + t.tv_nsec >= deadline { return }
        }
    }

    private func execute(_ group: ForkJoinGroup, _ i: Int) {
        group.body!(i)
        pthread_mutex_lock(mutex)
        let left = group.remaining.subtract(1, ordering: .acquiringAndReleasing).newValue
        if left == 0 && sleepers > 0 { pthread_cond_broadcast(condition) }
        pthread_mutex_unlock(mutex)
    }

    /// What a new worker thread needs: the pool and its index.
    private final class Start {
        let pool: WorkerPool, index: Int
        init(_ pool: WorkerPool, _ index: Int) { self.pool = pool; self.index = index }
    }

    /// Starts workers until there are `n` (called with the mutex held). Workers live for the process;
    /// those beyond the number currently configured stay asleep.
    private func ensureWorkers(_ n: Int) {
        while workers < n {
            var thread = pthread_t()
            let context = Unmanaged.passRetained(Start(self, workers)).toOpaque()
            #if canImport(Glibc)
            let status = pthread_create(&thread, nil, { context in
                let start = Unmanaged<Start>.fromOpaque(context!).takeRetainedValue()
                start.pool.work(start.index)
            }, context)
            #else
            let status = pthread_create(&thread, nil, { context in
                let start = Unmanaged<Start>.fromOpaque(context).takeRetainedValue()
                start.pool.work(start.index)
            }, context)
            #endif
            guard status == 0 else {  // fewer workers: the callers do the work themselves
                Unmanaged<Start>.fromOpaque(context).release()
                return
            }
            pthread_detach(thread)
            workers += 1
        }
    }

    private func work(_ index: Int) -> Never {
        modula_apply_denormal_policy()  // whatever the creating thread had (see `blasConfiguration`)
        pthread_mutex_lock(mutex)
        while true {
            let active = index < ThreadPolicy.threads - 1  // workers beyond the configured count stay asleep
            if active, let (g, i) = pop() {
                pthread_mutex_unlock(mutex)
                execute(g, i)
                pthread_mutex_lock(mutex)
            } else if active {
                pthread_mutex_unlock(mutex)
                spin { queued.load(ordering: .acquiring) > 0 }
                pthread_mutex_lock(mutex)
                if queue.isEmpty { sleep() }
            } else {
                sleep()
            }
        }
    }
}

// MARK: - BLAS calls on one OpenBLAS thread, large ones split in two

/// Products of at least this many multiply–adds are split between two threads (about 30 µs of one
/// core's work: well above the cost of handing half of it over).
@usableFromInline let splitThreshold = 1 << 21

@inline(__always)
func shouldSplit(_ multiplyAdds: Int) -> Bool { multiplyAdds >= splitThreshold && ThreadPolicy.threads > 1 }

/// Row-major GEMM `C = alpha·op(A)·op(B) + beta·C` on single-threaded OpenBLAS, split along the
/// longer side of C when worthwhile (each half computes its elements exactly as the whole would).
@inline(__always)
func splitGEMM<T>(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
    _ a: UnsafePointer<T>, _ lda: Int, _ b: UnsafePointer<T>, _ ldb: Int,
    _ c: UnsafeMutablePointer<T>, _ ldc: Int,
    _ call: (_ m: Int, _ n: Int, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>) -> Void
) {
    guard shouldSplit(m * n * k), Swift.max(m, n) >= 32 else {
        return ThreadPolicy.singleThreadedBLAS { call(m, n, a, b, c) }
    }
    if m >= n {
        let h = (m / 2 + 7) & ~7
        parallelForEach(2) { part in
            let (r0, rows) = part == 0 ? (0, h) : (h, m - h)
            call(rows, n, a + (transA ? r0 : r0 * lda), b, c + r0 * ldc)
        }
    } else {
        let h = (n / 2 + 7) & ~7
        parallelForEach(2) { part in
            let (c0, cols) = part == 0 ? (0, h) : (h, n - h)
            call(m, cols, a, b + (transB ? c0 * ldb : c0), c + c0)
        }
    }
}

/// The upper triangle of a SYRK `C = op(A)·op(A)ᵀ` (n×n, inner dimension k) on single-threaded OpenBLAS.
/// Large ones run as four tasks: C₁₁ = A₁A₁ᵀ and C₂₂ = A₂A₂ᵀ by `syrk(n, a, c)`, and C₁₂ = A₁A₂ᵀ (as many
/// multiply–adds as both) by `gemm(m, n, a, b, c)` in two column halves, so that whichever thread's kernel
/// runs faster takes up the slack. `t` says whether A is stored k×n (Aᵀ·A) rather than n×k (A·Aᵀ).
@inline(__always)
func splitSYRK<T>(
    _ t: Bool, _ n: Int, _ k: Int, _ a: UnsafePointer<T>, _ lda: Int, _ c: UnsafeMutablePointer<T>, _ ldc: Int,
    _ syrk: (_ n: Int, _ a: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>) -> Void,
    gemm: (_ m: Int, _ n: Int, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>) -> Void
) {
    guard shouldSplit(n * n * k / 2) && n >= 64 else {
        return ThreadPolicy.singleThreadedBLAS { syrk(n, a, c) }
    }
    let h = (n / 2 + 7) & ~7
    let a2 = t ? a + h : a + h * lda  // the second block of rows (columns when t)
    let w = ((n - h) / 2 + 7) & ~7
    parallelForEach(4) { part in
        switch part {
        case 0: syrk(h, a, c)
        case 1: syrk(n - h, a2, c + h * ldc + h)
        default:
            let (c0, cols) = part == 2 ? (0, w) : (w, n - h - w)
            if cols > 0 { gemm(h, cols, a, t ? a2 + c0 : a2 + c0 * lda, c + h + c0) }
        }
    }
}

/// A left-side SYMM `C = A·B` (A m×m symmetric, B and C m×n) on single-threaded OpenBLAS, large ones with
/// the columns of B and C in two halves: `call(n, b, c)` per half.
@inline(__always)
func splitSYMM<T>(
    _ m: Int, _ n: Int, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>,
    _ call: (_ n: Int, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>) -> Void
) {
    guard shouldSplit(m * m * n) && n >= 64 else {
        return ThreadPolicy.singleThreadedBLAS { call(n, b, c) }
    }
    let h = (n / 2 + 7) & ~7
    parallelForEach(2) { part in part == 0 ? call(h, b, c) : call(n - h, b + h, c + h) }
}

// MARK: - Elementwise kernels in two halves

/// Elementwise maps over at least this many elements run in two halves on two threads: memory-bound
/// ones (a few cycles per element) and transcendental ones (tens of cycles per element).
@usableFromInline let cheapChunk = 1 << 18, costlyChunk = 1 << 15

/// `body(start, count)` over `0..<n`, in two halves on two threads when `n ≥ threshold`.
@inline(__always)
func inChunks(_ n: Int, _ threshold: Int, _ body: (Int, Int) -> Void) {
    guard n >= threshold, n >= 2, ThreadPolicy.threads > 1 else { return body(0, n) }
    // Halves on a 16-element boundary when there is room (whole vectors in each), else plain halves:
    // rounding up a small n (3 image channels, say) would leave the second half a negative count.
    let aligned = (n / 2 + 15) & ~15
    let h = aligned < n ? aligned : n / 2
    parallelForEach(2) { part in part == 0 ? body(0, h) : body(h, n - h) }
}
