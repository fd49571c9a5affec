import Foundation
import Testing
@testable import Modula

// The code of CustomAtoms.md (see DocumentationExamplesTests.swift).

/// The article's types, in a namespace of their own (the module tests define another `Scale`).
enum CustomAtomsArticle {
    /// y = x ⊙ w, with the ℓ∞ norm on w.
    struct Scale: Atom {
        let width: Int
        var name: String { "Scale(\(width))" }
        var weightShape: [Int] { [width] }

        func apply<S: TensorScalar>(_ x: Tensor<S>, weight w: Tensor<S>) throws -> Tensor<S> {
            try expectLastAxis(x, width)
            return x * w
        }
        func norm<S: TensorScalar>(_ w: Tensor<S>) -> S { w.abs().max() }          // ℓ∞
        func dualize<S: TensorScalar>(_ g: Tensor<S>) -> Tensor<S> { g.sign() }    // its duality map
        func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> Tensor<S> { .ones([width]) }
    }

    /// x·tanh(x), a smooth nonlinearity (not 1-Lipschitz: declare its sensitivity honestly).
    struct TanhGate: UnaryBond {
        var name: String { "TanhGate" }
        var sensitivity: Double { 1.2 }   // its slope stays below 1.2
        func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> { x * x.tanh() }
    }

    struct Softplus: UnaryBond {
        var name: String { "Softplus" }
        var sensitivity: Double { 1 }   // the slope, the logistic function, lies in (0, 1)
        func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
            let v = x.detached                                 // values only: nothing is recorded
            let y = v.relu() + ((-v.abs()).exp() + 1).log()
            return y.withPullback(inputs: [x]) { g in [g * v.sigmoid()] }
        }
    }
}

extension DocumentationExamplesTests {
    @Suite("Docs: Custom Atoms")
    struct CustomAtoms {
        typealias Scale = CustomAtomsArticle.Scale

        @Test("the custom atom composes, prints, dualizes, audits, checkpoints and trains")
        func customAtom() throws {
            let net = Sequential {
                Linear(in: 4, out: 6)
                Scale(width: 6).named("scale")
                ReLU()
                Linear(in: 6, out: 2)
            }
            #expect("\(net)" == """
                Sequential  mass=3 sensitivity=1
                  0: Linear(4→6)  mass=1 sensitivity=1
                  scale: Scale(6)  mass=1 sensitivity=1
                  2: ReLU  mass=0 sensitivity=1
                  3: Linear(6→2)  mass=1 sensitivity=1
                """)
            #expect(net.weightNames == ["0.weight", "scale.weight", "3.weight"])

            var rng = RandomGenerator(seed: 0)
            var weights: [Tensor<Float>] = net.initialize(using: &rng)
            let x = Tensor<Float>.randomNormal([8, 4], using: &rng)
            let y = Tensor<Float>.randomNormal([8, 2], using: &rng)
            let (_, gradients) = try valueWithGradient(at: weights) { w in meanSquaredError(try net(x, w), y) }
            let update = try net.dualize(gradients, targetNorm: 0.5)
            #expect(update[1].scalars.allSatisfy { Swift.abs(Swift.abs($0) - 0.5 / 3) < 1e-6 })
            #expect("\(update[1])" == "Tensor<Float>[6][-0.16666667, 0.16666667, 0.16666667, 0.16666667, 0.16666667, -0.16666667]")

            let report = try Scale(width: 6).auditWellNormedness(inputShapes: [[3, 6]], using: &rng)
            #expect(report.isWellNormed, "\(report)")

            let path = NSTemporaryDirectory() + "docs-net-\(UInt32.random(in: 0...UInt32.max)).ckpt"
            defer { try? FileManager.default.removeItem(atPath: path) }
            try Checkpoint.save(weights, of: net, to: path)
            let restored: [Tensor<Float>] = try Checkpoint.load(for: net, from: path)
            #expect(restored == weights)

            var optimizer = try Optimizer<Float>.modular(module: net, learningRate: .constant(0.1))
            let before = weights
            try optimizer.update(&weights, gradients: gradients)
            #expect(weights != before)

            // Muon sends Scale to AdamW; a group of its own selects it by type.
            let muon = try Optimizer<Float>.muon(module: net)
            #expect(muon.groups[muon.assignment[1]].label == "adamw")
            let custom = try Optimizer<Float>(module: net, groups: [
                ParameterGroup("scale", selects: { _, atom in atom is Scale },
                               rule: .dualized(momentum: .none, layout: .perAtom(scale: 1), norm: .atom, step: .unconstrained),
                               learningRate: .constant(0.01)),
                ParameterGroup("rest", rule: .adamW(beta1: 0.9, beta2: 0.99, epsilon: 1e-8), learningRate: .constant(1e-3)),
            ])
            #expect(custom.assignment == [1, 0, 1])
            #expect(Linear(in: 4, out: 6).then(Bias(6)).weightCount == 2)
        }

        @Test("TanhGate's declared sensitivity passes the audit")
        func tanhGate() throws {
            var rng = RandomGenerator(seed: 5)
            let report = try CustomAtomsArticle.TanhGate().auditWellNormedness(inputShapes: [[16, 8]], using: &rng)
            #expect(report.isWellNormed, "\(report)")
            // And the slope really exceeds 1 somewhere (near x = 1.2), so sensitivity 1 would be wrong.
            let x = Tensor<Double>([1.2])
            let slope = try valueWithGradient(at: x) { try CustomAtomsArticle.TanhGate().apply($0).sum() }.gradient.scalar
            #expect(slope > 1.19 && slope < 1.2)
        }

        @Test("Softplus through withPullback: values, gradient against finite differences, composition")
        func softplus() throws {
            let softplus = CustomAtomsArticle.Softplus()
            var rng = RandomGenerator(seed: 6)
            let x = Tensor<Double>.randomNormal([3, 5], using: &rng) * 4
            let y = try softplus.apply(x)
            for (v, s) in zip(x.scalars, y.scalars) {
                #expect(Swift.abs(s - Foundation.log1p(Foundation.exp(v))) < 1e-12)
            }
            let r = Tensor<Double>.randomNormal([3, 5], using: &rng)
            let (_, g) = try valueWithGradient(at: x) { try (softplus.apply($0) * r).sum() }
            let h = 1e-6
            for k in 0..<x.count {
                var plus = x, minus = x
                plus.withUnsafeMutableBufferPointer { $0[k] += h }
                minus.withUnsafeMutableBufferPointer { $0[k] -= h }
                let fd = (try (softplus.apply(plus) * r).sum().scalar - (try softplus.apply(minus) * r).sum().scalar) / (2 * h)
                #expect(Swift.abs(fd - g.scalars[k]) < 1e-7)
            }
            // Without differentiation the result is returned unchanged (no tape).
            #expect(!y.isRecorded)

            let model = Linear(in: 4, out: 8).then(CustomAtomsArticle.Softplus()).then(Linear(in: 8, out: 2))
            let w: [Tensor<Double>] = model.initialize(using: &rng)
            let input = Tensor<Double>.randomNormal([5, 4], using: &rng)
            let err = try gradientCheck(w + [input]) { all in try model.forward([all[2]], weights: all[0..<2]) }
            #expect(err < 1e-6)
            #expect(try model.auditWellNormedness(inputShapes: [[5, 4]], using: &rng).isWellNormed)
        }
    }
}
