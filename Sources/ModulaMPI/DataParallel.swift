import ModulaTensor

/// Data-parallel training over a communicator: every rank holds the whole network, takes its shard of each
/// global batch, and the ranks average their gradients before the (identical) update.
///
/// ```swift
/// let parallel = DataParallel(world)
/// try parallel.broadcastWeights(&weights)                      // rank 0's initialization everywhere
/// try parallel.distribute(&optimizer)                          // the dualize divided among the ranks
/// for step in 0..<steps {
///     let (x, y) = globalBatch(step)                             // the same global batch on every rank
///     let rows = parallel.shard(of: x.shape[0])
///     let (l, g) = try valueWithGradient(at: weights) { w in loss(x.slice(axis: 0, rows), y.slice(axis: 0, rows), w) }
///     try parallel.step(&optimizer, &weights, gradients: g, loss: l, globalBatch: x.shape[0])
/// }
/// ```
///
/// ``averageGradients(_:share:)`` is the averaging alone, for a loop of one's own.
///
/// Gradients are reduced in buckets: many tensors packed into one buffer of at most ``bucketBytes`` per
/// `MPI_Allreduce`, so that small weights (biases, gains) do not each pay a collective's latency.
public struct DataParallel: Sendable {
    /// The ranks that train together.
    public let communicator: Communicator
    /// The largest buffer (in bytes) one allreduce carries; a tensor larger than this is reduced alone.
    public let bucketBytes: Int

    /// Data parallelism over `communicator`, with allreduce buckets of `bucketBytes` (default 4 MiB).
    public init(_ communicator: Communicator, bucketBytes: Int = 4 << 20) {
        precondition(bucketBytes > 0, "DataParallel: bucketBytes must be positive, got \(bucketBytes)")
        self.communicator = communicator
        self.bucketBytes = bucketBytes
    }

    /// This rank's rows of a global batch of `count` examples: consecutive, sizes differing by at most one.
    public func shard(of count: Int) -> Range<Int> {
        let (r, n) = (communicator.rank, communicator.size)
        return (count * r / n)..<(count * (r + 1) / n)
    }

    /// This rank's fraction of a global batch of `count` examples (the weight of its mean gradient).
    public func share(of count: Int) -> Double {
        count == 0 ? 0 : Double(shard(of: count).count) / Double(count)
    }

    /// This rank's own random stream, split from `rng`: every rank draws the same `size` splits and keeps the
    /// one of its rank, so streams differ between ranks and are reproducible for a given seed and rank count.
    public func rankGenerator(splittingFrom rng: inout RandomGenerator) -> RandomGenerator {
        let streams = (0..<communicator.size).map { _ in rng.split() }
        return streams[communicator.rank]
    }

    /// Replaces every rank's weights by rank `root`'s, so that training starts from identical weights.
    public func broadcastWeights<S: TensorScalar>(_ weights: inout [Tensor<S>], root: Int = 0) throws {
        try inBuckets(&weights) { try communicator.broadcast($0, root: root) }
    }

    /// Averages gradients over the ranks, in place.
    ///
    /// Without `share`, the plain mean (right when every rank's shard has the same size). With `share`, the
    /// weighted sum Σᵣ shareᵣ·gᵣ: pass ``share(of:)`` of the global batch so that the result is the global
    /// batch's mean gradient also when shards differ in size.
    public func averageGradients<S: TensorScalar>(_ gradients: inout [Tensor<S>], share: Double? = nil) throws {
        if let share {
            guard share >= 0 && share <= 1 else {
                throw MPIError.invalidArgument("DataParallel.averageGradients", "share must lie in [0, 1], got \(share)")
            }
            for i in gradients.indices { gradients[i].scaleInPlace(by: S(share)) }
        }
        try inBuckets(&gradients) { try communicator.allreduce($0, share == nil ? .mean : .sum) }
    }

    /// Runs `collective` on buckets of the tensors packed into one buffer, then unpacks them.
    func inBuckets<S: TensorScalar>(
        _ tensors: inout [Tensor<S>], _ collective: (UnsafeMutableBufferPointer<S>) throws -> Void
    ) throws {
        let capacity = Swift.max(1, bucketBytes / MemoryLayout<S>.stride)
        // No larger than what it will hold: zeroing a whole 4 MiB bucket for a small network costs more than its allreduce.
        var bucket = [S](repeating: 0, count: Swift.min(capacity, tensors.reduce(0) { $0 + ($1.count <= capacity ? $1.count : 0) }))
        var members: [Int] = []
        var filled = 0
        func flush() throws {
            guard !members.isEmpty else { return }
            try bucket.withUnsafeMutableBufferPointer { p in try collective(UnsafeMutableBufferPointer(rebasing: p[..<filled])) }
            var offset = 0
            for i in members {
                let n = tensors[i].count
                tensors[i].withUnsafeMutableBufferPointer { t in
                    bucket.withUnsafeBufferPointer { b in t.baseAddress!.update(from: b.baseAddress! + offset, count: n) }
                }
                offset += n
            }
            members.removeAll(keepingCapacity: true)
            filled = 0
        }
        for i in tensors.indices where tensors[i].count > 0 {
            let n = tensors[i].count
            if n > capacity {
                try tensors[i].withUnsafeMutableBufferPointer { try collective($0) }
                continue
            }
            if filled + n > capacity { try flush() }
            tensors[i].withUnsafeBufferPointer { t in
                bucket.withUnsafeMutableBufferPointer { b in (b.baseAddress! + filled).update(from: t.baseAddress!, count: n) }
            }
            members.append(i)
            filled += n
        }
        try flush()
    }
}
