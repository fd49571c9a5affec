import Testing
@testable import ModulaTensor

@Suite("Autodiff: tape bookkeeping")
struct AutodiffTests {
    typealias T = Tensor<Double>

    @Test func inputUsedTwiceAccumulates() {
        let x = T([1, 2, 3])
        let (v, g) = valueWithGradient(at: x) { x in (x * 3).sum() + (x * x).sum() }
        #expect(v.scalar == 18 + 14)
        #expect(g.scalars == [5, 7, 9])
        // Through two separate branches that rejoin.
        let (_, g2) = valueWithGradient(at: x) { x in
            let a = x.exp(), b = x.squared()
            return (a + b).sum() + a.sum()
        }
        #expect(isClose(g2.scalars, x.scalars.map { 2 * Double.exp($0) + 2 * $0 }))
    }

    @Test func unusedInputGetsZeroGradient() {
        let x = T([1, 2]), y = T(rows: [[1, 2], [3, 4]])
        let (v, g) = valueWithGradient(at: x, y) { x, _ in x.squared().sum() }
        #expect(v.scalar == 5)
        #expect(g.0.scalars == [2, 4])
        #expect(g.1 == T.zeros([2, 2]))
        // No input used at all.
        let (v2, g2) = valueWithGradient(at: x) { _ in T(3) }
        #expect(v2.scalar == 3 && g2 == T.zeros([2]))
    }

    @Test func capturedConstantGetsNoGradient() {
        let c = T([10, 20])
        #expect(!c.isRecorded)
        let (_, g) = valueWithGradient(at: T([1, 2])) { x in
            #expect(x.isRecorded)
            #expect(!(c * 2).isRecorded)
            #expect((c * x).isRecorded)
            return (c * x + c.squared()).sum()
        }
        #expect(g.scalars == [10, 20])
        #expect(!c.isRecorded)
        // `detached` cuts the tape.
        let (_, g2) = valueWithGradient(at: T([1, 2])) { x in (x.detached * x).sum() }
        #expect(g2.scalars == [1, 2])
    }

    @Test func consecutiveComputationsAreIndependent() {
        let x = T([1, 2, 3])
        let f: (T) -> T = { ($0 * $0).sum() }
        let (v1, g1) = valueWithGradient(at: x, of: f)
        let (v2, g2) = valueWithGradient(at: x, of: f)
        #expect(v1 == v2 && g1 == g2)
        #expect(g1.scalars == [2, 4, 6])
        // A gradient result can feed the next computation without carrying tape state.
        #expect(!g1.isRecorded && !v1.isRecorded)
        let (_, g3) = valueWithGradient(at: g1) { ($0 * 0.5).sum() }
        #expect(g3.scalars == [0.5, 0.5, 0.5])
        // The input is unchanged.
        #expect(x.scalars == [1, 2, 3] && !x.isRecorded)
    }

    @Test func tensorsEscapingAComputationAreHarmless() {
        var escaped: T? = nil
        let (_, g1) = valueWithGradient(at: T([1, 2])) { x in
            let y = x * 3
            escaped = y
            return y.sum()
        }
        #expect(g1.scalars == [3, 3])
        // Using an escaped, still-recorded tensor as a constant in a later computation.
        let (_, g2) = valueWithGradient(at: T([5, 6])) { x in (x * escaped!).sum() }
        #expect(g2.scalars == [3, 6])
    }

    @Test func arrayAndPairForms() {
        let a = T([1, 2]), b = T([3, 4])
        let grads = gradient(at: [a, b]) { ($0[0] * $0[1]).sum() }
        #expect(grads[0] == b && grads[1] == a)
        let (v, (ga, gb)) = valueWithGradient(at: a, b) { ($0 * $1).sum() }
        #expect(v.scalar == 11 && ga == b && gb == a)
    }

    @Test func outputOfShapeOneByOne() {
        let x = T(rows: [[1, 2], [3, 4]])
        let (v, g) = valueWithGradient(at: x) { $0.sum(alongAxes: [0, 1], keepingDimensions: true) }
        #expect(v.shape == [1, 1] && v.scalar == 10)
        #expect(g == T.ones([2, 2]))
        // The identity function of a one-element input.
        let (_, g1) = valueWithGradient(at: T([4])) { $0 }
        #expect(g1.scalars == [1])
    }

    @Test func inPlaceOperatorsKeepRecording() {
        let (_, g) = valueWithGradient(at: T([1, 2])) { x in
            var y = x
            y += x
            y *= x
            y *= 3
            return y.sum()  // 6 x²
        }
        #expect(g.scalars == [12, 24])
    }

    @Test func floatGradients() {
        // The tape is generic: a quick Float check against the Double result.
        let xd = randn([3, 4], seed: 3, as: Double.self)
        let xf = xd.converted(to: Float.self)
        let gd = valueWithGradient(at: xd) { $0.tanh().matmul($0, transposeB: true).logSoftmax().mean() }.gradient
        let gf = valueWithGradient(at: xf) { $0.tanh().matmul($0, transposeB: true).logSoftmax().mean() }.gradient
        #expect(isClose(gf.scalars, gd.converted(to: Float.self).scalars, tolerance: 1e-5))
    }

    @Test func deepChainDoesNotOverflowTheStack() {
        // The topological sort is iterative: a long chain must not recurse.
        let (_, g) = valueWithGradient(at: T([1])) { x in
            var y = x
            for _ in 0..<20_000 { y = y + 0 }
            return y.sum()
        }
        #expect(g.scalars == [1])
        // Pullbacks that capture their (recorded) operands, with an input that feeds every step.
        let one = T([1])
        let (_, g2) = valueWithGradient(at: T([1]), T([1])) { x, w in
            var y = x
            for _ in 0..<20_000 { y = y * one + w * 0 }
            return y.sum()
        }
        #expect(g2.0.scalars == [1] && g2.1.scalars == [0])
    }
}
