import Modula
import ModulaData

/// Weight erasure [Modula's weight-erasure notebook]: a letter stamped into a hidden weight matrix
/// fades under dualized training and stays under raw gradient descent; the dualized gradient has
/// high stable rank while the raw gradient's stays near 1.
public enum WeightErasure {
    public struct Configuration: Sendable {
        public var width = 256
        public var steps = 300
        public var batch = 128
        /// Learning rates 2^k for k in this range.
        public var logLearningRates = Array(-6...2)
        /// Widths for the stable-rank measurement.
        public var stableRankWidths = [32, 64, 128, 256, 512]
        public var seed: UInt64 = 0
        public var dataDirectory: String? = nil
        public var limit: Int? = nil
        public init() {}
        public static var quick: Configuration {
            var c = Configuration()
            c.width = 48; c.steps = 60; c.logLearningRates = [-4, -1, 2]; c.stableRankWidths = [16, 64]; c.limit = 4000
            return c
        }

        /// Throws unless the widths, step count and batch are positive and there is a learning rate to try.
        public func validate() throws(ExampleError) {
            try requirePositive(width, "--width")
            try requirePositive(steps, "--steps")
            try requirePositive(batch, "batch")
            for w in stableRankWidths { try requirePositive(w, "stableRankWidths") }
            guard !logLearningRates.isEmpty else {
                throw .invalidOption("logLearningRates", value: "[]", expected: "at least one exponent")
            }
            try requireLimit(limit)
        }
    }

    /// A `size × size` mask of the letter "M" (1 on the strokes, 0 elsewhere).
    public static func letterM(_ size: Int) -> Tensor<Float> {
        var m = Tensor<Float>.zeros([size, size])
        let stroke = Swift.max(1, size / 10), lo = size / 8, hi = size - size / 8
        m.withUnsafeMutableBufferPointer { p in
            for i in lo..<hi {
                for d in 0..<stroke {
                    p[i * size + Swift.min(lo + d, size - 1)] = 1                 // left leg
                    p[i * size + Swift.max(hi - 1 - d, 0)] = 1                     // right leg
                }
                let t = Double(i - lo) / Double(Swift.max(hi - lo, 1))
                if t <= 0.5 {                                                      // the two diagonals
                    let j1 = lo + Int(t * Double(hi - lo)), j2 = hi - 1 - Int(t * Double(hi - lo))
                    for d in 0..<stroke {
                        p[i * size + Swift.min(j1 + d, size - 1)] = 1
                        p[i * size + Swift.max(j2 - d, 0)] = 1
                    }
                }
            }
        }
        return m
    }

    static func cosine(_ a: Tensor<Float>, _ b: Tensor<Float>) -> Double {
        Double(a.dotValue(b)) / Double(Swift.max(a.frobeniusNormValue * b.frobeniusNormValue, 1e-30))
    }

    /// Trains over the learning-rate grid with and without dualization and measures stable ranks.
    ///
    /// Result keys: `best_accuracy_dualized`, `best_accuracy_raw`, `accurate_rates_dualized` and
    /// `accurate_rates_raw` (grid points within 2 % of the best accuracy of both), `stamp_dualized`
    /// and `stamp_raw` (cosine similarity of the stamped matrix with the letter after training at
    /// each method's best rate; 1 means untouched), and `stable_rank_raw` / `stable_rank_dualized`
    /// at the largest width, and `weights_digest` (``Checkpoint/digest(combining:)`` of every run's final weights).
    public static func run(_ c: Configuration, environment env: ExampleEnvironment = .init()) throws -> ExampleResult {
        try c.validate()
        let data = try loadImages(directory: c.dataDirectory, limit: c.limit)
        let mlp = Sequential.mlp(input: data.featureCount, width: c.width, output: data.classCount, depth: 3)
        let hidden = 1  // "2.weight", the width × width matrix
        let mask = letterM(c.width)
        var rng0 = RandomGenerator(seed: c.seed)
        var initial: [Tensor<Float>] = mlp.initialize(using: &rng0)
        // Stamp: the letter, scaled to the matrix's own Frobenius norm, added to the initialization.
        let stamp = mask * (initial[hidden].frobeniusNormValue / mask.frobeniusNormValue)
        initial[hidden] = initial[hidden] + stamp
        let stampBefore = cosine(initial[hidden], mask)

        var accuracy: [String: [Double]] = ["dualized": [], "raw": []]
        var finalHidden: [String: [Tensor<Float>]] = ["dualized": [], "raw": []]
        var progress = env.progress(total: 2 * c.logLearningRates.count, label: "weight-erasure", itemsPerStep: 1)
        var runIndex = 0
        var digests: [String] = []  // of every run's final weights, in run order
        for method in ["dualized", "raw"] {
            for k in c.logLearningRates {
                let lr = Double.pow2(k)
                var rng = RandomGenerator(seed: c.seed &+ 1)
                var w = initial
                var opt = method == "dualized"
                    ? try Optimizer<Float>.modular(module: mlp, learningRate: .linearDecay(lr, steps: c.steps))
                    : try Optimizer<Float>.sgd(module: mlp, learningRate: .linearDecay(lr, steps: c.steps))
                var diverged = false
                for _ in 0..<c.steps {
                    let (images, labels) = data.batch(size: c.batch, using: &rng)
                    let (_, grads) = try valueWithGradient(at: w) { w in
                        meanSquaredError(try mlp.forward([images], weights: w[...])[0], oneHot(labels, classes: data.classCount, as: Float.self))
                    }
                    if !grads.allSatisfy(\.isFinite) { diverged = true; break }
                    // A NaN or infinite update is divergence too (the gradients were checked above).
                    do { try opt.update(&w, gradients: consume grads) } catch OptimizerError.nonFinite { diverged = true; break }
                }
                let acc = diverged || !w.allSatisfy(\.isFinite) ? 0.1 : try evaluate(mlp, w, data)
                accuracy[method]!.append(acc)
                finalHidden[method]!.append(w[hidden])
                digests.append(Checkpoint.digest(w))
                progress?.update(step: runIndex, extra: "\(method) lr 2^\(k): accuracy \(formatted(acc, digits: 3))")
                runIndex += 1
            }
        }
        progress?.finish()

        // Stable rank of the raw and the dualized gradient of a fresh width × width hidden layer.
        var ranks: [(Int, Double, Double)] = []
        var rng = RandomGenerator(seed: c.seed &+ 2)
        let (images, labels) = data.batch(size: c.batch, using: &rng)
        for width in c.stableRankWidths {
            let net = Sequential.mlp(input: data.featureCount, width: width, output: data.classCount, depth: 3)
            let w: [Tensor<Float>] = net.initialize(using: &rng)
            let g = try valueWithGradient(at: w) { w in
                meanSquaredError(try net.forward([images], weights: w[...])[0], oneHot(labels, classes: data.classCount, as: Float.self))
            }.gradients
            let d = try net.dualize(g)
            ranks.append((width, Double(try g[1].stableRank()), Double(try d[1].stableRank())))
            env.log("width \(width): stable rank of the raw gradient \(formatted(ranks.last!.1, digits: 2)), of the dualized gradient \(formatted(ranks.last!.2, digits: 2))")
        }

        let best = ["dualized": accuracy["dualized"]!.max()!, "raw": accuracy["raw"]!.max()!]
        let top = Swift.max(best["dualized"]!, best["raw"]!)
        func accurate(_ m: String) -> Int { accuracy[m]!.filter { $0 >= top - 0.02 }.count }
        func stampAfter(_ m: String) -> Double { cosine(finalHidden[m]![accuracy[m]!.firstIndex(of: best[m]!)!], mask) }
        for m in ["dualized", "raw"] {
            env.log("\(m): accuracy by learning rate \(zip(c.logLearningRates, accuracy[m]!).map { "2^\($0)=\(formatted($1, digits: 3))" }.joined(separator: " "))")
        }

        if env.figures != nil {
            let rates = c.logLearningRates.map { Double.pow2($0) }
            var acc = LinePlot(title: "Test accuracy after \(c.steps) steps", xLabel: "learning rate", yLabel: "accuracy", xScale: .log2)
            acc.add("dualized", x: rates, y: accuracy["dualized"]!, markers: true)
            acc.add("raw gradient", x: rates, y: accuracy["raw"]!, markers: true)
            try env.write(acc, "weight-erasure-accuracy.svg")
            let i = accuracy["dualized"]!.firstIndex(of: best["dualized"]!)!, j = accuracy["raw"]!.firstIndex(of: best["raw"]!)!
            // One colour scale for the three matrices, so that a fainter stamp means smaller entries, not a wider scale.
            let matrices = [initial[hidden], finalHidden["dualized"]![i], finalHidden["raw"]![j]]
            let largest = matrices.map { Double(Swift.max($0.max(), -$0.min())) }.max() ?? 1
            let scale = largest > 0 && largest.isFinite ? -largest...largest : -1...1
            let grid = PlotGrid([
                Heatmap(matrices[0], title: "stamped, before training", colorMap: .diverging, range: scale),
                Heatmap(matrices[1], title: "after dualized training", colorMap: .diverging, range: scale),
                Heatmap(matrices[2], title: "after raw gradient descent", colorMap: .diverging, range: scale),
            ], columns: 3, title: "The stamped hidden matrix (best learning rate of each method; one colour scale)")
            try env.write(grid, "weight-erasure-matrices.svg")
            var sr = LinePlot(title: "Stable rank of the hidden layer's gradient", xLabel: "width", yLabel: "stable rank",
                              xScale: .log2, yScale: .log2)
            sr.add("dualized", x: ranks.map { Double($0.0) }, y: ranks.map(\.2), markers: true)
            sr.add("raw", x: ranks.map { Double($0.0) }, y: ranks.map(\.1), markers: true)
            try env.write(sr, "weight-erasure-stable-rank.svg")
        }

        var result = ExampleResult("weight-erasure")
        result.add("best_accuracy_dualized", best["dualized"]!)
        result.add("best_accuracy_raw", best["raw"]!)
        result.add("accurate_rates_dualized", Double(accurate("dualized")), digits: 0)
        result.add("accurate_rates_raw", Double(accurate("raw")), digits: 0)
        result.add("stamp_before", stampBefore)
        result.add("stamp_dualized", stampAfter("dualized"))
        result.add("stamp_raw", stampAfter("raw"))
        result.add("stable_rank_raw", ranks.last!.1, digits: 2)
        result.add("stable_rank_dualized", ranks.last!.2, digits: 2)
        result.add("weights_digest", Checkpoint.digest(combining: digests))
        return result
    }
}

extension Double {
    static func pow2(_ k: Int) -> Double { k >= 0 ? Double(1 << k) : 1 / Double(1 << -k) }
}
