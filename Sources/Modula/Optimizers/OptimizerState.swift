import ModulaTensor

/// Everything an ``Optimizer`` remembers between steps: a plain value that saves and restores exactly.
public struct OptimizerState<Scalar: TensorScalar>: Sendable, Codable, Equatable {
    /// Steps taken so far.
    public var step: Int = 0
    /// First-moment (momentum) buffers, one per weight (empty until first used).
    public var firstMoment: [Tensor<Scalar>] = []
    /// Second-moment buffers for Adam-type rules (empty until first used).
    public var secondMoment: [Tensor<Scalar>] = []
    /// The named buffers of ``UpdateRule/rule(_:)`` groups, one dictionary per weight (empty until first used).
    public var rules: [RuleState<Scalar>] = []
    /// The state before the first step.
    public init() {}
}
