import Foundation
import Modula
import Testing
@testable import ModulaExamples

extension ExampleResult {
    /// The value of `key` as printed.
    func text(_ key: String) -> String? { entries.first { $0.key == key }?.value }
}

/// A fresh folder for checkpoints.
func temporaryFolder(_ label: String) throws -> String {
    let dir = NSTemporaryDirectory() + "modula-\(label)-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

// Each example in its reduced form, with loose but meaningful bounds. The image examples need the
// Debian package dataset-fashion-mnist, which the README's test command installs.

@Suite("Examples (quick forms)", .serialized)
struct ExamplesTests {
    @Test("hello-world: the loss falls by orders of magnitude")
    func helloWorld() throws {
        let r = try HelloWorld.run(.quick, environment: .quiet)
        #expect(r["initial_loss"]! > 0.5)
        #expect(r["final_loss"]! < 1e-3, "\(r)")
        #expect(r.description.hasPrefix("result hello-world initial_loss="))
    }

    @Test("hello-mnist: well above chance on Fashion-MNIST")
    func helloMNIST() throws {
        let r = try HelloMNIST.run(.quick, environment: .quiet)
        #expect(r["test_accuracy"]! > 0.6, "\(r)")   // chance is 0.1
        #expect(r["images_per_second"]! > 0)
    }

    @Test("hello-gpt: validation loss falls below the uniform guess")
    func helloGPT() throws {
        var c = HelloGPT.Configuration.quick
        // A small text with structure to learn, generated here (no file needed).
        c.text = String(repeating: "the cat sat on the mat. the dog sat on the log. ", count: 60)
        let r = try HelloGPT.run(c, environment: .quiet)
        let uniform = 2.833  // log of the 17-character vocabulary
        #expect(r["initial_val_loss"]! > uniform - 0.3)
        #expect(r["val_loss"]! < uniform - 0.8, "\(r)")
        #expect(r["tokens_per_second"]! > 0)
    }

    @Test("fashion-cnn (the training-loop article): well above chance, evaluated at every k steps")
    func fashionCNN() throws {
        let r = try FashionCNN.run(.quick, environment: .quiet)
        #expect(r["test_accuracy"]! > 0.4, "\(r)")   // chance is 0.1
        #expect(r.description.hasPrefix("result fashion-cnn test_accuracy="))
        #expect(r.text("weights_digest")?.count == 16)
    }

    @Test("weight-erasure: dualized training beats raw gradient descent; dualized gradients have high stable rank")
    func weightErasure() throws {
        let r = try WeightErasure.run(.quick, environment: .quiet)
        #expect(r["best_accuracy_dualized"]! > r["best_accuracy_raw"]!, "\(r)")
        #expect(r["stable_rank_raw"]! < 3, "\(r)")
        #expect(r["stable_rank_dualized"]! > 10 * r["stable_rank_raw"]!, "\(r)")
    }

    @Test("lr-transfer: the modular optimum holds still across width")
    func lrTransfer() throws {
        let r = try LRTransfer.run(.quick, environment: .quiet)
        #expect(r["modular_optimum_shift"]! <= 1, "\(r)")
        #expect(r["baseline_optimum_shift"] != nil)
        #expect(r["modular_wider_is_better"] == 1, "\(r)")
    }

    @Test("hello-mnist: 70 steps, save, resume for 80 more = 150 steps in one run, bit for bit")
    func resumeMNIST() throws {
        let dir = try temporaryFolder("resume-mnist")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let whole = try HelloMNIST.run(.quick, environment: .quiet)
        var first = HelloMNIST.Configuration.quick
        first.checkpoint.path = dir + "/m.safetensors"; first.checkpoint.every = 25; first.checkpoint.stopAfter = 70
        let part = try HelloMNIST.run(first, environment: .quiet)
        var second = HelloMNIST.Configuration.quick
        second.checkpoint.resume = dir + "/m.safetensors"
        let resumed = try HelloMNIST.run(second, environment: .quiet)
        #expect(whole.text("weights_digest")?.count == 16)
        #expect(part.text("weights_digest") != whole.text("weights_digest"))
        #expect(resumed.text("weights_digest") == whole.text("weights_digest"), "\(whole)\n\(resumed)")
        #expect(resumed.text("test_accuracy") == whole.text("test_accuracy") && resumed.text("train_loss") == whole.text("train_loss"))
        var other = second
        other.seed = 1
        do {
            _ = try HelloMNIST.run(other, environment: .quiet)
            Issue.record("resuming with another seed must fail")
        } catch { #expect("\(error)".contains("was written with seed 0, this run has seed 1"), "\(error)") }
        var early = second
        early.checkpoint.stopAfter = 50
        do {
            _ = try HelloMNIST.run(early, environment: .quiet)
            Issue.record("stopping before the checkpoint's step must fail")
        } catch { #expect("\(error)" == "--stop-after 50 lies before the checkpoint's step 70; pick a later step", "\(error)") }
    }

    @Test("hello-gpt: 25 steps, save, resume for 35 more = 60 steps in one run, bit for bit")
    func resumeGPT() throws {
        let dir = try temporaryFolder("resume-gpt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var c = HelloGPT.Configuration.quick
        c.text = String(repeating: "the cat sat on the mat. the dog sat on the log. ", count: 60)
        let whole = try HelloGPT.run(c, environment: .quiet)
        var first = c
        first.checkpoint.path = dir + "/g.safetensors"; first.checkpoint.stopAfter = 25
        _ = try HelloGPT.run(first, environment: .quiet)
        var second = c
        second.checkpoint.resume = dir + "/g.safetensors"
        let resumed = try HelloGPT.run(second, environment: .quiet)
        #expect(resumed.text("weights_digest") == whole.text("weights_digest"), "\(whole)\n\(resumed)")
        #expect(resumed.text("val_loss") == whole.text("val_loss") && resumed.text("initial_val_loss") == whole.text("initial_val_loss"))
        var wrong = c
        wrong.checkpoint.every = 5
        #expect(throws: CheckpointOptionError.self) { try HelloGPT.run(wrong, environment: .quiet) }
    }

    @Test("a missing dataset gives an error naming the apt package")
    func missingDataset() {
        var c = HelloMNIST.Configuration.quick
        c.dataDirectory = "/nonexistent/folder"
        do {
            _ = try HelloMNIST.run(c, environment: .quiet)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("apt-get install dataset-fashion-mnist"))
            #expect("\(error)".contains("/nonexistent/folder"))
        }
    }
}
