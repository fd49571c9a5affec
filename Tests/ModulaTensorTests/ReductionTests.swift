import Testing
@testable import ModulaTensor

@Suite("Reductions: forward values")
struct ReductionTests {
    static let axisCases: [[Int]] = [[0], [1], [2], [-1], [0, 2], [1, 2], [0, 1, 2], [2, 0], [1, 1], []]

    func sumAndMax<T: TensorScalar>(_: T.Type, axes: [Int], seed: UInt64) {
        let x = randn([2, 3, 4], seed: seed, as: T.self)
        for keep in [false, true] {
            let s = naiveReduce(x, axes: axes, keep: keep, initial: 0, +)
            expectClose(x.sum(alongAxes: axes, keepingDimensions: keep), s.shape, s.scalars, tolerance: T(1e-5))
            let n = T(Set(axes.map { ($0 + 3) % 3 }).reduce(1) { $0 * x.shape[$1] })
            expectClose(x.mean(alongAxes: axes, keepingDimensions: keep), s.shape, s.scalars.map { $0 / n }, tolerance: T(1e-5))
            let m = naiveReduce(x, axes: axes, keep: keep, initial: -T.infinity) { Swift.max($0, $1) }
            expectClose(x.max(alongAxes: axes, keepingDimensions: keep), m.shape, m.scalars)
        }
    }

    @Test("sum, mean and max over axis sets, with and without kept dimensions", arguments: axisCases)
    func axes(_ axes: [Int]) {
        sumAndMax(Float.self, axes: axes, seed: 1)
        sumAndMax(Double.self, axes: axes, seed: 2)
    }

    @Test func singleAxisForms() {
        let x = randn([3, 4], seed: 5, as: Double.self)
        #expect(x.sum(alongAxis: 1) == x.sum(alongAxes: [1]))
        #expect(x.mean(alongAxis: 0, keepingDimensions: true) == x.mean(alongAxes: [0], keepingDimensions: true))
        #expect(x.max(alongAxis: -1) == x.max(alongAxes: [1]))
        #expect(x.logSumExp(alongAxis: 0) == x.logSumExp(alongAxes: [0]))
    }

    @Test func wholeTensor() {
        let x = Tensor<Double>(rows: [[1, -2, 3], [4, 5, -6]])
        #expect(x.sum().shape == [])
        #expect(x.sum().scalar == 5)
        #expect(isClose([x.mean().scalar], [5.0 / 6]))
        #expect(x.max() == 5)
        #expect(x.min() == -6)
        #expect(x.squaredNormValue == 91)
        #expect(x.dotValue(x) == 91)
        #expect(Tensor<Double>.zeros([0]).sum().scalar == 0)
    }

    @Test func maxAndMinOfEveryLength() {
        // The kernels keep four running extrema plus a tail: check every position of the extremum.
        for n in 1..<12 {
            for k in 0..<n {
                var v = [Float](repeating: 0, count: n)
                v[k] = 5
                #expect(Tensor<Float>(v).max() == 5, "n = \(n), k = \(k)")
                v[k] = -5
                #expect(Tensor<Float>(v).min() == -5, "n = \(n), k = \(k)")
                #expect(Tensor<Double>(v.map(Double.init)).reshaped([1, n]).max(alongAxes: [1]).scalar == (n == 1 ? -5 : 0))
            }
        }
    }

    @Test func longSumIsAccurate() {
        // 8-way accumulation plus tail: check every length around a multiple of 8.
        for n in 0..<40 {
            let x = Tensor<Float>((0..<n).map { Float($0) })
            #expect(x.sum().scalar == Float(n * (n - 1) / 2), "n = \(n)")
            #expect(x.dotValue(x) == Float((0..<n).reduce(0) { $0 + $1 * $1 }), "n = \(n)")
        }
        // Pairwise blocks keep the error of long Float sums small (a running sum would be off by ~1).
        let big = Tensor<Float>(repeating: 0.1, shape: [100_000])
        #expect(Swift.abs(big.sum().scalar - 10_000) < 0.05)
        #expect(Swift.abs(big.squaredNormValue - 1_000) < 0.001)
    }

    func logSumExpCase<T: TensorScalar>(_: T.Type) {
        let x = randn([2, 3, 4], seed: 9, scale: 3, as: T.self)
        for axes in [[0], [2], [0, 2], [0, 1, 2]] {
            for keep in [false, true] {
                let m = naiveReduce(x, axes: axes, keep: true, initial: -T.infinity) { Swift.max($0, $1) }
                let mt = Tensor(shape: m.shape, scalars: m.scalars)
                let e = naiveReduce((x - mt).exp(), axes: axes, keep: keep, initial: 0, +)
                let want = zip(e.scalars, m.scalars).map { T.log($0) + $1 }
                expectClose(x.logSumExp(alongAxes: axes, keepingDimensions: keep), e.shape, want, tolerance: T(1e-5))
            }
        }
        // Stable for large inputs.
        let big = Tensor<T>([1000, 1000])
        #expect(Swift.abs(big.logSumExp(alongAxes: [0]).scalar - (1000 + T.log(2))) < T(1e-3))
    }

    @Test func logSumExp() {
        logSumExpCase(Float.self)
        logSumExpCase(Double.self)
    }

    @Test func argmax() {
        let x = Tensor<Float>(rows: [[1, 7, 7], [9, 2, 3]])
        #expect(x.argmax(alongAxis: 1) == [1, 0])  // first one on ties
        #expect(x.argmax(alongAxis: 0) == [1, 0, 0])
        #expect(x.argmax(alongAxis: -1) == [1, 0])
        let y = randn([2, 3, 4], seed: 3, as: Float.self)
        let s = y.scalars
        let got = y.argmax(alongAxis: 1)
        for o in 0..<2 {
            for i in 0..<4 {
                let column = (0..<3).map { s[(o * 3 + $0) * 4 + i] }
                #expect(got[o * 4 + i] == column.firstIndex(of: column.max()!)!)
            }
        }
    }

    @Test func maxTiesShareTheCotangent() {
        let x = Tensor<Double>(rows: [[1, 3, 3], [2, 0, 1]])
        let (v, g) = valueWithGradient(at: x) { $0.max(alongAxes: [1]).sum() }
        #expect(v.scalar == 5)
        #expect(g.scalars == [0, 0.5, 0.5, 1, 0, 0])
    }
}
