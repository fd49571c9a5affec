import Testing
@testable import ModulaData

@Suite("IDX")
struct IDXTests {
    let images = IDXArray(shape: [5, 3, 4], elements: (0..<60).map { UInt8($0 * 4) })
    let labels = IDXArray(shape: [5], elements: [3, 1, 4, 1, 5])

    @Test func encodesTheDocumentedHeader() {
        #expect(Array(images.encoded[..<16]) == [0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 3, 0, 0, 0, 4])
        #expect(images.encoded.count == 16 + 60)
        #expect(Array(labels.encoded[..<8]) == [0, 0, 8, 1, 0, 0, 0, 5])
    }

    @Test(arguments: ["plain", "library", "gzip-command"])
    func roundTripsThroughFiles(kind: String) throws {
        let dir = TemporaryDirectory()
        let suffix = kind == "library" ? ".gz" : ""
        var imagePath = dir.file("images" + suffix), labelPath = dir.file("labels" + suffix)
        switch kind {
        case "gzip-command":
            try images.write(toPath: imagePath, compressed: false)
            try labels.write(toPath: labelPath, compressed: false)
            try run("/bin/sh", ["-c", "gzip '\(imagePath)' '\(labelPath)'"])
            imagePath += ".gz"
            labelPath += ".gz"
        default:
            try images.write(toPath: imagePath)  // compressed because the name ends in .gz
            try labels.write(toPath: labelPath)
        }
        #expect(try IDXArray.readImages(atPath: imagePath) == images)
        #expect(try IDXArray.readLabels(atPath: labelPath) == labels)
        #expect(try IDXArray.read(atPath: imagePath).shape == [5, 3, 4])
    }

    @Test func wrongMagicNamesTheExpectedMagic() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("labels.gz")
        try labels.write(toPath: path)
        let error = dataError { () throws(DataError) in try IDXArray.readImages(atPath: path) }
        guard case let .invalidFormat(p, expected, found)? = error else {
            Issue.record("expected invalidFormat, got \(String(describing: error))")
            return
        }
        #expect(p == path)
        #expect(expected.contains("0x00000803"))
        #expect(found.contains("0x00000801"))
    }

    @Test func nonIDXBytesAreRejected() {
        let error = dataError { () throws(DataError) in try IDXArray.decode(Array("hello, world".utf8), source: "greeting") }
        guard case let .invalidFormat(p, _, found)? = error else {
            Issue.record("expected invalidFormat")
            return
        }
        #expect(p == "greeting")
        #expect(found.contains("not an IDX header"))
    }

    @Test func otherElementTypesAreRejectedByName() {
        var bytes = images.encoded
        bytes[2] = 0x0D
        guard case let .invalidFormat(_, _, found)? = dataError({ () throws(DataError) in try IDXArray.decode(bytes) }) else {
            Issue.record("expected invalidFormat")
            return
        }
        #expect(found.contains("32-bit float"))
    }

    @Test func lengthMustMatchTheDimensions() throws {
        let dir = TemporaryDirectory()
        let short = dir.write(Array(images.encoded.dropLast(7)), to: "short")
        guard case let .invalidFormat(p, expected, found)? = dataError({ () throws(DataError) in try IDXArray.readImages(atPath: short) }) else {
            Issue.record("expected invalidFormat")
            return
        }
        #expect(p == short)
        #expect(expected.contains("76 bytes"))
        #expect(found.contains("69 bytes") && found.contains("truncated"))

        let long = dir.write(images.encoded + [1, 2], to: "long")
        guard case let .invalidFormat(_, _, found2)? = dataError({ () throws(DataError) in try IDXArray.readImages(atPath: long) }) else {
            Issue.record("expected invalidFormat")
            return
        }
        #expect(found2.contains("2 bytes too many"))
    }

    @Test func truncatedGzipIsReportedAsTruncated() throws {
        let dir = TemporaryDirectory()
        let packed = Gzip.compress(images.encoded)
        let path = dir.write(Array(packed.dropLast(10)), to: "images.gz")
        #expect(dataError { () throws(DataError) in try IDXArray.readImages(atPath: path) } == .truncatedCompressedData(path: path))
    }
}
