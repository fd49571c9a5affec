import ModulaTensor
/// An array of unsigned bytes in the IDX format of the MNIST family of datasets.
///
/// An IDX file is a 4-byte magic number `00 00 08 r` (element type `08` = unsigned byte, `r` = rank),
/// `r` big-endian 32-bit dimensions, then the elements in row-major order. Image files have magic
/// `0x00000803` and shape `[n, rows, columns]`; label files have magic `0x00000801` and shape `[n]`.
/// Files may be gzipped (as distributed) or plain.
///
/// ```swift
/// let labels = try IDXArray.readLabels(atPath: "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")
/// labels.shape         // [10000]
/// labels.elements[0]   // 9 (ankle boot)
/// ```
public struct IDXArray: Equatable, Sendable {
    /// The extent of each axis, outermost first.
    public let shape: [Int]
    /// The elements in row-major order (`shape.reduce(1, *)` of them).
    public let elements: [UInt8]

    /// The magic number of an unsigned-byte IDX file of rank `rank`: `0x00000800 | rank`.
    public static func magic(rank: Int) -> UInt32 { 0x0000_0800 | UInt32(rank) }

    /// The magic number of an image file (`0x00000803`, shape `[n, rows, columns]`).
    public static let imageMagic: UInt32 = 0x0000_0803
    /// The magic number of a label file (`0x00000801`, shape `[n]`).
    public static let labelMagic: UInt32 = 0x0000_0801

    /// An array of the given shape holding `elements` in row-major order.
    ///
    /// - Precondition: every dimension lies in 0…2³²−1, the rank is at most 255 and `elements` fills the shape. Stops with a message otherwise.
    public init(shape: [Int], elements: [UInt8]) {
        require(shape.allSatisfy { $0 >= 0 && $0 <= Int(UInt32.max) }, "IDXArray: dimensions must be in 0...2³²−1, got \(shape)")
        require(shape.count <= 255, "IDXArray: rank must be at most 255, got \(shape.count)")
        let n = shape.reduce(1, *)
        require(elements.count == n, "IDXArray: shape \(shape) needs \(n) elements, got \(elements.count)")
        self.shape = shape
        self.elements = elements
    }

    /// Reads an unsigned-byte IDX file of any rank (gzipped or plain).
    ///
    /// - Parameters:
    ///   - path: the file, gzipped or plain.
    ///   - expectedRank: when given, a file of another rank is rejected with an error naming
    ///     the expected magic number.
    /// A gzipped file is inflated only as far as its IDX header declares (and at most
    /// ``Gzip/defaultMaximumBytes``): a decompression bomb is refused before it fills memory.
    ///
    /// - Throws: ``DataError`` naming the file: unreadable, damaged compression, a wrong magic number or
    ///   element type, or a length that disagrees with the dimensions in the header.
    public static func read(atPath path: String, expectedRank: Int? = nil) throws(DataError) -> IDXArray {
        let raw = try FileIO.readBytes(atPath: path)
        guard Gzip.isGzip(raw) || path.hasSuffix(".gz") else { return try decode(raw, source: path, expectedRank: expectedRank) }
        // The header (4 + 4·rank ≤ 1024 bytes) first, then exactly what it declares, and not a byte more.
        let head = try Gzip.decompressedPrefix(raw, source: path, count: 4 + 4 * 255)
        guard let declared = declaredSize(head) else {
            return try decode(head, source: path, expectedRank: expectedRank)  // reports the header's defect
        }
        guard declared <= Gzip.defaultMaximumBytes else {
            throw .invalidFormat(path: path, expected: "at most \(Gzip.defaultMaximumBytes) decompressed bytes",
                                 found: "a header declaring \(declared) bytes (refused before inflating; the header is damaged or the file too large)")
        }
        do {
            return try decode(Gzip.decompress(raw, source: path, maximumBytes: declared), source: path, expectedRank: expectedRank)
        } catch .decompressedTooLarge {
            throw .invalidFormat(path: path, expected: "\(declared) bytes, as its header declares",
                                 found: "more decompressed data (inflation stopped there)")
        }
    }

    /// The file size the header at the start of `bytes` declares, if the header is complete and the size fits in `Int`.
    static func declaredSize(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else { return nil }
        let rank = Int(bytes[3]), headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else { return nil }
        var n = 1
        for i in 0..<rank {
            let (p, o) = n.multipliedReportingOverflow(by: Int(readBigEndian(bytes, at: 4 + 4 * i)))
            if o { return nil }
            n = p
        }
        let (total, o) = n.addingReportingOverflow(headerSize)
        return o ? nil : total
    }

    /// Reads an image file: magic `0x00000803`, shape `[n, rows, columns]`.
    public static func readImages(atPath path: String) throws(DataError) -> IDXArray {
        try read(atPath: path, expectedRank: 3)
    }

    /// Reads a label file: magic `0x00000801`, shape `[n]`.
    public static func readLabels(atPath path: String) throws(DataError) -> IDXArray {
        try read(atPath: path, expectedRank: 1)
    }

    /// Parses the bytes of an IDX file.
    ///
    /// - Parameters:
    ///   - bytes: the uncompressed file contents.
    ///   - source: the name used in error messages.
    ///   - expectedRank: when given, another rank is rejected (see ``read(atPath:expectedRank:)``).
    public static func decode(_ bytes: [UInt8], source: String = "<memory>", expectedRank: Int? = nil) throws(DataError) -> IDXArray {
        let what: String
        switch expectedRank {
        case 3?: what = "IDX magic \(hex(imageMagic)) (unsigned-byte images [n, rows, columns])"
        case 1?: what = "IDX magic \(hex(labelMagic)) (unsigned-byte labels [n])"
        case let rank?: what = "IDX magic \(hex(magic(rank: rank))) (unsigned bytes, rank \(rank))"
        case nil: what = "an IDX magic number 0x000008NN (unsigned bytes, rank NN)"
        }
        guard bytes.count >= 4 else {
            throw .invalidFormat(path: source, expected: what, found: "a file of only \(bytes.count) bytes")
        }
        let found = readBigEndian(bytes, at: 0)
        guard bytes[0] == 0, bytes[1] == 0, let elementType = elementTypeName(bytes[2]) else {
            throw .invalidFormat(path: source, expected: what, found: "\(hex(found)), which is not an IDX header")
        }
        let rank = Int(bytes[3])
        guard bytes[2] == 0x08 else {
            throw .invalidFormat(path: source, expected: what,
                                 found: "\(hex(found)) (elements of type \(elementType); only unsigned bytes, type 0x08, are supported)")
        }
        if let expectedRank, rank != expectedRank {
            throw .invalidFormat(path: source, expected: what, found: "\(hex(found)) (rank \(rank))")
        }
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw .invalidFormat(path: source, expected: "a header of \(headerSize) bytes for rank \(rank)",
                                 found: "a file of only \(bytes.count) bytes")
        }
        let shape = (0..<rank).map { Int(readBigEndian(bytes, at: 4 + 4 * $0)) }
        let (count, overflow) = shape.reduce((1, false)) { acc, d in
            let (p, o) = acc.0.multipliedReportingOverflow(by: d)
            return (p, acc.1 || o)
        }
        let expectedSize = overflow ? Int.max : headerSize + count
        guard bytes.count == expectedSize else {
            let dims = shape.map(String.init).joined(separator: "×")
            let how: String
            if overflow {
                how = "the header is damaged: its dimensions multiply past Int.max"
            } else if bytes.count >= expectedSize {
                how = "\(bytes.count - expectedSize) bytes too many"
            } else if expectedSize / 2 > bytes.count {
                // Cut-off downloads lose a tail; a header declaring over twice the file is more likely damaged.
                how = "over twice the file's size: the header is damaged, or the file lost more than half"
            } else {
                how = "the file is truncated: \(expectedSize - bytes.count) bytes are missing"
            }
            throw .invalidFormat(
                path: source,
                expected: "\(headerSize) header bytes + \(dims) = \(overflow ? "more than Int.max" : String(count)) elements = \(overflow ? "too many" : String(expectedSize)) bytes for shape \(shape)",
                found: "\(bytes.count) bytes (\(how))")
        }
        return IDXArray(shape: shape, elements: Array(bytes[headerSize...]))
    }

    /// The bytes of this array in IDX format.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = [0, 0, 0x08, UInt8(shape.count)]
        bytes.reserveCapacity(4 + 4 * shape.count + elements.count)
        for d in shape {
            let v = UInt32(d)
            bytes += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
        }
        bytes += elements
        return bytes
    }

    /// Writes this array as an IDX file, gzipped when `compressed` is true.
    ///
    /// - Parameters:
    ///   - path: the file to create or replace.
    ///   - compressed: defaults to whether `path` ends in `.gz`.
    public func write(toPath path: String, compressed: Bool? = nil) throws(DataError) {
        if compressed ?? path.hasSuffix(".gz") {
            try Gzip.writeFile(encoded, toPath: path)
        } else {
            try FileIO.writeBytes(encoded, toPath: path)
        }
    }

    static func readBigEndian(_ b: [UInt8], at i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    private static func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// The IDX element types (the third magic byte).
    private static func elementTypeName(_ code: UInt8) -> String? {
        switch code {
        case 0x08: "unsigned byte"
        case 0x09: "signed byte"
        case 0x0B: "16-bit integer"
        case 0x0C: "32-bit integer"
        case 0x0D: "32-bit float"
        case 0x0E: "64-bit float"
        default: nil
        }
    }
}
