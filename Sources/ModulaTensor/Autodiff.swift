/// One recorded operation: links to the nodes of its inputs and the vector-Jacobian product that
/// maps the cotangent of its output to cotangents of those inputs.
///
/// Nodes are owned by the tensors that refer to them, so a graph lives exactly as long as the
/// tensors of one gradient computation: nothing leaks from one computation into the next.
@usableFromInline
final class TapeNode<Scalar: TensorScalar> {
    // `var` only so that `deinit` can take them apart iteratively.
    @usableFromInline var parents: [TapeNode?]
    /// `nil` for a leaf (an input of ``valueWithGradient(at:of:)``).
    @usableFromInline var pullback: ((Tensor<Scalar>) -> [Tensor<Scalar>?])?
    @usableFromInline var gradient: Tensor<Scalar>?
    @usableFromInline let shape: [Int]

    @usableFromInline
    init(parents: [TapeNode?], shape: [Int], pullback: ((Tensor<Scalar>) -> [Tensor<Scalar>?])?) {
        self.parents = parents
        self.shape = shape
        self.pullback = pullback
    }

    // Releasing the last tensor of a long chain would otherwise free the nodes recursively, one stack
    // frame per node, and overflow the stack after some ten thousand operations. Instead, nodes that
    // only this walk still references are emptied one at a time.
    deinit {
        pullback = nil  // the closure may hold the parents too
        var pending = parents.compactMap { $0 }
        parents = []
        while var n = pending.popLast() {
            guard isKnownUniquelyReferenced(&n) else { continue }
            n.pullback = nil
            pending.append(contentsOf: n.parents.compactMap { $0 })
            n.parents = []
        }
    }

    @usableFromInline
    func accumulate(_ g: Tensor<Scalar>) {
        require(g.shape == shape, "autodiff: cotangent of shape \(g.shape) for a value of shape \(shape)")
        guard var existing = gradient else { gradient = g.detached; return }
        gradient = nil
        // A second contribution is added in place when no other tensor shares the first one's memory
        // (a pullback may hand the same cotangent to several inputs); otherwise into fresh memory.
        if isKnownUniquelyReferenced(&existing.storage) {
            withExtendedLifetime(g) { Scalar.axpy(existing.count, 1, g.storage.pointer, existing.storage.pointer) }
        } else {
            existing = existing.adding(g)
        }
        gradient = existing
    }
}

extension Tensor {
    /// Attaches a tape node to `self` when any of `inputs` is recorded.
    ///
    /// `pullback` receives the output cotangent and returns one cotangent per input (`nil` where the
    /// input gets none). It must compute on detached tensors so that backward records nothing.
    @inlinable
    func recorded(_ inputs: [Tensor], _ pullback: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        var anyRecorded = false
        for x in inputs where x.node != nil { anyRecorded = true; break }
        guard anyRecorded else { return self }
        var out = self
        out.node = TapeNode(parents: inputs.map { $0.node }, shape: shape, pullback: pullback)
        return out
    }

    /// Runs reverse-mode accumulation from this scalar output.
    @usableFromInline
    func backpropagate() {
        guard let root = node else { return }
        require(count == 1, "gradient: the function must return a tensor with one element, got shape \(shape)")
        // Post-order depth-first walk gives a topological order; reversed, every node runs after all its consumers.
        var order: [TapeNode<Scalar>] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(TapeNode<Scalar>, Int)] = [(root, 0)]
        visited.insert(ObjectIdentifier(root))
        while let (n, i) = stack.popLast() {
            if i < n.parents.count {
                stack.append((n, i + 1))
                if let p = n.parents[i], visited.insert(ObjectIdentifier(p)).inserted { stack.append((p, 0)) }
            } else {
                order.append(n)
            }
        }
        root.gradient = Tensor.ones(shape)
        for n in order.reversed() {
            guard let pb = n.pullback, let g = n.gradient else { continue }
            let grads = pb(g)
            require(grads.count == n.parents.count, "autodiff: pullback returned \(grads.count) cotangents for \(n.parents.count) inputs")
            for (p, gp) in zip(n.parents, grads) {
                if let p, let gp { p.accumulate(gp) }
            }
            n.gradient = nil  // free intermediate cotangents as soon as they are used
        }
    }
}

/// Evaluates `f` at `inputs` and returns its value with the gradient of that value with respect to each input.
///
/// `f` must return a tensor with one element (a loss). Inputs that `f` does not use receive zero
/// gradients; an input used several times receives the sum of its contributions. Tensors that `f`
/// captures from outside, rather than receiving as inputs, are constants.
///
/// ```swift
/// let (loss, grads) = valueWithGradient(at: [w1, w2]) { w in
///     meanSquaredError(x.matmul(w[0], transposeB: true).relu().matmul(w[1], transposeB: true), y)
/// }
/// ```
public func valueWithGradient<Scalar: TensorScalar>(
    at inputs: [Tensor<Scalar>], of f: ([Tensor<Scalar>]) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, gradients: [Tensor<Scalar>]) {
    let leaves = inputs.map { x -> Tensor<Scalar> in
        var t = x.detached
        t.node = TapeNode(parents: [], shape: x.shape, pullback: nil)
        return t
    }
    let y = try f(leaves)
    y.backpropagate()
    let grads = leaves.map { $0.node!.gradient ?? Tensor.zeros($0.shape) }
    return (y.detached, grads)
}

/// Evaluates `f` at one input and returns its value with the gradient.
public func valueWithGradient<Scalar: TensorScalar>(
    at x: Tensor<Scalar>, of f: (Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, gradient: Tensor<Scalar>) {
    let (v, g) = try valueWithGradient(at: [x]) { try f($0[0]) }
    return (v, g[0])
}

/// Evaluates `f` at two inputs and returns its value with both gradients.
public func valueWithGradient<Scalar: TensorScalar>(
    at x: Tensor<Scalar>, _ y: Tensor<Scalar>, of f: (Tensor<Scalar>, Tensor<Scalar>) throws -> Tensor<Scalar>
) rethrows -> (value: Tensor<Scalar>, gradients: (Tensor<Scalar>, Tensor<Scalar>)) {
    let (v, g) = try valueWithGradient(at: [x, y]) { try f($0[0], $0[1]) }
    return (v, (g[0], g[1]))
}

/// The gradient of `f` at `inputs`.
public func gradient<Scalar: TensorScalar>(
    at inputs: [Tensor<Scalar>], of f: ([Tensor<Scalar>]) throws -> Tensor<Scalar>
) rethrows -> [Tensor<Scalar>] {
    try valueWithGradient(at: inputs, of: f).gradients
}
