#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// mup's coordinate check [Yang et al. 2022, "Tensor Programs V", §D]: train a model family for a few steps at
/// several widths and watch each layer's activation size. Under a parametrization in which learning rates transfer,
/// no layer's activations, nor their change since initialization, grow or shrink with width.
///
/// Every step records, for each atom and bond (by hook path), the RMS of its output on a fixed probe input and
/// the RMS of the change of that output since step 0. A layer is flagged when the log-log slope against width of
/// its output RMS at the last step, or of its change at the step where that is steepest, exceeds `threshold` in
/// magnitude (1 means "grows like the width").
public struct CoordinateCheck: Sendable {
    /// One layer's sizes: `rms[w][t]` and `changeRMS[w][t]` at width `widths[w]` after `t` steps.
    public struct Layer: Sendable {
        public var path: String
        public var name: String
        public var rms: [[Double]]
        public var changeRMS: [[Double]]
        /// Log-log slopes against width: of the output RMS at the last step, of its change at its steepest step.
        public var rmsSlope: Double, changeSlope: Double
        public var flagged: Bool
    }

    public var widths: [Int]
    public var steps: Int
    public var layers: [Layer]
    /// The spectral check, per width: each weight's ‖W₀‖₂ at initialization and its total change ‖W_T − W₀‖₂ after
    /// the steps, each against √(fan_out/fan_in) [Yang, Simon & Bernstein 2023].
    public var initialWeights: [[UpdateSize]], weightChanges: [[UpdateSize]]
    public var threshold: Double
    public var flagged: [Layer] { layers.filter(\.flagged) }

    /// Runs the check.
    ///
    /// - Parameters:
    ///   - widths: the widths to compare (at least two).
    ///   - steps: training steps at each width (0 checks the initialization only).
    ///   - threshold: the largest log-log slope against width that is not flagged.
    ///   - build: the network at a width (the same structure, so that layer paths agree across widths).
    ///   - prepare: initial weights and an optimizer for a network.
    ///   - batch: a training batch (input, labels) for cross-entropy.
    ///   - probe: a fixed input to measure the activations on.
    ///   - seed: the seed of every width's initialization and batches.
    ///   - onlyAtoms: record atoms only (the default records bonds too).
    public static func run(
        widths: [Int], steps: Int, threshold: Double = 0.5, onlyAtoms: Bool = false,
        build: (Int) -> any Module,
        prepare: (any Module, inout RandomGenerator) throws -> ([Tensor<Float>], Optimizer<Float>),
        batch: (inout RandomGenerator) -> (Tensor<Float>, [Int]), probe: Tensor<Float>, seed: UInt64 = 0
    ) throws -> CoordinateCheck {
        var perWidth: [[String: (name: String, rms: [Double], change: [Double])]] = []
        var initialWeights: [[UpdateSize]] = [], weightChanges: [[UpdateSize]] = []
        var order: [String] = []
        for width in widths {
            let module = build(width)
            var rng = RandomGenerator(seed: seed)
            var (weights, optimizer) = try prepare(module, &rng)
            var initial: [String: Tensor<Float>] = [:]
            var record: [String: (name: String, rms: [Double], change: [Double])] = [:]
            func measure() throws {
                var outputs: [(String, String, Tensor<Float>)] = []
                let hook = Hook.forward(Float.self, where: { _, m in !onlyAtoms || m is any MultiWeightAtom }) { e in
                    if let y = e.outputs.first { outputs.append((e.path, e.module.name, y.detached)) }
                    return nil
                }
                _ = try withHooks([hook]) { try module(probe, weights) }
                for (path, name, y) in outputs {
                    if initial[path] == nil { initial[path] = y }
                    let change = y.shape == initial[path]!.shape ? y - initial[path]! : y
                    func rms(_ t: Tensor<Float>) -> Double { (Double(t.squaredNormValue) / Double(Swift.max(t.count, 1))).squareRoot() }
                    record[path, default: (name, [], [])].rms.append(rms(y))
                    record[path, default: (name, [], [])].change.append(rms(change))
                    if width == widths.first, !order.contains(path) { order.append(path) }
                }
            }
            try measure()
            let start = weights
            for _ in 0..<steps {
                let (x, labels) = batch(&rng)
                let (_, grads) = try valueWithGradient(at: weights) { w in crossEntropy(logits: try module(x, w), labels: labels) }
                try optimizer.update(&weights, gradients: consume grads)
                try measure()
            }
            perWidth.append(record)
            initialWeights.append(try module.updateSizes(from: start.map { .zeros($0.shape) }, to: start, roles: optimizer.roles))
            weightChanges.append(try module.updateSizes(from: start, to: weights, roles: optimizer.roles))
        }
        let logWidths = widths.map { log(Double($0)) }
        func slope(_ values: [Double]) -> Double {
            let y = values.map { log(Swift.max($0, 1e-30)) }
            let mx = logWidths.reduce(0, +) / Double(logWidths.count), my = y.reduce(0, +) / Double(y.count)
            let sxx = logWidths.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
            guard sxx > 0 else { return 0 }
            return zip(logWidths, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / sxx
        }
        let layers = order.compactMap { path -> Layer? in
            let entries = perWidth.compactMap { $0[path] }
            guard entries.count == widths.count else { return nil }
            let rms = entries.map(\.rms), change = entries.map(\.change)
            // The change at its steepest step: the first steps show a parametrization's scaling most clearly (later
            // ones mix in effects such as units that stop firing).
            func steepest(_ series: [[Double]], from first: Int) -> Double {
                (first...steps).map { t in slope(series.map { $0[t] }) }.max { Swift.abs($0) < Swift.abs($1) } ?? 0
            }
            let rmsSlope = slope(rms.map { $0.last! })
            let changeSlope = steps > 0 ? steepest(change, from: 1) : 0
            return Layer(path: path, name: entries[0].name, rms: rms, changeRMS: change, rmsSlope: rmsSlope,
                         changeSlope: changeSlope, flagged: Swift.abs(rmsSlope) > threshold || Swift.abs(changeSlope) > threshold)
        }
        return CoordinateCheck(widths: widths, steps: steps, layers: layers, initialWeights: initialWeights,
                               weightChanges: weightChanges, threshold: threshold)
    }
}

