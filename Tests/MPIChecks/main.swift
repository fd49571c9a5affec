// Checks of ModulaMPI run under mpirun (scripts/test-mpi): `modula-mpi-checks` runs them all and ends with
// `N passed, N failed` on rank 0; `modula-mpi-checks fail-rank` makes rank 1 fail while rank 0 waits in a collective.
import Foundation
import Modula
import ModulaMPI
import ModulaTensor

MPI.run { world in
    if CommandLine.arguments.dropFirst().first == "fail-rank" {
        var x = Tensor<Float>.ones([4])
        if world.rank == 1 { throw MPIError.invalidArgument("fail-rank check", "rank 1 fails on purpose") }
        try world.allreduce(&x, .sum)  // rank 0 waits here for a rank that never comes
        return
    }
    var passed = 0, failed = 0
    func check(_ name: String, _ ok: Bool, _ detail: String) {
        if ok { passed += 1 } else { failed += 1 }
        if world.isRoot { print("\(ok ? "pass" : "FAIL") \(name): \(detail)") }
    }

    // Collectives on small buffers.
    var v = Tensor<Float>([Float(world.rank + 1), 1])
    try world.allreduce(&v, .sum)
    let n = Float(world.size)
    check("allreduce-sum", v.scalars == [n * (n + 1) / 2, n], "\(v.scalars)")
    var b = Tensor<Double>([Double(world.rank)])
    try world.broadcast(&b, root: world.size - 1)
    check("broadcast", b.scalars == [Double(world.size - 1)], "\(b.scalars)")
    let gathered = try world.allgather([Float](repeating: Float(world.rank), count: world.rank + 1))
    let expected = (0..<world.size).flatMap { [Float](repeating: Float($0), count: $0 + 1) }
    check("allgatherv", gathered == expected, "\(gathered)")

    // Data-parallel training of 20 steps against single-process training on the same global batches. A small
    // bucket forces several allreduces.
    let mlp = Sequential { Linear(in: 12, out: 16); ReLU(); Linear(in: 16, out: 16); ReLU(); Linear(in: 16, out: 3) }
    let parallel = DataParallel(world, bucketBytes: 700)
    var rng = RandomGenerator(seed: 7)
    var mine = parallel.rankGenerator(splittingFrom: &rng)
    var reference: [Tensor<Float>] = mlp.initialize(using: &rng)
    var weights: [Tensor<Float>] = mlp.initialize(using: &mine)  // different on every rank until broadcast
    if world.isRoot { weights = reference }
    try parallel.broadcastWeights(&weights)
    check("broadcast-weights", zip(weights, reference).allSatisfy { $0.scalars == $1.scalars }, "rank 0's weights everywhere")
    let batch = 30  // not a multiple of 4, so shards differ in size for some rank counts
    for step in 0..<20 {
        let x = Tensor<Float>.randomNormal([batch, 12], using: &rng)
        let y = Tensor<Float>.randomNormal([batch, 3], using: &rng)
        let lr = Float(0.05)
        let (_, g) = try valueWithGradient(at: reference) { w in meanSquaredError(try mlp(x, w), y) }
        let u = try mlp.dualize(g)
        for i in reference.indices { reference[i].addScaled(u[i], by: -lr) }
        let rows = parallel.shard(of: batch)
        var (_, gl) = try valueWithGradient(at: weights) { w in
            meanSquaredError(try mlp(x.slice(axis: 0, rows), w), y.slice(axis: 0, rows))
        }
        try parallel.averageGradients(&gl, share: parallel.share(of: batch))
        let ul = try mlp.dualize(gl)
        for i in weights.indices { weights[i].addScaled(ul[i], by: -lr) }
        _ = step
    }
    // Float sums in another order: each step's gradient differs by a few ulps (relative ~1e-7 of ‖g‖);
    // 20 steps of size 0.05 move weights of unit scale, so 1e-5 relative is ~100 ulps of headroom.
    var worst = 0.0
    for (w, r) in zip(weights, reference) {
        let d = (w - r).dotValue(w - r).squareRoot(), s = r.dotValue(r).squareRoot()
        worst = max(worst, Double(d / s))
    }
    var worstAll = Tensor<Double>([worst])
    try world.allreduce(&worstAll, .max)
    check("data-parallel-20-steps", worstAll.scalars[0] <= 1e-5, "largest relative weight difference \(worstAll.scalars[0])")

    // Distributed dualize against local dualize, in Float and Double, on a network with unequal masses,
    // sensitivities and a residual.
    let net = Sequential {
        Linear(in: 10, out: 24); ReLU()
        Linear(in: 24, out: 24, mass: 3); GELU()
        Linear(in: 24, out: 8)
    }
    let dd = try DistributedDualizer(module: net, communicator: world)
    var grng = RandomGenerator(seed: 3)
    let gf = net.weightShapes.map { Tensor<Float>.randomNormal($0, using: &grng) }
    let gd = net.weightShapes.map { Tensor<Double>.randomNormal($0, using: &grng) }
    let df = try dd.dualize(gf, targetNorm: 0.7), lf = try net.dualize(gf, targetNorm: 0.7)
    let ddd = try dd.dualize(gd, targetNorm: 0.7), ld = try net.dualize(gd, targetNorm: 0.7)
    // Same maps on the same inputs; only the target scalar is rounded differently (a few ulps), so the relative
    // difference is a small multiple of the precision.
    func relative<S: TensorScalar>(_ a: [Tensor<S>], _ b: [Tensor<S>]) -> Double {
        zip(a, b).map { x, y in Double((x - y).dotValue(x - y).squareRoot() / y.dotValue(y).squareRoot()) }.max() ?? 0
    }
    check("distributed-dualize-float", relative(df, lf) <= 1e-5, "relative difference \(relative(df, lf)), ranks \(dd.assignment)")
    check("distributed-dualize-double", relative(ddd, ld) <= 1e-12, "relative difference \(relative(ddd, ld))")

    if world.isRoot { print("\(passed) passed, \(failed) failed") }
    if failed > 0 { throw MPIError.invalidArgument("modula-mpi-checks", "\(failed) checks failed") }
}
