/// A small JSON value, parsed from and quoted into UTF-8 (just what safetensors headers need).
///
/// Objects keep their members in file order (so duplicates can be detected); integers that fit
/// in `Int` are kept exact, other numbers as `Double`. The parser recurses at most ``maximumDepth``
/// levels (so hostile nesting cannot exhaust the stack) and never traps: every defect is a ``JSON/ParseError``.
enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSON])
    /// Members in file order (duplicates kept, so that callers can reject them).
    case object([(String, JSON)])

    /// The deepest nesting accepted.
    static let maximumDepth = 64

    /// What is wrong with a JSON text, and at which byte.
    struct ParseError: Error, Sendable {
        /// A sentence naming the defect and its byte offset.
        let message: String
    }

    static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case let (.bool(x), .bool(y)): x == y
        case let (.integer(x), .integer(y)): x == y
        case let (.number(x), .number(y)): x == y
        case let (.string(x), .string(y)): x == y
        case let (.array(x), .array(y)): x == y
        case let (.object(x), .object(y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// `s` as a JSON string literal (quotes, backslashes and control characters escaped).
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// Parses one JSON value from UTF-8 bytes; trailing whitespace is allowed, anything else is not.
    static func parse<C: Collection<UInt8>>(_ text: C) throws(ParseError) -> JSON {
        let bytes = Array(text)
        guard String(decoding: bytes, as: UTF8.self).utf8.elementsEqual(bytes) else {
            throw ParseError(message: "the text is not valid UTF-8")
        }
        var p = Parser(b: bytes)
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == bytes.count else { throw p.error("unexpected data after the JSON value") }
        return v
    }

    private struct Parser {
        let b: [UInt8]
        var i = 0

        func error(_ what: String) -> ParseError { ParseError(message: "\(what) at byte \(i)") }

        mutating func skipSpace() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        }

        mutating func expect(_ c: UInt8) throws(ParseError) {
            skipSpace()
            guard i < b.count, b[i] == c else { throw error("expected '\(Character(Unicode.Scalar(c)))'") }
            i += 1
        }

        mutating func value(depth: Int) throws(ParseError) -> JSON {
            guard depth < JSON.maximumDepth else { throw error("nesting deeper than \(JSON.maximumDepth)") }
            skipSpace()
            guard i < b.count else { throw error("unexpected end of the text") }
            switch b[i] {
            case UInt8(ascii: "{"):
                i += 1
                var members: [(String, JSON)] = []
                skipSpace()
                if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                while true {
                    skipSpace()
                    guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                    let key = try string()
                    try expect(UInt8(ascii: ":"))
                    members.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    guard i < b.count else { throw error("unexpected end inside an object") }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    if b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                    throw error("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                i += 1
                var items: [JSON] = []
                skipSpace()
                if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                while true {
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < b.count else { throw error("unexpected end inside an array") }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    if b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                    throw error("expected ',' or ']'")
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("unexpected character")
            }
        }

        mutating func literal(_ word: String) throws(ParseError) {
            let w = Array(word.utf8)
            guard b.count - i >= w.count, b[i..<(i + w.count)].elementsEqual(w) else { throw error("invalid literal") }
            i += w.count
        }

        mutating func number() throws(ParseError) -> JSON {
            let start = i
            var isInteger = true
            if b[i] == UInt8(ascii: "-") { i += 1 }
            let digitsStart = i
            while i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) { i += 1 }
            guard i > digitsStart else { throw error("a number needs digits") }
            if b[digitsStart] == UInt8(ascii: "0") && i - digitsStart > 1 { throw error("leading zeros in a number") }
            if i < b.count, b[i] == UInt8(ascii: ".") {
                isInteger = false
                i += 1
                let f = i
                while i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) { i += 1 }
                guard i > f else { throw error("a fraction needs digits") }
            }
            if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
                isInteger = false
                i += 1
                if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
                let e = i
                while i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) { i += 1 }
                guard i > e else { throw error("an exponent needs digits") }
            }
            let text = String(decoding: b[start..<i], as: UTF8.self)
            if isInteger, let v = Int(text) { return .integer(v) }
            guard let d = Double(text) else { throw error("invalid number") }
            return .number(d)
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard b.count - i >= 4 else { throw error("a \\u escape needs four hex digits") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                guard let d = hexDigit(b[i]) else { throw error("a \\u escape needs four hex digits") }
                v = v << 4 | d
                i += 1
            }
            return v
        }

        func hexDigit(_ c: UInt8) -> UInt32? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(c - UInt8(ascii: "A") + 10)
            default: nil
            }
        }

        mutating func string() throws(ParseError) -> String {
            i += 1  // the opening quote
            var out: [UInt8] = []
            while true {
                guard i < b.count else { throw error("unterminated string") }
                let c = b[i]
                i += 1
                switch c {
                case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                case 0..<0x20: throw error("unescaped control character in a string")
                case UInt8(ascii: "\\"):
                    guard i < b.count else { throw error("unterminated escape") }
                    let e = b[i]
                    i += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800..<0xDC00).contains(code) {
                            guard b.count - i >= 2, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                                throw error("a high surrogate without its low surrogate")
                            }
                            i += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw error("invalid low surrogate") }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(code) else { throw error("a lone surrogate in a \\u escape") }
                        out += Array(String(Character(scalar)).utf8)
                    default: throw error("invalid escape")
                    }
                default: out.append(c)
                }
            }
        }
    }
}

/// `s` as a JSON string literal, for the package's other JSON writers (the metrics log).
package func jsonStringLiteral(_ s: String) -> String { JSON.quote(s) }
