// The published optimizers as configurations of the one ``Optimizer``.

extension Optimizer {
    /// Modula's training loop: momentum, then one `dualize` of the whole network, then
    /// w ← w − η·u [Large et al. 2024; the hello-world and hello-GPT notebooks].
    ///
    /// - Parameters:
    ///   - module: the network whose weights are trained.
    ///   - learningRate: the schedule η(step).
    ///   - momentum: `.none` for hello-world, `.ema(0.95)` for hello-GPT.
    ///   - targetNorm: the modular norm of each update before the learning rate.
    ///   - weightDecay: decoupled weight decay λ: w ← (1 − η·λ)·w before each step.
    public static func modular(
        module: any Module, learningRate: Schedule, momentum: Momentum = .none, targetNorm: Double = 1,
        weightDecay: Double = 0
    ) throws -> Optimizer {
        try Optimizer(module: module, groups: [
            ParameterGroup(
                "modular", rule: .dualized(momentum: momentum, layout: .modular(targetNorm: targetNorm), norm: .atom, step: .unconstrained),
                learningRate: learningRate, weightDecay: weightDecay),
        ])
    }

    /// Muon [Jordan et al. 2024]: hidden matrices get Nesterov momentum, Newton–Schulz
    /// orthogonalization and the scale max(1, rows/cols)^½; the input and output layers (the embedding or first
    /// layer, and the head), biases and gains get AdamW, as Muon's authors advise.
    ///
    /// This is the per-atom layout with the `spectralMax` norm of ``MatrixNorm``, whose duality map is
    /// exactly max(1, √(out/in))·UVᵀ. Roles come from ``Module/roles(overrides:)``: the Muon group is every
    /// hidden ``MatrixAtom`` (a user's own matrix atom included). `head` names the output layer when it is not the
    /// last matrix atom; `roles` overrides any weight's role (make the first layer `.hidden` to give it to Muon).
    /// ``Conv2D`` kernels get their own per-position duality map (Muon proper reshapes them to one matrix).
    public static func muon(
        module: any Module, head: String? = nil, learningRate: Schedule = .constant(0.02), momentum: Double = 0.95,
        weightDecay: Double = 0, orthogonalizer: any Orthogonalizer = MuonNewtonSchulz(),
        adamLearningRate: Schedule = .constant(3e-4), adamBetas: (Double, Double) = (0.9, 0.95),
        adamEpsilon: Double = 1e-8, adamWeightDecay: Double = 0, roles overrides: [String: WeightRole] = [:]
    ) throws -> Optimizer {
        var overrides = overrides
        if let head { overrides[head] = .output }
        let hidden = Set(zip(module.weightNames, module.roles(overrides: overrides)).filter { $0.1 == .hidden }.map(\.0))
        return try Optimizer(module: module, groups: [
            ParameterGroup(
                "muon", selects: { name, atom in hidden.contains(name) && atom is any MatrixAtom && !(atom is Embed) },
                rule: .dualized(
                    momentum: .nesterov(momentum), layout: .perAtom(scale: 1),
                    norm: .matrix(.spectralMax, orthogonalizer: orthogonalizer), step: .unconstrained),
                learningRate: learningRate, weightDecay: weightDecay),
            ParameterGroup(
                "adamw", rule: .adamW(beta1: adamBetas.0, beta2: adamBetas.1, epsilon: adamEpsilon),
                learningRate: adamLearningRate, weightDecay: adamWeightDecay),
        ], roles: overrides)
    }

    /// Scion [Pethick et al. 2025]: EMA momentum d ← (1−α)·d + α·g, a linear minimization oracle per
    /// layer — spectral for hidden matrices, sign for the head, the embedding's own norm (each
    /// embedding vector scaled to √d, Scion's transposed ColNorm) — and radii per layer group.
    ///
    /// Constrained (SCG): w ← (1 − η)·w − η·ρ·u; unconstrained (uSCG): w ← w − η·ρ·u. The head is
    /// the last ``Linear`` atom unless `head` names another weight.
    public static func scion(
        module: any Module, head: String? = nil, learningRate: Schedule, alpha: Double = 0.1, constrained: Bool = true,
        hiddenRadius: Double = 50, headRadius: Double = 3000, embedRadius: Double? = nil,
        orthogonalizer: any Orthogonalizer = MuonNewtonSchulz()
    ) throws -> Optimizer {
        let head = head ?? defaultHead(module)
        func group(_ label: String, _ norm: NormChoice, _ radius: Double,
                   _ selects: @escaping @Sendable (String, any MultiWeightAtom) -> Bool) -> ParameterGroup {
            ParameterGroup(
                label, selects: selects,
                rule: .dualized(
                    momentum: .ema(1 - alpha), layout: .perAtom(scale: constrained ? 1 : radius), norm: norm,
                    step: constrained ? .constrained(radius: radius) : .unconstrained),
                learningRate: learningRate)
        }
        return try Optimizer(module: module, groups: [
            group("head", .matrix(.sign, orthogonalizer: orthogonalizer), headRadius) { name, _ in name == head },
            group("embed", .atom, embedRadius ?? hiddenRadius) { _, atom in atom is Embed },
            group("hidden", .matrix(.spectral, orthogonalizer: orthogonalizer), hiddenRadius) { _, _ in true },
        ])
    }

    /// The name of the last ``Linear`` weight: the output layer of the usual networks.
    static func defaultHead(_ module: any Module) -> String {
        module.atoms.last { $0.atom is Linear }?.name ?? module.weightNames.last ?? ""
    }

    /// AdamW in standard parametrization (every weight, one learning rate).
    public static func adamW(
        module: any Module, learningRate: Schedule, betas: (Double, Double) = (0.9, 0.999),
        epsilon: Double = 1e-8, weightDecay: Double = 0
    ) throws -> Optimizer {
        try Optimizer(module: module, groups: [
            ParameterGroup("adamw", rule: .adamW(beta1: betas.0, beta2: betas.1, epsilon: epsilon),
                           learningRate: learningRate, weightDecay: weightDecay),
        ])
    }

    /// SGD with momentum in standard parametrization.
    public static func sgd(
        module: any Module, learningRate: Schedule, momentum: Double = 0, nesterov: Bool = false, weightDecay: Double = 0
    ) throws -> Optimizer {
        try Optimizer(module: module, groups: [
            ParameterGroup("sgd", rule: .sgd(momentum: momentum, nesterov: nesterov),
                           learningRate: learningRate, weightDecay: weightDecay),
        ])
    }

    /// Modula's earlier recipe: Adam's moment estimate, normalized in the modular norm, with decoupled decay.
    public static func adamThenDualize(
        module: any Module, learningRate: Schedule, betas: (Double, Double) = (0.9, 0.99), epsilon: Double = 1e-8,
        weightDecay: Double = 0, targetNorm: Double = 1
    ) throws -> Optimizer {
        try Optimizer(module: module, groups: [
            ParameterGroup(
                "adam-modular",
                rule: .adamThenDualize(beta1: betas.0, beta2: betas.1, epsilon: epsilon, layout: .modular(targetNorm: targetNorm)),
                learningRate: learningRate, weightDecay: weightDecay),
        ])
    }
}
