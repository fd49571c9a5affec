import Foundation
import Testing
@testable import Modula

// The code of MuonAndScion.md (see DocumentationExamplesTests.swift).

extension DocumentationExamplesTests {
    @Suite("Docs: Muon and Scion")
    struct MuonAndScion {
        /// A fixed sequence of random gradient lists: the optimizers' arithmetic is checked without a loss.
        func gradientSequence(_ module: any Module, steps: Int, seed: UInt64) -> [[Tensor<Float>]] {
            var rng = RandomGenerator(seed: seed)
            return (0..<steps).map { _ in module.weightShapes.map { Tensor<Float>.randomNormal($0, using: &rng) } }
        }

        func relative(_ a: Tensor<Float>, _ b: Tensor<Float>) -> Float {
            (a - b).frobeniusNormValue / Swift.max(b.frobeniusNormValue, 1e-30)
        }

        @Test("the five-line Muon step equals the preset on hidden matrices")
        func muonSnippet() throws {
            let mlp = Sequential.mlp(input: 12, width: 16, output: 5)
            var rng = RandomGenerator(seed: 10)
            let initial: [Tensor<Float>] = mlp.initialize(using: &rng)
            let grads = gradientSequence(mlp, steps: 5, seed: 11)
            var preset = try Optimizer<Float>.muon(module: mlp)
            var ours = initial
            for g in grads { try preset.update(&ours, gradients: g) }

            for i in [1] {   // 2.weight; 0.weight (the input layer) and 4.weight (the head) go to AdamW
                var w = initial[i]
                var buffer = Tensor<Float>.zeros(w.shape)
                for gs in grads {
                    let g = gs[i]
                    buffer.blend(0.95, g, 0.05)                  // d ← β·d + (1 − β)·g
                    var u = g
                    u.blend(0.05, buffer, 0.95)                  // u = β·d + (1 − β)·g
                    let direction = MatrixNorm.spectralMax.dualize(u, orthogonalizer: MuonNewtonSchulz())
                    w.addScaled(direction, by: -0.02)            // w ← w − η·direction
                }
                #expect(relative(ours[i], w) < 1e-6, "weight \(i)")
            }
        }

        @Test("the Scion one-matrix step equals the constrained preset on hidden matrices")
        func scionSnippet() throws {
            let mlp = Sequential.mlp(input: 12, width: 16, output: 5)
            var rng = RandomGenerator(seed: 12)
            let initial: [Tensor<Float>] = mlp.initialize(using: &rng)
            let grads = gradientSequence(mlp, steps: 5, seed: 13)
            var preset = try Optimizer<Float>.scion(module: mlp, learningRate: .constant(0.01))
            var ours = initial
            for g in grads { try preset.update(&ours, gradients: g) }

            let (alpha, eta, rho): (Float, Float, Float) = (0.1, 0.01, 50)
            for i in [0, 1] {
                var w = initial[i]
                var momentum = Tensor<Float>.zeros(w.shape)
                for gs in grads {
                    let g = gs[i]
                    momentum.blend(1 - alpha, g, alpha)                         // d ← (1 − α)·d + α·g
                    let u = MatrixNorm.spectral.dualize(momentum, orthogonalizer: MuonNewtonSchulz())
                    w.scaleInPlace(by: 1 - eta)                                 // w ← (1 − η)·w − η·ρ·u
                    w.addScaled(u, by: -eta * rho)
                }
                #expect(relative(ours[i], w) < 1e-5, "weight \(i)")
            }
        }

        @Test("the preset code quoted in the article builds the same optimizers as the presets")
        func presetCode() throws {
            let gpt = Sequential.gpt(vocabulary: 7, heads: 2, dimension: 8, queryDimension: 4, valueDimension: 4, blocks: 1)
            var rng = RandomGenerator(seed: 14)
            let initial: [Tensor<Float>] = gpt.initialize(using: &rng)
            let grads = gradientSequence(gpt, steps: 3, seed: 15)

            // Muon, as quoted (with the preset's default arguments).
            func muonAsQuoted(module: any Module) throws -> Optimizer<Float> {
                let (learningRate, momentum, weightDecay): (Schedule, Double, Double) = (.constant(0.02), 0.95, 0)
                let orthogonalizer: any Orthogonalizer = MuonNewtonSchulz()
                let (adamLearningRate, adamBetas, adamEpsilon, adamWeightDecay): (Schedule, (Double, Double), Double, Double) =
                    (.constant(3e-4), (0.9, 0.95), 1e-8, 0)
                let hidden = Set(zip(module.weightNames, module.roles()).filter { $0.1 == .hidden }.map(\.0))
                return try Optimizer(module: module, groups: [
                    ParameterGroup(
                        "muon", selects: { name, atom in hidden.contains(name) && atom is any MatrixAtom && !(atom is Embed) },
                        rule: .dualized(
                            momentum: .nesterov(momentum), layout: .perAtom(scale: 1),
                            norm: .matrix(.spectralMax, orthogonalizer: orthogonalizer), step: .unconstrained),
                        learningRate: learningRate, weightDecay: weightDecay),
                    ParameterGroup(
                        "adamw", rule: .adamW(beta1: adamBetas.0, beta2: adamBetas.1, epsilon: adamEpsilon),
                        learningRate: adamLearningRate, weightDecay: adamWeightDecay),
                ])
            }
            // Scion, as quoted.
            func scionAsQuoted(module: any Module, constrained: Bool) throws -> Optimizer<Float> {
                let learningRate: Schedule = .constant(constrained ? 0.01 : 0.0005)
                let (alpha, hiddenRadius, headRadius, embedRadius): (Double, Double, Double, Double?) = (0.1, 50, 3000, nil)
                let orthogonalizer: any Orthogonalizer = MuonNewtonSchulz()
                let head = module.weightNames.last ?? ""
                func group(_ label: String, _ norm: NormChoice, _ radius: Double,
                           _ selects: @escaping @Sendable (String, any MultiWeightAtom) -> Bool) -> ParameterGroup {
                    ParameterGroup(
                        label, selects: selects,
                        rule: .dualized(
                            momentum: .ema(1 - alpha), layout: .perAtom(scale: constrained ? 1 : radius), norm: norm,
                            step: constrained ? .constrained(radius: radius) : .unconstrained),
                        learningRate: learningRate)
                }
                return try Optimizer(module: module, groups: [
                    group("head", .matrix(.sign, orthogonalizer: orthogonalizer), headRadius) { name, _ in name == head },
                    group("embed", .atom, embedRadius ?? hiddenRadius) { _, atom in atom is Embed },
                    group("hidden", .matrix(.spectral, orthogonalizer: orthogonalizer), hiddenRadius) { _, _ in true },
                ])
            }

            let pairs: [(Optimizer<Float>, Optimizer<Float>)] = [
                (try muonAsQuoted(module: gpt), try Optimizer<Float>.muon(module: gpt)),
                (try scionAsQuoted(module: gpt, constrained: true),
                 try Optimizer<Float>.scion(module: gpt, learningRate: .constant(0.01))),
                (try scionAsQuoted(module: gpt, constrained: false),
                 try Optimizer<Float>.scion(module: gpt, learningRate: .constant(0.0005), constrained: false)),
            ]
            for var (quoted, preset) in pairs {
                #expect(quoted.assignment == preset.assignment)
                var a = initial, b = initial
                for g in grads {
                    try quoted.update(&a, gradients: g)
                    try preset.update(&b, gradients: g)
                }
                #expect(a == b)
            }
        }

        @Test("the modular-layout variant trains a GPT")
        func between() throws {
            let gpt = Sequential.gpt(vocabulary: 7, heads: 2, dimension: 8, queryDimension: 4, valueDimension: 4, blocks: 1)
            var optimizer = try Optimizer<Float>(module: gpt, groups: [
                ParameterGroup(
                    "all",
                    rule: .dualized(momentum: .nesterov(0.95), layout: .modular(targetNorm: 1),
                                    norm: .atom, step: .unconstrained),
                    learningRate: .linearDecay(0.1, steps: 2000)),
            ])
            var rng = RandomGenerator(seed: 16)
            var weights: [Tensor<Float>] = gpt.initialize(using: &rng)
            let ids = Tensor<Float>(shape: [2, 6], scalars: (0..<12).map { _ in Float(rng.nextInt(below: 7)) })
            let labels = (0..<12).map { _ in rng.nextInt(below: 7) }
            func loss(_ w: [Tensor<Float>]) throws -> Tensor<Float> { crossEntropy(logits: try gpt(ids, w), labels: labels) }
            let before = try loss(weights).scalar
            for _ in 0..<20 {
                let (_, g) = try valueWithGradient(at: weights, of: loss)
                try optimizer.update(&weights, gradients: g)
            }
            #expect(try loss(weights).scalar < before)
            // The other snippets of the article construct.
            _ = try Optimizer<Float>.muon(module: gpt)
            _ = try Optimizer<Float>.scion(module: gpt, learningRate: .constant(0.01))
            _ = try Optimizer<Float>.scion(module: gpt, learningRate: .constant(0.0005), constrained: false)
        }
    }
}
