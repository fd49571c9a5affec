import Testing
@testable import ModulaTensor

/// A safetensors file from a header text and a data buffer (the header length is filled in).
private func file(_ header: String, data: [UInt8] = []) -> [UInt8] {
    let h = Array(header.utf8)
    var out: [UInt8] = []
    withUnsafeBytes(of: UInt64(h.count).littleEndian) { out += $0 }
    return out + h + data
}

private func error(_ bytes: [UInt8]) -> SafeTensorsError? {
    do { _ = try SafeTensors.decode(bytes, source: "t.safetensors"); return nil } catch { return error }
}

@Suite("Safetensors")
struct SafeTensorsTests {
    @Test("tensors and metadata round-trip bit for bit, in F32 and F64")
    func roundTrip() throws {
        var rng = RandomGenerator(seed: 7)
        var f = SafeTensors(metadata: ["note": "quote \" backslash \\ newline \n tab \t é 😀", "": "empty key"])
        let a = Tensor<Float>.randomNormal([3, 5], using: &rng), b = Tensor<Double>.randomNormal([2, 1, 4], using: &rng)
        try f.append("a", a)
        try f.append("b.weight", b)
        try f.append("empty", Tensor<Float>.zeros([0, 3]))
        try f.append("scalar", Tensor<Double>(repeating: -0.0, shape: []))
        let back = try SafeTensors.decode(f.encoded)
        #expect(back == f)
        #expect(try back.tensor("a", as: Float.self) == a)
        #expect(try back.tensor("b.weight", as: Double.self) == b)
        #expect((8 + Int(f.encoded[0])) % 8 == 0)  // the header is padded to 8-byte alignment, as Python's writer does
        #expect(throws: SafeTensorsError.wrongDType(source: "<memory>", name: "a", expected: "F64", found: "F32")) {
            _ = try back.tensor("a", as: Double.self)
        }
        #expect(throws: SafeTensorsError.duplicateName(source: "<new file>", name: "a")) { try f.append("a", a) }
    }

    @Test("short files, absurd or overlong header lengths are rejected")
    func headerLength() {
        #expect(error([]) == .truncated(source: "t.safetensors", reason: "the file has 0 bytes, fewer than the 8 of the header length"))
        #expect(error([1, 0, 0]) != nil)
        if case .truncated? = error(file("{}") .dropLast(1) + []) {} else { Issue.record("a header cut short must read as truncated") }
        var huge = [UInt8](repeating: 0, count: 16)
        huge[0] = 0xFF; huge[1] = 0xFF; huge[2] = 0xFF; huge[3] = 0xFF; huge[7] = 0x7F
        if case .invalidHeader(_, let r)? = error(huge) { #expect(r.contains("above the limit")) } else { Issue.record("absurd length") }
        huge[7] = 0xFF  // 2⁶⁴ − 1 must not wrap around
        #expect(error(huge) != nil)
    }

    @Test("invalid UTF-8, invalid JSON and wrong JSON shapes are rejected")
    func badHeaders() {
        var bad = file("{\"a\":1}")
        bad[10] = 0xFF
        for bytes in [bad, file("{"), file("[]"), file("{\"a\":1}"), file("{\"a\":{\"dtype\":\"F32\"}}"),
                      file("{\"__metadata__\":{\"k\":1}}"), file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}"),
                      file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", data: [0, 0, 0, 0]),
                      file(String(repeating: "[", count: 10_000))] {
            guard case .invalidHeader? = error(bytes) else { Issue.record("accepted or misreported: \(error(bytes).map { "\($0)" } ?? "accepted")"); continue }
        }
    }

    @Test("unknown dtypes, overflowing and mismatched shapes, bad offsets and duplicates are named")
    func badEntries() {
        func entry(_ name: String = "w", _ dtype: String = "F32", shape: String, _ offsets: String) -> String {
            "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":[\(shape)],\"data_offsets\":[\(offsets)]}"
        }
        let four = [UInt8](repeating: 0, count: 4)
        #expect(error(file("{\(entry("w", "F31", shape: "1", "0,4"))}", data: four)) == .unknownDType(source: "t.safetensors", name: "w", dtype: "F31"))
        if case .sizeMismatch(_, "w", let r)? = error(file("{\(entry(shape: "2147483648,2147483648,2147483648", "0,4"))}", data: four)) {
            #expect(r.contains("overflows"))
        } else { Issue.record("2³¹×2³¹×2³¹ must overflow") }
        if case .sizeMismatch(_, "w", let r)? = error(file("{\(entry(shape: "2147483648,2147483648", "0,4"))}", data: four)) {
            #expect(r.contains("needs 73786976294838206464") || r.contains("overflows"))
        } else { Issue.record("2³¹×2³¹ F32 elements do not fit 4 bytes") }
        #expect(error(file("{\(entry(shape: "2", "0,4"))}", data: four)) == .sizeMismatch(source: "t.safetensors", name: "w", reason: "shape [2] of F32 needs 8 bytes, data_offsets give 4"))
        #expect(error(file("{\(entry(shape: "1", "0,8"))}", data: four)) == .offsetsOutOfRange(source: "t.safetensors", name: "w", begin: 0, end: 8, dataBytes: 4))
        #expect(error(file("{\(entry(shape: "1", "4,0"))}", data: four)) != nil)
        #expect(error(file("{\(entry(shape: "1", "9223372036854775807,9223372036854775807"))}", data: four)) != nil)
        let eight = [UInt8](repeating: 0, count: 8)
        if case .overlapping? = error(file("{\(entry("a", "F32", shape: "1", "0,4")),\(entry("b", "F32", shape: "1", "2,6"))}", data: eight)) {} else { Issue.record("overlap") }
        if case .overlapping? = error(file("{\(entry("a", "F32", shape: "1", "4,8"))}", data: eight)) {} else { Issue.record("gap before") }
        if case .overlapping? = error(file("{\(entry("a", "F32", shape: "1", "0,4"))}", data: eight)) {} else { Issue.record("gap after") }
        #expect(error(file("{\(entry("a", "F32", shape: "1", "0,4")),\(entry("a", "F32", shape: "1", "4,8"))}", data: eight)) == .duplicateName(source: "t.safetensors", name: "a"))
        #expect(error(file("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}")) == .duplicateName(source: "t.safetensors", name: "__metadata__.k"))
    }

    @Test("random mutations of a valid file never trap (bounded: 3000 mutants)")
    func mutations() throws {
        var rng = RandomGenerator(seed: 11)
        var f = SafeTensors(metadata: ["step": "3"])
        try f.append("a", Tensor<Float>.randomNormal([2, 3], using: &rng))
        try f.append("b", Tensor<Double>.randomNormal([4], using: &rng))
        let valid = f.encoded
        var accepted = 0
        for _ in 0..<3000 {
            var m = valid
            for _ in 0..<(1 + rng.nextInt(below: 4)) {
                switch rng.nextInt(below: 4) {
                case 0: m[rng.nextInt(below: m.count)] = UInt8(truncatingIfNeeded: rng.next())
                case 1: m.removeLast(rng.nextInt(below: m.count))
                case 2: m.insert(UInt8(truncatingIfNeeded: rng.next()), at: rng.nextInt(below: m.count + 1))
                default: if !m.isEmpty { m.remove(at: rng.nextInt(below: m.count)) }
                }
                if m.isEmpty { break }
            }
            if (try? SafeTensors.decode(m)) != nil { accepted += 1 }
        }
        #expect(accepted < 3000)
    }

    @Test("JSON strings with escapes and surrogate pairs parse; lone surrogates do not")
    func json() throws {
        #expect(try JSON.parse(Array(#"{"a":"\u00e9\ud83d\ude00\n","b":[1,-2,3.5,true,null]}"#.utf8))
                == .object([("a", .string("é😀\n")), ("b", .array([.integer(1), .integer(-2), .number(3.5), .bool(true), .null]))]))
        #expect(throws: JSON.ParseError.self) { try JSON.parse(Array(#""\ud800""#.utf8)) }
        #expect(throws: JSON.ParseError.self) { try JSON.parse(Array("01".utf8)) }
        #expect(throws: JSON.ParseError.self) { try JSON.parse(Array("{} x".utf8)) }
    }
}
