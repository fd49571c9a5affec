extension Heatmap {
    /// How values become colors.
    public enum ColorMap: Sendable {
        /// Black for the lowest value to white for the highest.
        case grayscale
        /// Blue for negative, white for zero, red for positive (symmetric about zero by default).
        case diverging
    }

    /// The color of `v` as 8-bit RGB; non-finite values are magenta.
    func color(_ v: Double, in r: ClosedRange<Double>) -> (UInt8, UInt8, UInt8) {
        guard v.isFinite else { return (255, 0, 255) }
        let t = (v - r.lowerBound) / (r.upperBound - r.lowerBound)
        let rgb: (Double, Double, Double)
        switch colorMap {
        case .grayscale:
            let g = 255 * min(max(t, 0), 1)
            rgb = (g, g, g)
        case .diverging:  // ColorBrewer RdBu, blue for low
            rgb = PlotColors.interpolate(
                [(5, 48, 97), (67, 147, 195), (247, 247, 247), (214, 96, 77), (103, 0, 31)], t)
        }
        return (UInt8(rgb.0.rounded()), UInt8(rgb.1.rounded()), UInt8(rgb.2.rounded()))
    }
}
