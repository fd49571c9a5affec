/// A combinator over a list of modules whose weights it concatenates, and whose norm, dual norm and dualize follow
/// from one factor per module: composition (``Sequential``) and tuples (``Parallel``).
///
/// The rules they share are written here once [Large et al. 2024, §3]: the norm is the largest of the modules'
/// norms times their factors, the dual norm the sum of their dual norms divided by them, and module i's dualize
/// target t divided by its factor.
public protocol ListCombinator: Module {
    /// The modules, in the order of their weights.
    var modules: [any Module] { get }
    /// The number of weight tensors of each module (kept, so that splitting a weight list costs no tree walk).
    var weightCounts: [Int] { get }
    /// The factor on each module's norm in the combined norm (0 for a module of mass 0).
    var scales: [Double] { get }
    /// The combinator of `modules`, in order.
    init(_ modules: [any Module])
}

extension ListCombinator {
    /// The combinator of the modules written as a list (``ModuleBuilder``), in order.
    public init(@ModuleBuilder _ content: () -> [any Module]) { self.init(content()) }
    public var children: [(label: String, module: any Module)] { labelled(modules) }

    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> [Tensor<S>] {
        var out: [Tensor<S>] = []
        for m in modules { out += m.initialize(using: &rng) as [Tensor<S>] }
        return out
    }
    public func project<S: TensorScalar>(_ weights: ArraySlice<Tensor<S>>) -> [Tensor<S>] {
        zip(modules, split(weights, weightCounts, name)).flatMap { $0.project($1) }
    }
    public func norm<S: TensorScalar>(_ weights: ArraySlice<Tensor<S>>) -> S {
        combinedNorm(modules, split(weights, weightCounts, name), scales)
    }
    public func dualNorm<S: TensorScalar>(_ gradient: ArraySlice<Tensor<S>>) -> S {
        combinedDualNorm(modules, split(gradient, weightCounts, name), scales)
    }
    public func dualize<S: TensorScalar>(_ gradient: ArraySlice<Tensor<S>>, targetNorm: S) -> [Tensor<S>] {
        combinedDualize(modules, split(gradient, weightCounts, name), scales, targetNorm)
    }
}

/// Labels for children: a child's own label when it has one, otherwise its position.
func labelled(_ modules: [any Module]) -> [(label: String, module: any Module)] {
    modules.enumerated().map { ($0.element.label ?? "\($0.offset)", $0.element) }
}

/// Splits a flat weight list into consecutive pieces of the given lengths.
@inlinable
func split<T>(_ list: ArraySlice<T>, _ counts: [Int], _ owner: @autoclosure () -> String) -> [ArraySlice<T>] {
    require(list.count == counts.reduce(0, +),
            "\(owner()): expected \(counts.reduce(0, +)) weight or gradient tensors, got \(list.count)")
    var start = list.startIndex
    return counts.map { n in
        defer { start += n }
        return list[start..<(start + n)]
    }
}

func combinedNorm<S: TensorScalar>(_ modules: [any Module], _ w: [ArraySlice<Tensor<S>>], _ scales: [Double]) -> S {
    var best = S(0)
    for i in modules.indices where scales[i] > 0 {
        let v = S(scales[i]) * modules[i].norm(w[i])
        best = v > best || v.isNaN ? v : best  // Swift.max would drop a NaN norm
    }
    return best
}

func combinedDualNorm<S: TensorScalar>(_ modules: [any Module], _ g: [ArraySlice<Tensor<S>>], _ scales: [Double]) -> S {
    var total = S(0)
    for i in modules.indices where scales[i] > 0 { total += modules[i].dualNorm(g[i]) / S(scales[i]) }
    return total
}

func combinedDualize<S: TensorScalar>(
    _ modules: [any Module], _ g: [ArraySlice<Tensor<S>>], _ scales: [Double], _ t: S
) -> [Tensor<S>] {
    func child(_ i: Int) -> [Tensor<S>] {
        if scales[i] > 0 && scales[i].isFinite && t != 0 {
            return modules[i].dualize(g[i], targetNorm: t / S(scales[i]))
        } else {
            return g[i].map { Tensor.zeros($0.shape) }
        }
    }
    return ChildDualization.run(sizes: g.map { $0.reduce(0) { $0 + $1.count } }, child)
}

/// ``combinedDualize(_:_:_:_:)`` written back into `g[range]`, each module dualizing its own part in place
/// (small ones in parallel, each on a list of its own tensors taken out of `g`).
func combinedDualizeInPlace<S: TensorScalar>(
    _ modules: [any Module], _ g: inout [Tensor<S>], _ range: Range<Int>, _ counts: [Int], _ scales: [Double], _ t: S,
    _ owner: @autoclosure () -> String
) {
    require(range.count == counts.reduce(0, +),
            "\(owner()): expected \(counts.reduce(0, +)) weight or gradient tensors, got \(range.count)")
    var starts = [range.lowerBound]
    for n in counts { starts.append(starts[starts.count - 1] + n) }
    func part(_ i: Int) -> Range<Int> { starts[i]..<starts[i + 1] }
    func active(_ i: Int) -> Bool { scales[i] > 0 && scales[i].isFinite && t != 0 }
    let sizes = modules.indices.map { i in part(i).reduce(0) { $0 + g[$1].count } }
    if ChildDualization.inOrder(sizes: sizes) {
        for i in modules.indices {
            if active(i) {
                modules[i].dualizeInPlace(&g, part(i), targetNorm: t / S(scales[i]))
            } else {
                for k in part(i) { g[k] = .zeros(g[k].shape) }
            }
        }
        return
    }
    var lists = [[Tensor<S>]](repeating: [], count: modules.count)
    for i in modules.indices {
        lists[i].reserveCapacity(counts[i])
        for k in part(i) { lists[i].append(g[k].take()) }
    }
    lists.withUnsafeMutableBufferPointer { buffer in
        let base = buffer.baseAddress!
        parallelForEach(modules.count) { i in  // each task touches only its own list
            if active(i) {
                modules[i].dualizeInPlace(&base[i], 0..<counts[i], targetNorm: t / S(scales[i]))
            } else {
                for k in base[i].indices { base[i][k] = .zeros(base[i][k].shape) }
            }
        }
    }
    for i in modules.indices {
        for (k, j) in zip(part(i), lists[i].indices) { g[k] = lists[i][j].take() }
    }
}
