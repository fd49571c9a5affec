import Foundation
import Testing
@testable import ModulaTensor

@Suite("Elementwise: forward values")
struct ElementwiseTests {
    /// Shape pairs that exercise every broadcasting path of the binary kernel.
    static let shapePairs: [([Int], [Int])] = [
        ([2, 3], [2, 3]),        // equal shapes
        ([2, 3], [3]),           // trailing vector
        ([3], [2, 3]),           // broadcast on the left operand
        ([2, 1, 4], [3, 1]),     // both sides broadcast
        ([2, 3], [2, 1]),        // column (stride 0 along the last axis)
        ([1, 3], [2, 1]),        // outer product shape
        ([], [2, 3]),            // scalar tensor on the left
        ([2, 3], []),            // scalar tensor on the right
        ([], []),                // two scalars
        ([4], [1]),
        ([2, 3, 4], [2, 3, 4]),
        ([2, 1, 3, 1], [4, 1, 5]),
    ]

    func binaryCase<T: TensorScalar>(_: T.Type, _ sa: [Int], _ sb: [Int], seed: UInt64) {
        let a = randn(sa, seed: seed, awayFromZero: 0.1, as: T.self)
        let b = randn(sb, seed: seed + 100, awayFromZero: 0.1, as: T.self)
        let cases: [(String, Tensor<T>, (T, T) -> T)] = [
            ("+", a + b, { $0 + $1 }),
            ("-", a - b, { $0 - $1 }),
            ("*", a * b, { $0 * $1 }),
            ("/", a / b, { $0 / $1 }),
            ("maximum", maximum(a, b), { Swift.max($0, $1) }),
        ]
        for (name, got, f) in cases {
            let want = naiveBroadcast(a, b, f)
            #expect(got.shape == want.shape, "\(name) \(sa) \(sb): shape \(got.shape)")
            #expect(isClose(got.scalars, want.scalars), "\(name) \(sa) \(sb)")
        }
    }

    @Test("binary ops with broadcasting match the element-by-element reference", arguments: 0..<shapePairs.count)
    func binaryBroadcasting(_ i: Int) {
        let (sa, sb) = Self.shapePairs[i]
        binaryCase(Float.self, sa, sb, seed: UInt64(i))
        binaryCase(Double.self, sa, sb, seed: UInt64(i))
    }

    @Test func broadcastShapeRules() {
        #expect(broadcastShape([2, 3], [3]) == [2, 3])
        #expect(broadcastShape([2, 1, 4], [3, 1]) == [2, 3, 4])
        #expect(broadcastShape([], [5]) == [5])
        #expect(broadcastShape([0, 3], [1, 3]) == [0, 3])
        #expect(broadcastShape([2, 3], [4]) == nil)
        #expect(broadcastShape([2, 3], [3, 3]) == nil)
    }

    @Test func emptyBroadcast() {
        let a = Tensor<Float>.zeros([0, 3]), b = Tensor<Float>.ones([3])
        #expect((a + b).shape == [0, 3])
        #expect((a * b).count == 0)
    }

    @Test func scalarOperands() {
        let a = Tensor<Double>(rows: [[1, -2, 3], [4, 5, -6]])
        let s = a.scalars
        expectClose(a + 2, [2, 3], s.map { $0 + 2 })
        expectClose(2 + a, [2, 3], s.map { 2 + $0 })
        expectClose(a - 2, [2, 3], s.map { $0 - 2 })
        expectClose(2 - a, [2, 3], s.map { 2 - $0 })
        expectClose(a * 3, [2, 3], s.map { $0 * 3 })
        expectClose(3 * a, [2, 3], s.map { 3 * $0 })
        expectClose(a / 4, [2, 3], s.map { $0 / 4 })
        expectClose(4 / a, [2, 3], s.map { 4 / $0 })
        expectClose(-a, [2, 3], s.map { -$0 })
    }

    func unaryCase<T: TensorScalar>(_: T.Type, tolerance: T) {
        let x = randn([3, 5], seed: 3, awayFromZero: 0.05, as: T.self)
        let pos = randu([3, 5], seed: 4, T(0.1), T(3))
        let s = x.scalars, ps = pos.scalars
        func d(_ v: T) -> Double { Double(v) }
        func t(_ v: Double) -> T { T(v) }
        let geluRef: (Double) -> Double = { v in 0.5 * v * (1 + Foundation.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))) }
        let cases: [(String, Tensor<T>, [T])] = [
            ("exp", x.exp(), s.map { t(Foundation.exp(d($0))) }),
            ("log", pos.log(), ps.map { t(Foundation.log(d($0))) }),
            ("tanh", x.tanh(), s.map { t(Foundation.tanh(d($0))) }),
            ("sqrt", pos.sqrt(), ps.map { t(d($0).squareRoot()) }),
            ("abs", x.abs(), s.map { Swift.abs($0) }),
            ("relu", x.relu(), s.map { Swift.max($0, 0) }),
            ("squared", x.squared(), s.map { $0 * $0 }),
            ("reciprocal", x.reciprocal(), s.map { 1 / $0 }),
            ("sigmoid", x.sigmoid(), s.map { t(1 / (1 + Foundation.exp(-d($0)))) }),
            ("gelu", x.gelu(), s.map { t(geluRef(d($0))) }),
            ("sign", x.sign(), s.map { $0 > 0 ? 1 : -1 }),
            ("pow 2.5", pos.pow(2.5), ps.map { t(Foundation.pow(d($0), 2.5)) }),
            ("pow 3", x.pow(3), s.map { $0 * $0 * $0 }),
            ("clamped", x.clamped(-0.5, 0.7), s.map { Swift.min(Swift.max($0, -0.5), 0.7) }),
        ]
        for (name, got, want) in cases {
            #expect(got.shape == [3, 5], "\(name)")
            #expect(isClose(got.scalars, want, tolerance: tolerance), "\(name) \(T.self): \(got.scalars) vs \(want)")
        }
    }

    @Test func unaryMaps() {
        unaryCase(Float.self, tolerance: 1e-6)
        unaryCase(Double.self, tolerance: 1e-14)
    }

    /// Largest error of a Float map against the Double reference, in units of the Float spacing at the
    /// reference value (ulp), over a dense grid.
    func maxUlpError(_ f: (Tensor<Float>) -> Tensor<Float>, _ ref: (Double) -> Double, _ grid: [Float]) -> Double {
        let got = f(Tensor(grid)).scalars
        var worst = 0.0
        for (x, y) in zip(grid, got) {
            let r = ref(Double(x))
            if !r.isFinite || Swift.abs(r) < Double(Float.leastNormalMagnitude) { continue }
            // The spacing computed in Double: near the smallest normal number `Float.ulp` is subnormal, and
            // converting it reads 0 when denormals are flushed (the library's default).
            let spacing = Double(sign: .plus, exponent: Float(r).exponent - 23, significand: 1)
            worst = Swift.max(worst, Swift.abs(Double(y) - r) / spacing)
        }
        return worst
    }

    @Test func floatTranscendentalsAreAccurate() {
        let grid = (0..<200_001).map { Float(-100 + 0.001 * Double($0)) }  // -100…100
        let small = (0..<20_001).map { Float(-1 + 0.0001 * Double($0)) }
        let exp = maxUlpError({ $0.exp() }, Foundation.exp, grid)
        let tanh = maxUlpError({ $0.tanh() }, Foundation.tanh, grid + small)
        let sigmoid = maxUlpError({ $0.sigmoid() }, { 1 / (1 + Foundation.exp(-$0)) }, grid)
        #expect(exp <= 3, "exp: \(exp) ulp")
        #expect(tanh <= 3, "tanh: \(tanh) ulp")
        #expect(sigmoid <= 3, "sigmoid: \(sigmoid) ulp")
        // Special values.
        let special = Tensor<Float>([0, -0.0, .infinity, -.infinity, 88.7, 88.73, 89, 1000, -87, -88, -1000])
        let e = special.exp().scalars
        #expect(e[0] == 1 && e[1] == 1 && e[2] == .infinity && e[3] == 0)
        #expect(e[4].isFinite && e[5] == .infinity && e[6] == .infinity && e[7] == .infinity)
        #expect(e[8] > 0 && e[9] == 0 && e[10] == 0)
        #expect(Tensor<Float>([.nan]).exp().scalars[0].isNaN && Tensor<Float>([.nan]).tanh().scalars[0].isNaN)
        let t = special.tanh().scalars
        #expect(t[0] == 0 && t[1] == 0 && t[2] == 1 && t[3] == -1 && t[7] == 1 && t[10] == -1)
        let s = special.sigmoid().scalars
        #expect(s[0] == 0.5 && s[2] == 1 && s[3] == 0 && s[7] == 1 && s[10] == 0)
    }

    @Test func unaryEdgeValues() {
        let x = Tensor<Double>([0, -0.0, 1e300, -1e300, -800, 800])
        #expect(x.relu().scalars == [0, 0, 1e300, 0, 0, 800])
        #expect(x.sign().scalars == [0, 0, 1, -1, -1, 1])
        #expect(x.abs().scalars == [0, 0, 1e300, 1e300, 800, 800])
        #expect(x.sigmoid().scalars == [0.5, 0.5, 1, 0, 0, 1])
        #expect(x.tanh().scalars == [0, 0, 1, -1, -1, 1])
        #expect(Tensor<Double>([0]).sqrt().scalars == [0])
        #expect(Tensor<Double>([-1]).sqrt().scalars[0].isNaN)
        #expect(!Tensor<Double>([1, .infinity]).isFinite)
        #expect(!Tensor<Double>([.nan]).isFinite)
        #expect(Tensor<Double>([1, 2]).isFinite)
    }

    @Test func inPlaceUpdates() {
        var a = Tensor<Float>([1, 2, 3])
        let x = Tensor<Float>([10, 20, 30])
        a.addScaled(x, by: 0.5)
        #expect(a.scalars == [6, 12, 18])
        a.scaleInPlace(by: 2, adding: 1)
        #expect(a.scalars == [13, 25, 37])
        a.blend(0.5, x, 0.5)
        #expect(a.scalars == [11.5, 22.5, 33.5])
        a.assign(x)
        #expect(a.scalars == [10, 20, 30])
        a += Tensor([1, 1, 1])
        a -= Tensor([2, 2, 2])
        a *= Tensor([2, 2, 2])
        a *= 0.5
        #expect(a.scalars == [9, 19, 29])
    }
}
