import Modula

extension Optimizer {
    /// The learning rate of each group at the coming step, named `learning_rate/<group>`: what
    /// ``fit(weights:optimizer:rng:options:batch:loss:inputs:evaluate:update:)`` logs each step. Read it before the step
    /// advances the schedule.
    public func learningRateScalars() -> [(String, Double)] {
        groups.indices.map { ("learning_rate/\(groups[$0].label)", learningRate(group: $0)) }
    }

    /// The Frobenius norm of each group's change from `before` to `after`, named `update_norm/<group>`.
    ///
    /// Keep `before` only while logging: holding the old weights makes the in-place update copy every weight.
    public func updateNormScalars(before: [Tensor<Scalar>], after: [Tensor<Scalar>]) -> [(String, Double)] {
        var squares = [Double](repeating: 0, count: groups.count)
        for i in before.indices where i < after.count {
            squares[assignment[i]] += Double((after[i] - before[i]).squaredNormValue)
        }
        return groups.indices.map { ("update_norm/\(groups[$0].label)", squares[$0].squareRoot()) }
    }
}
