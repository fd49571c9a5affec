// libFuzzer target: Gzip.decompress must throw or succeed on any bytes, never trap, and never
// produce more than its limit.
import ModulaData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    if let out = try? Gzip.decompress(bytes, source: "fuzz", maximumBytes: 1 << 20) {
        precondition(out.count <= 1 << 20, "gzip: output past the limit")
    }
    return 0
}
