/// A module whose whole subtree has its masses rescaled to total `mass`.
///
/// All the propagation rules inside a subtree depend only on ratios of masses, so taring changes
/// nothing but the mass the parent sees (Modula's `tare`).
public struct Tared: ForwardingModule {
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
    public var rescaledMass: (outer: Double, inner: Double)? { module.mass > 0 ? (mass, module.mass) : nil }

    public func norm<S: TensorScalar>(_ w: ArraySlice<Tensor<S>>) -> S { mass == 0 ? 0 : module.norm(w) }
    public func dualNorm<S: TensorScalar>(_ g: ArraySlice<Tensor<S>>) -> S { mass == 0 ? 0 : module.dualNorm(g) }
    public func dualize<S: TensorScalar>(_ g: ArraySlice<Tensor<S>>, targetNorm: S) -> [Tensor<S>] {
        mass == 0 ? g.map { Tensor.zeros($0.shape) } : module.dualize(g, targetNorm: targetNorm)
    }
    public func dualizeInPlace<S: TensorScalar>(_ g: inout [Tensor<S>], _ range: Range<Int>, targetNorm: S) {
        if mass == 0 {
            for k in range { g[k] = .zeros(g[k].shape) }
        } else {
            module.dualizeInPlace(&g, range, targetNorm: targetNorm)
        }
    }
}
