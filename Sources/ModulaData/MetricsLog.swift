import ModulaTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Scalars per training step, written in two formats people already read: JSON Lines and TensorBoard event files.
///
/// A log is a folder. Each ``record(step:_:)`` appends one line to `metrics.jsonl`,
///
/// ```json
/// {"step":12,"wall_time":1764684000.25,"loss":1.8761,"learning_rate":0.1}
/// ```
///
/// and one `Event` with a scalar summary per value to `events.out.tfevents.<seconds>.<host>.<pid>.<n>`, which
/// `tensorboard --logdir DIR` plots and TensorBoard's `EventAccumulator` reads. Both files are flushed after every
/// record, so a run that is killed keeps everything it logged. NaN and infinite values are written as JSON `null`
/// (JSON has no such numbers) and as themselves in the event file.
///
/// ```swift
/// let log = try MetricsLog(directory: "runs/hello-gpt")
/// for step in 0..<steps {
///     // … train …
///     try log.record(step: step, [("loss", loss), ("learning_rate", lr)])
/// }
/// ```
///
/// A run resumed from a checkpoint opens the same folder with `append: true`: the JSON Lines continue in the same
/// file, and TensorBoard, which merges every event file of a folder, gets a new one.
public final class MetricsLog {
    /// The folder holding both files.
    public let directory: String
    /// The JSON Lines file, `directory/metrics.jsonl`.
    public let jsonLinesPath: String
    /// The TensorBoard event file of this process.
    public let eventsPath: String
    private var jsonLines: UnsafeMutablePointer<FILE>?
    private var events: UnsafeMutablePointer<FILE>?

    /// Opens (creating folders as needed) a log in `directory`; `append` keeps the lines of an earlier run.
    ///
    /// - Throws: ``DataError/cannotWrite(path:reason:)`` naming the folder or file that could not be created.
    public init(directory: String, append: Bool = false) throws(DataError) {
        self.directory = directory
        try MetricsLog.createDirectories(directory)
        jsonLinesPath = FileIO.join(directory, "metrics.jsonl")
        guard let j = fopen(jsonLinesPath, append ? "a" : "w") else {
            throw .cannotWrite(path: jsonLinesPath, reason: FileIO.lastError())
        }
        var host = [CChar](repeating: 0, count: 256)
        let hostname = gethostname(&host, host.count - 1) == 0 ? String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "localhost"
        let stem = FileIO.join(directory, "events.out.tfevents.\(time(nil)).\(hostname).\(getpid())")
        // A new file for every log, even two in one process within one second: the first free numbered name.
        var suffix = 0, descriptor: Int32 = -1
        while true {
            descriptor = open("\(stem).\(suffix)", O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if descriptor >= 0 || errno != EEXIST || suffix > 10_000 { break }
            suffix += 1
        }
        eventsPath = "\(stem).\(suffix)"
        guard descriptor >= 0, let e = fdopen(descriptor, "w") else {
            let reason = FileIO.lastError()
            fclose(j)
            throw .cannotWrite(path: eventsPath, reason: reason)
        }
        jsonLines = j
        events = e
        try write(TensorBoardEvents.fileVersion(wallTime: MetricsLog.wallTime()), to: e, path: eventsPath)
    }

    deinit { close() }

    /// Appends one step's scalars to both files and flushes them.
    ///
    /// Names are used as given: as JSON keys and as TensorBoard tags (`train/loss` groups in TensorBoard's UI).
    /// - Throws: ``DataError/cannotWrite(path:reason:)`` when a write fails (a full disk, say) or after ``close()``.
    public func record(step: Int, _ scalars: [(String, Double)]) throws(DataError) {
        guard let jsonLines, let events else { throw .cannotWrite(path: directory, reason: "the log is closed") }
        let wall = MetricsLog.wallTime()
        var line = "{\"step\":\(step),\"wall_time\":\(MetricsLog.json(wall))"
        for (name, value) in scalars { line += ",\(MetricsLog.json(name)):\(MetricsLog.json(value))" }
        line += "}\n"
        try write(Array(line.utf8), to: jsonLines, path: jsonLinesPath)
        try write(TensorBoardEvents.scalars(step: step, wallTime: wall, scalars), to: events, path: eventsPath)
    }

    /// Closes both files; later records throw. Called by `deinit` too.
    public func close() {
        if let jsonLines { fclose(jsonLines) }
        if let events { fclose(events) }
        jsonLines = nil
        events = nil
    }

    private func write(_ bytes: [UInt8], to file: UnsafeMutablePointer<FILE>, path: String) throws(DataError) {
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        guard written == bytes.count, fflush(file) == 0 else { throw .cannotWrite(path: path, reason: FileIO.lastError()) }
    }

    /// Seconds since 1970, as TensorBoard's `wall_time`.
    static func wallTime() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// A JSON number (`null` for NaN and infinities, which JSON cannot express).
    static func json(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v == v.rounded(), Swift.abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"  // Swift's shortest round-trip form: "0.1", "1e-05", both valid JSON
    }

    /// A JSON string literal.
    static func json(_ s: String) -> String { jsonStringLiteral(s) }

    /// `mkdir -p`: creates `path` and its missing parents.
    static func createDirectories(_ path: String) throws(DataError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if !FileIO.isDirectory(prefix) {
                if FileIO.isFile(prefix) { throw .cannotWrite(path: prefix, reason: "a file of that name is in the way of the log folder") }
                if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw .cannotWrite(path: prefix, reason: FileIO.lastError()) }
            }
            prefix += "/"
        }
    }
}
