/// One way a module failed to be well-normed on a sample.
public struct WellNormednessViolation: Sendable, CustomStringConvertible {
    /// `input`, or the name of the weight whose perturbation broke the bound.
    public let subject: String
    /// The measured change of the output.
    public let measured: Double
    /// The bound the module's declared norm or sensitivity promises.
    public let bound: Double
    public var description: String {
        "\(subject): output changed by \(measured), declared bound \(bound) (ratio \(measured / bound))"
    }
}

/// The outcome of ``Module/auditWellNormedness(inputShapes:samples:tolerance:perturbInputs:inputs:using:)``.
public struct WellNormednessReport: Sendable, CustomStringConvertible {
    /// Largest ratio of measured change to declared bound, for the input and for each weight.
    public let worstRatios: [(subject: String, ratio: Double)]
    /// Samples where a ratio exceeded 1 + tolerance.
    public let violations: [WellNormednessViolation]
    public var isWellNormed: Bool { violations.isEmpty }
    public var description: String {
        let worst = worstRatios.map { "\($0.subject) \(String(format4: $0.ratio))" }.joined(separator: ", ")
        return isWellNormed ? "well-normed (worst ratios: \(worst))"
            : "\(violations.count) violations; worst ratios: \(worst)"
    }
}

extension Module {
    /// Estimates whether the declared sensitivity and norm bound the module's behaviour
    /// [Bernstein & Newhouse 2024, Def. 5]: for weights at initialization and inputs of unit norm,
    /// ‖∇ₓf·Δx‖ ≤ ν·‖Δx‖ and ‖∇_w f·Δw‖ ≤ ‖Δw‖_M.
    ///
    /// Activations are measured in the RMS norm of their last axis (the largest over all other
    /// positions, summed over the tensors of a tuple). Directional derivatives come from central
    /// differences in `Double`; each weight is perturbed alone along a random direction scaled to
    /// unit modular norm, so a violation names the weight. Inputs whose values must be integers
    /// (token ids) are not perturbed: pass `perturbInputs: false`.
    public func auditWellNormedness(
        inputShapes: [[Int]], samples: Int = 8, tolerance: Double = 1e-3, perturbInputs: Bool = true,
        inputs makeInputs: ((inout RandomGenerator) -> [Tensor<Double>])? = nil,
        using rng: inout RandomGenerator
    ) throws -> WellNormednessReport {
        func actNorm(_ xs: [Tensor<Double>]) -> Double {
            xs.reduce(0) { acc, x in
                let d = x.rank == 0 ? 1 : x.shape[x.rank - 1]
                let rms = (x.squared().sum(alongAxis: -1).scalars.max() ?? 0) / Double(Swift.max(d, 1))
                return acc + rms.squareRoot()
            }
        }
        func unitInputs(_ rng: inout RandomGenerator) -> [Tensor<Double>] {
            inputShapes.map { s in
                let x = Tensor<Double>.randomNormal(s, using: &rng)
                return x * (1 / actNorm([x]))
            }
        }
        let eps = 1e-5
        var worst: [String: Double] = [:]
        var violations: [WellNormednessViolation] = []
        let names = weightNames
        for _ in 0..<samples {
            let w: [Tensor<Double>] = initialize(using: &rng)
            let x = makeInputs?(&rng) ?? unitInputs(&rng)
            func record(_ subject: String, _ measured: Double, _ bound: Double) {
                let ratio = bound > 0 ? measured / bound : (measured > 1e-9 ? .infinity : 0)
                worst[subject] = Swift.max(worst[subject] ?? 0, ratio)
                if ratio > 1 + tolerance {
                    violations.append(WellNormednessViolation(subject: subject, measured: measured, bound: bound))
                }
            }
            if perturbInputs && !x.isEmpty {
                var dx = x.map { Tensor<Double>.randomNormal($0.shape, using: &rng) }
                let n = actNorm(dx)
                dx = dx.map { $0 * (1 / n) }
                let plus = try forward(zip(x, dx).map { $0 + $1 * eps }, weights: w[...])
                let minus = try forward(zip(x, dx).map { $0 - $1 * eps }, weights: w[...])
                record("input", actNorm(zip(plus, minus).map { ($0 - $1) * (1 / (2 * eps)) }), sensitivity)
            }
            for i in w.indices {
                var dw = w.map { Tensor<Double>.zeros($0.shape) }
                dw[i] = Tensor<Double>.randomNormal(w[i].shape, using: &rng)
                let n: Double = norm(dw)
                if n == 0 { continue }
                dw[i] = dw[i] * (1 / n)
                let plus = try forward(x, weights: zip(w, dw).map { $0 + $1 * eps }[...])
                let minus = try forward(x, weights: zip(w, dw).map { $0 - $1 * eps }[...])
                record(names[i], actNorm(zip(plus, minus).map { ($0 - $1) * (1 / (2 * eps)) }), 1)
            }
        }
        let order = (perturbInputs ? ["input"] : []) + names
        return WellNormednessReport(
            worstRatios: order.compactMap { n in worst[n].map { (n, $0) } }, violations: violations)
    }
}
