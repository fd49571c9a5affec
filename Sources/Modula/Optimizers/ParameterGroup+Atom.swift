extension ParameterGroup {
    /// A group whose selector takes a one-weight ``Atom`` (written before atoms could own several weights): weights
    /// of a ``MultiWeightAtom`` that is not an ``Atom`` are never selected by it.
    @available(*, deprecated, message: "select with (String, any MultiWeightAtom) -> Bool, which also sees atoms with several weights")
    @_disfavoredOverload
    public init(
        _ label: String, selects: @escaping @Sendable (String, any Atom) -> Bool,
        rule: UpdateRule, learningRate: Schedule, weightDecay: Double = 0, learningRateMultiplier: Double = 1
    ) {
        self.init(label, selects: { name, atom in (atom as? any Atom).map { selects(name, $0) } ?? false },
                  rule: rule, learningRate: learningRate, weightDecay: weightDecay,
                  learningRateMultiplier: learningRateMultiplier)
    }
}
