import Modula
import ModulaMPI

// What the training examples do differently on MPI ranks (`--distributed`): one loop serves both, and with
// `parallel == nil` every helper here does exactly what the single-process run did before.

extension DataParallel? {
    /// Before training: rank 0's weights everywhere, and the optimizer's duality maps divided among the ranks.
    func prepare(_ optimizer: inout Optimizer<Float>, _ weights: inout [Tensor<Float>]) throws {
        guard let parallel = self else { return }
        try parallel.broadcastWeights(&weights)
        try parallel.distribute(&optimizer)
    }

    /// This rank's rows of a global batch `x` (all of them in one process).
    func shard(_ x: Tensor<Float>) -> Tensor<Float> {
        guard let parallel = self else { return x }
        return x.slice(axis: 0, parallel.shard(of: x.shape[0]))
    }

    /// One optimizer step on this rank's `gradients` and `loss` of a global batch of `batch` examples: averaged
    /// over the ranks first when distributed. Returns the global batch's loss.
    func step(
        _ optimizer: inout Optimizer<Float>, _ weights: inout [Tensor<Float>], gradients: [Tensor<Float>],
        loss: Tensor<Float>, inputs: [Tensor<Float>] = [], batch: Int
    ) throws -> Double {
        guard let parallel = self else {
            try optimizer.update(&weights, gradients: gradients, loss: loss, inputs: inputs)
            return Double(loss.scalar)
        }
        // The inputs differ between ranks: checking them could make one rank skip a step the others take.
        return Double(try parallel.step(&optimizer, &weights, gradients: gradients, loss: loss, globalBatch: batch).loss)
    }

    /// Adds `ranks` and, when distributed, `dualize_share` (the part of the training time spent in the
    /// distributed dualize, allgather included) to `result`.
    func report(_ result: inout ExampleResult, _ optimizer: Optimizer<Float>, trainingSeconds: Double) {
        result.add("ranks", String(self?.communicator.size ?? 1))
        if let dualizer = optimizer.dualizer as? DistributedDualizer {
            result.add("dualize_share", dualizer.seconds / trainingSeconds)
        }
    }
}

/// Runs a training example on the ranks of `world`: every rank trains (on its shard of each global batch),
/// rank 0 alone writes checkpoints, figures and metrics, logs and returns the result (`nil` on the others).
func runOnRanks<C>(
    _ c: C, world: Communicator, environment env: ExampleEnvironment, checkpoint: WritableKeyPath<C, CheckpointOptions>,
    _ run: (C, ExampleEnvironment, DataParallel) throws -> ExampleResult
) throws -> ExampleResult? {
    var c = c
    if !world.isRoot { (c[keyPath: checkpoint].path, c[keyPath: checkpoint].every) = (nil, 0) }  // every rank may resume
    let result = try run(c, world.isRoot ? env : .quiet, DataParallel(world))
    return world.isRoot ? result : nil
}
