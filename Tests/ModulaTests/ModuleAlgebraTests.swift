import Testing
@testable import Modula

@Suite("Module algebra")
struct ModuleAlgebraTests {
    @Test("mass and sensitivity of random networks follow the rules exactly")
    func massAndSensitivity() {
        var rng = RandomGenerator(seed: 1)
        for _ in 0..<200 {
            let net = randomNetwork(width: 4, depth: 4, &rng)
            #expect(relativeError(net.module.mass, net.mass) < 1e-12, "\(net.module)")
            #expect(relativeError(net.module.sensitivity, net.sensitivity) < 1e-12, "\(net.module)")
        }
    }

    @Test("norm(dualize(g, t)) == t with the exact orthogonalizer")
    func dualizeHasTargetNorm() throws {
        var rng = RandomGenerator(seed: 2)
        for _ in 0..<60 {
            let net = randomWeightedNetwork(width: 5, depth: 3, &rng).module
            let g = randomLike(net.weightShapes, &rng)
            let t = 0.1 + rng.nextUnitDouble() * 3
            let d = try net.dualize(g, targetNorm: t)
            #expect(relativeError(net.norm(d), t) < 1e-5, "\(net)")
        }
    }

    @Test("⟨g, dualize(g)⟩ equals the dual norm, and beats random unit-norm competitors")
    func dualizeIsArgmax() throws {
        var rng = RandomGenerator(seed: 3)
        for _ in 0..<40 {
            let net = randomWeightedNetwork(width: 4, depth: 3, &rng).module
            let g = randomLike(net.weightShapes, &rng)
            let d = try net.dualize(g)
            let best = inner(g, d)
            #expect(relativeError(best, net.dualNorm(g)) < 1e-6, "\(net)")
            for _ in 0..<20 {
                let r = randomLike(net.weightShapes, &rng)
                let n: Double = net.norm(r)
                let candidate = inner(g, r.map { $0 * (1 / n) })
                #expect(candidate <= best * (1 + 1e-9))
            }
        }
    }

    @Test("the modular norm is a norm: homogeneous, subadditive, zero at zero")
    func normAxioms() {
        var rng = RandomGenerator(seed: 4)
        for _ in 0..<40 {
            let net = randomWeightedNetwork(width: 4, depth: 3, &rng).module
            let a = randomLike(net.weightShapes, &rng), b = randomLike(net.weightShapes, &rng)
            let c = rng.nextUnitDouble() * 4 - 2
            let na: Double = net.norm(a), nb: Double = net.norm(b)
            #expect(relativeError(net.norm(a.map { $0 * c }), Swift.abs(c) * na) < 1e-9)
            #expect(net.norm(zip(a, b).map { $0 + $1 }) <= (na + nb) * (1 + 1e-9))
            #expect(net.norm(a.map { Tensor<Double>.zeros($0.shape) }) == 0)
        }
    }

    @Test("project lands on the initialization's set and is idempotent")
    func projectIdempotent() {
        var rng = RandomGenerator(seed: 5)
        for _ in 0..<30 {
            let net = randomWeightedNetwork(width: 4, depth: 3, &rng).module
            let w: [Tensor<Double>] = net.initialize(using: &rng)
            #expect(relativeError(net.project(w), w) < 1e-9, "initialization is not fixed by project: \(net)")
            let r = randomLike(net.weightShapes, &rng)
            let p = net.project(r)
            #expect(relativeError(net.project(p), p) < 1e-9)
        }
    }

    @Test("zero gradients dualize to zero, never NaN")
    func zeroGradient() throws {
        var rng = RandomGenerator(seed: 6)
        for _ in 0..<20 {
            let net = randomWeightedNetwork(width: 4, depth: 3, &rng).module
            let d = try net.dualize(net.weightShapes.map { Tensor<Double>.zeros($0) })
            #expect(d.allSatisfy { $0.isFinite && $0.squaredNormValue == 0 })
        }
        let gpt = Sequential.gpt(vocabulary: 7, heads: 2, dimension: 8, queryDimension: 4, valueDimension: 4, blocks: 1)
        let d = try gpt.dualize(gpt.weightShapes.map { Tensor<Float>.zeros($0) })
        #expect(d.allSatisfy { $0.isFinite && $0.squaredNormValue == 0 })
    }

    @Test("a module of mass 0 gets a zero update")
    func zeroMass() throws {
        let net = Linear(in: 3, out: 3).tared(0)
        var rng = RandomGenerator(seed: 7)
        let d = try net.dualize(randomLike(net.weightShapes, &rng))
        #expect(d[0].squaredNormValue == 0)
    }
}

@Suite("Compounds")
struct CompoundTests {
    @Test("hello-GPT size: 26 atoms, mass 7, sensitivity 1, Modula's dualize targets")
    func gptStructure() {
        let gpt = Sequential.gpt(vocabulary: 65, heads: 4, dimension: 128, queryDimension: 32, valueDimension: 32, blocks: 4)
        #expect(gpt.atomCount == 26)
        #expect(relativeError(gpt.mass, 7) < 1e-12)
        #expect(relativeError(gpt.sensitivity, 1) < 1e-12)
        #expect(gpt.weightNames.first == "embed.weight")
        #expect(gpt.weightNames.last == "head.weight")
        #expect(gpt.weightNames.contains("blocks.2.attention.query.weight"))
        #expect(gpt.weightNames.contains("blocks.3.mlp.down.weight"))
        #expect(Set(gpt.weightNames).count == 26)
    }

    @Test("per-atom dualize targets of a small GPT match Modula's")
    func gptTargets() {
        // Same structure as hello-GPT (4 blocks) at a size that keeps the exact SVD cheap.
        let gpt = Sequential.gpt(vocabulary: 11, heads: 2, dimension: 8, queryDimension: 4, valueDimension: 4, blocks: 4, orthogonalizer: exact)
        var rng = RandomGenerator(seed: 8)
        for (name, target) in gpt.atomTargets(using: &rng) {
            let expected: Double
            if name.hasPrefix("embed") || name.hasPrefix("head") { expected = 1.0 / 7 }
            else if name.hasSuffix("query.weight") || name.hasSuffix("key.weight") || name.hasSuffix("value.weight") { expected = 5.0 / 7 }
            else { expected = 5.0 / 21 }
            #expect(relativeError(target, expected) < 1e-6, "\(name): \(target) vs \(expected)")
        }
    }

    @Test("MLP: names, counts and equal targets")
    func mlp() {
        let mlp = Sequential.mlp(input: 6, width: 5, output: 3, depth: 3, orthogonalizer: exact)
        #expect(mlp.weightNames == ["0.weight", "2.weight", "4.weight"])
        #expect(mlp.atomCount == 3 && mlp.bondCount == 2)
        var rng = RandomGenerator(seed: 9)
        for (_, t) in mlp.atomTargets(using: &rng) { #expect(relativeError(t, 1.0 / 3) < 1e-9) }
        let text = "\(mlp)"
        #expect(text.contains("Linear(6→5)") && text.contains("mass=3"))
    }

    @Test("ResMLP and ResCNN run and have the declared masses")
    func residual() throws {
        var rng = RandomGenerator(seed: 10)
        let res = Sequential.resMLP(input: 6, width: 8, output: 3, depth: 4, blocksMass: 2)
        #expect(relativeError(res.mass, 4) < 1e-12)
        let w: [Tensor<Double>] = res.initialize(using: &rng)
        let y = try res(Tensor<Double>.randomNormal([5, 6], using: &rng), w)
        #expect(y.shape == [5, 3])
        let cnn = Sequential.resCNN(channels: 1, width: 4, classes: 3, imageSize: 6, depth: 2)
        #expect(relativeError(cnn.mass, 22) < 1e-12)
        let wc: [Tensor<Double>] = cnn.initialize(using: &rng)
        #expect(try cnn(Tensor<Double>.randomNormal([2, 1, 6, 6], using: &rng), wc).shape == [2, 3])
    }
}
