/// Per-weight figures of one training step, in the quantities papers on this subject plot.
public struct WeightDiagnostics: Sendable, CustomStringConvertible {
    /// The weight's name.
    public let name: String
    /// ‖w‖ in the atom's own norm (for an atom with several weights, the norm of all of them).
    public let weightNorm: Double
    /// ‖Δw‖ in the atom's own norm (Δw = weights after the step − before; for an atom with several weights, of its
    /// whole step).
    public let updateNorm: Double
    /// Largest singular value of the gradient (matrices only; power iteration).
    public let gradientSpectralNorm: Double?
    /// ‖G‖²_F / ‖G‖²₂ of the gradient (matrices only).
    public let gradientStableRank: Double?
    /// ‖Δw‖²_F / ‖Δw‖²₂ of the update (matrices only).
    public let updateStableRank: Double?
    /// ‖QᵀQ − I‖_F / √k for the update rescaled to unit top singular value, Q of k columns on the
    /// smaller side: how far the update is from a (scaled) semi-orthogonal matrix (matrices only).
    public let orthogonalityError: Double?

    public var description: String {
        func f(_ x: Double?) -> String { x.map { String(format4: $0) } ?? "—" }
        return "\(name): ‖w‖=\(f(weightNorm)) ‖Δw‖=\(f(updateNorm)) σ(G)=\(f(gradientSpectralNorm)) "
            + "srank(G)=\(f(gradientStableRank)) srank(Δw)=\(f(updateStableRank)) orth-err=\(f(orthogonalityError))"
    }
}

extension Module {
    /// Diagnostics of one step from `before` to `after` with `gradients`, per weight.
    ///
    /// Cost: a few matrix-vector products per matrix for the spectral norms (power iteration, 20 steps)
    /// and one Gram product per matrix for the orthogonality error — cheap next to a training step.
    public func diagnostics<S: TensorScalar>(
        before: [Tensor<S>], after: [Tensor<S>], gradients: [Tensor<S>]
    ) -> [WeightDiagnostics] {
        let names = weightNames
        let deltas = zip(after, before).map { $0 - $1 }
        let weightNorms = atomNorms(after), updateNorms = atomNorms(deltas)
        return names.indices.map { i in
            let delta = deltas[i]
            let isMatrix = delta.rank == 2
            let gSigma = isMatrix ? estimatedSpectralNorm(gradients[i]) : nil
            let dSigma = isMatrix ? estimatedSpectralNorm(delta) : nil
            func stable(_ t: Tensor<S>, _ sigma: Double?) -> Double? {
                guard let sigma, sigma > 0 else { return isMatrix ? 0 : nil }
                return Double(t.squaredNormValue) / (sigma * sigma)
            }
            var orth: Double? = nil
            if isMatrix, let dSigma, dSigma > 0 {
                let q = delta * S(1 / dSigma)
                let wide = q.shape[0] <= q.shape[1]
                let gram = q.gram(transpose: !wide)
                let k = gram.shape[0]
                orth = (Double((gram - Tensor<S>.identity(k)).squaredNormValue) / Double(k)).squareRoot()
            }
            return WeightDiagnostics(
                name: names[i], weightNorm: Double(weightNorms[i]), updateNorm: Double(updateNorms[i]),
                gradientSpectralNorm: gSigma, gradientStableRank: stable(gradients[i], gSigma),
                updateStableRank: stable(delta, dSigma), orthogonalityError: orth)
        }
    }
}

/// The largest singular value of a matrix by power iteration on AᵀA (deterministic start).
///
/// - Precondition: `a` is a matrix (rank 2). Stops with a message otherwise.
public func estimatedSpectralNorm<S: TensorScalar>(_ a: Tensor<S>, iterations: Int = 20) -> Double {
    require(a.rank == 2, "estimatedSpectralNorm: needs a matrix, got shape \(a.shape)")
    if a.squaredNormValue == 0 { return 0 }
    var rng = RandomGenerator(seed: 0x5eed)
    var v = Tensor<S>.randomNormal([a.shape[1], 1], using: &rng)
    var sigma = 0.0
    for _ in 0..<iterations {
        let u = a.matmul(v)
        let w = a.matmul(u, transposeA: true)
        let n = Double(w.frobeniusNormValue)
        if n == 0 { return 0 }
        sigma = (n / Double(v.frobeniusNormValue)).squareRoot()
        v = w * S(1 / n)
    }
    return sigma
}
