/// A tuple (fan-out): every module receives the same inputs; the outputs are concatenated.
///
/// Mass Σ μᵢ, sensitivity Σ νᵢ, norm maxᵢ (μ/μᵢ)·‖wᵢ‖, and Mᵢ's dualize target t·μᵢ/μ.
public struct Parallel: ListCombinator {
    /// The branches.
    public let modules: [any Module]
    /// The number of weight tensors of each module.
    public let weightCounts: [Int]

    /// Branches that all receive the same inputs.
    public init(_ modules: [any Module]) {
        self.modules = modules
        weightCounts = modules.map(\.weightCount)
    }

    public var name: String { "Parallel" }
    public var mass: Double { modules.reduce(0) { $0 + $1.mass } }
    public var sensitivity: Double { modules.reduce(0) { $0 + $1.sensitivity } }

    /// μ/μᵢ for each branch: the factor on its norm in the tuple's norm.
    public var scales: [Double] {
        let mu = mass
        return modules.map { $0.mass > 0 ? mu / $0.mass : 0 }
    }

    public func forward<S: TensorScalar>(_ inputs: [Tensor<S>], weights: ArraySlice<Tensor<S>>) throws -> [Tensor<S>] {
        var out: [Tensor<S>] = []
        for ((label, m), w) in zip(children, split(weights, weightCounts, name)) {
            out += try within(label) { try m.forward(inputs, weights: w) }
        }
        return out
    }

    public func dualizeInPlace<S: TensorScalar>(_ g: inout [Tensor<S>], _ range: Range<Int>, targetNorm: S) {
        combinedDualizeInPlace(modules, &g, range, weightCounts, scales, targetNorm, name)
    }
}
