import Modula
import Synchronization
import Testing

/// A strategy that records what the optimizer hands over and computes it locally.
final class RecordingDualize: DualizeStrategy {
    let calls = Mutex<[String]>([])
    func dualize<S: TensorScalar>(_ directions: [Tensor<S>], of module: any Module, targetNorm: S) throws -> [Tensor<S>] {
        calls.withLock { $0.append("dualize \(directions.count) at \(targetNorm)") }
        return try LocalDualize().dualize(directions, of: module, targetNorm: targetNorm)
    }
    func each<S: TensorScalar>(_ weights: [Int], of module: any Module, _ map: (Int) -> Tensor<S>) throws -> [Tensor<S>] {
        calls.withLock { $0.append("each \(weights)") }
        return weights.map(map)
    }
}

// The optimizer's seam for distributed dualize (ModulaMPI's DistributedDualizer implements it).
@Suite struct DualizeStrategyTests {
    let mlp = Sequential { Linear(in: 5, out: 6); ReLU(); Linear(in: 6, out: 6); ReLU(); Linear(in: 6, out: 2) }

    /// Three steps of `optimizer` on fixed data; returns the weights.
    func train(_ optimizer: inout Optimizer<Float>) throws -> [Tensor<Float>] {
        var rng = RandomGenerator(seed: 1)
        var weights: [Tensor<Float>] = mlp.initialize(using: &rng)
        for _ in 0..<3 {
            let x = Tensor<Float>.randomNormal([4, 5], using: &rng), y = Tensor<Float>.randomNormal([4, 2], using: &rng)
            let (loss, g) = try valueWithGradient(at: weights) { w in meanSquaredError(try mlp(x, w), y) }
            try optimizer.update(&weights, gradients: g, loss: loss)
        }
        return weights
    }

    @Test func everyDualityMapGoesThroughTheStrategy() throws {
        var modular = try Optimizer<Float>.modular(module: mlp, learningRate: .constant(0.1), momentum: .ema(0.9))
        var muon = try Optimizer<Float>.muon(module: mlp)
        let plain = (try train(&modular), try train(&muon))
        let recorders = (RecordingDualize(), RecordingDualize())
        modular = try .modular(module: mlp, learningRate: .constant(0.1), momentum: .ema(0.9))
        muon = try .muon(module: mlp)
        modular.dualizer = recorders.0
        muon.dualizer = recorders.1
        let recorded = (try train(&modular), try train(&muon))
        // The same maps on the same inputs in the same order: the same bits.
        #expect(zip(plain.0, recorded.0).allSatisfy { $0.scalars == $1.scalars })
        #expect(zip(plain.1, recorded.1).allSatisfy { $0.scalars == $1.scalars })
        // One whole-network dualize per step; Muon orthogonalizes the hidden matrix alone (AdamW takes the rest).
        #expect(recorders.0.calls.withLock { $0 } == Array(repeating: ["each []", "dualize 3 at 1.0"], count: 3).flatMap { $0 })
        #expect(recorders.1.calls.withLock { $0 } == ["each [1]", "each [1]", "each [1]"])
    }

    @Test func aFailingStrategyStopsTheStepBeforeAnyWeightMoves() throws {
        struct Refusing: DualizeStrategy {
            struct Refused: Error {}
            func dualize<S: TensorScalar>(_ d: [Tensor<S>], of module: any Module, targetNorm: S) throws -> [Tensor<S>] { throw Refused() }
            func each<S: TensorScalar>(_ w: [Int], of module: any Module, _ map: (Int) -> Tensor<S>) throws -> [Tensor<S>] { w.map(map) }
        }
        var optimizer = try Optimizer<Float>.modular(module: mlp, learningRate: .constant(0.1))
        optimizer.dualizer = Refusing()
        var rng = RandomGenerator(seed: 2)
        var weights: [Tensor<Float>] = mlp.initialize(using: &rng)
        let before = weights
        let g = mlp.weightShapes.map { Tensor<Float>.randomNormal($0, using: &rng) }
        #expect(throws: Refusing.Refused.self) { try optimizer.update(&weights, gradients: g) }
        #expect(zip(before, weights).allSatisfy { $0.scalars == $1.scalars })
        #expect(optimizer.state.step == 0)
    }
}
