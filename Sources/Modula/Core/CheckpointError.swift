/// Why a checkpoint could not be saved or loaded.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened, read or written; `reason` is the system's message.
    case io(path: String, reason: String)
    /// The file is neither a safetensors file nor an earlier swift-modula checkpoint.
    case notACheckpoint(path: String)
    /// The file is damaged or truncated.
    case corrupt(path: String, reason: String)
    /// The file is a valid checkpoint of another network or scalar type.
    case mismatch(path: String, reason: String)
    /// A weight to save holds NaN or infinity; nothing was written.
    case nonFinite(path: String, weight: String)
    /// The safetensors container is malformed (or could not be written).
    case invalidFile(SafeTensorsError)

    /// One sentence naming the file and what is wrong.
    public var description: String {
        switch self {
        case .io(let p, let r): return "checkpoint \(p): \(r)"
        case .notACheckpoint(let p): return "checkpoint \(p): not a swift-modula checkpoint (neither safetensors nor the v1 magic line)"
        case .corrupt(let p, let r): return "checkpoint \(p) is corrupt: \(r)"
        case .mismatch(let p, let r): return "checkpoint \(p) does not fit this network: \(r)"
        case .nonFinite(let p, let w): return "checkpoint \(p): weight \(w) contains NaN or infinity; nothing was written"
        case .invalidFile(let e): return "checkpoint: \(e)"
        }
    }
}
