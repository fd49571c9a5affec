import Testing
@testable import Modula

/// Constructors and whole-list calls that stop with a message (in release builds too).
@Suite("Module contracts")
struct ModuleContractTests {
    func expectMessage(_ result: ExitTest.Result?, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains(text), "stderr: \(stderr.prefix(300))", sourceLocation: sourceLocation)
    }

    @Test func mlpWidthZero() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Sequential.mlp(input: 784, width: 0, output: 10)
        }
        expectMessage(result, "MLP: input, width and output must be positive, got input 784, width 0, output 10")
    }

    @Test func residualWeightTwo() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Sum.residual(Linear(in: 4, out: 4), weight: 2)
        }
        expectMessage(result, "Residual: weight must lie in (0, 1], got 2.0")
    }

    @Test func dualizeWrongGradientCount() async {
        // The requirement on slices, which the combinators call, stops with a message.
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let mlp = Sequential.mlp(input: 3, width: 4, output: 2)
            let g = [Tensor<Float>.zeros([4, 3]), Tensor<Float>.zeros([4, 4])]
            _ = mlp.dualize(g[...], targetNorm: 1)
        }
        expectMessage(result, "Sequential: expected 3 weight or gradient tensors, got 2")
    }

    @Test func atomGivenTwoTensors() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let g = [Tensor<Float>.zeros([4, 3]), Tensor<Float>.zeros([4, 3])]
            _ = Linear(in: 3, out: 4).dualize(g[...], targetNorm: 1)
        }
        expectMessage(result, "Linear(3→4).dualize: an atom takes 1 tensor, got 2")
    }

    @Test("dualize of a whole gradient list throws when the list does not fit")
    func dualizeThrows() {
        let mlp = Sequential.mlp(input: 3, width: 4, output: 2)
        let short: [Tensor<Float>] = [.zeros([4, 3]), .zeros([4, 4])]
        let misshapen: [Tensor<Float>] = [.zeros([4, 3]), .zeros([4, 5]), .zeros([2, 4])]
        #expect(throws: ModuleError(module: "Sequential", problem: "dualize: expected 3 gradient tensors (0.weight, 2.weight, 4.weight), got 2")) {
            try mlp.dualize(short)
        }
        #expect(throws: ModuleError(module: "Sequential", problem: "dualize: the gradient of 2.weight has shape [4, 5], expected [4, 4]")) {
            try mlp.dualize(misshapen)
        }
    }

    @Test func normWrongShape() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let mlp = Sequential.mlp(input: 3, width: 4, output: 2)
            let w: [Tensor<Float>] = [.zeros([4, 3]), .zeros([4, 5]), .zeros([2, 4])]  // an Array, not a slice literal
            _ = mlp.norm(w)
        }
        expectMessage(result, "Sequential.norm: the weight of 2.weight has shape [4, 5], expected [4, 4]")
    }
}

/// Every bond passes NaN on: a NaN in its input shows up in its output.
@Suite("NaN through bonds")
struct NaNThroughBondsTests {
    /// `[2, 2, 4, 4]` values with one NaN.
    func input(nanAt index: Int = 5, shape: [Int] = [2, 2, 4, 4]) -> Tensor<Double> {
        var rng = RandomGenerator(seed: 7)
        var x = Tensor<Double>.randomNormal(shape, using: &rng)
        x.withUnsafeMutableBufferPointer { $0[index] = .nan }
        return x
    }

    func expectNaN(_ bond: any Module, _ inputs: [Tensor<Double>], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let out = try bond.forward(inputs, weights: [][...])
        #expect(out.contains { $0.scalars.contains(where: \.isNaN) }, "\(bond.name) swallowed NaN", sourceLocation: sourceLocation)
    }

    @Test func unaryBonds() throws {
        let bonds: [any Module] = [
            Identity(), Mul(0.5), ReLU(), GELU(), Abs(), MeanSubtract(), RMSDivide(), LayerNorm(), Flatten(),
            AvgPool(2), Softmax(scale: 2),
        ]
        for bond in bonds {
            try expectNaN(bond, [input()])
            try expectNaN(bond, [input(nanAt: 0)])
            try expectNaN(bond, [input(nanAt: 63)])
        }
        try expectNaN(MergeHeads(), [input()])
        try expectNaN(SplitIntoHeads(heads: 2), [input(shape: [2, 4, 4])])
        try expectNaN(SplitIntoHeads(heads: 2), [input(nanAt: 31, shape: [2, 4, 4])])
        // Below or on the diagonal the NaN is kept (entry [0, 0, 1, 1]); above it is masked out by design.
        try expectNaN(CausalMask(), [input(nanAt: 5)])
    }

    @Test("the modular norm of weights holding NaN is NaN")
    func normOfNaN() {
        let mlp = Sequential.mlp(input: 3, width: 4, output: 2)
        var rng = RandomGenerator(seed: 1)
        var w: [Tensor<Double>] = mlp.initialize(using: &rng)
        #expect(mlp.norm(w).isFinite)
        w[1] = Tensor(repeating: .nan, shape: w[1].shape)
        #expect(mlp.norm(w).isNaN)
    }

    @Test func bondsOfSeveralInputs() throws {
        let x = input(nanAt: 0)
        let finite = Tensor<Double>(shape: x.shape, scalars: x.scalars.map { $0.isNaN ? 1 : $0 })
        try expectNaN(Add(), [finite, input()])
        try expectNaN(AttentionQK(), [finite, input()])
        try expectNaN(RoPE(headDimension: 4), [input(), finite])
        try expectNaN(ApplyAttentionScores(), [input(), finite])
        try expectNaN(ApplyAttentionScores(), [finite, input()])
    }
}

/// The optimizer's typed errors: bad state, bad learning rates, NaN in the data, skipping.
@Suite("Optimizer errors")
struct OptimizerErrorTests {
    /// An MLP on 4 features, images and one-hot targets for a batch of 8.
    func setUp() -> (Sequential, [Tensor<Float>], Tensor<Float>, Tensor<Float>) {
        let mlp = Sequential.mlp(input: 4, width: 6, output: 3)
        var rng = RandomGenerator(seed: 3)
        let w: [Tensor<Float>] = mlp.initialize(using: &rng)
        return (mlp, w, Tensor<Float>.randomNormal([8, 4], using: &rng), oneHot([0, 1, 2, 0, 1, 2, 0, 1], classes: 3))
    }

    @Test("a NaN, infinite or negative learning rate is refused when the optimizer is made")
    func invalidLearningRate() throws {
        let (mlp, _, _, _) = setUp()
        for bad in [Double.nan, .infinity, -1] {
            do {
                _ = try Optimizer<Float>.modular(module: mlp, learningRate: .constant(bad))
                Issue.record("expected an error for learning rate \(bad)")
            } catch let error as OptimizerError {
                #expect(error.description.hasSuffix("the learning rate at step 0 is \(bad); it must be finite and ≥ 0"), "\(error)")
            }
        }
        #expect(throws: OptimizerError.self) { try Optimizer<Float>.adamW(module: mlp, learningRate: .constant(.nan)) }
        #expect(throws: OptimizerError.self) { try Optimizer<Float>.sgd(module: mlp, learningRate: .constant(-0.1)) }
    }

    @Test("all-NaN images stop hello-MNIST-style training with the input-batch error")
    func nanImages() throws {
        let (mlp, w0, _, targets) = setUp()
        var w = w0
        var opt = try Optimizer<Float>.modular(module: mlp, learningRate: .constant(0.1))
        let before = w
        let images = Tensor<Float>(repeating: .nan, shape: [8, 4])
        let (loss, grads) = try valueWithGradient(at: w) { w in meanSquaredError(try mlp(images, w), targets) }
        #expect(!loss.isFinite)
        do {
            try opt.update(&w, gradients: grads, loss: loss, inputs: [images])
            Issue.record("expected an error")
        } catch let error as OptimizerError {
            #expect(error == .nonFinite(step: 0, source: .inputBatch))
            #expect(error.description == "optimizer: step 0: the input batch contains NaN or infinity; no step was taken")
        }
        #expect(w == before && opt.state.step == 0)
        // Without the inputs, the loss is blamed; without the loss, the first gradient.
        #expect(throws: OptimizerError.nonFinite(step: 0, source: .loss)) { try opt.update(&w, gradients: grads, loss: loss) }
        #expect(throws: OptimizerError.nonFinite(step: 0, source: .gradient(weight: "0.weight"))) {
            try opt.update(&w, gradients: grads)
        }
    }

    @Test("the step number counts the steps taken")
    func stepNumber() throws {
        let (mlp, w0, x, targets) = setUp()
        var w = w0
        var opt = try Optimizer<Float>.modular(module: mlp, learningRate: .constant(0.1))
        for _ in 0..<3 {
            let (_, g) = try valueWithGradient(at: w) { w in meanSquaredError(try mlp(x, w), targets) }
            try opt.update(&w, gradients: g)
        }
        var g = w.map { Tensor<Float>.zeros($0.shape) }
        g[2] = Tensor(repeating: .infinity, shape: g[2].shape)
        #expect(throws: OptimizerError.nonFinite(step: 3, source: .gradient(weight: "4.weight"))) { try opt.update(&w, gradients: g) }
        var bad = w
        bad[1] = Tensor(repeating: .nan, shape: bad[1].shape)
        #expect(throws: OptimizerError.nonFinite(step: 3, source: .weight("2.weight"))) {
            try opt.update(&bad, gradients: w.map { Tensor<Float>.zeros($0.shape) })
        }
    }

    @Test("skipping leaves weights and state alone, counts the step and goes on")
    func skipping() throws {
        let (mlp, w0, x, targets) = setUp()
        var w = w0
        var opt = try Optimizer<Float>.modular(module: mlp, learningRate: .constant(0.1), momentum: .ema(0.9))
        opt.nonFiniteSteps = .skip
        var reference = try Optimizer<Float>.modular(module: mlp, learningRate: .constant(0.1), momentum: .ema(0.9))
        var wReference = w
        let nan = Tensor<Float>(repeating: .nan, shape: [8, 4])
        for step in 0..<6 {
            let input = step % 2 == 1 ? nan : x
            let (loss, g) = try valueWithGradient(at: w) { w in meanSquaredError(try mlp(input, w), targets) }
            let taken = try opt.update(&w, gradients: g, loss: loss, inputs: [input])
            #expect(taken == (step % 2 == 0))
            if step % 2 == 0 {
                let (_, gr) = try valueWithGradient(at: wReference) { w in meanSquaredError(try mlp(x, w), targets) }
                try reference.update(&wReference, gradients: gr)
            }
        }
        #expect(opt.skippedSteps == 3 && opt.state.step == 3)
        #expect(w == wReference && opt.state == reference.state)
    }

    @Test("a non-finite update is refused before any weight changes")
    func nonFiniteUpdate() throws {
        let (mlp, w0, _, _) = setUp()
        var w = w0
        var opt = try Optimizer<Float>.sgd(module: mlp, learningRate: .constant(1), momentum: 0.9)
        let huge = w.map { Tensor<Float>(repeating: .greatestFiniteMagnitude, shape: $0.shape) }
        try opt.update(&w, gradients: huge)  // momentum d = g
        let before = w
        // d ← 0.9·d + g overflows to infinity: the update of the first weight is not finite.
        #expect(throws: OptimizerError.nonFinite(step: 1, source: .update(weight: "0.weight"))) {
            try opt.update(&w, gradients: huge)
        }
        #expect(w == before)
    }

    @Test("an optimizer state that does not fit the module is refused")
    func stateMismatch() throws {
        let (mlp, w0, x, targets) = setUp()
        var w = w0
        var opt = try Optimizer<Float>.modular(module: mlp, learningRate: .constant(0.1), momentum: .ema(0.9))
        let (_, g) = try valueWithGradient(at: w) { w in meanSquaredError(try mlp(x, w), targets) }
        var state = opt.state
        state.firstMoment = [Tensor<Float>.zeros([6, 4])]
        opt.state = state
        #expect(throws: OptimizerError.stateMismatch(weight: nil, reason: "has 1 first-moment buffers for 3 weights")) {
            try opt.update(&w, gradients: g)
        }
        state.firstMoment = [Tensor.zeros([6, 4]), Tensor.zeros([6, 5]), Tensor.zeros([3, 6])]
        opt.state = state
        do {
            try opt.update(&w, gradients: g)
            Issue.record("expected an error")
        } catch let error as OptimizerError {
            #expect(error.description == "optimizer: the state does not fit the module: weight 2.weight: its first-moment buffer has shape [6, 5], expected [6, 6]")
        }
    }
}
