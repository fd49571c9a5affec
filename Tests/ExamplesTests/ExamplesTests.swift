import Testing
@testable import ModulaExamples

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
