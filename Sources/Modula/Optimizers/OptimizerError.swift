import ModulaTensor

/// What an optimizer step does when its inputs, loss, gradients or update hold NaN or infinity.
public enum NonFinitePolicy: Sendable, Equatable {
    /// Throw ``OptimizerError/nonFinite(step:source:)``: training stops.
    case stop
    /// Leave the weights and the state unchanged, count the step in ``Optimizer/skippedSteps``, go on.
    case skip
}

/// Where an optimizer step first met NaN or infinity.
public enum NonFiniteSource: Sendable, Equatable, CustomStringConvertible {
    /// The input batch passed to ``Optimizer/update(_:gradients:loss:inputs:curvature:curvatureBatchSize:factors:)``.
    case inputBatch
    /// The loss passed to ``Optimizer/update(_:gradients:loss:inputs:curvature:curvatureBatchSize:factors:)``.
    case loss
    /// A weight, before the step.
    case weight(String)
    /// The gradient of a weight.
    case gradient(weight: String)
    /// The update of a weight (its dualized or Adam direction).
    case update(weight: String)

    public var description: String {
        switch self {
        case .inputBatch: return "the input batch"
        case .loss: return "the loss"
        case .weight(let w): return "weight \(w)"
        case .gradient(let w): return "the gradient of \(w)"
        case .update(let w): return "the update of \(w)"
        }
    }
}

/// Problems an optimizer step refuses to take.
public enum OptimizerError: Error, CustomStringConvertible, Equatable {
    /// No parameter group selects this weight.
    case unassigned(weight: String)
    /// The weight or gradient list has the wrong length.
    case wrongCount(expected: Int, weights: Int, gradients: Int)
    /// A weight or its gradient has the wrong shape.
    case wrongShape(weight: String, expected: [Int], actual: [Int], gradient: [Int])
    /// NaN or infinity at step `step` (counting skipped steps), first seen in `source`; no weight was changed.
    case nonFinite(step: Int, source: NonFiniteSource)
    /// A group's learning rate is NaN, infinite or negative at `step`.
    case invalidLearningRate(group: String, step: Int, rate: Double)
    /// The ``Optimizer/state`` does not fit the module's weights (`weight` is `nil` for a wrong count).
    case stateMismatch(weight: String?, reason: String)
    /// A group's configuration cannot be honoured.
    case unsupported(group: String, reason: String)
    /// A rule needs a curvature sample at this step and none (or one of the wrong length) was passed.
    case needsCurvature(group: String, rule: String, step: Int)
    /// A rule needs layer factors (inputs and output gradients) and none (or a list of the wrong length) was passed.
    case needsFactors(group: String, rule: String, step: Int)

    public var description: String {
        switch self {
        case .unassigned(let w): return "optimizer: weight \(w) belongs to no parameter group"
        case .wrongCount(let e, let w, let g): return "optimizer: expected \(e) weights and gradients, got \(w) weights and \(g) gradients"
        case .wrongShape(let name, let e, let w, let g):
            return "optimizer: weight \(name) expects shape \(e), got weight \(w) and gradient \(g)"
        case .nonFinite(let step, let source):
            return "optimizer: step \(step): \(source) contains NaN or infinity; no step was taken"
        case .invalidLearningRate(let g, let step, let r):
            return "optimizer: group \(g): the learning rate at step \(step) is \(r); it must be finite and ≥ 0"
        case .stateMismatch(let w, let r):
            return "optimizer: the state does not fit the module: " + (w.map { "weight \($0): " } ?? "") + r
        case .unsupported(let g, let r): return "optimizer: group \(g): \(r)"
        case .needsCurvature(let g, let r, let t):
            return "optimizer: group \(g) (\(r)) needs a curvature sample at step \(t): pass update(…, curvature: sophiaCurvatureGradients(…)) whenever needsCurvature is true"
        case .needsFactors(let g, let r, let t):
            return "optimizer: group \(g) (\(r)) needs layer factors at step \(t): compute the step with kfacFactors(module:weights:loss:) and pass update(…, factors:)"
        }
    }
}
