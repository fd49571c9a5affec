import Modula
import ModulaMPI
import ModulaTensor

/// Collectives on small buffers.
func checkCollectives(_ checks: Checks) throws {
    let world = checks.world
    var v = Tensor<Float>([Float(world.rank + 1), 1])
    try world.allreduce(&v, .sum)
    let n = Float(world.size)
    checks.check("allreduce-sum", v.scalars == [n * (n + 1) / 2, n], "\(v.scalars)")
    var b = Tensor<Double>([Double(world.rank)])
    try world.broadcast(&b, root: world.size - 1)
    checks.check("broadcast", b.scalars == [Double(world.size - 1)], "\(b.scalars)")
    let gathered = try world.allgather([Float](repeating: Float(world.rank), count: world.rank + 1))
    let expected = (0..<world.size).flatMap { [Float](repeating: Float($0), count: $0 + 1) }
    checks.check("allgatherv", gathered == expected, "\(gathered)")
}

/// Data-parallel training of 20 steps against single-process training on the same global batches. A small
/// bucket forces several allreduces.
func checkDataParallel(_ checks: Checks) throws {
    let world = checks.world
    let mlp = smallMLP
    let parallel = DataParallel(world, bucketBytes: 700)
    var rng = RandomGenerator(seed: 7)
    var mine = parallel.rankGenerator(splittingFrom: &rng)
    var reference: [Tensor<Float>] = mlp.initialize(using: &rng)
    var weights: [Tensor<Float>] = mlp.initialize(using: &mine)  // different on every rank until broadcast
    if world.isRoot { weights = reference }
    try parallel.broadcastWeights(&weights)
    checks.check("broadcast-weights", zip(weights, reference).allSatisfy { $0.scalars == $1.scalars }, "rank 0's weights everywhere")
    for _ in 0..<20 {
        let (x, y) = globalBatch(&rng)
        let lr = Float(0.05)
        let (_, g) = try valueWithGradient(at: reference) { w in meanSquaredError(try mlp(x, w), y) }
        let u = try mlp.dualize(g)
        for i in reference.indices { reference[i].addScaled(u[i], by: -lr) }
        let rows = parallel.shard(of: batchSize)
        var (_, gl) = try valueWithGradient(at: weights) { w in
            meanSquaredError(try mlp(x.slice(axis: 0, rows), w), y.slice(axis: 0, rows))
        }
        try parallel.averageGradients(&gl, share: parallel.share(of: batchSize))
        let ul = try mlp.dualize(gl)
        for i in weights.indices { weights[i].addScaled(ul[i], by: -lr) }
    }
    // Float sums in another order: each step's gradient differs by a few ulps (relative ~1e-7 of ‖g‖);
    // 20 steps of size 0.05 move weights of unit scale, so 1e-5 relative is ~100 ulps of headroom.
    let worst = try checks.largest(relative(weights, reference))
    checks.check("data-parallel-20-steps", worst <= 1e-5, "largest relative weight difference \(worst)")
}

/// Distributed dualize against local dualize, in Float and Double, on a network with unequal masses and
/// sensitivities and an atom with two weights (dualized as a whole on one rank).
func checkDistributedDualize(_ checks: Checks) throws {
    let net = Sequential {
        Linear(in: 10, out: 24); ReLU()
        Linear(in: 24, out: 24, mass: 3); GELU()
        LowRankLinear(in: 24, out: 20, rank: 6, mass: 2); ReLU()
        Linear(in: 20, out: 8)
    }
    let dd = DistributedDualizer(module: net, communicator: checks.world)
    var grng = RandomGenerator(seed: 3)
    let gf = net.weightShapes.map { Tensor<Float>.randomNormal($0, using: &grng) }
    let gd = net.weightShapes.map { Tensor<Double>.randomNormal($0, using: &grng) }
    let df = try dd.dualize(gf, targetNorm: 0.7), lf = try net.dualize(gf, targetNorm: 0.7)
    let ddd = try dd.dualize(gd, targetNorm: 0.7), ld = try net.dualize(gd, targetNorm: 0.7)
    // Same maps on the same inputs; only the target scalar is rounded differently (a few ulps), so the relative
    // difference is a small multiple of the precision.
    checks.check("distributed-dualize-float", relative(df, lf) <= 1e-5, "relative difference \(relative(df, lf)), ranks \(dd.assignment)")
    checks.check("distributed-dualize-double", relative(ddd, ld) <= 1e-12, "relative difference \(relative(ddd, ld))")
    // In the directions' own memory: each atom's map runs the same operations in the same order as in the copying
    // dualize (only where it writes differs), so the results are equal; the bound of a few Float ulps (1e-6) would
    // still catch a wrong target or a lost atom, which move the result by far more.
    var inPlace = gf
    try dd.dualizeInPlace(&inPlace, of: net, targetNorm: 0.7)
    checks.check("distributed-dualize-in-place", relative(inPlace, df) <= 1e-6 && inPlace.map(\.shape) == net.weightShapes,
                 "relative difference to the copying dualize \(relative(inPlace, df))")
    // The low-rank atom's two weights (2 and 3) go to one rank.
    checks.check("distributed-dualize-atom-on-one-rank", dd.assignment[2] == dd.assignment[3], "ranks \(dd.assignment)")
}

/// The network of the training checks: three Linear atoms, so that two ranks get unequal shares.
let smallMLP = Sequential { Linear(in: 12, out: 16); ReLU(); Linear(in: 16, out: 16); ReLU(); Linear(in: 16, out: 3) }

/// Examples per global batch: not a multiple of 4, so shards differ in size for some rank counts.
let batchSize = 30

/// The same global batch on every rank: inputs and regression targets drawn from `rng`.
func globalBatch(_ rng: inout RandomGenerator) -> (Tensor<Float>, Tensor<Float>) {
    let x = Tensor<Float>.randomNormal([batchSize, 12], using: &rng)
    let y = Tensor<Float>.randomNormal([batchSize, 3], using: &rng)
    return (x, y)
}
