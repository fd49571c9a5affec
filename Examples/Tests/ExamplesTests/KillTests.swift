import Foundation
import Modula
import ModulaData
import Testing
@testable import ModulaExamples

/// The `modula-examples` binary beside this test bundle (`swift build --build-tests` builds every
/// product into the same folder).
func examplesBinary() -> String? {
    let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var dir = me.deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("modula-examples").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()  // inside a .xctest bundle on other platforms
    }
    return nil
}

/// Starts `binary arguments…` with its output discarded.
func start(_ binary: String, _ arguments: [String]) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = arguments
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    return p
}

/// Runs to completion; returns the exit status and standard output.
func runToEnd(_ binary: String, _ arguments: [String]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = arguments
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = FileHandle.nullDevice
    try p.run()
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: out, as: UTF8.self))
}

@Suite("Checkpoints survive SIGKILL", .serialized)
struct KillTests {
    @Test("20 runs killed at random moments: the last checkpoint always loads and the resumed run ends bit-identical")
    func sigkill() throws {
        guard let binary = examplesBinary() else {
            Issue.record("modula-examples not found beside the test bundle; run swift build --build-tests")
            return
        }
        let dir = try temporaryFolder("sigkill")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ContinuousClock(), began = clock.now
        let base = ["hello-world", "--quick", "--steps", "120", "--no-figures", "--threads", "1"]
        let (status, reference) = try runToEnd(binary, base)
        #expect(status == 0)
        let digest = reference.split(separator: " ").first { $0.hasPrefix("weights_digest=") }
        #expect(digest != nil, "\(reference)")
        let mlp = Sequential.mlp(input: 64, width: 64, output: 10, depth: 3)  // hello-world's quick network
        var rng = RandomGenerator(seed: UInt64(UInt32.random(in: 0...UInt32.max)))
        var loaded = 0
        for trial in 0..<20 {
            let path = dir + "/kill-\(trial).safetensors"
            let p = try start(binary, base + ["--checkpoint", path, "--checkpoint-every", "1"])
            usleep(UInt32(30_000 + rng.nextInt(below: 370_000)))  // 30–400 ms: before, during and between saves
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            guard FileManager.default.fileExists(atPath: path) else { continue }  // killed before the first save
            let state: TrainingState<Float> = try Checkpoint.loadTrainingState(for: mlp, from: path)
            #expect(state.step >= 1 && state.step <= 120)
            loaded += 1
            let (resumedStatus, resumed) = try runToEnd(binary, base + ["--resume", path])
            #expect(resumedStatus == 0, "trial \(trial): the resumed run failed")
            #expect(resumed.split(separator: " ").first { $0.hasPrefix("weights_digest=") } == digest,
                    "trial \(trial) resumed from step \(state.step): \(resumed)")
        }
        // Leftover temporary files show kills that landed in the middle of a save.
        let torn = (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { $0.contains(".partial-") }.count ?? 0
        print("sigkill test: \(loaded) of 20 killed runs had a checkpoint to load and resume, \(torn) were killed inside a save; \(clock.now - began)")
        #expect(loaded >= 10, "only \(loaded) of 20 runs had saved a checkpoint before the kill")
        #expect(clock.now - began < .seconds(60))
    }
}

@Suite("Example option errors")
struct ExampleOptionErrorTests {
    @Test("an unwritable --figures folder names the folder and the reason, not an NSCocoaErrorDomain dump")
    func unwritableFigures() throws {
        let dir = try temporaryFolder("figures")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/file", contents: Data([1]))
        let env = ExampleEnvironment(figures: dir + "/file/figures", showProgress: false, log: { _ in })
        var plot = LinePlot(title: "t", xLabel: "x", yLabel: "y")
        plot.add("a", y: [1, 2])
        do {
            try env.write(plot, "p.svg")
            Issue.record("expected an error")
        } catch {
            let text = "\(error)"
            #expect(text.contains(dir + "/file is a file, not a folder") && !text.contains("NSCocoaErrorDomain"), "\(text)")
        }
    }
}
