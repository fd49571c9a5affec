import ModulaTensor

/// A matrix drawn as an image, one square cell per entry, with a color bar: for looking at weights
/// (the "stamped" pattern of the weight-erasure experiment) or any other 2-D array.
///
/// The cells are embedded as a PNG image inside the SVG, so a 784×256 matrix stays a small file.
///
/// ```swift
/// let map = Heatmap(weight, title: "hidden weight after 1000 steps", colorMap: .diverging)
/// try map.write(toPath: "weight.svg")      // or map.writePNG(toPath: "weight.png")
/// ```
public struct Heatmap: SVGPlot {
    /// The number of matrix rows (drawn top to bottom).
    public let rows: Int
    /// The number of matrix columns (drawn left to right).
    public let columns: Int
    /// The entries in row-major order.
    public let values: [Double]
    /// The title above the image (none when empty).
    public var title: String
    /// How values become colors.
    public var colorMap: ColorMap
    /// The values mapped to the two ends of the color bar; nil uses the data's minimum and maximum
    /// (for ``ColorMap/diverging``, ±the largest magnitude).
    public var range: ClosedRange<Double>?
    /// The size of the figure in pixels; by default the image's longer side is 480 pixels and the figure
    /// follows the matrix's shape.
    public var size: (width: Double, height: Double)

    /// A heat map of `values`, a `rows × columns` matrix in row-major order.
    ///
    /// - Precondition: the matrix is not empty and `values` holds `rows·columns` numbers. Stops with a message otherwise.
    public init(rows: Int, columns: Int, values: [Double], title: String = "", colorMap: ColorMap = .grayscale,
                range: ClosedRange<Double>? = nil) {
        require(rows > 0 && columns > 0, "Heatmap: the matrix must not be empty, got \(rows)×\(columns)")
        require(values.count == rows * columns, "Heatmap: \(rows)×\(columns) needs \(rows * columns) values, got \(values.count)")
        self.rows = rows
        self.columns = columns
        self.values = values
        self.title = title
        self.colorMap = colorMap
        self.range = range
        let cell = 480 / Double(max(rows, columns))
        let image = (width: max(Double(columns) * cell, 40), height: max(Double(rows) * cell, 40))
        size = (image.width + Heatmap.margins.width, image.height + Heatmap.margins.height + (title.isEmpty ? 0 : 24))
    }

    /// Space around the image: 10 + 10 beside it, the color bar and its labels; 10 above, 26 below (the caption).
    private static let margins = (width: 20.0 + 12 + 14 + 52, height: 36.0)

    /// A heat map of a rank-2 tensor (a rank-1 tensor is drawn as one row).
    ///
    /// - Precondition: `matrix` has rank 1 or 2. Stops with a message otherwise.
    public init<S: TensorScalar>(_ matrix: Tensor<S>, title: String = "", colorMap: ColorMap = .grayscale,
                                 range: ClosedRange<Double>? = nil) {
        require(matrix.rank == 1 || matrix.rank == 2, "Heatmap: expected a rank-1 or rank-2 tensor, got shape \(matrix.shape)")
        let (r, c) = matrix.rank == 2 ? (matrix.shape[0], matrix.shape[1]) : (1, matrix.shape[0])
        let values = matrix.converted(to: Double.self).scalars
        self.init(rows: r, columns: c, values: values, title: title, colorMap: colorMap, range: range)
    }

    /// The values at the two ends of the color bar.
    public var colorRange: ClosedRange<Double> {
        if let range { return range }
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return 0...1 }
        switch colorMap {
        case .grayscale:
            return lo < hi ? lo...hi : (lo - 1)...(hi + 1)
        case .diverging:
            let m = max(abs(lo), abs(hi))
            return m > 0 ? -m...m : -1...1
        }
    }

    /// The matrix as an RGB PNG image with one pixel per entry, each repeated `scale` times in both directions.
    ///
    /// - Precondition: `scale ≥ 1`. Stops with a message otherwise.
    public func png(scale: Int = 1) -> [UInt8] {
        require(scale >= 1, "Heatmap.png: scale must be at least 1, got \(scale)")
        let r = colorRange
        let colors = values.map { color($0, in: r) }
        let width = columns * scale, height = rows * scale
        let stride = 1 + 3 * width  // a filter byte (0: none) and the RGB pixels of one image row
        var raw = [UInt8](repeating: 0, count: height * stride)
        raw.withUnsafeMutableBufferPointer { out in
            for i in 0..<rows {
                let first = i * scale * stride
                for j in 0..<columns {
                    let (cr, cg, cb) = colors[i * columns + j]
                    for k in 0..<scale {
                        let o = first + 1 + 3 * (j * scale + k)
                        out[o] = cr
                        out[o + 1] = cg
                        out[o + 2] = cb
                    }
                }
                for copy in 1..<max(scale, 1) {  // repeat the row
                    for b in 0..<stride { out[first + copy * stride + b] = out[first + b] }
                }
            }
        }
        return PNG.encodeRGB(width: width, height: height, scanlines: raw)
    }

    /// Writes the matrix as a PNG file (see ``png(scale:)``).
    public func writePNG(toPath path: String, scale: Int = 1) throws(DataError) {
        try FileIO.writeBytes(png(scale: scale), toPath: path)
    }

    /// Draws the title, the image, its shape and the color bar inside the given rectangle.
    public func svgElements(x ox: Double, y oy: Double, width: Double, height: Double) -> String {
        var s = SVGWriter()
        let c = CFormat.coordinate
        let top = oy + (title.isEmpty ? 10 : 34)
        let barWidth = 14.0, barGap = 12.0
        let availableWidth = width - Heatmap.margins.width
        let availableHeight = oy + height - 26 - top
        guard availableWidth > 4 && availableHeight > 4 else { return "" }
        let cell = min(availableWidth / Double(columns), availableHeight / Double(rows))
        let imageWidth = cell * Double(columns), imageHeight = cell * Double(rows)
        let left = ox + 10 + (availableWidth - imageWidth) / 2

        if !title.isEmpty { s.text(title, x: ox + width / 2, y: oy + 22, size: 14, anchor: .middle, weight: "bold") }
        // Enlarge small matrices by whole pixels so viewers that smooth images still show sharp cells.
        let scale = max(1, min(Int((cell).rounded(.up)), 2048 / max(rows, columns)))
        let data = Base64.encode(png(scale: max(scale, 1)))
        s.raw("<image x=\"\(c(left))\" y=\"\(c(top))\" width=\"\(c(imageWidth))\" height=\"\(c(imageHeight))\" preserveAspectRatio=\"none\" image-rendering=\"pixelated\" style=\"image-rendering:pixelated\" xlink:href=\"data:image/png;base64,\(data)\"/>")
        s.rect(left, top, imageWidth, imageHeight, fill: "none", stroke: "#444")
        s.text("\(rows) × \(columns)", x: left + imageWidth / 2, y: top + imageHeight + 16, size: 11, anchor: .middle, fill: "#555")

        // Color bar: a vertical gradient from the top (high) to the bottom (low) with three labels.
        let r = colorRange
        let barLeft = left + imageWidth + barGap
        let gradientID = "bar-\(Int(ox))-\(Int(oy))"
        var stops = ""
        for k in 0...10 {
            let t = Double(k) / 10
            let (cr, cg, cb) = color(r.upperBound - t * (r.upperBound - r.lowerBound), in: r)
            stops += "<stop offset=\"\(c(t * 100))%\" stop-color=\"\(PlotColors.hex((Double(cr), Double(cg), Double(cb))))\"/>"
        }
        s.raw("<defs><linearGradient id=\"\(gradientID)\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">\(stops)</linearGradient></defs>")
        s.raw("<rect x=\"\(c(barLeft))\" y=\"\(c(top))\" width=\"\(c(barWidth))\" height=\"\(c(imageHeight))\" fill=\"url(#\(gradientID))\" stroke=\"#444\"/>")
        for (t, v) in [(0.0, r.upperBound), (0.5, (r.lowerBound + r.upperBound) / 2), (1.0, r.lowerBound)] {
            let y = top + t * imageHeight
            s.line(barLeft + barWidth, y, barLeft + barWidth + 4, y, stroke: "#444")
            s.text(CFormat.short(v, digits: 3), x: barLeft + barWidth + 6, y: y + 4, size: 10)
        }
        return s.text
    }
}
