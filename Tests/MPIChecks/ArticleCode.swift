import Foundation
import Modula
import ModulaMPI

/// The code of the DocC article "Scaling out" (Sources/Modula/Modula.docc/Articles/ScalingOut.md), so that it
/// cannot drift from the API: the same lines, with `MPI.run` replaced by the caller's communicator and the
/// checkpoint written to `path`. Returns the final weights.
func scalingOutArticle(_ world: Communicator, path: String) throws -> [Tensor<Float>] {
    let mlp = Sequential.mlp(input: 12, width: 16, output: 3)
    let parallel = DataParallel(world)
    var rng = RandomGenerator(seed: 0)                  // the same global batches on every rank
    var weights: [Tensor<Float>] = mlp.initialize(using: &rng)
    var optimizer = try Optimizer<Float>.modular(module: mlp, learningRate: .constant(0.1), momentum: .ema(0.9))
    try parallel.broadcastWeights(&weights)
    try parallel.distribute(&optimizer)                 // optimizer.dualizer = DistributedDualizer(…)
    for step in 0..<200 {
        let x = Tensor<Float>.randomNormal([30, 12], using: &rng)
        let y = Tensor<Float>.randomNormal([30, 3], using: &rng)
        let rows = parallel.shard(of: 30)                // this rank's examples of the global batch
        let (loss, g) = try valueWithGradient(at: weights) { w in
            meanSquaredError(try mlp(x.slice(axis: 0, rows), w), y.slice(axis: 0, rows))
        }
        // Averages gradients and loss over the ranks in one allreduce, then optimizer.update.
        try parallel.step(&optimizer, &weights, gradients: g, loss: loss, globalBatch: 30)
        if step % 100 == 99 {
            try world.saveCheckpoint(weights: weights, optimizer: optimizer.state, rng: ["batches": rng],
                                     of: mlp, to: path)
        }
    }
    return weights
}

/// Runs the article's code and checks that its checkpoint holds the final state.
func checkArticle(_ checks: Checks) throws {
    // The ranks of one mpirun share their parent process, so they agree on this path.
    let path = NSTemporaryDirectory() + "modula-mpi-article-\(getppid()).safetensors"
    defer { if checks.world.isRoot { unlink(path) } }
    let weights = try scalingOutArticle(checks.world, path: path)
    let state: TrainingState<Float> = try Checkpoint.loadTrainingState(for: Sequential.mlp(input: 12, width: 16, output: 3), from: path)
    let same = state.step == 200 && zip(state.weights, weights).allSatisfy { $0.scalars == $1.scalars }
    checks.check("scaling-out-article", try checks.largest(same ? 0 : 1) == 0,
                 "the article's loop ran 200 steps; its last checkpoint (step \(state.step)) holds the final weights")
}
