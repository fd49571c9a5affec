#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A learning rate as a function of the step number (counted from 0).
public indirect enum Schedule: Sendable, Codable, Equatable {
    /// The same rate at every step.
    case constant(Double)
    /// `rate · (1 − step/steps)`, reaching 0 at `steps` (Modula's examples).
    case linearDecay(Double, steps: Int)
    /// Cosine decay from `rate` to `final` over `steps`.
    case cosine(Double, steps: Int, final: Double = 0)
    /// Linear warm-up from 0 over `steps`, then `then` (whose step count starts after the warm-up).
    case warmup(steps: Int, then: Schedule)

    /// The rate at `step`.
    public func rate(at step: Int) -> Double {
        switch self {
        case .constant(let r): return r
        case .linearDecay(let r, let n): return r * Swift.max(0, 1 - Double(step) / Double(Swift.max(n, 1)))
        case .cosine(let r, let n, let f):
            let t = Swift.min(1, Double(step) / Double(Swift.max(n, 1)))
            return f + (r - f) * 0.5 * (1 + cos(Double.pi * t))
        case .warmup(let n, let next):
            return step < n ? next.rate(at: 0) * Double(step + 1) / Double(n) : next.rate(at: step - n)
        }
    }
}
