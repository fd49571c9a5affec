import ModulaTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line progress report for training loops: steps done, loss, throughput and time left.
///
/// On a terminal the line is redrawn in place (at most ten times a second); when the output goes to a
/// file or pipe, a plain line is printed every ``every`` steps and at the last step, so logs stay short.
///
/// ```swift
/// var progress = ProgressDisplay(total: 1000, label: "hello-MNIST", itemsPerStep: 128)
/// for step in 0..<1000 {
///     let loss = trainStep()
///     progress.update(step: step, loss: loss)
/// }
/// progress.finish()
/// // hello-MNIST  step 1000/1000 (100%)  loss 0.0123  51234 items/s  elapsed 0:02  ETA 0:00
/// ```
public struct ProgressDisplay {
    /// The number of steps in the run (raised by ``extend(total:)``).
    public private(set) var total: Int
    /// A prefix naming the run (none when empty).
    public let label: String
    /// Items (examples, tokens) processed per step, for the throughput.
    public let itemsPerStep: Int
    /// When not redrawing in place, a line is printed every this many steps.
    public let every: Int
    /// Whether the line is redrawn in place with a carriage return.
    public let redrawsInPlace: Bool
    private let output: @Sendable (String) -> Void
    private let start: Double
    private var lastDraw = -Double.infinity
    private var lastLine = ""
    private var drewInPlace = false

    /// A display for a run of `total` steps, starting its clock now.
    ///
    /// - Parameters:
    ///   - total: the number of steps in the run.
    ///   - label: a prefix naming the run.
    ///   - itemsPerStep: examples or tokens per step, for the throughput; with 1 the rate is in steps/s.
    ///   - every: how often to print a line when not on a terminal; defaults to a twentieth of the run.
    ///   - redrawInPlace: defaults to whether standard output is a terminal (`isatty`).
    ///   - output: where text goes; defaults to standard output.
    ///
    /// - Precondition: `total` is positive. Stops with a message otherwise.
    public init(total: Int, label: String = "", itemsPerStep: Int = 1, every: Int? = nil,
                redrawInPlace: Bool? = nil, output: (@Sendable (String) -> Void)? = nil) {
        require(total > 0, "ProgressDisplay: total must be positive, got \(total)")
        self.total = total
        self.label = label
        self.itemsPerStep = itemsPerStep
        self.every = max(1, every ?? total / 20)
        self.redrawsInPlace = redrawInPlace ?? (isatty(STDOUT_FILENO) != 0)
        self.output = output ?? { text in
            print(text, terminator: "")
            fflush(nil)
        }
        start = ProgressDisplay.now()
    }

    /// Reports that step `step` (0-based, as in `for step in 0..<total`) has finished.
    ///
    /// - Parameters:
    ///   - step: the index of the step just finished.
    ///   - loss: the latest loss, if any.
    ///   - extra: more text for the end of the line (for example a validation accuracy).
    public mutating func update(step: Int, loss: Double? = nil, extra: String = "") {
        let done = min(step + 1, total)
        let now = ProgressDisplay.now()
        let last = done == total
        if redrawsInPlace {
            guard last || now - lastDraw >= 0.1 else { return }
            lastDraw = now
            lastLine = line(completed: done, loss: loss, extra: extra, elapsed: now - start)
            output("\r" + lastLine + "\u{1B}[K")
            drewInPlace = true
        } else if done == 1 || done % every == 0 || last {
            lastLine = line(completed: done, loss: loss, extra: extra, elapsed: now - start)
            output(lastLine + "\n")
        }
    }

    /// Raises the number of steps when the run grows (a study whose grid gains points), so that the percentage and
    /// the time left stay true instead of saturating at 100 %. A smaller `total` is ignored.
    public mutating func extend(total newTotal: Int) { total = max(total, newTotal) }

    /// Ends the display: finishes the in-place line and prints `message` (if any) on its own line.
    public mutating func finish(_ message: String? = nil) {
        if drewInPlace { output("\n") }
        drewInPlace = false
        if let message { output(message + "\n") }
    }

    /// The seconds since the display was created.
    public var elapsed: Double { ProgressDisplay.now() - start }

    /// The text of one report: `label  step 120/1000 (12%)  loss 0.4312  2345 items/s  elapsed 0:05  ETA 0:37  extra`.
    public func line(completed: Int, loss: Double?, extra: String = "", elapsed: Double) -> String {
        var parts: [String] = []
        if !label.isEmpty { parts.append(label) }
        let width = String(total).count
        let count = String(repeating: " ", count: max(0, width - String(completed).count)) + String(completed)
        parts.append("step \(count)/\(total) (\(CFormat.string("%3d", Int32(100 * completed / total)))%)")
        if let loss { parts.append("loss " + ProgressDisplay.formatLoss(loss)) }
        if elapsed > 0 && completed > 0 {
            let rate = Double(completed * itemsPerStep) / elapsed
            parts.append(CFormat.string(rate >= 100 ? "%.0f" : "%.1f", rate) + (itemsPerStep == 1 ? " steps/s" : " items/s"))
            parts.append("elapsed " + ProgressDisplay.formatDuration(elapsed))
            parts.append("ETA " + ProgressDisplay.formatDuration(elapsed / Double(completed) * Double(total - completed)))
        }
        if !extra.isEmpty { parts.append(extra) }
        return parts.joined(separator: "  ")
    }

    /// `0.4312` in the usual range, `1.234e-05` outside it.
    static func formatLoss(_ v: Double) -> String {
        guard v.isFinite else { return String(v) }
        let a = abs(v)
        return a == 0 || (a >= 1e-3 && a < 1e5) ? CFormat.string("%.4f", v) : CFormat.string("%.3e", v)
    }

    /// `m:ss` or `h:mm:ss`.
    static func formatDuration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        let (h, m, r) = (s / 3600, s / 60 % 60, s % 60)
        return h > 0 ? CFormat.string("%d:%02d:%02d", h, m, r) : CFormat.string("%d:%02d", m, r)
    }

    /// Monotonic seconds.
    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
