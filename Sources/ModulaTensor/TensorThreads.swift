// The one thread setting of the tensor layer (ThreadPolicy in Parallel.swift).

/// Sets the number of threads for tensor work (at least 1).
///
/// Tensor operations split independent pieces (the matrices one `dualize` orthogonalizes, the heads of a
/// batched product) and the halves of large products and elementwise maps between that many threads,
/// calling OpenBLAS on one thread meanwhile; LAPACK calls (SVD, eigendecomposition) run on one thread;
/// code calling OpenBLAS directly gets `n` OpenBLAS threads.
public func setTensorThreads(_ n: Int) { ThreadPolicy.setThreads(Swift.max(1, n)) }

/// The number of threads for tensor work (see ``setTensorThreads(_:)``); OpenBLAS's default count until set.
public func tensorThreads() -> Int { ThreadPolicy.threads }

/// Sets the number of threads for tensor work: renamed ``setTensorThreads(_:)``, as it sets more than BLAS.
@available(*, deprecated, renamed: "setTensorThreads(_:)")
public func setBLASThreads(_ n: Int) { setTensorThreads(n) }

/// The number of threads for tensor work: renamed ``tensorThreads()``.
@available(*, deprecated, renamed: "tensorThreads()")
public func blasThreads() -> Int { tensorThreads() }
