/// The size of one weight's update, against the spectral condition [Yang, Simon & Bernstein 2023]:
/// feature learning at every width wants ‖ΔW‖₂ = Θ(√(fan_out/fan_in)), with fan_in := 1 for input layers and
/// fan_out := 1 for output layers.
public struct UpdateSize: Sendable, CustomStringConvertible {
    /// The weight's name and role.
    public var name: String, role: WeightRole
    /// ‖ΔW‖ in the atom's own norm (the modular norm's term for this atom; for an atom with several weights, the
    /// norm of its whole step).
    public var atomNorm: Double
    /// ‖ΔW‖₂, the spectral norm of the matrix view [fan_out, fan_in] (the ℓ2 norm of a vector).
    public var spectralNorm: Double
    /// √(fan_out/fan_in) under the conventions above.
    public var spectralTarget: Double
    /// spectralNorm / spectralTarget: Θ(1) across widths when the update obeys the spectral condition.
    public var spectralRatio: Double { spectralTarget > 0 ? spectralNorm / spectralTarget : 0 }

    public var description: String {
        "\(name) (\(role)): atom norm \(formatted(atomNorm)), spectral \(formatted(spectralNorm)) "
            + "= \(formatted(spectralRatio)) × √(fan_out/fan_in)"
    }
}

extension Module {
    /// The size of the step from `before` to `after` for every weight (through LAPACK's SVD: for diagnostics, not
    /// for every step of a long run).
    ///
    /// - Throws: `LinearAlgebraError` when the SVD fails to converge.
    public func updateSizes<S: TensorScalar>(
        from before: [Tensor<S>], to after: [Tensor<S>], roles: [WeightRole]? = nil
    ) throws -> [UpdateSize] {
        let names = weightNames, fans = weightFans, roles = roles ?? self.roles()
        let deltas = zip(after, before).map { $0 - $1 }
        let norms = atomNorms(deltas)
        return try deltas.indices.map { i in
            let delta = deltas[i]
            let (fanIn, fanOut) = fans[i]
            let rows = delta.rank == 0 ? 1 : delta.shape[0]
            let spectral = try delta.reshaped([rows, delta.count / Swift.max(rows, 1)]).spectralNorm()
            let fi = roles[i] == .input ? 1.0 : Double(fanIn), fo = roles[i] == .output ? 1.0 : Double(fanOut)
            return UpdateSize(name: names[i], role: roles[i], atomNorm: Double(norms[i]),
                              spectralNorm: Double(spectral), spectralTarget: (fo / fi).squareRoot())
        }
    }
}
