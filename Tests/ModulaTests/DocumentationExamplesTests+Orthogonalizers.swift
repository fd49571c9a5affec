import Foundation
import Testing
@testable import Modula

// The code of Orthogonalizers.md (see DocumentationExamplesTests.swift).

/// The article's custom orthogonalizer: the classical cubic Newton–Schulz iteration.
struct NewtonSchulz3: PolynomialOrthogonalizer {
    var name: String { "newton-schulz" }
    var schedule: [QuinticStep] { Array(repeating: QuinticStep(1.5, -0.5, 0), count: 12) }
}

extension DocumentationExamplesTests {
    @Suite("Docs: Orthogonalizers")
    struct Orthogonalizers {
        @Test("choosing an orthogonalizer per network, layer and optimizer")
        func choosing() throws {
            let mlp = Sequential.mlp(input: 784, width: 256, output: 10, orthogonalizer: PolarExpress())
            let layer = Linear(in: 256, out: 256).with(orthogonalizer: MuonNewtonSchulz())
            let muon = try Optimizer<Float>.muon(module: mlp, orthogonalizer: PolarExpress(steps: 5))
            #expect(mlp.atoms.allSatisfy { ($0.atom as! Linear).orthogonalizer.name == "polar-express" })
            #expect(layer.orthogonalizer.name == "muon5")
            #expect(muon.groups.count == 2)
            #expect(defaultOrthogonalizer.name == "six-step")
        }

        @Test("the diagnostics printed in the article")
        func diagnostics() throws {
            var rng = RandomGenerator(seed: 0)
            let g = Tensor<Float>.randomNormal([256, 784], using: &rng)
            let methods: [any Orthogonalizer] = [
                MuonNewtonSchulz(), SixStepNewtonSchulz(), ConvergentQuintic(), PolarExpress(), SVDOrthogonalizer(),
            ]
            // (σ_min, σ_max, relative error) as printed.
            let printed: [(Float, Float, Float)] = [
                (0.6820923, 1.1343566, 0.16035056), (0.9955911, 0.99933445, 0.0027821194),
                (0.9964317, 1.0022614, 0.00160894), (0.99999887, 1.0000011, 3.7670086e-06), (0.9999974, 1.0000024, 0),
            ]
            for (method, (lo, hi, err)) in zip(methods, printed) {
                let d = try method.diagnostics(for: g)
                #expect(d.rank == 256 && d.nullSpaceSingularValue == 0)
                #expect(Swift.abs(d.minSingularValue - lo) < 1e-5 && Swift.abs(d.maxSingularValue - hi) < 1e-5, "\(d)")
                #expect(Swift.abs(d.relativeError - err) < 1e-4 * Swift.max(1, err * 1e4) , "\(d)")
            }
            let cubic = try NewtonSchulz3().diagnostics(for: g)
            #expect(cubic.method == "newton-schulz")
            #expect(cubic.minSingularValue > 0.99 && cubic.maxSingularValue < 1.0001, "\(cubic)")
        }
    }
}
