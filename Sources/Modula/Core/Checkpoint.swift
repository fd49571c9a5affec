#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Saving and loading a network's weights (and, optionally, its optimizer state).
///
/// The file is binary and self-describing: a magic line, then for each weight its name, shape and
/// little-endian `Float32`/`Float64` values, then a checksum. Saving writes a temporary file beside the
/// destination and renames it into place, so an interrupted save never leaves a half-written
/// checkpoint. Loading checks the magic, the checksum, and every name and shape against the module,
/// and throws a ``CheckpointError`` that names the file and what was expected.
///
/// ```swift
/// try Checkpoint.save(weights, of: gpt, to: "gpt.ckpt")
/// let restored: [Tensor<Float>] = try Checkpoint.load(for: gpt, from: "gpt.ckpt")
/// ```
public enum Checkpoint {
    static let magic = Array("swift-modula checkpoint v1\n".utf8)

    /// Writes `weights` of `module` (names from ``Module/weightNames``) to `path`, atomically.
    public static func save<S: TensorScalar>(
        _ weights: [Tensor<S>], of module: any Module, to path: String, metadata: [String: String] = [:]
    ) throws {
        try module.checkWeights(weights)
        var out = magic
        func u64(_ v: Int) { withUnsafeBytes(of: UInt64(v).littleEndian) { out += $0 } }
        func string(_ s: String) { let b = Array(s.utf8); u64(b.count); out += b }
        u64(MemoryLayout<S>.size)
        u64(metadata.count)
        for (k, v) in metadata.sorted(by: { $0.key < $1.key }) { string(k); string(v) }
        u64(weights.count)
        for (name, w) in zip(module.weightNames, weights) {
            guard w.isFinite else { throw CheckpointError.nonFinite(path: path, weight: name) }
            string(name)
            u64(w.rank)
            for d in w.shape { u64(d) }
            w.withUnsafeBufferPointer { p in out += UnsafeRawBufferPointer(p) }
        }
        let sum = checksum(out)
        withUnsafeBytes(of: sum.littleEndian) { out += $0 }
        try writeAtomically(out, to: path)
    }

    /// Reads weights for `module` from `path`, checking names, shapes and the checksum.
    public static func load<S: TensorScalar>(for module: any Module, from path: String) throws -> [Tensor<S>] {
        try read(for: module, from: path).weights
    }

    /// Reads weights and the metadata saved with them.
    public static func read<S: TensorScalar>(
        for module: any Module, from path: String
    ) throws -> (weights: [Tensor<S>], metadata: [String: String]) {
        let bytes = try readFile(path)
        var r = Reader(bytes: bytes, path: path)
        guard bytes.count >= magic.count + 8, Array(bytes.prefix(magic.count)) == magic else {
            throw CheckpointError.notACheckpoint(path: path)
        }
        let body = bytes.count - 8
        let stored = bytes[body...].withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard stored == checksum(bytes[..<body]) else { throw CheckpointError.corrupt(path: path, reason: "checksum mismatch (the file is damaged or truncated)") }
        r.offset = magic.count
        let size = try r.int()
        guard size == MemoryLayout<S>.size else {
            throw CheckpointError.mismatch(path: path, reason: "stores \(size * 8)-bit scalars, asked for \(MemoryLayout<S>.size * 8)-bit")
        }
        var metadata: [String: String] = [:]
        for _ in 0..<(try r.int()) { metadata[try r.string()] = try r.string() }
        let count = try r.int()
        let names = module.weightNames, shapes = module.weightShapes
        guard count == names.count else {
            throw CheckpointError.mismatch(path: path, reason: "holds \(count) weights, \(module.name) has \(names.count)")
        }
        var weights: [Tensor<S>] = []
        for i in 0..<count {
            let name = try r.string()
            guard name == names[i] else {
                throw CheckpointError.mismatch(path: path, reason: "weight \(i) is '\(name)', expected '\(names[i])'")
            }
            let rank = try r.int()
            guard rank <= 16 else { throw CheckpointError.corrupt(path: path, reason: "weight \(name) has rank \(rank)") }
            let shape = try (0..<rank).map { _ in try r.int() }
            guard shape == shapes[i] else {
                throw CheckpointError.mismatch(path: path, reason: "weight \(name) has shape \(shape), expected \(shapes[i])")
            }
            var t = Tensor<S>(uninitializedShape: shape)
            let n = t.count * size
            let raw = try r.take(n)
            t.withUnsafeMutableBufferPointer { p in
                raw.withUnsafeBytes { UnsafeMutableRawBufferPointer(p).copyMemory(from: $0) }
            }
            weights.append(t)
        }
        return (weights, metadata)
    }

    // FNV-1a, 64-bit: cheap and enough to catch damaged or truncated files.
    static func checksum<C: Collection<UInt8>>(_ bytes: C) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    struct Reader {
        let bytes: [UInt8]
        let path: String
        var offset = 0
        mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, offset + n <= bytes.count - 8 else {
                throw CheckpointError.corrupt(path: path, reason: "ends early at byte \(offset) (needed \(n) more)")
            }
            defer { offset += n }
            return bytes[offset..<(offset + n)]
        }
        mutating func int() throws -> Int {
            let s = try take(8)
            let v = s.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            guard v < UInt64(Int.max) else { throw CheckpointError.corrupt(path: path, reason: "bad length at byte \(offset - 8)") }
            return Int(v)
        }
        mutating func string() throws -> String { String(decoding: try take(try int()), as: UTF8.self) }
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        guard let f = fopen(path, "rb") else { throw CheckpointError.io(path: path, reason: String(cString: strerror(errno))) }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { bytes += chunk[0..<n] }
            if n < chunk.count { break }
        }
        if ferror(f) != 0 { throw CheckpointError.io(path: path, reason: "read error") }
        return bytes
    }

    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".partial-\(getpid())"
        guard let f = fopen(temporary, "wb") else { throw CheckpointError.io(path: path, reason: String(cString: strerror(errno))) }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, f) }
        let flushed = fflush(f) == 0 && fsync(fileno(f)) == 0
        fclose(f)
        guard written == bytes.count, flushed, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CheckpointError.io(path: path, reason: "could not write: \(reason)")
        }
    }
}

/// Why a checkpoint could not be saved or loaded.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened, read or written; `reason` is the system's message.
    case io(path: String, reason: String)
    /// The file does not start with the checkpoint magic line.
    case notACheckpoint(path: String)
    /// The file is damaged or truncated.
    case corrupt(path: String, reason: String)
    /// The file is a valid checkpoint of another network or scalar type.
    case mismatch(path: String, reason: String)
    /// A weight to save holds NaN or infinity; nothing was written.
    case nonFinite(path: String, weight: String)

    public var description: String {
        switch self {
        case .io(let p, let r): return "checkpoint \(p): \(r)"
        case .notACheckpoint(let p): return "checkpoint \(p): not a swift-modula checkpoint (bad magic line)"
        case .corrupt(let p, let r): return "checkpoint \(p) is corrupt: \(r)"
        case .mismatch(let p, let r): return "checkpoint \(p) does not fit this network: \(r)"
        case .nonFinite(let p, let w): return "checkpoint \(p): weight \(w) contains NaN or infinity; nothing was written"
        }
    }
}
