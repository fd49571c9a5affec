import Foundation
import Modula
import ModulaData

/// mup's coordinate check and the spectral check as an example: train a few steps at several widths, then report
/// each layer's activation size (and its change since initialization) against width, and each weight's spectral
/// norm and update size against √(fan_out/fan_in) [Yang et al. 2022; Yang, Simon & Bernstein 2023].
public enum CoordCheckExample {
    public struct Configuration: Sendable {
        public var model = TransferStudy.Model.mlp
        public var optimizer = "adamw"
        public var parametrization = "standard"
        public var widths = [64, 128, 256, 512]
        public var steps = 10
        public var log2LearningRate: Int? = nil
        public var batch = 64
        public var threshold = 0.5
        public var textPath: String? = nil, text: String? = nil
        public var dataDirectory: String? = nil, limit: Int? = 4000
        public var seed: UInt64 = 0
        public init() {}
        public static var quick: Configuration {
            var c = Configuration()
            c.widths = [32, 64, 128]; c.limit = 1000
            return c
        }
    }

    /// Runs the check; result keys `model`, `optimizer`, `parametrization`, `layers`, `flagged`, and the flagged
    /// layers logged above the line.
    public static func run(_ c: Configuration, environment env: ExampleEnvironment = .init()) throws -> ExampleResult {
        guard TransferStudy.optimizerNames.contains(c.optimizer) else {
            throw StudyError.invalidOption("--optimizer", "unknown optimizer '\(c.optimizer)': use \(TransferStudy.optimizerNames.joined(separator: ","))")
        }
        guard TransferStudy.parametrizationNames.contains(c.parametrization) else {
            throw StudyError.invalidOption("--parametrization", "unknown parametrization '\(c.parametrization)': use standard,mup,modular")
        }
        var sc = TransferStudy.Configuration()
        (sc.model, sc.batch, sc.textPath, sc.text, sc.dataDirectory, sc.limit) = (c.model, c.batch, c.textPath, c.text, c.dataDirectory, c.limit)
        if c.model == .gpt { sc.depth = 2 } else { sc.depth = 3 }
        let task = try TransferStudy.task(sc)
        // A modular parametrization dualizes every step, so its rates are the modular norm's (about 2^1).
        let k = c.log2LearningRate
            ?? (c.parametrization == "modular" ? 1 : TransferStudy.defaultGrid(c.optimizer).upperBound - 2)
        let rate = Double.pow2(k)
        let base = task.build(c.widths.min()!, sc.depth, "width")
        let probe = task.evaluation[0].0
        var progress = env.progress(total: c.widths.count, label: "coord-check", itemsPerStep: 1)
        var done = 0
        let check: CoordinateCheck
        do { check = try CoordinateCheck.run(
            widths: c.widths, steps: c.steps, threshold: c.threshold, onlyAtoms: false,
            build: { task.build($0, sc.depth, "width") },
            prepare: { module, rng in
                let p: Parametrization = c.parametrization == "mup" ? .muP(base: base) : c.parametrization == "standard" ? .standard : .modular
                let w: [Tensor<Float>] = try p.initialize(module, using: &rng)
                let opt = try TransferStudy.optimizer(c.optimizer, parametrization: c.parametrization, module: module,
                                                      base: base, lr: rate, steps: Swift.max(c.steps, 1) * 1000)
                progress?.update(step: done, extra: "width \(module.weightShapes.first.map { "\($0)" } ?? "")")
                done += 1
                return (w, opt)
            },
            batch: task.batch, probe: probe, seed: c.seed)
        } catch let error as OptimizerError {
            guard case .nonFinite = error else { throw error }
            throw StudyError.invalidOption("--log2-lr", "training diverged at 2^\(k) (\(error)); try a smaller rate")
        }
        progress?.finish()
        for layer in check.layers {
            env.log("\(layer.flagged ? "flagged" : "ok     ") \(layer.path) \(layer.name): output RMS slope \(formatted(layer.rmsSlope, digits: 3)), change slope \(formatted(layer.changeSlope, digits: 3))")
        }
        if env.figures != nil {
            let panels: [any SVGPlot] = check.layers.map { layer in
                var p = LinePlot(title: "\(layer.path) \(layer.name)\(layer.flagged ? " (flagged)" : "")", xLabel: "width",
                                 yLabel: "RMS", xScale: .log2, yScale: .log10)
                let x = c.widths.map(Double.init)
                for t in 0...c.steps {
                    p.add("output, step \(t)", x: x, y: layer.rms.map { $0[t] }, markers: true)
                }
                if c.steps > 0 {
                    p.add("change, step \(c.steps)", x: x, y: layer.changeRMS.map { $0[c.steps] }, dashed: true, markers: true)
                }
                return p
            }
            try env.write(PlotGrid(panels, columns: Swift.min(4, panels.count),
                                   title: "Coordinate check: \(c.model.rawValue), \(c.optimizer), \(c.parametrization), lr 2^\(k)"),
                          "coord-check-\(c.model.rawValue)-\(c.optimizer)-\(c.parametrization).svg")
        }
        // The spectral check: ‖W₀‖₂ and ‖ΔW‖₂ over √(fan_out/fan_in), one column per width.
        env.log("spectral check (‖W₀‖₂ and ‖W_T − W₀‖₂ ÷ √(fan_out/fan_in)) at widths \(c.widths.map(String.init).joined(separator: ", ")):")
        for i in check.initialWeights[0].indices {
            let w0 = check.initialWeights.map { formatted($0[i].spectralRatio, digits: 3) }.joined(separator: ", ")
            let dw = check.weightChanges.map { formatted($0[i].spectralRatio, digits: 3) }.joined(separator: ", ")
            env.log("  \(check.initialWeights[0][i].name) (\(check.initialWeights[0][i].role)): W₀ \(w0); ΔW \(dw)")
        }
        var r = ExampleResult("coord-check")
        r.add("model", c.model.rawValue)
        r.add("optimizer", c.optimizer)
        r.add("parametrization", c.parametrization)
        r.add("layers", Double(check.layers.count), digits: 0)
        r.add("flagged", Double(check.flagged.count), digits: 0)
        return r
    }
}
