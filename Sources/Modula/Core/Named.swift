/// A module with a label that prefixes its weight names (`attention.query.weight`).
///
/// Everything else is the module's own: a label is not a node of the tree, so `Named` shows the module's children.
public struct Named: ForwardingModule {
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

    public var children: [(label: String, module: any Module)] { module.children }
    public var rescaledMass: (outer: Double, inner: Double)? { (module as? any ForwardingModule)?.rescaledMass }
    public func dualizeInPlace<S: TensorScalar>(_ g: inout [Tensor<S>], _ range: Range<Int>, targetNorm: S) {
        module.dualizeInPlace(&g, range, targetNorm: targetNorm)
    }
}
