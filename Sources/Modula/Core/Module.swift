/// A building block of a network under the modular norm [Large et al. 2024; Bernstein & Newhouse 2024].
///
/// Every module carries a **mass** (its share of feature learning), a **sensitivity** (a Lipschitz
/// bound of its output in its input) and a **norm** on its weights. Atoms own weights, bonds do not,
/// and the combinators (``Module/then(_:)``, ``Parallel``, `+`, `*`, ``Module/repeated(_:)``,
/// ``Module/tared(_:)``) compute all three for any network they build.
///
/// A module is a description, not a container: its weights live in a separate list (in the order
/// of ``weightNames``) so that the same module can be evaluated at many points, differentiated and
/// dualized. All weight-handling requirements are generic over the scalar type so that one network
/// runs in `Float` for training and in `Double` for gradient checks.
///
/// Values flowing through a network are lists of tensors: most modules map one tensor to one
/// tensor; a ``Parallel`` (tuple) module concatenates the outputs of its branches, and bonds such as
/// ``Add`` or ``AttentionQK`` consume several.
public protocol Module: Sendable, CustomStringConvertible {
    /// A short label such as `Linear(784→256)`.
    var name: String { get }
    /// Share of feature learning (≥ 0). Atoms default to 1, bonds are 0.
    var mass: Double { get }
    /// Lipschitz constant of the output in the input (in the modules' own norms).
    var sensitivity: Double { get }
    /// The direct submodules, with the labels that prefix their weight names.
    var children: [(label: String, module: any Module)] { get }
    /// A label given with ``Module/named(_:)``, used by parents to prefix weight names.
    var label: String? { get }
    /// Number of atoms (modules that own weights) in the tree.
    var atomCount: Int { get }
    /// Number of bonds (weightless modules) in the tree.
    var bondCount: Int { get }
    /// Shapes of this module's weights, in order.
    var weightShapes: [[Int]] { get }
    /// Names of this module's weights, in order (e.g. `blocks.2.attention.query.weight`).
    var weightNames: [String] { get }

    /// Runs the module on a list of input tensors with its weights.
    func forward<S: TensorScalar>(_ inputs: [Tensor<S>], weights: ArraySlice<Tensor<S>>) throws -> [Tensor<S>]
    /// Fresh weights, drawn from `rng`.
    func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> [Tensor<S>]
    /// Weights mapped onto the set the initialization draws from.
    func project<S: TensorScalar>(_ weights: ArraySlice<Tensor<S>>) -> [Tensor<S>]
    /// The modular norm of the weights.
    func norm<S: TensorScalar>(_ weights: ArraySlice<Tensor<S>>) -> S
    /// The dual of the modular norm, evaluated at a gradient.
    func dualNorm<S: TensorScalar>(_ gradient: ArraySlice<Tensor<S>>) -> S
    /// The steepest-ascent direction of modular norm `targetNorm`: argmax over ‖t‖ = targetNorm of ⟨g, t⟩.
    func dualize<S: TensorScalar>(_ gradient: ArraySlice<Tensor<S>>, targetNorm: S) -> [Tensor<S>]
    /// ``Module/dualize(_:targetNorm:)`` of `gradient[range]`, written back into those elements.
    ///
    /// The built-in combinators and atoms take each gradient out of the list before its atom's duality map sees it,
    /// so that a tensor nothing else holds is orthogonalized in its own memory instead of a copy (for a Linear atom
    /// with a polynomial orthogonalizer: one matrix of the weight's size less at the peak). The default, for modules
    /// that implement ``Module/dualize(_:targetNorm:)`` themselves, calls it and stores the result. A module that overrides
    /// ``Module/dualize(_:targetNorm:)`` with rules of its own must not inherit another type's version of this one.
    func dualizeInPlace<S: TensorScalar>(_ gradient: inout [Tensor<S>], _ range: Range<Int>, targetNorm: S)
}

extension Module {
    public var label: String? { nil }
    public var atomCount: Int {
        if self is any MultiWeightAtom { return 1 }
        return children.reduce(0) { $0 + $1.module.atomCount }
    }
    public var bondCount: Int {
        if self is any Bond { return 1 }
        return children.reduce(0) { $0 + $1.module.bondCount }
    }
    /// Number of weight tensors.
    public var weightCount: Int { weightShapes.count }
    /// Number of scalar weights.
    public var parameterCount: Int { weightShapes.reduce(0) { $0 + $1.reduce(1, *) } }

    public var weightShapes: [[Int]] { children.flatMap { $0.module.weightShapes } }
    /// Weight names: labelled children and atoms prefix their position or label; unlabelled
    /// combinators pass their children's names through, unless that would make two names equal,
    /// in which case every child is prefixed by its position.
    public var weightNames: [String] {
        let c = children
        func names(flatten: Bool) -> [String] {
            c.flatMap { (label, m) -> [String] in
                let inner = m.weightNames
                if flatten && m.label == nil && !m.children.isEmpty { return inner }
                return inner.map { label.isEmpty ? $0 : "\(label).\($0)" }
            }
        }
        let flat = names(flatten: true)
        return Set(flat).count == flat.count ? flat : names(flatten: false)
    }

    /// The module tree with each node's mass and sensitivity.
    ///
    /// Masses inside a ``Tared`` subtree are shown as tared (scaled so that they add up to the tared
    /// mass), which is what the parent's rules see.
    public var description: String {
        var lines: [String] = []
        func walk(_ m: any Module, _ label: String?, _ indent: String, _ scale: Double) {
            let head = label.map { $0.isEmpty ? "" : "\($0): " } ?? ""
            lines.append("\(indent)\(head)\(m.name)  mass=\(formatNumber(m.mass * scale)) sensitivity=\(formatNumber(m.sensitivity))")
            var inner = scale
            if let r = (m as? any ForwardingModule)?.rescaledMass { inner = scale * r.outer / r.inner }
            for c in m.children { walk(c.module, c.label, indent + "  ", inner) }
        }
        walk(self, nil, "", 1)
        return lines.joined(separator: "\n")
    }

    // MARK: Conveniences over whole weight lists

    /// Runs the module on one input tensor and returns its one output tensor.
    public func callAsFunction<S: TensorScalar>(_ input: Tensor<S>, _ weights: [Tensor<S>]) throws -> Tensor<S> {
        try checkWeights(weights)
        let out = try forward([input], weights: weights[...])
        guard out.count == 1 else {
            throw ModuleError(path: [], module: name, problem: "produces \(out.count) outputs; call forward(_:weights:) to receive them all")
        }
        return out[0]
    }

    /// Runs the module on a list of inputs.
    public func callAsFunction<S: TensorScalar>(_ inputs: [Tensor<S>], _ weights: [Tensor<S>]) throws -> [Tensor<S>] {
        try checkWeights(weights)
        return try forward(inputs, weights: weights[...])
    }

    /// Fresh weights of the given scalar type.
    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator, as: S.Type) -> [Tensor<S>] {
        initialize(using: &rng)
    }
    /// Weights projected onto the initialization's constraint set.
    ///
    /// Stops with a message unless `weights` has one tensor of each weight's shape.
    public func project<S: TensorScalar>(_ weights: [Tensor<S>]) -> [Tensor<S>] {
        requireFits(weights, "project", "weight")
        return project(weights[...])
    }
    /// The modular norm of a weight list.
    ///
    /// Stops with a message unless `weights` has one tensor of each weight's shape.
    public func norm<S: TensorScalar>(_ weights: [Tensor<S>]) -> S {
        requireFits(weights, "norm", "weight")
        return norm(weights[...])
    }
    /// The dual modular norm of a gradient list.
    ///
    /// Stops with a message unless `gradient` has one tensor of each weight's shape.
    public func dualNorm<S: TensorScalar>(_ gradient: [Tensor<S>]) -> S {
        requireFits(gradient, "dualNorm", "gradient")
        return dualNorm(gradient[...])
    }
    /// The unit-modular-norm steepest-ascent direction for `gradient` (scaled to `targetNorm`).
    ///
    /// - Throws: ``ModuleError`` naming the module and the weights unless `gradient` has one tensor of
    ///   each weight's shape, in the order of ``weightNames``. (The requirement on an `ArraySlice`,
    ///   which the combinators call, stops with a message instead.)
    public func dualize<S: TensorScalar>(_ gradient: [Tensor<S>], targetNorm: S = 1) throws -> [Tensor<S>] {
        try checkGradientsForDualize(gradient)
        return dualize(gradient[...], targetNorm: targetNorm)
    }

    public func dualizeInPlace<S: TensorScalar>(_ gradient: inout [Tensor<S>], _ range: Range<Int>, targetNorm: S) {
        let d = dualize(gradient[range], targetNorm: targetNorm)
        require(d.count == range.count, "\(name).dualize: returned \(d.count) tensors for \(range.count) gradients")
        gradient.replaceSubrange(range, with: d)
    }

    /// Replaces `gradient` with its unit-modular-norm steepest-ascent direction (scaled to `targetNorm`), as
    /// ``Module/dualize(_:targetNorm:)`` returns it, computing each duality map in its gradient's memory
    /// where no other tensor shares that memory.
    ///
    /// ```swift
    /// var (_, g) = try valueWithGradient(at: w) { w in meanSquaredError(try mlp.forward([x], weights: w[...])[0], y) }
    /// try mlp.dualizeInPlace(&g)   // nothing else holds g's tensors: no second list of the weights' size
    /// ```
    ///
    /// - Throws: ``ModuleError`` naming the module and the weights unless `gradient` has one tensor of each weight's
    ///   shape, in the order of ``weightNames``; `gradient` is then left as it was.
    public func dualizeInPlace<S: TensorScalar>(_ gradient: inout [Tensor<S>], targetNorm: S = 1) throws {
        try checkGradientsForDualize(gradient)
        dualizeInPlace(&gradient, gradient.indices, targetNorm: targetNorm)
    }

    /// Throws unless `gradient` has one tensor of each weight's shape (the check of both `dualize` entry points).
    func checkGradientsForDualize<S: TensorScalar>(_ gradient: [Tensor<S>]) throws {
        let shapes = weightShapes
        guard gradient.count == shapes.count else {
            throw ModuleError(module: name, problem: "dualize: expected \(shapes.count) gradient tensors (\(weightNames.joined(separator: ", "))), got \(gradient.count)")
        }
        if let i = shapes.indices.first(where: { gradient[$0].shape != shapes[$0] }) {
            throw ModuleError(module: name, problem: "dualize: the gradient of \(weightNames[i]) has shape \(gradient[i].shape), expected \(shapes[i])")
        }
    }

    /// Stops with a message naming the module, the call and the first misfit unless `list` has one
    /// tensor of each weight's shape.
    func requireFits<S: TensorScalar>(_ list: [Tensor<S>], _ call: String, _ what: String) {
        let shapes = weightShapes
        require(list.count == shapes.count,
                "\(name).\(call): expected \(shapes.count) \(what) tensors (\(weightNames.joined(separator: ", "))), got \(list.count)")
        if let i = shapes.indices.first(where: { list[$0].shape != shapes[$0] }) {
            requirementFailure("\(name).\(call): the \(what) of \(weightNames[i]) has shape \(list[i].shape), expected \(shapes[i])")
        }
    }

    /// Throws unless `weights` has this module's length and shapes.
    public func checkWeights<S: TensorScalar>(_ weights: [Tensor<S>]) throws {
        let shapes = weightShapes, names = weightNames
        guard weights.count == shapes.count else {
            throw ModuleError(path: [], module: name, problem: "expected \(shapes.count) weight tensors, got \(weights.count)")
        }
        for (i, (w, s)) in zip(weights, shapes).enumerated() where w.shape != s {
            throw ModuleError(path: [], module: name, problem: "weight \(names[i]) has shape \(w.shape), expected \(s)")
        }
    }

    /// Output shapes for the given input shapes, found by running the module on zeros; throws a
    /// ``ModuleError`` naming the first module whose input does not fit.
    public func outputShapes(forInputShapes shapes: [[Int]]) throws -> [[Int]] {
        let w = weightShapes.map { Tensor<Float>.zeros($0) }
        return try forward(shapes.map { Tensor<Float>.zeros($0) }, weights: w[...]).map(\.shape)
    }
}

func formatNumber(_ x: Double) -> String {
    if x == x.rounded() && Swift.abs(x) < 1e6 { return String(Int(x)) }
    var s = String(format4: x)
    while s.contains(".") && (s.hasSuffix("0")) { s.removeLast() }
    return s
}

extension String {
    init(format4 x: Double) {
        let scaled = (x * 10000).rounded() / 10000
        self = "\(scaled)"
    }
}
