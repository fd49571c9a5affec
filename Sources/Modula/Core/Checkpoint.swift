#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Saving and loading the whole training state of a network, in safetensors.
///
/// A checkpoint is a safetensors file (`SafeTensors`) holding every weight under its stable name
/// (``Module/weightNames``), the optimizer's per-weight buffers as `<weight>.firstMoment` and
/// `<weight>.secondMoment`, the named buffers of ``OptimizerRule``s as `<weight>.<buffer>` (listed in
/// `rule_buffers` as `weight|buffer` pairs), and in `__metadata__`: `format` and `format_version` (2), `scalar`
/// (F32/F64), `step` and `schedule_position` (the optimizer step every learning-rate schedule is
/// evaluated at), `optimizer_buffers`, each random generator as `rng.<name>` (its four state words in
/// hex), `module` (the network's `String(describing:)`), `data_checksum` (FNV-1a 64 of the data
/// buffer), and the caller's strings as `extra.<key>`. Python's `safetensors` reads it as is.
///
/// Saves are atomic (`AtomicFile.write(_:toPath:)`: temporary file, `fsync`, `rename`, `fsync` of the folder). Loading checks the format, the checksum, the
/// module description, and every name, dtype and shape, and throws a ``CheckpointError`` saying
/// exactly what differs. Files of the earlier custom format (`swift-modula checkpoint v1`) still load.
///
/// ```swift
/// try Checkpoint.save(weights: weights, optimizer: optimizer.state, rng: ["main": rng], of: gpt, to: "gpt.safetensors")
/// let state: TrainingState<Float> = try Checkpoint.loadTrainingState(for: gpt, from: "gpt.safetensors")
/// weights = state.weights; optimizer.state = state.optimizer; rng = state.rng["main"]!
/// ```
public enum Checkpoint {
    /// The version written in `format_version`.
    public static let formatVersion = 2
    /// The value of the `format` metadata key.
    public static let formatName = "swift-modula training state"
    static let magicV1 = Array("swift-modula checkpoint v1\n".utf8)

    /// Writes the whole training state of `module` to `path`, atomically.
    ///
    /// - Parameters:
    ///   - weights: the weights, in the order of ``Module/weightNames``.
    ///   - optimizer: the optimizer's state (``Optimizer/state``); its buffers are saved beside the weights.
    ///   - rng: random generators to restore by name (for instance the one that draws batches).
    ///   - extra: any strings of the caller's own loop (loss history, configuration), saved as `extra.<key>`.
    ///   - module: the network the weights belong to (names, shapes and description come from it).
    ///   - path: the file to create or replace.
    /// - Throws: ``CheckpointError/nonFinite(path:weight:)`` (and writes nothing) when a weight holds NaN
    ///   or infinity; ``CheckpointError/mismatch(path:reason:)`` for a wrong weight or buffer list;
    ///   ``CheckpointError/io(path:reason:)`` when the file cannot be written.
    public static func save<S: TensorScalar>(
        weights: [Tensor<S>], optimizer: OptimizerState<S> = .init(), rng: [String: RandomGenerator] = [:],
        extra: [String: String] = [:], of module: any Module, to path: String
    ) throws {
        try module.checkWeights(weights)
        let names = module.weightNames
        var file = SafeTensors()
        do {
            for (name, w) in zip(names, weights) {
                guard w.isFinite else { throw CheckpointError.nonFinite(path: path, weight: name) }
                try file.append(name, w)
            }
            var buffers: [String] = []
            for (buffer, tensors) in [("firstMoment", optimizer.firstMoment), ("secondMoment", optimizer.secondMoment)] where !tensors.isEmpty {
                guard tensors.count == names.count else {
                    throw CheckpointError.mismatch(path: path, reason: "optimizer \(buffer) holds \(tensors.count) tensors, \(module.name) has \(names.count) weights")
                }
                buffers.append(buffer)
                for (name, t) in zip(names, tensors) { try file.append(name + "." + buffer, t) }
            }
            // The named buffers of `OptimizerRule`s, as `<weight>.<buffer>` with their own shapes.
            var ruleBuffers: [String] = []
            if !optimizer.rules.isEmpty {
                guard optimizer.rules.count == names.count else {
                    throw CheckpointError.mismatch(path: path, reason: "optimizer rule state holds \(optimizer.rules.count) entries, \(module.name) has \(names.count) weights")
                }
                for (name, buffers) in zip(names, optimizer.rules) {
                    for (key, t) in buffers.sorted(by: { $0.key < $1.key }) {
                        try file.append(name + "." + key, t)
                        ruleBuffers.append(name + "|" + key)
                    }
                }
            }
            var meta: [String: String] = [
                "format": formatName, "format_version": String(formatVersion), "scalar": SafeTensors.dtype(of: S.self).rawValue,
                "step": String(optimizer.step), "schedule_position": String(optimizer.step),
                "optimizer_buffers": buffers.joined(separator: ","), "module": String(describing: module),
            ]
            if !optimizer.rules.isEmpty { meta["rule_buffers"] = ruleBuffers.joined(separator: ",") }
            for (name, g) in rng { meta["rng." + name] = g.state.map { String($0, radix: 16) }.joined(separator: ",") }
            for (key, value) in extra { meta["extra." + key] = value }
            meta["data_checksum"] = hex(fnv1a(file.entries.map(\.bytes)))
            file.metadata = meta
            try file.write(toPath: path)
        } catch let e as SafeTensorsError {
            throw CheckpointError.invalidFile(e)
        }
    }

    /// Writes `weights` of `module` alone (no optimizer state), with `metadata` saved as extra strings.
    public static func save<S: TensorScalar>(
        _ weights: [Tensor<S>], of module: any Module, to path: String, metadata: [String: String] = [:]
    ) throws {
        try save(weights: weights, extra: metadata, of: module, to: path)
    }

    /// Reads the whole training state for `module` from `path` (a checkpoint of either format, or a
    /// plain safetensors file of the weights, such as one written by Python).
    ///
    /// - Throws: ``CheckpointError`` naming the file: unreadable, not a checkpoint, damaged (checksum,
    ///   malformed safetensors), or of another network (module description, names, dtypes or shapes differ).
    public static func loadTrainingState<S: TensorScalar>(
        for module: any Module, from path: String, as _: S.Type = S.self
    ) throws -> TrainingState<S> {
        let bytes: [UInt8]
        do { bytes = try AtomicFile.read(path) } catch { throw CheckpointError.io(path: path, reason: Self.reason(error)) }
        if bytes.starts(with: magicV1) { return try CheckpointV1.read(bytes, for: module, path: path) }
        let file: SafeTensors
        do { file = try SafeTensors.decode(bytes, source: path) } catch {
            if bytes.count < 9 || bytes[8] != UInt8(ascii: "{") { throw CheckpointError.notACheckpoint(path: path) }
            throw CheckpointError.invalidFile(error)
        }
        let meta = file.metadata
        if let format = meta["format"], format != formatName {
            throw CheckpointError.mismatch(path: path, reason: "format is '\(format)', expected '\(formatName)'")
        }
        if let v = meta["format_version"], Int(v) ?? Int.max > formatVersion {
            throw CheckpointError.mismatch(path: path, reason: "format_version \(v) is newer than this library's \(formatVersion)")
        }
        if let sum = meta["data_checksum"], sum != hex(fnv1a(file.entries.map(\.bytes))) {
            throw CheckpointError.corrupt(path: path, reason: "data checksum mismatch (the tensors' bytes are damaged)")
        }
        if let saved = meta["module"] {
            let here = String(describing: module)
            if saved != here { throw CheckpointError.mismatch(path: path, reason: "the module differs: \(firstDifference(saved, here))") }
        }
        let names = module.weightNames, shapes = module.weightShapes
        let buffers = (meta["optimizer_buffers"] ?? "").split(separator: ",").map(String.init)
        for b in buffers where b != "firstMoment" && b != "secondMoment" {
            throw CheckpointError.mismatch(path: path, reason: "unknown optimizer buffer '\(b)' (known: firstMoment, secondMoment)")
        }
        // Rule buffers: "weight|key" pairs; the key names the tensor `<weight>.<key>`.
        let ruleBuffers = meta["rule_buffers"].map { $0.split(separator: ",").map(String.init) }
        var ruleTensors: [(index: Int, key: String, name: String)] = []
        for entry in ruleBuffers ?? [] {
            let parts = entry.split(separator: "|", maxSplits: 1).map(String.init)
            guard parts.count == 2, let index = names.firstIndex(of: parts[0]) else {
                throw CheckpointError.mismatch(path: path, reason: "rule buffer '\(entry)' names no weight of \(module.name)")
            }
            ruleTensors.append((index, parts[1], parts[0] + "." + parts[1]))
        }
        let expected = Set(names + buffers.flatMap { b in names.map { $0 + "." + b } } + ruleTensors.map(\.name))
        if let stray = file.names.first(where: { !expected.contains($0) }) {
            throw CheckpointError.mismatch(path: path, reason: "tensor '\(stray)' belongs to no weight of \(module.name) (weights: \(names.joined(separator: ", ")))")
        }
        func tensor(_ name: String, shape: [Int]) throws -> Tensor<S> {
            guard let e = file[name] else {
                throw CheckpointError.mismatch(path: path, reason: "tensor '\(name)' is missing")
            }
            let want = SafeTensors.dtype(of: S.self)
            guard e.dtype == want else {
                throw CheckpointError.mismatch(path: path, reason: "tensor '\(name)' is \(e.dtype.rawValue), expected \(want.rawValue)")
            }
            guard e.shape == shape else {
                throw CheckpointError.mismatch(path: path, reason: "tensor '\(name)' has shape \(e.shape), expected \(shape)")
            }
            do { return try file.tensor(name, source: path) } catch { throw CheckpointError.invalidFile(error) }
        }
        var state = TrainingState<S>(weights: try zip(names, shapes).map { try tensor($0, shape: $1) })
        state.formatVersion = Int(meta["format_version"] ?? "") ?? 0
        if let s = meta["step"] {
            guard let step = Int(s), step >= 0 else { throw CheckpointError.corrupt(path: path, reason: "step '\(s)' is not a non-negative integer") }
            state.optimizer.step = step
        }
        if ruleBuffers != nil {
            state.optimizer.rules = Array(repeating: [:], count: names.count)
            for r in ruleTensors {
                guard let e = file[r.name] else { throw CheckpointError.mismatch(path: path, reason: "tensor '\(r.name)' is missing") }
                state.optimizer.rules[r.index][r.key] = try tensor(r.name, shape: e.shape)
            }
        }
        for b in buffers {
            let t = try zip(names, shapes).map { try tensor($0 + "." + b, shape: $1) }
            if b == "firstMoment" { state.optimizer.firstMoment = t } else { state.optimizer.secondMoment = t }
        }
        for (key, value) in meta {
            if key.hasPrefix("rng.") {
                let words = value.split(separator: ",").compactMap { UInt64($0, radix: 16) }
                guard let g = RandomGenerator(state: words) else {
                    throw CheckpointError.corrupt(path: path, reason: "\(key) is not four hex words of a generator state: '\(value)'")
                }
                state.rng[String(key.dropFirst(4))] = g
            } else if key.hasPrefix("extra.") {
                state.extra[String(key.dropFirst(6))] = value
            }
        }
        return state
    }

    /// Reads weights for `module` from `path`, checking names and shapes.
    public static func load<S: TensorScalar>(for module: any Module, from path: String) throws -> [Tensor<S>] {
        try loadTrainingState(for: module, from: path).weights
    }

    /// Reads weights and the extra strings saved with them.
    public static func read<S: TensorScalar>(
        for module: any Module, from path: String
    ) throws -> (weights: [Tensor<S>], metadata: [String: String]) {
        let s: TrainingState<S> = try loadTrainingState(for: module, from: path)
        return (s.weights, s.extra)
    }

    /// A digest of `weights`: FNV-1a 64 over their little-endian bytes, in order (the order of
    /// ``Module/weightNames``), as 16 hex digits. Equal digests mean bit-identical weights (barring
    /// a 2⁻⁶⁴ collision); it is not a cryptographic hash.
    public static func digest<S: TensorScalar>(_ weights: [Tensor<S>]) -> String {
        var h = fnvOffset
        for w in weights { w.withUnsafeBufferPointer { h = fnv1a(UnsafeRawBufferPointer($0), h) } }
        return hex(h)
    }

    /// One digest for many runs: FNV-1a 64 of the ``digest(_:)`` strings joined by commas, as 16 hex digits.
    public static func digest(combining digests: [String]) -> String {
        Array(digests.joined(separator: ",").utf8).withUnsafeBytes { hex(fnv1a($0)) }
    }

    static let fnvOffset: UInt64 = 0xcbf2_9ce4_8422_2325

    static func fnv1a(_ bytes: UnsafeRawBufferPointer, _ seed: UInt64 = fnvOffset) -> UInt64 {
        var h = seed
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    static func fnv1a(_ chunks: [[UInt8]]) -> UInt64 {
        var h = fnvOffset
        for c in chunks { c.withUnsafeBytes { h = fnv1a($0, h) } }
        return h
    }

    static func hex(_ v: UInt64) -> String {
        let d = String(v, radix: 16)
        return String(repeating: "0", count: 16 - d.count) + d
    }

    static func reason(_ e: any Error) -> String {
        if case .io(_, let r)? = e as? SafeTensorsError { return r }
        return "\(e)"
    }

    /// The first line where two module descriptions differ, both versions quoted.
    static func firstDifference(_ saved: String, _ here: String) -> String {
        let a = saved.split(separator: "\n", omittingEmptySubsequences: false)
        let b = here.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<Swift.max(a.count, b.count) {
            let x = i < a.count ? String(a[i]) : "(nothing)", y = i < b.count ? String(b[i]) : "(nothing)"
            if x != y { return "line \(i + 1) of its description is '\(x)' in the checkpoint, '\(y)' here" }
        }
        return "the descriptions differ"
    }
}
