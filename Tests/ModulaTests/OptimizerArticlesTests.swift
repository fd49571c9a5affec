import Testing
@testable import Modula

// The code of the "Optimizers" and "Parametrizations" articles, compiled and checked.
@Suite("Docs: Optimizers and Parametrizations")
struct OptimizerArticlesTests {
    struct SignDescent: OptimizerRule {
        var name: String { "sign" }
        func update<S: TensorScalar>(_ w: inout Tensor<S>, gradient g: Tensor<S>, state: inout RuleState<S>,
                                     context: WeightContext) {
            w.addScaled(g.sign(), by: S(-context.learningRate))
            state["steps", default: .zeros([])] += Tensor(S(1))
        }
    }

    @Test("a user's own rule is one small type, and its state is kept per weight")
    func ownRule() throws {
        let mlp = Sequential.mlp(input: 6, width: 8, output: 3)
        var rng = RandomGenerator(seed: 1)
        var w: [Tensor<Float>] = mlp.initialize(using: &rng)
        var optimizer = try Optimizer<Float>(module: mlp, groups: [
            ParameterGroup("all", rule: .rule(SignDescent()), learningRate: .constant(0.01)),
        ])
        let g = mlp.weightShapes.map { Tensor<Float>.randomNormal($0, using: &rng) }
        let before = w
        for _ in 0..<3 { try optimizer.update(&w, gradients: g) }
        for i in w.indices {
            #expect(((before[i] - w[i]) - g[i].sign() * 0.03).frobeniusNormValue < 1e-5)
            #expect(optimizer.state.rules[i]["steps"]?.scalar == 3)
        }
    }

    @Test("the AdamW snippet and the μP report as printed")
    func muPReport() throws {
        let base = Sequential.mlp(input: 784, width: 64, output: 10)
        let wide = Sequential.mlp(input: 784, width: 1024, output: 10)
        let mup = Parametrization.muP(base: base)
        var rng = RandomGenerator(seed: 0)
        let weights: [Tensor<Float>] = try mup.initialize(wide, using: &rng)
        #expect(weights.map(\.shape) == wide.weightShapes)
        let optimizer = try Optimizer<Float>(module: wide, groups: [
            ParameterGroup("all", rule: .rule(AdamWRule()), learningRate: .constant(3e-3)),
        ], parametrization: mup)
        #expect(optimizer.report() == """
            parametrization muP
            0.weight: input, fan-in 784, fan-out 1024, adamw, init σ 1.0, lr ×1.0, ε ×0.0625, decay ×1.0
            2.weight: hidden, fan-in 1024, fan-out 1024, adamw, init σ 0.03125, lr ×0.0625, ε ×0.0625, decay ×16.0
            4.weight: output, fan-in 1024, fan-out 10, adamw, init σ 0.0009765625, lr ×0.0625, ε ×1.0, decay ×16.0
            """, "\(optimizer.report())")
        let adam = try Optimizer<Float>(module: Sequential.mlp(input: 784, width: 256, output: 10), groups: [
            ParameterGroup("all", rule: .rule(AdamWRule(beta2: 0.95, weightDecay: 0.1)), learningRate: .constant(1e-3)),
        ])
        #expect(adam.scalings.allSatisfy { $0.learningRate == 1 })
    }
}
