import ModulaTensor
import CZlib

/// Reading and writing gzip files with zlib.
///
/// ``readFile(atPath:maximumBytes:)`` returns the contents of a file whether or not it is compressed, so loaders
/// accept both `train-images-idx3-ubyte.gz` and `train-images-idx3-ubyte`:
///
/// ```swift
/// let bytes = try Gzip.readFile(atPath: "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")
/// bytes.count   // 10008
/// ```
public enum Gzip {
    /// The most bytes a decompression produces unless the caller allows more (1 GiB): a
    /// "decompression bomb" (a few MB that inflate to many GB) is refused at this size.
    public static let defaultMaximumBytes = 1 << 30

    /// Whether `bytes` start with the gzip magic number `1f 8b`.
    public static func isGzip<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        var i = bytes.makeIterator()
        return i.next() == 0x1F && i.next() == 0x8B
    }

    /// The contents of the file at `path`, decompressed if it is gzip data.
    ///
    /// A file is decompressed when it starts with the gzip magic number or its name ends in `.gz`
    /// (so a damaged `.gz` file is reported as damaged instead of being returned as raw bytes).
    ///
    /// - Parameters:
    ///   - path: the file, gzipped or plain.
    ///   - maximumBytes: the most decompressed bytes accepted (see ``decompress(_:source:maximumBytes:)``).
    /// - Throws: ``DataError/cannotRead(path:reason:)`` when the file cannot be read,
    ///   ``DataError/corruptCompressedData(path:reason:)`` or ``DataError/truncatedCompressedData(path:)``
    ///   when its compressed stream is damaged, ``DataError/decompressedTooLarge(path:limit:)`` past the limit.
    public static func readFile(atPath path: String, maximumBytes: Int = defaultMaximumBytes) throws(DataError) -> [UInt8] {
        let raw = try FileIO.readBytes(atPath: path)
        if isGzip(raw) || path.hasSuffix(".gz") { return try decompress(raw, source: path, maximumBytes: maximumBytes) }
        return raw
    }

    /// Writes `bytes` to `path` as a gzip file (replacing any existing file).
    ///
    /// - Parameters:
    ///   - bytes: the uncompressed contents.
    ///   - path: the file to create or replace.
    ///   - level: zlib's compression level, 0 (store) to 9 (smallest).
    public static func writeFile(_ bytes: [UInt8], toPath path: String, level: Int = 6) throws(DataError) {
        try FileIO.writeBytes(compress(bytes, level: level), toPath: path)
    }

    /// Decompresses a gzip or zlib stream (detected from its header), including concatenated gzip members.
    ///
    /// Inflation stops as soon as the output would pass `maximumBytes`, so memory never grows past the
    /// limit. (The gzip size field, ISIZE, only sizes the first allocation, capped by the limit: it is
    /// the size modulo 2³² of the last member, and in a damaged file it is four arbitrary bytes.)
    ///
    /// - Parameters:
    ///   - data: the compressed bytes.
    ///   - source: the name used in error messages (usually the file the bytes came from).
    ///   - maximumBytes: the most decompressed bytes accepted.
    /// - Throws: ``DataError/corruptCompressedData(path:reason:)`` naming zlib's diagnosis,
    ///   ``DataError/truncatedCompressedData(path:)`` when the stream stops before its end marker, or
    ///   ``DataError/decompressedTooLarge(path:limit:)`` when it inflates past `maximumBytes`.
    public static func decompress(_ data: [UInt8], source: String = "<memory>", maximumBytes: Int = defaultMaximumBytes) throws(DataError) -> [UInt8] {
        let result: Result<[UInt8], DataError> = data.withUnsafeBufferPointer { input in
            inflateAll(input, source: source, limit: Swift.max(maximumBytes, 0), prefixOnly: false)
        }
        return try result.get()
    }

    /// The first `count` decompressed bytes (fewer if the stream is shorter), inflating no further.
    static func decompressedPrefix(_ data: [UInt8], source: String, count: Int) throws(DataError) -> [UInt8] {
        let result: Result<[UInt8], DataError> = data.withUnsafeBufferPointer { input in
            inflateAll(input, source: source, limit: count, prefixOnly: true)
        }
        return try result.get()
    }

    /// Compresses `bytes` into a gzip stream (what the `gzip` command writes).
    ///
    /// - Parameters:
    ///   - bytes: the uncompressed contents.
    ///   - level: zlib's compression level, 0 (store) to 9 (smallest).
    ///
    /// - Precondition: `level` lies in `0...9`. Stops with a message otherwise.
    public static func compress(_ bytes: [UInt8], level: Int = 6) -> [UInt8] {
        require((0...9).contains(level), "Gzip.compress: level must be in 0...9, got \(level)")
        var stream = z_stream()
        // windowBits 15 + 16: a 32 KiB window with a gzip (not zlib) wrapper.
        let status = deflateInit2_(
            &stream, Int32(level), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
            zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        require(status == Z_OK, "Gzip.compress: deflateInit2 failed with zlib status \(status)")
        defer { deflateEnd(&stream) }

        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        bytes.withUnsafeBufferPointer { input in
            var position = 0
            var flush = Z_NO_FLUSH
            repeat {
                if stream.avail_in == 0 && flush != Z_FINISH {
                    let n = min(input.count - position, 1 << 30)
                    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress.map { $0 + position })
                    stream.avail_in = uInt(n)
                    position += n
                    if position == input.count { flush = Z_FINISH }
                }
                let produced: Int = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    let s = deflate(&stream, flush)
                    require(s != Z_STREAM_ERROR, "Gzip.compress: zlib stream error")
                    return out.count - Int(stream.avail_out)
                }
                output.append(contentsOf: chunk[..<produced])
            } while !(flush == Z_FINISH && stream.avail_in == 0 && stream.avail_out != 0)
        }
        return output
    }

    /// The inflate loop over a raw input buffer, growing the output as needed.
    /// Output is capped at `limit` bytes: past it, `prefixOnly` returns the first `limit` bytes, otherwise the
    /// stream is refused.
    private static func inflateAll(_ input: UnsafeBufferPointer<UInt8>, source: String, limit: Int, prefixOnly: Bool) -> Result<[UInt8], DataError> {
        if input.isEmpty { return .failure(.truncatedCompressedData(path: source)) }
        var stream = z_stream()
        // windowBits 15 + 32: accept a gzip or a zlib header, whichever is present.
        var status = inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            return .failure(.corruptCompressedData(path: source, reason: "zlib could not start (status \(status))"))
        }
        defer { inflateEnd(&stream) }

        // A single-member gzip file stores its uncompressed size modulo 2³² in its last four bytes:
        // use it (capped by deflate's maximal ratio of 1032:1 and by the limit) to size the output once.
        // One byte beyond the limit tells "exactly at the limit" from "past it".
        let cap = limit == Int.max ? Int.max : limit + 1
        var capacity = max(input.count * 4, 1 << 16)
        if isGzip(input) && input.count >= 18 {
            let n = input.count
            let isize = Int(input[n - 4]) | Int(input[n - 3]) << 8 | Int(input[n - 2]) << 16 | Int(input[n - 1]) << 24
            if isize > 0 && isize <= input.count * 1032 { capacity = isize + 1 }
        }
        capacity = min(capacity, cap)
        var output = [UInt8](repeating: 0, count: capacity)
        var produced = 0
        var fed = 0  // input bytes handed to zlib so far

        func failure(_ reason: String) -> Result<[UInt8], DataError> {
            let at = fed - Int(stream.avail_in)
            let detail = stream.msg.map { String(cString: $0) } ?? reason
            return .failure(.corruptCompressedData(path: source, reason: "\(detail) (at compressed byte \(at) of \(input.count))"))
        }

        while true {
            if stream.avail_in == 0 && fed < input.count {
                let n = min(input.count - fed, 1 << 30)
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + fed)
                stream.avail_in = uInt(n)
                fed += n
            }
            if produced >= limit && prefixOnly {
                output.removeSubrange(limit...)
                return .success(output)
            }
            if produced == output.count { FileIO.grow(&output, to: min(2 * output.count, cap)) }
            let room = min(output.count - produced, 1 << 30)
            status = output.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress! + produced
                stream.avail_out = uInt(room)
                return inflate(&stream, Z_NO_FLUSH)
            }
            produced += room - Int(stream.avail_out)
            if produced > limit {
                if !prefixOnly { return .failure(.decompressedTooLarge(path: source, limit: limit)) }
                output.removeSubrange(limit...)
                return .success(output)
            }
            let inputLeft = Int(stream.avail_in) + (input.count - fed)

            switch status {
            case Z_STREAM_END:
                if inputLeft == 0 { output.removeSubrange(produced...); return .success(output) }
                let next = input.count - inputLeft
                if isGzip(input[next...]) {
                    // `gzip` allows several members one after another; they decompress to the concatenation.
                    inflateReset(&stream)
                } else if input[next...].allSatisfy({ $0 == 0 }) {
                    output.removeSubrange(produced...)  // zero padding after the stream (as tape and block devices add)
                    return .success(output)
                } else {
                    return .failure(.corruptCompressedData(
                        path: source, reason: "\(inputLeft) bytes of unexpected data after the end of the compressed stream"))
                }
            case Z_OK, Z_BUF_ERROR:
                // No end marker yet. If zlib has had all the input and still had room to write, the stream is cut short.
                if inputLeft == 0 && stream.avail_out > 0 { return .failure(.truncatedCompressedData(path: source)) }
            case Z_NEED_DICT:
                return failure("the stream needs a preset dictionary")
            case Z_MEM_ERROR:
                return failure("zlib ran out of memory")
            default:  // Z_DATA_ERROR, Z_STREAM_ERROR
                return failure("invalid compressed data")
            }
        }
    }
}
