import Testing
import ModulaTensor
@testable import ModulaData

@Suite("Plot")
struct PlotTests {
    @Test func linePlotHasTitleAxesSeriesAndLegend() {
        var plot = LinePlot(title: "Loss & accuracy", xLabel: "step", yLabel: "loss")
        plot.add("dualized", y: [1, 0.5, 0.25, 0.2])
        plot.add("raw <SGD>", x: [0, 1, 2, 3], y: [1, 0.9, 0.8, 0.75], dashed: true, markers: true)
        let svg = plot.svg()
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.contains(">Loss &amp; accuracy</text>"))
        #expect(svg.contains(">step</text>") && svg.contains(">loss</text>"))
        #expect(svg.contains(">dualized</text>") && svg.contains(">raw &lt;SGD&gt;</text>"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(svg.contains("stroke-dasharray"))
        #expect(svg.contains("<circle"))
        #expect(svg.hasSuffix("</svg>\n"))
    }

    @Test func logAxesTickAtPowers() {
        var plot = LinePlot(xLabel: "learning rate", xScale: .log2, yScale: .log10)
        plot.add("width 64", x: [0.001, 0.01, 0.1, 1], y: [2, 0.3, 0.05, 0.9])
        let svg = plot.svg()
        #expect(svg.contains(">2<tspan") && svg.contains(">-10</tspan>"))  // 2⁻¹⁰ on the x axis
        #expect(svg.contains(">0.1</text>") && svg.contains(">1</text>"))  // decades on the y axis
    }

    @Test func nonFiniteValuesBreakTheLine() {
        var plot = LinePlot()
        plot.add("diverged", y: [1, 2, .nan, 3, 4, .infinity])
        let svg = plot.svg()
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(!svg.contains("nan") && !svg.contains("inf"))
    }

    @Test func linesAreClippedToTheVisibleRange() {
        let paths = LinePlot.clippedPolylines([(0, 0), (10, 0), (20, 100), (30, 0)], to: (0, -10, 30, 10))
        #expect(paths.count == 2)
        #expect(paths[0].count == 3 && paths[0].last!.1 == 10)
        #expect(paths[1].first!.1 == 10 && paths[1].last! == (30, 0))
    }

    @Test func heatmapEmbedsAValidPNG() throws {
        let m = Tensor<Float>(shape: [3, 4], scalars: (0..<12).map { Float($0) - 5 })
        let map = Heatmap(m, title: "weights", colorMap: .diverging)
        #expect(map.colorRange == -6...6)
        let png = map.png()
        #expect(Array(png[..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(Array(png[12..<16]) == Array("IHDR".utf8))
        #expect(Array(png[16..<24]) == [0, 0, 0, 4, 0, 0, 0, 3])
        // The IDAT payload is a zlib stream of 3 scanlines of 1 + 3·4 bytes; zero maps to white.
        let idatLength = Int(png[33]) << 24 | Int(png[34]) << 16 | Int(png[35]) << 8 | Int(png[36])
        let raw = try Gzip.decompress(Array(png[41..<(41 + idatLength)]))
        #expect(raw.count == 3 * 13)
        #expect(Array(raw[(13 + 1 + 3)..<(13 + 1 + 6)]) == [247, 247, 247])  // entry (1, 1) = 0
        let svg = map.svg()
        #expect(svg.contains("<image") && svg.contains("data:image/png;base64,iVBORw0KGgo"))
        #expect(svg.contains(">weights</text>") && svg.contains("linearGradient"))
        #expect(svg.contains(">3 × 4</text>"))
    }

    @Test func gridPlacesEveryPanel() {
        var loss = LinePlot(title: "loss")
        loss.add("a", y: [3, 2, 1])
        let map = Heatmap(rows: 2, columns: 2, values: [0, 1, 2, 3], title: "stamp")
        let grid = PlotGrid([loss, map], columns: 2, title: "Overview")
        #expect(grid.size.width == 720 + 720)
        let svg = grid.svg()
        #expect(svg.contains(">Overview</text>") && svg.contains(">loss</text>") && svg.contains(">stamp</text>"))
        #expect(svg.contains("<polyline") && svg.contains("<image"))
    }

    @Test func writesFiles() throws {
        let dir = TemporaryDirectory()
        var plot = LinePlot(title: "t")
        plot.add("s", y: [1, 2])
        try plot.write(toPath: dir.file("plot.svg"))
        try Heatmap(rows: 1, columns: 2, values: [0, 1]).writePNG(toPath: dir.file("map.png"), scale: 4)
        #expect(exists(dir.file("plot.svg")) && exists(dir.file("map.png")))
        #expect(dataError { () throws(DataError) in try plot.write(toPath: "/no/such/dir/plot.svg") }?.description.contains("cannot write") == true)
    }
}
