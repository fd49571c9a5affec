import ModulaTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
