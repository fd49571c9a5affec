import Testing
@testable import ModulaData

/// Files built to mislead the readers: implausible headers, bombs, wrong kinds of paths.
@Suite("Hostile data files")
struct HostileFileTests {
    /// An IDX header of rank `dims.count` with these (big-endian) dimensions.
    func header(_ dims: [UInt32]) -> [UInt8] {
        [0, 0, 8, UInt8(dims.count)] + dims.flatMap { d in [UInt8(d >> 24), UInt8((d >> 16) & 0xFF), UInt8((d >> 8) & 0xFF), UInt8(d & 0xFF)] }
    }

    func found(_ body: () throws(DataError) -> IDXArray) -> String {
        if case let .invalidFormat(_, _, f)? = dataError(body) { return f }
        return "no invalidFormat error: \(String(describing: dataError(body)))"
    }

    @Test func implausibleHeadersAreNotCalledTruncated() {
        let dir = TemporaryDirectory()
        // 60000 images of 28×28 declared, 100 bytes present: a damaged header, not a cut-off download.
        let implausible = dir.write(header([60000, 28, 28]) + [UInt8](repeating: 0, count: 100), to: "implausible")
        let f1 = found { () throws(DataError) in try IDXArray.readImages(atPath: implausible) }
        #expect(f1.contains("over twice") && f1.contains("header is damaged") && !f1.contains("the file is truncated"), "\(f1)")
        let overflow = dir.write(header([0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF]), to: "overflow")
        let f2 = found { () throws(DataError) in try IDXArray.readImages(atPath: overflow) }
        #expect(f2.contains("multiply past Int.max"), "\(f2)")
        let cut = dir.write(header([10, 2, 2]) + [UInt8](repeating: 0, count: 30), to: "cut")
        let f3 = found { () throws(DataError) in try IDXArray.readImages(atPath: cut) }
        #expect(f3.contains("the file is truncated: 10 bytes are missing"), "\(f3)")
        let empty = dir.write([], to: "empty")
        #expect(found { () throws(DataError) in try IDXArray.readImages(atPath: empty) }.contains("only 0 bytes"))
    }

    /// 3 MB of gzip members that inflate to 3 GiB of zeros (gzip allows members one after another).
    func bomb(prefix: [UInt8]) -> [UInt8] {
        let member = Gzip.compress([UInt8](repeating: 0, count: 1 << 20), level: 9)
        var out = Gzip.compress(prefix)
        out.reserveCapacity(out.count + 3072 * member.count)
        for _ in 0..<3072 { out += member }
        return out
    }

    @Test func decompressionBombsAreRefusedAtTheLimit() throws {
        let b = bomb(prefix: [1, 2, 3])
        #expect(b.count < 4 << 20)
        #expect(dataError { () throws(DataError) in try Gzip.decompress(b, source: "bomb.gz", maximumBytes: 8 << 20) }
                == .decompressedTooLarge(path: "bomb.gz", limit: 8 << 20))
        // Exactly at the limit is fine; one byte more is not.
        let small = Gzip.compress([UInt8](repeating: 7, count: 1000))
        #expect(try Gzip.decompress(small, maximumBytes: 1000).count == 1000)
        #expect(dataError { () throws(DataError) in try Gzip.decompress(small, source: "s", maximumBytes: 999) } == .decompressedTooLarge(path: "s", limit: 999))
    }

    @Test func idxBombsInflateNoFurtherThanTheirHeaderDeclares() {
        let dir = TemporaryDirectory()
        // A valid 2-label file followed by 3 GiB of zeros: refused after 10 bytes, not after 3 GiB.
        let path = dir.write(bomb(prefix: header([2]) + [1, 2]), to: "labels.gz")
        let f = found { () throws(DataError) in try IDXArray.readLabels(atPath: path) }
        #expect(f.contains("more decompressed data"), "\(f)")
        // A header that declares far more than any limit is refused before inflating the body.
        let huge = dir.write(Gzip.compress(header([0xFFFF_FFFF, 0xFFFF]) + [0, 0]), to: "huge.gz")
        let f2 = found { () throws(DataError) in try IDXArray.read(atPath: huge) }
        #expect(f2.contains("refused before inflating"), "\(f2)")
    }

    @Test func aRegularFileGivenAsTheDatasetFolderIsNamedAsSuch() {
        let dir = TemporaryDirectory()
        let file = dir.write([1, 2, 3], to: "not-a-folder")
        guard case let .missingDataset(_, _, remedy)? = dataError({ () throws(DataError) in try ImageClassificationDataset.mnistFormat(directory: file) }) else {
            Issue.record("expected missingDataset")
            return
        }
        #expect(remedy.contains("is a file, not a directory") && !remedy.contains("does not exist"), "\(remedy)")
    }

    @Test func directoriesAreNotReadErrors() {
        let dir = TemporaryDirectory()
        #expect(dataError { () throws(DataError) in try Gzip.readFile(atPath: dir.path) } == .cannotRead(path: dir.path, reason: "it is a directory"))
    }
}
