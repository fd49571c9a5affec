import Testing
@testable import ModulaData

@Suite("Gzip")
struct GzipTests {
    let sample: [UInt8] = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 3) }

    @Test func compressThenDecompressRoundTrips() throws {
        let packed = Gzip.compress(sample)
        #expect(Gzip.isGzip(packed))
        #expect(packed.count < sample.count)
        #expect(try Gzip.decompress(packed) == sample)
        #expect(try Gzip.decompress(Gzip.compress([])) == [])
    }

    @Test func readsFilesWrittenByTheGzipCommand() throws {
        let dir = TemporaryDirectory()
        let plain = dir.write(sample, to: "data.bin")
        try run("/bin/sh", ["-c", "gzip -c '\(plain)' > '\(plain).gz'"])
        #expect(try Gzip.readFile(atPath: plain + ".gz") == sample)
        // A plain file comes back unchanged.
        #expect(try Gzip.readFile(atPath: plain) == sample)
    }

    @Test func concatenatedMembersDecompressToTheConcatenation() throws {
        let a: [UInt8] = Array("first member\n".utf8), b: [UInt8] = Array("second member\n".utf8)
        #expect(try Gzip.decompress(Gzip.compress(a) + Gzip.compress(b)) == a + b)
    }

    @Test func truncatedStreamIsReportedWithItsFileName() {
        let dir = TemporaryDirectory()
        let packed = Gzip.compress(sample)
        let path = dir.write(Array(packed[..<(packed.count / 2)]), to: "cut.gz")
        let error = dataError { () throws(DataError) in try Gzip.readFile(atPath: path) }
        #expect(error == .truncatedCompressedData(path: path))
        #expect(error?.description.contains("cut.gz") == true)
    }

    @Test func corruptStreamIsReportedWithZlibsDiagnosis() {
        let dir = TemporaryDirectory()
        var packed = Gzip.compress(sample)
        for i in 20..<60 { packed[i] ^= 0xA5 }
        let path = dir.write(packed, to: "bad.gz")
        guard case let .corruptCompressedData(p, reason)? = dataError({ () throws(DataError) in try Gzip.readFile(atPath: path) }) else {
            Issue.record("expected corruptCompressedData")
            return
        }
        #expect(p == path)
        #expect(!reason.isEmpty)
    }

    @Test func gzSuffixWithoutGzipDataIsCorrupt() {
        let dir = TemporaryDirectory()
        let path = dir.write(Array("not compressed at all".utf8), to: "plain.gz")
        guard case .corruptCompressedData(let p, let reason)? = dataError({ () throws(DataError) in try Gzip.readFile(atPath: path) }) else {
            Issue.record("expected corruptCompressedData")
            return
        }
        #expect(p == path)
        #expect(reason.contains("header"))
    }

    @Test func trailingGarbageIsCorrupt() {
        let packed = Gzip.compress(sample) + Array("garbage".utf8)
        guard case .corruptCompressedData(_, let reason)? = dataError({ () throws(DataError) in try Gzip.decompress(packed, source: "x") }) else {
            Issue.record("expected corruptCompressedData")
            return
        }
        #expect(reason.contains("after the end"))
    }

    @Test func missingFileIsReportedWithTheOperatingSystemsReason() {
        let error = dataError { () throws(DataError) in try Gzip.readFile(atPath: "/nonexistent/file.gz") }
        guard case let .cannotRead(path, reason)? = error else {
            Issue.record("expected cannotRead, got \(String(describing: error))")
            return
        }
        #expect(path == "/nonexistent/file.gz")
        #expect(reason.contains("No such file"))
    }
}
