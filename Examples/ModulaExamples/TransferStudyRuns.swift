import Foundation
import Modula
import ModulaData

extension TransferStudy {
    /// The data and models of one study: batches, a fixed evaluation set, and a network per (width, depth).
    struct Task {
        var build: (_ width: Int, _ depth: Int, _ sweep: String) -> any Module
        var batch: (inout RandomGenerator) -> (Tensor<Float>, [Int])
        var evaluation: [(Tensor<Float>, [Int])]
    }

    static func task(_ c: Configuration) throws -> Task {
        switch c.model {
        case .mlp:
            let data = try loadImages(directory: c.dataDirectory, limit: c.limit)
            let n = Swift.min(2048, data.count(.train))
            let eval = (data.images(.train, range: 0..<n), data.labels(.train, range: 0..<n))
            return Task(
                build: { w, d, sweep in
                    sweep == "depth"
                        ? Sequential.resMLP(input: data.featureCount, width: w, output: data.classCount, depth: d)
                        : Sequential.mlp(input: data.featureCount, width: w, output: data.classCount, depth: d)
                },
                batch: { rng in data.batch(size: c.batch, using: &rng) },
                evaluation: [eval])
        case .gpt:
            let data = try c.text.map { try CharacterDataset(text: $0, source: "text") } ?? CharacterDataset.load(path: c.textPath)
            guard data.tokens(.validation).count > c.context + 1, data.tokens(.train).count > c.context + 1 else {
                throw StudyError.invalidOption("--text", "\(data.source) is too short for a context of \(c.context) characters")
            }
            var vrng = RandomGenerator(seed: 12345)
            let eval = (0..<4).map { _ in
                let (x, y) = data.batch(size: c.batch, context: c.context, split: .validation, using: &vrng)
                return (idTensor(x, shape: [c.batch, c.context]), y)
            }
            let vocabulary = data.vocabularySize, heads = c.heads
            return Task(
                build: { w, d, _ in
                    Sequential.gpt(vocabulary: vocabulary, heads: heads, dimension: w, queryDimension: w / heads,
                        valueDimension: w / heads, blocks: d)
                },
                batch: { rng in
                    let (x, y) = data.batch(size: c.batch, context: c.context, using: &rng)
                    return (idTensor(x, shape: [c.batch, c.context]), y)
                },
                evaluation: eval)
        }
    }

    /// The log folder of one point under `--log-dir`: its key with `-` between the fields
    /// (`mlp-adamw-mup-width-w256-d3-log2lr_-6-seed0-steps60-batch128`), one TensorBoard run per point.
    static func runFolder(_ key: String) -> String {
        let f = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard f.count == 10 else { return key.replacingOccurrences(of: "|", with: "-") }
        return "\(f[0])-\(f[1])-\(f[2])-\(f[3])-w\(f[4])-d\(f[5])-log2lr_\(f[6])-seed\(f[7])-steps\(f[8])-batch\(f[9])"
    }

    /// Trains one point; with `logDirectory`, writes its per-step scalars there (``MetricsLog``): `loss`,
    /// `learning_rate/<group>`, `update_norm/<group>`, and `eval_loss` at the end.
    static func run(
        _ task: Task, optimizer name: String, parametrization: String, sweep: String, width: Int, depth: Int,
        baseWidth: Int, log2LearningRate k: Int, seed: Int, c: Configuration, logDirectory: String? = nil
    ) throws -> Point {
        let start = now()
        let module = task.build(width, depth, sweep)
        let base = sweep == "width" ? task.build(baseWidth, depth, sweep) : module
        var rng = RandomGenerator(seed: UInt64(seed))
        let initialization: Parametrization = switch parametrization {
        case "mup": .muP(base: base)
        case "standard": .standard
        default: .modular
        }
        var weights: [Tensor<Float>] = try initialization.initialize(module, using: &rng)
        var opt = try optimizer(name, parametrization: parametrization, module: module, base: base,
                                lr: Double.pow2(k), steps: c.steps)
        var curvatureRNG = rng.split()
        var point = Point(model: c.model.rawValue, optimizer: name, parametrization: parametrization, sweep: sweep,
                          width: width, depth: depth, log2LearningRate: k, seed: seed, steps: c.steps, batch: c.batch,
                          loss: nil, seconds: 0)
        func loss(_ w: [Tensor<Float>], _ x: Tensor<Float>, _ y: [Int]) throws -> Tensor<Float> {
            crossEntropy(logits: try module(x, w), labels: y)
        }
        let initial = weights
        let log = try logDirectory.map { try MetricsLog(directory: $0) }
        for step in 0..<c.steps {
            let (x, y) = task.batch(&rng)
            var factors: [LayerFactors<Float>?]? = nil
            let (value, grads): (Tensor<Float>, [Tensor<Float>])
            if opt.needsFactors {
                let r = try kfacFactors(module: module, weights: weights) { w in try loss(w, x, y) }
                (value, grads, factors) = (r.loss, r.gradients, r.factors)
            } else {
                (value, grads) = try valueWithGradient(at: weights) { w in try loss(w, x, y) }
            }
            let v = Double(value.scalar)
            guard v.isFinite, v < 50, grads.allSatisfy(\.isFinite) else {
                point.seconds = now() - start
                return point
            }
            // Keep the old weights only while logging: holding them makes the in-place update copy every weight.
            let before = log == nil ? [] : weights, rates = log == nil ? [] : opt.learningRateScalars()
            if opt.needsCurvature {
                let (sample, b) = try sophiaCurvatureGradients(module: module, weights: weights, input: x, using: &curvatureRNG)
                try opt.update(&weights, gradients: grads, curvature: sample, curvatureBatchSize: b)
            } else {
                try opt.update(&weights, gradients: grads, factors: factors)
            }
            try log?.record(step: step, [("loss", v)] + rates + opt.updateNormScalars(before: before, after: weights))
        }
        var total = 0.0
        for (x, y) in task.evaluation { total += Double(try loss(weights, x, y).scalar) }
        let final = total / Double(task.evaluation.count)
        try log?.record(step: c.steps, [("eval_loss", final)])
        point.seconds = now() - start
        guard final.isFinite, weights.allSatisfy(\.isFinite) else { return point }
        point.loss = final
        // The whole change of each weight over training, against the spectral condition (a last step alone would
        // mostly measure the decayed learning rate).
        let sizes = try module.updateSizes(from: initial, to: weights, roles: opt.roles)
        func mean(_ role: WeightRole) -> Double? {
            let r = sizes.filter { $0.role == role && $0.spectralTarget > 0 }.map(\.spectralRatio)
            return r.isEmpty ? nil : r.reduce(0, +) / Double(r.count)
        }
        (point.spectralInput, point.spectralHidden, point.spectralOutput) = (mean(.input), mean(.hidden), mean(.output))
        return point
    }
}

/// Appends finished points to `points.jsonl` and `points.csv` and reads them back on a re-run.
struct PointStore {
    let directory: String?
    private(set) var points: [String: TransferStudy.Point] = [:]

    init(directory: String?) throws {
        self.directory = directory
        guard let directory else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/points.jsonl"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        let decoder = JSONDecoder()
        for (number, line) in text.split(separator: "\n").enumerated() where !line.isEmpty {
            // A line cut short by an interrupted write is dropped (its point runs again); any other bad line is an error.
            guard let p = try? decoder.decode(TransferStudy.Point.self, from: Data(line.utf8)) else {
                if number == text.split(separator: "\n").count - 1 && !text.hasSuffix("\n") { continue }
                throw StudyError.invalidOption("--out", "\(path), line \(number + 1), is not a study point: \(line.prefix(80))")
            }
            points[p.key] = p
        }
    }

    func contains(_ key: String) -> Bool { points[key] != nil }

    mutating func add(_ p: TransferStudy.Point) throws {
        points[p.key] = p
        guard let directory else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(p), as: UTF8.self) + "\n"
        try append(json, to: directory + "/points.jsonl", header: nil)
        func f(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }
        let csv = [p.model, p.optimizer, p.parametrization, p.sweep, "\(p.width)", "\(p.depth)", "\(p.log2LearningRate)",
                   "\(p.seed)", "\(p.steps)", "\(p.batch)", f(p.loss), p.loss == nil ? "1" : "0", f(p.spectralInput),
                   f(p.spectralHidden), f(p.spectralOutput), f(p.seconds)].joined(separator: ",") + "\n"
        try append(csv, to: directory + "/points.csv", header:
            "model,optimizer,parametrization,sweep,width,depth,log2_lr,seed,steps,batch,loss,diverged,spectral_input,spectral_hidden,spectral_output,seconds\n")
    }

    private func append(_ text: String, to path: String, header: String?) throws {
        let exists = FileManager.default.fileExists(atPath: path)
        guard let f = fopen(path, "a") else {
            throw StudyError.invalidOption("--out", "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(f) }
        let all = (exists ? "" : header ?? "") + text
        guard fputs(all, f) >= 0, fflush(f) == 0 else {
            throw StudyError.invalidOption("--out", "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
