// bench mpi/<problem> <shape> ranks=… step_ms=… dualize_ms=… dualize_share=… <items>_per_second=… dualize_work_ms=…
//   dualize_work_max_ms=… local_dualize_share=… threads=1
//
// Data-parallel training steps on the ranks of mpirun (`scripts/bench-mpi` runs them at 1 and 2 ranks):
// each rank computes the gradient of its shard of the global batch, `DataParallel.step` averages gradients
// and loss in one allreduce, and the optimizer's dualize is divided among the ranks (`DistributedDualizer`).
// `step_ms` is the median wall time of a whole step on rank 0 (the allreduce keeps the ranks in step),
// `dualize_ms` the median time in the distributed dualize (the rank's maps and the allgather), and
// `dualize_share` their ratio. `dualize_work_ms` is rank 0's CPU time in its own maps (no allgather, no waiting,
// no time lost to other processes), `dualize_work_max_ms` the largest over the ranks: the work that dividing the
// atoms divides. Every rank does tensor work on one thread, so that two ranks use two cores.
import Modula
import ModulaMPI
import ModulaTensor
#if canImport(Glibc)
import Glibc
#endif

/// A training problem whose loss can be taken over any rows of its global batches.
struct ShardedProblem {
    let name: String, shape: String, items: String, itemsPerStep: Int, batch: Int, steps: Int
    let module: any Module
    var optimizer: Optimizer<Float>
    /// The loss of rows `rows` of global batch `k` at weights `w`.
    let loss: (_ k: Int, _ rows: Range<Int>, _ w: [Tensor<Float>]) throws -> Tensor<Float>
}

func shardedMLP() -> ShardedProblem {
    let mlp = Sequential.mlp(input: 784, width: 256, output: 10, depth: 3)
    var rng = RandomGenerator(seed: 7)
    let data = (0..<4).map { _ in
        (Tensor<Float>.randomUniform([128, 784], using: &rng),
         oneHot((0..<128).map { _ in rng.nextInt(below: 10) }, classes: 10, as: Float.self))
    }
    return ShardedProblem(
        name: "mpi/hello-mnist", shape: "batch=128", items: "images_per_second", itemsPerStep: 128, batch: 128, steps: 60,
        module: mlp, optimizer: try! .modular(module: mlp, learningRate: .constant(0.1))
    ) { k, rows, w in
        let (x, y) = data[k % data.count]
        return meanSquaredError(try mlp(x.slice(axis: 0, rows), w), y.slice(axis: 0, rows))
    }
}

func shardedGPT() -> ShardedProblem {
    let (vocabulary, batch, context) = (65, 12, 64)
    let gpt = Sequential.gpt(vocabulary: vocabulary, heads: 4, dimension: 128, queryDimension: 32, valueDimension: 32, blocks: 4)
    var rng = RandomGenerator(seed: 8)
    let data = (0..<8).map { _ in
        (Tensor(shape: [batch, context], scalars: (0..<(batch * context)).map { _ in Float(rng.nextInt(below: vocabulary)) }),
         (0..<(batch * context)).map { _ in rng.nextInt(below: vocabulary) })
    }
    return ShardedProblem(
        name: "mpi/hello-gpt", shape: "batch=12 context=64", items: "tokens_per_second", itemsPerStep: batch * context,
        batch: batch, steps: 25, module: gpt,
        optimizer: try! .modular(module: gpt, learningRate: .linearDecay(0.1, steps: 2001), momentum: .ema(0.95))
    ) { k, rows, w in
        let (ids, labels) = data[k % data.count]
        let logits = try gpt.forward([ids.slice(axis: 0, rows)], weights: w[...])[0]
        return crossEntropy(logits: logits, labels: Array(labels[(rows.lowerBound * context)..<(rows.upperBound * context)]))
    }
}

/// Runs the `mpi/…` benchmarks the filters select on the ranks of mpirun, prints them on rank 0, and exits.
func benchMPI(_ filters: [String]) -> Never {
    guard getenv("OMPI_COMM_WORLD_SIZE") != nil else {
        let message = "modula-bench: the mpi/… benchmarks run on the ranks of mpirun: use scripts/bench-mpi "
            + "(or mpirun -np N modula-bench mpi)\n"
        _ = message.withCString { write(2, $0, strlen($0)) }
        exit(1)
    }
    MPI.run { world in
        setTensorThreads(1)
        if world.isRoot {
            print("# \(blasConfiguration)")
            print("# float kernels: \(floatKernelInstructionSet), ranks: \(world.size), OpenBLAS threads per rank: 1")
        }
        let parallel = DataParallel(world)
        for make in [shardedMLP, shardedGPT] {
            var p = make()
            guard filters.contains(where: { p.name.contains($0) }) else { continue }
            var rng = RandomGenerator(seed: 1)
            var weights: [Tensor<Float>] = p.module.initialize(using: &rng)
            try parallel.distribute(&p.optimizer)
            let dualizer = p.optimizer.dualizer as! DistributedDualizer
            let rows = parallel.shard(of: p.batch)
            var steps: [Double] = [], dualizes: [Double] = [], works: [Double] = []
            for k in 0..<(p.steps + 3) {  // three warm-up steps
                let (t0, d0, w0) = (now(), dualizer.seconds, dualizer.workSeconds)
                let (loss, g) = try valueWithGradient(at: weights) { w in try p.loss(k, rows, w) }
                try parallel.step(&p.optimizer, &weights, gradients: g, loss: loss, globalBatch: p.batch)
                if k >= 3 { steps.append(now() - t0); dualizes.append(dualizer.seconds - d0); works.append(dualizer.workSeconds - w0) }
            }
            let (step, dualize, work) = (median(steps), median(dualizes), median(works))
            var busiest = Tensor<Double>([work])
            try world.allreduce(&busiest, .max)
            world.onRoot {
                report(p.name, p.shape, [
                    ("ranks", "\(world.size)"), ("step_ms", fmt(step * 1e3, 2)), ("dualize_ms", fmt(dualize * 1e3, 2)),
                    ("dualize_share", fmt(dualize / step)), (p.items, fmt(Double(p.itemsPerStep) / step, 0)),
                    ("dualize_work_ms", fmt(work * 1e3, 2)), ("dualize_work_max_ms", fmt(busiest.scalars[0] * 1e3, 2)),
                    ("local_dualize_share", fmt(dualizer.localShare)), ("threads", "1"),
                ])
            }
        }
    }
}
