// The combinators. Each one states the propagation rules of DESIGN §2 [Large et al. 2024, §3]
// once; everything else in the library (scalar multiples, sums, repetition, compounds) is built
// from them.

/// Labels for children: a child's own label when it has one, otherwise its position.
func labelled(_ modules: [any Module]) -> [(label: String, module: any Module)] {
    modules.enumerated().map { ($0.element.label ?? "\($0.offset)", $0.element) }
}

/// Splits a flat weight list into consecutive pieces of the given lengths.
@inlinable
func split<T>(_ list: ArraySlice<T>, _ counts: [Int], _ owner: @autoclosure () -> String) -> [ArraySlice<T>] {
    require(list.count == counts.reduce(0, +),
            "\(owner()): expected \(counts.reduce(0, +)) weight or gradient tensors, got \(list.count)")
    var start = list.startIndex
    return counts.map { n in
        defer { start += n }
        return list[start..<(start + n)]
    }
}

/// Composition: the modules run one after another, the first one first.
///
/// For modules M₁ … Mₙ (M₁ first) with masses μᵢ, sensitivities νᵢ and total mass μ, and Dᵢ the product of
/// the sensitivities of the modules after Mᵢ:
/// - mass μ = Σ μᵢ and sensitivity Π νᵢ;
/// - norm ‖w‖ = maxᵢ (μ/μᵢ)·Dᵢ·‖wᵢ‖ over modules with μᵢ > 0;
/// - dualize gives Mᵢ the target t·(μᵢ/μ)/Dᵢ.
/// This is the binary rule of [Large et al. 2024, Def. 3] folded over the chain.
public struct Sequential: Module {
    /// The modules in execution order.
    public let modules: [any Module]
    private let counts: [Int]

    /// A chain of modules in execution order (first listed runs first).
    public init(_ modules: [any Module]) {
        self.modules = modules
        counts = modules.map(\.weightCount)
    }

    /// A chain written as a list, first module first.
    ///
    /// ```swift
    /// let mlp = Sequential {
    ///     Linear(in: 784, out: 256); ReLU()
    ///     Linear(in: 256, out: 10)
    /// }
    /// ```
    public init(@ModuleBuilder _ content: () -> [any Module]) { self.init(content()) }

    public var name: String { "Sequential" }
    public var mass: Double { modules.reduce(0) { $0 + $1.mass } }
    public var sensitivity: Double { modules.reduce(1) { $0 * $1.sensitivity } }
    public var children: [(label: String, module: any Module)] { labelled(modules) }

    /// (μ/μᵢ)·Dᵢ for each module: the factor on its norm in the composite norm.
    private var scales: [Double] {
        let mu = mass
        var downstream = 1.0
        var out = [Double](repeating: 0, count: modules.count)
        for i in stride(from: modules.count - 1, through: 0, by: -1) {
            let mi = modules[i].mass
            out[i] = mi > 0 ? (mu / mi) * downstream : 0
            downstream *= modules[i].sensitivity
        }
        return out
    }

    public func forward<S: TensorScalar>(_ inputs: [Tensor<S>], weights: ArraySlice<Tensor<S>>) throws -> [Tensor<S>] {
        var x = inputs
        for ((label, m), w) in zip(children, split(weights, counts, name)) {
            x = try within(label) { try m.forward(x, weights: w) }
        }
        return x
    }
    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> [Tensor<S>] {
        var out: [Tensor<S>] = []
        for m in modules { out += m.initialize(using: &rng) as [Tensor<S>] }
        return out
    }
    public func project<S: TensorScalar>(_ weights: ArraySlice<Tensor<S>>) -> [Tensor<S>] {
        zip(modules, split(weights, counts, name)).flatMap { $0.project($1) }
    }
    public func norm<S: TensorScalar>(_ weights: ArraySlice<Tensor<S>>) -> S {
        combinedNorm(modules, split(weights, counts, name), scales)
    }
    public func dualNorm<S: TensorScalar>(_ gradient: ArraySlice<Tensor<S>>) -> S {
        combinedDualNorm(modules, split(gradient, counts, name), scales)
    }
    public func dualize<S: TensorScalar>(_ gradient: ArraySlice<Tensor<S>>, targetNorm: S) -> [Tensor<S>] {
        combinedDualize(modules, split(gradient, counts, name), scales, targetNorm)
    }
}

/// A tuple (fan-out): every module receives the same inputs; the outputs are concatenated.
///
/// Mass Σ μᵢ, sensitivity Σ νᵢ, norm maxᵢ (μ/μᵢ)·‖wᵢ‖, and Mᵢ's dualize target t·μᵢ/μ.
public struct Parallel: Module {
    /// The branches.
    public let modules: [any Module]
    let counts: [Int]

    /// Branches that all receive the same inputs.
    public init(_ modules: [any Module]) {
        self.modules = modules
        counts = modules.map(\.weightCount)
    }
    /// Branches written as a list.
    public init(@ModuleBuilder _ content: () -> [any Module]) { self.init(content()) }

    public var name: String { "Parallel" }
    public var mass: Double { modules.reduce(0) { $0 + $1.mass } }
    public var sensitivity: Double { modules.reduce(0) { $0 + $1.sensitivity } }
    public var children: [(label: String, module: any Module)] { labelled(modules) }

    var scales: [Double] {
        let mu = mass
        return modules.map { $0.mass > 0 ? mu / $0.mass : 0 }
    }

    public func forward<S: TensorScalar>(_ inputs: [Tensor<S>], weights: ArraySlice<Tensor<S>>) throws -> [Tensor<S>] {
        var out: [Tensor<S>] = []
        for ((label, m), w) in zip(children, split(weights, counts, name)) {
            out += try within(label) { try m.forward(inputs, weights: w) }
        }
        return out
    }
    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> [Tensor<S>] {
        var out: [Tensor<S>] = []
        for m in modules { out += m.initialize(using: &rng) as [Tensor<S>] }
        return out
    }
    public func project<S: TensorScalar>(_ weights: ArraySlice<Tensor<S>>) -> [Tensor<S>] {
        zip(modules, split(weights, counts, name)).flatMap { $0.project($1) }
    }
    public func norm<S: TensorScalar>(_ weights: ArraySlice<Tensor<S>>) -> S {
        combinedNorm(modules, split(weights, counts, name), scales)
    }
    public func dualNorm<S: TensorScalar>(_ gradient: ArraySlice<Tensor<S>>) -> S {
        combinedDualNorm(modules, split(gradient, counts, name), scales)
    }
    public func dualize<S: TensorScalar>(_ gradient: ArraySlice<Tensor<S>>, targetNorm: S) -> [Tensor<S>] {
        combinedDualize(modules, split(gradient, counts, name), scales, targetNorm)
    }
}

// The three rules shared by composition and tuples: a max-combination of scaled child norms,
// its dual (the sum of inversely scaled dual norms), and the matching split of the target.

func combinedNorm<S: TensorScalar>(_ modules: [any Module], _ w: [ArraySlice<Tensor<S>>], _ scales: [Double]) -> S {
    var best = S(0)
    for i in modules.indices where scales[i] > 0 {
        let v = S(scales[i]) * modules[i].norm(w[i])
        best = v > best || v.isNaN ? v : best  // Swift.max would drop a NaN norm
    }
    return best
}

func combinedDualNorm<S: TensorScalar>(_ modules: [any Module], _ g: [ArraySlice<Tensor<S>>], _ scales: [Double]) -> S {
    var total = S(0)
    for i in modules.indices where scales[i] > 0 { total += modules[i].dualNorm(g[i]) / S(scales[i]) }
    return total
}

func combinedDualize<S: TensorScalar>(
    _ modules: [any Module], _ g: [ArraySlice<Tensor<S>>], _ scales: [Double], _ t: S
) -> [Tensor<S>] {
    func child(_ i: Int) -> [Tensor<S>] {
        if scales[i] > 0 && scales[i].isFinite && t != 0 {
            return modules[i].dualize(g[i], targetNorm: t / S(scales[i]))
        } else {
            return g[i].map { Tensor.zeros($0.shape) }
        }
    }
    // The children's duality maps are independent. With several threads configured, small ones run
    // in parallel (nested combinators share the threads), which pays far better than threading each
    // small orthogonalization inside BLAS. Large ones run one after another: each splits its own
    // products between the threads, and the work buffers of two large matrices are not held at once.
    let largest = g.map { $0.reduce(0) { $0 + $1.count } }.max() ?? 0
    if largest > parallelDualizeLimit { return modules.indices.flatMap(child) }
    return parallelMap(modules.count, child).flatMap { $0 }
}

/// Children with at most this many weights (in all) are dualized in parallel.
let parallelDualizeLimit = 1 << 19

/// The sum of several modules' outputs: `Add` after a ``Parallel``, with the tuple's rules.
public struct Sum: Module {
    /// The summands.
    public let branches: Parallel
    /// The sum of `modules`' outputs (each must produce one tensor of the same shape).
    public init(_ modules: [any Module]) { branches = Parallel(modules) }

    public var name: String { "Sum" }
    public var mass: Double { branches.mass }
    public var sensitivity: Double { branches.sensitivity * Add().sensitivity }
    public var children: [(label: String, module: any Module)] { branches.children }

    public func forward<S: TensorScalar>(_ inputs: [Tensor<S>], weights: ArraySlice<Tensor<S>>) throws -> [Tensor<S>] {
        // Add after the tuple, with the constant of each `Scaled` branch (a residual's 1 − α and α)
        // folded into one weighted sum: one pass instead of a scaling pass per branch and the sum.
        var terms: [Tensor<S>] = [], factors: [S] = []
        for ((label, m), w) in zip(branches.children, split(weights, branches.counts, name)) {
            if let scaled = m as? Scaled {
                let out = try within(label) { try scaled.module.forward(inputs, weights: w) }
                guard out.count == 1 else { return try within(label) { try Mul(scaled.factor).apply(out) } }  // its error
                terms.append(out[0]); factors.append(S(scaled.factor))
            } else {
                let out = try within(label) { try m.forward(inputs, weights: w) }
                terms += out; factors += Array(repeating: 1, count: out.count)
            }
        }
        guard let first = terms.first, terms.allSatisfy({ $0.shape == first.shape }) else {
            return try Add().apply(terms)  // its error
        }
        return [Tensor.linearCombination(terms, coefficients: factors)]
    }
    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> [Tensor<S>] { branches.initialize(using: &rng) }
    public func project<S: TensorScalar>(_ w: ArraySlice<Tensor<S>>) -> [Tensor<S>] { branches.project(w) }
    public func norm<S: TensorScalar>(_ w: ArraySlice<Tensor<S>>) -> S { branches.norm(w) }
    public func dualNorm<S: TensorScalar>(_ g: ArraySlice<Tensor<S>>) -> S { branches.dualNorm(g) }
    public func dualize<S: TensorScalar>(_ g: ArraySlice<Tensor<S>>, targetNorm: S) -> [Tensor<S>] {
        branches.dualize(g, targetNorm: targetNorm)
    }
}

/// A module followed by multiplication with a constant: `Mul(a)` composed after it, so that the
/// sensitivity becomes |a|·ν, the norm |a|·‖w‖ and the module's dualize target t/|a| (as in Modula).
public struct Scaled: Module {
    /// The constant.
    public let factor: Double
    /// The module whose output is scaled.
    public let module: any Module
    private let chain: Sequential

    /// `module`'s output times `factor` (finite and nonzero).
    ///
    /// - Precondition: `factor` is finite and nonzero. Stops with a message otherwise.
    public init(_ factor: Double, _ module: any Module) {
        require(factor != 0 && factor.isFinite, "Scaled: the factor must be finite and nonzero, got \(factor)")
        self.factor = factor
        self.module = module
        chain = Sequential([module, Mul(factor)])
    }

    public var name: String { "\(formatNumber(factor)) ×" }
    public var label: String? { module.label }
    public var mass: Double { chain.mass }
    public var sensitivity: Double { chain.sensitivity }
    public var atomCount: Int { module.atomCount }
    public var bondCount: Int { module.bondCount + 1 }
    public var children: [(label: String, module: any Module)] { [("", module)] }
    public var weightNames: [String] { module.weightNames }

    public func forward<S: TensorScalar>(_ inputs: [Tensor<S>], weights: ArraySlice<Tensor<S>>) throws -> [Tensor<S>] {
        try Mul(factor).apply(try module.forward(inputs, weights: weights))
    }
    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> [Tensor<S>] { module.initialize(using: &rng) }
    public func project<S: TensorScalar>(_ w: ArraySlice<Tensor<S>>) -> [Tensor<S>] { module.project(w) }
    public func norm<S: TensorScalar>(_ w: ArraySlice<Tensor<S>>) -> S { chain.norm(w) }
    public func dualNorm<S: TensorScalar>(_ g: ArraySlice<Tensor<S>>) -> S { chain.dualNorm(g) }
    public func dualize<S: TensorScalar>(_ g: ArraySlice<Tensor<S>>, targetNorm: S) -> [Tensor<S>] {
        chain.dualize(g, targetNorm: targetNorm)
    }
}

/// A module whose whole subtree has its masses rescaled to total `mass`.
///
/// All the propagation rules inside a subtree depend only on ratios of masses, so taring changes
/// nothing but the mass the parent sees (Modula's `tare`).
public struct Tared: Module {
    /// The module whose masses are rescaled.
    public let module: any Module
    /// The total mass the parent sees.
    public let mass: Double

    /// `module` with its subtree's masses rescaled to total `mass`.
    ///
    /// - Precondition: `mass` is finite and ≥ 0, and 0 when the module's own mass is 0. Stops with a message otherwise.
    public init(_ module: any Module, mass: Double) {
        require(mass >= 0 && mass.isFinite, "tared: mass must be finite and ≥ 0, got \(mass)")
        require(module.mass > 0 || mass == 0, "tared: cannot give mass \(mass) to \(module.name), whose mass is 0")
        self.module = module
        self.mass = mass
    }

    public var name: String { "Tared" }
    public var label: String? { module.label }
    public var sensitivity: Double { module.sensitivity }
    public var atomCount: Int { module.atomCount }
    public var bondCount: Int { module.bondCount }
    public var children: [(label: String, module: any Module)] { [("", module)] }
    public var weightNames: [String] { module.weightNames }

    public func forward<S: TensorScalar>(_ inputs: [Tensor<S>], weights: ArraySlice<Tensor<S>>) throws -> [Tensor<S>] {
        try module.forward(inputs, weights: weights)
    }
    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> [Tensor<S>] { module.initialize(using: &rng) }
    public func project<S: TensorScalar>(_ w: ArraySlice<Tensor<S>>) -> [Tensor<S>] { module.project(w) }
    public func norm<S: TensorScalar>(_ w: ArraySlice<Tensor<S>>) -> S { mass == 0 ? 0 : module.norm(w) }
    public func dualNorm<S: TensorScalar>(_ g: ArraySlice<Tensor<S>>) -> S { mass == 0 ? 0 : module.dualNorm(g) }
    public func dualize<S: TensorScalar>(_ g: ArraySlice<Tensor<S>>, targetNorm: S) -> [Tensor<S>] {
        mass == 0 ? g.map { Tensor.zeros($0.shape) } : module.dualize(g, targetNorm: targetNorm)
    }
}

/// A module with a label that prefixes its weight names (`attention.query.weight`).
public struct Named: Module {
    /// The labelled module.
    public let module: any Module
    /// The label that prefixes its weight names.
    public let label: String?

    /// `module` labelled `label` (nonempty, without dots).
    ///
    /// - Precondition: `label` is nonempty and contains no `.`. Stops with a message otherwise.
    public init(_ label: String, _ module: any Module) {
        require(!label.isEmpty && !label.contains("."), "named: label '\(label)' must be nonempty and contain no '.'")
        self.label = label
        self.module = module
    }

    public var name: String { module.name }
    public var mass: Double { module.mass }
    public var sensitivity: Double { module.sensitivity }
    public var atomCount: Int { module.atomCount }
    public var bondCount: Int { module.bondCount }
    public var children: [(label: String, module: any Module)] { module.children }
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

// MARK: - The DSL

/// Builds lists of modules for ``Sequential`` and ``Parallel``.
@resultBuilder
public enum ModuleBuilder {
    public static func buildExpression(_ m: any Module) -> [any Module] { [m] }
    public static func buildExpression(_ ms: [any Module]) -> [any Module] { ms }
    public static func buildBlock(_ parts: [any Module]...) -> [any Module] { parts.flatMap { $0 } }
    public static func buildOptional(_ m: [any Module]?) -> [any Module] { m ?? [] }
    public static func buildEither(first m: [any Module]) -> [any Module] { m }
    public static func buildEither(second m: [any Module]) -> [any Module] { m }
    public static func buildArray(_ ms: [[any Module]]) -> [any Module] { ms.flatMap { $0 } }
}

extension Module {
    /// This module followed by `next` (composition `next ∘ self`).
    public func then(_ next: any Module) -> Sequential {
        let head: [any Module] = (self as? Sequential).map(\.modules) ?? [self]
        return Sequential(head + [next])
    }
    /// The module with its subtree's masses rescaled to total `mass`.
    public func tared(_ mass: Double = 1) -> Tared { Tared(self, mass: mass) }
    /// The module with a label for its weight names.
    public func named(_ label: String) -> Named { Named(label, self) }
    /// `count` copies composed one after another, each with its own weights.
    ///
    /// - Precondition: `count ≥ 1`. Stops with a message otherwise.
    public func repeated(_ count: Int) -> Sequential {
        require(count >= 1, "repeated: count must be ≥ 1, got \(count)")
        return Sequential(Array(repeating: self as any Module, count: count))
    }
}

/// The sum of two modules' outputs (``Sum``).
public func + (a: any Module, b: any Module) -> Sum {
    let left: [any Module] = (a as? Sum)?.branches.modules ?? [a]
    return Sum(left + [b])
}
/// A module's output times a constant (``Scaled``).
public func * (a: Double, m: any Module) -> Scaled { Scaled(a, m) }
/// A module's output times a constant (``Scaled``).
public func * (m: any Module, a: Double) -> Scaled { Scaled(a, m) }
