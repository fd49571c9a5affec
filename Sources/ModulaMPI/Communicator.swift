import ModulaTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Open MPI for this process: loading, initialization, and the world communicator.
///
/// ```swift
/// let world = try MPI.initialize()        // loads libmpi.so.40 and calls MPI_Init
/// defer { try? MPI.finalize() }
/// var g = Tensor<Float>.ones([4])
/// try world.allreduce(&g, .mean)         // every rank now holds the mean of all ranks' g
/// ```
public enum MPI {
    /// Loads Open MPI (once), initializes it (once) and returns the world communicator.
    ///
    /// Errors of later calls are returned to the caller (as thrown ``MPIError``s) instead of aborting inside MPI;
    /// ``Communicator/abort(_:code:)`` or ``run(_:)`` then stop every rank.
    public static func initialize() throws -> Communicator {
        let mpi = try OpenMPILibrary.shared.get()
        var flag: Int32 = 0
        try mpi.check("MPI_Initialized", mpi.initialized(&flag))
        if flag == 0 { try mpi.check("MPI_Init", mpi.initialize(nil, nil)) }
        try mpi.check("MPI_Comm_set_errhandler", mpi.setErrorHandler(mpi.commWorld, mpi.errorsReturn))
        return try Communicator(mpi, mpi.commWorld)
    }

    /// Shuts MPI down (`MPI_Finalize`); a no-op when it was never initialized or is already finalized.
    public static func finalize() throws {
        guard case .success(let mpi) = OpenMPILibrary.shared else { return }
        var initialized: Int32 = 0, finalized: Int32 = 0
        try mpi.check("MPI_Initialized", mpi.initialized(&initialized))
        try mpi.check("MPI_Finalized", mpi.finalized(&finalized))
        if initialized != 0 && finalized == 0 { try mpi.check("MPI_Finalize", mpi.finalize()) }
    }

    /// Runs `body` on the world communicator, then finalizes; an error on any rank stops every rank.
    ///
    /// The failing rank prints `rank r of n: <error>` to standard error and calls `MPI_Abort`, so the other
    /// ranks, perhaps waiting in a collective for it, exit too instead of hanging.
    public static func run(_ body: (Communicator) throws -> Void) -> Never {
        let world: Communicator
        do { world = try initialize() } catch {
            printError("error: \(error)")
            exit(1)
        }
        do {
            try body(world)
            try finalize()
            exit(0)
        } catch {
            world.abort("\(error)")
        }
    }
}

func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    bytes.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }  // unbuffered: MPI_Abort may follow
}

/// A group of ranks that take part in collective operations together (here: `MPI_COMM_WORLD`).
///
/// Every collective must be called by all ranks in the same order with matching sizes; each failing call throws
/// an ``MPIError`` naming the MPI function.
public struct Communicator: @unchecked Sendable {
    let mpi: OpenMPILibrary
    let handle: OpenMPILibrary.Handle
    /// This process's rank, 0 ..< ``size``.
    public let rank: Int
    /// The number of ranks.
    public let size: Int

    init(_ mpi: OpenMPILibrary, _ handle: OpenMPILibrary.Handle) throws {
        self.mpi = mpi
        self.handle = handle
        var r: Int32 = 0, n: Int32 = 0
        try mpi.check("MPI_Comm_rank", mpi.commRank(handle, &r))
        try mpi.check("MPI_Comm_size", mpi.commSize(handle, &n))
        rank = Int(r)
        size = Int(n)
    }

    /// Whether this is rank 0, the rank that writes files and prints results.
    public var isRoot: Bool { rank == 0 }

    /// How an allreduce combines the ranks' values.
    public enum Reduction: Sendable {
        /// The elementwise sum.
        case sum
        /// The elementwise mean (the sum divided by the number of ranks).
        case mean
        /// The elementwise maximum.
        case max
    }

    /// Waits until every rank has called it (`MPI_Barrier`).
    public func barrier() throws {
        try mpi.check("MPI_Barrier", mpi.barrier(handle))
    }

    /// Prints `rank r of n: message` to standard error and stops every rank (`MPI_Abort`).
    public func abort(_ message: String, code: Int32 = 1) -> Never {
        printError("rank \(rank) of \(size): \(message)")
        _ = mpi.abort(handle, code)
        exit(code)  // MPI_Abort does not return; this is for the type checker and broken runtimes.
    }

    // MARK: Buffers

    func datatype<S: TensorScalar>(_: S.Type, _ call: String) throws -> OpenMPILibrary.Handle {
        if S.self == Float.self { return mpi.float }
        if S.self == Double.self { return mpi.double }
        throw MPIError.invalidArgument(call, "scalars of type \(S.self) are not supported (Float or Double)")
    }

    /// Runs `body` on consecutive pieces of at most `Int32.max` elements (MPI counts are C `int`s).
    func inChunks(_ count: Int, _ body: (_ offset: Int, _ count: Int32) throws -> Void) rethrows {
        var offset = 0
        while offset < count {
            let n = Swift.min(count - offset, Int(Int32.max))
            try body(offset, Int32(n))
            offset += n
        }
    }

    /// Combines `buffer` elementwise over all ranks, in place (`MPI_Allreduce` with `MPI_IN_PLACE`).
    public func allreduce<S: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<S>, _ op: Reduction) throws {
        let type = try datatype(S.self, "MPI_Allreduce")
        let mpiOp = op == .max ? mpi.max : mpi.sum
        guard let base = buffer.baseAddress else { return }
        try inChunks(buffer.count) { offset, n in
            try mpi.check("MPI_Allreduce", mpi.allreduce(mpi.inPlace, base + offset, n, type, mpiOp, handle))
        }
        if op == .mean {
            let scale = 1 / S(size)
            for i in buffer.indices { buffer[i] *= scale }
        }
    }

    /// Combines a tensor elementwise over all ranks, in place; every rank must pass the same shape.
    public func allreduce<S: TensorScalar>(_ tensor: inout Tensor<S>, _ op: Reduction) throws {
        try tensor.withUnsafeMutableBufferPointer { try allreduce($0, op) }
    }

    /// Copies rank `root`'s `buffer` into every other rank's (`MPI_Bcast`).
    public func broadcast<S: TensorScalar>(_ buffer: UnsafeMutableBufferPointer<S>, root: Int = 0) throws {
        let type = try datatype(S.self, "MPI_Bcast")
        try checkRoot(root, "MPI_Bcast")
        guard let base = buffer.baseAddress else { return }
        try inChunks(buffer.count) { offset, n in
            try mpi.check("MPI_Bcast", mpi.bcast(base + offset, n, type, Int32(root), handle))
        }
    }

    /// Copies rank `root`'s tensor into every other rank's; every rank must pass the same shape.
    public func broadcast<S: TensorScalar>(_ tensor: inout Tensor<S>, root: Int = 0) throws {
        try tensor.withUnsafeMutableBufferPointer { try broadcast($0, root: root) }
    }

    /// Concatenates every rank's `local` values in rank order (`MPI_Allgatherv`); the ranks may pass different counts.
    public func allgather<S: TensorScalar>(_ local: [S]) throws -> [S] {
        var count = [Int64(local.count)]
        var counts = [Int64](repeating: 0, count: size)
        try mpi.check("MPI_Allgather", mpi.allgather(&count, 1, mpi.int64, &counts, 1, mpi.int64, handle))
        var out = [S](repeating: 0, count: Int(counts.reduce(0, +)))
        let start = Int(counts[..<rank].reduce(0, +))
        out.withUnsafeMutableBufferPointer { p in
            for i in local.indices { p[start + i] = local[i] }
        }
        try out.withUnsafeMutableBufferPointer { try allgather(inPlace: $0, counts: counts.map(Int.init)) }
        return out
    }

    /// Fills `buffer`, laid out as the ranks' pieces of `counts[r]` elements in rank order, with every rank's
    /// piece; this rank's piece must already be in place (`MPI_Allgatherv` with `MPI_IN_PLACE`).
    public func allgather<S: TensorScalar>(inPlace buffer: UnsafeMutableBufferPointer<S>, counts: [Int]) throws {
        let type = try datatype(S.self, "MPI_Allgatherv")
        guard counts.count == size, counts.allSatisfy({ $0 >= 0 }) else {
            throw MPIError.invalidArgument("MPI_Allgatherv", "expected \(size) nonnegative counts, got \(counts)")
        }
        guard counts.reduce(0, +) == buffer.count else {
            throw MPIError.invalidArgument("MPI_Allgatherv", "counts add up to \(counts.reduce(0, +)), the buffer holds \(buffer.count)")
        }
        guard buffer.count <= Int(Int32.max) else {
            throw MPIError.invalidArgument("MPI_Allgatherv", "\(buffer.count) elements exceed MPI's int counts")
        }
        let c = counts.map { Int32($0) }
        var displacements = [Int32](repeating: 0, count: size)
        for r in 1..<Swift.max(size, 1) { displacements[r] = displacements[r - 1] + c[r - 1] }
        try mpi.check("MPI_Allgatherv",
                      mpi.allgatherv(mpi.inPlace, 0, type, buffer.baseAddress, c, displacements, type, handle))
    }

    func checkRoot(_ root: Int, _ call: String) throws {
        guard (0..<size).contains(root) else {
            throw MPIError.invalidArgument(call, "root rank \(root) is outside 0..<\(size)")
        }
    }
}
