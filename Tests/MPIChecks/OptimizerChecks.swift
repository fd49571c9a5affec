import Foundation
import Modula
import ModulaMPI
import ModulaTensor

/// `steps` steps of `optimizer` on the next global batches of `data`: in this process on the whole batch
/// (`parallel` nil), or data-parallel on this rank's shard with ``DataParallel/step(_:_:gradients:loss:globalBatch:)``.
func train(
    _ optimizer: inout Optimizer<Float>, _ weights: inout [Tensor<Float>], _ data: inout RandomGenerator,
    steps: Int, over parallel: DataParallel?
) throws {
    let net = optimizer.module
    for _ in 0..<steps {
        let (x, y) = globalBatch(&data)
        guard let parallel else {
            let (loss, g) = try valueWithGradient(at: weights) { w in meanSquaredError(try net(x, w), y) }
            try optimizer.update(&weights, gradients: g, loss: loss)
            continue
        }
        let rows = parallel.shard(of: batchSize)
        let (loss, g) = try valueWithGradient(at: weights) { w in
            meanSquaredError(try net(x.slice(axis: 0, rows), w), y.slice(axis: 0, rows))
        }
        try parallel.step(&optimizer, &weights, gradients: g, loss: loss, globalBatch: batchSize)
    }
}

/// The training checks' network with its middle layer factored: an atom with two weights.
let lowRankMLP = Sequential { Linear(in: 12, out: 16); ReLU(); LowRankLinear(in: 16, out: 16, rank: 4); ReLU(); Linear(in: 16, out: 3) }

/// The optimizers the distributed checks run: the modular-norm optimizer with momentum (also on a network with a
/// two-weight ``LowRankLinear`` atom), the Muon preset (layer-wise orthogonalizations, AdamW for the input and output
/// layers), and an ``OptimizerRule`` whose steps are dualized over the whole network (modular parametrization).
let checkedOptimizers: [(name: String, make: @Sendable () throws -> Optimizer<Float>)] = [
    ("modular-ema", { try .modular(module: smallMLP, learningRate: .linearDecay(0.05, steps: 20), momentum: .ema(0.9)) }),
    ("muon", { try .muon(module: smallMLP, learningRate: .constant(0.02), adamLearningRate: .constant(0.003)) }),
    ("modular-low-rank", { try .modular(module: lowRankMLP, learningRate: .constant(0.05), momentum: .ema(0.9)) }),
    ("adamw-rule-modular", {
        try Optimizer(module: smallMLP, groups: [ParameterGroup("adamw", rule: .rule(AdamWRule()), learningRate: .constant(0.01))],
                      parametrization: .modular)
    }),
]

/// 20 steps of each optimizer data-parallel with the dualize divided among the ranks, against the
/// single-process optimizer on the same global batches.
func checkDistributedOptimizer(_ checks: Checks) throws {
    let parallel = DataParallel(checks.world)
    for (name, make) in checkedOptimizers {
        var rng = RandomGenerator(seed: 9)
        var (single, distributed) = (try make(), try make())
        let initial: [Tensor<Float>] = single.module.initialize(using: &rng)
        try parallel.distribute(&distributed)
        var (w1, w2) = (initial, initial)
        var (d1, d2) = (rng, rng)
        try train(&single, &w1, &d1, steps: 20, over: nil)
        try train(&distributed, &w2, &d2, steps: 20, over: parallel)
        let dualizer = distributed.dualizer as! DistributedDualizer
        // As in data-parallel-20-steps: rounding differences of ~1e-7 per step, 20 steps: ≤ 1e-5 relative.
        let worst = try checks.largest(relative(w2, w1))
        let used = try checks.largest(dualizer.seconds > 0 ? 0 : 1) == 0
        checks.check("optimizer-\(name)-20-steps", worst <= 1e-5 && used,
                     "largest relative weight difference \(worst); weights_digest single=\(Checkpoint.digest(w1)) "
                         + "distributed=\(Checkpoint.digest(w2)) on \(checks.world.size) ranks; dualizer used on every rank: \(used)")
    }
}

/// Trains 8 of 16 steps data-parallel and saves (from rank 0 only) a checkpoint, or resumes one saved on any
/// number of ranks; either way the 16 steps must match an uninterrupted single-process run.
func checkCheckpoint(_ checks: Checks, resume: Bool, path: String) throws {
    let world = checks.world
    let parallel = DataParallel(world)
    let (total, saved) = (16, 8)
    func fresh() throws -> (Optimizer<Float>, [Tensor<Float>], RandomGenerator) {
        var rng = RandomGenerator(seed: 5)
        let w: [Tensor<Float>] = smallMLP.initialize(using: &rng)
        return (try .modular(module: smallMLP, learningRate: .linearDecay(0.05, steps: total), momentum: .ema(0.9)), w, rng)
    }
    var (reference, referenceWeights, referenceData) = try fresh()
    try train(&reference, &referenceWeights, &referenceData, steps: total, over: nil)

    var (optimizer, weights, data) = try fresh()
    try parallel.distribute(&optimizer)
    var savedRanks = world.size
    if resume {
        let state: TrainingState<Float> = try Checkpoint.loadTrainingState(for: smallMLP, from: path)
        guard let g = state.rng["data"], let r = state.extra["ranks"].flatMap(Int.init), state.step == saved else {
            throw MPIError.invalidArgument("checkpoint check", "\(path) is not a checkpoint of `checkpoint save` at step \(saved)")
        }
        (weights, optimizer.state, data, savedRanks) = (state.weights, state.optimizer, g, r)
    } else {
        try train(&optimizer, &weights, &data, steps: saved, over: parallel)
        try world.saveCheckpoint(weights: weights, optimizer: optimizer.state, rng: ["data": data],
                                 extra: ["ranks": "\(world.size)"], of: smallMLP, to: path)
        // Atomic: the temporary file is renamed, so only finished checkpoints lie in the folder.
        let folder = (path as NSString).deletingLastPathComponent
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder).filter { $0.contains(".partial-") }
        checks.check("checkpoint-atomic", leftovers.isEmpty, "no temporary file beside \(path): \(leftovers)")
    }
    try train(&optimizer, &weights, &data, steps: total - saved, over: parallel)
    let worst = try checks.largest(relative(weights, referenceWeights))
    checks.check(resume ? "checkpoint-resume" : "checkpoint-save", worst <= 1e-5,
                 "steps 0..<\(saved) on \(savedRanks) ranks, \(saved)..<\(total) on \(world.size): largest relative weight "
                     + "difference to one uninterrupted process \(worst); weights_digest \(Checkpoint.digest(weights)) "
                     + "against \(Checkpoint.digest(referenceWeights))")
}

/// hello-GPT's network in miniature (embedding, attention and MLP atoms of unequal costs): 20 steps of the
/// modular optimizer with momentum, data-parallel with the dualize divided, against one process.
func checkDistributedGPT(_ checks: Checks) throws {
    let (vocabulary, context, batch) = (16, 4, 6)
    let gpt = Sequential.gpt(vocabulary: vocabulary, heads: 2, dimension: 8, queryDimension: 4, valueDimension: 4, blocks: 1)
    let parallel = DataParallel(checks.world)
    var rng = RandomGenerator(seed: 4)
    let initial: [Tensor<Float>] = gpt.initialize(using: &rng)
    func make() throws -> Optimizer<Float> {
        try .modular(module: gpt, learningRate: .linearDecay(0.05, steps: 20), momentum: .ema(0.9))
    }
    var (single, distributed) = (try make(), try make())
    try parallel.distribute(&distributed)
    var (w1, w2) = (initial, initial)
    for _ in 0..<20 {
        let ids = (0..<(batch * context)).map { _ in rng.nextInt(below: vocabulary) }
        let labels = (0..<(batch * context)).map { _ in rng.nextInt(below: vocabulary) }
        // The loss of sequences `r` of the global batch.
        func loss(_ w: [Tensor<Float>], _ r: Range<Int>) throws -> Tensor<Float> {
            let tokens = (r.lowerBound * context)..<(r.upperBound * context)
            let x = Tensor<Float>(shape: [r.count, context], scalars: ids[tokens].map(Float.init))
            return crossEntropy(logits: try gpt.forward([x], weights: w[...])[0], labels: Array(labels[tokens]))
        }
        let (l1, g1) = try valueWithGradient(at: w1) { w in try loss(w, 0..<batch) }
        try single.update(&w1, gradients: g1, loss: l1)
        let (l2, g2) = try valueWithGradient(at: w2) { w in try loss(w, parallel.shard(of: batch)) }
        try parallel.step(&distributed, &w2, gradients: g2, loss: l2, globalBatch: batch)
    }
    // As in data-parallel-20-steps: rounding differences of ~1e-7 per step, 20 steps: ≤ 1e-5 relative.
    let worst = try checks.largest(relative(w2, w1))
    let ranks = (distributed.dualizer as! DistributedDualizer).assignment
    checks.check("optimizer-gpt-20-steps", worst <= 1e-5,
                 "largest relative weight difference \(worst); weights_digest single=\(Checkpoint.digest(w1)) "
                     + "distributed=\(Checkpoint.digest(w2)); atoms on ranks \(ranks)")
}
