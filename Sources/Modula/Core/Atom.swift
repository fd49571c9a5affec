/// A module that owns exactly one weight tensor and declares its norm and duality map.
///
/// An atom keeps forward, norm, duality map, initialization and projection side by side; the
/// combinators do the rest. A custom atom is one small type:
///
/// ```swift
/// struct Scale: Atom {
///     let width: Int
///     var name: String { "Scale(\(width))" }
///     var weightShape: [Int] { [width] }
///     func apply<S: TensorScalar>(_ x: Tensor<S>, weight w: Tensor<S>) throws -> Tensor<S> { x * w }
///     func norm<S: TensorScalar>(_ w: Tensor<S>) -> S { w.abs().max() }        // ℓ∞
///     func dualize<S: TensorScalar>(_ g: Tensor<S>) -> Tensor<S> { g.sign() }  // its duality map
///     func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> Tensor<S> { .ones([width]) }
/// }
/// ```
public protocol Atom: Module {
    /// Shape of the atom's weight tensor.
    var weightShape: [Int] { get }
    /// The forward map for one input tensor.
    func apply<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>) throws -> Tensor<S>
    /// A fresh weight.
    func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> Tensor<S>
    /// The weight mapped onto the initialization's constraint set (default: unchanged).
    func project<S: TensorScalar>(_ w: Tensor<S>) -> Tensor<S>
    /// The atom's norm of a weight.
    func norm<S: TensorScalar>(_ w: Tensor<S>) -> S
    /// The duality map: a tensor of unit norm maximizing ⟨g, ·⟩ (zero for a zero gradient).
    func dualize<S: TensorScalar>(_ g: Tensor<S>) -> Tensor<S>
    /// The dual norm of a gradient (default: ⟨g, dualize(g)⟩).
    func dualNorm<S: TensorScalar>(_ g: Tensor<S>) -> S
}

extension Atom {
    public var mass: Double { 1 }
    public var sensitivity: Double { 1 }
    public var children: [(label: String, module: any Module)] { [] }
    public var weightShapes: [[Int]] { [weightShape] }
    public var weightNames: [String] { ["weight"] }

    public func project<S: TensorScalar>(_ w: Tensor<S>) -> Tensor<S> { w }
    public func dualNorm<S: TensorScalar>(_ g: Tensor<S>) -> S { g.dotValue(dualize(g)) }

    public func forward<S: TensorScalar>(_ inputs: [Tensor<S>], weights: ArraySlice<Tensor<S>>) throws -> [Tensor<S>] {
        guard inputs.count == 1 else {
            throw ModuleError(module: name, problem: "expected 1 input tensor, got \(inputs.count)")
        }
        guard let w = weights.first, weights.count == 1 else {
            throw ModuleError(module: name, problem: "expected 1 weight tensor, got \(weights.count)")
        }
        guard w.shape == weightShape else {
            throw ModuleError(module: name, problem: "weight has shape \(w.shape), expected \(weightShape)")
        }
        return try hooked(self, inputs) { [try apply(inputs[0], weight: w)] }
    }
    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> [Tensor<S>] {
        let w: Tensor<S> = initialize(using: &rng)
        return [w]
    }
    public func project<S: TensorScalar>(_ weights: ArraySlice<Tensor<S>>) -> [Tensor<S>] {
        requireOne(weights, "project")
        return [project(weights[weights.startIndex])]
    }
    public func norm<S: TensorScalar>(_ weights: ArraySlice<Tensor<S>>) -> S {
        requireOne(weights, "norm")
        return norm(weights[weights.startIndex])
    }
    public func dualNorm<S: TensorScalar>(_ gradient: ArraySlice<Tensor<S>>) -> S {
        requireOne(gradient, "dualNorm")
        return dualNorm(gradient[gradient.startIndex])
    }
    public func dualize<S: TensorScalar>(_ gradient: ArraySlice<Tensor<S>>, targetNorm: S) -> [Tensor<S>] {
        requireOne(gradient, "dualize")
        let g = gradient[gradient.startIndex]
        if mass == 0 || targetNorm == 0 { return [Tensor.zeros(g.shape)] }
        var d = dualize(g)
        d.scaleInPlace(by: targetNorm)
        return [d]
    }

    /// Stops with a message unless `list` holds exactly one tensor (an atom's weight or its gradient).
    func requireOne<S: TensorScalar>(_ list: ArraySlice<Tensor<S>>, _ call: String) {
        require(list.count == 1, "\(name).\(call): an atom takes 1 tensor, got \(list.count)")
    }

    /// Throws unless the last axis of `x` has extent `n`.
    public func expectLastAxis<S>(_ x: Tensor<S>, _ n: Int, _ what: String = "input") throws {
        guard x.rank >= 1, x.shape[x.rank - 1] == n else {
            throw ModuleError(module: name, problem: "\(what) of shape \(x.shape) must end in an axis of size \(n)")
        }
    }
}

/// A module with no weights (mass 0): nonlinearities, reshapes and attention plumbing.
public protocol Bond: Module {
    /// The forward map on a list of inputs.
    func apply<S: TensorScalar>(_ inputs: [Tensor<S>]) throws -> [Tensor<S>]
}

extension Bond {
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
