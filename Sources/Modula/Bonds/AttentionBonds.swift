// The plumbing of attention [Large et al. 2024, §B]: heads, scores, the causal mask, softmax.

/// `[batch, tokens, heads·d] → [batch, heads, tokens, d]` (sensitivity 1).
public struct SplitIntoHeads: UnaryBond {
    /// The number of heads the last axis is split into.
    public let heads: Int
    /// A split into `heads` heads.
    ///
    /// Stops with a message unless `heads` is positive.
    public init(heads: Int) {
        require(heads > 0, "SplitIntoHeads: heads must be positive, got \(heads)")
        self.heads = heads
    }
    public var name: String { "SplitIntoHeads(\(heads))" }
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
        guard x.rank == 3, x.shape[2] % heads == 0 else {
            throw ModuleError(module: name, problem: "expected [batch, tokens, features] with features divisible by \(heads), got \(x.shape)")
        }
        let (b, t, d) = (x.shape[0], x.shape[1], x.shape[2])
        return x.reshaped([b, t, heads, d / heads]).permuted([0, 2, 1, 3])
    }
}

/// `[batch, heads, tokens, d] → [batch, tokens, heads·d]`, the inverse of ``SplitIntoHeads`` (sensitivity 1).
public struct MergeHeads: UnaryBond {
    /// The bond (it has no parameters).
    public init() {}
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
        guard x.rank == 4 else { throw ModuleError(module: name, problem: "expected [batch, heads, tokens, d], got \(x.shape)") }
        let (b, h, t, d) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        return x.permuted([0, 2, 1, 3]).reshaped([b, t, h * d])
    }
}

/// Attention scores q·kᵀ/d from `[q, k]`, each `[batch, heads, tokens, d]` (sensitivity 1).
///
/// The scale is 1/d, not 1/√d: aligned query and key vectors add linearly [Large et al. 2024, §B].
public struct AttentionQK: Bond {
    /// The bond (it has no parameters).
    public init() {}
    public func apply<S: TensorScalar>(_ inputs: [Tensor<S>]) throws -> [Tensor<S>] {
        guard inputs.count == 2, inputs[0].rank == 4, inputs[0].shape == inputs[1].shape else {
            throw ModuleError(module: name, problem: "expected [q, k] of equal shape [batch, heads, tokens, d], got \(inputs.map(\.shape))")
        }
        let d = inputs[0].shape[3]
        return [inputs[0].matmul(inputs[1], transposeB: true, scaledBy: 1 / S(d))]
    }
}

/// Sets scores above the diagonal to −∞ so that each token attends only to itself and earlier tokens.
public struct CausalMask: UnaryBond {
    /// The bond (it has no parameters).
    public init() {}
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
        guard x.rank >= 2, x.shape[x.rank - 1] == x.shape[x.rank - 2] else {
            throw ModuleError(module: name, problem: "expected scores [..., tokens, tokens], got \(x.shape)")
        }
        return x.causallyMasked()
    }
}

/// softmax(scale · x) over the last axis (sensitivity = scale).
public struct Softmax: UnaryBond {
    /// The sharpness multiplying the scores (and the sensitivity).
    public let scale: Double
    /// softmax(`scale` · x).
    public init(scale: Double = 1) { self.scale = scale }
    public var name: String { "Softmax(\(formatNumber(scale)))" }
    public var sensitivity: Double { scale }
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
        guard x.rank >= 1 else { throw ModuleError(module: name, problem: "needs rank ≥ 1, got shape \(x.shape)") }
        return (scale == 1 ? x : x * S(scale)).softmax()
    }
}

/// scores · v from `[v, scores]` (sensitivity 1).
public struct ApplyAttentionScores: Bond {
    /// The bond (it has no parameters).
    public init() {}
    public func apply<S: TensorScalar>(_ inputs: [Tensor<S>]) throws -> [Tensor<S>] {
        guard inputs.count == 2, inputs[0].rank == 4, inputs[1].rank == 4,
              inputs[1].shape[3] == inputs[0].shape[2], inputs[1].shape[2] == inputs[0].shape[2]
        else {
            throw ModuleError(module: name, problem: "expected [v [b, h, t, d], scores [b, h, t, t]], got \(inputs.map(\.shape))")
        }
        return [inputs[1].matmul(inputs[0])]
    }
}
