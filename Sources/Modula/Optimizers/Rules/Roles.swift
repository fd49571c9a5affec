/// An atom whose weight acts as a matrix from `fanIn` inputs to `fanOut` outputs.
///
/// Parametrizations and presets select matrix-like weights through this protocol, not by concrete type, so a
/// user's own matrix atom is treated like ``Linear``. ``Linear``, ``Conv2D`` (fan-in counts the kernel positions)
/// and ``Embed`` (a one-hot input of `vocabulary` entries) adopt it.
public protocol MatrixAtom: Atom {
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
    public func roles(overrides: [String: WeightRole] = [:]) -> [WeightRole] {
        let list = atoms
        let matrices = list.indices.filter { list[$0].atom is any MatrixAtom }
        return list.indices.map { i in
            if let r = overrides[list[i].name] { return r }
            guard list[i].atom is any MatrixAtom else { return .input }
            if matrices.count < 2 { return .hidden }
            return i == matrices.first ? .input : i == matrices.last ? .output : .hidden
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
    public func treeWithRoles(overrides: [String: WeightRole] = [:]) -> String {
        let roles = self.roles(overrides: overrides)
        var next = 0
        return description.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            // Atoms are the leaves that own weights: their lines name an atom type in the order of `atoms`.
            guard next < roles.count, line.contains(atoms[next].atom.name) else { return String(line) }
            defer { next += 1 }
            return "\(line)  role=\(roles[next])"
        }.joined(separator: "\n")
    }
}
