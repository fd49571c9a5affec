import Modula
import ModulaMPI

extension HelloGPT {
    /// hello-GPT data-parallel over MPI ranks (`mpirun -np N modula-examples hello-gpt --distributed`).
    ///
    /// Every rank draws the same global batches of sequences as the single-process run, computes the gradient
    /// of its rows, and the ranks average gradients and loss before the momentum step, whose dualize is divided
    /// among them (``ModulaMPI/DistributedDualizer``). Rank 0 writes checkpoints, which resume on any number of
    /// ranks or in a single-process run, and returns the result with `ranks` and `dualize_share`; `nil` on the others.
    public static func runDistributed(
        _ c: Configuration, world: Communicator, environment env: ExampleEnvironment = .init()
    ) throws -> ExampleResult? {
        try runOnRanks(c, world: world, environment: env, checkpoint: \.checkpoint) { try run($0, environment: $1, over: $2) }
    }
}
