import Modula

/// The losses and evaluations of a ``fit(weights:optimizer:rng:options:batch:loss:inputs:evaluate:update:)`` run, as
/// checkpoint strings: `extra.losses` ("0.5,0.25,…"), `extra.evaluation_steps` and one `extra.evaluation.<name>`
/// per evaluated value (aligned with the steps; empty where a step lacks the value), and `extra.fit_step`, the loop's
/// position (the optimizer's step does not count skipped steps). Swift prints the shortest decimal that reads back
/// exactly, so a resumed run continues with the same numbers.
@usableFromInline struct FitHistory {
    @usableFromInline var losses: [Double] = []
    @usableFromInline var evaluations: [Evaluation] = []

    @usableFromInline init() {}

    /// The strings saved with a checkpoint after `step` steps.
    @usableFromInline func extra(step: Int) -> [String: String] {
        var extra = ["losses": FitHistory.encode(losses), "fit_step": String(step)]
        guard !evaluations.isEmpty else { return extra }
        extra["evaluation_steps"] = evaluations.map { String($0.step) }.joined(separator: ",")
        var names: [String] = []
        for e in evaluations { for v in e.values where !names.contains(v.name) { names.append(v.name) } }
        for name in names {
            extra["evaluation." + name] = evaluations.map { $0[name].map { "\($0)" } ?? "" }.joined(separator: ",")
        }
        return extra
    }

    /// Reads a checkpoint of the same run into the arguments and returns its history.
    @usableFromInline static func restore<S: TensorScalar>(
        from path: String, options: FitOptions, weights: inout [Tensor<S>], optimizer: inout Optimizer<S>,
        rng: inout RandomGenerator
    ) throws -> FitHistory {
        let state: TrainingState<S> = try Checkpoint.loadTrainingState(for: optimizer.module, from: path)
        for (key, value) in options.run.sorted(by: { $0.key < $1.key }) where state.extra[key] != value {
            throw FitError.otherRun(path: path, key: key, saved: state.extra[key], current: value)
        }
        guard let generator = state.rng["main"] else {
            throw CheckpointError.mismatch(path: path, reason: "it holds no generator 'rng.main'")
        }
        let step = state.extra["fit_step"].flatMap { Int($0) } ?? state.step
        guard step <= options.steps else {
            throw CheckpointError.mismatch(path: path, reason: "it is at step \(step), beyond this run's \(options.steps) steps")
        }
        if let stop = options.stopAfter, stop <= step {
            throw FitError.stopBeforeCheckpoint(path: path, stopAfter: stop, checkpointStep: step)
        }
        var history = FitHistory()
        guard let losses = decode(state.extra["losses"] ?? ""), losses.count == step, losses.allSatisfy({ $0 != nil }) else {
            throw CheckpointError.corrupt(path: path, reason: "extra.losses does not hold the \(step) losses of the steps taken")
        }
        history.losses = losses.map { $0! }
        if let stepsText = state.extra["evaluation_steps"] {
            let steps = stepsText.split(separator: ",").compactMap { Int($0) }
            let names = state.extra.keys.filter { $0.hasPrefix("evaluation.") }.sorted()
            var columns: [[Double?]] = []
            for key in names {
                guard let column = decode(state.extra[key]!), column.count == steps.count else {
                    throw CheckpointError.corrupt(path: path, reason: "extra.\(key) does not hold one value per evaluation step")
                }
                columns.append(column)
            }
            history.evaluations = steps.indices.map { i in
                Evaluation(step: steps[i], values: names.indices.compactMap { n in
                    columns[n][i].map { Evaluation.Value(String(names[n].dropFirst("evaluation.".count)), $0) }
                })
            }
        }
        weights = state.weights
        optimizer.state = state.optimizer
        rng = generator
        return history
    }

    /// Numbers as one string that reads back exactly.
    static func encode(_ values: [Double]) -> String { values.map { "\($0)" }.joined(separator: ",") }

    /// The numbers of a comma-separated list, `nil` for empty fields; `nil` when a field is not a number.
    static func decode(_ text: String) -> [Double?]? {
        if text.isEmpty { return [] }
        var values: [Double?] = []
        for field in text.split(separator: ",", omittingEmptySubsequences: false) {
            if field.isEmpty { values.append(nil); continue }
            guard let v = Double(field) else { return nil }
            values.append(v)
        }
        return values
    }
}
