import Foundation
import Testing
@testable import Modula

// The code of ModularNorm.md (see DocumentationExamplesTests.swift).

extension DocumentationExamplesTests {
    @Suite("Docs: The Modular Norm")
    struct ModularNorm {
        @Test("the combinator example has the masses and sensitivities the comments give")
        func combinators() {
            let a = Linear(in: 8, out: 8), b = Linear(in: 8, out: 8)
            let chain = a.then(ReLU()).then(b)             // mass 2, sensitivity 1
            let both = Parallel([a, b])                    // mass 2, sensitivity 2
            let residual = 0.75 * Identity() + 0.25 * chain  // mass 2, sensitivity 1
            let heavy = chain.tared(5)                     // mass 5, sensitivity 1
            #expect(chain.mass == 2 && chain.sensitivity == 1)
            #expect(both.mass == 2 && both.sensitivity == 2)
            #expect(residual.mass == 2 && residual.sensitivity == 1)
            #expect(heavy.mass == 5 && heavy.sensitivity == 1)
        }

        @Test("a scalar multiple is Mul(a) after the module: norm |a|·‖w‖, target t/|a|")
        func scalarMultiple() throws {
            let inner = Linear(in: 6, out: 4, orthogonalizer: SVDOrthogonalizer())
            let scaled = 0.25 * inner
            var rng = RandomGenerator(seed: 2)
            let w = inner.weightShapes.map { Tensor<Double>.randomNormal($0, using: &rng) }
            #expect(relativeError(scaled.norm(w), 0.25 * inner.norm(w)) < 1e-12)
            #expect(relativeError(scaled.sensitivity, 0.25) < 1e-15)
            let d = try scaled.dualize(w, targetNorm: 0.5)
            #expect(relativeError(inner.norm(d), 0.5 / 0.25) < 1e-9)
            #expect(relativeError(scaled.norm(d), 0.5) < 1e-9)
        }

        @Test("norm(dualize(g, t)) == t and the per-atom rule, on the article's residual network")
        func dualizeRules() throws {
            let a = Linear(in: 8, out: 8, orthogonalizer: SVDOrthogonalizer())
            let b = Linear(in: 8, out: 8, orthogonalizer: SVDOrthogonalizer())
            let residual = 0.75 * Identity() + 0.25 * a.then(ReLU()).then(b)
            var rng = RandomGenerator(seed: 3)
            let g = residual.weightShapes.map { Tensor<Double>.randomNormal($0, using: &rng) }
            let d = try residual.dualize(g, targetNorm: 0.3)
            #expect(relativeError(residual.norm(d), 0.3) < 1e-9)
            // Each Linear: t·(1/2)/0.25 (mass share 1/2; a has b downstream, of sensitivity 1).
            for (name, target) in residual.atomTargets(targetNorm: 0.3, using: &rng) {
                #expect(relativeError(target, 0.3 * 0.5 / 0.25) < 1e-9, "\(name)")
            }
        }

        @Test("hello-GPT's atom targets are 1/7, 5/7 and 5/21, as printed in the article")
        func gptTargets() {
            let gpt = Sequential.gpt(vocabulary: 65, heads: 4, dimension: 128, queryDimension: 32,
                          valueDimension: 32, blocks: 4, orthogonalizer: SVDOrthogonalizer())
            #expect("\(gpt.atomCount) \(gpt.mass) \(gpt.sensitivity)" == "26 7.0 1.0")
            var rng = RandomGenerator(seed: 0)
            let targets = gpt.atomTargets(using: &rng)
            #expect(targets.count == 26)
            for (name, target) in targets {
                let expected: Double
                if name == "embed.weight" || name == "head.weight" { expected = 1.0 / 7 }
                else if name.hasSuffix("query.weight") || name.hasSuffix("key.weight") || name.hasSuffix("value.weight") { expected = 5.0 / 7 }
                else { expected = 5.0 / 21 }
                #expect(relativeError(target, expected) < 1e-12, "\(name): \(target)")
            }
            let printed = targets.prefix(8).map { "\($0.name) \($0.target)" }
            #expect(printed.map { $0.split(separator: " ")[0] } == [
                "embed.weight", "blocks.0.attention.value.weight", "blocks.0.attention.query.weight",
                "blocks.0.attention.key.weight", "blocks.0.attention.out.weight", "blocks.0.mlp.up.weight",
                "blocks.0.mlp.down.weight", "blocks.1.attention.value.weight",
            ])
        }

        @Test("with the default orthogonalizer the targets are met from below, to within 0.2 %")
        func defaultOrthogonalizerTargets() {
            let gpt = Sequential.gpt(vocabulary: 11, heads: 2, dimension: 16, queryDimension: 8, valueDimension: 8, blocks: 2)
            var rng = RandomGenerator(seed: 4)
            for (name, target) in gpt.atomTargets(using: &rng) {
                let expected = name == "embed.weight" || name == "head.weight" ? 1.0 / 7
                    : name.hasSuffix("query.weight") || name.hasSuffix("key.weight") || name.hasSuffix("value.weight") ? 5.0 / 7 : 5.0 / 21
                #expect(target <= expected * (1 + 1e-6) && target > expected * 0.998, "\(name): \(target / expected)")
            }
        }

        @Test("the audit outputs quoted in the article")
        func audit() throws {
            var rng = RandomGenerator(seed: 1)
            let mlp = Sequential.mlp(input: 6, width: 8, output: 4)
            let mlpReport = try mlp.auditWellNormedness(inputShapes: [[5, 6]], using: &rng)
            #expect(mlpReport.isWellNormed)
            expectRatios(mlpReport, ["input": 0.4222, "0.weight": 0.1111, "2.weight": 0.0936, "4.weight": 0.1336])

            var reports: [WellNormednessReport] = []
            for bond in [RMSDivide(), LayerNorm()] as [any Module] {
                reports.append(try bond.auditWellNormedness(inputShapes: [[3, 6]], using: &rng))
            }
            let colNorm = Linear(in: 6, out: 6, norm: .columnNorm)
            reports.append(try colNorm.auditWellNormedness(inputShapes: [[3, 6]], using: &rng))
            #expect(reports.map(\.violations.count) == [6, 7, 16])
            expectRatios(reports[0], ["input": 2.9026])
            expectRatios(reports[1], ["input": 1.6103])
            expectRatios(reports[2], ["input": 3.116, "weight": 2.4209])
            #expect("\(reports[0])" == "6 violations; worst ratios: input 2.9026")
        }

        /// The worst ratios, to the printed digits (with a little room for BLAS rounding).
        func expectRatios(_ report: WellNormednessReport, _ expected: [String: Double]) {
            #expect(report.worstRatios.map(\.subject).sorted() == expected.keys.sorted())
            for (subject, ratio) in report.worstRatios {
                #expect(Swift.abs(ratio - expected[subject]!) < 2e-4, "\(subject): \(ratio)")
            }
        }
    }
}
