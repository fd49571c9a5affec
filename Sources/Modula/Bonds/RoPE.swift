#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Rotary position embedding of `[q, k]`, each `[batch, heads, tokens, d]` (sensitivity 1: a rotation).
///
/// The two halves of each vector form pairs (x₁, x₂) rotated by the angle θ = position·base^(−i/(d/2)):
/// (x₁ cos θ − x₂ sin θ, x₁ sin θ + x₂ cos θ), the standard rotation. Modula-JAX computes its tables as
/// `(sin, cos)` and unpacks them as `cos, sin`, which makes its map a reflection of each pair, not a rotation
/// (still an isometry, so its sensitivity is also 1).
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
