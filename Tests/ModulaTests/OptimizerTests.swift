import Foundation
import Testing
@testable import Modula

/// A loss on a small batch, for optimizer trajectories.
private struct Problem {
    let module: any Module
    let x: Tensor<Double>
    let labels: [Int]

    func gradients(_ w: [Tensor<Double>]) throws -> [Tensor<Double>] {
        try valueWithGradient(at: w) { w in
            let out = try module.forward([x], weights: w[...])[0]
            return crossEntropy(logits: out, labels: labels)
        }.gradients
    }
    func loss(_ w: [Tensor<Double>]) throws -> Double {
        crossEntropy(logits: try module.forward([x], weights: w[...])[0], labels: labels).scalar
    }
}

private func mlpProblem(_ rng: inout RandomGenerator) -> Problem {
    Problem(module: Sequential.mlp(input: 6, width: 8, output: 4, depth: 3),
            x: Tensor<Double>.randomNormal([16, 6], using: &rng),
            labels: (0..<16).map { _ in rng.nextInt(below: 4) })
}

private func gptProblem(_ rng: inout RandomGenerator) -> Problem {
    let ids = (0..<12).map { _ in Double(rng.nextInt(below: 7)) }
    return Problem(module: Sequential.gpt(vocabulary: 7, heads: 2, dimension: 8, queryDimension: 4, valueDimension: 4, blocks: 2),
                   x: Tensor(shape: [2, 6], scalars: ids),
                   labels: (0..<12).map { _ in rng.nextInt(below: 7) })
}

/// Muon as published (Jordan et al. 2024), written from the formulas with plain tensor code.
private func directMuon(_ p: Problem, _ w0: [Tensor<Double>], steps: Int, lr: Double, adamLR: Double, wd: Double) throws -> [Tensor<Double>] {
    var w = w0
    let roles = p.module.roles()
    var buf = w.map { Tensor<Double>.zeros($0.shape) }, m = buf, v = buf
    let (beta, b1, b2, eps) = (0.95, 0.9, 0.95, 1e-8)
    for t in 1...steps {
        let g = try p.gradients(w)
        for i in w.indices {
            if roles[i] == .hidden {  // Muon's authors: hidden matrices only
                buf[i] = buf[i] * beta + g[i] * (1 - beta)                // buf.lerp_(g, 1 − β)
                let u = g[i] * (1 - beta) + buf[i] * beta                 // g.lerp_(buf, β)
                let scale = Swift.max(1, Double(w[i].shape[0]) / Double(w[i].shape[1])).squareRoot()
                w[i] = w[i] * (1 - lr * wd) - MuonNewtonSchulz().orthogonalize(u) * (lr * scale)
            } else {
                m[i] = m[i] * b1 + g[i] * (1 - b1)
                v[i] = v[i] * b2 + g[i].squared() * (1 - b2)
                let mh = m[i] / (1 - pow(b1, Double(t))), vh = v[i] / (1 - pow(b2, Double(t)))
                w[i] = w[i] - (mh / (vh.sqrt() + eps)) * adamLR
            }
        }
    }
    return w
}

/// Scion as published (Pethick et al. 2025), written from the formulas: d ← (1−α)d + αg and
/// w ← (1−η)w + η·lmo(d) with lmo = −ρ·(norm's duality map).
private func directScion(_ p: Problem, _ w0: [Tensor<Double>], steps: Int, lr: Double, alpha: Double,
                         rhoHidden: Double, rhoHead: Double, constrained: Bool) throws -> [Tensor<Double>] {
    var w = w0
    let names = p.module.weightNames, atoms = p.module.atoms.map(\.atom)
    var d = w.map { Tensor<Double>.zeros($0.shape) }
    for _ in 0..<steps {
        let g = try p.gradients(w)
        for i in w.indices {
            d[i] = d[i] * (1 - alpha) + g[i] * alpha
            let (out, inn) = (d[i].shape[0], d[i].shape[1])
            let lmo: Tensor<Double>
            if names[i] == names.last! {
                lmo = d[i].sign() * (-rhoHead / Double(inn))                       // Sign, normalized
            } else if atoms[i] is Embed {
                let norms = d[i].squared().sum(alongAxis: 1, keepingDimensions: true).sqrt()
                lmo = d[i] / norms * (-rhoHidden * Double(inn).squareRoot())      // each embedding vector to √d
            } else {
                lmo = MuonNewtonSchulz().orthogonalize(d[i]) * (-rhoHidden * (Double(out) / Double(inn)).squareRoot())
            }
            w[i] = constrained ? w[i] * (1 - lr) + lmo * lr : w[i] + lmo * lr
        }
    }
    return w
}

private func run(_ opt: inout Optimizer<Double>, _ p: Problem, _ w0: [Tensor<Double>], steps: Int) throws -> [Tensor<Double>] {
    var w = w0
    for _ in 0..<steps { try opt.update(&w, gradients: try p.gradients(w)) }
    return w
}

@Suite("Optimizers")
struct OptimizerTests {
    @Test("Muon preset equals the published update rule after 10 steps (MLP and GPT)")
    func muonEquivalence() throws {
        var rng = RandomGenerator(seed: 40)
        for p in [mlpProblem(&rng), gptProblem(&rng)] {
            let w0: [Tensor<Double>] = p.module.initialize(using: &rng)
            var opt = try Optimizer<Double>.muon(module: p.module, learningRate: .constant(0.02), weightDecay: 0.1,
                                                 adamLearningRate: .constant(3e-3))
            let ours = try run(&opt, p, w0, steps: 10)
            let theirs = try directMuon(p, w0, steps: 10, lr: 0.02, adamLR: 3e-3, wd: 0.1)
            #expect(relativeError(ours, theirs) < 1e-5)
            #expect(relativeError(ours, w0) > 1e-3, "the weights moved")
        }
    }

    @Test("Scion preset equals the published update rule after 10 steps (constrained and not)")
    func scionEquivalence() throws {
        var rng = RandomGenerator(seed: 41)
        for p in [mlpProblem(&rng), gptProblem(&rng)] {
            for constrained in [true, false] {
                let w0: [Tensor<Double>] = p.module.initialize(using: &rng)
                let lr = constrained ? 0.01 : 0.0005
                var opt = try Optimizer<Double>.scion(module: p.module, learningRate: .constant(lr), alpha: 0.1,
                                                      constrained: constrained, hiddenRadius: 50, headRadius: 3000)
                let ours = try run(&opt, p, w0, steps: 10)
                let theirs = try directScion(p, w0, steps: 10, lr: lr, alpha: 0.1, rhoHidden: 50, rhoHead: 3000,
                                             constrained: constrained)
                #expect(relativeError(ours, theirs) < 1e-5)
            }
        }
    }

    @Test("the modular optimizer takes steps of modular norm η and lowers the loss")
    func modularStep() throws {
        var rng = RandomGenerator(seed: 42)
        let p = mlpProblem(&rng)
        let w0: [Tensor<Double>] = p.module.initialize(using: &rng)
        var opt = try Optimizer<Double>.modular(module: p.module, learningRate: .constant(0.05))
        var w = w0
        try opt.update(&w, gradients: try p.gradients(w))
        let delta = zip(w, w0).map { $0 - $1 }
        // With the default six-step orthogonalizer the norm is within its σ range of the target.
        #expect(Swift.abs(p.module.norm(delta) - 0.05) < 0.05 * 0.35)
        let before = try p.loss(w0)
        for _ in 0..<30 { try opt.update(&w, gradients: try p.gradients(w)) }
        #expect(try p.loss(w) < before * 0.7)
    }

    @Test("optimizer state saves and restores exactly")
    func stateRoundTrip() throws {
        var rng = RandomGenerator(seed: 43)
        let p = mlpProblem(&rng)
        let w0: [Tensor<Double>] = p.module.initialize(using: &rng)
        var a = try Optimizer<Double>.muon(module: p.module)
        var w = try run(&a, p, w0, steps: 3)
        let data = try JSONEncoder().encode(a.state)
        var b = try Optimizer<Double>.muon(module: p.module)
        b.state = try JSONDecoder().decode(OptimizerState<Double>.self, from: data)
        #expect(b.state == a.state)
        var w2 = w
        try a.update(&w, gradients: try p.gradients(w))
        try b.update(&w2, gradients: try p.gradients(w2))
        #expect(w == w2)
    }

    @Test("schedules")
    func schedules() {
        #expect(Schedule.linearDecay(0.1, steps: 1000).rate(at: 500) == 0.05)
        #expect(Schedule.linearDecay(0.1, steps: 1000).rate(at: 2000) == 0)
        #expect(Swift.abs(Schedule.cosine(1, steps: 10).rate(at: 5) - 0.5) < 1e-12)
        let w = Schedule.warmup(steps: 4, then: .constant(2))
        #expect(w.rate(at: 0) == 0.5 && w.rate(at: 3) == 2 && w.rate(at: 10) == 2)
    }

    @Test("bad gradients are refused with a message naming the weight")
    func badGradients() throws {
        let mlp = Sequential.mlp(input: 3, width: 4, output: 2)
        var rng = RandomGenerator(seed: 44)
        var w: [Tensor<Double>] = mlp.initialize(using: &rng)
        var opt = try Optimizer<Double>.modular(module: mlp, learningRate: .constant(0.1))
        var g = w.map { Tensor<Double>.zeros($0.shape) }
        g[1] = Tensor(repeating: .nan, shape: g[1].shape)
        #expect(throws: OptimizerError.nonFinite(step: 0, source: .gradient(weight: "2.weight"))) { try opt.update(&w, gradients: g) }
        #expect(throws: OptimizerError.self) { try opt.update(&w, gradients: Array(g.dropLast())) }
        #expect(opt.state.step == 0)
    }
}

@Suite("Diagnostics")
struct DiagnosticsTests {
    @Test("per-weight report: norms in the atoms' norms, stable ranks, orthogonality of dualized updates")
    func report() throws {
        var rng = RandomGenerator(seed: 45)
        let mlp = Sequential.mlp(input: 12, width: 16, output: 4, orthogonalizer: exact)
        let w: [Tensor<Double>] = mlp.initialize(using: &rng)
        let x = Tensor<Double>.randomNormal([32, 12], using: &rng)
        let labels = (0..<32).map { _ in rng.nextInt(below: 4) }
        let g = try valueWithGradient(at: w) { w in crossEntropy(logits: try mlp(x, w), labels: labels) }.gradients
        var after = w
        var opt = try Optimizer<Double>.modular(module: mlp, learningRate: .constant(0.3))
        try opt.update(&after, gradients: g)
        let report = mlp.diagnostics(before: w, after: after, gradients: g)
        #expect(report.map(\.name) == mlp.weightNames)
        for r in report {
            #expect(relativeError(r.updateNorm, 0.1) < 1e-6, "\(r)")        // 0.3 × target 1/3 per atom
            // The head's gradient has rank classes − 1 (softmax − one-hot rows sum to zero), so its
            // update is a partial isometry: one singular value is 0, which the error reports as 1/√4.
            let expected = r.name == mlp.weightNames.last! ? 0.5 : 0
            #expect(Swift.abs(r.orthogonalityError! - expected) < 1e-6, "\(r)")
            let exactSigma = try g[report.firstIndex { $0.name == r.name }!].spectralNorm()
            #expect(relativeError(r.gradientSpectralNorm!, exactSigma) < 1e-3)
        }
        #expect(report[1].updateStableRank! > 4 * report[1].gradientStableRank!)
    }

    @Test("with Newton–Schulz, norm(dualize(g)) stays inside the orthogonalizer's singular-value range")
    func approximateDualize() throws {
        var rng = RandomGenerator(seed: 46)
        for orth in [SixStepNewtonSchulz() as any Orthogonalizer, MuonNewtonSchulz(), PolarExpress()] {
            let net = Sequential.mlp(input: 24, width: 32, output: 8, orthogonalizer: orth)
            let g = randomLike(net.weightShapes, &rng)
            let norm: Double = net.norm(try net.dualize(g))
            let d = try orth.diagnostics(for: g[1])
            // The modular norm is the largest atom norm, so it lies within the achieved σ range.
            #expect(norm >= Double(d.minSingularValue) * 0.999 && norm <= Double(d.maxSingularValue) * 1.15, "\(orth.name): \(norm) vs \(d)")
            #expect(norm > 0.6 && norm < 1.3, "\(orth.name): \(norm)")
        }
    }
}

@Suite("Optimizer rules")
struct OptimizerRuleTests {
    @Test("true steepest descent: Δw = −η·‖g‖†·dualize(g) in the modular norm")
    func steepest() throws {
        var rng = RandomGenerator(seed: 47)
        let mlp = Sequential.mlp(input: 5, width: 6, output: 3, orthogonalizer: exact)
        var w: [Tensor<Double>] = mlp.initialize(using: &rng)
        let w0 = w
        let g = randomLike(mlp.weightShapes, &rng)
        var opt = try Optimizer<Double>(module: mlp, groups: [
            ParameterGroup("all", rule: .dualized(momentum: .none, layout: .modular(targetNorm: 1), norm: .atom, step: .steepest),
                           learningRate: .constant(0.01)),
        ])
        try opt.update(&w, gradients: g)
        let expected = zip(w0, try mlp.dualize(g)).map { $0 - $1 * (0.01 * mlp.dualNorm(g)) }
        #expect(relativeError(w, expected) < 1e-12)
    }

    @Test("two modular groups each dualize their own directions")
    func twoModularGroups() throws {
        var rng = RandomGenerator(seed: 48)
        let mlp = Sequential.mlp(input: 5, width: 6, output: 3, orthogonalizer: exact)
        var w: [Tensor<Double>] = mlp.initialize(using: &rng)
        let w0 = w
        let g = randomLike(mlp.weightShapes, &rng)
        let rule = UpdateRule.dualized(momentum: .none, layout: .modular(targetNorm: 1), norm: .atom, step: .unconstrained)
        var opt = try Optimizer<Double>(module: mlp, groups: [
            ParameterGroup("first", selects: { name, _ in name == "0.weight" }, rule: rule, learningRate: .constant(1)),
            ParameterGroup("rest", rule: rule, learningRate: .constant(1)),
        ])
        try opt.update(&w, gradients: g)
        // Each group's share equals dualizing the network with the other group's gradient zeroed.
        var onlyFirst = g.map { Tensor<Double>.zeros($0.shape) }
        onlyFirst[0] = g[0]
        let d1 = try mlp.dualize(onlyFirst)
        #expect(relativeError([w0[0] - w[0]], [d1[0]]) < 1e-12)
        var onlyRest = g
        onlyRest[0] = .zeros(g[0].shape)
        let d2 = try mlp.dualize(onlyRest)
        #expect(relativeError([w0[2] - w[2]], [d2[2]]) < 1e-12)
    }
}

@Suite("Optimizer configuration")
struct OptimizerConfigurationTests {
    @Test("a modular layout with a matrix norm is refused; the head defaults to the last Linear")
    func configuration() throws {
        let net = Sequential([Linear(in: 3, out: 4), ReLU(), Linear(in: 4, out: 2).named("head"), Bias(2).named("bias")])
        #expect(throws: OptimizerError.self) {
            try Optimizer<Float>(module: net, groups: [
                ParameterGroup("x", rule: .dualized(momentum: .none, layout: .modular(targetNorm: 1),
                                                    norm: .matrix(.sign, orthogonalizer: SVDOrthogonalizer()), step: .unconstrained),
                               learningRate: .constant(0.1)),
            ])
        }
        let muon = try Optimizer<Float>.muon(module: net)
        // 0.weight is the input layer, head.weight the output layer, bias.weight a vector: all AdamW …
        #expect(muon.assignment == [1, 1, 1])
        // … unless the first layer is declared hidden.
        #expect(try Optimizer<Float>.muon(module: net, roles: ["0.weight": .hidden]).assignment == [0, 1, 1])
        let scion = try Optimizer<Float>.scion(module: net, learningRate: .constant(0.1))
        #expect(scion.groups[scion.assignment[1]].label == "head")
    }

    @Test("a tared subtree prints its masses as tared")
    func taredPrinting() {
        let gpt = Sequential.gpt(vocabulary: 7, heads: 2, dimension: 8, queryDimension: 4, valueDimension: 4, blocks: 2)
        let text = "\(gpt)"
        #expect(text.contains("blocks: Tared  mass=5 "))
        #expect(text.contains("0: Sequential  mass=2.5 ") && text.contains("query: Linear(8→8)  mass=0.4167 "))
    }
}
