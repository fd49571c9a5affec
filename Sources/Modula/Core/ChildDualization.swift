/// The threading policy of a combinator's `dualize`: how its children's duality maps are scheduled.
///
/// The children's duality maps are independent. With several threads configured, small ones run in parallel
/// (nested combinators share the threads), which pays far better than threading each small orthogonalization
/// inside BLAS. Large ones run one after another: each splits its own products between the threads, and the work
/// buffers of two large matrices are not held at once.
enum ChildDualization {
    /// Children with at most this many weights (in all) are dualized in parallel.
    static let parallelLimit = 1 << 19

    /// The concatenated results of `child(i)` for every child, where `sizes[i]` counts child i's weights.
    static func run<T>(sizes: [Int], _ child: (Int) -> [T]) -> [T] {
        if inOrder(sizes: sizes) { return sizes.indices.flatMap(child) }
        return parallelMap(sizes.count, child).flatMap { $0 }
    }

    /// Whether children of these sizes are dualized one after another.
    static func inOrder(sizes: [Int]) -> Bool { (sizes.max() ?? 0) > parallelLimit }
}
