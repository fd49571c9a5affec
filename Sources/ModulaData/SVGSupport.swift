#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Number formatting with C's `printf` (ModulaData does not depend on Foundation).
enum CFormat {
    static func string(_ format: String, _ arguments: CVarArg...) -> String {
        withVaList(arguments) { va in
            var buffer = [CChar](repeating: 0, count: 128)
            let n = Int(vsnprintf(&buffer, buffer.count, format, va))
            return String(decoding: buffer[..<min(max(n, 0), buffer.count - 1)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// A coordinate with one decimal, without a trailing `.0`.
    static func coordinate(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        if r == r.rounded() && abs(r) < 1e15 { return String(Int(r)) }
        return string("%.1f", r)
    }

    /// Up to `digits` significant digits, in plain or exponent notation as `%g` chooses.
    static func short(_ v: Double, digits: Int = 4) -> String {
        v == 0 ? "0" : string("%.*g", Int32(digits), v)
    }
}

/// A text label, optionally with an exponent drawn as a superscript (`2⁻¹⁰`).
struct TickLabel: Equatable {
    var base: String
    var exponent: String? = nil

    /// Approximate width in pixels at `fontSize` (sans-serif digits are about 0.6 em wide).
    func width(fontSize: Double) -> Double {
        Double(base.count) * 0.6 * fontSize + Double(exponent?.count ?? 0) * 0.45 * fontSize
    }
}

/// Builds the text of an SVG document.
struct SVGWriter {
    private(set) var text = ""

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    mutating func raw(_ s: String) { text += s; text += "\n" }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1, dash: String? = nil) {
        let c = CFormat.coordinate
        raw("<line x1=\"\(c(x1))\" y1=\"\(c(y1))\" x2=\"\(c(x2))\" y2=\"\(c(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(CFormat.coordinate(width))\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>")
    }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, stroke: String? = nil) {
        let c = CFormat.coordinate
        raw("<rect x=\"\(c(x))\" y=\"\(c(y))\" width=\"\(c(w))\" height=\"\(c(h))\" fill=\"\(fill)\"\(stroke.map { " stroke=\"\($0)\"" } ?? "")/>")
    }

    enum Anchor: String { case start, middle, end }

    mutating func text(_ s: String, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start,
                       weight: String? = nil, rotate: Double? = nil, fill: String = "#222") {
        text(TickLabel(base: s), x: x, y: y, size: size, anchor: anchor, weight: weight, rotate: rotate, fill: fill)
    }

    mutating func text(_ label: TickLabel, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start,
                       weight: String? = nil, rotate: Double? = nil, fill: String = "#222") {
        let c = CFormat.coordinate
        var attributes = "x=\"\(c(x))\" y=\"\(c(y))\" font-size=\"\(c(size))\" fill=\"\(fill)\""
        if anchor != .start { attributes += " text-anchor=\"\(anchor.rawValue)\"" }
        if let weight { attributes += " font-weight=\"\(weight)\"" }
        if let rotate { attributes += " transform=\"rotate(\(c(rotate)) \(c(x)) \(c(y)))\"" }
        var body = SVGWriter.escape(label.base)
        if let e = label.exponent {
            body += "<tspan dy=\"\(c(-0.45 * size))\" font-size=\"\(c(0.75 * size))\">\(SVGWriter.escape(e))</tspan>"
        }
        raw("<text \(attributes)>\(body)</text>")
    }

    /// A complete SVG document of the given size around `body`, on a white background.
    static func document(width: Double, height: Double, body: String) -> String {
        let w = CFormat.coordinate(width), h = CFormat.coordinate(height)
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" \
            width="\(w)" height="\(h)" viewBox="0 0 \(w) \(h)" \
            font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            \(body)</svg>

            """
    }
}

enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let v = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(v >> 18 & 63)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(i + 1 < bytes.count ? alphabet[Int(v >> 6 & 63)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(v & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
