#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// Bonds: weightless modules (mass 0) with their sensitivities [Large et al. 2024; DESIGN §4].

/// The identity map (sensitivity 1).
public struct Identity: Bond {
    /// The bond (it has no parameters).
    public init() {}
    public var name: String { "Identity" }
    public var sensitivity: Double { 1 }
    public func apply<S: TensorScalar>(_ inputs: [Tensor<S>]) throws -> [Tensor<S>] { inputs }
}

/// The sum of all inputs (sensitivity 1: the norm of a tuple is the sum of its parts' norms).
public struct Add: Bond {
    /// The bond (it has no parameters).
    public init() {}
    public var name: String { "Add" }
    public var sensitivity: Double { 1 }
    public func apply<S: TensorScalar>(_ inputs: [Tensor<S>]) throws -> [Tensor<S>] {
        guard let first = inputs.first else { throw ModuleError(module: name, problem: "expected at least 1 input, got 0") }
        for x in inputs where x.shape != first.shape {
            throw ModuleError(module: name, problem: "inputs must have equal shapes, got \(inputs.map(\.shape))")
        }
        return [inputs.dropFirst().reduce(first, +)]
    }
}

/// Multiplication by a constant (sensitivity |a|).
public struct Mul: UnaryBond {
    /// The constant multiplying the input.
    public let factor: Double
    /// Multiplication by `factor`.
    public init(_ factor: Double) { self.factor = factor }
    public var name: String { "Mul(\(formatNumber(factor)))" }
    public var sensitivity: Double { Swift.abs(factor) }
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> { x * S(factor) }
}

/// max(x, 0) (sensitivity 1); NaN stays NaN.
public struct ReLU: UnaryBond {
    /// The bond (it has no parameters).
    public init() {}
    public var name: String { "ReLU" }
    public var sensitivity: Double { 1 }
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> { x.relu() }
}

/// GELU divided by its largest slope 1.1289, so that its sensitivity is 1 (as in Modula).
public struct GELU: UnaryBond {
    /// The bond (it has no parameters).
    public init() {}
    public var name: String { "GELU" }
    public var sensitivity: Double { 1 }
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> { x.gelu(scaledBy: S(1 / 1.1289)) }
}

/// |x| (sensitivity 1).
public struct Abs: UnaryBond {
    /// The bond (it has no parameters).
    public init() {}
    public var name: String { "Abs" }
    public var sensitivity: Double { 1 }
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> { x.abs() }
}

/// Subtracts the mean over the last axis (sensitivity 1: an orthogonal projection).
public struct MeanSubtract: UnaryBond {
    /// The bond (it has no parameters).
    public init() {}
    public var name: String { "MeanSubtract" }
    public var sensitivity: Double { 1 }
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
        guard x.rank >= 1 else { throw ModuleError(module: name, problem: "needs rank ≥ 1, got shape \(x.shape)") }
        return x - x.mean(alongAxis: -1, keepingDimensions: true)
    }
}

/// Divides by the root mean square over the last axis, x / √(mean(x²) + ε) (sensitivity 1 in RMS norm).
public struct RMSDivide: UnaryBond {
    /// Added to the mean square before the square root, for stability near zero.
    public let epsilon: Double
    /// The bond with stabilizer `epsilon`.
    public init(epsilon: Double = 1e-6) { self.epsilon = epsilon }
    public var name: String { "RMSDivide" }
    public var sensitivity: Double { 1 }
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
        guard x.rank >= 1 else { throw ModuleError(module: name, problem: "needs rank ≥ 1, got shape \(x.shape)") }
        return x / (x.squared().mean(alongAxis: -1, keepingDimensions: true) + S(epsilon)).sqrt()
    }
}

/// Layer normalization without gain or bias: ``RMSDivide`` after ``MeanSubtract`` (sensitivity 1).
public struct LayerNorm: UnaryBond {
    /// Added to the mean square before the square root, for stability near zero.
    public let epsilon: Double
    /// The bond with stabilizer `epsilon`.
    public init(epsilon: Double = 1e-6) { self.epsilon = epsilon }
    public var name: String { "LayerNorm" }
    public var sensitivity: Double { 1 }
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
        try RMSDivide(epsilon: epsilon).apply(try MeanSubtract().apply(x))
    }
}

/// Flattens all axes after the first: `[n, …] → [n, ∏…]` (sensitivity 1).
public struct Flatten: UnaryBond {
    /// The bond (it has no parameters).
    public init() {}
    public var name: String { "Flatten" }
    public var sensitivity: Double { 1 }
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
        guard x.rank >= 1 else { throw ModuleError(module: name, problem: "needs rank ≥ 1, got shape \(x.shape)") }
        return x.reshaped([x.shape[0], -1])
    }
}

/// Average pooling over non-overlapping `size × size` windows of `[n, channels, height, width]` (sensitivity 1).
public struct AvgPool: UnaryBond {
    /// The side of each pooling window (and the stride).
    public let size: Int
    /// Pooling over `size × size` windows.
    ///
    /// - Precondition: `size ≥ 1`. Stops with a message otherwise.
    public init(_ size: Int = 2) {
        require(size >= 1, "AvgPool: size must be ≥ 1, got \(size)")
        self.size = size
    }
    public var name: String { "AvgPool(\(size))" }
    public var sensitivity: Double { 1 }
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
        guard x.rank == 4, x.shape[2] % size == 0, x.shape[3] % size == 0 else {
            throw ModuleError(module: name, problem: "expected [n, channels, height, width] with height and width divisible by \(size), got \(x.shape)")
        }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        return x.reshaped([n, c, h / size, size, w / size, size]).mean(alongAxes: [3, 5])
    }
}

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
    public var sensitivity: Double { 1 }
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
    public var name: String { "MergeHeads" }
    public var sensitivity: Double { 1 }
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
    public var name: String { "AttentionQK" }
    public var sensitivity: Double { 1 }
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
    public var name: String { "CausalMask" }
    public var sensitivity: Double { 1 }
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
    public var name: String { "ApplyAttentionScores" }
    public var sensitivity: Double { 1 }
    public func apply<S: TensorScalar>(_ inputs: [Tensor<S>]) throws -> [Tensor<S>] {
        guard inputs.count == 2, inputs[0].rank == 4, inputs[1].rank == 4,
              inputs[1].shape[3] == inputs[0].shape[2], inputs[1].shape[2] == inputs[0].shape[2]
        else {
            throw ModuleError(module: name, problem: "expected [v [b, h, t, d], scores [b, h, t, t]], got \(inputs.map(\.shape))")
        }
        return [inputs[1].matmul(inputs[0])]
    }
}

/// Rotary position embedding of `[q, k]`, each `[batch, heads, tokens, d]` (sensitivity 1: a rotation).
///
/// The two halves of each vector form pairs (x₁, x₂) rotated by the angle θ = position·base^(−i/(d/2)):
/// (x₁ cos θ − x₂ sin θ, x₁ sin θ + x₂ cos θ). Modula's JAX version swaps the roles of sine and
/// cosine (its own comment asks "why is the order reversed?"); this is the standard rotation.
public struct RoPE: Bond {
    /// The size of each head vector (even).
    public let headDimension: Int
    /// The base of the rotation frequencies (10000 in the original RoPE).
    public let base: Double
    /// A rotary embedding for heads of size `headDimension`.
    ///
    /// - Precondition: `headDimension` is even. Stops with a message otherwise.
    public init(headDimension: Int, base: Double = 10000) {
        require(headDimension % 2 == 0, "RoPE: head dimension must be even, got \(headDimension)")
        self.headDimension = headDimension
        self.base = base
    }
    public var name: String { "RoPE(\(headDimension))" }
    public var sensitivity: Double { 1 }

    /// cos θ and sin θ for positions `0..<tokens`, each `[tokens, headDimension/2]`, computed once per
    /// (head dimension, base, tokens, scalar type) and kept.
    func tables<S: TensorScalar>(_ tokens: Int) -> (Tensor<S>, Tensor<S>) {
        let key = RoPETableCache.Key(headDimension: headDimension, base: base, tokens: tokens, scalar: ObjectIdentifier(S.self))
        if let cached = RoPETableCache.shared[key] as? (Tensor<S>, Tensor<S>) { return cached }
        let half = headDimension / 2
        var c = [S](), s = [S]()
        c.reserveCapacity(tokens * half); s.reserveCapacity(tokens * half)
        for p in 0..<tokens {
            for i in 0..<half {
                let theta = Double(p) * pow(base, -Double(i) / Double(half))
                c.append(S(cos(theta))); s.append(S(sin(theta)))
            }
        }
        let tables = (Tensor(shape: [tokens, half], scalars: c), Tensor(shape: [tokens, half], scalars: s))
        RoPETableCache.shared[key] = tables
        return tables
    }

    func rotate<S: TensorScalar>(_ x: Tensor<S>, _ c: Tensor<S>, _ s: Tensor<S>) -> Tensor<S> {
        // (x₁ cos θ − x₂ sin θ, x₁ sin θ + x₂ cos θ) in one fused pass (and one for the pullback).
        x.rotatingHalves(cos: c, sin: s)
    }

    public func apply<S: TensorScalar>(_ inputs: [Tensor<S>]) throws -> [Tensor<S>] {
        guard !inputs.isEmpty, inputs.allSatisfy({ $0.rank == 4 && $0.shape[3] == headDimension }) else {
            throw ModuleError(module: name, problem: "expected tensors [batch, heads, tokens, \(headDimension)], got \(inputs.map(\.shape))")
        }
        let (c, s): (Tensor<S>, Tensor<S>) = tables(inputs[0].shape[2])
        return inputs.map { rotate($0, c, s) }
    }
}

/// The cos/sin tables of ``RoPE``, shared by every RoPE module and kept for the life of the process
/// (a few kilobytes per sequence length).
final class RoPETableCache: @unchecked Sendable {
    struct Key: Hashable {
        var headDimension: Int
        var base: Double
        var tokens: Int
        var scalar: ObjectIdentifier
    }
    static let shared = RoPETableCache()
    private var tables: [Key: Any] = [:]
    private let lock = PthreadLock()

    subscript(key: Key) -> Any? {
        get { lock.locked { tables[key] } }
        set { lock.locked { tables[key] = newValue } }
    }
}

/// A pthread mutex (Modula does not depend on Foundation).
final class PthreadLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
    func locked<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
