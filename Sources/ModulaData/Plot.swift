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
