import Foundation
import Testing
@testable import Modula

// The code of GettingStarted.md (see DocumentationExamplesTests.swift).

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
            let readyMade = Sequential.mlp(input: 784, width: 256, output: 10)   // depth 3 by default
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
            let mlp = Sequential.mlp(input: 8, width: 6, output: 3)
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
