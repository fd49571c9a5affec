import Modula
import ModulaData
import ModulaMPI

extension HelloMNIST {
    /// hello-MNIST data-parallel over MPI ranks (`mpirun -np N modula-examples hello-mnist --distributed`).
    ///
    /// Every rank draws the same global batches as the single-process run, trains on its shard, averages
    /// gradients, and dualizes its share of the atoms (``DistributedDualizer``); rank 0 evaluates and reports.
    /// The update is the one of `Optimizer.modular` without momentum: w ← w − η·dualize(g). Adds `ranks` and
    /// `dualize_share` (the fraction of the step spent in the distributed dualize) to the result.
    public static func runDistributed(
        _ c: Configuration, world: Communicator, environment env: ExampleEnvironment = .init()
    ) throws -> ExampleResult? {
        let data = try loadImages(directory: c.dataDirectory, limit: c.limit)
        var rng = RandomGenerator(seed: c.seed)
        let mlp = MLP(input: data.featureCount, width: c.width, output: data.classCount, depth: 3)
        var weights: [Tensor<Float>] = mlp.initialize(using: &rng)
        let parallel = DataParallel(world)
        try parallel.broadcastWeights(&weights)
        let dualizer = try DistributedDualizer(module: mlp, communicator: world)
        let schedule: Schedule = c.decay ? .linearDecay(c.learningRate, steps: c.steps) : .constant(c.learningRate)
        var progress = world.isRoot ? env.progress(total: c.steps, label: "hello-mnist", itemsPerStep: c.batch) : nil
        var losses: [Double] = []
        var trainingSeconds = 0.0, dualizeSeconds = 0.0
        let rows = parallel.shard(of: c.batch)
        for step in 0..<c.steps {
            let (images, labels) = data.batch(size: c.batch, using: &rng)
            let targets = oneHot(labels, classes: data.classCount, as: Float.self)
            let t0 = now()
            let (loss, shardGrads) = try valueWithGradient(at: weights) { w in
                meanSquaredError(try mlp.forward([images.slice(axis: 0, rows)], weights: w[...])[0], targets.slice(axis: 0, rows))
            }
            var grads = shardGrads
            try parallel.averageGradients(&grads, share: parallel.share(of: c.batch))
            var lossSum = Tensor<Float>([loss.scalar * Float(parallel.share(of: c.batch))])
            try world.allreduce(&lossSum, .sum)
            let t1 = now()
            let u = try dualizer.dualize(grads)
            dualizeSeconds += now() - t1
            let eta = Float(schedule.rate(at: step))
            for i in weights.indices { weights[i].addScaled(u[i], by: -eta) }
            trainingSeconds += now() - t0
            losses.append(Double(lossSum.scalars[0]))
            progress?.update(step: step, loss: losses.last!)
        }
        progress?.finish()
        return try world.onRoot {
            let testAccuracy = try evaluate(mlp, weights, data)
            env.log("test accuracy \(formatted(100 * testAccuracy, digits: 2)) % after \(c.steps) steps on \(world.size) ranks")
            var plot = LinePlot(title: "hello-MNIST: training loss", xLabel: "step", yLabel: "MSE loss", yScale: .log10)
            plot.add("batch loss", y: losses)
            try env.write(plot, "hello-mnist-loss.svg")
            var result = ExampleResult("hello-mnist")
            result.add("test_accuracy", testAccuracy)
            result.add("train_loss", losses.suffix(50).reduce(0, +) / Double(Swift.min(50, losses.count)))
            result.add("images_per_second", Double(c.steps * c.batch) / trainingSeconds, digits: 0)
            result.add("seconds", trainingSeconds, digits: 2)
            result.add("ranks", String(world.size))
            result.add("dualize_share", dualizeSeconds / trainingSeconds)
            return result
        }
    }
}
