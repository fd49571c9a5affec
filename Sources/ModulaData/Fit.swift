import Modula

/// Trains `weights` with `optimizer` for ``FitOptions/steps`` steps: the loop every experiment writes, with
/// evaluation, checkpoints and resume, per-step logs and a progress display.
///
/// Each step draws a batch from `rng`, takes the gradient of `loss` at the weights and hands both to
/// `Optimizer.update(_:gradients:loss:inputs:curvature:curvatureBatchSize:factors:)`, which checks the batch
/// (`inputs`), loss, gradients and update for NaN and infinity. Under the optimizer's
/// `Optimizer.nonFiniteSteps` policy `NonFinitePolicy.stop` the run stops early at such a step and says so
/// in ``FitResult/end`` (``FitResult/requireFinite()`` turns that into the optimizer's error); under
/// `NonFinitePolicy.skip` the step is skipped and the run goes on.
///
/// ```swift
/// var options = FitOptions(steps: 1000)
/// options.evaluateEvery = 200; options.evaluateAtEnd = true
/// let run = try fit(weights: &weights, optimizer: &optimizer, rng: &rng, options: options) { rng in
///     data.batch(size: 128, using: &rng)
/// } loss: { w, batch in
///     crossEntropy(logits: try model(batch.images, w), labels: batch.labels)
/// } evaluate: { w in
///     [Evaluation.Value("test_accuracy", try accuracy(w))]
/// }
/// ```
///
/// **Checkpoints.** With ``FitOptions/checkpoint`` set, the whole state is saved (`Checkpoint`): weights,
/// `Optimizer.state`, `rng` as `rng.main` (it is the data order), the losses and evaluations so far and
/// ``FitOptions/run``. A run resumed with ``FitOptions/resume`` continues bit for bit: N steps, save, then the
/// rest gives the weights of one uninterrupted run (same build, threads and CPU).
///
/// **Logs.** With ``FitOptions/logDirectory`` set, every step records `loss`, `learning_rate/<group>` (the rate the
/// step used), `update_norm/<group>` (the Frobenius norm of the group's change) and the throughput when
/// ``FitOptions/throughputName`` is set; every evaluation records its values at the step it follows.
///
/// Rules that need curvature samples or layer factors (Sophia, K-FAC) are not driven by this loop: the optimizer
/// throws `OptimizerError.needsCurvature(group:rule:step:)` or `OptimizerError.needsFactors(group:rule:step:)`.
///
/// - Parameters:
///   - weights: the weights of `Optimizer.module`, trained in place.
///   - optimizer: the optimizer; its `Optimizer.state` advances (and is restored on resume).
///   - rng: the generator that `batch` draws from; restored on resume.
///   - options: steps, evaluation, checkpoints, logs and progress.
///   - batch: the next training batch.
///   - loss: the scalar loss of a batch at the given weights (differentiated with `valueWithGradient(at:of:)`).
///   - inputs: the tensors of a batch that the optimizer checks for NaN and infinity, to blame bad data first.
///   - evaluate: named values measured at the given weights (a validation loss, a test accuracy).
///   - update: the step itself, given the weights, the optimizer, the gradients, the loss and the checked inputs,
///     returning the loss to record (default: `optimizer.update(…)`, recording the batch's loss). Data-parallel
///     training passes a step that averages the gradients over the processes first (ModulaMPI's
///     `DataParallel.step`) and returns the global batch's loss.
/// - Returns: the losses, evaluations, training time and how the run ended.
/// - Throws: ``FitError`` for options out of range or a checkpoint of another run; `CheckpointError` when a
///   checkpoint cannot be read or written; ``DataError`` when the log cannot be written; whatever `batch`, `loss`,
///   `evaluate` and the optimizer throw (`OptimizerError.nonFinite(step:source:)` is reported in the result instead).
@inlinable @discardableResult
public func fit<Scalar: TensorScalar, Batch>(
    weights: inout [Tensor<Scalar>], optimizer: inout Optimizer<Scalar>, rng: inout RandomGenerator,
    options: FitOptions,
    batch: (inout RandomGenerator) throws -> Batch,
    loss: ([Tensor<Scalar>], Batch) throws -> Tensor<Scalar>,
    inputs: (Batch) -> [Tensor<Scalar>] = { _ in [] },
    evaluate: (([Tensor<Scalar>]) throws -> [Evaluation.Value])? = nil,
    update: ((inout [Tensor<Scalar>], inout Optimizer<Scalar>, [Tensor<Scalar>], Tensor<Scalar>, [Tensor<Scalar>]) throws -> Double)? = nil
) throws -> FitResult {
    try options.validate()
    let module = optimizer.module
    var history = FitHistory()
    if let path = options.resume {
        history = try FitHistory.restore(from: path, options: options, weights: &weights, optimizer: &optimizer, rng: &rng)
        if options.evaluateAtStart && evaluate != nil && history.evaluations.first?.step != 0 {
            throw CheckpointError.corrupt(path: path, reason: "extra.evaluation_steps lacks the evaluation at step 0 that evaluateAtStart asks for")
        }
    }
    let first = history.losses.count
    let log = try options.logDirectory.map { try MetricsLog(directory: $0, append: first > 0) }
    func evaluation(after step: Int) throws {
        guard let evaluate else { return }
        let values = try evaluate(weights)
        history.evaluations.append(Evaluation(step: step, values: values))
        try log?.record(step: step, values.map { ($0.name, $0.value) })
    }
    if first == 0 && options.evaluateAtStart { try evaluation(after: 0) }
    var progress = options.showsProgress
        ? ProgressDisplay(total: options.steps, label: options.label, itemsPerStep: options.itemsPerStep,
                          redrawInPlace: options.progressOutput == nil ? nil : false, output: options.progressOutput)
        : nil
    defer { progress?.finish() }
    var seconds = 0.0, end = FitResult.End.completed
    for step in first..<options.steps {
        let b = try batch(&rng)
        let t0 = fitClock()
        let (value, gradients) = try valueWithGradient(at: weights) { w in try loss(w, b) }
        // Keep the old weights only while logging: holding them makes the in-place update copy every weight.
        let before = log == nil ? [] : weights
        let rates = log == nil ? [] : optimizer.learningRateScalars()
        var recorded = Double(value.scalar)
        do {
            if let update {
                recorded = try update(&weights, &optimizer, gradients, value, inputs(b))
            } else {
                try optimizer.update(&weights, gradients: consume gradients, loss: value, inputs: inputs(b))
            }
        } catch OptimizerError.nonFinite(let at, let source) {
            history.losses.append(Double(value.scalar))
            try log?.record(step: step, [("loss", Double(value.scalar))])
            end = .nonFinite(step: at, source: source)
            break
        }
        let stepSeconds = fitClock() - t0
        seconds += stepSeconds
        history.losses.append(recorded)
        if let log {
            var scalars = [("loss", history.losses.last!)] + rates + optimizer.updateNormScalars(before: before, after: weights)
            if let name = options.throughputName { scalars.append((name, Double(options.itemsPerStep) / stepSeconds)) }
            try log.record(step: step, scalars)
        }
        let done = step + 1
        if (options.evaluateEvery > 0 && done % options.evaluateEvery == 0) || (options.evaluateAtEnd && done == options.steps) {
            try evaluation(after: done)
        }
        progress?.update(step: step, loss: history.losses.last!, extra: history.evaluations.last.map(summary) ?? "")
        let stop = done == options.stopAfter
        if let path = options.checkpoint,
           stop || done == options.steps || (options.checkpointEvery > 0 && done % options.checkpointEvery == 0) {
            try Checkpoint.save(weights: weights, optimizer: optimizer.state, rng: ["main": rng],
                                extra: history.extra(step: done).merging(options.run) { _, run in run }, of: module, to: path)
        }
        if stop { end = .stopped(afterStep: done); break }
    }
    return FitResult(losses: history.losses, evaluations: history.evaluations, firstStep: first,
                     trainingSeconds: seconds, end: end)
}

// `fit` is inlinable so that it is specialized for the caller's scalar type, as a loop written in place would be:
// run unspecialized, every tensor operation of a step goes through generic witness tables.

/// Seconds on a monotonic clock.
@usableFromInline func fitClock() -> Double { ProgressDisplay.now() }

/// `name 0.4312  other 12.5`: an evaluation for the progress line.
@usableFromInline func summary(_ e: Evaluation) -> String {
    e.values.map { "\($0.name) \(ProgressDisplay.formatLoss($0.value))" }.joined(separator: "  ")
}
