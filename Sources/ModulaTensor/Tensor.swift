/// Heap memory behind a ``Tensor``. Tensors share it until one of them is mutated (copy-on-write).
@usableFromInline
final class TensorStorage<Scalar: TensorScalar>: @unchecked Sendable {
    @usableFromInline let pointer: UnsafeMutablePointer<Scalar>
    @usableFromInline let count: Int

    @usableFromInline
    init(uninitializedCount count: Int) {
        self.count = count
        let bytes = Swift.max(count, 1) * MemoryLayout<Scalar>.stride
        let cached = bytes >= TensorMemory.minimumCachedBytes ? BufferCache.shared.take(bytes: bytes) : nil
        let raw = cached ?? .allocate(byteCount: bytes, alignment: bytes >= TensorMemory.minimumCachedBytes ? 64 : 16)
        MemoryCounters.allocated(bytes, fromSystem: cached == nil)
        pointer = raw.bindMemory(to: Scalar.self, capacity: Swift.max(count, 1))
    }

    @usableFromInline
    convenience init(repeating value: Scalar, count: Int) {
        self.init(uninitializedCount: count)
        Scalar.fill(pointer, value, count)  // specialized, unlike a generic `initialize(repeating:)`
    }

    @usableFromInline
    func copy() -> TensorStorage {
        let s = TensorStorage(uninitializedCount: count)
        s.pointer.initialize(from: pointer, count: count)
        return s
    }

    deinit {
        let bytes = Swift.max(count, 1) * MemoryLayout<Scalar>.stride
        let raw = UnsafeMutableRawPointer(pointer)
        MemoryCounters.freed(bytes)
        if bytes >= TensorMemory.minimumCachedBytes && BufferCache.shared.give(raw, bytes: bytes) { return }
        raw.deallocate()
    }
}

/// A dense, row-major, n-dimensional array of `Float` or `Double` with value semantics.
///
/// Tensors are values: assigning one to another variable shares memory until either is mutated
/// (copy-on-write), and ``reshaped(_:)`` never copies. Every operation checks shapes and stops with
/// a message naming the operation, the shapes involved and what was expected.
///
/// Operations on tensors that descend from the inputs of ``valueWithGradient(at:of:)->(_,[Tensor<Scalar>])`` are recorded
/// for reverse-mode differentiation; all others run with no recording overhead.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let a = Tensor<Float>.randomNormal([128, 784], using: &rng)
/// let w = Tensor<Float>.randomNormal([256, 784], using: &rng)
/// let h = a.matmul(w, transposeB: true).relu()     // [128, 256]
/// ```
public struct Tensor<Scalar: TensorScalar>: @unchecked Sendable {
    /// The extent of each axis, outermost first. A scalar tensor has shape `[]`.
    public private(set) var shape: [Int]
    @usableFromInline var storage: TensorStorage<Scalar>
    /// The tape node when this tensor depends on a differentiable input.
    @usableFromInline var node: TapeNode<Scalar>?

    @usableFromInline
    init(shape: [Int], storage: TensorStorage<Scalar>, node: TapeNode<Scalar>? = nil) {
        self.shape = shape
        self.storage = storage
        self.node = node
    }

    /// A tensor of the given shape whose memory is not initialized (callers must write every element).
    @inlinable
    public init(uninitializedShape shape: [Int]) {
        Tensor.checkShape(shape, "Tensor(shape:)")
        self.init(shape: shape, storage: TensorStorage(uninitializedCount: shape.reduce(1, *)))
    }

    /// A tensor of the given shape filled with `value`.
    @inlinable
    public init(repeating value: Scalar, shape: [Int]) {
        Tensor.checkShape(shape, "Tensor(repeating:shape:)")
        self.init(shape: shape, storage: TensorStorage(repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor of the given shape holding `scalars` in row-major order.
    ///
    /// - Precondition: `scalars` fills `shape` (no negative dimension). Stops with a message otherwise.
    public init(shape: [Int], scalars: [Scalar]) {
        Tensor.checkShape(shape, "Tensor(shape:scalars:)")
        let n = shape.reduce(1, *)
        require(
            scalars.count == n,
            "Tensor(shape:scalars:): shape \(shape) needs \(n) scalars, got \(scalars.count)")
        self.init(uninitializedShape: shape)
        if n > 0 { scalars.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: n) } }
    }

    /// A rank-1 tensor holding `scalars`.
    public init(_ scalars: [Scalar]) { self.init(shape: [scalars.count], scalars: scalars) }

    /// A rank-0 (scalar) tensor.
    public init(_ scalar: Scalar) { self.init(repeating: scalar, shape: []) }

    /// A rank-2 tensor from nested rows (all rows must have the same length).
    ///
    /// - Precondition: rows of equal length. Stops with a message otherwise.
    public init(rows: [[Scalar]]) {
        let cols = rows.first?.count ?? 0
        require(rows.allSatisfy { $0.count == cols }, "Tensor(rows:): rows have different lengths")
        self.init(shape: [rows.count, cols], scalars: rows.flatMap { $0 })
    }

    @usableFromInline
    static func checkShape(_ shape: [Int], _ op: String) {
        require(shape.allSatisfy { $0 >= 0 }, "\(op): shape \(shape) has a negative dimension")
    }

    /// Number of axes.
    @inlinable public var rank: Int { shape.count }
    /// Number of elements.
    @inlinable public var count: Int { storage.count }
    /// The elements in row-major order.
    public var scalars: [Scalar] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }
    /// The only element of a tensor with one element.
    ///
    /// - Precondition: exactly one element. Stops with a message otherwise.
    public var scalar: Scalar {
        require(count == 1, "scalar: tensor of shape \(shape) has \(count) elements, expected 1")
        return storage.pointer[0]
    }

    /// The element at a multi-index.
    ///
    /// Setting an element is not recorded for differentiation: the tensor is detached from the tape.
    ///
    /// - Precondition: one in-range component per axis. Stops with a message otherwise.
    public subscript(_ index: Int...) -> Scalar {
        get { storage.pointer[offset(of: index)] }
        set {
            let o = offset(of: index)
            makeUnique()
            node = nil
            storage.pointer[o] = newValue
        }
    }

    @usableFromInline
    func offset(of index: [Int]) -> Int {
        require(index.count == rank, "subscript: index \(index) has \(index.count) components, tensor has rank \(rank) (shape \(shape))")
        var o = 0
        for (i, (k, n)) in zip(index, shape).enumerated() {
            require(k >= 0 && k < n, "subscript: index \(index) is out of range on axis \(i) of shape \(shape)")
            o = o * n + k
        }
        return o
    }

    /// Makes the storage unique before a mutation (copy-on-write).
    @inlinable
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// This tensor, moved out: `self` becomes an empty tensor (shape `[0]`), so that the result is the only
    /// holder of the memory when `self` was (an element of an array handed on without a copy).
    package mutating func take() -> Tensor {
        let moved = self
        self = Tensor(shape: [0], storage: TensorStorage(uninitializedCount: 0))
        return moved
    }

    /// Calls `body` with a pointer to the elements.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Calls `body` with a mutable pointer to the elements (copying first if the memory is shared).
    ///
    /// Mutation in place is not recorded for differentiation: the tensor is detached from the tape.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R
    ) rethrows -> R {
        makeUnique()
        node = nil
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// The same values with no link to the differentiation tape.
    @inlinable public var detached: Tensor { Tensor(shape: shape, storage: storage) }

    /// Whether this tensor depends on an input of a gradient computation in progress.
    @inlinable public var isRecorded: Bool { node != nil }

    /// Converts to another scalar type (not differentiable).
    public func converted<T: TensorScalar>(to: T.Type = T.self) -> Tensor<T> {
        var out = Tensor<T>(uninitializedShape: shape)
        let p = out.storage.pointer, q = storage.pointer
        for i in 0..<count { p[i] = T(q[i]) }
        out.node = nil
        return out
    }
}

extension Tensor: CustomStringConvertible {
    /// A short rendering: the shape and up to 8 leading elements.
    public var description: String {
        let head = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor<\(Scalar.self)>\(shape)[\(head)\(count > 8 ? ", …" : "")]"
    }
}

extension Tensor: Equatable {
    /// Equal shapes and elements (tape state is ignored).
    public static func == (a: Tensor, b: Tensor) -> Bool {
        guard a.shape == b.shape else { return false }
        if a.storage === b.storage { return true }
        for i in 0..<a.count where a.storage.pointer[i] != b.storage.pointer[i] { return false }
        return true
    }
}

// MARK: - Creation

extension Tensor {
    /// Zeros of the given shape.
    @inlinable public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    /// Ones of the given shape.
    @inlinable public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }
    /// `value` repeated over the given shape.
    @inlinable public static func full(_ shape: [Int], _ value: Scalar) -> Tensor { Tensor(repeating: value, shape: shape) }
    /// Zeros shaped like `other`.
    @inlinable public static func zeros(like other: Tensor) -> Tensor { .zeros(other.shape) }

    /// `start, start + step, …` below `end`.
    ///
    /// - Precondition: `step` is nonzero. Stops with a message otherwise.
    public static func arange(_ start: Scalar, _ end: Scalar, step: Scalar = 1) -> Tensor {
        require(step != 0, "arange: step must be nonzero")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        let t = Tensor(uninitializedShape: [n])
        for i in 0..<n { t.storage.pointer[i] = start + Scalar(i) * step }
        return t
    }

    /// The n×n identity matrix.
    public static func identity(_ n: Int) -> Tensor {
        let t = Tensor.zeros([n, n])
        for i in 0..<n { t.storage.pointer[i * n + i] = 1 }
        return t
    }

    /// Independent normal samples with the given mean and standard deviation.
    public static func randomNormal(
        _ shape: [Int], mean: Scalar = 0, standardDeviation: Scalar = 1, using rng: inout RandomGenerator
    ) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        let p = t.storage.pointer
        var i = 0
        while i < t.count {
            let (a, b) = rng.nextNormalPair()
            p[i] = mean + standardDeviation * Scalar(a)
            if i + 1 < t.count { p[i + 1] = mean + standardDeviation * Scalar(b) }
            i += 2
        }
        return t
    }

    /// Independent samples uniform on `[low, high)`.
    public static func randomUniform(
        _ shape: [Int], low: Scalar = 0, high: Scalar = 1, using rng: inout RandomGenerator
    ) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        for i in 0..<t.count { t.storage.pointer[i] = low + (high - low) * Scalar(rng.nextUnitDouble()) }
        return t
    }
}
