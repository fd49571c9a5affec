extension Communicator {
    /// Runs `body` on rank 0 only (writing checkpoints, figures and result lines) and returns its value there;
    /// `nil` on the other ranks.
    ///
    /// Every rank holds the same weights after an averaged step, so one copy on disk is enough, and concurrent
    /// writers to one file would corrupt it.
    @discardableResult
    public func onRoot<R>(_ body: () throws -> R) rethrows -> R? {
        isRoot ? try body() : nil
    }
}
