import Testing
@testable import Modula

// K-FAC against a direct implementation: the MLP's forward and backward pass written out by hand (inputs X and
// output gradients D of each layer), the factors A = XᵀX/rows and S = rows·DᵀD averaged, and the update
// (S + √γI)⁻¹·G·(A + √γI)⁻¹ with inverses through LAPACK's SVD (the rule uses the symmetric eigensolver).
@Suite("K-FAC")
struct KFACTests {
    func inverseBySVD(_ a: Tensor<Double>, _ shift: Double) throws -> Tensor<Double> {
        let (u, s, _) = try a.svd()
        let d = Tensor(s.scalars.map { 1 / ($0 + shift) })
        return (u * d.reshaped([1, d.count])).matmul(u, transposeB: true)
    }

    @Test("10 steps on an MLP (Double) give the direct implementation's weights")
    func mlp() throws {
        let mlp = Sequential.mlp(input: 6, width: 8, output: 4, depth: 3)
        var rng = RandomGenerator(seed: 5)
        let start: [Tensor<Double>] = mlp.initialize(using: &rng)
        var data = RandomGenerator(seed: 1)
        let batches = (0..<10).map { _ in
            (Tensor<Double>.randomNormal([5, 6], using: &data), (0..<5).map { _ in data.nextInt(below: 4) })
        }
        let (eta, gamma, beta, interval) = (0.05, 1e-2, 0.9, 3)
        // Through the optimizer, with the factors collected by hooks.
        var ours = start
        var optimizer = try Optimizer<Double>(module: mlp, groups: [
            ParameterGroup("all", rule: .rule(KFACRule(damping: gamma, beta: beta, interval: interval)), learningRate: .constant(eta)),
        ])
        for (x, y) in batches {
            let (_, g, f) = try kfacFactors(module: mlp, weights: ours) { w in crossEntropy(logits: try mlp(x, w), labels: y) }
            #expect(f.allSatisfy { $0 != nil })
            try optimizer.update(&ours, gradients: g, factors: f)
        }
        // Directly.
        var w = start
        var a: [Tensor<Double>?] = [nil, nil, nil], s: [Tensor<Double>?] = [nil, nil, nil]
        var ai: [Tensor<Double>] = [], si: [Tensor<Double>] = []
        for (t, (x, y)) in batches.enumerated() {
            let z1 = x.matmul(w[0], transposeB: true), h1 = z1.relu()
            let z2 = h1.matmul(w[1], transposeB: true), h2 = z2.relu()
            let z3 = h2.matmul(w[2], transposeB: true)
            let rows = Double(x.shape[0])
            let d3 = (z3.softmax() - oneHot(y, classes: 4, as: Double.self)) * (1 / rows)
            let d2 = d3.matmul(w[2]) * z2.sign().relu()
            let d1 = d2.matmul(w[1]) * z1.sign().relu()
            let xs = [x, h1, h2], ds = [d1, d2, d3]
            for l in 0..<3 {
                let aSample = xs[l].matmul(xs[l], transposeA: true) * (1 / rows)
                let sSample = ds[l].matmul(ds[l], transposeA: true) * rows
                a[l] = a[l].map { $0 * beta + aSample * (1 - beta) } ?? aSample
                s[l] = s[l].map { $0 * beta + sSample * (1 - beta) } ?? sSample
            }
            if t % interval == 0 {
                ai = try (0..<3).map { try inverseBySVD(a[$0]!, gamma.squareRoot()) }
                si = try (0..<3).map { try inverseBySVD(s[$0]!, gamma.squareRoot()) }
            }
            for l in 0..<3 {
                let g = ds[l].matmul(xs[l], transposeA: true)  // ∂L/∂W = Dᵀ X
                w[l] = w[l] - si[l].matmul(g).matmul(ai[l]) * eta
            }
        }
        let error = relativeError(ours, w)
        #expect(error < 1e-6, "relative error \(error)")
        #expect(relativeError(ours, start) > 1e-3, "the weights moved")
    }

    @Test("without factors the rule refuses the step, naming the call that provides them")
    func needsFactors() throws {
        let mlp = Sequential.mlp(input: 6, width: 8, output: 4, depth: 3)
        var rng = RandomGenerator(seed: 5)
        var w: [Tensor<Double>] = mlp.initialize(using: &rng)
        var optimizer = try Optimizer<Double>(module: mlp, groups: [
            ParameterGroup("all", rule: .rule(KFACRule()), learningRate: .constant(0.1)),
        ])
        #expect(throws: OptimizerError.needsFactors(group: "all", rule: "kfac", step: 0)) {
            try optimizer.update(&w, gradients: w)
        }
    }
}
