// Reshaping and pooling of image batches `[n, channels, height, width]`.

/// Flattens all axes after the first: `[n, …] → [n, ∏…]` (sensitivity 1).
public struct Flatten: UnaryBond {
    /// The bond (it has no parameters).
    public init() {}
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
        guard x.rank >= 1 else { throw ModuleError(module: name, problem: "needs rank ≥ 1, got shape \(x.shape)") }
        return x.reshaped([x.shape[0], -1])
    }
}

/// Average pooling over non-overlapping `size × size` windows of `[n, channels, height, width]` (sensitivity 1).
public struct AvgPool: UnaryBond {
    /// The side of each pooling window (and the stride).
    public let size: Int
    /// Pooling over `size × size` windows.
    ///
    /// - Precondition: `size ≥ 1`. Stops with a message otherwise.
    public init(_ size: Int = 2) {
        require(size >= 1, "AvgPool: size must be ≥ 1, got \(size)")
        self.size = size
    }
    public var name: String { "AvgPool(\(size))" }
    public func apply<S: TensorScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
        guard x.rank == 4, x.shape[2] % size == 0, x.shape[3] % size == 0 else {
            throw ModuleError(module: name, problem: "expected [n, channels, height, width] with height and width divisible by \(size), got \(x.shape)")
        }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        return x.reshaped([n, c, h / size, size, w / size, size]).mean(alongAxes: [3, 5])
    }
}
