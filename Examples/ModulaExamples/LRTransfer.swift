import Modula
import ModulaData

/// Learning-rate transfer across width (and depth) [Large et al. 2024; Yang, Simon & Bernstein 2023]:
/// sweep the learning rate over powers of two at several widths, for modular-norm training and for
/// standard-parametrized SGD and AdamW, and see where the best rate lands.
public enum LRTransfer {
    /// A training method and its learning-rate grid (log₂ of the rates).
    public enum Method: String, Sendable, CaseIterable {
        case modular, sgd, adamw

        var defaultGrid: [Int] {
            switch self {
            case .modular: return Array(-4...4)
            case .sgd: return Array(-6...3)
            case .adamw: return Array(-14...(-5))
            }
        }
    }

    public struct Configuration: Sendable {
        public var widths = [64, 128, 256, 512, 1024]
        /// Depths of a residual MLP (width `depthWidth`) for the depth sweep; empty to skip it.
        public var depths = [2, 4, 8, 16]
        public var depthWidth = 128
        public var steps = 60
        public var batch = 128
        public var methods = Method.allCases
        /// Replaces each method's default grid of log₂ learning rates.
        public var grid: [Method: [Int]] = [:]
        public var seed: UInt64 = 0
        public var dataDirectory: String? = nil
        public var limit: Int? = nil
        public init() {}
        public static var quick: Configuration {
            var c = Configuration()
            c.widths = [32, 128]; c.depths = []; c.steps = 30; c.limit = 4000
            c.grid = [.modular: Array(-2...4), .sgd: Array(-5...1), .adamw: Array(-11...(-5))]
            return c
        }
        func rates(_ m: Method) -> [Int] { grid[m] ?? m.defaultGrid }

        /// Throws unless there is a width and a method, every width, depth, step count and batch is
        /// positive.
        public func validate() throws(ExampleError) {
            guard !widths.isEmpty else { throw .invalidOption("--widths", value: "[]", expected: "at least one width") }
            for w in widths { try requirePositive(w, "--widths") }
            for d in depths { try requirePositive(d, "--depths") }
            try requirePositive(depthWidth, "depthWidth")
            try requirePositive(steps, "--steps")
            try requirePositive(batch, "batch")
            guard !methods.isEmpty else { throw .invalidOption("--methods", value: "[]", expected: "at least one method") }
            for (m, g) in grid where g.isEmpty {
                throw .invalidOption("grid", value: "[] for \(m.rawValue)", expected: "at least one exponent")
            }
            try requireLimit(limit)
        }
    }

    /// One sweep: the training loss after training (on a fixed set of 2048 training images) at each
    /// (size, learning rate).
    public struct Sweep: Sendable {
        public let method: Method
        public let sizes: [Int]
        public let logRates: [Int]
        /// losses[size][rate]; +∞ where training diverged.
        public let losses: [[Double]]

        /// The index of the best learning rate at each size.
        public var optimumIndices: [Int] {
            losses.map { row in row.indices.min { row[$0] < row[$1] }! }
        }
        /// How far the best learning rate moves across sizes, in grid steps (powers of 2).
        public var optimumShift: Int {
            let o = optimumIndices
            return (o.max() ?? 0) - (o.min() ?? 0)
        }
        /// The best loss at each size.
        public var bestLosses: [Double] { losses.map { $0.min()! } }
    }

    /// Standard parametrization for the baselines: W ~ N(0, 1/fan_in).
    static func standardInitialization(_ m: any Module, _ rng: inout RandomGenerator) -> [Tensor<Float>] {
        m.weightShapes.map { s in
            Tensor<Float>.randomNormal(s, standardDeviation: 1 / Float(s.last!).squareRoot(), using: &rng)
        }
    }

    static func train(_ m: any Module, method: Method, logRate: Int, steps: Int, batch: Int, seed: UInt64,
                      data: ImageClassificationDataset) throws -> (loss: Double, digest: String) {
        var rng = RandomGenerator(seed: seed)
        var w: [Tensor<Float>] = method == .modular ? m.initialize(using: &rng) : standardInitialization(m, &rng)
        let lr = Double.pow2(logRate)
        var opt: Optimizer<Float>
        switch method {
        case .modular: opt = try .modular(module: m, learningRate: .linearDecay(lr, steps: steps))
        case .sgd: opt = try .sgd(module: m, learningRate: .linearDecay(lr, steps: steps), momentum: 0.9)
        case .adamw: opt = try .adamW(module: m, learningRate: .linearDecay(lr, steps: steps), betas: (0.9, 0.99))
        }
        for _ in 0..<steps {
            let (images, labels) = data.batch(size: batch, using: &rng)
            let (loss, grads) = try valueWithGradient(at: w) { w in
                crossEntropy(logits: try m.forward([images], weights: w[...])[0], labels: labels)
            }
            let value = Double(loss.scalar)
            if !value.isFinite || value > 50 || !grads.allSatisfy(\.isFinite) { return (.infinity, Checkpoint.digest(w)) }
            // A NaN or infinite update is divergence too (the loss and gradients were checked above).
            do { try opt.update(&w, gradients: consume grads) } catch OptimizerError.nonFinite { return (.infinity, Checkpoint.digest(w)) }
        }
        // The loss on a fixed set of training images: the same for every run, so no batch noise.
        let (images, labels) = evaluationSet(data)
        let final = Double(crossEntropy(logits: try m.forward([images], weights: w[...])[0], labels: labels).scalar)
        return (final.isFinite ? final : .infinity, Checkpoint.digest(w))
    }

    /// The first 2048 training images (fewer if the set is smaller).
    static func evaluationSet(_ data: ImageClassificationDataset) -> (Tensor<Float>, [Int]) {
        let n = Swift.min(2048, data.count(.train))
        return (data.images(.train, range: 0..<n), data.labels(.train, range: 0..<n))
    }

    /// Runs the sweeps. Result keys: `modular_optimum_shift`, `sgd_optimum_shift`,
    /// `adamw_optimum_shift`, `baseline_optimum_shift` (the larger of the two baselines'),
    /// `modular_wider_is_better` (1 when the best loss never gets worse with width),
    /// `modular_depth_optimum_shift` when depths were swept, and `weights_digest`
    /// (``Checkpoint/digest(combining:)`` of every run's final weights, in run order).
    public static func run(_ c: Configuration, environment env: ExampleEnvironment = .init()) throws -> ExampleResult {
        try c.validate()
        let data = try loadImages(directory: c.dataDirectory, limit: c.limit)
        let total = c.methods.reduce(0) { $0 + c.rates($1).count } * (c.widths.count + c.depths.count)
        var progress = env.progress(total: Swift.max(total, 1), label: "lr-transfer", itemsPerStep: 1)
        var done = 0
        var digests: [String] = []  // of every run's final weights, in run order
        func sweep(_ method: Method, sizes: [Int], build: (Int) -> any Module, label: String) throws -> Sweep {
            var losses: [[Double]] = []
            for size in sizes {
                let m = build(size)
                var row: [Double] = []
                for k in c.rates(method) {
                    let run = try train(m, method: method, logRate: k, steps: c.steps, batch: c.batch, seed: c.seed, data: data)
                    row.append(run.loss)
                    digests.append(run.digest)
                    progress?.update(step: done, extra: "\(method.rawValue) \(label) \(size) lr 2^\(k): loss \(formatted(row.last!, digits: 3))")
                    done += 1
                }
                losses.append(row)
            }
            return Sweep(method: method, sizes: sizes, logRates: c.rates(method), losses: losses)
        }
        var widthSweeps: [Sweep] = [], depthSweeps: [Sweep] = []
        for method in c.methods {
            widthSweeps.append(try sweep(method, sizes: c.widths, build: {
                Sequential.mlp(input: data.featureCount, width: $0, output: data.classCount, depth: 3)
            }, label: "width"))
        }
        if !c.depths.isEmpty {
            for method in c.methods {
                depthSweeps.append(try sweep(method, sizes: c.depths, build: {
                    Sequential.resMLP(input: data.featureCount, width: c.depthWidth, output: data.classCount, depth: $0)
                }, label: "depth"))
            }
        }
        progress?.finish()

        for (kind, sweeps) in [("width", widthSweeps), ("depth", depthSweeps)] {
            for s in sweeps {
                let optima = zip(s.sizes, s.optimumIndices).map { "\($0): 2^\(s.logRates[$1])" }.joined(separator: ", ")
                env.log("\(s.method.rawValue): best learning rate by \(kind) — \(optima); drift \(s.optimumShift) grid steps")
            }
        }

        if env.figures != nil {
            func panel(_ s: Sweep, _ kind: String) -> LinePlot {
                var p = LinePlot(title: "\(s.method.rawValue) (\(kind))", xLabel: "learning rate", yLabel: "training loss",
                                 xScale: .log2, yScale: .log10)
                for (size, row) in zip(s.sizes, s.losses) {
                    p.add("\(kind) \(size)", x: s.logRates.map { Double.pow2($0) }, y: row.map { $0.isFinite ? $0 : .nan }, markers: true)
                }
                return p
            }
            try env.write(PlotGrid(widthSweeps.map { panel($0, "width") }, columns: widthSweeps.count,
                                   title: "Learning-rate transfer across width (MLP on Fashion-MNIST, \(c.steps) steps)"),
                          "lr-transfer-width.svg")
            if !depthSweeps.isEmpty {
                try env.write(PlotGrid(depthSweeps.map { panel($0, "depth") }, columns: depthSweeps.count,
                                       title: "Learning-rate transfer across depth (residual MLP, width \(c.depthWidth))"),
                              "lr-transfer-depth.svg")
            }
        }

        var result = ExampleResult("lr-transfer")
        result.add("weights_digest", Checkpoint.digest(combining: digests))
        for s in widthSweeps { result.add("\(s.method.rawValue)_optimum_shift", Double(s.optimumShift), digits: 0) }
        let baselines = widthSweeps.filter { $0.method != .modular }.map(\.optimumShift)
        if !baselines.isEmpty { result.add("baseline_optimum_shift", Double(baselines.max()!), digits: 0) }
        if let modular = widthSweeps.first(where: { $0.method == .modular }) {
            let best = modular.bestLosses
            let monotone = zip(best, best.dropFirst()).allSatisfy { $1 <= $0 * 1.02 }
            result.add("modular_wider_is_better", monotone ? 1 : 0, digits: 0)
            result.add("modular_best_loss_widest", best.last!)
        }
        for s in depthSweeps { result.add("\(s.method.rawValue)_depth_optimum_shift", Double(s.optimumShift), digits: 0) }
        return result
    }
}
