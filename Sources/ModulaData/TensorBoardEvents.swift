/// The bytes of a TensorBoard event file: TFRecord framing around `Event` protocol buffers.
///
/// Only what scalar logging needs is encoded, by hand (no protobuf dependency): an `Event` with `wall_time` (field 1,
/// double), `step` (field 2, varint) and either `file_version` (field 3, the first record of every file) or a
/// `Summary` (field 5) of `Value`s with a `tag` (field 1) and a `simple_value` (field 2, float). This is the layout
/// of TensorFlow's `event.proto` and `summary.proto`, which TensorBoard's `EventAccumulator` reads.
///
/// Each record is framed as TFRecord: the payload's length as a little-endian UInt64, the masked CRC-32C of those
/// eight bytes, the payload, and the masked CRC-32C of the payload.
enum TensorBoardEvents {
    /// The first event of a file: `file_version = "brain.Event:2"`.
    static func fileVersion(wallTime: Double) -> [UInt8] {
        var event = ProtobufWriter()
        event.double(field: 1, wallTime)
        event.bytes(field: 3, Array("brain.Event:2".utf8))
        return record(event.bytes)
    }

    /// One event holding a scalar summary for each `(tag, value)`.
    static func scalars(step: Int, wallTime: Double, _ values: [(String, Double)]) -> [UInt8] {
        var summary = ProtobufWriter()
        for (tag, value) in values {
            var entry = ProtobufWriter()
            entry.bytes(field: 1, Array(tag.utf8))
            entry.float(field: 2, Float(value))
            summary.bytes(field: 1, entry.bytes)
        }
        var event = ProtobufWriter()
        event.double(field: 1, wallTime)
        event.varint(field: 2, UInt64(bitPattern: Int64(step)))
        event.bytes(field: 5, summary.bytes)
        return record(event.bytes)
    }

    /// TFRecord framing of one payload.
    static func record(_ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 16)
        let length = withUnsafeBytes(of: UInt64(payload.count).littleEndian) { Array($0) }
        out += length
        appendLittleEndian(maskedCRC32C(length), to: &out)
        out += payload
        appendLittleEndian(maskedCRC32C(payload), to: &out)
        return out
    }

    static func appendLittleEndian(_ v: UInt32, to out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out += $0 }
    }

    /// TFRecord's checksum: CRC-32C rotated right by 15 bits plus a constant, so that a CRC of data that itself
    /// holds CRCs stays well distributed.
    static func maskedCRC32C(_ bytes: [UInt8]) -> UInt32 {
        let crc = crc32c(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xa282_ead8
    }

    /// CRC-32C (Castagnoli polynomial, reflected 0x82F63B78), as in iSCSI (RFC 3720) and TFRecord.
    static func crc32c(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for b in bytes { crc = crc32cTable[Int((crc ^ UInt32(b)) & 0xff)] ^ (crc >> 8) }
        return crc ^ 0xffff_ffff
    }

    static let crc32cTable: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82f6_3b78 : c >> 1 }
        return c
    }
}

/// Protocol-buffer wire format for the few field kinds an event needs.
struct ProtobufWriter {
    var bytes: [UInt8] = []

    mutating func rawVarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func key(_ field: Int, _ wireType: UInt64) { rawVarint(UInt64(field) << 3 | wireType) }

    mutating func varint(field: Int, _ v: UInt64) {
        key(field, 0)
        rawVarint(v)
    }

    mutating func double(field: Int, _ v: Double) {
        key(field, 1)
        withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
    }

    mutating func bytes(field: Int, _ payload: [UInt8]) {
        key(field, 2)
        rawVarint(UInt64(payload.count))
        bytes += payload
    }

    mutating func float(field: Int, _ v: Float) {
        key(field, 5)
        withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
    }
}
