/// A module that wraps one other module and forwards to it everything it does not change: ``Named`` (a label),
/// ``Tared`` (the mass) and ``Scaled`` (a constant times the output).
///
/// Code that walks a module tree looks through wrappers with this protocol instead of testing for each type.
public protocol ForwardingModule: Module {
    /// The wrapped module.
    var module: any Module { get }
    /// The mass the parent sees and the wrapped subtree's own mass, when taring makes them differ (a ``Tared``
    /// module of positive mass, or a wrapper around one); nil otherwise. Printed trees scale the masses inside by
    /// their ratio.
    var rescaledMass: (outer: Double, inner: Double)? { get }
    /// The constant the wrapped module's output is multiplied by (a ``Scaled`` module's factor; 1 otherwise).
    var outputFactor: Double { get }
}

extension ForwardingModule {
    public var rescaledMass: (outer: Double, inner: Double)? { nil }
    public var outputFactor: Double { 1 }

    public var name: String { module.name }
    public var label: String? { module.label }
    public var mass: Double { module.mass }
    public var sensitivity: Double { module.sensitivity }
    public var atomCount: Int { module.atomCount }
    public var bondCount: Int { module.bondCount }
    public var children: [(label: String, module: any Module)] { [("", module)] }
    public var weightShapes: [[Int]] { module.weightShapes }
    public var weightNames: [String] { module.weightNames }

    public func forward<S: TensorScalar>(_ inputs: [Tensor<S>], weights: ArraySlice<Tensor<S>>) throws -> [Tensor<S>] {
        try module.forward(inputs, weights: weights)
    }
    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> [Tensor<S>] { module.initialize(using: &rng) }
    public func project<S: TensorScalar>(_ w: ArraySlice<Tensor<S>>) -> [Tensor<S>] { module.project(w) }
    public func norm<S: TensorScalar>(_ w: ArraySlice<Tensor<S>>) -> S { module.norm(w) }
    public func dualNorm<S: TensorScalar>(_ g: ArraySlice<Tensor<S>>) -> S { module.dualNorm(g) }
    public func dualize<S: TensorScalar>(_ g: ArraySlice<Tensor<S>>, targetNorm: S) -> [Tensor<S>] {
        module.dualize(g, targetNorm: targetNorm)
    }
}
