import Foundation
import Testing
@testable import Modula

/// Runs `python3 -c script args…`; returns its exit status and combined output.
private func python(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", script] + arguments
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

// scripts/test installs `safetensors` and `numpy` (pip) when they are missing.
@Suite("Checkpoints with Python's safetensors")
struct PythonInteropTests {
    @Test("a checkpoint written here loads in Python with identical values, and Python's file loads here")
    func interop() throws {
        let dir = NSTemporaryDirectory() + "modula-py-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = RandomGenerator(seed: 60)
        let mlp = Sequential.mlp(input: 3, width: 4, output: 2)
        var w: [Tensor<Float>] = mlp.initialize(using: &rng)
        var opt = try Optimizer<Float>.modular(module: mlp, learningRate: .constant(0.1), momentum: .ema(0.9))
        let x = Tensor<Float>.randomNormal([5, 3], using: &rng), y = Tensor<Float>.randomNormal([5, 2], using: &rng)
        let (_, g) = try valueWithGradient(at: w) { w in meanSquaredError(try mlp(x, w), y) }
        try opt.update(&w, gradients: g)
        let ours = dir + "/ours.safetensors", theirs = dir + "/theirs.safetensors"
        try Checkpoint.save(weights: w, optimizer: opt.state, rng: ["main": rng], extra: ["note": "é"], of: mlp, to: ours)

        // Python reads our file, checks dtypes, shapes and metadata, and writes every tensor back
        // (plus one it computes) with numpy; the values must come back bit for bit.
        let script = """
        import sys, numpy as np
        from safetensors import safe_open
        from safetensors.numpy import load_file, save_file
        src, dst = sys.argv[1], sys.argv[2]
        t = load_file(src)
        with safe_open(src, "np") as f: meta = f.metadata()
        assert meta["format"] == "swift-modula training state" and meta["step"] == "1" and meta["extra.note"] == "é", meta
        assert sorted(t) == ["0.weight", "0.weight.firstMoment", "2.weight", "2.weight.firstMoment", "4.weight", "4.weight.firstMoment"], sorted(t)
        assert all(a.dtype == np.float32 for a in t.values())
        assert t["0.weight"].shape == (4, 3) and t["4.weight"].shape == (2, 4)
        weights = {k: v for k, v in t.items() if not k.endswith("firstMoment")}
        weights["0.weight"] = weights["0.weight"] + np.float32(0.5)
        save_file(weights, dst, metadata={"written_by": "python"})
        print("python ok", float(t["2.weight"].sum()))
        """
        let (status, output) = try python(script, [ours, theirs])
        #expect(status == 0, "\(output)")
        guard status == 0 else { return }
        let back: TrainingState<Float> = try Checkpoint.loadTrainingState(for: mlp, from: theirs)
        #expect(back.formatVersion == 0 && back.step == 0 && back.optimizer.firstMoment.isEmpty)
        #expect(back.weights[1] == w[1] && back.weights[2] == w[2])
        // x + 0.5 rounds the same way in numpy's float32 and in Swift's Float (IEEE 754 addition).
        #expect(back.weights[0] == w[0] + Tensor(repeating: 0.5, shape: w[0].shape))
        let file = try SafeTensors.read(atPath: theirs)
        #expect(file.metadata == ["written_by": "python"])
        // Double weights are F64 on both sides.
        let wd: [Tensor<Double>] = mlp.initialize(using: &rng)
        let ours64 = dir + "/ours64.safetensors", theirs64 = dir + "/theirs64.safetensors"
        try Checkpoint.save(wd, of: mlp, to: ours64)
        let copy = """
        import sys, numpy as np
        from safetensors.numpy import load_file, save_file
        t = load_file(sys.argv[1])
        assert all(a.dtype == np.float64 for a in t.values()), {k: a.dtype for k, a in t.items()}
        save_file(t, sys.argv[2])
        """
        let (status64, output64) = try python(copy, [ours64, theirs64])
        #expect(status64 == 0, "\(output64)")
        #expect(try Checkpoint.load(for: mlp, from: theirs64) == wd)
    }
}
