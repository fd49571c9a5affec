// libFuzzer target: SafeTensors.decode must throw or succeed on any bytes, never trap.
import ModulaTensor

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    if let file = try? SafeTensors.decode(bytes, source: "fuzz") {
        // What decodes must re-encode and decode to the same file.
        precondition((try? SafeTensors.decode(file.encoded)) == file, "safetensors: re-encoding changed the file")
    }
    return 0
}
