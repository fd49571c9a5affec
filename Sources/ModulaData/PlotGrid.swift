import ModulaTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
