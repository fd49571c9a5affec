import ModulaTensor

/// Momentum applied to gradients before they are dualized.
public enum Momentum: Sendable, Codable, Equatable {
    /// The raw gradient.
    case none
    /// Exponential moving average d ← β·d + (1−β)·g, used as is.
    case ema(Double)
    /// Nesterov: d ← β·d + (1−β)·g, then u = β·d + (1−β)·g (Muon's form).
    case nesterov(Double)
}

/// How a dualized direction u becomes a step [Pethick et al. 2025, arXiv 2502.07529].
public enum StepRule: Sendable, Codable, Equatable {
    /// w ← w − η·u (unconstrained steepest descent under the norm; Modula's loop, uSCG).
    case unconstrained
    /// w ← (1 − η)·w − η·ρ·u (Frank–Wolfe / SCG: the weights stay in the ρ-ball; Scion's default).
    case constrained(radius: Double)
    /// w ← w − η·‖d‖†·u (true steepest descent, scaled by the dual norm of the momentum).
    case steepest
}

/// Which targets the atoms of a group receive when the group's gradient is dualized.
public enum DualizationLayout: Sendable, Codable, Equatable {
    /// One `dualize` of the whole network at target norm `t`: each atom gets t·(μ_atom/μ)/Π(downstream
    /// sensitivities), so learning rates transfer across width and depth [Large et al. 2024].
    case modular(targetNorm: Double)
    /// Each atom dualized alone at unit norm, times `scale` (the layer-wise layout of Muon and Scion).
    case perAtom(scale: Double)
}

/// The norm a group's atoms are dualized in.
public enum NormChoice: Sendable {
    /// Each atom's own declared norm and duality map.
    case atom
    /// A matrix norm from Scion's menu, with an orthogonalizer for the spectral ones.
    case matrix(MatrixNorm, orthogonalizer: any Orthogonalizer)
}

/// How the weights of one group are updated.
public enum UpdateRule: Sendable {
    /// Momentum, then dualize, then a step rule: the modular-norm optimizer (and Muon's and Scion's core).
    case dualized(momentum: Momentum, layout: DualizationLayout, norm: NormChoice, step: StepRule)
    /// AdamW [Loshchilov & Hutter 2019] in standard parametrization.
    case adamW(beta1: Double, beta2: Double, epsilon: Double)
    /// Adam's moment estimate m/(√v + ε), then normalized in the modular norm (Modula's earlier recipe).
    case adamThenDualize(beta1: Double, beta2: Double, epsilon: Double, layout: DualizationLayout)
    /// Stochastic gradient descent with (heavy-ball or Nesterov) momentum.
    case sgd(momentum: Double, nesterov: Bool)
    /// Any ``OptimizerRule``: AdamW, ADOPT, LAMB, Sophia, Shampoo, Muon, Fromage, LARS, AGD, SGD or a user's own.
    case rule(any OptimizerRule)
}
