/// An embedding table `[vocabulary, dimension]` looked up by integer token ids.
///
/// Inputs hold token ids as exact integers in a float tensor of any shape `[…]`; the output has
/// shape `[…, dimension]`. Its norm is ℓ₁→RMS, the largest row norm ‖row‖₂/√d; the duality map
/// scales each gradient row to ℓ₂ norm √d (zero rows stay zero) [Bernstein & Newhouse 2024, §3].
/// `norm: .sign` selects the ℓ∞ alternative: norm max|w|, duality map sign(G), projection to ±1.
public struct Embed: Atom {
    /// The embedding's norm: each row to ℓ₂ = √d (`rowRMS`), or the ℓ∞ alternative (`sign`).
    public enum Norm: String, Sendable, Codable { case rowRMS, sign }
    /// Number of token ids.
    public let vocabulary: Int
    /// Size of each embedding vector.
    public let dimension: Int
    /// The norm the table is measured and dualized in.
    public let embedNorm: Norm
    /// The atom's mass (1 unless chosen).
    public let mass: Double

    /// A table of `vocabulary` embedding vectors of size `dimension`.
    ///
    /// - Precondition: `vocabulary` and `dimension` are positive. Stops with a message otherwise.
    public init(vocabulary: Int, dimension: Int, norm: Norm = .rowRMS, mass: Double = 1) {
        require(vocabulary > 0 && dimension > 0, "Embed: sizes must be positive, got vocabulary \(vocabulary), dimension \(dimension)")
        self.vocabulary = vocabulary
        self.dimension = dimension
        self.embedNorm = norm
        self.mass = mass
    }

    public var name: String { "Embed(\(vocabulary)→\(dimension))" }
    public var weightShape: [Int] { [vocabulary, dimension] }

    public func apply<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>) throws -> Tensor<S> {
        var ids = [Int]()
        ids.reserveCapacity(x.count)
        for (i, v) in x.scalars.enumerated() {
            guard v == v.rounded(), v >= 0, v < S(vocabulary) else {
                throw ModuleError(module: name, problem: "input \(v) at position \(i) is not a token id in 0..<\(vocabulary)")
            }
            ids.append(Int(v))
        }
        return weight.gather(ids, indexShape: x.shape)
    }

    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> Tensor<S> {
        project(Tensor<S>.randomNormal(weightShape, using: &rng))
    }
    public func project<S: TensorScalar>(_ w: Tensor<S>) -> Tensor<S> {
        switch embedNorm {
        case .rowRMS: return dualize(w)
        case .sign:
            var out = w
            out.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = p[i] >= 0 ? 1 : -1 } }
            return out
        }
    }
    public func norm<S: TensorScalar>(_ w: Tensor<S>) -> S {
        switch embedNorm {
        case .rowRMS: return (rowNorms(w).max() ?? 0) / S(Double(dimension).squareRoot())
        case .sign: return w.abs().max()
        }
    }
    public func dualNorm<S: TensorScalar>(_ g: Tensor<S>) -> S {
        switch embedNorm {
        case .rowRMS: return rowNorms(g).reduce(0, +) * S(Double(dimension).squareRoot())
        case .sign: return g.abs().sum().scalar
        }
    }
    public func dualize<S: TensorScalar>(_ g: Tensor<S>) -> Tensor<S> {
        switch embedNorm {
        case .rowRMS:
            let target = S(Double(dimension).squareRoot())
            return g * Tensor(shape: [vocabulary, 1], scalars: rowNorms(g).map { $0 > 0 ? target / $0 : 0 })
        case .sign: return g.sign()
        }
    }
}
