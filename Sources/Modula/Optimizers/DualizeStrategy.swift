/// Where an ``Optimizer``'s duality maps run: all in this process (``LocalDualize``, the default), or divided
/// among processes (ModulaMPI's `DistributedDualizer`, which assigns atoms to ranks by their orthogonalization
/// cost and gathers the results).
///
/// The optimizer hands over every duality map of a step through these two calls, with the same arguments on
/// every process that runs the same step; a strategy must return exactly what the local computation would
/// (up to rounding), so that momentum, presets and rules behave as in one process.
///
/// ```swift
/// var opt = try Optimizer<Float>.modular(module: mlp, learningRate: .constant(0.1))
/// opt.dualizer = DistributedDualizer(module: mlp, communicator: world)   // import ModulaMPI
/// ```
public protocol DualizeStrategy: Sendable {
    /// The whole network's steepest-ascent direction of modular norm `targetNorm` for `directions` (one tensor
    /// per weight of `module`), as ``Module/dualize(_:targetNorm:)`` gives it.
    func dualize<S: TensorScalar>(_ directions: [Tensor<S>], of module: any Module, targetNorm: S) throws -> [Tensor<S>]

    /// ``dualize(_:of:targetNorm:)`` written back into `directions`, which the optimizer hands over: a strategy may
    /// compute each map in its direction's memory (the default calls ``dualize(_:of:targetNorm:)``).
    func dualizeInPlace<S: TensorScalar>(_ directions: inout [Tensor<S>], of module: any Module, targetNorm: S) throws

    /// `map(i)` for every weight index `i` of `weights` (in that order): the per-atom duality maps of the
    /// layer-wise layouts (Muon, Scion). `map(i)` has the shape of `module`'s weight `i`.
    func each<S: TensorScalar>(
        _ weights: [Int], of module: any Module, _ map: (Int) -> Tensor<S>
    ) throws -> [Tensor<S>]
}

extension DualizeStrategy {
    public func dualizeInPlace<S: TensorScalar>(_ directions: inout [Tensor<S>], of module: any Module, targetNorm: S) throws {
        directions = try dualize(directions, of: module, targetNorm: targetNorm)
    }
}

/// Every duality map in this process, one after another: the optimizer's default ``DualizeStrategy``.
public struct LocalDualize: DualizeStrategy {
    /// The local strategy.
    public init() {}

    public func dualize<S: TensorScalar>(_ directions: [Tensor<S>], of module: any Module, targetNorm: S) throws -> [Tensor<S>] {
        module.dualize(directions[...], targetNorm: targetNorm)  // the optimizer passes the weights' shapes
    }

    /// ``Module/dualizeInPlace(_:_:targetNorm:)``: each map in its direction's memory where nothing else holds it.
    public func dualizeInPlace<S: TensorScalar>(_ directions: inout [Tensor<S>], of module: any Module, targetNorm: S) throws {
        module.dualizeInPlace(&directions, directions.indices, targetNorm: targetNorm)
    }

    public func each<S: TensorScalar>(_ weights: [Int], of module: any Module, _ map: (Int) -> Tensor<S>) throws -> [Tensor<S>] {
        weights.map(map)
    }
}
