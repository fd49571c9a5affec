import Modula
import ModulaTensor

/// `Module.dualize` divided among ranks: each atom's duality map (an orthogonalization for the spectral norms)
/// runs on one rank, and an allgather gives every rank the whole update. An atom with several weights
/// (`LowRankLinear`) is dualized as a whole on one rank, as its duality map is one map of all its weights.
///
/// Distributed Muon implementations divide the work the same way: the orthogonalizations are independent per
/// matrix. The modular split of the target is unchanged: each atom gets the target t·(μ_atom/μ)/Π(downstream
/// sensitivities) that `Module.dualize(_:targetNorm:)` (Modula) gives it, so the result equals the local dualize
/// up to the rounding of that target. Atoms are assigned by longest-processing-time-first over their estimated
/// cost (the sum of ``orthogonalizationCost(shape:)`` over their weights), which every rank computes identically.
public struct DistributedDualizer: Sendable {
    /// The network whose gradients are dualized.
    public let module: any Module
    /// The ranks that share the work.
    public let communicator: Communicator
    /// For each weight (in the module's weight order), the rank that dualizes it: the same rank for all the weights
    /// of one atom.
    public let assignment: [Int]
    /// For each weight (in the module's weight order), its atom's dualize target when the whole network is dualized
    /// to target norm 1.
    public let unitTargets: [Double]
    /// The atoms in weight order, with the ranges of their weights.
    let entries: [AtomEntry]
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
    public init(module: any Module, communicator: Communicator) {
        self.module = module
        self.communicator = communicator
        let shapes = module.weightShapes
        entries = module.atomEntries
        let atomRanks = Self.balancedAssignment(
            costs: entries.map { e in e.weights.reduce(0) { $0 + Self.orthogonalizationCost(shape: shapes[$1]) } },
            ranks: communicator.size)
        assignment = zip(entries, atomRanks).flatMap { e, r in e.weights.map { _ in r } }
        unitTargets = Self.unitTargets(of: module)
    }

    /// The target each atom receives at unit target norm, once for each of its weights, found as described in
    /// ``init(module:communicator:)``: the atom's share of the network's map over its own unit map (least squares
    /// over all its weights).
    public static func unitTargets(of module: any Module) -> [Double] {
        var rng = RandomGenerator(seed: 0x6d6f64756c61)
        let g = module.weightShapes.map { Tensor<Double>.randomNormal($0, using: &rng) }
        let shares = module.dualize(g[...], targetNorm: 1)  // g has the weights' shapes
        return module.atomEntries.flatMap { e -> [Double] in
            let unit: [Tensor<Double>] = e.atom.dualize(gradients: Array(g[e.weights]))
            let norm2 = unit.reduce(0) { $0 + $1.dotValue($1) }
            let along = zip(e.weights, unit).reduce(0) { $0 + shares[$1.0].dotValue($1.1) }
            return e.weights.map { _ in norm2 > 0 ? along / norm2 : 0 }
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
        return try gathered(entries.map { Array($0.weights) }, entries.map { assignment[$0.weights.lowerBound] },
                            parallel: true) { j in
            let e = entries[j]
            return e.atom.dualize(gradient[e.weights], targetNorm: targetNorm * S(unitTargets[e.weights.lowerBound]))
        }
    }

    /// Runs `map(j)`, the maps of the weights `groups[j]` (one atom's, in their order), on rank `ranks[j]`, and
    /// gives every rank all results in the order of `groups` (one `MPI_Allgatherv`); with `parallel`, small maps run
    /// on several threads.
    func gathered<S: TensorScalar>(
        _ groups: [[Int]], _ ranks: [Int], parallel: Bool, _ map: (Int) -> [Tensor<S>]
    ) throws -> [Tensor<S>] {
        let shapes = module.weightShapes
        var out: [Tensor<S>] = []
        try exchange(groups, ranks, local: { mine in
            // As the local dualize does: small maps in parallel, large ones one after another, each threading its
            // own products. (The optimizer's own maps run one after another, as they do in one process.)
            parallel && !hasLarge(mine, groups) ? parallelMap(mine.count) { map(mine[$0]) } : mine.map(map)
        }, deliver: { j, k, elements in
            out.append(Tensor(shape: shapes[groups[j][k]], scalars: Array(elements)))
        })
        return out
    }

    /// Whether one of these groups has a weight too large for the maps to run in parallel (as the local dualize).
    func hasLarge(_ mine: [Int], _ groups: [[Int]]) -> Bool {
        let shapes = module.weightShapes
        return mine.contains { groups[$0].contains { shapes[$0].reduce(1, *) > 1 << 19 } }
    }

    /// One exchange: `local(mine)` computes the maps of this rank's groups `mine` (in order), which are packed into
    /// one buffer and allgathered (one `MPI_Allgatherv`); `deliver(j, k, elements)` then gets the k-th tensor of every
    /// group j, in the order of `groups` (this rank's own from the buffer too).
    func exchange<S: TensorScalar>(
        _ groups: [[Int]], _ ranks: [Int], local: ([Int]) -> [[Tensor<S>]],
        deliver: (_ j: Int, _ k: Int, _ elements: ArraySlice<S>) -> Void
    ) throws {
        guard !groups.isEmpty else { return }  // the same on every rank: no collective for nothing
        let (start, cpu) = (now(), processCPUSeconds())
        var work = 0.0
        defer { clock.add(wall: now() - start, work: work) }
        let shapes = module.weightShapes
        let size = communicator.size
        // Each rank's piece of the gathered buffer holds its weights in the order of `groups`.
        let elements = { (i: Int) in shapes[i].reduce(1, *) }
        var counts = [Int](repeating: 0, count: size)
        for (j, r) in ranks.enumerated() { counts[r] += groups[j].reduce(0) { $0 + elements($1) } }
        var offsets = [Int](repeating: 0, count: size)
        for r in 1..<Swift.max(size, 1) { offsets[r] = offsets[r - 1] + counts[r - 1] }
        var buffer = [S](repeating: 0, count: counts.reduce(0, +))
        let mine = groups.indices.filter { ranks[$0] == communicator.rank }
        let maps = local(mine)
        work = processCPUSeconds() - cpu
        try buffer.withUnsafeMutableBufferPointer { b in
            var at = offsets[communicator.rank]
            for (j, tensors) in zip(mine, maps) {
                guard tensors.count == groups[j].count else {
                    throw MPIError.invalidArgument("DistributedDualizer", "the duality map of the atom owning \(module.weightNames[groups[j][0]]) gave \(tensors.count) tensors, expected \(groups[j].count)")
                }
                for (i, d) in zip(groups[j], tensors) {
                    guard d.shape == shapes[i] else {
                        throw MPIError.invalidArgument("DistributedDualizer", "the duality map of \(module.weightNames[i]) has shape \(d.shape), expected \(shapes[i])")
                    }
                    d.withUnsafeBufferPointer { (b.baseAddress! + at).update(from: $0.baseAddress!, count: d.count) }
                    at += d.count
                }
            }
        }
        try buffer.withUnsafeMutableBufferPointer { try communicator.allgather(inPlace: $0, counts: counts) }
        var next = offsets
        for j in groups.indices {
            for (k, i) in groups[j].enumerated() {
                let r = ranks[j], n = elements(i)
                deliver(j, k, buffer[next[r]..<(next[r] + n)])
                next[r] += n
            }
        }
    }
}

extension DistributedDualizer: DualizeStrategy {
    /// ``dualize(_:targetNorm:)`` for the optimizer; `module` must be the dualizer's own network.
    public func dualize<S: TensorScalar>(_ directions: [Tensor<S>], of module: any Module, targetNorm: S) throws -> [Tensor<S>] {
        try checkModule(module)
        return try dualize(directions, targetNorm: targetNorm)
    }

    /// ``dualize(_:of:targetNorm:)`` in the memory of `directions`: this rank's atoms are dualized in their own
    /// directions' memory (taken out of the list, so that a Newton–Schulz iteration may work in place), and every
    /// other direction is overwritten with the gathered result. Besides the directions, it holds one buffer of all the
    /// weights' elements, as ``dualize(_:of:targetNorm:)`` does, but not a second copy of the result.
    public func dualizeInPlace<S: TensorScalar>(_ directions: inout [Tensor<S>], of module: any Module, targetNorm: S) throws {
        try checkModule(module)
        try self.module.checkWeights(directions)
        let groups = entries.map { Array($0.weights) }, ranks = entries.map { assignment[$0.weights.lowerBound] }
        var lists: [[Tensor<S>]] = []
        var position: [Int: Int] = [:]  // a group of this rank → its place in `lists`
        try exchange(groups, ranks, local: { mine in
            lists = mine.map { j in groups[j].map { directions[$0].take() } }
            for (k, j) in mine.enumerated() { position[j] = k }
            let large = hasLarge(mine, groups)
            lists.withUnsafeMutableBufferPointer { buffer in
                func one(_ k: Int) {
                    let e = entries[mine[k]]
                    e.atom.dualizeInPlace(&buffer[k], 0..<buffer[k].count, targetNorm: targetNorm * S(unitTargets[e.weights.lowerBound]))
                }
                if large { for k in buffer.indices { one(k) } } else { parallelForEach(buffer.count, one) }
            }
            return lists
        }, deliver: { j, k, elements in
            let i = groups[j][k]
            if let m = position[j] { return directions[i] = lists[m][k] }
            directions[i].withUnsafeMutableBufferPointer { d in
                elements.withUnsafeBufferPointer { d.baseAddress!.update(from: $0.baseAddress!, count: $0.count) }
            }
        })
    }

    /// The per-atom maps of the layer-wise layouts, divided among the ranks by ``orthogonalizationCost(shape:)``
    /// (longest first, as ``balancedAssignment(costs:ranks:)``), then gathered.
    public func each<S: TensorScalar>(_ weights: [Int], of module: any Module, _ map: (Int) -> Tensor<S>) throws -> [Tensor<S>] {
        try checkModule(module)
        let shapes = self.module.weightShapes
        let ranks = Self.balancedAssignment(costs: weights.map { Self.orthogonalizationCost(shape: shapes[$0]) }, ranks: communicator.size)
        return try gathered(weights.map { [$0] }, ranks, parallel: false) { [map(weights[$0])] }
    }

    func checkModule(_ other: any Module) throws {
        guard other.weightShapes == module.weightShapes, other.name == module.name else {
            throw MPIError.invalidArgument(
                "DistributedDualizer", "it was made for \(module.name) with \(module.weightCount) weights; the optimizer's module is \(other.name) with \(other.weightCount)")
        }
    }
}
