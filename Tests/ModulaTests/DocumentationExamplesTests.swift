import Foundation
import Testing
@testable import Modula

// The code of the DocC articles in Docs.docc, so that the documentation cannot drift from the API.
// Each suite names the article it mirrors; code is copied from the article, with sizes reduced where
// the article uses production sizes (debug builds run kernels far slower than release builds).
// Printed outputs quoted in the articles are checked here too.

/// One suite per article; run them with `swift test --filter DocumentationExamples`.
@Suite("Documentation examples")
struct DocumentationExamplesTests {}

// MARK: - GettingStarted.md

extension DocumentationExamplesTests {
    @Suite("Docs: Getting Started")
    struct GettingStarted {
        @Test("the three ways of writing the MLP build the same network")
        func buildNetwork() throws {
            let mlp = Linear(in: 784, out: 256)
                .then(ReLU())
                .then(Linear(in: 256, out: 256))
                .then(ReLU())
                .then(Linear(in: 256, out: 10))
            #expect("\(mlp)" == """
                Sequential  mass=3 sensitivity=1
                  0: Linear(784→256)  mass=1 sensitivity=1
                  1: ReLU  mass=0 sensitivity=1
                  2: Linear(256→256)  mass=1 sensitivity=1
                  3: ReLU  mass=0 sensitivity=1
                  4: Linear(256→10)  mass=1 sensitivity=1
                """)
            let listed = Sequential {
                Linear(in: 784, out: 256); ReLU()
                Linear(in: 256, out: 256); ReLU()
                Linear(in: 256, out: 10)
            }
            let readyMade = MLP(input: 784, width: 256, output: 10)   // depth 3 by default
            for other in [listed, readyMade] {
                #expect("\(other)" == "\(mlp)")
                #expect(other.weightNames == mlp.weightNames && other.weightShapes == mlp.weightShapes)
            }

            var rng = RandomGenerator(seed: 0)
            let weights: [Tensor<Float>] = mlp.initialize(using: &rng)
            #expect(mlp.weightNames == ["0.weight", "2.weight", "4.weight"])
            #expect(weights[0].shape == [256, 784])
            let x = Tensor<Float>.randomNormal([128, 784], using: &rng)
            let prediction = try mlp(x, weights)
            #expect(prediction.shape == [128, 10])
            #expect(throws: ModuleError.self) { try mlp(Tensor<Float>.zeros([128, 783]), weights) }
        }

        @Test("the hand-written loop and Optimizer.modular produce the same weights")
        func trainingLoops() throws {
            // The article's loops at a reduced size: 784→256→256→10 becomes 32→16→16→4, 1000 steps 40.
            let mlp = Linear(in: 32, out: 16)
                .then(ReLU())
                .then(Linear(in: 16, out: 16))
                .then(ReLU())
                .then(Linear(in: 16, out: 4))
            var rng = RandomGenerator(seed: 0)
            let initial: [Tensor<Float>] = mlp.initialize(using: &rng)
            let x = Tensor<Float>.randomNormal([16, 32], using: &rng)
            let y = Tensor<Float>.randomNormal([16, 4], using: &rng)
            let steps = 40

            var weights = initial
            var losses: [Float] = []
            for step in 0..<steps {
                let (loss, gradients) = try valueWithGradient(at: weights) { w in
                    meanSquaredError(try mlp(x, w), y)
                }
                let update = try mlp.dualize(gradients)                  // modular norm 1
                let rate = Float(0.1 * (1 - Double(step) / Double(steps)))
                for i in weights.indices {
                    weights[i].addScaled(update[i], by: -rate)      // w ← w − η·update
                }
                losses.append(loss.scalar)
            }
            let byHand = weights

            weights = initial
            var optimizer = try Optimizer<Float>.modular(
                module: mlp, learningRate: .linearDecay(0.1, steps: steps))
            for _ in 0..<steps {
                let (_, gradients) = try valueWithGradient(at: weights) { w in
                    meanSquaredError(try mlp(x, w), y)
                }
                try optimizer.update(&weights, gradients: gradients)
            }
            #expect(weights == byHand, "the article says: bit for bit")
            #expect(losses.last! < 0.5 * losses.first!, "losses \(losses.first!) → \(losses.last!)")
        }

        @Test("checkpoints round-trip")
        func checkpoint() throws {
            let mlp = MLP(input: 8, width: 6, output: 3)
            var rng = RandomGenerator(seed: 1)
            let weights: [Tensor<Float>] = mlp.initialize(using: &rng)
            let path = NSTemporaryDirectory() + "docs-mlp-\(UInt32.random(in: 0...UInt32.max)).ckpt"
            defer { try? FileManager.default.removeItem(atPath: path) }
            try Checkpoint.save(weights, of: mlp, to: path)
            let restored: [Tensor<Float>] = try Checkpoint.load(for: mlp, from: path)
            #expect(restored == weights)
        }
    }
}

// MARK: - ModularNorm.md

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
            let gpt = GPT(vocabulary: 65, heads: 4, dimension: 128, queryDimension: 32,
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
            let gpt = GPT(vocabulary: 11, heads: 2, dimension: 16, queryDimension: 8, valueDimension: 8, blocks: 2)
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
            let mlp = MLP(input: 6, width: 8, output: 4)
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

// MARK: - CustomAtoms.md

/// The article's types, in a namespace of their own (the module tests define another `Scale`).
enum CustomAtomsArticle {
    /// y = x ⊙ w, with the ℓ∞ norm on w.
    struct Scale: Atom {
        let width: Int
        var name: String { "Scale(\(width))" }
        var weightShape: [Int] { [width] }

        func apply<S: TensorScalar>(_ x: Tensor<S>, weight w: Tensor<S>) throws -> Tensor<S> {
            try expectLastAxis(x, width)
            return x * w
        }
        func norm<S: TensorScalar>(_ w: Tensor<S>) -> S { w.abs().max() }          // ℓ∞
        func dualize<S: TensorScalar>(_ g: Tensor<S>) -> Tensor<S> { g.sign() }    // its duality map
        func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> Tensor<S> { .ones([width]) }
    }

    /// x·tanh(x), a smooth nonlinearity (not 1-Lipschitz: declare its sensitivity honestly).
    struct TanhGate: UnaryBond {
        var name: String { "TanhGate" }
        var sensitivity: Double { 1.2 }   // its slope stays below 1.2
        func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> { x * x.tanh() }
    }

    struct Softplus: UnaryBond {
        var name: String { "Softplus" }
        var sensitivity: Double { 1 }   // the slope, the logistic function, lies in (0, 1)
        func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
            let v = x.detached                                 // values only: nothing is recorded
            let y = v.relu() + ((-v.abs()).exp() + 1).log()
            return y.withPullback(inputs: [x]) { g in [g * v.sigmoid()] }
        }
    }
}

extension DocumentationExamplesTests {
    @Suite("Docs: Custom Atoms")
    struct CustomAtoms {
        typealias Scale = CustomAtomsArticle.Scale

        @Test("the custom atom composes, prints, dualizes, audits, checkpoints and trains")
        func customAtom() throws {
            let net = Sequential {
                Linear(in: 4, out: 6)
                Scale(width: 6).named("scale")
                ReLU()
                Linear(in: 6, out: 2)
            }
            #expect("\(net)" == """
                Sequential  mass=3 sensitivity=1
                  0: Linear(4→6)  mass=1 sensitivity=1
                  scale: Scale(6)  mass=1 sensitivity=1
                  2: ReLU  mass=0 sensitivity=1
                  3: Linear(6→2)  mass=1 sensitivity=1
                """)
            #expect(net.weightNames == ["0.weight", "scale.weight", "3.weight"])

            var rng = RandomGenerator(seed: 0)
            var weights: [Tensor<Float>] = net.initialize(using: &rng)
            let x = Tensor<Float>.randomNormal([8, 4], using: &rng)
            let y = Tensor<Float>.randomNormal([8, 2], using: &rng)
            let (_, gradients) = try valueWithGradient(at: weights) { w in meanSquaredError(try net(x, w), y) }
            let update = try net.dualize(gradients, targetNorm: 0.5)
            #expect(update[1].scalars.allSatisfy { Swift.abs(Swift.abs($0) - 0.5 / 3) < 1e-6 })
            #expect("\(update[1])" == "Tensor<Float>[6][-0.16666667, 0.16666667, 0.16666667, 0.16666667, 0.16666667, -0.16666667]")

            let report = try Scale(width: 6).auditWellNormedness(inputShapes: [[3, 6]], using: &rng)
            #expect(report.isWellNormed, "\(report)")

            let path = NSTemporaryDirectory() + "docs-net-\(UInt32.random(in: 0...UInt32.max)).ckpt"
            defer { try? FileManager.default.removeItem(atPath: path) }
            try Checkpoint.save(weights, of: net, to: path)
            let restored: [Tensor<Float>] = try Checkpoint.load(for: net, from: path)
            #expect(restored == weights)

            var optimizer = try Optimizer<Float>.modular(module: net, learningRate: .constant(0.1))
            let before = weights
            try optimizer.update(&weights, gradients: gradients)
            #expect(weights != before)

            // Muon sends Scale to AdamW; a group of its own selects it by type.
            let muon = try Optimizer<Float>.muon(module: net)
            #expect(muon.groups[muon.assignment[1]].label == "adamw")
            let custom = try Optimizer<Float>(module: net, groups: [
                ParameterGroup("scale", selects: { _, atom in atom is Scale },
                               rule: .dualized(momentum: .none, layout: .perAtom(scale: 1), norm: .atom, step: .unconstrained),
                               learningRate: .constant(0.01)),
                ParameterGroup("rest", rule: .adamW(beta1: 0.9, beta2: 0.99, epsilon: 1e-8), learningRate: .constant(1e-3)),
            ])
            #expect(custom.assignment == [1, 0, 1])
            #expect(Linear(in: 4, out: 6).then(Bias(6)).weightCount == 2)
        }

        @Test("TanhGate's declared sensitivity passes the audit")
        func tanhGate() throws {
            var rng = RandomGenerator(seed: 5)
            let report = try CustomAtomsArticle.TanhGate().auditWellNormedness(inputShapes: [[16, 8]], using: &rng)
            #expect(report.isWellNormed, "\(report)")
            // And the slope really exceeds 1 somewhere (near x = 1.2), so sensitivity 1 would be wrong.
            let x = Tensor<Double>([1.2])
            let slope = try valueWithGradient(at: x) { try CustomAtomsArticle.TanhGate().apply($0).sum() }.gradient.scalar
            #expect(slope > 1.19 && slope < 1.2)
        }

        @Test("Softplus through withPullback: values, gradient against finite differences, composition")
        func softplus() throws {
            let softplus = CustomAtomsArticle.Softplus()
            var rng = RandomGenerator(seed: 6)
            let x = Tensor<Double>.randomNormal([3, 5], using: &rng) * 4
            let y = try softplus.apply(x)
            for (v, s) in zip(x.scalars, y.scalars) {
                #expect(Swift.abs(s - Foundation.log1p(Foundation.exp(v))) < 1e-12)
            }
            let r = Tensor<Double>.randomNormal([3, 5], using: &rng)
            let (_, g) = try valueWithGradient(at: x) { try (softplus.apply($0) * r).sum() }
            let h = 1e-6
            for k in 0..<x.count {
                var plus = x, minus = x
                plus.withUnsafeMutableBufferPointer { $0[k] += h }
                minus.withUnsafeMutableBufferPointer { $0[k] -= h }
                let fd = (try (softplus.apply(plus) * r).sum().scalar - (try softplus.apply(minus) * r).sum().scalar) / (2 * h)
                #expect(Swift.abs(fd - g.scalars[k]) < 1e-7)
            }
            // Without differentiation the result is returned unchanged (no tape).
            #expect(!y.isRecorded)

            let model = Linear(in: 4, out: 8).then(CustomAtomsArticle.Softplus()).then(Linear(in: 8, out: 2))
            let w: [Tensor<Double>] = model.initialize(using: &rng)
            let input = Tensor<Double>.randomNormal([5, 4], using: &rng)
            let err = try gradientCheck(w + [input]) { all in try model.forward([all[2]], weights: all[0..<2]) }
            #expect(err < 1e-6)
            #expect(try model.auditWellNormedness(inputShapes: [[5, 4]], using: &rng).isWellNormed)
        }
    }
}

// MARK: - MuonAndScion.md

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
            let mlp = MLP(input: 12, width: 16, output: 5)
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
            let mlp = MLP(input: 12, width: 16, output: 5)
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
            let gpt = GPT(vocabulary: 7, heads: 2, dimension: 8, queryDimension: 4, valueDimension: 4, blocks: 1)
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
                           _ selects: @escaping @Sendable (String, any Atom) -> Bool) -> ParameterGroup {
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
            let gpt = GPT(vocabulary: 7, heads: 2, dimension: 8, queryDimension: 4, valueDimension: 4, blocks: 1)
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

// MARK: - Orthogonalizers.md

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
            let mlp = MLP(input: 784, width: 256, output: 10, orthogonalizer: PolarExpress())
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

// MARK: - Tutorials/HelloMNIST.tutorial

extension DocumentationExamplesTests {
    @Suite("Docs: Hello MNIST tutorial")
    struct HelloMNISTTutorial {
        /// The tutorial's training and evaluation code, with random images in place of Fashion-MNIST
        /// (this test target does not link ModulaData) and fewer, smaller steps.
        @Test("the tutorial's model, loop and evaluation")
        func tutorialLoop() throws {
            let featureCount = 784, classCount = 10
            let mlp = MLP(input: featureCount, width: 32, output: classCount, depth: 3)
            var rng = RandomGenerator(seed: 0)
            var weights: [Tensor<Float>] = mlp.initialize(using: &rng)
            var optimizer = try Optimizer<Float>.modular(module: mlp, learningRate: .constant(0.1))
            let pool = Tensor<Float>.randomUniform([64, featureCount], using: &rng)
            let poolLabels = (0..<64).map { _ in rng.nextInt(below: classCount) }

            var losses: [Float] = []
            for _ in 0..<30 {
                let indices = (0..<16).map { _ in rng.nextInt(below: 64) }
                let images = Tensor.concatenate(indices.map { pool.slice(axis: 0, $0..<($0 + 1)) }, alongAxis: 0)
                let labels = indices.map { poolLabels[$0] }
                let targets = oneHot(labels, classes: classCount, as: Float.self)
                let (loss, gradients) = try valueWithGradient(at: weights) { w in
                    meanSquaredError(try mlp(images, w), targets)
                }
                try optimizer.update(&weights, gradients: gradients)
                losses.append(loss.scalar)
            }
            #expect(losses.suffix(5).reduce(0, +) < losses.prefix(5).reduce(0, +))

            var correct = 0
            for (images, labels) in [(pool, poolLabels)] {
                let predicted = try mlp(images, weights).argmax(alongAxis: -1)
                correct += zip(predicted, labels).filter { $0 == $1 }.count
            }
            #expect(correct > 64 / classCount, "memorizing 64 images beats chance: \(correct)/64")
        }
    }
}
