/// The training state a checkpoint holds: weights, optimizer state, random generators and the
/// caller's own strings.
public struct TrainingState<Scalar: TensorScalar>: Sendable {
    /// The weights, in the order of ``Module/weightNames``.
    public var weights: [Tensor<Scalar>]
    /// The optimizer's step and buffers (empty for weights-only files).
    public var optimizer = OptimizerState<Scalar>()
    /// The random generators saved by name.
    public var rng: [String: RandomGenerator] = [:]
    /// The caller's strings (`extra.<key>` in the file; a v1 file's metadata).
    public var extra: [String: String] = [:]
    /// The file's `format_version` (1 for the earlier custom format, 0 for a plain safetensors file).
    public var formatVersion = Checkpoint.formatVersion

    /// The optimizer steps taken before the save (the schedule position).
    public var step: Int { optimizer.step }

    /// A state of `weights` alone.
    public init(weights: [Tensor<Scalar>]) { self.weights = weights }
}
