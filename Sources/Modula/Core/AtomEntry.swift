/// One atom of a module tree: where it sits and which weights of the tree's weight list it owns.
public struct AtomEntry: Sendable {
    /// The path hooks see for the atom: the nonempty labels from the root down, joined by dots.
    public let path: String
    /// The atom.
    public let atom: any MultiWeightAtom
    /// The positions of its weights in the tree's weight list (the order of ``Module/weightNames``).
    public let weights: Range<Int>
}

extension Module {
    /// The atoms of the tree in weight order, each with its path and the range of its weights.
    public var atomEntries: [AtomEntry] {
        var entries: [AtomEntry] = []
        var next = 0
        func walk(_ m: any Module, _ prefix: [String]) {
            if let a = m as? any MultiWeightAtom {
                let n = a.weightCount
                entries.append(AtomEntry(path: prefix.joined(separator: "."), atom: a, weights: next..<(next + n)))
                next += n
            } else if let wrapper = m as? any ForwardingModule {
                walk(wrapper.module, prefix)  // a wrapper adds no label of its own (its parent applies a Named's)
            } else {
                for (label, c) in m.children { walk(c, label.isEmpty ? prefix : prefix + [label]) }
            }
        }
        walk(self, [])
        return entries
    }

    /// Every weight with the atom that owns it, in weight order: `atoms[i]` is weight `i`'s name and atom (an atom
    /// with several weights appears once for each of them).
    public var atoms: [(name: String, atom: any MultiWeightAtom)] {
        Array(zip(weightNames, atomEntries.flatMap { e in e.weights.map { _ in e.atom } }))
    }

    /// The path that hooks see for the atom owning each weight, in the order of ``Module/weightNames`` (so
    /// `atomPaths[i]` is the path of the atom that owns weight i): the nonempty labels from the root down, joined by dots.
    public var atomPaths: [String] {
        atomEntries.flatMap { e in e.weights.map { _ in e.path } }
    }

    /// Each weight's fan-in and fan-out: a one-weight ``MatrixAtom``'s declared fans, the matrix view
    /// [first axis, the rest] of a weight of rank ≥ 2 of an atom with several weights, or (1, count) for a vector.
    var weightFans: [(fanIn: Int, fanOut: Int)] {
        atomEntries.flatMap { e -> [(fanIn: Int, fanOut: Int)] in
            if let a = e.atom as? any Atom { return [a.fans] }
            return e.atom.weightShapes.map { s in
                let count = s.reduce(1, *)
                return s.count >= 2 ? (count / Swift.max(s[0], 1), s[0]) : (1, count)
            }
        }
    }

    /// Each weight's atom norm of `tensors` (weights, steps or gradients, one per weight): for an atom with several
    /// weights, its norm of all of them together, repeated on each.
    func atomNorms<S: TensorScalar>(_ tensors: [Tensor<S>]) -> [S] {
        atomEntries.flatMap { e -> [S] in
            let n = e.atom.norm(weights: Array(tensors[e.weights]))
            return e.weights.map { _ in n }
        }
    }

    /// The dualize target each atom receives when the whole network is dualized to `targetNorm`:
    /// t·(μ_atom/μ)/Π(sensitivities downstream), found by dualizing and measuring each atom's norm
    /// of its share (so it reflects exactly what ``Module/dualize(_:targetNorm:)`` does). One entry per weight, in
    /// the order of ``Module/weightNames`` (the weights of one atom share its target).
    public func atomTargets(targetNorm: Double = 1, using rng: inout RandomGenerator) -> [(name: String, target: Double)] {
        let g = weightShapes.map { Tensor<Double>.randomNormal($0, using: &rng) }
        let d = dualize(g[...], targetNorm: targetNorm)
        return zip(weightNames, atomNorms(d)).map { ($0, $1) }
    }
}
