import ModulaTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and writes on top of POSIX calls, with errors that name the file.
///
/// ModulaData does not depend on Foundation; these few functions are all the file system access it needs.
enum FileIO {
    /// The operating system's message for the current `errno`.
    static func lastError() -> String { String(cString: strerror(errno)) }

    /// Whether `path` names an existing file (not a directory).
    static func isFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) != S_IFDIR
    }

    /// Whether `path` names an existing directory.
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The names in a directory (without `.` and `..`), sorted; empty when it cannot be listed.
    static func directoryEntries(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// `directory/name`, without doubling a trailing slash.
    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// Every byte of the file at `path`.
    static func readBytes(atPath path: String) throws(DataError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .cannotRead(path: path, reason: lastError()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotRead(path: path, reason: lastError()) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw .cannotRead(path: path, reason: "it is a directory") }

        // Regular files report their size (one more byte lets the first read reach end of file);
        // pipes and devices report 0 and are read until end of file.
        var buffer = [UInt8](repeating: 0, count: max(Int(info.st_size) + 1, 1 << 16))
        var used = 0
        while true {
            if used == buffer.count { grow(&buffer, to: 2 * buffer.count) }
            let n = buffer.withUnsafeMutableBytes { raw in
                read(fd, raw.baseAddress! + used, raw.count - used)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .cannotRead(path: path, reason: lastError())
            }
            if n == 0 { break }
            used += n
        }
        buffer.removeSubrange(used...)
        return buffer
    }

    /// Lengthens `array` to `count` bytes, keeping its contents (the new bytes are zero).
    ///
    /// Copies with `memcpy`: `append(contentsOf:)` of a generic sequence runs byte by byte in debug builds.
    static func grow(_ array: inout [UInt8], to count: Int) {
        let old = array.count
        require(count >= old, "FileIO.grow: cannot shrink \(old) bytes to \(count)")
        array = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            array.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
            }
            (buffer.baseAddress! + old).initialize(repeating: 0, count: count - old)
            initialized = count
        }
    }

    /// Replaces the file at `path` (creating it if needed) with `bytes`.
    static func writeBytes(_ bytes: [UInt8], toPath path: String) throws(DataError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw .cannotWrite(path: path, reason: lastError()) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { raw in write(fd, raw.baseAddress! + written, raw.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = lastError()
                close(fd)
                throw .cannotWrite(path: path, reason: reason)
            }
            written += n
        }
        guard close(fd) == 0 else { throw .cannotWrite(path: path, reason: lastError()) }
    }

    /// Writes UTF-8 text to `path`.
    static func writeText(_ text: String, toPath path: String) throws(DataError) {
        try writeBytes(Array(text.utf8), toPath: path)
    }
}
