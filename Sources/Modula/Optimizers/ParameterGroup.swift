import ModulaTensor

/// A set of weights that share an update rule, a learning-rate schedule and weight decay.
public struct ParameterGroup: Sendable {
    /// A label for reports.
    public var label: String
    /// Whether the weight with this name, owned by this atom, belongs to the group.
    public var selects: @Sendable (_ name: String, _ atom: any MultiWeightAtom) -> Bool
    /// How the group's weights are updated.
    public var rule: UpdateRule
    /// The learning-rate schedule η(step).
    public var learningRate: Schedule
    /// Decoupled weight decay λ: w ← (1 − η·λ)·w before the step.
    public var weightDecay: Double
    /// Multiplies this group's learning rate (per-group rates on a shared schedule).
    public var learningRateMultiplier: Double

    /// A group named `label` of the weights `selects` accepts (all by default).
    public init(
        _ label: String, selects: @escaping @Sendable (String, any MultiWeightAtom) -> Bool = { _, _ in true },
        rule: UpdateRule, learningRate: Schedule, weightDecay: Double = 0, learningRateMultiplier: Double = 1
    ) {
        self.label = label
        self.selects = selects
        self.rule = rule
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.learningRateMultiplier = learningRateMultiplier
    }
}
