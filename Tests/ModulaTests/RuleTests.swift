import Foundation
import Testing
@testable import Modula

// Every optimizer rule against a direct implementation of its published update, written here on plain arrays of
// Doubles (matrix functions through LAPACK's SVD rather than the eigensolver the rules use): the same weights after
// 10 steps of an MLP, and after one step of a small GPT, to a relative 1e-6 in Double.

/// A direct implementation: one step of the published rule on one weight.
typealias DirectStep = (_ w: inout [Double], _ g: [Double], _ shape: [Int], _ state: inout [String: [Double]],
                        _ t: Int, _ eta: Double, _ context: (fanIn: Int, fanOut: Int), _ network: Double) -> Void

struct RuleCase: CustomTestStringConvertible, Sendable {
    var rule: any OptimizerRule
    var learningRate: Double
    var label: String
    var testDescription: String { label }
}

func norm(_ x: [Double]) -> Double { x.reduce(0) { $0 + $1 * $1 }.squareRoot() }

/// Matrix helpers on row-major arrays, through Tensor<Double>'s BLAS product and LAPACK SVD.
func matrix(_ x: [Double], _ rows: Int) -> Tensor<Double> { Tensor(shape: [rows, x.count / rows], scalars: x) }

/// (A + εI)^{−¼} of a symmetric PSD matrix through its SVD (A = U·S·Uᵀ).
func inverseFourthRootBySVD(_ a: Tensor<Double>, _ epsilon: Double) throws -> Tensor<Double> {
    let (u, s, _) = try a.svd()
    let d = Tensor(s.scalars.map { Double.pow($0 + epsilon, -0.25) })
    return (u * d.reshaped([1, d.count])).matmul(u, transposeB: true)
}

/// Muon's published Newton–Schulz iteration (Jordan et al. 2024), five quintic steps on the wide orientation,
/// normalized by ‖G‖_F without Muon's absolute 1e-7 (the library keeps the iteration scale-invariant).
func newtonSchulz5(_ g: Tensor<Double>) -> Tensor<Double> {
    let tall = g.shape[0] > g.shape[1]
    var x = tall ? g.transposed() : g
    x = x * (1 / x.frobeniusNormValue)
    for _ in 0..<5 {
        let a = x.matmul(x, transposeB: true)
        let b = a * -4.7750 + a.matmul(a) * 2.0315
        x = x * 3.4445 + b.matmul(x)
    }
    return tall ? x.transposed() : x
}

func direct(_ name: String) -> DirectStep {
    switch name {
    case "sgd":  // heavy ball μ 0.9, coupled decay 0.01
        return { w, g, _, s, _, eta, _, _ in
            let gd = zip(g, w).map { $0 + 0.01 * $1 }
            s["v"] = zip(s["v"] ?? g.map { _ in 0 }, gd).map { 0.9 * $0 + $1 }
            for i in w.indices { w[i] -= eta * s["v"]![i] }
        }
    case "sgd-nesterov":
        return { w, g, _, s, _, eta, _, _ in
            s["v"] = zip(s["v"] ?? g.map { _ in 0 }, g).map { 0.9 * $0 + $1 }
            for i in w.indices { w[i] -= eta * (g[i] + 0.9 * s["v"]![i]) }
        }
    case "adamw", "lamb":
        let lamb = name == "lamb"
        return { w, g, _, s, t, eta, _, _ in
            let (b1, b2, eps, lambda) = lamb ? (0.9, 0.999, 1e-6, 0.01) : (0.9, 0.95, 1e-8, 0.1)
            if !lamb { for i in w.indices { w[i] *= 1 - eta * lambda } }
            s["m"] = zip(s["m"] ?? g.map { _ in 0 }, g).map { b1 * $0 + (1 - b1) * $1 }
            s["v"] = zip(s["v"] ?? g.map { _ in 0 }, g).map { b2 * $0 + (1 - b2) * $1 * $1 }
            let c1 = 1 - Double.pow(b1, Double(t + 1)), c2 = 1 - Double.pow(b2, Double(t + 1))
            var r = w.indices.map { i in (s["m"]![i] / c1) / ((s["v"]![i] / c2).squareRoot() + eps) }
            if lamb {
                for i in r.indices { r[i] += lambda * w[i] }
                let ratio = norm(w) > 0 && norm(r) > 0 ? norm(w) / norm(r) : 1
                for i in w.indices { w[i] -= eta * ratio * r[i] }
            } else {
                for i in w.indices { w[i] -= eta * r[i] }
            }
        }
    case "adopt":
        return { w, g, _, s, t, eta, _, _ in
            guard let v = s["v"] else { s["v"] = g.map { $0 * $0 }; return }
            for i in w.indices { w[i] *= 1 - eta * 0.01 }
            let clip = Double.pow(Double(t), 0.25)
            let n = w.indices.map { i in Swift.min(Swift.max(g[i] / Swift.max(v[i].squareRoot(), 1e-6), -clip), clip) }
            s["m"] = zip(s["m"] ?? g.map { _ in 0 }, n).map { 0.9 * $0 + 0.1 * $1 }
            for i in w.indices { w[i] -= eta * s["m"]![i] }
            s["v"] = zip(v, g).map { 0.9999 * $0 + 0.0001 * $1 * $1 }
        }
    case "sophia":  // the curvature sample arrives in s["sample"] with the batch size in s["B"]
        return { w, g, _, s, _, eta, _, _ in
            s["m"] = zip(s["m"] ?? g.map { _ in 0 }, g).map { 0.965 * $0 + 0.035 * $1 }
            if let sample = s.removeValue(forKey: "sample") {
                let b = s["B"]![0]
                s["h"] = zip(s["h"] ?? g.map { _ in 0 }, sample).map { 0.99 * $0 + 0.01 * b * $1 * $1 }
            }
            let h = s["h"] ?? g.map { _ in 0 }
            for i in w.indices {
                w[i] *= 1 - eta * 0.1
                let m = s["m"]![i]
                w[i] -= eta * (m < 0 ? -1 : m > 0 ? 1 : 0) * Swift.min(Swift.abs(m) / (0.04 * h[i] + 1e-15), 1)
            }
        }
    case "shampoo":  // ε 1e-4, roots refreshed every 3 steps
        return { w, g, shape, s, t, eta, _, _ in
            let rows = shape.count == 1 ? 1 : shape[0]
            let gm = matrix(g, rows)
            let (m, n) = (gm.shape[0], gm.shape[1])
            s["L"] = zip(s["L"] ?? Array(repeating: 0, count: m * m), gm.matmul(gm, transposeB: true).scalars).map(+)
            s["R"] = zip(s["R"] ?? Array(repeating: 0, count: n * n), gm.matmul(gm, transposeA: true).scalars).map(+)
            if t % 3 == 0 {
                s["Lr"] = try! inverseFourthRootBySVD(matrix(s["L"]!, m), 1e-4).scalars
                s["Rr"] = try! inverseFourthRootBySVD(matrix(s["R"]!, n), 1e-4).scalars
            }
            let d = matrix(s["Lr"]!, m).matmul(gm).matmul(matrix(s["Rr"]!, n)).scalars
            for i in w.indices { w[i] -= eta * d[i] }
        }
    case "fromage":
        return { w, g, _, _, _, eta, _, _ in
            let ratio = norm(w) / norm(g)
            for i in w.indices { w[i] = (w[i] - eta * ratio * g[i]) / (1 + eta * eta).squareRoot() }
        }
    case "lars":  // ζ 0.02, μ 0.9, λ 0.001
        return { w, g, _, s, _, eta, _, _ in
            let local = eta * 0.02 * norm(w) / (norm(g) + 0.001 * norm(w))
            s["v"] = w.indices.map { i in 0.9 * (s["v"]?[i] ?? 0) + local * (g[i] + 0.001 * w[i]) }
            for i in w.indices { w[i] -= s["v"]![i] }
        }
    case "agd":  // `network` is Σ‖∇W‖·√(out/in)/L and L, packed by the harness
        return { w, g, _, _, _, _, fans, network in
            let eta = Foundation.log((1 + (1 + 4 * network).squareRoot()) / 2)
            let scale = (Double(fans.fanOut) / Double(fans.fanIn)).squareRoot()
            let layers = 3.0
            for i in w.indices { w[i] -= eta / layers * scale * g[i] / norm(g) }
        }
    case "muon":
        return { w, g, shape, s, _, eta, _, _ in
            s["buf"] = zip(s["buf"] ?? g.map { _ in 0 }, g).map { 0.95 * $0 + 0.05 * $1 }
            let u = zip(g, s["buf"]!).map { 0.05 * $0 + 0.95 * $1 }
            let rows = shape.count == 1 ? shape[0] : shape[0]
            let o = newtonSchulz5(matrix(u, rows))
            let scale = Swift.max(1, Double(o.shape[0]) / Double(o.shape[1])).squareRoot()
            for i in w.indices { w[i] = w[i] * (1 - eta * 0.01) - eta * scale * o.scalars[i] }
        }
    default:
        fatalError("no direct implementation for \(name)")
    }
}

let ruleCases: [RuleCase] = [
    RuleCase(rule: SGDRule(momentum: 0.9, weightDecay: 0.01), learningRate: 0.05, label: "sgd"),
    RuleCase(rule: SGDRule(momentum: 0.9, nesterov: true), learningRate: 0.05, label: "sgd-nesterov"),
    RuleCase(rule: AdamWRule(beta1: 0.9, beta2: 0.95, weightDecay: 0.1), learningRate: 0.01, label: "adamw"),
    RuleCase(rule: ADOPTRule(weightDecay: 0.01), learningRate: 0.01, label: "adopt"),
    RuleCase(rule: LAMBRule(), learningRate: 0.01, label: "lamb"),
    RuleCase(rule: SophiaRule(weightDecay: 0.1, interval: 3), learningRate: 0.01, label: "sophia"),
    RuleCase(rule: ShampooRule(epsilon: 1e-4, interval: 3), learningRate: 0.01, label: "shampoo"),
    RuleCase(rule: FromageRule(), learningRate: 0.01, label: "fromage"),
    RuleCase(rule: LARSRule(trust: 0.02, momentum: 0.9, weightDecay: 0.001), learningRate: 0.5, label: "lars"),
    RuleCase(rule: AGDRule(), learningRate: 1, label: "agd"),
    RuleCase(rule: MuonRule(weightDecay: 0.01), learningRate: 0.02, label: "muon"),
]

/// Trains with the rule through ``Optimizer`` and with the direct implementation, from the same weights on the
/// same batches; returns the relative distance of the final weights.
func compareWithDirect(
    _ c: RuleCase, module: any Module, steps: Int, batch: (Int) -> (input: Tensor<Double>, labels: [Int])
) throws -> Double {
    var rng = RandomGenerator(seed: 5)
    let start: [Tensor<Double>] = module.initialize(using: &rng)
    func loss(_ w: [Tensor<Double>], _ x: Tensor<Double>, _ labels: [Int]) throws -> Tensor<Double> {
        crossEntropy(logits: try module(x, w), labels: labels)
    }
    // Through the optimizer.
    var ours = start
    var optimizer = try Optimizer<Double>(module: module, groups: [
        ParameterGroup("all", rule: .rule(c.rule), learningRate: .constant(c.learningRate)),
    ])
    var curvatureRNG = RandomGenerator(seed: 9)
    for t in 0..<steps {
        let (x, labels) = batch(t)
        let (_, g) = try valueWithGradient(at: ours) { w in try loss(w, x, labels) }
        if optimizer.needsCurvature {
            let (sample, b) = try sophiaCurvatureGradients(module: module, weights: ours, input: x, using: &curvatureRNG)
            try optimizer.update(&ours, gradients: g, curvature: sample, curvatureBatchSize: b)
        } else {
            try optimizer.update(&ours, gradients: g)
        }
    }
    // Directly.
    let step = direct(c.label)
    var theirs = start.map(\.scalars)
    let shapes = module.weightShapes
    let fans = module.weightFans
    var states = Array(repeating: [String: [Double]](), count: start.count)
    curvatureRNG = RandomGenerator(seed: 9)
    for t in 0..<steps {
        let (x, labels) = batch(t)
        let w = zip(theirs, shapes).map { Tensor(shape: $1, scalars: $0) }
        let (_, g) = try valueWithGradient(at: w) { w in try loss(w, x, labels) }
        if c.label == "sophia" && t % 3 == 0 {
            let (sample, b) = try sophiaCurvatureGradients(module: module, weights: w, input: x, using: &curvatureRNG)
            for i in states.indices { states[i]["sample"] = sample[i].scalars; states[i]["B"] = [Double(b)] }
        }
        let network = zip(g, fans).reduce(0.0) { $0 + $1.0.frobeniusNormValue * (Double($1.1.fanOut) / Double($1.1.fanIn)).squareRoot() }
            / Double(g.count)
        for i in theirs.indices {
            step(&theirs[i], g[i].scalars, shapes[i], &states[i], t, c.learningRate, fans[i], network)
        }
    }
    return relativeError(ours, zip(theirs, shapes).map { Tensor(shape: $1, scalars: $0) })
}

@Suite("Optimizer rules against their published updates")
struct RuleTests {
    @Test("10 steps on an MLP (Double) give the direct implementation's weights", arguments: ruleCases)
    func mlp(_ c: RuleCase) throws {
        let mlp = Sequential.mlp(input: 6, width: 8, output: 4, depth: 3)
        var data = RandomGenerator(seed: 1)
        let batches = (0..<10).map { _ in
            (Tensor<Double>.randomNormal([5, 6], using: &data), (0..<5).map { _ in data.nextInt(below: 4) })
        }
        let error = try compareWithDirect(c, module: mlp, steps: 10) { batches[$0] }
        #expect(error < 1e-6, "\(c.label): relative error \(error)")
    }

    @Test("one step on a small GPT (Double) gives the direct implementation's weights",
          arguments: ruleCases.filter { $0.label != "agd" })  // AGD's rule is stated for MLPs
    func gpt(_ c: RuleCase) throws {
        let gpt = Sequential.gpt(vocabulary: 7, heads: 2, dimension: 8, queryDimension: 4, valueDimension: 4, blocks: 2)
        var data = RandomGenerator(seed: 2)
        let ids = Tensor<Double>(shape: [2, 5], scalars: (0..<10).map { _ in Double(data.nextInt(below: 7)) })
        let labels = (0..<10).map { _ in data.nextInt(below: 7) }
        // Two steps for ADOPT, whose first step only records v₀.
        let error = try compareWithDirect(c, module: gpt, steps: c.label == "adopt" ? 2 : 1) { _ in (ids, labels) }
        #expect(error < 1e-6, "\(c.label): relative error \(error)")
    }

    @Test("roles: the first matrix atom is the input layer, the last the output layer, vectors input-like")
    func roles() {
        let mlp = Sequential.mlp(input: 6, width: 8, output: 4, depth: 3)
        #expect(mlp.roles() == [.input, .hidden, .output])
        #expect(mlp.roles(overrides: ["2.weight": .output]) == [.input, .output, .output])
        #expect(mlp.roles(overrides: ["0.weight": .hidden]) == [.hidden, .hidden, .output])
        let gpt = Sequential.gpt(vocabulary: 7, heads: 2, dimension: 8, queryDimension: 4, valueDimension: 4, blocks: 1)
        let r = gpt.roles()
        #expect(r.first == .input && r.last == .output && r.dropFirst().dropLast().allSatisfy { $0 == .hidden })
        #expect(Linear(in: 3, out: 4).roles() == [.hidden])
        let biased = Sequential { Linear(in: 3, out: 4); Bias(4); Linear(in: 4, out: 2) }
        #expect(biased.roles() == [.input, .input, .output])
    }

    @Test("a rule that needs curvature refuses a step without it, naming the rule and the step")
    func curvatureRequired() throws {
        let mlp = Sequential.mlp(input: 6, width: 8, output: 4, depth: 3)
        var rng = RandomGenerator(seed: 3)
        var w: [Tensor<Double>] = mlp.initialize(using: &rng)
        var optimizer = try Optimizer<Double>(module: mlp, groups: [
            ParameterGroup("all", rule: .rule(SophiaRule()), learningRate: .constant(0.01)),
        ])
        #expect(optimizer.needsCurvature)
        let g = w.map { Tensor<Double>.ones($0.shape) }
        #expect(throws: OptimizerError.needsCurvature(group: "all", rule: "sophia", step: 0)) {
            try optimizer.update(&w, gradients: g)
        }
    }
}

@Suite("Roles in the tree")
struct RoleTreeTests {
    @Test("the tree marks each atom with its role")
    func printed() {
        let mlp = Sequential.mlp(input: 6, width: 8, output: 4, depth: 3)
        let lines = mlp.treeWithRoles().split(separator: "\n")
        let marked = lines.filter { $0.contains("role=") }
        #expect(marked.count == 3)
        #expect(marked[0].contains("Linear(6→8)") && marked[0].hasSuffix("role=input"))
        #expect(marked[1].hasSuffix("role=hidden") && marked[2].hasSuffix("role=output"))
        #expect(mlp.treeWithRoles(overrides: ["0.weight": .hidden]).split(separator: "\n").first { $0.contains("role=") }!.hasSuffix("role=hidden"))
        let gpt = Sequential.gpt(vocabulary: 7, heads: 2, dimension: 8, queryDimension: 4, valueDimension: 4, blocks: 1)
        #expect(gpt.treeWithRoles().split(separator: "\n").filter { $0.contains("role=") }.count == gpt.weightCount)
    }
}
