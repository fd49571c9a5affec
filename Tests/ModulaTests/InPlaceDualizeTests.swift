import Testing
@testable import Modula

/// Where a tensor's elements live, to tell whether a result took over its input's memory.
private func address<S: TensorScalar>(_ t: Tensor<S>) -> UnsafeRawPointer? {
    t.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
}

/// A copy in memory of its own, so that nothing else holds it.
private func fresh<S: TensorScalar>(_ list: [Tensor<S>]) -> [Tensor<S>] {
    list.map { Tensor(shape: $0.shape, scalars: $0.scalars) }
}

/// Relative Frobenius distance of two lists of Float tensors, computed in Double.
private func relativeError(_ a: [Tensor<Float>], _ b: [Tensor<Float>]) -> Double {
    relativeError(a.map { Tensor<Double>(shape: $0.shape, scalars: $0.scalars.map(Double.init)) },
                  b.map { Tensor<Double>(shape: $0.shape, scalars: $0.scalars.map(Double.init)) })
}

// Two computations of the same duality map, one in a new tensor and one in the gradient's memory, run the same
// operations on the same numbers; at most a reduction's rounding may differ (a few ulps in the normalization), which
// a Newton–Schulz iteration amplifies by at most its largest slope per step, a ≈ 3.4 for Muon's: 3.4⁵ ≈ 450 ulps of
// Float, 3e-5. The Float bounds below are 1e-4; the Double ones (SVD, no amplification) 1e-12.
@Suite("Dualize in place")
struct InPlaceDualizeTests {
    @Test("dualizeInPlace equals dualize on random networks, and a list the caller keeps stays as it was")
    func randomNetworks() throws {
        var rng = RandomGenerator(seed: 71)
        for _ in 0..<80 {
            let net = randomNetwork(width: 5, depth: 3, lowRank: true, &rng).module
            let g = randomLike(net.weightShapes, &rng)
            let t = 0.1 + rng.nextUnitDouble() * 3
            let expected = try net.dualize(g, targetNorm: t)
            let before = g.map(\.scalars)

            var shared = g  // its tensors are g's too: they must be copied, not overwritten
            try net.dualizeInPlace(&shared, targetNorm: t)
            #expect(g.map(\.scalars) == before, "\(net)")
            #expect(relativeError(shared, expected) < 1e-12, "\(net)")

            var owned = fresh(g)
            try net.dualizeInPlace(&owned, targetNorm: t)
            #expect(relativeError(owned, expected) < 1e-12, "\(net)")
        }
    }

    @Test("Newton–Schulz runs in the memory of a gradient nothing else holds, with the same result",
          arguments: [false, true])
    func newtonSchulzInOwnMemory(large: Bool) throws {
        var rng = RandomGenerator(seed: 72)
        let ns = MuonNewtonSchulz()
        // Small atoms are dualized in parallel when two threads are configured; one above
        // ChildDualization.parallelLimit (800×700 weights) makes its combinator dualize them one after another.
        let net: any Module = large
            ? Sequential([Linear(in: 700, out: 800, orthogonalizer: ns), ReLU(), Linear(in: 800, out: 96, orthogonalizer: ns)])
            : Sequential([Linear(in: 96, out: 80, orthogonalizer: ns), ReLU(), Linear(in: 80, out: 112, orthogonalizer: ns)])
        let g = net.weightShapes.map { Tensor<Float>.randomNormal($0, using: &rng) }
        let expected = try net.dualize(g, targetNorm: 1.5)
        var owned = fresh(g)
        let places = owned.map(address)
        try net.dualizeInPlace(&owned, targetNorm: 1.5)
        #expect(relativeError(owned, expected) < 1e-4)
        #expect(owned.map(address) == places)
    }

    @Test("invalid lists are refused before anything changes")
    func refusesMisfits() {
        var rng = RandomGenerator(seed: 74)
        let net = Linear(in: 4, out: 3).then(ReLU()).then(Linear(in: 3, out: 2))
        var wrongCount = [Tensor<Double>.randomNormal([3, 4], using: &rng)]
        #expect(throws: ModuleError.self) { try net.dualizeInPlace(&wrongCount) }
        #expect(wrongCount.count == 1 && wrongCount[0].shape == [3, 4])
        var wrongShape = [Tensor<Double>.randomNormal([3, 4], using: &rng), Tensor<Double>.randomNormal([3, 2], using: &rng)]
        let before = wrongShape.map(\.scalars)
        #expect(throws: ModuleError.self) { try net.dualizeInPlace(&wrongShape) }
        #expect(wrongShape.map(\.scalars) == before)
    }

    @Test("an optimizer given its gradients with consume steps as with a list the caller keeps, which stays as it was")
    func optimizerTakesGradients() throws {
        var rng = RandomGenerator(seed: 73)
        let ns = MuonNewtonSchulz()
        let net = Sequential([Linear(in: 24, out: 32, orthogonalizer: ns), ReLU(), Linear(in: 32, out: 32, orthogonalizer: ns),
                              ReLU(), Linear(in: 32, out: 10, orthogonalizer: ns)])
        let makers: [(String, () throws -> Optimizer<Float>)] = [
            ("modular", { try .modular(module: net, learningRate: .constant(0.1)) }),
            ("modular ema", { try .modular(module: net, learningRate: .constant(0.1), momentum: .ema(0.9)) }),
            ("muon", { try .muon(module: net, weightDecay: 0.01) }),
            ("scion", { try .scion(module: net, learningRate: .constant(0.05)) }),
            ("adam-modular", { try .adamThenDualize(module: net, learningRate: .constant(0.01)) }),
            ("sgd nesterov", { try .sgd(module: net, learningRate: .constant(0.1), momentum: 0.9, nesterov: true) }),
            ("rule", { try Optimizer(module: net, groups: [ParameterGroup("adam", rule: .rule(AdamWRule()), learningRate: .constant(0.01))]) }),
        ]
        for (label, make) in makers {
            var kept = try make(), taking = try make()
            var w: [Tensor<Float>] = net.initialize(using: &rng)
            var v = fresh(w)
            for _ in 0..<3 {
                let g = net.weightShapes.map { Tensor<Float>.randomNormal($0, using: &rng) }
                let before = g.map(\.scalars)
                try kept.update(&w, gradients: g)
                #expect(g.map(\.scalars) == before, "\(label)")
                let owned = fresh(g)
                try taking.update(&v, gradients: consume owned)
                #expect(relativeError(v, w) < 1e-4, "\(label)")
            }
            #expect(relativeError(taking.state.firstMoment, kept.state.firstMoment) < 1e-4, "\(label)")
        }
    }
}
