// libFuzzer target: Gzip.decompress must throw or succeed on any bytes, never trap, and never
// produce more than its limit; the header-sized prefix IDX files read first must be a true prefix.
@testable import ModulaData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    let full = try? Gzip.decompress(bytes, source: "fuzz", maximumBytes: 1 << 20)
    if let full { precondition(full.count <= 1 << 20, "gzip: output past the limit") }
    if let head = try? Gzip.decompressedPrefix(bytes, source: "fuzz", count: 64) {
        precondition(head.count <= 64, "gzip: prefix longer than asked")
        if let full { precondition(full.starts(with: head) && (head.count == 64 || head == full), "gzip: the prefix differs from the full output") }
    }
    return 0
}
