/// The earlier custom checkpoint format (`swift-modula checkpoint v1`), kept readable.
///
/// A magic line, the scalar size, metadata strings, then for each weight its name, shape and
/// little-endian values, then an FNV-1a 64 checksum of everything before it.
enum CheckpointV1 {
    static func read<S: TensorScalar>(_ bytes: [UInt8], for module: any Module, path: String) throws -> TrainingState<S> {
        let magic = Checkpoint.magicV1
        guard bytes.count >= magic.count + 8 else { throw CheckpointError.corrupt(path: path, reason: "checksum mismatch (the file is damaged or truncated)") }
        let body = bytes.count - 8
        var stored: UInt64 = 0
        for i in (body..<bytes.count).reversed() { stored = stored << 8 | UInt64(bytes[i]) }
        let sum = bytes[..<body].withUnsafeBytes { Checkpoint.fnv1a($0) }
        guard stored == sum else { throw CheckpointError.corrupt(path: path, reason: "checksum mismatch (the file is damaged or truncated)") }
        var r = Reader(bytes: bytes, end: body, path: path, offset: magic.count)
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
            let raw = try r.take(t.count * size)
            t.withUnsafeMutableBufferPointer { p in
                raw.withUnsafeBytes { UnsafeMutableRawBufferPointer(p).copyMemory(from: $0) }
            }
            weights.append(t)
        }
        var state = TrainingState(weights: weights)
        state.extra = metadata
        state.formatVersion = 1
        return state
    }

    /// Writes the v1 format (kept so that tests can check that such files still load).
    static func encode<S: TensorScalar>(_ weights: [Tensor<S>], names: [String], metadata: [String: String] = [:]) -> [UInt8] {
        var out = Checkpoint.magicV1
        func u64(_ v: Int) { withUnsafeBytes(of: UInt64(v).littleEndian) { out += $0 } }
        func string(_ s: String) { let b = Array(s.utf8); u64(b.count); out += b }
        u64(MemoryLayout<S>.size)
        u64(metadata.count)
        for (k, v) in metadata.sorted(by: { $0.key < $1.key }) { string(k); string(v) }
        u64(weights.count)
        for (name, w) in zip(names, weights) {
            string(name)
            u64(w.rank)
            for d in w.shape { u64(d) }
            w.withUnsafeBufferPointer { p in out += UnsafeRawBufferPointer(p) }
        }
        let sum = out.withUnsafeBytes { Checkpoint.fnv1a($0) }
        withUnsafeBytes(of: sum.littleEndian) { out += $0 }
        return out
    }

    struct Reader {
        let bytes: [UInt8]
        let end: Int
        let path: String
        var offset: Int
        mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, n <= end - offset else {
                throw CheckpointError.corrupt(path: path, reason: "ends early at byte \(offset) (needed \(n) more)")
            }
            defer { offset += n }
            return bytes[offset..<(offset + n)]
        }
        mutating func int() throws -> Int {
            var v: UInt64 = 0
            for b in try take(8).reversed() { v = v << 8 | UInt64(b) }
            guard v < UInt64(Int.max) else { throw CheckpointError.corrupt(path: path, reason: "bad length at byte \(offset - 8)") }
            return Int(v)
        }
        mutating func string() throws -> String { String(decoding: try take(try int()), as: UTF8.self) }
    }
}
