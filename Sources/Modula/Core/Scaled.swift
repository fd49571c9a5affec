/// A module followed by multiplication with a constant: `Mul(a)` composed after it, so that the
/// sensitivity becomes |a|·ν, the norm |a|·‖w‖ and the module's dualize target t/|a| (as in Modula).
public struct Scaled: ForwardingModule {
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
    public var outputFactor: Double { factor }
    public var mass: Double { chain.mass }
    public var sensitivity: Double { chain.sensitivity }
    public var bondCount: Int { module.bondCount + 1 }

    public func forward<S: TensorScalar>(_ inputs: [Tensor<S>], weights: ArraySlice<Tensor<S>>) throws -> [Tensor<S>] {
        try Mul(factor).apply(try module.forward(inputs, weights: weights))
    }
    public func norm<S: TensorScalar>(_ w: ArraySlice<Tensor<S>>) -> S { chain.norm(w) }
    public func dualNorm<S: TensorScalar>(_ g: ArraySlice<Tensor<S>>) -> S { chain.dualNorm(g) }
    public func dualize<S: TensorScalar>(_ g: ArraySlice<Tensor<S>>, targetNorm: S) -> [Tensor<S>] {
        chain.dualize(g, targetNorm: targetNorm)
    }
    public func dualizeInPlace<S: TensorScalar>(_ g: inout [Tensor<S>], _ range: Range<Int>, targetNorm: S) {
        chain.dualizeInPlace(&g, range, targetNorm: targetNorm)
    }
}
