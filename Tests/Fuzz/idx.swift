// libFuzzer target: IDXArray.decode must throw or succeed on any bytes, never trap.
import ModulaData

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    if let a = try? IDXArray.decode(bytes, source: "fuzz") {
        precondition(a.encoded == bytes, "IDX: re-encoding changed the bytes")
    }
    return 0
}
