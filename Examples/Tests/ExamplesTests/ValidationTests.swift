import Foundation
import Testing
@testable import ModulaExamples

/// Every option is checked before any work starts, with a message naming the option and what it allows.
@Suite("Example option validation")
struct ValidationTests {
    func expectInvalid(_ option: String, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("expected \(option) to be refused", sourceLocation: sourceLocation)
        } catch let error as ExampleError {
            guard case .invalidOption(let name, _, _) = error else {
                Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
                return
            }
            #expect(name == option, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func helloWorld() throws {
        try HelloWorld.Configuration().validate()
        try HelloWorld.Configuration.quick.validate()
        for steps in [0, -5] {
            var c = HelloWorld.Configuration(); c.steps = steps
            expectInvalid("--steps") { try c.validate() }
        }
        var c = HelloWorld.Configuration(); c.width = 0
        expectInvalid("--width") { try c.validate() }
        // run validates too: nothing is trained.
        expectInvalid("--width") { _ = try HelloWorld.run(c, environment: .quiet) }
    }

    @Test func helloMNIST() throws {
        try HelloMNIST.Configuration().validate()
        var c = HelloMNIST.Configuration(); c.batch = 0
        expectInvalid("--batch") { try c.validate() }
        c = HelloMNIST.Configuration(); c.width = 0
        expectInvalid("--width") { try c.validate() }
        c = HelloMNIST.Configuration(); c.steps = 0
        expectInvalid("--steps") { try c.validate() }
        for rate in [-1, 0, Double.nan, .infinity] {
            c = HelloMNIST.Configuration(); c.learningRate = rate
            expectInvalid("--learning-rate") { try c.validate() }
        }
        c = HelloMNIST.Configuration(); c.learningRate = .nan
        #expect(throws: ExampleError.self) { try c.validate() }
        do { try c.validate() } catch {
            #expect(error.description == "--learning-rate must be a finite number > 0, got nan")
        }
    }

    @Test func helloGPT() throws {
        try HelloGPT.Configuration().validate()
        var c = HelloGPT.Configuration(); c.sampleLength = -5
        expectInvalid("--sample-length") { try c.validate() }
        c = HelloGPT.Configuration(); c.steps = 0
        expectInvalid("--steps") { try c.validate() }
        c = HelloGPT.Configuration(); c.temperature = -1
        expectInvalid("--temperature") { try c.validate() }
        c = HelloGPT.Configuration(); c.temperature = .nan
        expectInvalid("--temperature") { try c.validate() }
        c = HelloGPT.Configuration(); c.learningRate = -0.1
        expectInvalid("--learning-rate") { try c.validate() }
        c = HelloGPT.Configuration(); c.temperature = 0; c.sampleLength = 0
        try c.validate()
    }

    @Test("a text too short for the context names the length it needs")
    func shortText() {
        #expect(HelloGPT.Configuration().shortestText == 641)  // ⌊0.9·641⌋ = 576 > 64 and 641 − 576 = 65 > 64
        for length in [2, 100, 640] {
            var c = HelloGPT.Configuration.quick
            c.context = 64
            c.text = String(repeating: "ab", count: length / 2)
            #expect(throws: ExampleError.textTooShort(source: "text", characters: length / 2 * 2, needed: 641, context: 64)) {
                _ = try HelloGPT.run(c, environment: .quiet)
            }
        }
    }

    @Test("temperature 0 samples the most likely character every time")
    func greedySampling() throws {
        var c = HelloGPT.Configuration.quick
        c.steps = 3; c.temperature = 0; c.sampleLength = 12
        c.text = String(repeating: "the cat sat on the mat. ", count: 20)
        let r = try HelloGPT.run(c, environment: .quiet)
        #expect(r["val_loss"]!.isFinite)
    }

    @Test func weightErasureAndLRTransfer() throws {
        try WeightErasure.Configuration().validate()
        try LRTransfer.Configuration().validate()
        var w = WeightErasure.Configuration(); w.width = 0
        expectInvalid("--width") { try w.validate() }
        w = WeightErasure.Configuration(); w.steps = -1
        expectInvalid("--steps") { try w.validate() }
        var l = LRTransfer.Configuration(); l.widths = [64, 0]
        expectInvalid("--widths") { try l.validate() }
        l = LRTransfer.Configuration(); l.widths = []
        expectInvalid("--widths") { try l.validate() }
        l = LRTransfer.Configuration(); l.depths = [2, -1]
        expectInvalid("--depths") { try l.validate() }
        l = LRTransfer.Configuration(); l.steps = 0
        expectInvalid("--steps") { try l.validate() }
    }

    @Test func threads() throws {
        try validateThreads(1)
        try validateThreads(ProcessInfo.processInfo.activeProcessorCount)
        for bad in [0, -1, ProcessInfo.processInfo.activeProcessorCount + 1] {
            expectInvalid("--threads") { try validateThreads(bad) }
        }
    }

    @Test("IDX files with no images give an error naming the folder and the split")
    func noImages() throws {
        let dir = NSTemporaryDirectory() + "modula-examples-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func be32(_ v: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
        for prefix in ["train", "t10k"] {
            let images = [0, 0, 8, 3] + be32(0) + be32(28) + be32(28)
            let labels = [0, 0, 8, 1] + be32(0)
            _ = FileManager.default.createFile(atPath: "\(dir)/\(prefix)-images-idx3-ubyte", contents: Data(images))
            _ = FileManager.default.createFile(atPath: "\(dir)/\(prefix)-labels-idx1-ubyte", contents: Data(labels))
        }
        var c = HelloMNIST.Configuration.quick
        c.dataDirectory = dir
        #expect(throws: ExampleError.noImages(source: dir, split: "train")) { _ = try HelloMNIST.run(c, environment: .quiet) }
    }

    @Test("--skip-nonfinite-steps adds skipped_steps to the result line")
    func skippedStepsKey() throws {
        var c = HelloWorld.Configuration.quick
        c.steps = 5; c.skipNonFiniteSteps = true
        let r = try HelloWorld.run(c, environment: .quiet)
        #expect(r["skipped_steps"] == 0)
        #expect(r.description.contains(" skipped_steps=0"))
    }
}
