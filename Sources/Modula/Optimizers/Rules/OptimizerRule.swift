/// Where an atom sits in the network, for the parametrizations that scale by it [Yang, Simon & Bernstein 2023].
///
/// The input layer is the first atom on the data path (an embedding, the first Linear), the output layer the
/// last (the head), and every other atom is hidden. ``Module/roles(overrides:)`` derives them from the module tree.
public enum WeightRole: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case input, hidden, output
    public var description: String { rawValue }
}

/// A rule's memory for one weight: named tensors (`"exp_avg"`, `"left"`), saved in checkpoints as
/// `<weight>.<name>`. Empty before the first step.
public typealias RuleState<Scalar: TensorScalar> = [String: Tensor<Scalar>]

/// Everything an ``OptimizerRule`` may look at when it updates one weight.
public struct WeightContext: Sendable {
    /// The weight's stable name (`"blocks.0.attention.query.weight"`).
    public var name: String
    /// The atom that owns it.
    public var atom: any MultiWeightAtom
    /// Its role in the network.
    public var role: WeightRole
    /// Fan-in and fan-out: a matrix's columns and rows (a convolution's fan-in counts its kernel positions).
    public var fanIn: Int, fanOut: Int
    /// Steps taken before this one: 0 at the first step.
    public var step: Int
    /// This step's learning rate for this weight (schedule × group multiplier × parametrization multiplier).
    public var learningRate: Double
    /// Multiplies the rule's ε (μP scales it by 1/fan_out for Adam-type rules); 1 otherwise.
    public var epsilonScale: Double = 1
    /// Multiplies the rule's weight decay (μP scales it by fan_in for Adam-type rules); 1 otherwise.
    public var weightDecayScale: Double = 1
    /// What the rule's ``OptimizerRule/networkFactor(gradients:contexts:)`` returned for this step (1 by default).
    public var networkFactor: Double = 1

    /// A context for a weight of `atom`.
    public init(name: String, atom: any MultiWeightAtom, role: WeightRole, fanIn: Int, fanOut: Int, step: Int, learningRate: Double) {
        (self.name, self.atom, self.role, self.fanIn, self.fanOut, self.step, self.learningRate) =
            (name, atom, role, fanIn, fanOut, step, learningRate)
    }
}

/// One optimizer's update rule for one weight: the open end of ``Optimizer``.
///
/// A rule is a small value (its hyperparameters) with one method that moves a weight given its gradient and its
/// state. It sees the weight's atom, role, fan-in and fan-out through the ``WeightContext``, so rules that scale by
/// layer (Muon, μP) need no model-specific code. Rules that look at the whole network first (AGD's step size) return
/// a ``networkFactor(gradients:contexts:)``; rules that need curvature from an extra backward pass (Sophia) say so
/// with ``needsCurvature(atStep:)`` and receive it in ``observeCurvature(_:batchSize:state:)``.
///
/// ```swift
/// /// Sign descent: w ← w − η·sign(g).
/// struct SignDescent: OptimizerRule {
///     var name: String { "sign" }
///     func update<S: TensorScalar>(_ w: inout Tensor<S>, gradient g: Tensor<S>, state: inout RuleState<S>,
///                                  context: WeightContext) {
///         w.addScaled(g.sign(), by: S(-context.learningRate))
///     }
/// }
/// ```
public protocol OptimizerRule: Sendable {
    /// A short lowercase name, as the command line spells it (`"adamw"`, `"shampoo"`).
    var name: String { get }

    /// Moves `weight` by one step of the rule, reading `gradient` and updating `state` (weight decay included).
    func update<S: TensorScalar>(
        _ weight: inout Tensor<S>, gradient: Tensor<S>, state: inout RuleState<S>, context: WeightContext)

    /// A factor computed from every gradient of the rule's weights before any is updated, handed to each
    /// ``update(_:gradient:state:context:)`` as ``WeightContext/networkFactor``. 1 by default.
    func networkFactor<S: TensorScalar>(gradients: [Tensor<S>], contexts: [WeightContext]) -> Double

    /// Whether this step needs a curvature sample (Sophia's Gauss–Newton–Bartlett estimate). False by default.
    func needsCurvature(atStep step: Int) -> Bool

    /// Takes the gradient `sample` of the loss at labels sampled from the model, over a batch of `batchSize`.
    func observeCurvature<S: TensorScalar>(_ sample: Tensor<S>, batchSize: Int, state: inout RuleState<S>)

    /// Whether the rule wants each matrix atom's input activations and output gradients (K-FAC). False by default.
    var needsFactors: Bool { get }

    /// Takes the atom's inputs `input` [rows, fan_in] and the gradient of the loss at its outputs
    /// `outputGradient` [rows, fan_out] from this step's forward and backward pass (``kfacFactors(module:weights:loss:)``).
    func observeFactors<S: TensorScalar>(input: Tensor<S>, outputGradient: Tensor<S>, state: inout RuleState<S>)
}

extension OptimizerRule {
    public func networkFactor<S: TensorScalar>(gradients: [Tensor<S>], contexts: [WeightContext]) -> Double { 1 }
    public func needsCurvature(atStep step: Int) -> Bool { false }
    public func observeCurvature<S: TensorScalar>(_ sample: Tensor<S>, batchSize: Int, state: inout RuleState<S>) {}
    public var needsFactors: Bool { false }
    public func observeFactors<S: TensorScalar>(input: Tensor<S>, outputGradient: Tensor<S>, state: inout RuleState<S>) {}
}

extension Tensor {
    /// w ← (1 − η·λ)·w, decoupled weight decay [Loshchilov & Hutter 2019]; nothing when η·λ = 0.
    mutating func decay(rate: Double, weightDecay: Double) {
        let f = rate * weightDecay
        if f != 0 { scaleInPlace(by: Scalar(1 - f)) }
    }
}
