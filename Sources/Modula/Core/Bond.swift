/// A module with no weights (mass 0): nonlinearities, reshapes and attention plumbing.
public protocol Bond: Module {
    /// The forward map on a list of inputs.
    func apply<S: TensorScalar>(_ inputs: [Tensor<S>]) throws -> [Tensor<S>]
}

extension Bond {
    /// The type's name (`ReLU`); bonds with parameters name them too (`Mul(0.5)`).
    public var name: String { String(describing: Self.self) }
    /// 1: most bonds are 1-Lipschitz in the norms they are used with; others declare theirs.
    public var sensitivity: Double { 1 }
    public var mass: Double { 0 }
    public var children: [(label: String, module: any Module)] { [] }
    public var weightShapes: [[Int]] { [] }
    public var weightNames: [String] { [] }
    public func forward<S: TensorScalar>(_ inputs: [Tensor<S>], weights: ArraySlice<Tensor<S>>) throws -> [Tensor<S>] {
        try hooked(self, inputs) { try apply(inputs) }
    }
    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> [Tensor<S>] { [] }
    public func project<S: TensorScalar>(_ weights: ArraySlice<Tensor<S>>) -> [Tensor<S>] { [] }
    public func norm<S: TensorScalar>(_ weights: ArraySlice<Tensor<S>>) -> S { 0 }
    public func dualNorm<S: TensorScalar>(_ gradient: ArraySlice<Tensor<S>>) -> S { 0 }
    public func dualize<S: TensorScalar>(_ gradient: ArraySlice<Tensor<S>>, targetNorm: S) -> [Tensor<S>] { [] }
}

/// A bond that maps one tensor to one tensor.
public protocol UnaryBond: Bond {
    /// The forward map.
    func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S>
}

extension UnaryBond {
    public func apply<S: TensorScalar>(_ inputs: [Tensor<S>]) throws -> [Tensor<S>] {
        guard inputs.count == 1 else {
            throw ModuleError(module: name, problem: "expected 1 input tensor, got \(inputs.count)")
        }
        return [try apply(inputs[0])]
    }
}
