import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The seconds spent in a ``DistributedDualizer``: a reference shared by its copies (the optimizer holds one).
final class DualizeClock: Sendable {
    private let seconds = Mutex(0.0)
    var total: Double { seconds.withLock { $0 } }
    func add(_ s: Double) { seconds.withLock { $0 += s } }
}

/// Seconds on a monotonic clock.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
