import Modula
import ModulaMPI

extension HelloMNIST {
    /// hello-MNIST data-parallel over MPI ranks (`mpirun -np N modula-examples hello-mnist --distributed`).
    ///
    /// Every rank draws the same global batches as the single-process run, computes the gradient of its shard,
    /// and the ranks average gradients and loss before the optimizer's step (``Modula/Optimizer/modular(module:learningRate:momentum:targetNorm:weightDecay:)``),
    /// whose dualize is divided among them (``ModulaMPI/DistributedDualizer``). Rank 0 writes checkpoints, which
    /// resume on any number of ranks or in a single-process run, evaluates and returns the result, with `ranks`
    /// and `dualize_share` (the part of the training time spent in the distributed dualize); `nil` on the others.
    public static func runDistributed(
        _ c: Configuration, world: Communicator, environment env: ExampleEnvironment = .init()
    ) throws -> ExampleResult? {
        try runOnRanks(c, world: world, environment: env, checkpoint: \.checkpoint) { try run($0, environment: $1, over: $2) }
    }
}
