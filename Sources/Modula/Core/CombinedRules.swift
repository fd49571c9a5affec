// The rules of [Large et al. 2024, §3] that composition (``Sequential``) and tuples (``Parallel``) share, written
// once: children's labels, the split of a flat weight list among children, the max-combination of scaled child
// norms, its dual (the sum of inversely scaled dual norms), and the matching split of the dualize target.

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
