import ModulaTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Inside `AxisScale` the names `log2` and `log10` are its cases, not the C functions.
private func binaryLogarithm(_ v: Double) -> Double { log2(v) }
private func decimalLogarithm(_ v: Double) -> Double { log10(v) }

/// How values map to positions along an axis.
public enum AxisScale: Sendable, Equatable {
    /// Evenly spaced values.
    case linear
    /// Powers of two evenly spaced (learning rates, widths); non-positive values are left out.
    case log2
    /// Powers of ten evenly spaced (losses); non-positive values are left out.
    case log10

    func transform(_ v: Double) -> Double {
        switch self {
        case .linear: v
        case .log2: binaryLogarithm(v)
        case .log10: decimalLogarithm(v)
        }
    }

    func admits(_ v: Double) -> Bool { v.isFinite && (self == .linear || v > 0) }
}

/// One axis after layout: the visible interval (in transformed units) and its ticks.
struct AxisLayout {
    var scale: AxisScale
    var lo: Double
    var hi: Double
    var ticks: [(value: Double, label: TickLabel)] = []
    var minorTicks: [Double] = []

    /// Lays out an axis over the data values `lo...hi` (untransformed), padding by `pad` of the span.
    init(scale: AxisScale, dataRange: ClosedRange<Double>?, fixed: ClosedRange<Double>?, pad: Double) {
        self.scale = scale
        var (a, b): (Double, Double)
        if let fixed {
            (a, b) = (scale.transform(fixed.lowerBound), scale.transform(fixed.upperBound))
        } else if let r = dataRange {
            (a, b) = (scale.transform(r.lowerBound), scale.transform(r.upperBound))
            if a == b { a -= 1; b += 1 }
            let p = (b - a) * pad
            (a, b) = (a - p, b + p)
        } else {
            (a, b) = scale == .linear ? (0, 1) : (0, 1)
        }
        if !(a < b) || !a.isFinite || !b.isFinite { (a, b) = (0, 1) }
        (lo, hi) = (a, b)
        switch scale {
        case .linear: linearTicks()
        case .log2: logTicks(base: 2)
        case .log10: logTicks(base: 10)
        }
    }

    /// Ticks at 1, 2 or 5 times a power of ten, about five of them.
    private mutating func linearTicks() {
        let raw = (hi - lo) / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw * 0.999 } ?? 10 * magnitude
        let decimals = max(0, -Int(floor(log10(step))))
        let largest = max(abs(lo), abs(hi))
        var k = ceil(lo / step - 1e-9)
        while k * step <= hi + step * 1e-9 {
            let v = k * step
            let label: String
            if largest >= 1e6 || (largest < 1e-3 && largest > 0) {
                label = CFormat.short(v, digits: 3)
            } else {
                label = CFormat.string("%.*f", Int32(decimals), abs(v) < step * 1e-9 ? 0.0 : v)
            }
            ticks.append((v, TickLabel(base: label)))
            k += 1
        }
    }

    /// Ticks at integer powers of the base (thinned when there are many); for base 10, minor ticks at 2…9.
    private mutating func logTicks(base: Double) {
        let first = Int(ceil(lo - 1e-9)), last = Int(floor(hi + 1e-9))
        if last - first < 2 && base == 10 {
            // Less than two decades: label 1, 2 and 5 times powers of ten (minor grid lines still mark 2…9).
            for e in (first - 1)...(last + 1) {
                for m in [1.0, 2, 5] {
                    let v = m * pow(10, Double(e))
                    let t = log10(v)
                    if t >= lo - 1e-9 && t <= hi + 1e-9 { ticks.append((t, TickLabel(base: CFormat.short(v, digits: 3)))) }
                }
            }
        } else {
            let every = max(1, Int(ceil(Double(last - first + 1) / 10)))
            for e in first...max(first, last) where e % every == 0 && Double(e) <= hi + 1e-9 {
                ticks.append((Double(e), AxisLayout.powerLabel(base: base, exponent: e)))
            }
        }
        if base == 10 && last - first < 8 {
            for e in (first - 1)...last {
                for m in 2...9 {
                    let t = Double(e) + log10(Double(m))
                    if t > lo && t < hi { minorTicks.append(t) }
                }
            }
        }
    }

    /// `1024` for small exponents, `2⁻¹⁰` (base with a superscript exponent) otherwise.
    static func powerLabel(base: Double, exponent e: Int) -> TickLabel {
        let plain = base == 2 ? (0...12).contains(e) : (-3...4).contains(e)
        if plain { return TickLabel(base: CFormat.short(pow(base, Double(e)), digits: 6)) }
        return TickLabel(base: base == 2 ? "2" : "10", exponent: String(e))
    }

    /// The pixel position of a transformed value in the interval `from...to`.
    func position(_ t: Double, from: Double, to: Double) -> Double {
        from + (t - lo) / (hi - lo) * (to - from)
    }
}
