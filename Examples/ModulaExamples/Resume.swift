import Modula
import ModulaData

/// The checkpoint options of the training examples: `--checkpoint`, `--checkpoint-every`, `--resume`, `--stop-after`.
public struct CheckpointOptions: Sendable {
    /// Where to save the training state (`nil`: never).
    public var path: String? = nil
    /// Save every `every` steps (0: only at the end, or at ``stopAfter``).
    public var every = 0
    /// A checkpoint to continue from.
    public var resume: String? = nil
    /// Stop after this many steps of the run (saving when ``path`` is set), to continue later with ``resume``.
    public var stopAfter: Int? = nil
    /// No checkpoints: a fresh run that saves nothing.
    public init() {}

    /// Whether any option is set (for the examples that do not support checkpoints).
    public var isSet: Bool { path != nil || every != 0 || resume != nil || stopAfter != nil }
}

/// Why the checkpoint options of an example cannot be honoured.
public struct CheckpointOptionError: Error, CustomStringConvertible {
    /// The sentence shown to the user, naming the option and what was expected.
    public let description: String
    /// An error with this message.
    public init(_ description: String) { self.description = description }
}

extension ExampleEnvironment {
    /// The ``FitOptions`` of a training example: its checkpoint options (checked here, so that errors name the
    /// command-line options), this environment's progress display and `--log-dir`, and `run`, the settings a
    /// resumed run must share with the saved one.
    func fitOptions(steps: Int, label: String, itemsPerStep: Int, throughputName: String? = nil,
                    checkpoint: CheckpointOptions, run: [String: String]) throws -> FitOptions {
        guard checkpoint.every >= 0 else { throw CheckpointOptionError("--checkpoint-every must be 0 or positive, got \(checkpoint.every)") }
        if checkpoint.every > 0 && checkpoint.path == nil { throw CheckpointOptionError("--checkpoint-every needs --checkpoint FILE") }
        if let s = checkpoint.stopAfter, s < 1 || s > steps {
            throw CheckpointOptionError("--stop-after must be in 1...\(steps) (the run's steps), got \(s)")
        }
        var options = FitOptions(steps: steps)
        options.checkpoint = checkpoint.path
        options.checkpointEvery = checkpoint.every
        options.resume = checkpoint.resume
        options.stopAfter = checkpoint.stopAfter
        options.logDirectory = metricsDirectory
        options.run = run
        options.showsProgress = showProgress
        options.label = label
        options.itemsPerStep = itemsPerStep
        options.throughputName = throughputName
        options.progressOutput = progressOutput
        return options
    }
}

/// Runs `body` (a `fit`), naming the command-line option when `--stop-after` lies before the checkpoint to resume.
func namingOptions<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch FitError.stopBeforeCheckpoint(_, let stop, let step) {
        throw CheckpointOptionError("--stop-after \(stop) lies before the checkpoint's step \(step); pick a later step")
    }
}
