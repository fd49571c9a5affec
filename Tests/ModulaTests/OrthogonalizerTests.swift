import Testing
@testable import Modula

// Orthogonalizers against the exact polar factor (LAPACK SVD), on Float and Double.
// Every input is seeded, so the measured numbers recorded next to each bound are reproducible.

/// The scalar type a test runs in.
enum Precision: String, CaseIterable, CustomTestStringConvertible {
    case float, double
    var testDescription: String { rawValue }
}

/// The families of test matrices.
enum InputKind: String, CaseIterable, CustomTestStringConvertible {
    /// Gaussian 48×128 and 128×48: well conditioned (σ_max/σ_min ≈ 5).
    case gaussianRectangular
    /// Gaussian 96×96: the smallest singular values approach 0 (condition number 10²–10⁴).
    case gaussianSquare
    /// U·diag(s)·Vᵀ with s log-spaced from 1 down to 10⁻³; 96×96, 48×128 and 128×48.
    case illConditioned
    /// A (m×r)·B (r×n) Gaussian product with r = min(m, n)/4; 96×96, 48×128 and 128×48.
    case rankDeficient
    var testDescription: String { rawValue }

    var shapes: [(Int, Int)] {
        switch self {
        case .gaussianRectangular: [(48, 128), (128, 48)]
        case .gaussianSquare: [(96, 96)]
        case .illConditioned, .rankDeficient: [(96, 96), (48, 128), (128, 48)]
        }
    }

    /// The seeded test matrices of this family (built in Double).
    func matrices() -> [Tensor<Double>] {
        var out: [Tensor<Double>] = []
        for (index, (m, n)) in shapes.enumerated() {
            for seed in 0..<2 {
                var rng = RandomGenerator(seed: UInt64(100 * index + seed + 1))
                let k = min(m, n)
                switch self {
                case .gaussianRectangular, .gaussianSquare:
                    out.append(.randomNormal([m, n], using: &rng))
                case .illConditioned:
                    let u = orthonormalColumns(m, k, &rng), v = orthonormalColumns(n, k, &rng)
                    let s = (0..<k).map { i in Double.pow(1e3, -Double(i) / Double(k - 1)) }
                    out.append((u * Tensor(s).reshaped([1, k])).matmul(v, transposeB: true))
                case .rankDeficient:
                    let r = k / 4
                    out.append(
                        Tensor<Double>.randomNormal([m, r], using: &rng)
                            .matmul(Tensor<Double>.randomNormal([r, n], using: &rng)))
                }
            }
        }
        return out
    }
}

func orthonormalColumns(_ rows: Int, _ cols: Int, _ rng: inout RandomGenerator) -> Tensor<Double> {
    try! Tensor<Double>.randomNormal([rows, cols], using: &rng).svd().u
}

let allOrthogonalizers: [any Orthogonalizer] = [
    MuonNewtonSchulz(), SixStepNewtonSchulz(), ConvergentQuintic(), PolarExpress(), SVDOrthogonalizer(),
]

/// The diagnostics of one result that the accuracy test compares: the extremes of the singular values of the
/// image of the input's nonzero part, the largest singular value leaked into its null space, and the relative
/// Frobenius error against the exact polar factor.
struct Achieved: CustomStringConvertible {
    var minSigma: Double, maxSigma: Double, nullSigma: Double, relativeError: Double

    init<S>(_ d: OrthogonalizationDiagnostics<S>) {
        minSigma = Double(d.minSingularValue)
        maxSigma = Double(d.maxSingularValue)
        nullSigma = Double(d.nullSpaceSingularValue)
        relativeError = Double(d.relativeError)
    }

    init(minSigma: Double, maxSigma: Double, nullSigma: Double, relativeError: Double) {
        (self.minSigma, self.maxSigma, self.nullSigma, self.relativeError) = (minSigma, maxSigma, nullSigma, relativeError)
    }

    var description: String {
        "σ ∈ [\(minSigma), \(maxSigma)], relative error \(relativeError), null-space σ \(nullSigma)"
    }
}

/// What a polynomial orthogonalizer does to one matrix in exact arithmetic, and how far rounding may move it.
///
/// The iteration acts on each singular value separately [Higham, *Functions of Matrices*, SIAM 2008, ch. 8]:
/// σ ↦ p(σ), with p the composed schedule applied to σ / (‖G‖_F·safety), and a null singular value stays exactly 0.
/// So the exact result's diagnostics follow from the input's singular values alone (computed here in Double by
/// LAPACK), with no machine in them: they are what the table of ``documentedBounds`` is asserted on.
///
/// Rounding: the normalization and every step write each entry of the k×L iterate Xⱼ with a relative error of a
/// few u (u the unit roundoff; the step's products add errors relative to |B||X|, which are of the same size or
/// smaller). Entrywise errors of that size form a matrix of spectral norm about u·rms(Xⱼ)·(√k + √L)
/// (the norm of a random k×L matrix [Bai & Yin 1993; Latała 2005]), with rms(Xⱼ) = ‖Xⱼ‖_F/√(kL). A later step i
/// multiplies a perturbation by at most the norm of its Fréchet derivative, which for a function of the singular
/// values is bounded by Lᵢ = sup over the current spectrum's hull of max(|pᵢ′(x)|, |pᵢ(x)/x|) (the divided
/// differences of pᵢ and of pᵢ(x)/x; the hull contains 0 when the input is rank-deficient, where pᵢ′(0) = aᵢ
/// amplifies the null space). So to first order the result moves by
/// allowance = λ·u·(√k + √L)/√(kL) · Σⱼ ‖Xⱼ‖_F·Πᵢ₍>ⱼ₎ Lᵢ in the spectral norm, and its Frobenius error by at most
/// √(kL)/(√k + √L)/√r times that. λ = 8 covers the few roundings per entry and step with a margin. Nothing here
/// depends on which BLAS kernels ran: only on the precision and the input.
struct ExactPrediction {
    var exact: Achieved
    /// Σⱼ ‖Xⱼ‖_F·Πᵢ₍>ⱼ₎ Lᵢ.
    var amplification: Double
    var rank: Int, k: Int, inner: Int

    init(_ method: any PolynomialOrthogonalizer, _ g: Tensor<Double>) throws {
        let (m, n) = (g.shape[0], g.shape[1])
        k = min(m, n)
        inner = max(m, n)
        let sigma = try g.singularValues()
        let tolerance = Double(inner) * Double.ulpOfOne * sigma[0]
        rank = sigma.prefix { $0 > tolerance }.count
        let scale = 1 / (sigma.map { $0 * $0 }.reduce(0, +).squareRoot() * method.normalizationSafety)
        var y = sigma.prefix(rank).map { $0 * scale }
        func frobenius(_ y: [Double]) -> Double { y.map { $0 * $0 }.reduce(0, +).squareRoot() }
        // Accumulated forwards: each step multiplies what came before and adds its own rounding.
        var total = frobenius(y)
        for step in method.schedule {
            let lo = rank < k ? 0 : y.min() ?? 0, hi = y.max() ?? 0
            var bound = 0.0
            for i in 0...2000 {
                let x = lo + (hi - lo) * Double(i) / 2000, x2 = x * x
                let slope = step.a + x2 * (3 * step.b + 5 * step.c * x2)
                let ratio = step.a + x2 * (step.b + step.c * x2)
                bound = max(bound, abs(slope), abs(ratio))
            }
            y = y.map { step($0) }
            total = total * bound + frobenius(y)
        }
        amplification = total
        let error = frobenius(y.map { $0 - 1 }) / Double(max(rank, 1)).squareRoot()
        exact = Achieved(minSigma: y.min() ?? 0, maxSigma: y.max() ?? 0, nullSigma: 0, relativeError: error)
    }

    /// How far rounding in a type with unit roundoff `u` may move a singular value (spectral norm).
    func allowance(unitRoundoff u: Double) -> Double {
        let (k, l) = (Double(k), Double(inner))
        return 8 * u * (k.squareRoot() + l.squareRoot()) / (k * l).squareRoot() * amplification
    }

    /// The same for the relative Frobenius error.
    func frobeniusAllowance(unitRoundoff u: Double) -> Double {
        let (k, l) = (Double(k), Double(inner))
        return allowance(unitRoundoff: u) * (k * l).squareRoot() / (k.squareRoot() + l.squareRoot()) / Double(rank).squareRoot()
    }
}

/// Documented behaviour of each schedule on each input family, in exact arithmetic: the exact result's singular
/// values lie in `sigma` and its relative error is at most `error` (the exact figures, from the singular values of
/// the seeded inputs, are in the comments).
struct Bounds {
    var sigma: ClosedRange<Double>
    var error: Double
}

let documentedBounds: [String: [InputKind: Bounds]] = [
    "muon5": [
        .gaussianRectangular: Bounds(sigma: 0.675...1.14, error: 0.225),  // σ ∈ [0.6818, 1.1343], err 0.219
        .gaussianSquare: Bounds(sigma: 0.17...1.21, error: 0.21),  // σ ∈ [0.1799, 1.2021], err 0.207
        .illConditioned: Bounds(sigma: 0.17...1.21, error: 0.34),  // σ ∈ [0.1777, 1.2021], err 0.337
        .rankDeficient: Bounds(sigma: 0.675...1.14, error: 0.225),  // σ ∈ [0.6822, 1.1340], err 0.218
    ],
    "six-step": [
        .gaussianRectangular: Bounds(sigma: 0.995...0.9994, error: 0.003),  // σ ∈ [0.99560, 0.99933], err 0.0026
        .gaussianSquare: Bounds(sigma: 0.40...0.9994, error: 0.065),  // σ ∈ [0.4069, 0.99933], err 0.061
        .illConditioned: Bounds(sigma: 0.40...0.9994, error: 0.16),  // σ ∈ [0.4022, 0.99933], err 0.158
        .rankDeficient: Bounds(sigma: 0.995...0.9994, error: 0.0035),  // σ ∈ [0.99560, 0.99931], err 0.0034
    ],
    "quintic": [
        .gaussianRectangular: Bounds(sigma: 0.998...1.003, error: 0.0012),  // σ ∈ [0.99866, 1.00223], err 0.00115
        .gaussianSquare: Bounds(sigma: 0.98...1.007, error: 0.003),  // σ ∈ [0.98177, 1.00634], err 0.0026
        .illConditioned: Bounds(sigma: 0.979...1.019, error: 0.0065),  // σ ∈ [0.97990, 1.01815], err 0.0063
        .rankDeficient: Bounds(sigma: 0.998...1.003, error: 0.001),  // σ ∈ [0.99868, 1.00214], err 0.00094
    ],
    "polar-express": [
        .gaussianRectangular: Bounds(sigma: 0.99999...1.00001, error: 1e-5),  // σ within 1 ± 5e-16, err 3e-15
        .gaussianSquare: Bounds(sigma: 0.996...1.00001, error: 4e-4),  // σ ∈ [0.99664, 1.0000005], err 3.4e-4
        .illConditioned: Bounds(sigma: 0.996...1.00001, error: 5e-4),  // σ ∈ [0.99623, 1.0000007], err 4.4e-4
        .rankDeficient: Bounds(sigma: 0.99999...1.00001, error: 1e-5),  // σ within 1 ± 5e-16, err 3e-13
    ],
]

@Suite("Orthogonalizers")
struct OrthogonalizerTests {
    @Test("exact-arithmetic behaviour as documented; achieved within the rounding allowance of the exact result",
          arguments: allOrthogonalizers.map(\.name), InputKind.allCases)
    func accuracy(method name: String, kind: InputKind) throws {
        let method = allOrthogonalizers.first { $0.name == name }!
        for g in kind.matrices() {
            let expectedRank = kind == .rankDeficient ? min(g.shape[0], g.shape[1]) / 4 : min(g.shape[0], g.shape[1])
            guard let polynomial = method as? any PolynomialOrthogonalizer else {
                // The SVD route: a backward-stable factorization, so σ = 1 and the result equals the reference
                // up to a few L·u.
                for precision in Precision.allCases {
                    let u = precision == .float ? Double(Float.ulpOfOne) / 2 : Double.ulpOfOne / 2
                    let a = precision == .float
                        ? Achieved(try method.diagnostics(for: g.converted(to: Float.self)))
                        : Achieved(try method.diagnostics(for: g))
                    let tolerance = 8 * Double(max(g.shape[0], g.shape[1])) * u
                    #expect(abs(a.minSigma - 1) <= tolerance && abs(a.maxSigma - 1) <= tolerance, "svd \(kind) \(precision): \(a)")
                    #expect(a.relativeError <= tolerance && a.nullSigma <= tolerance, "svd \(kind) \(precision): \(a)")
                }
                continue
            }
            let prediction = try ExactPrediction(polynomial, g)
            #expect(prediction.rank == expectedRank)
            let bounds = try #require(documentedBounds[name]?[kind])
            let e = prediction.exact
            #expect(bounds.sigma.contains(e.minSigma) && bounds.sigma.contains(e.maxSigma), "\(name) \(kind) exact: \(e)")
            #expect(e.relativeError <= bounds.error, "\(name) \(kind) exact: \(e)")
            for precision in Precision.allCases {
                let u = precision == .float ? Double(Float.ulpOfOne) / 2 : Double.ulpOfOne / 2
                let d = precision == .float
                    ? Achieved(try method.diagnostics(for: g.converted(to: Float.self)))
                    : Achieved(try method.diagnostics(for: g))
                let allowance = prediction.allowance(unitRoundoff: u)
                let frobenius = prediction.frobeniusAllowance(unitRoundoff: u)
                let context = "\(name) \(kind) \(precision): achieved \(d), exact \(e), allowance \(allowance)"
                #expect(abs(d.minSigma - e.minSigma) <= allowance, "\(context)")
                #expect(abs(d.maxSigma - e.maxSigma) <= allowance, "\(context)")
                #expect(d.nullSigma <= allowance, "\(context)")
                #expect(d.relativeError <= e.relativeError + frobenius, "\(context)")
                #expect(allowance < 0.02, "\(context): an allowance this large would say nothing")
            }
        }
    }

    @Test("the matrix iteration applies exactly the scalar polynomials to the singular values",
          arguments: [(48, 80), (80, 48), (64, 64)])
    func polynomialOnSingularValues(shape: (Int, Int)) throws {
        var rng = RandomGenerator(seed: 7)
        let (m, n) = shape, k = min(m, n)
        let u = orthonormalColumns(m, k, &rng), v = orthonormalColumns(n, k, &rng)
        let s = (0..<k).map { i in Double.pow(1e2, -Double(i) / Double(k - 1)) }
        let g = (u * Tensor(s).reshaped([1, k])).matmul(v, transposeB: true)
        let norm = s.map { $0 * $0 }.reduce(0, +).squareRoot()
        let methods: [any PolynomialOrthogonalizer] = [
            MuonNewtonSchulz(), SixStepNewtonSchulz(), ConvergentQuintic(), PolarExpress(), PolarExpress(steps: 12),
            MuonNewtonSchulz(steps: 0),
        ]
        for method in methods {
            let p = s.map { sigma in
                method.schedule.reduce(sigma / (norm * method.normalizationSafety)) { x, step in step(x) }
            }
            let expected = (u * Tensor(p).reshaped([1, k])).matmul(v, transposeB: true)
            let o = method.orthogonalize(g)
            #expect(o.shape == [m, n])
            let error = (o - expected).frobeniusNormValue / expected.frobeniusNormValue
            #expect(error < 1e-12, "\(method.name) with \(method.schedule.count) steps on \(shape): \(error)")
        }
    }

    @Test("updating X in place, panel by panel, gives the whole-matrix update", arguments: [(40, 300), (300, 40), (96, 96)])
    func panelUpdate(shape: (Int, Int)) {
        var rng = RandomGenerator(seed: 11)
        let g = Tensor<Double>.randomNormal([shape.0, shape.1], using: &rng)
        let schedule = SixStepNewtonSchulz().schedule
        let whole = QuinticIteration.run(g, schedule: schedule, safety: 1, panelElements: 1 << 40)
        // 1024 elements: at least 64 columns (rows when tall) per panel: 64, 64, 64, 64, 44 or 48, 48.
        let panels = QuinticIteration.run(g, schedule: schedule, safety: 1, panelElements: 1 << 10)
        let d = (panels - whole).frobeniusNormValue / whole.frobeniusNormValue
        #expect(d < 1e-13, "\(shape): \(d)")
    }

    @Test("orthogonalizing the transpose gives the transpose, up to rounding", arguments: Precision.allCases)
    func transposeEquivariance(precision: Precision) throws {
        var rng = RandomGenerator(seed: 3)
        let g = Tensor<Double>.randomNormal([40, 72], using: &rng)
        let u = precision == .float ? Double(Float.ulpOfOne) / 2 : Double.ulpOfOne / 2
        for method in allOrthogonalizers {
            // Both orientations run the same iteration on transposed data, so they differ by rounding only: at most
            // twice the Frobenius allowance (times √r, as the error it bounds is relative to ‖UVᵀ‖_F = √r).
            let tolerance = try (method as? any PolynomialOrthogonalizer).map { p in
                let e = try ExactPrediction(p, g)
                return 2 * e.frobeniusAllowance(unitRoundoff: u) * Double(e.rank).squareRoot()
            } ?? 8 * 72 * u * 40.0.squareRoot()
            let d: Double
            if precision == .float {
                let gf = g.converted(to: Float.self)
                d = Double((method.orthogonalize(gf.transposed()) - method.orthogonalize(gf).transposed()).frobeniusNormValue)
            } else {
                d = (method.orthogonalize(g.transposed()) - method.orthogonalize(g).transposed()).frobeniusNormValue
            }
            #expect(d <= tolerance, "\(method.name) \(precision): \(d) > \(tolerance)")
        }
    }

    @Test("the SVD result is the polar factor: G = O·H with H = OᵀG symmetric positive semidefinite",
          arguments: [(30, 50), (50, 30), (40, 40)])
    func svdIsThePolarFactor(shape: (Int, Int)) throws {
        var rng = RandomGenerator(seed: 11)
        let g = Tensor<Double>.randomNormal([shape.0, shape.1], using: &rng)
        let o = SVDOrthogonalizer().orthogonalize(g)
        // Wide G = H·O with H = G·Oᵀ (m×m); tall G = O·H with H = Oᵀ·G (n×n).
        let wide = shape.0 <= shape.1
        let h = wide ? g.matmul(o, transposeB: true) : o.matmul(g, transposeA: true)
        let back = wide ? h.matmul(o) : o.matmul(h)
        #expect((back - g).frobeniusNormValue < 1e-12 * g.frobeniusNormValue)
        #expect((h - h.transposed()).frobeniusNormValue < 1e-12 * h.frobeniusNormValue)
        let (values, _) = try h.symmetricEigen()
        #expect(values.min() > 0)
        // Semi-orthogonal: O·Oᵀ = I (wide) or Oᵀ·O = I (tall).
        let k = min(shape.0, shape.1)
        let gram = wide ? o.matmul(o, transposeB: true) : o.matmul(o, transposeA: true)
        #expect((gram - .identity(k)).frobeniusNormValue < 1e-12)
    }

    @Test("a zero matrix gives zeros, an empty matrix an empty result", arguments: Precision.allCases)
    func zeroMatrix(precision: Precision) {
        for method in allOrthogonalizers {
            for shape in [[4, 4], [3, 7], [7, 3], [1, 5]] {
                if precision == .float {
                    #expect(method.orthogonalize(Tensor<Float>.zeros(shape)) == .zeros(shape), "\(method.name) \(shape)")
                } else {
                    #expect(method.orthogonalize(Tensor<Double>.zeros(shape)) == .zeros(shape), "\(method.name) \(shape)")
                }
            }
            for shape in [[0, 5], [5, 0], [0, 0]] {
                #expect(method.orthogonalize(Tensor<Float>.zeros(shape)).shape == shape, "\(method.name) \(shape)")
            }
        }
    }

    @Test("tiny and huge matrices are orthogonalized like their rescaled copies")
    func scaleInvariance() throws {
        var rng = RandomGenerator(seed: 5)
        let g = Tensor<Double>.randomNormal([24, 40], using: &rng)
        let gf = g.converted(to: Float.self)
        for method in allOrthogonalizers {
            // Float: squares underflow below 1e-19 and overflow above 1e19. A subnormal scale (≈1e-40) keeps
            // only a few significant bits per entry, hence the looser tolerance.
            let reference = method.orthogonalize(gf)
            for scale: Float in [1e-30, Float.leastNormalMagnitude / 100, 1e30] {
                let tiny = scale < Float.leastNormalMagnitude
                if tiny && blasConfiguration.flushesDenormals {
                    // Flushed (the default): a subnormal matrix reads as zero, and so is its orthogonalization.
                    #expect(method.orthogonalize(gf * scale) == .zeros(gf.shape), "\(method.name) ×\(scale)")
                    continue
                }
                let d = (method.orthogonalize(gf * scale) - reference).frobeniusNormValue / reference.frobeniusNormValue
                #expect(d < (tiny ? 1e-3 : 1e-5), "\(method.name) ×\(scale): \(d)")
            }
            let referenceDouble = method.orthogonalize(g)
            for scale in [1e-300, 1e300] {
                let d = (method.orthogonalize(g * scale) - referenceDouble).frobeniusNormValue
                #expect(d < 1e-12 * referenceDouble.frobeniusNormValue, "\(method.name) ×\(scale): \(d)")
            }
            // A 1×1 matrix near the bottom of Float's normal range keeps its sign and is treated like [[-1]].
            let tiny = method.orthogonalize(Tensor<Float>(rows: [[-3e-38]])).scalar
            #expect(tiny < 0 && tiny == method.orthogonalize(Tensor<Float>(rows: [[-1]])).scalar, "\(method.name)")
        }
    }

    @Test("a NaN or infinite entry gives all NaN")
    func nonFiniteInput() {
        for method in allOrthogonalizers {
            for bad in [Float.nan, .infinity, -.infinity] {
                var g = Tensor<Float>.ones([3, 4])
                g[1, 2] = bad
                #expect(method.orthogonalize(g).scalars.allSatisfy { $0.isNaN }, "\(method.name) with \(bad)")
            }
        }
    }

    @Test("names and coefficient schedules")
    func schedules() {
        #expect(allOrthogonalizers.map(\.name) == ["muon5", "six-step", "quintic", "polar-express", "svd"])
        #expect(MuonNewtonSchulz().schedule == Array(repeating: QuinticStep(3.4445, -4.7750, 2.0315), count: 5))
        #expect(MuonNewtonSchulz(steps: 3).name == "muon3")
        #expect(SixStepNewtonSchulz().schedule.count == 6)
        #expect(SixStepNewtonSchulz().schedule[0] == QuinticStep(3955.0 / 1024, -8306.0 / 1024, 5008.0 / 1024))
        #expect(SixStepNewtonSchulz().schedule[5] == QuinticStep(2172.0 / 1024, -1833.0 / 1024, 682.0 / 1024))
        #expect(ConvergentQuintic().schedule == Array(repeating: QuinticStep(3, -3.2, 1.2), count: 10))
        #expect(ConvergentQuintic(steps: 4).schedule.count == 4)
        // The convergent quintic fixes 1 with zero slope; Polar Express's limit also with zero curvature.
        #expect(abs(ConvergentQuintic.coefficients(1) - 1) < 1e-15)
        let pe = PolarExpress(steps: 10).schedule
        #expect(pe.count == 10 && PolarExpress().schedule.count == 8 && PolarExpress().normalizationSafety == 1.01)
        #expect(abs(pe[0].a - 8.28721201814563 / 1.01) < 1e-15)
        #expect(abs(pe[0].b + 23.595886519098837 / (1.01 * 1.01 * 1.01)) < 1e-13)
        #expect(abs(pe[0].c - 17.300387312530933 / (1.01 * 1.01 * 1.01 * 1.01 * 1.01)) < 1e-13)
        #expect(abs(pe[6].a - 1.8750014808534479 / 1.01) < 1e-15)
        // The limit step and its repeats carry no safety factor.
        #expect(pe[7...].allSatisfy { $0 == QuinticStep(1.875, -1.25, 0.375) })
    }

    @Test("diagnostics report rank, singular-value range and error")
    func diagnosticsReport() throws {
        var rng = RandomGenerator(seed: 9)
        let g = Tensor<Double>.randomNormal([20, 6], using: &rng).matmul(.randomNormal([6, 30], using: &rng))
        let d = try MuonNewtonSchulz().diagnostics(for: g)
        #expect(d.method == "muon5" && d.rank == 6)
        #expect(d.minSingularValue > 0.5 && d.maxSingularValue < 1.25 && d.nullSpaceSingularValue < 1e-12)
        #expect(d.relativeError > 0.01 && d.relativeError < 0.3)
        let zero = try PolarExpress().diagnostics(for: Tensor<Float>.zeros([5, 5]))
        #expect(zero.rank == 0 && zero.maxSingularValue == 0 && zero.relativeError == 0)
        let (factor, rank) = try exactPolarFactor(g)
        #expect(rank == 6 && factor.shape == [20, 30])
    }

    @Test("matrices only: a rank-3 input stops with a message")
    func rankThreeInputTraps() async {
        await #expect(processExitsWith: .failure) {
            _ = PolarExpress().orthogonalize(Tensor<Float>.zeros([2, 3, 4]))
        }
    }
}
