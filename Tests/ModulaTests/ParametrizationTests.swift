import Testing
@testable import Modula

@Suite("Parametrizations (standard, μP, modular)")
struct ParametrizationTests {
    let mlp = Sequential.mlp(input: 784, width: 256, output: 10, depth: 3)
    let base = Sequential.mlp(input: 784, width: 64, output: 10, depth: 3)

    func scalings(_ rule: any OptimizerRule, _ module: any Module, base: any Module) throws -> [WeightScaling] {
        try Parametrization.muP(base: base).scalings(
            of: module, rules: Array(repeating: rule, count: module.weightCount), roles: module.roles())
    }

    @Test("μP multipliers of a 4× wider MLP follow the table: input, hidden, output")
    func mlpTable() throws {
        let adam = try scalings(AdamWRule(), mlp, base: base)
        #expect(adam.map(\.learningRate) == [1, 0.25, 0.25])
        #expect(adam.map(\.epsilon) == [0.25, 0.25, 1])
        #expect(adam.map(\.weightDecay) == [1, 4, 4])
        #expect(try scalings(SGDRule(), mlp, base: base).map(\.learningRate) == [4, 1, 0.25])
        #expect(try scalings(ShampooRule(), mlp, base: base).map(\.learningRate) == [2, 1, 0.5])
        for rule in [LAMBRule(), MuonRule(), FromageRule(), LARSRule(), AGDRule()] as [any OptimizerRule] {
            #expect(try scalings(rule, mlp, base: base).map(\.learningRate) == [1, 1, 1], "\(rule.name)")
        }
        // σ = (1/√fan_in)·min(1, √(fan_out/fan_in)) with fan_in := 1 (input) and fan_out := 1 (output).
        #expect(adam.map(\.initialStandardDeviation) == [1, 1.0 / 16, 1.0 / 256])
        // At the base width every multiplier is 1.
        #expect(try scalings(AdamWRule(), base, base: base).allSatisfy { $0.learningRate == 1 && $0.epsilon == 1 && $0.weightDecay == 1 })
    }

    @Test("μP multipliers of a 4× wider GPT: embedding, attention, MLP and head")
    func gptTable() throws {
        func gpt(_ d: Int) -> any Module {
            Sequential.gpt(vocabulary: 11, heads: 2, dimension: d, queryDimension: 8, valueDimension: 8, blocks: 1)
        }
        let wide = gpt(64), names = wide.weightNames
        let adam = try scalings(AdamWRule(), wide, base: gpt(16))
        func at(_ suffix: String) -> WeightScaling { adam[names.firstIndex { $0.hasSuffix(suffix) }!] }
        // Embedding [vocabulary, d], an input layer: fan-out grows 4×.
        #expect(at("embed.weight") == WeightScaling(initialStandardDeviation: 1, learningRate: 1, epsilon: 0.25, weightDecay: 1))
        // Query [heads·d_q, d]: fan-in grows 4×, fan-out stays.
        #expect(at("attention.query.weight").learningRate == 0.25 && at("attention.query.weight").epsilon == 1)
        // MLP up [4d, d]: both grow 4×.
        #expect(at("mlp.up.weight").learningRate == 0.25 && at("mlp.up.weight").epsilon == 0.25 && at("mlp.up.weight").weightDecay == 4)
        // Head [vocabulary, d], the output layer.
        #expect(names.last! == "head.weight")
        #expect(adam.last! == WeightScaling(initialStandardDeviation: 1.0 / 64, learningRate: 0.25, epsilon: 1, weightDecay: 4))
    }

    @Test("a base network without one of the weights is refused, naming it")
    func baseMismatch() {
        let shallow = Sequential.mlp(input: 784, width: 64, output: 10, depth: 2)
        #expect(throws: OptimizerError.self) { try scalings(AdamWRule(), mlp, base: shallow) }
    }

    @Test("μP initialization draws each matrix with its σ")
    func initialization() throws {
        var rng = RandomGenerator(seed: 4)
        let w: [Tensor<Double>] = try Parametrization.muP(base: base).initialize(mlp, using: &rng)
        let expected = [1, 1.0 / 16, 1.0 / 256]
        for (t, sigma) in zip(w, expected) {
            let std = (t.squaredNormValue / Double(t.count)).squareRoot()
            // The sample standard deviation of n Gaussians is within 5/√(2n) of σ (relative) but with odds ~1e-6.
            #expect(abs(std / sigma - 1) < 5 / (2 * Double(t.count)).squareRoot(), "\(std) vs \(sigma)")
        }
        let sp: [Tensor<Double>] = try Parametrization.standard.initialize(mlp, using: &rng)
        #expect(abs((sp[1].squaredNormValue / Double(sp[1].count)).squareRoot() * 16 - 1) < 5 / (2 * 65536.0).squareRoot())
    }

    @Test("modular parametrization: any rule's step has modular norm η")
    func modularNorm() throws {
        // The exact polar factor, so that the dualized step has modular norm exactly 1 (up to rounding).
        let small = Sequential.mlp(input: 12, width: 16, output: 5, depth: 3, orthogonalizer: SVDOrthogonalizer())
        var rng = RandomGenerator(seed: 6)
        for rule in [AdamWRule(), ADOPTRule(), LAMBRule(), SGDRule(), ShampooRule()] as [any OptimizerRule] {
            var w: [Tensor<Double>] = small.initialize(using: &rng)
            var opt = try Optimizer<Double>(module: small, groups: [
                ParameterGroup("all", rule: .rule(rule), learningRate: .constant(0.1)),
            ], parametrization: .modular)
            for _ in 0..<2 {  // ADOPT moves from its second step on
                let g = small.weightShapes.map { Tensor<Double>.randomNormal($0, using: &rng) }
                let before = w
                try opt.update(&w, gradients: g)
                let delta = zip(before, w).map { $0 - $1 }
                let size = small.norm(delta)
                if rule.name != "adopt" || opt.state.step == 2 { #expect(abs(size - 0.1) < 1e-9, "\(rule.name): \(size)") }
            }
        }
    }

    @Test("the report names every weight's role, fans, rule and multipliers")
    func report() throws {
        let opt = try Optimizer<Float>(module: mlp, groups: [
            ParameterGroup("all", rule: .rule(AdamWRule()), learningRate: .constant(1e-3)),
        ], parametrization: .muP(base: base))
        let lines = opt.report().split(separator: "\n").map(String.init)
        #expect(lines.count == 4 && lines[0] == "parametrization muP")
        #expect(lines[2] == "2.weight: hidden, fan-in 256, fan-out 256, adamw, init σ 0.0625, lr ×0.25, ε ×0.25, decay ×4.0", "\(lines[2])")
        #expect(opt.context(ofWeight: 2).learningRate == 1e-3 * 0.25)
    }
}

@Suite("Update sizes against the spectral condition")
struct UpdateSizeTests {
    @Test("a step of known spectral norm is measured in the atom's norm and against √(fan_out/fan_in)")
    func knownStep() throws {
        let mlp = Sequential.mlp(input: 12, width: 16, output: 5, depth: 3)
        var rng = RandomGenerator(seed: 8)
        let before: [Tensor<Double>] = mlp.initialize(using: &rng)
        // Each step is 0.5 × a semi-orthogonal matrix: spectral norm 0.5.
        let steps = mlp.weightShapes.map { s in SVDOrthogonalizer().orthogonalize(Tensor<Double>.randomNormal(s, using: &rng)) * 0.5 }
        let after = zip(before, steps).map { $0 + $1 }
        let sizes = try mlp.updateSizes(from: before, to: after)
        #expect(sizes.map(\.role) == [.input, .hidden, .output])
        for s in sizes { #expect(abs(s.spectralNorm - 0.5) < 1e-12, "\(s)") }
        // Targets: input √16 (fan-in 1), hidden 1, output √(1/16) (fan-out 1).
        #expect(sizes.map(\.spectralTarget) == [4, 1, 0.25])
        // Linear's norm is RMS→RMS, √(fan_in/fan_out)·‖·‖₂.
        #expect(abs(sizes[0].atomNorm - (12.0 / 16).squareRoot() * 0.5) < 1e-12)
        #expect(abs(sizes[2].spectralRatio - 2) < 1e-12)
    }
}
