import Foundation
import Testing
@testable import Modula

// The code of CoordinateChecks.md (see DocumentationExamplesTests.swift).

extension DocumentationExamplesTests {
    @Suite("Docs: Coordinate and Spectral Checks", .serialized)
    struct CoordinateChecks {
        /// The article's check, for one parametrization of Adam (or the modular norm when `p` is nil).
        static func check(_ p: Parametrization?) throws -> CoordinateCheck {
            var data = RandomGenerator(seed: 3)
            let probe = Tensor<Float>.randomNormal([16, 32], using: &data)
            let batches = (0..<4).map { _ in
                (Tensor<Float>.randomNormal([16, 32], using: &data), (0..<16).map { _ in data.nextInt(below: 10) })
            }
            var step = 0
            return try CoordinateCheck.run(
                widths: [64, 128, 256, 512], steps: 4, onlyAtoms: true,
                build: { width in Sequential.mlp(input: 32, width: width, output: 10) },
                prepare: { module, rng in
                    guard let p else { return (module.initialize(using: &rng), try .modular(module: module, learningRate: .constant(0.1))) }
                    let weights: [Tensor<Float>] = try p.initialize(module, using: &rng)
                    let adam = try Optimizer<Float>(module: module, groups: [
                        ParameterGroup("adam", rule: .rule(AdamWRule()), learningRate: .constant(0.01)),
                    ], parametrization: p)
                    return (weights, adam)
                },
                batch: { _ in defer { step += 1 }; return batches[step % 4] },
                probe: probe)
        }

        @Test("standard Adam is flagged, μP Adam and the modular norm are not; the report lines print")
        func flags() throws {
            let standard = try Self.check(.standard)
            for layer in standard.layers {
                print(layer.flagged ? "flagged" : "ok     ", layer.path, layer.name,
                      "RMS slope", layer.rmsSlope, "change slope", layer.changeSlope)
            }
            #expect(!standard.flagged.isEmpty)
            #expect(try Self.check(.muP(base: Sequential.mlp(input: 32, width: 64, output: 10))).flagged.isEmpty)
            #expect(try Self.check(nil).flagged.isEmpty)
            #expect(standard.layers.map(\.path) == ["0", "2", "4"])
            #expect(standard.layers[0].rms.count == 4 && standard.layers[0].rms[0].count == 5)
        }

        @Test("the spectral check: ‖W₀‖₂ and ‖ΔW‖₂ against √(fan_out/fan_in), per weight and width")
        func spectral() throws {
            let check = try Self.check(nil)
            for (w, width) in check.widths.enumerated() {
                let ratios = zip(check.initialWeights[w], check.weightChanges[w]).map { w0, dw in
                    "\(w0.name) (\(w0.role)): W₀ \(w0.spectralRatio), ΔW \(dw.spectralRatio)"
                }
                print("width \(width):", ratios.joined(separator: "; "))
            }
            // The modular initialization projects the hidden matrix to the sphere of its norm, so its ratio is Θ(1) at
            // every width (near 1; the projection's polynomial iteration leaves singular values near, not at, 1).
            #expect(check.initialWeights.allSatisfy { Swift.abs($0[1].spectralRatio - 1) < 0.1 }, "\(check.initialWeights)")
            #expect(check.weightChanges.allSatisfy { $0.allSatisfy { $0.spectralRatio > 0 } })

            // The same measurement for any two sets of weights, here one step of a network of your own.
            let mlp = Sequential.mlp(input: 32, width: 64, output: 10)
            var rng = RandomGenerator(seed: 0)
            var weights: [Tensor<Float>] = mlp.initialize(using: &rng)
            var optimizer = try Optimizer<Float>.modular(module: mlp, learningRate: .constant(0.1))
            let x = Tensor<Float>.randomNormal([16, 32], using: &rng), labels = (0..<16).map { $0 % 10 }
            let before = weights
            let (_, grads) = try valueWithGradient(at: weights) { w in crossEntropy(logits: try mlp(x, w), labels: labels) }
            try optimizer.update(&weights, gradients: grads)
            for size in try mlp.updateSizes(from: before, to: weights, roles: optimizer.roles) {
                print(size.name, size.role, "‖ΔW‖₂ =", size.spectralNorm, "target", size.spectralTarget, "ratio", size.spectralRatio)
            }
            #expect(try mlp.updateSizes(from: before, to: weights, roles: optimizer.roles).count == 3)
        }
    }
}
