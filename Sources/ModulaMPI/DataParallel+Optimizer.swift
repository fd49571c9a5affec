import Modula
import ModulaTensor

extension DataParallel {
    /// Makes `optimizer` divide its duality maps among the ranks (a ``DistributedDualizer`` as its
    /// `Optimizer.dualizer`); everything else it does (momentum, presets, rules) runs on every rank alike.
    public func distribute<S: TensorScalar>(_ optimizer: inout Optimizer<S>) throws {
        optimizer.dualizer = DistributedDualizer(module: optimizer.module, communicator: communicator)
    }

    /// One data-parallel optimizer step: averages this rank's `gradients` and `loss` (of its ``shard(of:)`` of
    /// a global batch of `globalBatch` examples) over the ranks in one fused allreduce, then runs
    /// `optimizer.update` with the global batch's mean gradient and loss, as one process would on the whole batch.
    ///
    /// Every rank then takes the same step and makes the same decision about non-finite values (the checks see
    /// the averaged gradient and loss). Pass a distributed optimizer (``distribute(_:)``) to divide the dualize.
    ///
    /// - Returns: whether the step was taken, and the global batch's mean loss.
    @discardableResult
    public func step<S: TensorScalar>(
        _ optimizer: inout Optimizer<S>, _ weights: inout [Tensor<S>], gradients: [Tensor<S>], loss: Tensor<S>,
        globalBatch: Int
    ) throws -> (taken: Bool, loss: S) {
        guard globalBatch > 0 else {
            throw MPIError.invalidArgument("DataParallel.step", "globalBatch must be positive, got \(globalBatch)")
        }
        guard loss.count == 1 else {
            throw MPIError.invalidArgument("DataParallel.step", "the loss must be one number, got shape \(loss.shape)")
        }
        var all = gradients + [Tensor<S>([loss.scalars[0]])]
        try averageGradients(&all, share: share(of: globalBatch))
        let mean = all.removeLast()
        let taken = try optimizer.update(&weights, gradients: consume all, loss: mean)
        return (taken, mean.scalars[0])
    }
}
