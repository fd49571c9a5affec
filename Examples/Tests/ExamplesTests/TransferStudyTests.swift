import Foundation
import Testing
@testable import ModulaExamples

/// Collects what a progress display writes.
final class TextSink: @unchecked Sendable {
    private let lock = NSLock()
    private var chunks: [String] = []
    var text: String { lock.withLock { chunks.joined() } }
    func append(_ s: String) { lock.withLock { chunks.append(s) } }
}

// The transfer study in miniature: every point written as it finishes, a re-run that trains nothing, a grid that
// extends itself at an edge, and one result line per curve.
@Suite("Transfer study", .serialized)
struct TransferStudyTests {
    func configuration(_ out: String) -> TransferStudy.Configuration {
        var c = TransferStudy.Configuration()
        c.model = .mlp
        c.optimizers = ["adamw", "sgd"]
        c.parametrizations = ["standard", "mup"]
        c.widths = [16, 32]
        c.steps = 8
        c.batch = 32
        c.limit = 1000
        c.log2LearningRates = -9...(-4)
        c.maxExtensions = 1
        c.outputDirectory = out
        return c
    }

    func lines(_ path: String) -> [Substring] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
    }

    @Test("points are written as they finish; a re-run reads them back and trains none")
    func resumes() throws {
        let out = NSTemporaryDirectory() + "modula-study-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: out) }
        let c = configuration(out)
        let first = try TransferStudy.run(c, environment: .quiet)
        #expect(first.count == 4)  // 2 optimizers × 2 parametrizations, one width sweep
        let written = lines(out + "/points.jsonl").count
        #expect(written >= 2 * 2 * 2 * 6)
        #expect(lines(out + "/points.csv").count == written + 1)  // and a header
        for r in first {
            #expect(r.description.hasPrefix("result lr-transfer model=mlp sweep=width optimizer="), "\(r)")
            #expect(r.description.contains(" best_log2_lr="), "\(r)")
        }
        let second = try TransferStudy.run(c, environment: .quiet)
        #expect(lines(out + "/points.jsonl").count == written)
        #expect(second.map(\.description) == first.map(\.description))
        #expect(FileManager.default.fileExists(atPath: out + "/table.md"))
        #expect(FileManager.default.fileExists(atPath: out + "/lr-transfer-study-width.svg"))
    }

    @Test("a best rate on the grid's edge extends the grid on that side, up to the bound")
    func extendsAtTheEdge() throws {
        var c = configuration(NSTemporaryDirectory() + "modula-study-" + UUID().uuidString)
        defer { try? FileManager.default.removeItem(atPath: c.outputDirectory!) }
        c.optimizers = ["sgd"]
        c.parametrizations = ["standard"]
        c.log2LearningRates = -20...(-19)  // far too small: the best is the largest rate
        c.maxExtensions = 2
        let r = try TransferStudy.run(c, environment: .quiet)
        #expect(r.count == 1)
        #expect(r[0].description.contains("grid_extended=2"), "\(r[0])")
        #expect(r[0].description.contains("best_log2_lr=-17,-17"), "\(r[0])")
        #expect(r[0].description.contains("optimum_at_edge=1"), "\(r[0])")
    }

    @Test("an extended grid extends the progress display (no saturation at 100 %); --log-dir gets one run per point")
    func progressAndLogs() throws {
        var c = configuration(NSTemporaryDirectory() + "modula-study-" + UUID().uuidString)
        let logs = c.outputDirectory! + "-logs"
        defer { for d in [c.outputDirectory!, logs] { try? FileManager.default.removeItem(atPath: d) } }
        (c.optimizers, c.parametrizations, c.log2LearningRates, c.maxExtensions) = (["sgd"], ["standard"], -20...(-19), 2)
        let sink = TextSink()
        var env = ExampleEnvironment.quiet
        env.showProgress = true
        env.progressOutput = { sink.append($0) }
        env.metricsDirectory = logs
        _ = try TransferStudy.run(c, environment: env)
        // Two widths × (two rates + one per extension): 8 points, each counted once.
        let counts = sink.text.split(separator: "\n").compactMap { line -> (Int, Int)? in
            guard let r = line.range(of: "step ") else { return nil }
            let parts = line[r.upperBound...].prefix { $0 != " " }.split(separator: "/")
            return parts.count == 2 ? (Int(parts[0].trimmingCharacters(in: .whitespaces))!, Int(parts[1])!) : nil
        }
        #expect(counts.last.map { $0 == (8, 8) } == true, "\(sink.text)")
        #expect(counts.allSatisfy { $0.0 <= $0.1 })
        #expect(counts.contains { $0.0 < $0.1 && $0.1 > 4 }, "the total grew while points remained: \(sink.text)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: logs).sorted()
        #expect(runs.count == 8 && runs.contains("mlp-sgd-standard-width-w16-d3-log2lr_-20-seed0-steps8-batch32"), "\(runs)")
        let records = lines(logs + "/" + runs[0] + "/metrics.jsonl")
        #expect(records.count == c.steps + 1)   // one per step and the final evaluation
        #expect(records[0].contains("\"loss\":") && records[0].contains("\"learning_rate/") && records[0].contains("\"update_norm/"))
        #expect(records.last!.contains("\"eval_loss\":"))
    }

    @Test("an unknown optimizer or parametrization is refused, naming the option")
    func unknownNames() {
        var c = configuration(NSTemporaryDirectory() + "unused")
        c.optimizers = ["adamw", "rmsprop"]
        #expect(throws: StudyError.self) { try TransferStudy.run(c, environment: .quiet) }
        c.optimizers = ["adamw"]
        c.parametrizations = ["ntk"]
        #expect(throws: StudyError.self) { try TransferStudy.run(c, environment: .quiet) }
    }

    @Test("the curve's summaries: optimum, shift, edges and wider-is-better")
    func curveSummaries() {
        let cv = TransferStudy.Curve(optimizer: "x", parametrization: "mup", sweep: "width", sizes: [64, 128, 256],
                                     rates: [-3, -2, -1, 0],
                                     losses: [[2, 1.5, 1.2, nil], [1.9, 1.4, 1.1, 3], [1.8, 1.1, 1.3, nil]],
                                     spreads: [], spectral: [[[:], [:], [:], [:]], [[:], [:], [:], [:]], [[:], [:], [:], [:]]])
        #expect(cv.bestLog2Rates == [-1, -1, -2])
        #expect(cv.optimumShift == 1)
        #expect(cv.edges.isEmpty)
        #expect(cv.widerBetterAtOptimum)
        #expect(!cv.widerBetterEverywhere)  // at 2^-1 the widest is worse; at 2^0 two sizes diverge
    }
}

@Suite("Coordinate check example", .serialized)
struct CoordCheckExampleTests {
    func flagged(_ optimizer: String, _ parametrization: String) throws -> Double {
        var c = CoordCheckExample.Configuration.quick
        (c.optimizer, c.parametrization) = (optimizer, parametrization)
        let r = try CoordCheckExample.run(c, environment: .quiet)
        #expect(r.description.hasPrefix("result coord-check model=mlp optimizer=\(optimizer) parametrization=\(parametrization) layers=5 flagged="))
        return r["flagged"]!
    }

    @Test("standard-parametrized Adam is flagged on Fashion-MNIST; μP Adam and the modular norm are not")
    func flags() throws {
        #expect(try flagged("adamw", "standard") >= 1)
        #expect(try flagged("adamw", "mup") == 0)
        #expect(try flagged("modular", "modular") == 0)
    }

    @Test("a rate at which training diverges is reported as such, naming the option")
    func divergence() {
        var c = CoordCheckExample.Configuration.quick
        c.optimizer = "shampoo"
        c.log2LearningRate = 4
        #expect(throws: StudyError.self) { try CoordCheckExample.run(c, environment: .quiet) }
    }
}

@Suite("Metrics logs of the examples")
struct ExampleMetricsTests {
    @Test("--log-dir: one JSON line per step with the loss, learning rate and update norm, and an event file")
    func helloWorldLog() throws {
        let dir = NSTemporaryDirectory() + "modula-log-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var env = ExampleEnvironment.quiet
        env.metricsDirectory = dir
        var c = HelloWorld.Configuration.quick
        c.steps = 12
        _ = try HelloWorld.run(c, environment: env)
        let lines = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 12)
        let records = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(records.map { $0["step"] as? Int } == Array(0..<12))
        for r in records {
            #expect((r["loss"] as? Double ?? -1) > 0)
            #expect((r["update_norm/modular"] as? Double ?? -1) > 0)
            #expect(r["learning_rate/modular"] is Double)
        }
        // The linear decay: 0.1·(1 − t/12) at step t.
        #expect(abs((records[6]["learning_rate/modular"] as! Double) - 0.05) < 1e-12)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).contains { $0.hasPrefix("events.out.tfevents.") })
    }
}
