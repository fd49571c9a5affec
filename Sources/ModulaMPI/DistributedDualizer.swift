import Modula
import ModulaTensor

/// `Module.dualize` divided among ranks: each atom's duality map (an orthogonalization for the spectral norms)
/// runs on one rank, and an allgather gives every rank the whole update.
///
/// Distributed Muon implementations divide the work the same way: the orthogonalizations are independent per
/// matrix. The modular split of the target is unchanged: each atom gets the target t·(μ_atom/μ)/Π(downstream
/// sensitivities) that `Module.dualize(_:targetNorm:)` (Modula) gives it, so the result equals the local dualize
/// up to the rounding of that target. Atoms are assigned by longest-processing-time-first over their estimated
/// cost (``orthogonalizationCost(shape:)``), which every rank computes identically.
public struct DistributedDualizer: Sendable {
    /// The network whose gradients are dualized.
    public let module: any Module
    /// The ranks that share the work.
    public let communicator: Communicator
    /// For each weight (in the module's weight order), the rank that dualizes it.
    public let assignment: [Int]
    /// Each atom's dualize target when the whole network is dualized to target norm 1.
    public let unitTargets: [Double]
    let clock = DualizeClock()

    /// Seconds this process has spent in this dualizer's calls so far (its maps, the allgather, and waiting for
    /// the other ranks there), for the dualize share of a step; copies of the dualizer share one clock.
    public var seconds: Double { clock.total }
    /// CPU seconds this process has spent computing its own share of the maps so far (all its threads; without
    /// the allgather and the waiting): the work that dividing the atoms divides, whatever else runs on the cores.
    public var workSeconds: Double { clock.work }

    /// Plans the division of `module`'s atoms among `communicator`'s ranks.
    ///
    /// Finds each atom's target exactly by dualizing one Gaussian gradient in `Double` and dividing each
    /// atom's share by its own unit duality map (the atoms' maps are homogeneous in the target); this costs
    /// one local dualize in `Double`, once.
    public init(module: any Module, communicator: Communicator) throws {
        if let a = module.atomEntries.first(where: { $0.weights.count != 1 }) {
            throw MPIError.invalidArgument(
                "DistributedDualizer", "atom \(a.atom.name) at '\(a.path)' owns \(a.weights.count) weights; "
                    + "this dualizer divides one-weight atoms among the ranks")
        }
        self.module = module
        self.communicator = communicator
        assignment = Self.balancedAssignment(costs: module.weightShapes.map(Self.orthogonalizationCost), ranks: communicator.size)
        unitTargets = Self.unitTargets(of: module)
    }

    /// The targets each atom receives at unit target norm, found as described in ``init(module:communicator:)``.
    public static func unitTargets(of module: any Module) -> [Double] {
        var rng = RandomGenerator(seed: 0x6d6f64756c61)
        let g = module.weightShapes.map { Tensor<Double>.randomNormal($0, using: &rng) }
        let shares = module.dualize(g[...], targetNorm: 1)  // g has the weights' shapes
        return zip(module.atoms, zip(g, shares)).map { item, pair in
            let unit: Tensor<Double> = item.atom.dualize(gradients: [pair.0])[0]
            let norm2 = unit.dotValue(unit)
            return norm2 > 0 ? pair.1.dotValue(unit) / norm2 : 0
        }
    }

    /// The multiply-adds of one Newton–Schulz step on a weight of this shape: 3k²L + k³ for an m×n matrix with
    /// k = min(m, n), L = max(m, n) (the Gram matrix, its square, and the product back); a weight of another rank
    /// is taken as a matrix of its first axis by the rest, and vectors cost their length.
    public static func orthogonalizationCost(shape: [Int]) -> Double {
        guard shape.count >= 2 else { return Double(shape.reduce(1, *)) }
        let m = Double(shape[0]), n = Double(shape.dropFirst().reduce(1, *))
        let k = Swift.min(m, n), l = Swift.max(m, n)
        return 3 * k * k * l + k * k * k
    }

    /// A rank for each cost: the largest first, each to the least loaded rank so far (ties to the lowest rank).
    public static func balancedAssignment(costs: [Double], ranks: Int) -> [Int] {
        precondition(ranks > 0, "DistributedDualizer.balancedAssignment: ranks must be positive, got \(ranks)")
        var load = [Double](repeating: 0, count: ranks)
        var out = [Int](repeating: 0, count: costs.count)
        for i in costs.indices.sorted(by: { costs[$0] != costs[$1] ? costs[$0] > costs[$1] : $0 < $1 }) {
            let r = load.indices.min { load[$0] != load[$1] ? load[$0] < load[$1] : $0 < $1 }!
            out[i] = r
            load[r] += costs[i]
        }
        return out
    }

    /// The weights this rank dualizes.
    public var localWeights: [Int] { assignment.indices.filter { assignment[$0] == communicator.rank } }

    /// The fraction of the estimated dualize cost this rank carries.
    public var localShare: Double {
        let costs = module.weightShapes.map(Self.orthogonalizationCost)
        let total = costs.reduce(0, +)
        return total > 0 ? localWeights.reduce(0) { $0 + costs[$1] } / total : 0
    }

    /// The steepest-ascent direction of modular norm `targetNorm` for `gradient`, as `Module.dualize(_:targetNorm:)`
    /// gives it, computed in parts on all ranks; every rank must call it with the same gradient.
    public func dualize<S: TensorScalar>(_ gradient: [Tensor<S>], targetNorm: S = 1) throws -> [Tensor<S>] {
        try module.checkWeights(gradient)
        let atoms = module.atoms
        return try gathered(Array(gradient.indices), assignment, parallel: true) { i in
            atoms[i].atom.dualize(gradient[i...i], targetNorm: targetNorm * S(unitTargets[i]))[0]
        }
    }

    /// Runs `map(i)` for weight `i = weights[j]` on rank `ranks[j]`, and gives every rank all results in the
    /// order of `weights` (one `MPI_Allgatherv`); with `parallel`, small maps run on several threads.
    func gathered<S: TensorScalar>(
        _ weights: [Int], _ ranks: [Int], parallel: Bool, _ map: (Int) -> Tensor<S>
    ) throws -> [Tensor<S>] {
        guard !weights.isEmpty else { return [] }  // the same on every rank: no collective for nothing
        let (start, cpu) = (now(), processCPUSeconds())
        var work = 0.0
        defer { clock.add(wall: now() - start, work: work) }
        let shapes = module.weightShapes
        let size = communicator.size
        // Each rank's piece of the gathered buffer holds its weights in the order of `weights`.
        var counts = [Int](repeating: 0, count: size)
        for (j, r) in ranks.enumerated() { counts[r] += shapes[weights[j]].reduce(1, *) }
        var offsets = [Int](repeating: 0, count: size)
        for r in 1..<Swift.max(size, 1) { offsets[r] = offsets[r - 1] + counts[r - 1] }
        var buffer = [S](repeating: 0, count: counts.reduce(0, +))
        let mine = weights.indices.filter { ranks[$0] == communicator.rank }.map { weights[$0] }
        // As the local dualize does: small maps in parallel, large ones one after another, each threading its
        // own products. (The optimizer's own maps run one after another, as they do in one process.)
        let local = !parallel || mine.contains { shapes[$0].reduce(1, *) > 1 << 19 }
            ? mine.map(map) : parallelMap(mine.count) { map(mine[$0]) }
        work = processCPUSeconds() - cpu
        try buffer.withUnsafeMutableBufferPointer { b in
            var at = offsets[communicator.rank]
            for (i, d) in zip(mine, local) {
                guard d.shape == shapes[i] else {
                    throw MPIError.invalidArgument("DistributedDualizer", "the duality map of \(module.weightNames[i]) has shape \(d.shape), expected \(shapes[i])")
                }
                d.withUnsafeBufferPointer { (b.baseAddress! + at).update(from: $0.baseAddress!, count: d.count) }
                at += d.count
            }
        }
        try buffer.withUnsafeMutableBufferPointer { try communicator.allgather(inPlace: $0, counts: counts) }
        var next = offsets
        return weights.indices.map { j in
            let r = ranks[j], n = shapes[weights[j]].reduce(1, *)
            defer { next[r] += n }
            return Tensor(shape: shapes[weights[j]], scalars: Array(buffer[next[r]..<(next[r] + n)]))
        }
    }
}

extension DistributedDualizer: DualizeStrategy {
    /// ``dualize(_:targetNorm:)`` for the optimizer; `module` must be the dualizer's own network.
    public func dualize<S: TensorScalar>(_ directions: [Tensor<S>], of module: any Module, targetNorm: S) throws -> [Tensor<S>] {
        try checkModule(module)
        return try dualize(directions, targetNorm: targetNorm)
    }

    /// The per-atom maps of the layer-wise layouts, divided among the ranks by ``orthogonalizationCost(shape:)``
    /// (longest first, as ``balancedAssignment(costs:ranks:)``), then gathered.
    public func each<S: TensorScalar>(_ weights: [Int], of module: any Module, _ map: (Int) -> Tensor<S>) throws -> [Tensor<S>] {
        try checkModule(module)
        let shapes = self.module.weightShapes
        let ranks = Self.balancedAssignment(costs: weights.map { Self.orthogonalizationCost(shape: shapes[$0]) }, ranks: communicator.size)
        return try gathered(weights, ranks, parallel: false, map)
    }

    func checkModule(_ other: any Module) throws {
        guard other.weightShapes == module.weightShapes, other.name == module.name else {
            throw MPIError.invalidArgument(
                "DistributedDualizer", "it was made for \(module.name) with \(module.weightCount) weights; the optimizer's module is \(other.name) with \(other.weightCount)")
        }
    }
}
