#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Whole-file reads, and writes that replace a file atomically and durably.
public enum AtomicFile {
    /// Replaces `path` with `bytes`: a temporary file in the same folder, `fsync`, `rename`, `fsync` of the folder.
    ///
    /// A crash at any moment leaves the old file or the new one, never a partial file, at `path`
    /// (a stray `<path>.partial-<pid>` may remain after `SIGKILL`; it is never read).
    public static func write(_ bytes: [UInt8], toPath path: String) throws(SafeTensorsError) {
        let temporary = path + ".partial-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw .io(source: path, reason: "cannot create \(temporary): \(lastError())") }
        func fail(_ what: String) -> SafeTensorsError {
            let reason = lastError()
            close(fd)
            unlink(temporary)
            return .io(source: path, reason: "\(what): \(reason)")
        }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { raw in posixWrite(fd, raw.baseAddress! + written, raw.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("could not write")
            }
            written += n
        }
        guard fsync(fd) == 0 else { throw fail("could not flush to disk") }
        guard close(fd) == 0 else { let r = lastError(); unlink(temporary); throw .io(source: path, reason: "could not close: \(r)") }
        guard rename(temporary, path) == 0 else { let r = lastError(); unlink(temporary); throw .io(source: path, reason: "could not rename into place: \(r)") }
        // The rename itself is durable only once the folder's entry is flushed.
        let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let dfd = open(folder.isEmpty ? "/" : folder, O_RDONLY)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    /// Every byte of the regular file at `path`; directories and unreadable paths give errors saying so.
    public static func read(_ path: String) throws(SafeTensorsError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .io(source: path, reason: lastError()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(source: path, reason: lastError()) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw .io(source: path, reason: "it is a directory, not a file") }
        var bytes = [UInt8](repeating: 0, count: Swift.max(Int(info.st_size), 0) + 1)
        var used = 0
        while true {
            if used == bytes.count { bytes += [UInt8](repeating: 0, count: bytes.count) }
            let n = bytes.withUnsafeMutableBytes { raw in posixRead(fd, raw.baseAddress! + used, raw.count - used) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(source: path, reason: lastError())
            }
            if n == 0 { break }
            used += n
        }
        bytes.removeSubrange(used...)
        return bytes
    }

    static func lastError() -> String { String(cString: strerror(errno)) }
}

// The enum's own `write`/`read` would shadow the system calls inside it.
private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }
private func posixRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int { read(fd, p, n) }
