import ModulaTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Colors for plot series.
public enum PlotColors {
    /// Ten distinct colors for unordered series (matplotlib's `tab10`); series without a color cycle through them.
    public static let categorical = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]

    /// A color of the viridis map at `t` in [0, 1] (dark purple to yellow), for ordered series such as widths.
    public static func sequential(_ t: Double) -> String {
        let anchors: [(Double, Double, Double)] = [
            (68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37),
        ]
        return hex(interpolate(anchors, t))
    }

    static func interpolate(_ anchors: [(Double, Double, Double)], _ t: Double) -> (Double, Double, Double) {
        let u = min(max(t.isNaN ? 0 : t, 0), 1) * Double(anchors.count - 1)
        let i = min(Int(u), anchors.count - 2)
        let f = u - Double(i)
        let (a, b) = (anchors[i], anchors[i + 1])
        return (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f)
    }

    static func hex(_ rgb: (Double, Double, Double)) -> String {
        CFormat.string("#%02x%02x%02x", Int32(rgb.0.rounded()), Int32(rgb.1.rounded()), Int32(rgb.2.rounded()))
    }
}
