import Foundation
import Testing
@testable import Modula

// The code of Tutorials/HelloMNIST.tutorial (see DocumentationExamplesTests.swift).

extension DocumentationExamplesTests {
    @Suite("Docs: Hello MNIST tutorial")
    struct HelloMNISTTutorial {
        /// The tutorial's training and evaluation code, with random images in place of Fashion-MNIST
        /// (this test target does not link ModulaData) and fewer, smaller steps.
        @Test("the tutorial's model, loop and evaluation")
        func tutorialLoop() throws {
            let featureCount = 784, classCount = 10
            let mlp = Sequential.mlp(input: featureCount, width: 32, output: classCount, depth: 3)
            var rng = RandomGenerator(seed: 0)
            var weights: [Tensor<Float>] = mlp.initialize(using: &rng)
            var optimizer = try Optimizer<Float>.modular(module: mlp, learningRate: .constant(0.1))
            let pool = Tensor<Float>.randomUniform([64, featureCount], using: &rng)
            let poolLabels = (0..<64).map { _ in rng.nextInt(below: classCount) }

            var losses: [Float] = []
            for _ in 0..<30 {
                let indices = (0..<16).map { _ in rng.nextInt(below: 64) }
                let images = Tensor.concatenate(indices.map { pool.slice(axis: 0, $0..<($0 + 1)) }, alongAxis: 0)
                let labels = indices.map { poolLabels[$0] }
                let targets = oneHot(labels, classes: classCount, as: Float.self)
                let (loss, gradients) = try valueWithGradient(at: weights) { w in
                    meanSquaredError(try mlp(images, w), targets)
                }
                try optimizer.update(&weights, gradients: gradients)
                losses.append(loss.scalar)
            }
            #expect(losses.suffix(5).reduce(0, +) < losses.prefix(5).reduce(0, +))

            var correct = 0
            for (images, labels) in [(pool, poolLabels)] {
                let predicted = try mlp(images, weights).argmax(alongAxis: -1)
                correct += zip(predicted, labels).filter { $0 == $1 }.count
            }
            #expect(correct > 64 / classCount, "memorizing 64 images beats chance: \(correct)/64")
        }
    }
}
