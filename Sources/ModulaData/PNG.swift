import CZlib
import ModulaTensor

/// A minimal PNG encoder (8-bit RGB, no interlacing) on zlib.
enum PNG {
    /// `scanlines` holds `height` rows of one filter byte followed by `3 × width` RGB bytes.
    static func encodeRGB(width: Int, height: Int, scanlines: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]  // bit depth 8, color type RGB, deflate, adaptive filtering, no interlace
        chunk("IHDR", header, into: &out)
        chunk("IDAT", zlibCompress(scanlines), into: &out)
        chunk("IEND", [], into: &out)
        return out
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    private static func chunk(_ type: String, _ data: [UInt8], into out: inout [UInt8]) {
        let body = Array(type.utf8) + data
        let crc = body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        out += bigEndian(UInt32(data.count)) + body + bigEndian(UInt32(truncatingIfNeeded: crc))
    }

    /// A zlib (not gzip) stream, as PNG's IDAT chunk requires.
    private static func zlibCompress(_ bytes: [UInt8]) -> [UInt8] {
        var length = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(length))
        let status = out.withUnsafeMutableBufferPointer { dst in
            bytes.withUnsafeBufferPointer { src in
                compress2(dst.baseAddress, &length, src.baseAddress, uLong(src.count), 6)
            }
        }
        require(status == Z_OK, "PNG: zlib compress2 failed with status \(status)")
        return Array(out[..<Int(length)])
    }
}
