// Modula's six-step schedule, due to You (the Modula library, JAX).

/// Modula's orthogonalizer: six quintic steps with coefficients tuned per step (due to You), ×1/1024:
/// (3955, −8306, 5008), (3735, −6681, 3463), (3799, −6499, 3211), (4019, −6385, 2906),
/// (2677, −3029, 1162), (2172, −1833, 682).
///
/// Measured with ``Orthogonalizer/diagnostics(for:)`` on seeded Float matrices of sizes 128–1024
/// (Double agrees to the digits shown); "error" is the relative Frobenius error against the exact
/// polar factor, σ the result's singular values on the input's nonzero part:
///
/// | input | σ of the result | error |
/// |---|---|---|
/// | Gaussian, rectangular (1:2 to 1:4), and the nonzero part of rank-deficient inputs | [0.9956, 0.9993] | 0.0025–0.0034 |
/// | singular values log-spaced over 10⁻³…1 (condition number 10³) | [0.13, 0.9993] | 0.11–0.35 |
/// | Gaussian, square (σ_min near 0) | [0.015, 0.9993] | 0.03–0.08 |
///
/// The schedule never overshoots 1 but stops short of it; singular values below about 10⁻³·‖G‖_F
/// are not fully lifted in six steps.
public struct SixStepNewtonSchulz: PolynomialOrthogonalizer {
    /// The six steps' coefficients, in order.
    public static let coefficients: [QuinticStep] = [
        (3955, -8306, 5008), (3735, -6681, 3463), (3799, -6499, 3211),
        (4019, -6385, 2906), (2677, -3029, 1162), (2172, -1833, 682),
    ].map { QuinticStep($0.0 / 1024, $0.1 / 1024, $0.2 / 1024) }

    /// Modula's six-step iteration.
    public init() {}

    /// `"six-step"`.
    public var name: String { "six-step" }

    public var schedule: [QuinticStep] { Self.coefficients }
}
