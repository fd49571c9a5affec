import Foundation
import Testing
@testable import ModulaData

@Suite("Metrics log (JSON Lines and TensorBoard)")
struct MetricsLogTests {
    @Test("CRC-32C and TFRecord's mask match their published check values")
    func checksums() {
        // The standard check value of CRC-32C is that of the ASCII digits 1…9 (RFC 3720, appendix B.4).
        #expect(TensorBoardEvents.crc32c(Array("123456789".utf8)) == 0xe306_9283)
        #expect(TensorBoardEvents.crc32c([]) == 0)
        // 32 zero bytes: RFC 3720's first test vector.
        #expect(TensorBoardEvents.crc32c([UInt8](repeating: 0, count: 32)) == 0x8a91_36aa)
        let record = TensorBoardEvents.record([1, 2, 3])
        #expect(record.count == 8 + 4 + 3 + 4)
        #expect(Array(record[0..<8]) == [3, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test("protocol-buffer varints and fields are encoded as the wire format says")
    func protobuf() {
        var w = ProtobufWriter()
        w.varint(field: 2, 300)
        #expect(w.bytes == [0x10, 0xac, 0x02])
        w = ProtobufWriter()
        w.bytes(field: 1, Array("ab".utf8))
        w.float(field: 2, 1)
        #expect(w.bytes == [0x0a, 2, 0x61, 0x62, 0x15, 0, 0, 0x80, 0x3f])
    }

    @Test("every record is one JSON line; NaN and infinity become null; append keeps earlier lines")
    func jsonLines() throws {
        let dir = TemporaryDirectory()
        let folder = dir.file("runs/a")
        do {
            let log = try MetricsLog(directory: folder)
            try log.record(step: 0, [("loss", 2.5), ("learning_rate", 0.1)])
            try log.record(step: 1, [("loss", .nan), ("tokens/s", .infinity), ("say \"hi\"", 1e-5)])
        }
        do {
            let log = try MetricsLog(directory: folder, append: true)
            try log.record(step: 2, [("loss", 1)])
            log.close()
            #expect(throws: DataError.self) { try log.record(step: 3, [("loss", 1)]) }
        }
        let lines = try String(contentsOfFile: folder + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        let records = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(records.map { $0["step"] as? Int } == [0, 1, 2])
        #expect(records[0]["loss"] as? Double == 2.5 && records[0]["learning_rate"] as? Double == 0.1)
        #expect(records[1]["loss"] is NSNull && records[1]["tokens/s"] is NSNull)
        #expect(records[1]["say \"hi\""] as? Double == 1e-5)
        #expect(records.allSatisfy { ($0["wall_time"] as? Double ?? 0) > 1.7e9 })
        // Two processes' worth of event files: one per `MetricsLog`.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains("tfevents") }.count == 2)
    }

    @Test("a log folder blocked by a file gives an error naming it")
    func blockedFolder() throws {
        let dir = TemporaryDirectory()
        let file = dir.write([1], to: "taken")
        let error = dataError { () throws(DataError) in try MetricsLog(directory: file + "/run") }
        #expect(error == .cannotWrite(path: file, reason: "a file of that name is in the way of the log folder"))
    }

    @Test("TensorBoard's EventAccumulator finds every scalar at its step")
    func tensorBoardReadsTheEvents() throws {
        let dir = TemporaryDirectory()
        let folder = dir.file("tb")
        do {
            let log = try MetricsLog(directory: folder)
            for step in 0..<5 {
                try log.record(step: step * 10, [("train/loss", 3 - 0.5 * Double(step)), ("learning_rate", 0.1 / Double(step + 1))])
            }
            try log.record(step: 50, [("validation/loss", 1.25)])
        }
        // Prints "tag step value" per scalar.
        let script = """
            import sys
            from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
            acc = EventAccumulator(sys.argv[1]); acc.Reload()
            for tag in sorted(acc.Tags()["scalars"]):
                for e in acc.Scalars(tag): print(tag, e.step, repr(e.value))
            """
        let out = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, folder]
        process.standardOutput = out
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python3 with tensorboard (scripts/test installs it): \(stderr)")
        var expected: [String] = []
        for step in 0..<5 { expected.append("learning_rate \(step * 10) \(Double(Float(0.1 / Double(step + 1))))") }
        for step in 0..<5 { expected.append("train/loss \(step * 10) \(3 - 0.5 * Double(step))") }
        expected.append("validation/loss 50 1.25")
        #expect(text.split(separator: "\n").map(String.init) == expected, "\(text)")
    }
}
