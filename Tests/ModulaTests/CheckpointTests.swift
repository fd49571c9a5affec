import Foundation
import Testing
@testable import Modula

@Suite("Checkpoints")
struct CheckpointTests {
    let dir = NSTemporaryDirectory() + "modula-ckpt-\(UInt32.random(in: 0...UInt32.max))"
    init() throws { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }

    @Test("weights round-trip exactly, with metadata, for built-in and custom atoms")
    func roundTrip() throws {
        var rng = RandomGenerator(seed: 50)
        let net = Sequential([Linear(in: 4, out: 6), Scale(width: 6).named("scale"), ReLU(), Linear(in: 6, out: 2)])
        let w: [Tensor<Float>] = net.initialize(using: &rng)
        let path = dir + "/a.ckpt"
        try Checkpoint.save(w, of: net, to: path, metadata: ["step": "12"])
        let (back, meta): ([Tensor<Float>], [String: String]) = try Checkpoint.read(for: net, from: path)
        #expect(back == w && meta == ["step": "12"])
        let gpt = Sequential.gpt(vocabulary: 5, heads: 2, dimension: 4, queryDimension: 2, valueDimension: 2, blocks: 1)
        let wd: [Tensor<Double>] = gpt.initialize(using: &rng)
        try Checkpoint.save(wd, of: gpt, to: dir + "/g.ckpt")
        #expect(try Checkpoint.load(for: gpt, from: dir + "/g.ckpt") == wd)
    }

    @Test("the whole training state round-trips, and training continues bit for bit")
    func trainingState() throws {
        var rng = RandomGenerator(seed: 53)
        let mlp = Sequential.mlp(input: 5, width: 7, output: 3)
        var w: [Tensor<Float>] = mlp.initialize(using: &rng)
        var opt = try Optimizer<Float>.adamW(module: mlp, learningRate: .linearDecay(0.01, steps: 20))
        func step(_ w: inout [Tensor<Float>], _ opt: inout Optimizer<Float>, _ rng: inout RandomGenerator) throws {
            let x = Tensor<Float>.randomNormal([4, 5], using: &rng), y = Tensor<Float>.randomNormal([4, 3], using: &rng)
            let (_, g) = try valueWithGradient(at: w) { w in meanSquaredError(try mlp(x, w), y) }
            try opt.update(&w, gradients: g)
        }
        for _ in 0..<5 { try step(&w, &opt, &rng) }
        let path = dir + "/state.safetensors"
        try Checkpoint.save(weights: w, optimizer: opt.state, rng: ["main": rng], extra: ["note": "five steps"], of: mlp, to: path)
        let s: TrainingState<Float> = try Checkpoint.loadTrainingState(for: mlp, from: path)
        #expect(s.weights == w && s.optimizer == opt.state && s.rng == ["main": rng] && s.extra == ["note": "five steps"])
        #expect(s.step == 5 && !s.optimizer.secondMoment.isEmpty && s.formatVersion == 2)
        var (w2, opt2, rng2) = (s.weights, try Optimizer<Float>.adamW(module: mlp, learningRate: .linearDecay(0.01, steps: 20)), s.rng["main"]!)
        opt2.state = s.optimizer
        for _ in 0..<5 { try step(&w, &opt, &rng); try step(&w2, &opt2, &rng2) }
        #expect(Checkpoint.digest(w) == Checkpoint.digest(w2))
        #expect(Checkpoint.digest(w).count == 16)
    }

    @Test("files of the earlier v1 format still load")
    func version1() throws {
        var rng = RandomGenerator(seed: 54)
        let mlp = Sequential.mlp(input: 3, width: 4, output: 2)
        let w: [Tensor<Float>] = mlp.initialize(using: &rng)
        let path = dir + "/old.ckpt"
        try Data(CheckpointV1.encode(w, names: mlp.weightNames, metadata: ["step": "3"])).write(to: URL(fileURLWithPath: path))
        let s: TrainingState<Float> = try Checkpoint.loadTrainingState(for: mlp, from: path)
        #expect(s.weights == w && s.extra == ["step": "3"] && s.formatVersion == 1)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(throws: CheckpointError.corrupt(path: path, reason: "checksum mismatch (the file is damaged or truncated)")) {
            let _: [Tensor<Float>] = try Checkpoint.load(for: mlp, from: path)
        }
    }

    @Test("damaged, truncated, foreign and mismatched files give clear errors")
    func badFiles() throws {
        var rng = RandomGenerator(seed: 51)
        let mlp = Sequential.mlp(input: 3, width: 4, output: 2)
        let w: [Tensor<Float>] = mlp.initialize(using: &rng)
        let path = dir + "/m.ckpt"
        try Checkpoint.save(w, of: mlp, to: path)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 20).write(to: URL(fileURLWithPath: dir + "/truncated.ckpt"))
        bytes[bytes.count - 10] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: dir + "/flipped.ckpt"))
        try Data("hello".utf8).write(to: URL(fileURLWithPath: dir + "/foreign.ckpt"))
        try Data("this is plainly a text file\n".utf8).write(to: URL(fileURLWithPath: dir + "/text.ckpt"))
        func failure(_ p: String, _ m: any Module = Sequential.mlp(input: 3, width: 4, output: 2), double: Bool = false) -> CheckpointError? {
            do {
                if double { let _: [Tensor<Double>] = try Checkpoint.load(for: m, from: p) } else { let _: [Tensor<Float>] = try Checkpoint.load(for: m, from: p) }
                return nil
            } catch { return error as? CheckpointError }
        }
        guard case .invalidFile(.offsetsOutOfRange)? = failure(dir + "/truncated.ckpt") else { Issue.record("truncated: \(String(describing: failure(dir + "/truncated.ckpt")))"); return }
        #expect(failure(dir + "/flipped.ckpt") == .corrupt(path: dir + "/flipped.ckpt", reason: "data checksum mismatch (the tensors' bytes are damaged)"))
        #expect(failure(dir + "/foreign.ckpt") == .notACheckpoint(path: dir + "/foreign.ckpt"))
        #expect(failure(dir + "/text.ckpt") == .notACheckpoint(path: dir + "/text.ckpt"))
        let wider = failure(path, Sequential.mlp(input: 3, width: 5, output: 2))?.description ?? ""
        #expect(wider.contains("the module differs: line 2") && wider.contains("Linear(3→4)") && wider.contains("Linear(3→5)"), "\(wider)")
        #expect(failure(path, double: true)?.description.contains("tensor '0.weight' is F32, expected F64") == true)
        #expect(failure(dir + "/missing.ckpt") == .io(path: dir + "/missing.ckpt", reason: "No such file or directory"))
        #expect(failure(dir) == .io(path: dir, reason: "it is a directory, not a file"))
    }

    @Test("a failed save leaves neither a partial file nor a damaged old checkpoint")
    func atomicSave() throws {
        var rng = RandomGenerator(seed: 52)
        let mlp = Sequential.mlp(input: 3, width: 4, output: 2)
        let w: [Tensor<Float>] = mlp.initialize(using: &rng)
        let path = dir + "/keep.ckpt"
        try Checkpoint.save(w, of: mlp, to: path)
        var bad = w
        bad[0] = Tensor(repeating: .nan, shape: w[0].shape)
        #expect(throws: CheckpointError.nonFinite(path: path, weight: "0.weight")) { try Checkpoint.save(bad, of: mlp, to: path) }
        #expect(try Checkpoint.load(for: mlp, from: path) == w)
        #expect(throws: CheckpointError.self) { try Checkpoint.save(w, of: mlp, to: dir + "/no/such/folder/x.ckpt") }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("partial") }
        #expect(leftovers.isEmpty)
    }
}
