import Modula

/// What ``fit(weights:optimizer:rng:options:batch:loss:inputs:evaluate:update:)`` does besides training: how long,
/// when to evaluate and save, where to log, and what to show.
///
/// ```swift
/// var options = FitOptions(steps: 1000)
/// options.evaluateEvery = 100
/// options.checkpoint = "run.safetensors"; options.checkpointEvery = 250
/// options.logDirectory = "runs/cnn"
/// ```
public struct FitOptions: Sendable {
    /// The steps of the whole run; a resumed run continues up to this step.
    public var steps: Int
    /// Evaluate after every this many steps (0: never inside the run).
    public var evaluateEvery = 0
    /// Evaluate before the first step of a fresh run (a resumed run has that evaluation in its checkpoint).
    public var evaluateAtStart = false
    /// Evaluate after the run's last step, when ``evaluateEvery`` does not already.
    public var evaluateAtEnd = false
    /// Where to save the training state (`nil`: never): every ``checkpointEvery`` steps, after the last step and at
    /// ``stopAfter``.
    public var checkpoint: String? = nil
    /// Save every this many steps (0: only after the last step or at ``stopAfter``).
    public var checkpointEvery = 0
    /// A checkpoint of the same run to continue from: weights, optimizer state, generator, losses and evaluations.
    public var resume: String? = nil
    /// Stop after this step (saving when ``checkpoint`` is set), to continue later with ``resume``.
    public var stopAfter: Int? = nil
    /// A folder for the per-step scalars (``MetricsLog``: `metrics.jsonl` and a TensorBoard event file); `nil`: none.
    public var logDirectory: String? = nil
    /// Strings that describe the run (seed, sizes, data): saved in every checkpoint as `extra.<key>` and checked to
    /// be the same on resume. The keys `losses`, `fit_step`, `evaluation_steps` and `evaluation.*` are the loop's own.
    public var run: [String: String] = [:]
    /// Whether to show a ``ProgressDisplay``.
    public var showsProgress = true
    /// The progress display's label.
    public var label = ""
    /// Examples or tokens per step, for the progress display's throughput and ``throughputName``.
    public var itemsPerStep = 1
    /// When set, each step's log record also holds `itemsPerStep / seconds` under this name (`images_per_second`).
    public var throughputName: String? = nil
    /// Where the progress display writes, one line per report (default: standard output, redrawn in place on a
    /// terminal).
    public var progressOutput: (@Sendable (String) -> Void)? = nil

    /// Options for a run of `steps` steps with no evaluation, no checkpoint and no log, showing progress.
    public init(steps: Int) { self.steps = steps }

    /// Throws unless the counts are in range: `steps` ≥ 1, `evaluateEvery`, `checkpointEvery` ≥ 0,
    /// `checkpointEvery` only with `checkpoint`, `stopAfter` in `1...steps`, `itemsPerStep` ≥ 1.
    public func validate() throws(FitError) {
        func bad(_ name: String, _ value: Int, _ expected: String) -> FitError {
            .invalidOption(name, value: "\(value)", expected: expected)
        }
        guard steps >= 1 else { throw bad("steps", steps, "at least 1") }
        guard evaluateEvery >= 0 else { throw bad("evaluateEvery", evaluateEvery, "0 (never) or positive") }
        guard checkpointEvery >= 0 else { throw bad("checkpointEvery", checkpointEvery, "0 (only at the end) or positive") }
        guard checkpointEvery == 0 || checkpoint != nil else {
            throw bad("checkpointEvery", checkpointEvery, "0 unless checkpoint names a file")
        }
        if let s = stopAfter, s < 1 || s > steps { throw bad("stopAfter", s, "in 1...\(steps) (the run's steps)") }
        guard itemsPerStep >= 1 else { throw bad("itemsPerStep", itemsPerStep, "at least 1") }
    }
}

/// One evaluation of ``fit(weights:optimizer:rng:options:batch:loss:inputs:evaluate:update:)``: the named values that the
/// `evaluate` closure returned after `step` steps.
public struct Evaluation: Sendable, Equatable {
    /// The steps taken before this evaluation (0: before training).
    public var step: Int
    /// The values, in the order the closure returned them (restored ones in the order of their names).
    public var values: [Value]

    /// One named value.
    public struct Value: Sendable, Equatable {
        /// The name it is logged under (a JSON key and a TensorBoard tag).
        public var name: String
        /// The measured value.
        public var value: Double
        /// A value named `name`.
        public init(_ name: String, _ value: Double) { (self.name, self.value) = (name, value) }
    }

    /// An evaluation after `step` steps.
    public init(step: Int, values: [Value]) { (self.step, self.values) = (step, values) }

    /// The value named `name`, if measured.
    public subscript(_ name: String) -> Double? { values.first { $0.name == name }?.value }
}

/// What ``fit(weights:optimizer:rng:options:batch:loss:inputs:evaluate:update:)`` did.
public struct FitResult: Sendable, Equatable {
    /// How a run ended.
    public enum End: Sendable, Equatable {
        /// After the last of ``FitOptions/steps``.
        case completed
        /// At ``FitOptions/stopAfter``.
        case stopped(afterStep: Int)
        /// Under `NonFinitePolicy.stop`: the step at `step` met NaN or infinity (`OptimizerError.nonFinite(step:source:)`);
        /// the weights are those before it.
        case nonFinite(step: Int, source: NonFiniteSource)
    }

    /// Every step's training loss from step 0 (a resumed run starts with the saved ones).
    public var losses: [Double]
    /// Every evaluation from step 0, in step order.
    public var evaluations: [Evaluation]
    /// The step the run started from: 0, or the checkpoint's step when resuming.
    public var firstStep: Int
    /// Seconds spent in this run's steps (gradient and update, not batches, evaluations, logs or saves).
    public var trainingSeconds: Double
    /// How the run ended.
    public var end: End

    @usableFromInline init(losses: [Double], evaluations: [Evaluation], firstStep: Int, trainingSeconds: Double, end: End) {
        (self.losses, self.evaluations, self.firstStep, self.trainingSeconds, self.end) = (losses, evaluations, firstStep, trainingSeconds, end)
    }

    /// The steps this run took (not counting those restored from a checkpoint).
    public var stepsTaken: Int { losses.count - firstStep }

    /// Throws `OptimizerError.nonFinite(step:source:)` when the run ended at a non-finite step.
    public func requireFinite() throws {
        if case .nonFinite(let step, let source) = end { throw OptimizerError.nonFinite(step: step, source: source) }
    }
}

/// Why ``fit(weights:optimizer:rng:options:batch:loss:inputs:evaluate:update:)`` cannot run.
public enum FitError: Error, CustomStringConvertible, Equatable {
    /// An option of ``FitOptions`` is out of range.
    case invalidOption(_ name: String, value: String, expected: String)
    /// The checkpoint to resume was written by a run that differs in ``FitOptions/run``.
    case otherRun(path: String, key: String, saved: String?, current: String)
    /// ``FitOptions/stopAfter`` is at or before the step of the checkpoint to resume.
    case stopBeforeCheckpoint(path: String, stopAfter: Int, checkpointStep: Int)

    /// The sentence shown to the user.
    public var description: String {
        switch self {
        case .invalidOption(let name, let value, let expected):
            return "fit: option \(name) is \(value), expected \(expected)"
        case .otherRun(let path, let key, let saved, let current):
            return "checkpoint \(path) was written with \(key) \(saved ?? "(none)"), this run has \(key) \(current); resume with the options of the saved run"
        case .stopBeforeCheckpoint(let path, let stop, let step):
            return "fit: stopAfter \(stop) lies before the step \(step) of checkpoint \(path); pick a later step"
        }
    }
}
