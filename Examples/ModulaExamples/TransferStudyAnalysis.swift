import Foundation
import Modula
import ModulaData

extension TransferStudy {
    /// One sweep of one (optimizer, parametrization): mean losses over seeds per (size, rate).
    public struct Curve: Sendable {
        public var optimizer: String, parametrization: String, sweep: String
        public var sizes: [Int], rates: [Int]
        /// losses[size][rate]: the mean over seeds, nil where some seed diverged.
        public var losses: [[Double?]]
        /// The largest minus the smallest loss over seeds (0 with one seed).
        public var spreads: [[Double]]
        /// Mean spectral ratio ‖W_T − W₀‖₂/√(fan_out/fan_in) per role, at [size][rate].
        public var spectral: [[[WeightRole: Double]]]
        /// How many times the grid was extended at an edge.
        public var extensions = 0

        /// The index of the best rate at each size (nil when every rate diverged).
        public var optimumIndices: [Int?] {
            losses.map { row in row.indices.filter { row[$0] != nil }.min { row[$0]! < row[$1]! } }
        }
        public var bestLog2Rates: [Int?] { optimumIndices.map { $0.map { rates[$0] } } }
        /// Grid steps (factors of 2) between the smallest and the largest best rate.
        public var optimumShift: Int {
            let o = bestLog2Rates.compactMap { $0 }
            return (o.max() ?? 0) - (o.min() ?? 0)
        }
        /// The sides of the grid where some size's best rate lies: −1 (smallest rate), +1 (largest).
        public var edges: Set<Int> {
            Set(optimumIndices.compactMap { i -> Int? in
                guard let i else { return nil }
                return i == 0 ? -1 : i == rates.count - 1 ? 1 : nil
            })
        }
        public var bestLosses: [Double?] { zip(losses, optimumIndices).map { row, i in i.flatMap { row[$0] } } }
        /// Whether each larger size reached a best loss no worse (within 1 %) than the size before it.
        public var widerBetterAtOptimum: Bool {
            let b = bestLosses
            return zip(b, b.dropFirst()).allSatisfy { a, c in
                guard let c else { return false }
                return a.map { c <= $0 * 1.01 } ?? true
            }
        }
        /// The same at every learning rate (a rate that diverges at the larger size only counts as worse).
        public var widerBetterEverywhere: Bool {
            rates.indices.allSatisfy { r in
                zip(losses, losses.dropFirst()).allSatisfy { a, c in
                    guard let a = a[r] else { return true }
                    guard let c = c[r] else { return false }
                    return c <= a * 1.01
                }
            }
        }
        /// The largest minus the smallest loss over seeds at each size's best rate.
        public var spreadAtOptimum: [Double?] { zip(spreads, optimumIndices).map { row, i in i.map { row[$0] } } }
        /// The spectral ratio of `role` at each size's best rate.
        public func spectralAtOptimum(_ role: WeightRole) -> [Double?] {
            zip(spectral, optimumIndices).map { row, i in i.flatMap { row[$0][role] } }
        }
    }

    static func curve(_ points: [Point], optimizer: String, parametrization: String, sweep: String,
                      sizes: [Int], rates: [Int], seeds: Int) -> Curve {
        var losses: [[Double?]] = [], spreads: [[Double]] = [], spectral: [[[WeightRole: Double]]] = []
        let index = Dictionary(grouping: points.filter {
            $0.optimizer == optimizer && $0.parametrization == parametrization && $0.sweep == sweep
        }) { p in "\(sweep == "width" ? p.width : p.depth)|\(p.log2LearningRate)" }
        for size in sizes {
            var row: [Double?] = [], spread: [Double] = [], sp: [[WeightRole: Double]] = []
            for k in rates {
                let ps = (index["\(size)|\(k)"] ?? []).filter { $0.seed < seeds }
                let values = ps.compactMap(\.loss)
                let diverged = ps.isEmpty || values.count < ps.count
                row.append(diverged ? nil : values.reduce(0, +) / Double(values.count))
                spread.append(values.isEmpty ? 0 : values.max()! - values.min()!)
                var roles: [WeightRole: Double] = [:]
                for (role, path) in [(WeightRole.input, \Point.spectralInput), (.hidden, \.spectralHidden), (.output, \.spectralOutput)] {
                    let v = ps.compactMap { $0[keyPath: path] }
                    if !v.isEmpty { roles[role] = v.reduce(0, +) / Double(v.count) }
                }
                sp.append(roles)
            }
            losses.append(row)
            spreads.append(spread)
            spectral.append(sp)
        }
        return Curve(optimizer: optimizer, parametrization: parametrization, sweep: sweep, sizes: sizes, rates: rates,
                     losses: losses, spreads: spreads, spectral: spectral)
    }

    /// Runs (or resumes) the study; one `result lr-transfer …` line per curve.
    public static func run(_ c: Configuration, environment env: ExampleEnvironment = .init()) throws -> [ExampleResult] {
        for o in c.optimizers where !optimizerNames.contains(o) {
            throw StudyError.invalidOption("--optimizers", "unknown optimizer '\(o)': use \(optimizerNames.joined(separator: ","))")
        }
        for p in c.parametrizations where !parametrizationNames.contains(p) {
            throw StudyError.invalidOption("--parametrizations", "unknown parametrization '\(p)': use standard,mup,modular")
        }
        let task = try task(c)
        var store = try PointStore(directory: c.outputDirectory)
        var sweeps: [(name: String, sizes: [Int])] = [("width", c.widths)]
        if !c.depths.isEmpty { sweeps.append(("depth", c.depths)) }
        let plan = c.optimizers.flatMap { o in parametrizations(o, c.parametrizations).map { (o, $0) } }
        var planned = plan.reduce(0) { total, job in
            total + sweeps.reduce(0) { $0 + $1.sizes.count * (c.log2LearningRates ?? defaultGrid(job.0, job.1)).count * c.seeds }
        }
        var progress = env.progress(total: Swift.max(planned, 1), label: "lr-transfer", itemsPerStep: 1)
        // `done` counts each point once: an extended grid revisits the points it already has.
        var done = 0, ranNow = 0, secondsNow = 0.0, counted = Set<String>()
        var curves: [Curve] = []
        for (optimizer, parametrization) in plan {
            for sweep in sweeps {
                var rates = Array(c.log2LearningRates ?? defaultGrid(optimizer, parametrization))
                var extensions = 0
                while true {
                    for size in sweep.sizes {
                        for k in rates {
                            for seed in 0..<c.seeds {
                                let (width, depth) = sweep.name == "width" ? (size, c.depth) : (c.depthWidth, size)
                                let key = Point(model: c.model.rawValue, optimizer: optimizer, parametrization: parametrization,
                                                sweep: sweep.name, width: width, depth: depth, log2LearningRate: k, seed: seed,
                                                steps: c.steps, batch: c.batch, loss: nil, seconds: 0).key
                                if !store.contains(key) {
                                    let eta = ranNow > 0 ? secondsNow / Double(ranNow) * Double(Swift.max(planned - done, 0)) : nil
                                    progress?.update(step: done, extra: "running \(optimizer) \(parametrization) \(sweep.name) \(size) lr 2^\(k) seed \(seed)"
                                        + (eta.map { ", about \(Int($0.rounded())) s left" } ?? ""))
                                    let p = try run(task, optimizer: optimizer, parametrization: parametrization, sweep: sweep.name,
                                                    width: width, depth: depth, baseWidth: c.widths.min() ?? width,
                                                    log2LearningRate: k, seed: seed, c: c,
                                                    logDirectory: env.metricsDirectory.map { $0 + "/" + runFolder(key) })
                                    try store.add(p)
                                    ranNow += 1
                                    secondsNow += p.seconds
                                }
                                if counted.insert(key).inserted { done += 1 }
                            }
                        }
                    }
                    var curve = curve(Array(store.points.values), optimizer: optimizer, parametrization: parametrization,
                                      sweep: sweep.name, sizes: sweep.sizes, rates: rates, seeds: c.seeds)
                    curve.extensions = extensions
                    let edges = curve.edges
                    if edges.isEmpty || extensions >= c.maxExtensions {
                        curves.append(curve)
                        break
                    }
                    if edges.contains(-1) { rates.insert(rates.first! - 1, at: 0) }
                    if edges.contains(1) { rates.append(rates.last! + 1) }
                    planned += edges.count * sweep.sizes.count * c.seeds
                    progress?.extend(total: planned)
                    extensions += 1
                }
            }
        }
        progress?.finish("\(done) points, \(ranNow) trained now, \(done - ranNow) read from \(c.outputDirectory ?? "memory")")
        try report(curves, c, env)
        return curves.map { result($0, c) }
    }

    /// Numbers with `digits` significant digits, comma-separated (nan for missing).
    static func list(_ values: [Double?], digits: Int = 4) -> String {
        values.map { v in v.map { String(format: "%.\(digits)g", $0) } ?? "nan" }.joined(separator: ",")
    }

    static func result(_ curve: Curve, _ c: Configuration) -> ExampleResult {
        var r = ExampleResult("lr-transfer")
        r.add("model", c.model.rawValue)
        r.add("sweep", curve.sweep)
        r.add("optimizer", curve.optimizer)
        r.add("parametrization", curve.parametrization)
        r.add("sizes", curve.sizes.map(String.init).joined(separator: ","))
        r.add("optimum_shift", Double(curve.optimumShift), digits: 0)
        r.add("optimum_at_edge", curve.edges.isEmpty ? 0 : 1, digits: 0)
        r.add("grid_extended", Double(curve.extensions), digits: 0)
        r.add("wider_better", curve.widerBetterAtOptimum ? 1 : 0, digits: 0)
        r.add("wider_better_all_lr", curve.widerBetterEverywhere ? 1 : 0, digits: 0)
        r.add("best_log2_lr", curve.bestLog2Rates.map { $0.map(String.init) ?? "nan" }.joined(separator: ","))
        r.add("best_loss", list(curve.bestLosses))
        r.add("spectral_hidden_at_optimum", list(curve.spectralAtOptimum(.hidden), digits: 3))
        return r
    }

    /// The Markdown table and the figures.
    static func report(_ curves: [Curve], _ c: Configuration, _ env: ExampleEnvironment) throws {
        var table = ["| optimizer | parametrization | sweep | sizes | best log₂ lr | shift | at edge | wider better (optimum / all lr) | best loss | seed spread at optimum | ‖W_T − W₀‖₂ ÷ √(fan_out/fan_in) at optimum: input / hidden / output |",
                     "|---|---|---|---|---|---|---|---|---|---|---|"]
        for cv in curves {
            let best = cv.bestLog2Rates.map { $0.map(String.init) ?? "—" }.joined(separator: ", ")
            let spectral = [WeightRole.input, .hidden, .output].map { list(cv.spectralAtOptimum($0), digits: 3) }.joined(separator: " / ")
            table.append("| \(cv.optimizer) | \(cv.parametrization) | \(cv.sweep) | \(cv.sizes.map(String.init).joined(separator: ", ")) | \(best) | \(cv.optimumShift) | \(cv.edges.isEmpty ? "no" : "yes\(cv.extensions > 0 ? " (grid extended \(cv.extensions)×)" : "")") | \(cv.widerBetterAtOptimum ? "yes" : "no") / \(cv.widerBetterEverywhere ? "yes" : "no") | \(list(cv.bestLosses, digits: 3)) | \(list(cv.spreadAtOptimum, digits: 3)) | \(spectral) |")
        }
        let markdown = table.joined(separator: "\n") + "\n"
        env.log(markdown)
        if let dir = c.outputDirectory {
            try markdown.write(toFile: dir + "/table.md", atomically: true, encoding: .utf8)
        }
        guard env.figures != nil || c.outputDirectory != nil else { return }
        func panel(_ cv: Curve) -> LinePlot {
            var p = LinePlot(title: "\(cv.optimizer), \(cv.parametrization)", xLabel: "learning rate",
                             yLabel: "loss", xScale: .log2, yScale: .log10)
            let x = cv.rates.map { Double.pow2($0) }
            for (size, row) in zip(cv.sizes, cv.losses) {
                p.add("\(cv.sweep) \(size)", x: x, y: row.map { $0 ?? .nan }, markers: true)
            }
            // Diverged points are drawn, not dropped: on the top edge of the panel.
            let finite = cv.losses.flatMap { $0.compactMap { $0 } }
            let top = (finite.max() ?? 1) * 1.25
            let diverged = cv.losses.flatMap { row in zip(x, row).filter { $0.1 == nil }.map(\.0) }
            if !diverged.isEmpty {
                p.add("diverged", x: diverged, y: diverged.map { _ in top }, color: "#999999", markers: true)
                p.series[p.series.count - 1].dashed = true
            }
            return p
        }
        let title = "Learning-rate transfer: \(c.model == .mlp ? "MLP on Fashion-MNIST" : "character GPT"), \(c.steps) steps"
        for sweep in Set(curves.map(\.sweep)).sorted() {
            let these = curves.filter { $0.sweep == sweep }
            let columns = Swift.max(1, Set(these.map(\.parametrization)).count)
            let grid = PlotGrid(these.map(panel), columns: columns, title: "\(title), across \(sweep)")
            if env.figures != nil { try env.write(grid, "lr-transfer-study-\(sweep).svg") }
            if let dir = c.outputDirectory { try grid.write(toPath: dir + "/lr-transfer-study-\(sweep).svg") }
        }
    }
}
