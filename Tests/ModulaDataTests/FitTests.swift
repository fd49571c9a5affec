import Foundation
import Modula
import Testing
@testable import ModulaData

/// A small regression problem: a fixed MLP, batches drawn from the generator (so the data order is part of the
/// state a checkpoint must restore), and a probe batch to evaluate on.
private struct Problem {
    let mlp = Sequential.mlp(input: 6, width: 12, output: 3, depth: 2)
    let probe: (Tensor<Float>, Tensor<Float>)
    var weights: [Tensor<Float>]
    var optimizer: Optimizer<Float>
    var rng: RandomGenerator

    init() throws {
        rng = RandomGenerator(seed: 7)
        weights = mlp.initialize(using: &rng)
        probe = (Tensor.randomNormal([8, 6], using: &rng), Tensor.randomNormal([8, 3], using: &rng))
        optimizer = try Optimizer<Float>.modular(module: mlp, learningRate: .linearDecay(0.1, steps: 12), momentum: .ema(0.9))
    }

    /// Runs `fit` on this problem; a batch drawn at a step in `poisoned` holds NaN.
    mutating func fit(_ options: FitOptions, poisoned: Set<Int> = []) throws -> FitResult {
        let mlp = self.mlp, probe = self.probe
        var drawn = 0
        var options = options
        options.showsProgress = false
        return try ModulaData.fit(weights: &weights, optimizer: &optimizer, rng: &rng, options: options) { rng in
            var x = Tensor<Float>.randomNormal([4, 6], using: &rng)
            if poisoned.contains(drawn) { x = x * Float.nan }
            drawn += 1
            return (x, Tensor<Float>.randomNormal([4, 3], using: &rng))
        } loss: { w, batch in
            meanSquaredError(try mlp(batch.0, w), batch.1)
        } inputs: { batch in
            [batch.0]
        } evaluate: { w in
            [Evaluation.Value("probe_loss", Double(meanSquaredError(try mlp(probe.0, w), probe.1).scalar)),
             Evaluation.Value("weight_norm", Double(w[0].squaredNormValue).squareRoot())]
        }
    }
}

/// The JSON objects of a `metrics.jsonl` file.
private func records(_ path: String) throws -> [[String: Any]] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
        try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
}

@Suite("fit: the training loop")
struct FitTests {
    @Test("evaluations come at step 0, every k steps and after the last step, each once")
    func evaluationCadence() throws {
        var p = try Problem()
        var options = FitOptions(steps: 10)
        options.evaluateAtStart = true; options.evaluateEvery = 3; options.evaluateAtEnd = true
        let run = try p.fit(options)
        #expect(run.evaluations.map(\.step) == [0, 3, 6, 9, 10])
        #expect(run.losses.count == 10 && run.firstStep == 0 && run.end == .completed)
        #expect(run.evaluations.allSatisfy { $0["probe_loss"] != nil && $0["weight_norm"] != nil })
        // Each evaluation sees the weights of its step: the weight norm differs between evaluations.
        #expect(Set(run.evaluations.map { $0["weight_norm"]! }).count == 5, "\(run.evaluations)")

        var q = try Problem()
        options.evaluateAtStart = false; options.evaluateEvery = 5
        #expect(try q.fit(options).evaluations.map(\.step) == [5, 10])   // the end is due anyway: not twice
        var r = try Problem()
        options.evaluateEvery = 0; options.evaluateAtEnd = false
        #expect(try r.fit(options).evaluations.isEmpty)
        #expect(q.weights == r.weights, "evaluating must not change training")
    }

    @Test("5 steps, save, resume for 7 more: the weights, optimizer state, losses and evaluations of 12 steps in one run")
    func resumeEquality() throws {
        let dir = TemporaryDirectory()
        var options = FitOptions(steps: 12)
        options.evaluateAtStart = true; options.evaluateEvery = 4; options.evaluateAtEnd = true
        options.run = ["seed": "7"]
        var whole = try Problem()
        let wholeRun = try whole.fit(options)

        var first = try Problem()
        var saving = options
        saving.checkpoint = dir.file("run.safetensors"); saving.checkpointEvery = 2; saving.stopAfter = 5
        let part = try first.fit(saving)
        #expect(part.end == .stopped(afterStep: 5) && part.losses.count == 5)
        #expect(first.weights != whole.weights)

        var second = try Problem()   // fresh weights: everything must come from the checkpoint
        var resuming = options
        resuming.resume = dir.file("run.safetensors")
        let resumed = try second.fit(resuming)
        #expect(resumed.firstStep == 5 && resumed.stepsTaken == 7 && resumed.end == .completed)
        #expect(second.weights == whole.weights)
        #expect(second.optimizer.state.firstMoment == whole.optimizer.state.firstMoment)
        #expect(second.optimizer.state.step == 12)
        #expect(second.rng.state == whole.rng.state)
        #expect(resumed.losses == wholeRun.losses)
        #expect(resumed.evaluations.map(\.step) == wholeRun.evaluations.map(\.step))
        for (a, b) in zip(resumed.evaluations, wholeRun.evaluations) {
            #expect(a["probe_loss"] == b["probe_loss"] && a["weight_norm"] == b["weight_norm"])
        }

        var other = try Problem()
        resuming.run = ["seed": "8"]
        #expect(throws: FitError.otherRun(path: dir.file("run.safetensors"), key: "seed", saved: "7", current: "8")) {
            try other.fit(resuming)
        }
        resuming.run = ["seed": "7"]; resuming.stopAfter = 5
        #expect(throws: FitError.stopBeforeCheckpoint(path: dir.file("run.safetensors"), stopAfter: 5, checkpointStep: 5)) {
            try other.fit(resuming)
        }
    }

    @Test("a NaN batch stops the run early under .stop, with the weights before it; .skip goes on")
    func earlyStop() throws {
        var stopped = try Problem()
        let run = try stopped.fit(FitOptions(steps: 10), poisoned: [3])
        #expect(run.end == .nonFinite(step: 3, source: .inputBatch))
        #expect(run.losses.count == 4 && run.losses[3].isNaN)
        #expect(throws: OptimizerError.nonFinite(step: 3, source: .inputBatch)) { try run.requireFinite() }
        var three = try Problem()
        _ = try three.fit(FitOptions(steps: 3))
        #expect(stopped.weights == three.weights)

        var skipping = try Problem()
        skipping.optimizer.nonFiniteSteps = .skip
        let skipped = try skipping.fit(FitOptions(steps: 10), poisoned: [3])
        #expect(skipped.end == .completed && skipped.losses.count == 10)
        #expect(skipping.optimizer.skippedSteps == 1 && skipping.optimizer.state.step == 9)
        #expect(skipping.weights.allSatisfy { $0.isFinite })
    }

    @Test("the log holds one record per step (loss, rates, update norms, throughput) and one per evaluation")
    func logRecords() throws {
        let dir = TemporaryDirectory()
        var options = FitOptions(steps: 6)
        options.evaluateEvery = 3
        options.logDirectory = dir.file("log")
        options.throughputName = "examples_per_second"; options.itemsPerStep = 4
        var p = try Problem()
        let run = try p.fit(options)
        let lines = try records(dir.file("log/metrics.jsonl"))
        let steps = lines.filter { $0["loss"] != nil }, evaluations = lines.filter { $0["probe_loss"] != nil }
        #expect(steps.map { $0["step"] as! Int } == Array(0..<6))
        #expect(evaluations.map { $0["step"] as! Int } == [3, 6])
        for (record, loss) in zip(steps, run.losses) {
            // The log writes the shortest round-trip decimal; Foundation's JSON parser on Linux may miss it by an ulp.
            #expect(Swift.abs((record["loss"] as? Double ?? .nan) - loss) <= 2 * loss.ulp)
            #expect((record["examples_per_second"] as? Double ?? 0) > 0)
            let rates = record.keys.filter { $0.hasPrefix("learning_rate/") }, norms = record.keys.filter { $0.hasPrefix("update_norm/") }
            #expect(rates.count == p.optimizer.groups.count && norms.count == p.optimizer.groups.count, "\(record)")
            #expect(norms.allSatisfy { (record[$0] as? Double ?? 0) > 0 })
        }
        // The first step runs at the schedule's initial rate, 0.1.
        let firstRate = steps[0].first { $0.key.hasPrefix("learning_rate/") }?.value as? Double
        #expect(Swift.abs((firstRate ?? .nan) - 0.1) <= 2 * (0.1).ulp)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("log")).contains { $0.hasPrefix("events.out.tfevents.") })
    }

    @Test("options out of range are refused before training, naming the option")
    func invalidOptions() throws {
        var p = try Problem()
        var options = FitOptions(steps: 5)
        options.checkpointEvery = 2
        #expect(throws: FitError.invalidOption("checkpointEvery", value: "2", expected: "0 unless checkpoint names a file")) {
            try p.fit(options)
        }
        options = FitOptions(steps: 5); options.stopAfter = 6
        #expect(throws: FitError.self) { try p.fit(options) }
        #expect("\(FitError.invalidOption("steps", value: "0", expected: "at least 1"))" == "fit: option steps is 0, expected at least 1")
        #expect(p.optimizer.state.step == 0)
    }
}
