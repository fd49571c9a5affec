import Foundation
import Testing
@testable import Modula

// The code of Hooks.md (see DocumentationExamplesTests.swift).

extension DocumentationExamplesTests {
    @Suite("Docs: Hooks")
    struct Hooks {
        let mlp = Sequential.mlp(input: 8, width: 16, output: 4)

        func setup() -> ([Tensor<Float>], Tensor<Float>, [Int]) {
            var rng = RandomGenerator(seed: 0)
            let weights: [Tensor<Float>] = mlp.initialize(using: &rng)
            let x = Tensor<Float>.randomNormal([32, 8], using: &rng)
            let labels = (0..<32).map { $0 % 4 }
            return (weights, x, labels)
        }

        @Test("paths: the printed tree's labels; atomPaths in weight order")
        func paths() {
            #expect(mlp.atomPaths == ["0", "2", "4"])
            #expect(mlp.weightNames == ["0.weight", "2.weight", "4.weight"])
        }

        @Test("a forward hook records every module's output RMS and leaves the result unchanged")
        func observe() throws {
            let (weights, x, _) = setup()
            var rms: [(path: String, name: String, value: Float)] = []
            let record = Hook.forward(Float.self) { e in
                let y = e.outputs[0]
                rms.append((e.path, e.module.name, (y.squaredNormValue / Float(y.count)).squareRoot()))
                return nil                                       // nil: keep the outputs
            }
            let y = try withHooks([record]) { try mlp(x, weights) }
            for layer in rms { print(layer.path, layer.name, layer.value) }
            #expect(rms.map(\.path) == ["0", "1", "2", "3", "4"])
            #expect(rms.map(\.name) == ["Linear(8→16)", "ReLU", "Linear(16→16)", "ReLU", "Linear(16→4)"])
            #expect(y == (try mlp(x, weights)))
        }

        @Test("a forward hook at one path ablates that module; a predicate selects by type")
        func modify() throws {
            let (weights, x, _) = setup()
            let ablate = Hook.forward(Float.self, where: Hook.at("1")) { e in [e.outputs[0] * 0] }
            let ablated = try withHooks([ablate]) { try mlp(x, weights) }
            #expect(ablated == .zeros([32, 4]))   // no biases: zeros stay zeros

            var linear: [String] = []
            let onlyLinear = Hook.forward(Float.self, where: { _, module in module is Linear }) { e in
                linear.append(e.path)
                return nil
            }
            _ = try withHooks([onlyLinear]) { try mlp(x, weights) }
            #expect(linear == ["0", "2", "4"])
        }

        @Test("a gradient hook sees the gradient arriving at each atom's output; a replacement changes the gradients")
        func gradients() throws {
            let (weights, x, labels) = setup()
            var gradientNorms: [String: Float] = [:]
            let watch = Hook.gradient(Float.self, where: { _, m in m is any Atom }) { e in
                gradientNorms[e.path] = e.gradient.squaredNormValue.squareRoot()
                return nil
            }
            let (_, grads) = try withHooks([watch]) {
                try valueWithGradient(at: weights) { w in crossEntropy(logits: try mlp(x, w), labels: labels) }
            }
            #expect(Set(gradientNorms.keys) == ["0", "2", "4"])

            let halve = Hook.gradient(Float.self, where: Hook.at("4")) { e in e.gradient * 0.5 }
            let (_, halved) = try withHooks([halve]) {
                try valueWithGradient(at: weights) { w in crossEntropy(logits: try mlp(x, w), labels: labels) }
            }
            // Every gradient lies behind the output, so each one halves (exactly: a power of two).
            for (h, g) in zip(halved, grads) { #expect(h == g * 0.5) }
        }

        @Test("hooks inside a training step: the loss closure runs under withHooks")
        func inTraining() throws {
            var (weights, x, labels) = setup()
            var optimizer = try Optimizer<Float>.modular(module: mlp, learningRate: .constant(0.1))
            var hiddenRMS: [Float] = []
            let hidden = Hook.forward(Float.self, where: Hook.at("2")) { e in
                hiddenRMS.append((e.outputs[0].squaredNormValue / Float(e.outputs[0].count)).squareRoot())
                return nil
            }
            for _ in 0..<3 {
                let (loss, grads) = try withHooks([hidden]) {
                    try valueWithGradient(at: weights) { w in crossEntropy(logits: try mlp(x, w), labels: labels) }
                }
                try optimizer.update(&weights, gradients: grads, loss: loss)
            }
            #expect(hiddenRMS.count == 3 && hiddenRMS.allSatisfy { $0.isFinite && $0 > 0 })
        }
    }
}
