/// A module that owns one or more named weight tensors and declares one norm and one duality map over them.
///
/// Modula's rules are per atom, not per tensor [Large et al. 2024, §3]: an atom's weights are measured together
/// by its norm, dualized together by its duality map, and the combinators see the atom as a single term of the
/// modular norm. ``Atom`` is the common case of one weight; adopt this protocol directly when a layer is
/// naturally several tensors, such as the factors of a low-rank layer W = U·V (``LowRankLinear``).
///
/// The atom declares ``Module/weightNames`` (local names such as `["u", "v"]`; a network prefixes them with the
/// atom's path, `blocks.0.u`) and ``Module/weightShapes`` in the same order, and receives and returns its weights
/// as plain arrays in that order.
///
/// ```swift
/// struct Affine: MultiWeightAtom {            // y = x ⊙ a + b, both vectors in ℓ∞, sensitivity ‖a‖∞ = 1
///     let width: Int
///     var name: String { "Affine(\(width))" }
///     var weightNames: [String] { ["scale", "shift"] }
///     var weightShapes: [[Int]] { [[width], [width]] }
///     func apply<S: TensorScalar>(_ x: Tensor<S>, weights w: [Tensor<S>]) throws -> Tensor<S> { x * w[0] + w[1] }
///     func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> [Tensor<S>] { [.ones([width]), .zeros([width])] }
///     func norm<S: TensorScalar>(weights w: [Tensor<S>]) -> S { 2 * Swift.max(w[0].abs().max(), w[1].abs().max()) }
///     func dualize<S: TensorScalar>(gradients g: [Tensor<S>]) -> [Tensor<S>] { g.map { $0.sign() * S(0.5) } }
/// }
/// ```
public protocol MultiWeightAtom: Module {
    /// The forward map for one input tensor, with the weights in the order of ``Module/weightNames``.
    func apply<S: TensorScalar>(_ x: Tensor<S>, weights: [Tensor<S>]) throws -> Tensor<S>
    /// The weights mapped onto the initialization's constraint set (default: unchanged).
    func project<S: TensorScalar>(weights: [Tensor<S>]) -> [Tensor<S>]
    /// The atom's norm of its weights (one number for all of them).
    func norm<S: TensorScalar>(weights: [Tensor<S>]) -> S
    /// The duality map: the weights' directions of unit norm maximizing ⟨g, ·⟩ (zero for a zero gradient).
    ///
    /// The gradients are taken over: a map may compute its result in a gradient's memory when no other tensor
    /// shares it (``Module/dualizeInPlace(_:_:targetNorm:)`` hands them over that way).
    func dualize<S: TensorScalar>(gradients: consuming [Tensor<S>]) -> [Tensor<S>]
    /// The dual norm of the gradients (default: ⟨g, dualize(g)⟩ summed over the weights).
    func dualNorm<S: TensorScalar>(gradients: [Tensor<S>]) -> S
}

extension MultiWeightAtom {
    public var mass: Double { 1 }
    public var sensitivity: Double { 1 }
    public var children: [(label: String, module: any Module)] { [] }

    public func project<S: TensorScalar>(weights: [Tensor<S>]) -> [Tensor<S>] { weights }
    public func dualNorm<S: TensorScalar>(gradients: [Tensor<S>]) -> S {
        zip(gradients, dualize(gradients: gradients)).reduce(S(0)) { $0 + $1.0.dotValue($1.1) }
    }

    public func forward<S: TensorScalar>(_ inputs: [Tensor<S>], weights: ArraySlice<Tensor<S>>) throws -> [Tensor<S>] {
        guard inputs.count == 1 else {
            throw ModuleError(module: name, problem: "expected 1 input tensor, got \(inputs.count)")
        }
        let shapes = weightShapes, names = weightNames
        requireDeclaredWeights(shapes, names)
        guard weights.count == shapes.count else {
            throw ModuleError(module: name, problem: "expected \(tensors(shapes.count, names)), got \(weights.count)")
        }
        let w = Array(weights)
        for k in shapes.indices where w[k].shape != shapes[k] {
            let which = shapes.count == 1 ? "weight" : "weight \(names[k])"
            throw ModuleError(module: name, problem: "\(which) has shape \(w[k].shape), expected \(shapes[k])")
        }
        return try hooked(self, inputs) { [try apply(inputs[0], weights: w)] }
    }
    public func project<S: TensorScalar>(_ weights: ArraySlice<Tensor<S>>) -> [Tensor<S>] {
        project(weights: requireAll(weights, "project"))
    }
    public func norm<S: TensorScalar>(_ weights: ArraySlice<Tensor<S>>) -> S {
        norm(weights: requireAll(weights, "norm"))
    }
    public func dualNorm<S: TensorScalar>(_ gradient: ArraySlice<Tensor<S>>) -> S {
        dualNorm(gradients: requireAll(gradient, "dualNorm"))
    }
    public func dualize<S: TensorScalar>(_ gradient: ArraySlice<Tensor<S>>, targetNorm: S) -> [Tensor<S>] {
        let g = requireAll(gradient, "dualize")
        if mass == 0 || targetNorm == 0 { return g.map { Tensor.zeros($0.shape) } }
        var d = dualize(gradients: g)
        for k in d.indices { d[k].scaleInPlace(by: targetNorm) }
        return d
    }

    /// Takes the atom's gradients out of `gradient[range]` (leaving empty tensors there, so that a tensor nobody
    /// else holds reaches the duality map unshared), dualizes them and puts the results in their place.
    public func dualizeInPlace<S: TensorScalar>(_ gradient: inout [Tensor<S>], _ range: Range<Int>, targetNorm: S) {
        let names = weightNames
        requireDeclaredWeights(weightShapes, names)
        require(range.count == names.count, "\(name).dualize: an atom takes \(tensors(names.count, names, weight: false)), got \(range.count)")
        if mass == 0 || targetNorm == 0 {
            for k in range { gradient[k] = .zeros(gradient[k].shape) }
            return
        }
        var mine: [Tensor<S>] = []
        mine.reserveCapacity(range.count)
        for k in range { mine.append(gradient[k].take()) }
        var d = dualize(gradients: consume mine)
        for (k, j) in zip(range, d.indices) {
            d[j].scaleInPlace(by: targetNorm)
            gradient[k] = d[j]
        }
    }

    /// The list as an array, after stopping with a message unless it holds one tensor per declared weight.
    func requireAll<S: TensorScalar>(_ list: ArraySlice<Tensor<S>>, _ call: String) -> [Tensor<S>] {
        let names = weightNames
        requireDeclaredWeights(weightShapes, names)
        require(list.count == names.count, "\(name).\(call): an atom takes \(tensors(names.count, names, weight: false)), got \(list.count)")
        return Array(list)
    }

    /// "1 weight tensor", or "2 weight tensors (u, v)".
    func tensors(_ n: Int, _ names: [String], weight: Bool = true) -> String {
        let noun = weight ? "weight tensor" : "tensor"
        return n == 1 ? "1 \(noun)" : "\(n) \(noun)s (\(names.joined(separator: ", ")))"
    }

    /// Stops with a message unless the atom declares as many weight names as shapes, and at least one.
    ///
    /// (`Module` derives both from the children, which an atom has none of: an atom that forgets to declare them
    /// would otherwise silently own no weights.)
    func requireDeclaredWeights(_ shapes: [[Int]], _ names: [String]) {
        require(!shapes.isEmpty && shapes.count == names.count,
                "\(name): an atom must declare weightNames and weightShapes of equal, nonzero length, got \(names.count) names and \(shapes.count) shapes")
    }
}
