import Modula

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

/// Saves and restores an example's training state: weights, optimizer, generator and loss history,
/// so that a resumed run continues bit for bit where the saved one stopped.
struct Resumable {
    let options: CheckpointOptions
    let module: any Module
    /// What must agree between the saved run and this one (example, seed, steps, …).
    let identity: [String: String]
    let totalSteps: Int

    init(_ options: CheckpointOptions, module: any Module, identity: [String: String], totalSteps: Int) throws {
        guard options.every >= 0 else { throw CheckpointOptionError("--checkpoint-every must be 0 or positive, got \(options.every)") }
        if options.every > 0 && options.path == nil { throw CheckpointOptionError("--checkpoint-every needs --checkpoint FILE") }
        if let s = options.stopAfter, s < 1 || s > totalSteps {
            throw CheckpointOptionError("--stop-after must be in 1...\(totalSteps) (the run's steps), got \(s)")
        }
        self.options = options
        self.module = module
        self.identity = identity
        self.totalSteps = totalSteps
    }

    /// Restores the saved state when resuming; returns the step to continue from (0 for a fresh run).
    func restore(weights: inout [Tensor<Float>], optimizer: inout OptimizerState<Float>, rng: inout RandomGenerator,
                 history: inout [String: String]) throws -> Int {
        guard let path = options.resume else { return 0 }
        let state: TrainingState<Float> = try Checkpoint.loadTrainingState(for: module, from: path)
        for (key, value) in identity.sorted(by: { $0.key < $1.key }) where state.extra[key] != value {
            throw CheckpointOptionError("checkpoint \(path) was written with \(key) \(state.extra[key] ?? "(none)"), this run has \(key) \(value); resume with the options of the saved run")
        }
        guard let g = state.rng["main"] else { throw CheckpointError.mismatch(path: path, reason: "it holds no generator 'rng.main'") }
        guard state.step <= totalSteps else {
            throw CheckpointError.mismatch(path: path, reason: "it is at step \(state.step), beyond this run's \(totalSteps) steps")
        }
        if let stop = options.stopAfter, stop <= state.step {
            throw CheckpointOptionError("--stop-after \(stop) lies before the checkpoint's step \(state.step); pick a later step")
        }
        weights = state.weights
        optimizer = state.optimizer
        rng = g
        history = state.extra.filter { identity[$0.key] == nil }
        return state.step
    }

    /// After `done` steps: saves when due; returns whether to stop here (``CheckpointOptions/stopAfter``).
    func after(step done: Int, weights: [Tensor<Float>], optimizer: OptimizerState<Float>, rng: RandomGenerator,
               history: () -> [String: String]) throws -> Bool {
        let stop = done == options.stopAfter
        guard let path = options.path else { return stop }
        if stop || done == totalSteps || (options.every > 0 && done % options.every == 0) {
            let extra = history().merging(identity) { _, id in id }
            try Checkpoint.save(weights: weights, optimizer: optimizer, rng: ["main": rng], extra: extra, of: module, to: path)
        }
        return stop
    }
}

/// A list of numbers as one metadata string that reads back exactly (Swift prints the shortest
/// decimal that round-trips).
func encodeHistory(_ values: [Double]) -> String { values.map { "\($0)" }.joined(separator: ",") }

/// The numbers of ``encodeHistory(_:)``; `nil` for anything else.
func decodeHistory(_ text: String?) -> [Double]? {
    guard let text else { return nil }
    if text.isEmpty { return [] }
    let values = text.split(separator: ",").compactMap { Double($0) }
    return values.count == text.split(separator: ",").count ? values : nil
}

/// The loss history saved with a checkpoint at step `count` (empty for a fresh run).
func restoredHistory(_ text: String?, count: Int, path: String?) throws -> [Double] {
    guard count > 0 else { return [] }
    guard let values = decodeHistory(text), values.count == count else {
        throw CheckpointError.corrupt(path: path ?? "", reason: "extra.losses does not hold the \(count) losses of the steps taken")
    }
    return values
}
