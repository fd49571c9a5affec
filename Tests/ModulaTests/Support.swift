import Testing
@testable import Modula

/// Relative difference of two numbers.
func relativeError(_ a: Double, _ b: Double) -> Double {
    Swift.abs(a - b) / Swift.max(Swift.abs(a), Swift.abs(b), 1e-300)
}

/// Relative Frobenius distance between two lists of tensors.
func relativeError(_ a: [Tensor<Double>], _ b: [Tensor<Double>]) -> Double {
    var diff = 0.0, scale = 0.0
    for (x, y) in zip(a, b) {
        diff += (x - y).squaredNormValue
        scale = Swift.max(scale, x.squaredNormValue, y.squaredNormValue)
    }
    return (diff / Swift.max(scale, 1e-300)).squareRoot()
}

func inner(_ a: [Tensor<Double>], _ b: [Tensor<Double>]) -> Double {
    zip(a, b).reduce(0) { $0 + $1.0.dotValue($1.1) }
}

func randomLike(_ shapes: [[Int]], _ rng: inout RandomGenerator) -> [Tensor<Double>] {
    shapes.map { Tensor<Double>.randomNormal($0, using: &rng) }
}

/// A random network of width `d` (input and output `[batch, d]`) together with its mass and
/// sensitivity computed independently from the propagation rules [Large et al. 2024, §3].
struct RandomNetwork {
    var module: any Module
    var mass: Double
    var sensitivity: Double
}

///
/// With `lowRank`, a fifth of the draws (taken before any other) are ``LowRankLinear`` atoms; without it, the draws
/// are those the tests were written with.
func randomNetwork(width d: Int, depth: Int, lowRank: Bool = false, _ rng: inout RandomGenerator) -> RandomNetwork {
    if lowRank && rng.nextInt(below: 5) == 0 {
        let m = Double(1 + rng.nextInt(below: 2)), r = 1 + rng.nextInt(below: d)
        return RandomNetwork(module: LowRankLinear(in: d, out: d, rank: r, orthogonalizer: exact, mass: m), mass: m, sensitivity: 1)
    }
    let choice = depth <= 0 ? rng.nextInt(below: 3) : rng.nextInt(below: 8)
    switch choice {
    case 0:
        let m = Double(1 + rng.nextInt(below: 3))
        return RandomNetwork(module: Linear(in: d, out: d, orthogonalizer: exact, mass: m), mass: m, sensitivity: 1)
    case 1:
        return RandomNetwork(module: ReLU(), mass: 0, sensitivity: 1)
    case 2:
        let norms: [MatrixNorm] = [.spectral, .columnNorm, .rowNorm, .sign, .spectralMax]
        let n = norms[rng.nextInt(below: norms.count)]
        return RandomNetwork(module: Linear(in: d, out: d, norm: n, orthogonalizer: exact), mass: 1, sensitivity: 1)
    case 3:  // composition
        let a = randomNetwork(width: d, depth: depth - 1, lowRank: lowRank, &rng), b = randomNetwork(width: d, depth: depth - 1, lowRank: lowRank, &rng)
        return RandomNetwork(module: a.module.then(b.module), mass: a.mass + b.mass, sensitivity: a.sensitivity * b.sensitivity)
    case 4:  // sum
        let a = randomNetwork(width: d, depth: depth - 1, lowRank: lowRank, &rng), b = randomNetwork(width: d, depth: depth - 1, lowRank: lowRank, &rng)
        return RandomNetwork(module: a.module + b.module, mass: a.mass + b.mass, sensitivity: a.sensitivity + b.sensitivity)
    case 5:  // scalar multiple
        let a = randomNetwork(width: d, depth: depth - 1, lowRank: lowRank, &rng)
        let c = (rng.nextUnitDouble() * 2 - 1) * 2
        let s = c == 0 ? 0.5 : c
        return RandomNetwork(module: s * a.module, mass: a.mass, sensitivity: Swift.abs(s) * a.sensitivity)
    case 6:  // tare
        let a = randomNetwork(width: d, depth: depth - 1, lowRank: lowRank, &rng)
        if a.mass == 0 { return a }
        let m = 0.5 + rng.nextUnitDouble() * 3
        return RandomNetwork(module: a.module.tared(m), mass: m, sensitivity: a.sensitivity)
    default:  // tuple then Add, written explicitly
        let a = randomNetwork(width: d, depth: depth - 1, lowRank: lowRank, &rng), b = randomNetwork(width: d, depth: depth - 1, lowRank: lowRank, &rng)
        let c = randomNetwork(width: d, depth: depth - 1, lowRank: lowRank, &rng)
        return RandomNetwork(
            module: Parallel([a.module, b.module, c.module]).then(Add()),
            mass: a.mass + b.mass + c.mass, sensitivity: a.sensitivity + b.sensitivity + c.sensitivity)
    }
}

/// Networks with at least one weight.
func randomWeightedNetwork(width: Int, depth: Int, lowRank: Bool = false, _ rng: inout RandomGenerator) -> RandomNetwork {
    while true {
        let n = randomNetwork(width: width, depth: depth, lowRank: lowRank, &rng)
        if n.mass > 0 { return n }
    }
}

/// Relative error between the tape's gradient and central finite differences of
/// `sum(R ⊙ f(inputs))` with respect to every element of every input listed in `vary`.
func gradientCheck(
    _ inputs: [Tensor<Double>], vary: Set<Int>? = nil, step: Double = 1e-6,
    _ f: ([Tensor<Double>]) throws -> [Tensor<Double>]
) throws -> Double {
    var rng = RandomGenerator(seed: 99)
    let probe = try f(inputs)
    let r = probe.map { Tensor<Double>.randomNormal($0.shape, using: &rng) }
    func loss(_ xs: [Tensor<Double>]) throws -> Tensor<Double> {
        try zip(f(xs), r).map { ($0 * $1).sum() }.reduce(Tensor(0.0), +)
    }
    let (_, grads) = try valueWithGradient(at: inputs, of: loss)
    var diff = 0.0, scale = 0.0
    for i in inputs.indices where vary?.contains(i) ?? true {
        var x = inputs
        for k in 0..<inputs[i].count {
            let v = inputs[i].scalars[k]
            x[i] = inputs[i]; x[i].withUnsafeMutableBufferPointer { $0[k] = v + step }
            let plus = try loss(x).scalar
            x[i] = inputs[i]; x[i].withUnsafeMutableBufferPointer { $0[k] = v - step }
            let minus = try loss(x).scalar
            let fd = (plus - minus) / (2 * step)
            let ad = grads[i].scalars[k]
            diff += (fd - ad) * (fd - ad)
            scale += ad * ad
        }
    }
    return (diff / Swift.max(scale, 1e-30)).squareRoot()
}

/// The exact polar factor, for tests that need dualize to be exact.
let exact = SVDOrthogonalizer()
