/// A module applied to inputs that do not fit, or given weights of the wrong number or shape.
public struct ModuleError: Error, CustomStringConvertible, Equatable {
    /// Labels from the root of the network down to the module that failed.
    public var path: [String]
    /// The failing module's name.
    public var module: String
    /// What was expected and what was found.
    public var problem: String

    /// An error in `module` (at `path` from the root) with a description of `problem`.
    public init(path: [String] = [], module: String, problem: String) {
        self.path = path
        self.module = module
        self.problem = problem
    }

    public var description: String {
        let at = path.isEmpty ? "" : " at \(path.joined(separator: "."))"
        return "\(module)\(at): \(problem)"
    }
}

/// Runs `body` (a child's forward pass), prefixing the path of any ``ModuleError`` it throws with `label`, and
/// extending the path that active hooks see (``withHooks(_:_:)``).
func within<R>(_ label: String, _ body: () throws -> R) throws -> R {
    do { return try hookPath(label, body) } catch var e as ModuleError {
        e.path.insert(label, at: 0)
        throw e
    }
}
