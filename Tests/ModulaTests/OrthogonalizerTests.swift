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

/// What a method achieved over a family of inputs: the extremes of the diagnostics.
struct Achieved: CustomStringConvertible {
    var minSigma = Double.infinity, maxSigma = -Double.infinity
    var maxRelativeError = 0.0, maxNullSigma = 0.0

    mutating func add<S>(_ d: OrthogonalizationDiagnostics<S>) {
        minSigma = min(minSigma, Double(d.minSingularValue))
        maxSigma = max(maxSigma, Double(d.maxSingularValue))
        maxRelativeError = max(maxRelativeError, Double(d.relativeError))
        maxNullSigma = max(maxNullSigma, Double(d.nullSpaceSingularValue))
    }

    var description: String {
        "σ ∈ [\(minSigma), \(maxSigma)], relative error ≤ \(maxRelativeError), null-space σ ≤ \(maxNullSigma)"
    }
}

/// Asserted bounds: the achieved singular values lie in `sigma` and the relative error is at most `error`.
/// The measured values are in the comments of ``expectedBounds``; the bounds leave a small margin.
struct Bounds {
    var sigma: ClosedRange<Double>
    var error: Double
}

/// Measured on the seeded inputs above; Float and Double agree to the digits shown except where a
/// Double figure is given. "err" is the largest relative Frobenius error against the exact polar factor.
let expectedBounds: [String: [InputKind: Bounds]] = [
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
        // σ ∈ [0.99868, 1.00214], err 0.00145 (Double 0.00094: Float noise in the null space grows 3¹⁰-fold)
        .rankDeficient: Bounds(sigma: 0.998...1.003, error: 0.0015),
    ],
    "polar-express": [
        // σ within 1 ± 4e-7 (Double 1 ± 5e-16), err 1.6e-6 (Double 3e-15)
        .gaussianRectangular: Bounds(sigma: 0.99999...1.00001, error: 1e-5),
        .gaussianSquare: Bounds(sigma: 0.996...1.00001, error: 4e-4),  // σ ∈ [0.99664, 1.0000005], err 3.4e-4
        .illConditioned: Bounds(sigma: 0.996...1.00001, error: 5e-4),  // σ ∈ [0.99623, 1.0000007], err 4.4e-4
        // σ within 1 ± 4e-7, err 1.4e-4 (Double 3e-13): Float noise in the null space grows to 1.5e-4
        .rankDeficient: Bounds(sigma: 0.99999...1.00001, error: 2e-4),
    ],
    "svd": [
        // σ within 1 ± 2e-6 (Double 1 ± 4e-15); the error is against itself, hence 0 (see `svdIsThePolarFactor`)
        .gaussianRectangular: Bounds(sigma: 0.99999...1.00001, error: 0),
        .gaussianSquare: Bounds(sigma: 0.99999...1.00001, error: 0),
        .illConditioned: Bounds(sigma: 0.99999...1.00001, error: 0),
        .rankDeficient: Bounds(sigma: 0.99999...1.00001, error: 0),
    ],
]

func achieved<S: TensorScalar>(_ method: any Orthogonalizer, _ kind: InputKind, _: S.Type) throws -> Achieved {
    var result = Achieved()
    for g in kind.matrices() {
        let d = try method.diagnostics(for: g.converted(to: S.self))
        #expect(d.rank == (kind == .rankDeficient ? min(g.shape[0], g.shape[1]) / 4 : min(g.shape[0], g.shape[1])))
        result.add(d)
    }
    return result
}

@Suite("Orthogonalizers")
struct OrthogonalizerTests {
    @Test("achieved singular values and error against the SVD polar factor",
          arguments: allOrthogonalizers.map(\.name), InputKind.allCases)
    func accuracy(method name: String, kind: InputKind) throws {
        let method = allOrthogonalizers.first { $0.name == name }!
        let bounds = try #require(expectedBounds[name]?[kind])
        for precision in Precision.allCases {
            let a = precision == .float ? try achieved(method, kind, Float.self) : try achieved(method, kind, Double.self)
            #expect(bounds.sigma.contains(a.minSigma), "\(name) \(kind) \(precision): \(a)")
            #expect(bounds.sigma.contains(a.maxSigma), "\(name) \(kind) \(precision): \(a)")
            #expect(a.maxRelativeError <= bounds.error, "\(name) \(kind) \(precision): \(a)")
            // Polynomials map 0 to 0: the input's null space stays (numerically) null.
            #expect(a.maxNullSigma <= (precision == .float ? 2e-3 : 1e-10), "\(name) \(kind) \(precision): \(a)")
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

    @Test("orthogonalizing the transpose gives the transpose", arguments: Precision.allCases)
    func transposeEquivariance(precision: Precision) {
        var rng = RandomGenerator(seed: 3)
        let g = Tensor<Double>.randomNormal([40, 72], using: &rng)
        for method in allOrthogonalizers {
            if precision == .float {
                let gf = g.converted(to: Float.self)
                let d = (method.orthogonalize(gf.transposed()) - method.orthogonalize(gf).transposed()).frobeniusNormValue
                #expect(d < 1e-4, "\(method.name): \(d)")
            } else {
                let d = (method.orthogonalize(g.transposed()) - method.orthogonalize(g).transposed()).frobeniusNormValue
                #expect(d < 1e-12, "\(method.name): \(d)")
            }
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
