import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The time spent in a ``DistributedDualizer``: a reference shared by its copies (the optimizer holds one).
final class DualizeClock: Sendable {
    private let seconds = Mutex((wall: 0.0, work: 0.0))
    /// Wall seconds in the dualizer's calls (maps, allgather, waiting for the other ranks).
    var total: Double { seconds.withLock { $0.wall } }
    /// CPU seconds of this process while it computed its own maps.
    var work: Double { seconds.withLock { $0.work } }
    func add(wall: Double, work: Double) { seconds.withLock { $0.wall += wall; $0.work += work } }
}

/// Seconds on a monotonic clock.
func now() -> Double { clockSeconds(CLOCK_MONOTONIC) }

/// CPU seconds of this process, all its threads (OpenBLAS's and the tensor layer's included).
func processCPUSeconds() -> Double { clockSeconds(CLOCK_PROCESS_CPUTIME_ID) }

private func clockSeconds(_ clock: clockid_t) -> Double {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
