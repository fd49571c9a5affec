// Odd quintic matrix iterations X ← aX + b(XXᵀ)X + c(XXᵀ)²X (Jordan et al. 2024, Muon).

/// The coefficients of one step `X ← a·X + b·(X Xᵀ) X + c·(X Xᵀ)² X`, which maps every singular
/// value σ of `X` to `p(σ) = a σ + b σ³ + c σ⁵` and leaves the singular vectors alone.
public struct QuinticStep: Sendable, Hashable, CustomStringConvertible {
    /// The linear coefficient.
    public var a: Double
    /// The cubic coefficient.
    public var b: Double
    /// The quintic coefficient.
    public var c: Double

    /// A step with the given coefficients.
    public init(_ a: Double, _ b: Double, _ c: Double) {
        self.a = a
        self.b = b
        self.c = c
    }

    /// `p(σ) = a σ + b σ³ + c σ⁵`, the step's action on one singular value.
    public func callAsFunction(_ sigma: Double) -> Double {
        let s2 = sigma * sigma
        return sigma * (a + s2 * (b + c * s2))
    }

    public var description: String { "(\(a), \(b), \(c))" }
}

/// An ``Orthogonalizer`` that runs a fixed schedule of odd quintic steps on `G / ‖G‖_F`.
///
/// Conforming types supply the ``schedule`` (and optionally a ``normalizationSafety``); the
/// protocol supplies ``Orthogonalizer/orthogonalize(_:)``. A custom schedule is one small type:
///
/// ```swift
/// struct NewtonSchulz3: PolynomialOrthogonalizer {   // the classical cubic (3/2, −1/2)
///     var name: String { "newton-schulz" }
///     var schedule: [QuinticStep] { Array(repeating: QuinticStep(1.5, -0.5, 0), count: 12) }
/// }
/// ```
///
/// The steps run in the tensor layer (`Tensor.quinticIteration`): a few BLAS calls per step on the
/// orientation with the smaller Gram matrix, and besides the result two k×k work matrices (k = min(m, n))
/// for the whole iteration. Measured speeds are in the README (`modula-bench orthogonalize/…`).
public protocol PolynomialOrthogonalizer: Orthogonalizer {
    /// The steps, in the order they are applied.
    var schedule: [QuinticStep] { get }
    /// Extra divisor on the initial normalization, `X₀ = G / (‖G‖_F · normalizationSafety)`; 1 by default.
    var normalizationSafety: Double { get }
}

extension PolynomialOrthogonalizer {
    public var normalizationSafety: Double { 1 }

    /// Applies ``schedule`` to `g / (‖g‖_F · normalizationSafety)`.
    ///
    /// A zero matrix gives zeros; a matrix with a NaN or infinite entry gives all NaN (so that a broken
    /// gradient stays visible); any other matrix, however tiny or huge, gives the same result as its
    /// rescaled copies.
    ///
    /// - Precondition: `g` is a matrix (rank 2) whose largest entry is finite and nonzero. Stops with a message otherwise.
    ///
    /// The iteration runs in `g`'s own memory when no other tensor shares it (`orthogonalize(consume g)`).
    public func orthogonalize<S: TensorScalar>(_ g: consuming Tensor<S>) -> Tensor<S> {
        require(
            g.rank == 2,
            "\(name).orthogonalize: needs a matrix (rank 2), got shape \(g.shape); reshape convolution kernels or batches to matrices first")
        return QuinticIteration.run(consume g, schedule: schedule, safety: S(normalizationSafety))
    }
}

/// The schedule of a ``PolynomialOrthogonalizer`` run by the tensor layer.
enum QuinticIteration {
    static func run<S: TensorScalar>(
        _ g: consuming Tensor<S>, schedule: [QuinticStep], safety: S, panelElements: Int = 1 << 20
    ) -> Tensor<S> {
        (consume g).quinticIteration(schedule.map { ($0.a, $0.b, $0.c) }, safety: safety, panelElements: panelElements)
    }
}
