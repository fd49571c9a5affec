import Modula
import ModulaData

/// The per-step scalars an example writes with `--log-dir` (``MetricsLog``: `metrics.jsonl` and a TensorBoard event
/// file): the loss, each group's learning rate and update norm, and the example's own figures (throughput,
/// validation loss when measured).
final class StepMetrics {
    let log: MetricsLog

    /// A log in `directory`, continuing its JSON Lines when the run resumes from a checkpoint.
    init?(_ directory: String?, resuming: Bool) throws {
        guard let directory else { return nil }
        log = try MetricsLog(directory: directory, append: resuming)
    }

    /// The learning rate of each group, named `learning_rate/<group>`: call before the step advances them.
    static func learningRates(_ optimizer: Optimizer<Float>) -> [(String, Double)] {
        optimizer.groups.indices.map { ("learning_rate/\(optimizer.groups[$0].label)", optimizer.learningRate(group: $0)) }
    }

    /// Records one step: `loss`, the learning rates taken before it, the Frobenius norm of each group's step
    /// (`update_norm/<group>`, from the weights `before` and `after`), and `extra`. Callers keep `before` only
    /// while logging: holding the old weights makes the optimizer's in-place update copy every weight.
    func record(step: Int, loss: Double, learningRates: [(String, Double)], optimizer: Optimizer<Float>,
                before: [Tensor<Float>], after: [Tensor<Float>], _ extra: [(String, Double)] = []) throws {
        var squares = [Double](repeating: 0, count: optimizer.groups.count)
        for i in before.indices where i < after.count {
            squares[optimizer.assignment[i]] += Double((after[i] - before[i]).squaredNormValue)
        }
        let norms = optimizer.groups.indices.map { ("update_norm/\(optimizer.groups[$0].label)", squares[$0].squareRoot()) }
        try log.record(step: step, [("loss", loss)] + learningRates + norms + extra)
    }

    /// Records scalars measured at a step outside training (a validation loss, say).
    func record(step: Int, _ scalars: [(String, Double)]) throws { try log.record(step: step, scalars) }
}
