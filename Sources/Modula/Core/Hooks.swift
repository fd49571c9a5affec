#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// What a forward hook sees: one atom's or bond's inputs and outputs.
public struct ForwardEvent<Scalar: TensorScalar> {
    /// The module's path: the labels from the root down, as `print(module)` shows the tree, joined by dots
    /// (`"blocks.0.attention.1.0.1.0.0.query"`; ``Module/atomPaths`` lists the atoms' paths in weight order).
    public let path: String
    public let module: any Module
    public let inputs: [Tensor<Scalar>]
    public let outputs: [Tensor<Scalar>]
}

/// What a gradient hook sees: the gradient arriving at one output of an atom or bond during the backward pass.
public struct GradientEvent<Scalar: TensorScalar> {
    public let path: String
    public let module: any Module
    /// Which output (0 for modules with one).
    public let output: Int
    public let gradient: Tensor<Scalar>
}

/// A function run at a module's forward pass (or at the gradient of its output), for the atoms and bonds it selects.
///
/// Hooks look inside a network without changing it: activation sizes per layer (a coordinate check), inputs and
/// output gradients for K-FAC's statistics, or, for research, replaced outputs and gradients. They are active only
/// inside ``withHooks(_:_:)``; with none active, a forward pass costs what it costs without hooks (one thread-local
/// read per module).
///
/// ```swift
/// var sizes: [String: Float] = [:]
/// let record = Hook.forward(Float.self, where: { _, m in m is any MultiWeightAtom }) { e in   // every atom
///     sizes[e.path] = (e.outputs[0].squaredNormValue / Float(e.outputs[0].count)).squareRoot()
///     return nil                                  // keep the outputs
/// }
/// _ = try withHooks([record]) { try mlp(x, weights) }
/// ```
///
/// Atoms and bonds are hooked through their protocols' `forward`; a ``Sum`` folds its ``Scaled`` branches and the
/// final ``Add`` into one weighted sum, so those two bonds are not seen separately.
public struct Hook {
    let selects: (String, any Module) -> Bool
    let forward: ((Any) -> Any?)?
    let gradient: ((Any) -> Any?)?

    /// A forward hook: `body` sees each selected module's inputs and outputs and may return replacement outputs.
    public static func forward<S: TensorScalar>(
        _: S.Type = S.self, where selects: @escaping (_ path: String, _ module: any Module) -> Bool = { _, _ in true },
        _ body: @escaping (ForwardEvent<S>) -> [Tensor<S>]?
    ) -> Hook {
        Hook(selects: selects, forward: { e in (e as? ForwardEvent<S>).flatMap(body) }, gradient: nil)
    }

    /// A gradient hook: `body` sees the gradient arriving at each output of each selected module and may return a
    /// replacement (of the same shape).
    public static func gradient<S: TensorScalar>(
        _: S.Type = S.self, where selects: @escaping (_ path: String, _ module: any Module) -> Bool = { _, _ in true },
        _ body: @escaping (GradientEvent<S>) -> Tensor<S>?
    ) -> Hook {
        Hook(selects: selects, forward: nil, gradient: { e in (e as? GradientEvent<S>).flatMap(body) })
    }

    /// Selects the module at exactly `path`.
    public static func at(_ path: String) -> (String, any Module) -> Bool { { p, _ in p == path } }
}

/// Runs `body` with `hooks` active on this thread (nested calls add to the outer ones).
public func withHooks<R>(_ hooks: [Hook], _ body: () throws -> R) rethrows -> R {
    let outer = HookState.current
    let state = HookState(hooks: (outer?.hooks ?? []) + hooks, path: outer?.path ?? [])
    HookState.current = state
    defer { HookState.current = outer }
    return try body()
}

/// The hooks and the module path of the forward pass running on this thread.
final class HookState {
    var hooks: [Hook]
    var path: [String]
    init(hooks: [Hook], path: [String]) { (self.hooks, self.path) = (hooks, path) }

    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    /// Retained by `withHooks` for as long as it is current, so an unretained pointer is enough here.
    static var current: HookState? {
        get { pthread_getspecific(key).map { Unmanaged<HookState>.fromOpaque($0).takeUnretainedValue() } }
        set { pthread_setspecific(key, newValue.map { Unmanaged.passUnretained($0).toOpaque() }) }
    }
}

/// Runs a child's forward pass under `label`, extending the hook path when hooks are active.
@inline(__always)
func hookPath<R>(_ label: String, _ body: () throws -> R) rethrows -> R {
    guard let state = HookState.current, !label.isEmpty else { return try body() }
    state.path.append(label)
    defer { state.path.removeLast() }
    return try body()
}

/// An atom's or bond's forward pass, with the active hooks run around it.
@inline(__always)
func hooked<S: TensorScalar>(
    _ module: any Module, _ inputs: [Tensor<S>], _ compute: () throws -> [Tensor<S>]
) rethrows -> [Tensor<S>] {
    guard let state = HookState.current else { return try compute() }
    let path = state.path.joined(separator: ".")
    var outputs = try compute()
    for hook in state.hooks where hook.selects(path, module) {
        if let forward = hook.forward,
           let replaced = forward(ForwardEvent(path: path, module: module, inputs: inputs, outputs: outputs)) as? [Tensor<S>] {
            outputs = replaced
        }
        if let gradient = hook.gradient {
            outputs = outputs.enumerated().map { i, y in
                guard y.isRecorded else { return y }
                return y.withPullback(inputs: [y]) { g in
                    [(gradient(GradientEvent(path: path, module: module, output: i, gradient: g)) as? Tensor<S>) ?? g]
                }
            }
        }
    }
    return outputs
}
