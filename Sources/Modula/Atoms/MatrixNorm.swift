/// A norm for a weight matrix `W` of shape `[fanOut, fanIn]`, with its duality map — the menu of
/// Scion [Pethick et al. 2025, Table 2] plus Modula's default.
///
/// | norm | ‖W‖ | dualize(G) |
/// |---|---|---|
/// | `spectral` (RMS→RMS) | √(in/out)·σ_max(W) | √(out/in)·UVᵀ |
/// | `spectralMax` | σ_max(W) / max(1, √(out/in)) | max(1, √(out/in))·UVᵀ |
/// | `columnNorm` | maxⱼ ‖W₋ⱼ‖₂ / √out | each column scaled to ℓ₂ = √out |
/// | `rowNorm` | maxᵢ √in·‖Wᵢ₋‖₂ | each row scaled to ℓ₂ = 1/√in |
/// | `sign` | in·maxᵢⱼ \|Wᵢⱼ\| | sign(G) / in |
public enum MatrixNorm: String, Sendable, Codable, CaseIterable {
    /// The RMS→RMS operator norm √(in/out)·σ_max (Modula's and Scion's default for hidden layers).
    case spectral
    /// σ_max / max(1, √(out/in)): the norm whose duality map is Muon's update.
    case spectralMax
    /// The largest column ℓ₂ norm over √out (ℓ₁→RMS; for one-hot-like inputs).
    case columnNorm
    /// √in times the largest row ℓ₂ norm (RMS→ℓ∞).
    case rowNorm
    /// in times the largest entry (ℓ₁→ℓ∞ scaled; Scion's choice for the head).
    case sign

    func spectralScale(_ out: Int, _ inn: Int) -> Double {
        switch self {
        case .spectral: return (Double(out) / Double(inn)).squareRoot()
        default: return Swift.max(1, (Double(out) / Double(inn)).squareRoot())
        }
    }

    /// The norm of `w` ([out, in]).
    public func norm<S: TensorScalar>(_ w: Tensor<S>) -> S {
        let (out, inn) = (w.shape[0], w.shape[1])
        switch self {
        case .spectral, .spectralMax:
            return ((try? w.spectralNorm()) ?? S.nan) / S(spectralScale(out, inn))
        case .columnNorm:
            return (columnNorms(w).max() ?? 0) / S(Double(out).squareRoot())
        case .rowNorm:
            return (rowNorms(w).max() ?? 0) * S(Double(inn).squareRoot())
        case .sign:
            return w.abs().max() * S(inn)
        }
    }

    /// The dual norm of a gradient `g` ([out, in]).
    public func dualNorm<S: TensorScalar>(_ g: Tensor<S>) -> S {
        let (out, inn) = (g.shape[0], g.shape[1])
        switch self {
        case .spectral, .spectralMax:
            let nuclear = ((try? g.singularValues()) ?? [S.nan]).reduce(0, +)
            return nuclear * S(spectralScale(out, inn))
        case .columnNorm:
            return columnNorms(g).reduce(0, +) * S(Double(out).squareRoot())
        case .rowNorm:
            return rowNorms(g).reduce(0, +) / S(Double(inn).squareRoot())
        case .sign:
            return g.abs().sum().scalar / S(inn)
        }
    }

    /// The unit-norm direction maximizing ⟨g, ·⟩; zero where `g` is zero. The spectral norms' map runs in `g`'s
    /// memory when no other tensor shares it (`dualize(consume g, …)`).
    public func dualize<S: TensorScalar>(_ g: consuming Tensor<S>, orthogonalizer: any Orthogonalizer) -> Tensor<S> {
        let (out, inn) = (g.shape[0], g.shape[1])
        switch self {
        case .spectral, .spectralMax:
            var u = orthogonalizer.orthogonalize(consume g)
            u.scaleInPlace(by: S(spectralScale(out, inn)))
            return u
        case .columnNorm:
            let n = columnNorms(g)
            let target = S(Double(out).squareRoot())
            return g * Tensor(shape: [1, inn], scalars: n.map { $0 > 0 ? target / $0 : 0 })
        case .rowNorm:
            let n = rowNorms(g)
            let target = 1 / S(Double(inn).squareRoot())
            return g * Tensor(shape: [out, 1], scalars: n.map { $0 > 0 ? target / $0 : 0 })
        case .sign:
            return g.sign() * (1 / S(inn))
        }
    }

    /// A weight drawn on this norm's unit sphere (the initialization and projection target).
    public func project<S: TensorScalar>(_ w: Tensor<S>) -> Tensor<S> {
        switch self {
        case .spectral, .spectralMax, .columnNorm, .rowNorm:
            return dualize(w, orthogonalizer: SVDOrthogonalizer())
        case .sign:
            // Entries ±1/in (zeros become +1/in so the matrix stays on the sphere).
            let inn = w.shape[1]
            var out = w.sign()
            out.withUnsafeMutableBufferPointer { p in
                for i in p.indices { p[i] = (p[i] >= 0 ? 1 : -1) / S(inn) }
            }
            return out
        }
    }
}

/// ℓ₂ norms of the columns of a matrix.
func columnNorms<S: TensorScalar>(_ w: Tensor<S>) -> [S] {
    w.squared().sum(alongAxis: 0).sqrt().scalars
}
/// ℓ₂ norms of the rows of a matrix.
func rowNorms<S: TensorScalar>(_ w: Tensor<S>) -> [S] {
    w.squared().sum(alongAxis: 1).sqrt().scalars
}
