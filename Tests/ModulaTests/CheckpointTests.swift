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
        let gpt = GPT(vocabulary: 5, heads: 2, dimension: 4, queryDimension: 2, valueDimension: 2, blocks: 1)
        let wd: [Tensor<Double>] = gpt.initialize(using: &rng)
        try Checkpoint.save(wd, of: gpt, to: dir + "/g.ckpt")
        #expect(try Checkpoint.load(for: gpt, from: dir + "/g.ckpt") == wd)
    }

    @Test("damaged, truncated, foreign and mismatched files give clear errors")
    func badFiles() throws {
        var rng = RandomGenerator(seed: 51)
        let mlp = MLP(input: 3, width: 4, output: 2)
        let w: [Tensor<Float>] = mlp.initialize(using: &rng)
        let path = dir + "/m.ckpt"
        try Checkpoint.save(w, of: mlp, to: path)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 20).write(to: URL(fileURLWithPath: dir + "/truncated.ckpt"))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: dir + "/flipped.ckpt"))
        try Data("hello".utf8).write(to: URL(fileURLWithPath: dir + "/foreign.ckpt"))
        for name in ["truncated", "flipped"] {
            #expect(throws: CheckpointError.corrupt(path: dir + "/\(name).ckpt", reason: "checksum mismatch (the file is damaged or truncated)")) {
                let _: [Tensor<Float>] = try Checkpoint.load(for: mlp, from: dir + "/\(name).ckpt")
            }
        }
        #expect(throws: CheckpointError.notACheckpoint(path: dir + "/foreign.ckpt")) {
            let _: [Tensor<Float>] = try Checkpoint.load(for: mlp, from: dir + "/foreign.ckpt")
        }
        do {
            let _: [Tensor<Float>] = try Checkpoint.load(for: MLP(input: 3, width: 5, output: 2), from: path)
            Issue.record("expected a mismatch")
        } catch let e as CheckpointError {
            #expect(e.description.contains("shape [4, 3], expected [5, 3]"))
        }
        do {
            let _: [Tensor<Double>] = try Checkpoint.load(for: mlp, from: path)
            Issue.record("expected a mismatch")
        } catch let e as CheckpointError { #expect(e.description.contains("32-bit")) }
        #expect(throws: CheckpointError.self) { let _: [Tensor<Float>] = try Checkpoint.load(for: mlp, from: dir + "/missing.ckpt") }
    }

    @Test("a failed save leaves neither a partial file nor a damaged old checkpoint")
    func atomicSave() throws {
        var rng = RandomGenerator(seed: 52)
        let mlp = MLP(input: 3, width: 4, output: 2)
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
