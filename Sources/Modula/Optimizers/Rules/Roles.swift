/// An atom whose weight (or whose weights together) act as a matrix from `fanIn` inputs to `fanOut` outputs.
///
/// Parametrizations and presets select matrix-like weights through this protocol, not by concrete type, so a
/// user's own matrix atom is treated like ``Linear``. ``Linear``, ``Conv2D`` (fan-in counts the kernel positions),
/// ``Embed`` (a one-hot input of `vocabulary` entries) and ``LowRankLinear`` (whose factors are matrices of their
/// own shapes for per-weight scalings) adopt it.
public protocol MatrixAtom: MultiWeightAtom {
    /// Inputs per output: a matrix's columns.
    var fanIn: Int { get }
    /// Outputs: a matrix's rows.
    var fanOut: Int { get }
}

extension Linear: MatrixAtom {}

extension Conv2D: MatrixAtom {
    public var fanIn: Int { inChannels * kernelSize * kernelSize }
    public var fanOut: Int { outChannels }
}

extension Embed: MatrixAtom {
    public var fanIn: Int { vocabulary }
    public var fanOut: Int { dimension }
}

extension Module {
    /// Each weight's role, in ``Module/weightNames`` order [Yang, Simon & Bernstein 2023, "A Spectral Condition for
    /// Feature Learning"].
    ///
    /// Of the matrix-like atoms (``MatrixAtom``) in data-path order, the first is the input layer and the last the
    /// output layer (the head); the others are hidden. Weights of other atoms (biases, gains: vectors) are
    /// input-like, as in μP, where their fan-in is 1. A network with a single matrix atom calls it hidden. Entries
    /// of `overrides` (weight name → role) replace the derived role.
    /// The weights of an atom with several weights share the atom's role.
    public func roles(overrides: [String: WeightRole] = [:]) -> [WeightRole] {
        let entries = atomEntries, names = weightNames
        let matrices = entries.indices.filter { entries[$0].atom is any MatrixAtom }
        return entries.indices.flatMap { a in
            entries[a].weights.map { i in
                if let r = overrides[names[i]] { return r }
                guard entries[a].atom is any MatrixAtom else { return .input }
                if matrices.count < 2 { return .hidden }
                return a == matrices.first ? .input : a == matrices.last ? .output : .hidden
            }
        }
    }
}

extension Atom {
    /// Fan-in and fan-out of this atom's weight: a ``MatrixAtom``'s, or (1, count) for a vector-like weight.
    var fans: (fanIn: Int, fanOut: Int) {
        if let m = self as? any MatrixAtom { return (m.fanIn, m.fanOut) }
        return (1, weightShape.reduce(1, *))
    }
}

extension Module {
    /// The module tree as `print(module)` shows it, each atom's line ending in its role (and the roles of
    /// `overrides` in place of the derived ones).
    /// An atom with several weights shows the role of each (`role=input,input`).
    public func treeWithRoles(overrides: [String: WeightRole] = [:]) -> String {
        let roles = self.roles(overrides: overrides), entries = atomEntries
        var next = 0
        return description.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            // Atoms are the leaves that own weights: their lines name an atom type in the order of `atomEntries`.
            guard next < entries.count, line.contains(entries[next].atom.name) else { return String(line) }
            defer { next += 1 }
            return "\(line)  role=\(entries[next].weights.map { roles[$0].rawValue }.joined(separator: ","))"
        }.joined(separator: "\n")
    }
}
