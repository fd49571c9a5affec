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
