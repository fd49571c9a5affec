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
