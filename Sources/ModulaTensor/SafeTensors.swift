#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A safetensors file: named tensors as raw little-endian bytes behind a JSON header.
///
/// The layout (Hugging Face's format, read by Python's `safetensors` package): an unsigned 64-bit
/// little-endian header length `n`; `n` bytes of UTF-8 JSON mapping each tensor's name to
/// `{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}`, plus an optional
/// `"__metadata__"` object of string → string; then the data buffer, where each tensor occupies
/// `begin..<end` (relative to the buffer's start). ``decode(_:source:)`` accepts only files whose
/// tensors tile the buffer exactly, and never traps on any byte string: every defect is a
/// ``SafeTensorsError`` naming the file and what is wrong.
///
/// ```swift
/// var file = SafeTensors(metadata: ["step": "10"])
/// try file.append("w", Tensor<Float>.zeros([2, 3]))
/// try file.write(toPath: "w.safetensors")
/// let back: Tensor<Float> = try SafeTensors.read(atPath: "w.safetensors").tensor("w")
/// ```
public struct SafeTensors: Sendable, Equatable {
    /// The element types of the format. Tensors of any of them are read; ``SafeTensors/tensor(_:as:source:)`` converts F32 and F64.
    public enum DType: String, Sendable, CaseIterable {
        // The format's names: booleans, unsigned and signed integers, 8-bit, half, bfloat16, single and double floats.
        case BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .BOOL, .U8, .I8, .F8_E5M2, .F8_E4M3: 1
            case .I16, .U16, .F16, .BF16: 2
            case .I32, .U32, .F32: 4
            case .F64, .I64, .U64: 8
            }
        }
    }

    /// One stored tensor: its element type, shape and raw little-endian bytes.
    public struct Entry: Sendable, Equatable {
        /// The tensor's name (unique in the file).
        public var name: String
        /// The element type.
        public var dtype: DType
        /// The extent of each axis, outermost first.
        public var shape: [Int]
        /// The elements, little-endian, row-major (`shape.reduce(1, *) * dtype.size` bytes).
        public var bytes: [UInt8]
    }

    /// The largest header accepted (the limit of Python's `safetensors`).
    public static let maximumHeaderBytes = 100_000_000

    /// The tensors, in the order they were appended or, when decoded, in file order.
    public private(set) var entries: [Entry] = []
    /// The `__metadata__` strings.
    public var metadata: [String: String]

    /// An empty file with the given metadata.
    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    /// The entry named `name`, if any.
    public subscript(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// The names of all tensors, in order.
    public var names: [String] { entries.map(\.name) }

    /// Adds a raw tensor; throws when the name is taken or the byte count does not fit the shape.
    public mutating func append(_ entry: Entry) throws(SafeTensorsError) {
        guard !entry.name.isEmpty, entry.name != "__metadata__" else { throw .invalidName(source: "<new file>", name: entry.name) }
        guard self[entry.name] == nil else { throw .duplicateName(source: "<new file>", name: entry.name) }
        guard let n = SafeTensors.elementCount(entry.shape), case let (size, false) = n.multipliedReportingOverflow(by: entry.dtype.size),
              size == entry.bytes.count else {
            throw .sizeMismatch(source: "<new file>", name: entry.name,
                                reason: "shape \(entry.shape) of \(entry.dtype.rawValue) does not fit \(entry.bytes.count) bytes")
        }
        entries.append(entry)
    }

    /// Adds `tensor` as F32 or F64 under `name`.
    public mutating func append<S: TensorScalar>(_ name: String, _ tensor: Tensor<S>) throws(SafeTensorsError) {
        let bytes = tensor.withUnsafeBufferPointer { p in Array(UnsafeRawBufferPointer(p)) }
        try append(Entry(name: name, dtype: SafeTensors.dtype(of: S.self), shape: tensor.shape, bytes: bytes))
    }

    /// The dtype that stores `S` (F32 for `Float`, F64 for `Double`).
    public static func dtype<S: TensorScalar>(of _: S.Type) -> DType { MemoryLayout<S>.size == 4 ? .F32 : .F64 }

    /// The tensor named `name` as a `Tensor<S>`; throws when it is missing or stored in another dtype.
    public func tensor<S: TensorScalar>(_ name: String, as _: S.Type = S.self, source: String = "<memory>") throws(SafeTensorsError) -> Tensor<S> {
        guard let e = self[name] else { throw .missingTensor(source: source, name: name) }
        let want = SafeTensors.dtype(of: S.self)
        guard e.dtype == want else { throw .wrongDType(source: source, name: name, expected: want.rawValue, found: e.dtype.rawValue) }
        var t = Tensor<S>(uninitializedShape: e.shape)
        t.withUnsafeMutableBufferPointer { p in
            e.bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(p).copyMemory(from: $0) }
        }
        return t
    }

    // MARK: Encoding

    /// The file's bytes: header length, JSON header (space-padded to a multiple of 8), data.
    public var encoded: [UInt8] {
        var json = "{"
        if !metadata.isEmpty {
            json += "\"__metadata__\":{"
            json += metadata.sorted { $0.key < $1.key }.map { JSON.quote($0.key) + ":" + JSON.quote($0.value) }.joined(separator: ",")
            json += "}"
        }
        var offset = 0
        for (i, e) in entries.enumerated() {
            if i > 0 || !metadata.isEmpty { json += "," }
            let shape = e.shape.map(String.init).joined(separator: ",")
            json += "\(JSON.quote(e.name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + e.bytes.count)]}"
            offset += e.bytes.count
        }
        json += "}"
        var header = Array(json.utf8)
        while (8 + header.count) % 8 != 0 { header.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out += $0 }
        out += header
        for e in entries { out += e.bytes }
        return out
    }

    /// Writes the file atomically: a temporary file in the same folder, `fsync`, `rename`, `fsync` of the folder.
    ///
    /// An interrupted write (even `SIGKILL` or power loss after the call returns) leaves either the old
    /// file or the new one at `path`, never a mixture.
    public func write(toPath path: String) throws(SafeTensorsError) {
        try AtomicFile.write(encoded, toPath: path)
    }

    // MARK: Decoding

    /// Reads and validates the file at `path` (see ``decode(_:source:)``).
    public static func read(atPath path: String) throws(SafeTensorsError) -> SafeTensors {
        try decode(AtomicFile.read(path), source: path)
    }

    /// Parses and validates the bytes of a safetensors file.
    ///
    /// Rejects, naming `source`: fewer than 8 bytes; a header length beyond the file or above
    /// ``maximumHeaderBytes``; a header that is not UTF-8 JSON of the expected form; unknown dtypes;
    /// shapes whose element count overflows or disagrees with the byte range; offsets out of range,
    /// overlapping or leaving gaps in the data; duplicate names.
    public static func decode(_ bytes: [UInt8], source: String = "<memory>") throws(SafeTensorsError) -> SafeTensors {
        guard bytes.count >= 8 else { throw .truncated(source: source, reason: "the file has \(bytes.count) bytes, fewer than the 8 of the header length") }
        var length: UInt64 = 0
        for i in (0..<8).reversed() { length = length << 8 | UInt64(bytes[i]) }
        guard length <= UInt64(maximumHeaderBytes) else {
            throw .invalidHeader(source: source, reason: "the header length \(length) is above the limit of \(maximumHeaderBytes) bytes (not a safetensors file, or damaged)")
        }
        guard Int(length) <= bytes.count - 8 else {
            throw .truncated(source: source, reason: "the header length \(length) runs past the end of the file (\(bytes.count) bytes)")
        }
        let headerEnd = 8 + Int(length)
        let value: JSON
        do { value = try JSON.parse(bytes[8..<headerEnd]) } catch {
            throw .invalidHeader(source: source, reason: error.message)
        }
        guard case .object(let members) = value else { throw .invalidHeader(source: source, reason: "the header is not a JSON object") }
        var file = SafeTensors()
        var seen = Set<String>()
        var ranges: [(begin: Int, end: Int, index: Int)] = []
        let dataCount = bytes.count - headerEnd
        for (name, v) in members {
            guard seen.insert(name).inserted else { throw .duplicateName(source: source, name: name) }
            if name == "__metadata__" {
                guard case .object(let pairs) = v else { throw .invalidHeader(source: source, reason: "__metadata__ is not an object") }
                for (k, s) in pairs {
                    guard case .string(let str) = s else { throw .invalidHeader(source: source, reason: "__metadata__ value of '\(k)' is not a string") }
                    guard file.metadata.updateValue(str, forKey: k) == nil else { throw .duplicateName(source: source, name: "__metadata__." + k) }
                }
                continue
            }
            guard case .object(let fields) = v else { throw .invalidHeader(source: source, reason: "the entry of tensor '\(name)' is not an object") }
            var dtypeName: String?, shape: [Int]?, offsets: [Int]?
            for (k, f) in fields {
                switch k {
                case "dtype":
                    guard case .string(let s) = f else { throw .invalidHeader(source: source, reason: "tensor '\(name)': dtype is not a string") }
                    dtypeName = s
                case "shape": shape = try integers(f, "shape", name, source)
                case "data_offsets": offsets = try integers(f, "data_offsets", name, source)
                default: throw .invalidHeader(source: source, reason: "tensor '\(name)': unknown field '\(k)'")
                }
            }
            guard let dtypeName, let shape, let offsets else {
                throw .invalidHeader(source: source, reason: "tensor '\(name)' needs dtype, shape and data_offsets")
            }
            guard let dtype = DType(rawValue: dtypeName) else { throw .unknownDType(source: source, name: name, dtype: dtypeName) }
            guard offsets.count == 2 else { throw .invalidHeader(source: source, reason: "tensor '\(name)': data_offsets must be [begin, end], got \(offsets)") }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end, end <= dataCount else {
                throw .offsetsOutOfRange(source: source, name: name, begin: begin, end: end, dataBytes: dataCount)
            }
            guard let n = elementCount(shape), case let (size, false) = n.multipliedReportingOverflow(by: dtype.size) else {
                throw .sizeMismatch(source: source, name: name, reason: "the element count of shape \(shape) overflows")
            }
            guard size == end - begin else {
                throw .sizeMismatch(source: source, name: name,
                                    reason: "shape \(shape) of \(dtypeName) needs \(size) bytes, data_offsets give \(end - begin)")
            }
            ranges.append((begin, end, file.entries.count))
            file.entries.append(Entry(name: name, dtype: dtype, shape: shape, bytes: Array(bytes[(headerEnd + begin)..<(headerEnd + end)])))
        }
        // The tensors must tile the data buffer: no overlaps, no gaps, nothing after the last one.
        var position = 0
        for r in ranges.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            let name = file.entries[r.index].name
            if r.begin < position { throw .overlapping(source: source, name: name, reason: "its bytes \(r.begin)..<\(r.end) overlap an earlier tensor's (which end at \(position))") }
            if r.begin > position { throw .overlapping(source: source, name: name, reason: "bytes \(position)..<\(r.begin) before it belong to no tensor") }
            position = r.end
        }
        guard position == dataCount else {
            throw .overlapping(source: source, name: "(end of file)", reason: "bytes \(position)..<\(dataCount) of the data belong to no tensor")
        }
        return file
    }

    /// The product of `shape`, or `nil` if an extent is negative or the product overflows.
    static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        return n
    }

    private static func integers(_ v: JSON, _ field: String, _ name: String, _ source: String) throws(SafeTensorsError) -> [Int] {
        guard case .array(let items) = v else { throw .invalidHeader(source: source, reason: "tensor '\(name)': \(field) is not an array") }
        var out: [Int] = []
        for item in items {
            guard case .integer(let i) = item, i >= 0 else {
                throw .invalidHeader(source: source, reason: "tensor '\(name)': \(field) holds something other than a non-negative integer")
            }
            out.append(i)
        }
        return out
    }
}

/// Why a safetensors file could not be read or written. Every case names the file (`source`).
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened, read or written; `reason` is the system's message.
    case io(source: String, reason: String)
    /// The file ends before its declared header.
    case truncated(source: String, reason: String)
    /// The header is too long, not UTF-8, not JSON or not of the safetensors form.
    case invalidHeader(source: String, reason: String)
    /// A tensor's dtype is not one of the format's.
    case unknownDType(source: String, name: String, dtype: String)
    /// A shape's element count overflows or disagrees with its byte range.
    case sizeMismatch(source: String, name: String, reason: String)
    /// A tensor's data offsets fall outside the data buffer.
    case offsetsOutOfRange(source: String, name: String, begin: Int, end: Int, dataBytes: Int)
    /// Tensors overlap, or leave bytes of the data buffer unused.
    case overlapping(source: String, name: String, reason: String)
    /// Two tensors (or metadata keys) share a name.
    case duplicateName(source: String, name: String)
    /// A tensor name is empty or reserved.
    case invalidName(source: String, name: String)
    /// No tensor has this name.
    case missingTensor(source: String, name: String)
    /// The tensor is stored in another dtype than the one asked for.
    case wrongDType(source: String, name: String, expected: String, found: String)

    /// One sentence naming the file and what is wrong.
    public var description: String {
        switch self {
        case let .io(s, r): return "safetensors file \(s): \(r)"
        case let .truncated(s, r): return "safetensors file \(s) is truncated: \(r)"
        case let .invalidHeader(s, r): return "safetensors file \(s) has an invalid header: \(r)"
        case let .unknownDType(s, n, d): return "safetensors file \(s): tensor '\(n)' has unknown dtype '\(d)'"
        case let .sizeMismatch(s, n, r): return "safetensors file \(s): tensor '\(n)': \(r)"
        case let .offsetsOutOfRange(s, n, b, e, d):
            return "safetensors file \(s): tensor '\(n)' has data_offsets [\(b), \(e)] outside the \(d) data bytes"
        case let .overlapping(s, n, r): return "safetensors file \(s): tensor '\(n)': \(r)"
        case let .duplicateName(s, n): return "safetensors file \(s): the name '\(n)' occurs twice"
        case let .invalidName(s, n): return "safetensors file \(s): '\(n)' cannot name a tensor"
        case let .missingTensor(s, n): return "safetensors file \(s) has no tensor '\(n)'"
        case let .wrongDType(s, n, e, f): return "safetensors file \(s): tensor '\(n)' is \(f), expected \(e)"
        }
    }
}
