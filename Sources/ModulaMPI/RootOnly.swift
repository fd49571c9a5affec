import Modula
import ModulaTensor

extension Communicator {
    /// Runs `body` on rank 0 only (writing checkpoints, figures and result lines) and returns its value there;
    /// `nil` on the other ranks.
    ///
    /// Every rank holds the same weights after an averaged step, so one copy on disk is enough, and concurrent
    /// writers to one file would corrupt it.
    @discardableResult
    public func onRoot<R>(_ body: () throws -> R) rethrows -> R? {
        isRoot ? try body() : nil
    }

    /// Saves a training state from rank 0 only, atomically (`Checkpoint.save(weights:optimizer:rng:extra:of:to:)`:
    /// a temporary file, then a rename), and returns on every rank once the file is complete, so that any rank
    /// may read it afterwards; all ranks must call it.
    ///
    /// The data-parallel ranks hold the same weights, optimizer state and batch generator, and none of it
    /// depends on the number of ranks, so the file resumes on any number of ranks (1 included).
    ///
    /// - Throws: on rank 0 the error of the save; on the other ranks ``MPIError/invalidArgument(_:_:)`` saying
    ///   that rank 0 could not write `path` (so that every rank stops, none waits for the others).
    public func saveCheckpoint<S: TensorScalar>(
        weights: [Tensor<S>], optimizer: OptimizerState<S>, rng: [String: RandomGenerator] = [:],
        extra: [String: String] = [:], of module: any Module, to path: String
    ) throws {
        var failure: Error? = nil
        if isRoot {
            do { try Checkpoint.save(weights: weights, optimizer: optimizer, rng: rng, extra: extra, of: module, to: path) } catch { failure = error }
        }
        var failed = Tensor<Double>([failure == nil ? 0 : 1])
        try broadcast(&failed)  // also the barrier: no rank returns before rank 0 has renamed the file
        if let failure { throw failure }
        if failed.scalars[0] != 0 {
            throw MPIError.invalidArgument("Communicator.saveCheckpoint", "rank 0 could not write the checkpoint \(path) (its error is on rank 0's output)")
        }
    }
}
