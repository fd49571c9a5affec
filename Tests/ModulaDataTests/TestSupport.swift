import Foundation
@testable import ModulaData

/// A fresh directory under the system temporary directory, removed when the value is released.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "modula-data-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ bytes: [UInt8], to name: String) -> String {
        let p = file(name)
        precondition(FileManager.default.createFile(atPath: p, contents: Data(bytes)), "cannot create \(p)")
        return p
    }
}

/// Runs a command and returns its exit status.
@discardableResult
func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

/// Whether a file or directory exists.
func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

/// The error a throwing call raised, as a `DataError`.
func dataError<T>(_ body: () throws(DataError) -> T) -> DataError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// A collector for text written by a `ProgressDisplay`.
final class TextSink: @unchecked Sendable {
    private let lock = NSLock()
    private var chunks: [String] = []
    var text: String { lock.withLock { chunks.joined() } }
    func append(_ s: String) { lock.withLock { chunks.append(s) } }
}
