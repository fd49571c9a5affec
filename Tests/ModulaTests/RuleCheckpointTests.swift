import Foundation
import Testing
@testable import Modula

// Every rule's state survives a checkpoint: N steps, save, load, M more steps equal N + M steps in one run, bit for bit.
@Suite("Rule state in checkpoints")
struct RuleCheckpointTests {
    @Test("save and resume give the uninterrupted run's weights exactly", arguments: ruleCases.map(\.label))
    func resume(_ label: String) throws {
        let c = ruleCases.first { $0.label == label }!
        let mlp = Sequential.mlp(input: 6, width: 8, output: 4, depth: 3)
        var rng = RandomGenerator(seed: 5)
        let start: [Tensor<Double>] = mlp.initialize(using: &rng)
        var data = RandomGenerator(seed: 1)
        let batches = (0..<6).map { _ in
            (Tensor<Double>.randomNormal([5, 6], using: &data), (0..<5).map { _ in data.nextInt(below: 4) })
        }
        func optimizer() throws -> Optimizer<Double> {
            try Optimizer(module: mlp, groups: [ParameterGroup("all", rule: .rule(c.rule), learningRate: .constant(c.learningRate))])
        }
        func train(_ w: inout [Tensor<Double>], _ opt: inout Optimizer<Double>, _ steps: Range<Int>, _ curvature: inout RandomGenerator) throws {
            for t in steps {
                let (x, y) = batches[t]
                let (_, g) = try valueWithGradient(at: w) { w in crossEntropy(logits: try mlp(x, w), labels: y) }
                if opt.needsCurvature {
                    let (s, b) = try sophiaCurvatureGradients(module: mlp, weights: w, input: x, using: &curvature)
                    try opt.update(&w, gradients: g, curvature: s, curvatureBatchSize: b)
                } else {
                    try opt.update(&w, gradients: g)
                }
            }
        }
        var whole = start, wholeOpt = try optimizer(), wholeCurvature = RandomGenerator(seed: 9)
        try train(&whole, &wholeOpt, 0..<6, &wholeCurvature)

        var part = start, partOpt = try optimizer(), partCurvature = RandomGenerator(seed: 9)
        try train(&part, &partOpt, 0..<4, &partCurvature)
        let path = NSTemporaryDirectory() + "modula-rule-\(label)-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Checkpoint.save(weights: part, optimizer: partOpt.state, rng: ["curvature": partCurvature], of: mlp, to: path)
        let state: TrainingState<Double> = try Checkpoint.loadTrainingState(for: mlp, from: path)
        var resumedOpt = try optimizer()
        resumedOpt.state = state.optimizer
        var resumed = state.weights, resumedCurvature = state.rng["curvature"]!
        #expect(resumedOpt.state == partOpt.state)
        try train(&resumed, &resumedOpt, 4..<6, &resumedCurvature)
        #expect(resumed == whole, "\(label)")
    }
}
