// Muon's quintic Newton–Schulz iteration (Jordan et al. 2024, Muon).

/// Muon's orthogonalizer: the quintic (a, b, c) = (3.4445, −4.7750, 2.0315), applied 5 times.
///
/// The coefficients were tuned for speed, not convergence: p′(0) = 3.4445 lifts small singular
/// values fast, but the fixed point is not 1, so the result's singular values end in a band around 1
/// rather than at 1.
///
/// Measured with ``Orthogonalizer/diagnostics(for:)`` on seeded Float matrices of sizes 128–1024
/// (Double agrees to the digits shown); "error" is the relative Frobenius error against the exact
/// polar factor, σ the result's singular values on the input's nonzero part:
///
/// | input | σ of the result | error |
/// |---|---|---|
/// | Gaussian, rectangular (1:2 to 1:4), and the nonzero part of rank-deficient inputs | [0.68, 1.13] | 0.15–0.23 |
/// | singular values log-spaced over 10⁻³…1 (condition number 10³) | [0.056, 1.20] | 0.30–0.49 |
/// | Gaussian, square (σ_min near 0) | [0.006, 1.20] | 0.15–0.21 |
///
/// For well-conditioned inputs the band [0.68, 1.13] is the iteration's attractor (σ ≥ about 10⁻²·‖G‖_F
/// all land there); the upper end 1.20 is reached only by singular values still in transit.
public struct MuonNewtonSchulz: PolynomialOrthogonalizer {
    /// Muon's coefficients (3.4445, −4.7750, 2.0315).
    public static let coefficients = QuinticStep(3.4445, -4.7750, 2.0315)

    /// Number of steps (Muon uses 5).
    public var steps: Int

    /// Muon's iteration with the given number of steps (5 by default).
    ///
    /// - Precondition: `steps ≥ 0`. Stops with a message otherwise.
    public init(steps: Int = 5) {
        require(steps >= 0, "MuonNewtonSchulz: steps must be ≥ 0, got \(steps)")
        self.steps = steps
    }

    /// `"muon5"` for the default five steps (`"muon<steps>"` otherwise).
    public var name: String { "muon\(steps)" }

    public var schedule: [QuinticStep] { Array(repeating: Self.coefficients, count: steps) }
}
