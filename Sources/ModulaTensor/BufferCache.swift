import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Recycles the memory of large tensors.
///
/// A training step allocates the same large buffers (activations, cotangents, gradients) every time.
/// Returned to `malloc`, they go back to the kernel (`munmap`, heap trimming) and the next step pays a
/// page fault per 4 KiB on first touch: measured here, that was a third of a 784→1024→1024→10 MLP step
/// outside BLAS. Freed buffers of at least ``TensorMemory/minimumCachedBytes`` are kept instead, keyed
/// by exact size, up to ``TensorMemory/cacheLimit`` bytes in all, and handed to the next tensor of
/// the same size.
@usableFromInline
final class BufferCache: @unchecked Sendable {
    @usableFromInline static let shared = BufferCache()

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var bytes = 0
    private var maximum = 1 << 30

    private init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    private func locked<R>(_ body: () -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    /// A cached buffer of exactly `bytes`, or `nil`.
    func take(bytes: Int) -> UnsafeMutableRawPointer? {
        locked {
            guard let p = free[bytes]?.popLast() else { return nil }
            self.bytes -= bytes
            return p
        }
    }

    /// Keeps `p` (of `bytes`) for reuse; `false` when the cache is full (the caller frees it).
    func give(_ p: UnsafeMutableRawPointer, bytes: Int) -> Bool {
        locked {
            guard self.bytes + bytes <= maximum else { return false }
            free[bytes, default: []].append(p)
            self.bytes += bytes
            return true
        }
    }

    /// Frees every cached buffer.
    func removeAll() {
        let buffers = locked { () -> [UnsafeMutableRawPointer] in
            let all = free.values.flatMap { $0 }
            free = [:]
            bytes = 0
            return all
        }
        for p in buffers { p.deallocate() }
    }

    /// Bytes currently kept.
    var cachedBytes: Int { locked { bytes } }

    /// The most bytes kept; lowering it below what is kept frees everything.
    var limit: Int {
        get { locked { maximum } }
        set {
            let excess = locked { () -> Bool in maximum = Swift.max(0, newValue); return bytes > maximum }
            if excess { removeAll() }
        }
    }
}

/// Control over the memory that tensors keep for reuse.
///
/// The memory of freed tensors of at least ``minimumCachedBytes`` is kept and reused by later tensors
/// of the same byte size, which spares the page faults of fresh memory in every training step.
public enum TensorMemory {
    /// Buffers smaller than this go straight back to `malloc` (which serves them fast).
    public static let minimumCachedBytes = 1 << 17

    /// The most memory, in bytes, kept for reuse (1 GiB by default; 0 disables the cache).
    public static var cacheLimit: Int {
        get { BufferCache.shared.limit }
        set { BufferCache.shared.limit = newValue }
    }

    /// Memory, in bytes, currently kept for reuse.
    public static var cachedBytes: Int { BufferCache.shared.cachedBytes }

    /// Returns all memory kept for reuse to the system.
    public static func releaseCache() { BufferCache.shared.removeAll() }

    /// Bytes held by tensors alive now (not counting memory kept for reuse).
    public static var liveBytes: Int { MemoryCounters.live.load(ordering: .relaxed) }
    /// The largest ``liveBytes`` since the start or the last ``resetPeakLiveBytes()``.
    public static var peakLiveBytes: Int { MemoryCounters.peak.load(ordering: .relaxed) }
    /// Restarts ``peakLiveBytes`` from the current ``liveBytes``.
    public static func resetPeakLiveBytes() { MemoryCounters.peak.store(liveBytes, ordering: .relaxed) }
    /// Bytes of every tensor buffer created so far (whether new or reused).
    public static var allocatedBytes: Int { MemoryCounters.requested.load(ordering: .relaxed) }
    /// Bytes of tensor buffers taken from the system allocator so far (those the cache could not serve).
    public static var systemAllocatedBytes: Int { MemoryCounters.fromSystem.load(ordering: .relaxed) }
    /// Number of tensor buffers created so far.
    public static var allocationCount: Int { MemoryCounters.count.load(ordering: .relaxed) }
}

/// Counters behind ``TensorMemory``'s statistics: one relaxed atomic add per buffer, next to the
/// allocation itself.
enum MemoryCounters {
    static let live = Atomic<Int>(0)
    static let peak = Atomic<Int>(0)
    static let requested = Atomic<Int>(0)
    static let fromSystem = Atomic<Int>(0)
    static let count = Atomic<Int>(0)

    static func allocated(_ bytes: Int, fromSystem system: Bool) {
        count.add(1, ordering: .relaxed)
        requested.add(bytes, ordering: .relaxed)
        if system { fromSystem.add(bytes, ordering: .relaxed) }
        let now = live.add(bytes, ordering: .relaxed).newValue
        var p = peak.load(ordering: .relaxed)
        while now > p {
            let (exchanged, original) = peak.compareExchange(expected: p, desired: now, ordering: .relaxed)
            if exchanged { break }
            p = original
        }
    }

    static func freed(_ bytes: Int) { live.subtract(bytes, ordering: .relaxed) }
}
