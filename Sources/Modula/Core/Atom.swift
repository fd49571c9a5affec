/// A module that owns exactly one weight tensor and declares its norm and duality map: the common case of
/// ``MultiWeightAtom``.
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
public protocol Atom: MultiWeightAtom {
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
    ///
    /// `g` is taken over: the map may compute its result in `g`'s memory when no other tensor shares it.
    func dualize<S: TensorScalar>(_ g: consuming Tensor<S>) -> Tensor<S>
    /// The dual norm of a gradient (default: ⟨g, dualize(g)⟩).
    func dualNorm<S: TensorScalar>(_ g: Tensor<S>) -> S
}

// The one-weight requirements seen as the general atom's: lists of one tensor (the lists' lengths are checked by
// `MultiWeightAtom` before these run).
extension Atom {
    public var weightShapes: [[Int]] { [weightShape] }
    public var weightNames: [String] { ["weight"] }

    public func project<S: TensorScalar>(_ w: Tensor<S>) -> Tensor<S> { w }
    public func dualNorm<S: TensorScalar>(_ g: Tensor<S>) -> S { g.dotValue(dualize(g)) }

    public func apply<S: TensorScalar>(_ x: Tensor<S>, weights: [Tensor<S>]) throws -> Tensor<S> {
        try apply(x, weight: weights[0])
    }
    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> [Tensor<S>] {
        let w: Tensor<S> = initialize(using: &rng)
        return [w]
    }
    public func project<S: TensorScalar>(weights: [Tensor<S>]) -> [Tensor<S>] { [project(weights[0])] }
    public func norm<S: TensorScalar>(weights: [Tensor<S>]) -> S { norm(weights[0]) }
    public func dualNorm<S: TensorScalar>(gradients: [Tensor<S>]) -> S { dualNorm(gradients[0]) }
    public func dualize<S: TensorScalar>(gradients: consuming [Tensor<S>]) -> [Tensor<S>] {
        [dualize(gradients[0].take())]
    }
}

extension MultiWeightAtom {
    /// Throws unless the last axis of `x` has extent `n`.
    public func expectLastAxis<S>(_ x: Tensor<S>, _ n: Int, _ what: String = "input") throws {
        guard x.rank >= 1, x.shape[x.rank - 1] == n else {
            throw ModuleError(module: name, problem: "\(what) of shape \(x.shape) must end in an axis of size \(n)")
        }
    }
}
