import ModulaTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A figure that draws itself as SVG: a ``LinePlot``, a ``Heatmap`` or a ``PlotGrid`` of them.
///
/// ```swift
/// var plot = LinePlot(title: "Training loss", xLabel: "step", yLabel: "loss", yScale: .log10)
/// plot.add("dualized", x: steps, y: losses)
/// try plot.write(toPath: "loss.svg")
/// ```
public protocol SVGPlot: Sendable {
    /// The size the figure is drawn at by ``svg()`` and ``write(toPath:)``, in pixels.
    var size: (width: Double, height: Double) { get }
    /// SVG elements that draw the figure inside the given rectangle (used to compose figures).
    func svgElements(x: Double, y: Double, width: Double, height: Double) -> String
}

extension SVGPlot {
    /// A standalone SVG document of the figure at its ``size``.
    public func svg() -> String {
        SVGWriter.document(width: size.width, height: size.height,
                           body: svgElements(x: 0, y: 0, width: size.width, height: size.height))
    }

    /// Writes the figure as an SVG file (open it in any browser; `rsvg-convert -o out.png in.svg` makes a PNG).
    public func write(toPath path: String) throws(DataError) {
        try FileIO.writeText(svg(), toPath: path)
    }
}

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

/// A line chart of named series, with linear or logarithmic axes, ticks, labels, a title and a legend.
///
/// Points whose coordinates are not finite (NaN losses of a diverged run) or not positive on a log axis are
/// left out and break the line; lines are clipped to the plotting area, so ``yRange`` can cut off blow-ups.
///
/// ```swift
/// var plot = LinePlot(title: "Learning-rate transfer", xLabel: "learning rate", yLabel: "test loss",
///                     xScale: .log2, yScale: .log10)
/// for (i, width) in [64, 128, 256].enumerated() {
///     plot.add("width \(width)", x: rates, y: losses[i], color: PlotColors.sequential(Double(i) / 2), markers: true)
/// }
/// try plot.write(toPath: "lr-transfer.svg")
/// ```
public struct LinePlot: SVGPlot {
    /// One named line.
    public struct Series: Sendable {
        /// The name shown in the legend.
        public var name: String
        /// The horizontal coordinates.
        public var x: [Double]
        /// The vertical coordinates, one per `x`.
        public var y: [Double]
        /// A CSS color, or nil for the next color of ``PlotColors/categorical``.
        public var color: String?
        /// Whether the line is dashed.
        public var dashed: Bool
        /// Whether each point is marked with a dot.
        public var markers: Bool

        /// A series of points `(x[i], y[i])`.
        ///
        /// - Precondition: `x` and `y` have equal counts. Stops with a message otherwise.
        public init(name: String, x: [Double], y: [Double], color: String? = nil, dashed: Bool = false, markers: Bool = false) {
            require(x.count == y.count, "LinePlot.Series(\(name)): \(x.count) x values but \(y.count) y values")
            self.name = name
            self.x = x
            self.y = y
            self.color = color
            self.dashed = dashed
            self.markers = markers
        }
    }

    /// The title above the plot (none when empty).
    public var title: String
    /// The label under the horizontal axis.
    public var xLabel: String
    /// The label beside the vertical axis.
    public var yLabel: String
    /// The horizontal scale.
    public var xScale: AxisScale
    /// The vertical scale.
    public var yScale: AxisScale
    /// The visible horizontal interval; nil fits the data.
    public var xRange: ClosedRange<Double>?
    /// The visible vertical interval; nil fits the data (with a small margin).
    public var yRange: ClosedRange<Double>?
    /// The lines, drawn in order.
    public var series: [Series] = []
    /// The size of the figure in pixels.
    public var size: (width: Double, height: Double) = (720, 450)

    /// An empty plot with the given labels and scales.
    public init(title: String = "", xLabel: String = "", yLabel: String = "",
                xScale: AxisScale = .linear, yScale: AxisScale = .linear,
                xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xScale = xScale
        self.yScale = yScale
        self.xRange = xRange
        self.yRange = yRange
    }

    /// Adds a series of points `(x[i], y[i])`.
    public mutating func add(_ name: String, x: [Double], y: [Double], color: String? = nil, dashed: Bool = false, markers: Bool = false) {
        series.append(Series(name: name, x: x, y: y, color: color, dashed: dashed, markers: markers))
    }

    /// Adds a series whose horizontal coordinates are 0, 1, 2, … (for example one loss per step).
    public mutating func add(_ name: String, y: [Double], color: String? = nil, dashed: Bool = false, markers: Bool = false) {
        add(name, x: y.indices.map(Double.init), y: y, color: color, dashed: dashed, markers: markers)
    }

    /// Draws the title, axes, grid, lines and legend inside the given rectangle.
    public func svgElements(x ox: Double, y oy: Double, width: Double, height: Double) -> String {
        var s = SVGWriter()
        let font = 12.0
        let named = series.filter { !$0.name.isEmpty }
        let legendWidth = named.isEmpty ? 16 : min(width * 0.35, 40 + Double(named.map(\.name.count).max()!) * 0.6 * font)

        // Axes from the admissible points only.
        var xs: [Double] = [], ys: [Double] = []
        for line in series {
            for (a, b) in zip(line.x, line.y) where xScale.admits(a) && yScale.admits(b) {
                xs.append(a)
                ys.append(b)
            }
        }
        let xAxis = AxisLayout(scale: xScale, dataRange: xs.isEmpty ? nil : xs.min()!...xs.max()!, fixed: xRange, pad: 0.02)
        let yAxis = AxisLayout(scale: yScale, dataRange: ys.isEmpty ? nil : ys.min()!...ys.max()!, fixed: yRange, pad: 0.05)

        let yTickWidth = yAxis.ticks.map { $0.label.width(fontSize: font - 1) }.max() ?? 20
        let top = oy + (title.isEmpty ? 12 : 36)
        let left = ox + 14 + yTickWidth + (yLabel.isEmpty ? 0 : 22)
        let bottom = oy + height - (xLabel.isEmpty ? 28 : 48)
        let right = ox + width - legendWidth
        guard right - left > 20 && bottom - top > 20 else { return "" }
        func px(_ t: Double) -> Double { xAxis.position(t, from: left, to: right) }
        func py(_ t: Double) -> Double { yAxis.position(t, from: bottom, to: top) }

        if !title.isEmpty {
            s.text(title, x: (left + right) / 2, y: oy + 24, size: 16, anchor: .middle, weight: "bold")
        }
        s.rect(left, top, right - left, bottom - top, fill: "white")
        for t in xAxis.minorTicks { s.line(px(t), top, px(t), bottom, stroke: "#f0f0f0") }
        for t in yAxis.minorTicks { s.line(left, py(t), right, py(t), stroke: "#f0f0f0") }
        for (t, label) in xAxis.ticks {
            s.line(px(t), top, px(t), bottom, stroke: "#e0e0e0")
            s.line(px(t), bottom, px(t), bottom + 5, stroke: "#444")
            s.text(label, x: px(t), y: bottom + 18, size: font - 1, anchor: .middle)
        }
        for (t, label) in yAxis.ticks {
            s.line(left, py(t), right, py(t), stroke: "#e0e0e0")
            s.line(left - 5, py(t), left, py(t), stroke: "#444")
            s.text(label, x: left - 8, y: py(t) + 4, size: font - 1, anchor: .end)
        }
        s.rect(left, top, right - left, bottom - top, fill: "none", stroke: "#444")
        if !xLabel.isEmpty { s.text(xLabel, x: (left + right) / 2, y: bottom + 40, size: font, anchor: .middle) }
        if !yLabel.isEmpty {
            let cx = left - yTickWidth - 22, cy = (top + bottom) / 2
            s.text(yLabel, x: cx, y: cy, size: font, anchor: .middle, rotate: -90)
        }
        if xs.isEmpty {
            s.text("no finite data", x: (left + right) / 2, y: (top + bottom) / 2, size: font, anchor: .middle, fill: "#888")
        }

        let frame = (x0: left, y0: top, x1: right, y1: bottom)
        var legendRow = 0
        for (i, line) in series.enumerated() {
            let color = line.color ?? PlotColors.categorical[i % PlotColors.categorical.count]
            let dash = line.dashed ? " stroke-dasharray=\"6 4\"" : ""
            // Pixel coordinates of admissible points; nil breaks the line.
            let points: [(Double, Double)?] = zip(line.x, line.y).map { a, b in
                xScale.admits(a) && yScale.admits(b) ? (px(xScale.transform(a)), py(yScale.transform(b))) : nil
            }
            for path in LinePlot.clippedPolylines(points, to: frame) where path.count > 1 {
                let d = path.map { "\(CFormat.coordinate($0.0)),\(CFormat.coordinate($0.1))" }.joined(separator: " ")
                s.raw("<polyline points=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"\(dash)/>")
            }
            if line.markers || points.count == 1 {
                for case let (a, b)? in points where a >= left - 0.5 && a <= right + 0.5 && b >= top - 0.5 && b <= bottom + 0.5 {
                    s.raw("<circle cx=\"\(CFormat.coordinate(a))\" cy=\"\(CFormat.coordinate(b))\" r=\"3\" fill=\"\(color)\"/>")
                }
            }
            if !line.name.isEmpty {
                let ly = top + 10 + Double(legendRow) * 20
                s.raw("<line x1=\"\(CFormat.coordinate(right + 12))\" y1=\"\(CFormat.coordinate(ly))\" x2=\"\(CFormat.coordinate(right + 34))\" y2=\"\(CFormat.coordinate(ly))\" stroke=\"\(color)\" stroke-width=\"2.5\"\(dash)/>")
                if line.markers { s.raw("<circle cx=\"\(CFormat.coordinate(right + 23))\" cy=\"\(CFormat.coordinate(ly))\" r=\"3\" fill=\"\(color)\"/>") }
                s.text(line.name, x: right + 40, y: ly + 4, size: font)
                legendRow += 1
            }
        }
        return s.text
    }

    /// Splits a broken line into polylines clipped to a rectangle (Liang–Barsky on each segment).
    static func clippedPolylines(_ points: [(Double, Double)?], to r: (x0: Double, y0: Double, x1: Double, y1: Double)) -> [[(Double, Double)]] {
        var paths: [[(Double, Double)]] = []
        var current: [(Double, Double)] = []
        func flush() {
            if !current.isEmpty { paths.append(current) }
            current = []
        }
        if points.count == 1, let p = points[0] { return [[p]] }
        for i in points.indices.dropFirst() {
            guard let p = points[i - 1], let q = points[i] else { flush(); continue }
            var (t0, t1) = (0.0, 1.0)
            let (dx, dy) = (q.0 - p.0, q.1 - p.1)
            var visible = true
            for (pk, qk) in [(-dx, p.0 - r.x0), (dx, r.x1 - p.0), (-dy, p.1 - r.y0), (dy, r.y1 - p.1)] {
                if pk == 0 {
                    if qk < 0 { visible = false }
                } else {
                    let t = qk / pk
                    if pk < 0 { t0 = max(t0, t) } else { t1 = min(t1, t) }
                }
            }
            guard visible && t0 <= t1 else { flush(); continue }
            let a = (p.0 + t0 * dx, p.1 + t0 * dy), b = (p.0 + t1 * dx, p.1 + t1 * dy)
            if t0 > 0 { flush() }  // entered the rectangle: a new polyline
            if current.isEmpty { current.append(a) }
            current.append(b)
            if t1 < 1 { flush() }  // left the rectangle
        }
        flush()
        return paths
    }
}

/// Several figures side by side in rows, as one SVG (for example the stamped weights before and after training).
///
/// ```swift
/// let grid = PlotGrid([before, afterDualized, afterRaw], columns: 3, title: "Weight erasure")
/// try grid.write(toPath: "erasure.svg")
/// ```
public struct PlotGrid: SVGPlot {
    /// The figures, filled into rows left to right.
    public var panels: [any SVGPlot]
    /// The number of figures per row.
    public var columns: Int
    /// The title above the grid (none when empty).
    public var title: String

    /// A grid of `panels`, `columns` per row.
    public init(_ panels: [any SVGPlot], columns: Int? = nil, title: String = "") {
        self.panels = panels
        self.columns = max(1, columns ?? panels.count)
        self.title = title
    }

    private var rows: Int { (panels.count + columns - 1) / columns }
    private var cell: (width: Double, height: Double) {
        (panels.map(\.size.width).max() ?? 400, panels.map(\.size.height).max() ?? 300)
    }

    /// The size of each cell (the largest panel) times the number of columns and rows, plus the title.
    public var size: (width: Double, height: Double) {
        (cell.width * Double(columns), cell.height * Double(rows) + (title.isEmpty ? 0 : 36))
    }

    /// Draws the title and each panel in its cell of the given rectangle.
    public func svgElements(x ox: Double, y oy: Double, width: Double, height: Double) -> String {
        var s = SVGWriter()
        let titleHeight = title.isEmpty ? 0.0 : 36
        if !title.isEmpty { s.text(title, x: ox + width / 2, y: oy + 26, size: 18, anchor: .middle, weight: "bold") }
        let w = width / Double(columns), h = (height - titleHeight) / Double(max(rows, 1))
        for (i, panel) in panels.enumerated() {
            let (r, c) = i.quotientAndRemainder(dividingBy: columns)
            s.raw(panel.svgElements(x: ox + Double(c) * w, y: oy + titleHeight + Double(r) * h, width: w, height: h))
        }
        return s.text
    }
}
