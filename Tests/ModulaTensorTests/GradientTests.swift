import Testing
@testable import ModulaTensor

/// Reverse-mode gradients of every differentiable operation against central finite differences (Double).
@Suite("Gradients: every op against finite differences")
struct GradientTests {
    typealias T = Tensor<Double>

    // MARK: Binary arithmetic

    static let broadcastPairs: [([Int], [Int])] = [
        ([2, 3], [2, 3]), ([2, 3], [3]), ([3], [2, 3]), ([2, 1, 4], [3, 1]), ([2, 3], [2, 1]),
        ([1, 3], [2, 1]), ([], [2, 3]), ([2, 3], []), ([], []),
    ]

    @Test("+ − × ÷ and maximum, tensor–tensor", arguments: 0..<broadcastPairs.count)
    func binary(_ i: Int) {
        let (sa, sb) = Self.broadcastPairs[i]
        let a = randn(sa, seed: 1, awayFromZero: 0.3, as: Double.self)
        let b = randn(sb, seed: 2, awayFromZero: 0.3, as: Double.self)
        expectGradient(at: [a, b]) { $0[0] + $0[1] }
        expectGradient(at: [a, b]) { $0[0] - $0[1] }
        expectGradient(at: [a, b]) { $0[0] * $0[1] }
        expectGradient(at: [a, b]) { $0[0] / $0[1] }
        // Keep maximum away from ties: shift b so no pair is within 0.1.
        let b2 = b + 0.05
        let gap = naiveBroadcast(a, b2) { Swift.abs($0 - $1) }.scalars.min() ?? 1
        if gap > 1e-3 { expectGradient(at: [a, b2]) { maximum($0[0], $0[1]) } }
    }

    @Test func tensorScalarBothSides() {
        let a = randn([2, 3], seed: 3, awayFromZero: 0.3, as: Double.self)
        expectGradient(at: [a]) { $0[0] + 1.5 }
        expectGradient(at: [a]) { 1.5 + $0[0] }
        expectGradient(at: [a]) { $0[0] - 1.5 }
        expectGradient(at: [a]) { 1.5 - $0[0] }
        expectGradient(at: [a]) { $0[0] * -2.5 }
        expectGradient(at: [a]) { -2.5 * $0[0] }
        expectGradient(at: [a]) { $0[0] / 3 }
        expectGradient(at: [a]) { 3 / $0[0] }
    }

    @Test func sameInputBothOperands() {
        let a = randn([3, 2], seed: 4, awayFromZero: 0.3, as: Double.self)
        expectGradient(at: [a]) { $0[0] * $0[0] }
        expectGradient(at: [a]) { $0[0] / ($0[0] * $0[0] + 1) }
        expectGradient(at: [a]) { $0[0] - $0[0].sum(alongAxes: [0]) }
    }

    // MARK: Unary maps

    @Test func unary() {
        let x = randn([3, 4], seed: 5, awayFromZero: 0.2, as: Double.self)
        let pos = randu([3, 4], seed: 6, 0.3, 2.5)
        expectGradient(at: [x]) { -$0[0] }
        expectGradient(at: [x]) { $0[0].exp() }
        expectGradient(at: [pos]) { $0[0].log() }
        expectGradient(at: [x]) { $0[0].tanh() }
        expectGradient(at: [pos]) { $0[0].sqrt() }
        expectGradient(at: [x]) { $0[0].abs() }
        expectGradient(at: [x]) { $0[0].relu() }
        expectGradient(at: [x]) { $0[0].squared() }
        expectGradient(at: [x]) { $0[0].reciprocal() }
        expectGradient(at: [x]) { $0[0].sigmoid() }
        expectGradient(at: [x * 2]) { $0[0].gelu() }
        expectGradient(at: [pos]) { $0[0].pow(2.5) }
        expectGradient(at: [pos]) { $0[0].pow(-0.5) }
        expectGradient(at: [x]) { $0[0].pow(3) }
        // clamp bounds away from every element
        let xs = x.scalars
        let lo = -0.75, hi = 0.85
        #expect(xs.allSatisfy { Swift.abs($0 - lo) > 1e-3 && Swift.abs($0 - hi) > 1e-3 })
        #expect(xs.contains { $0 < lo } && xs.contains { $0 > hi } && xs.contains { $0 > lo && $0 < hi })
        expectGradient(at: [x]) { $0[0].clamped(lo, hi) }
    }

    @Test func kinksFollowTheDocumentedConvention() {
        // maximum: ties send the cotangent to the first operand.
        let (_, g) = valueWithGradient(at: T([1, 2, 3]), T([1, 5, 0])) { maximum($0, $1).sum() }
        #expect(g.0.scalars == [1, 0, 1] && g.1.scalars == [0, 1, 0])
        // clamped: derivative 1 inside and on the bounds, 0 outside.
        let (_, gc) = valueWithGradient(at: T([-2, -1, 0, 1, 2])) { $0.clamped(-1, 1).sum() }
        #expect(gc.scalars == [0, 1, 1, 1, 0])
        // relu and abs: subgradient 0 at 0.
        let (_, gr) = valueWithGradient(at: T([-1, 0, 1])) { $0.relu().sum() + $0.abs().sum() }
        #expect(gr.scalars == [-1, 0, 2])
    }

    @Test func signHasZeroGradient() {
        let x = randn([4], seed: 5, awayFromZero: 0.2, as: Double.self)
        let (_, g) = valueWithGradient(at: x) { ($0.sign() * $0).sum() }
        #expect(g.scalars == x.sign().scalars)  // only the product's second factor contributes
    }

    // MARK: Reductions

    @Test func reductions() {
        let x = randn([2, 3, 4], seed: 7, as: Double.self)
        expectGradient(at: [x]) { $0[0].sum() }
        expectGradient(at: [x]) { $0[0].mean() }
        for axes in [[0], [1], [2], [-1], [0, 2], [1, 2], [0, 1, 2]] {
            for keep in [false, true] {
                expectGradient(at: [x]) { $0[0].sum(alongAxes: axes, keepingDimensions: keep) }
                expectGradient(at: [x]) { $0[0].mean(alongAxes: axes, keepingDimensions: keep) }
                expectGradient(at: [x]) { $0[0].max(alongAxes: axes, keepingDimensions: keep) }  // no ties in normals
                expectGradient(at: [x]) { $0[0].logSumExp(alongAxes: axes, keepingDimensions: keep) }
            }
        }
        expectGradient(at: [x]) { $0[0].sum(alongAxis: 1) }
        expectGradient(at: [x]) { $0[0].mean(alongAxis: -1, keepingDimensions: true) }
        expectGradient(at: [x]) { $0[0].max(alongAxis: 0) }
        expectGradient(at: [x]) { $0[0].logSumExp(alongAxis: 2) }
    }

    // MARK: Shape operations

    @Test func shapeOps() {
        let x = randn([2, 3, 4], seed: 8, as: Double.self)
        expectGradient(at: [x]) { $0[0].reshaped([4, -1]) }
        expectGradient(at: [x]) { $0[0].permuted([2, 0, 1]) }
        expectGradient(at: [x]) { $0[0].permuted([1, 2, 0]) }
        expectGradient(at: [x]) { $0[0].transposed() }
        expectGradient(at: [x.reshaped([6, 4])]) { $0[0].transposed() }
        expectGradient(at: [x]) { $0[0].slice(axis: 1, 1..<3) }
        expectGradient(at: [x]) { $0[0].slice(axis: 0, 0..<1) }
        expectGradient(at: [x]) { $0[0].slice(axis: -1, 1..<4) }
        let y = randn([2, 2, 4], seed: 9, as: Double.self), z = randn([2, 1, 4], seed: 10, as: Double.self)
        expectGradient(at: [x, y, z]) { T.concatenate($0, alongAxis: 1) }
        expectGradient(at: [x, x * 2]) { T.concatenate($0, alongAxis: -1) }
        expectGradient(at: [x, x]) { T.concatenate($0, alongAxis: 0) }
        let table = randn([5, 3], seed: 11, as: Double.self)
        expectGradient(at: [table]) { $0[0].gather([4, 1, 1, 0, 4, 4]) }
        expectGradient(at: [table]) { $0[0].gather([2, 2, 3, 0], indexShape: [2, 2]) }
        let rows = randn([6, 3], seed: 12, as: Double.self)
        expectGradient(at: [rows]) { $0[0].scatterAdding([4, 1, 1, 0, 4, 4], into: [5, 3]) }
        expectGradient(at: [rows.reshaped([2, 3, 3])]) { $0[0].scatterAdding([2, 2, 0, 1, 1, 1], into: [3, 3]) }
    }

    // MARK: Matmul

    @Test func matmulMatrices() {
        for (ta, tb) in MatmulTests.transposes {
            let a = randn(ta ? [4, 3] : [3, 4], seed: 13, as: Double.self)
            let b = randn(tb ? [2, 4] : [4, 2], seed: 14, as: Double.self)
            expectGradient(at: [a, b]) { $0[0].matmul($0[1], transposeA: ta, transposeB: tb) }
            // Each operand alone (the other a captured constant).
            expectGradient(at: [a]) { $0[0].matmul(b, transposeA: ta, transposeB: tb) }
            expectGradient(at: [b]) { a.matmul($0[0], transposeA: ta, transposeB: tb) }
        }
        let s = randn([3, 3], seed: 15, as: Double.self)
        expectGradient(at: [s]) { $0[0].matmul($0[0]) }
        expectGradient(at: [s]) { $0[0].matmul($0[0], transposeB: true) }
    }

    @Test func matmulHigherRankTimesMatrix() {
        let x = randn([2, 3, 4], seed: 16, as: Double.self)
        let w = randn([4, 5], seed: 17, as: Double.self)
        expectGradient(at: [x, w]) { $0[0].matmul($0[1]) }
        expectGradient(at: [x, w.transposed()]) { $0[0].matmul($0[1], transposeB: true) }
    }

    @Test func matmulBatched() {
        for (ta, tb) in MatmulTests.transposes {
            let a = randn([2, 2] + (ta ? [4, 3] : [3, 4]), seed: 18, as: Double.self)
            let b = randn([2, 2] + (tb ? [2, 4] : [4, 2]), seed: 19, as: Double.self)
            expectGradient(at: [a, b]) { $0[0].matmul($0[1], transposeA: ta, transposeB: tb) }
        }
    }

    // MARK: Losses and norms

    @Test func lossesAndNorms() {
        let x = randn([3, 5], seed: 20, scale: 2, as: Double.self)
        expectGradient(at: [x]) { $0[0].softmax() }
        expectGradient(at: [x]) { $0[0].logSoftmax() }
        expectGradient(at: [x.reshaped([3, 1, 5])]) { $0[0].softmax() }
        expectGradient(at: [x.reshaped([15])]) { $0[0].logSoftmax() }
        expectGradient(at: [x]) { crossEntropy(logits: $0[0], labels: [4, 0, 4]) }
        expectGradient(at: [x.reshaped([3, 1, 5])]) { crossEntropy(logits: $0[0], labels: [1, 2, 3]) }
        let y = randn([3, 5], seed: 21, as: Double.self)
        expectGradient(at: [x, y]) { meanSquaredError($0[0], $0[1]) }
        expectGradient(at: [x]) { $0[0].frobeniusNorm() }
    }

    // MARK: Compositions

    @Test func smallNetwork() {
        let x = randn([4, 3], seed: 22, as: Double.self)
        let w1 = randn([5, 3], seed: 23, as: Double.self), b1 = randn([5], seed: 24, as: Double.self)
        let w2 = randn([2, 5], seed: 25, as: Double.self)
        expectGradient(at: [w1, b1, w2]) { p in
            let h = (x.matmul(p[0], transposeB: true) + p[1]).gelu()
            return crossEntropy(logits: h.matmul(p[2], transposeB: true), labels: [0, 1, 1, 0])
        }
        // Attention-like: softmax(q kᵀ / √d) v with shared input.
        let t = randn([2, 3, 4], seed: 26, as: Double.self)
        expectGradient(at: [t]) { p in
            let q = p[0], k = p[0] * 0.5, v = p[0].tanh()
            return (q.matmul(k, transposeB: true) / 2).softmax().matmul(v)
        }
    }
}

@Suite("Gradient checker")
struct GradientCheckerTests {
    @Test func detectsAWrongPullback() {
        let x = randn([3, 4], seed: 1, as: Double.self)
        // exp with the pullback of the identity, and a pullback off by a factor 1 + 1e-4.
        let wrong = gradientError(at: [x]) { x in x[0].map(.exp).recorded([x[0]]) { g in [g] } }
        #expect(wrong > 0.1)
        let slightlyWrong = gradientError(at: [x]) { x in x[0].map(.tanh).recorded([x[0]]) { g in [g * (1 - x[0].detached.tanh().squared()) * 1.0001] } }
        #expect(slightlyWrong > 1e-5)
        let right = gradientError(at: [x]) { x in x[0].map(.tanh).recorded([x[0]]) { g in [g * (1 - x[0].detached.tanh().squared())] } }
        #expect(right < 1e-8)
    }
}
