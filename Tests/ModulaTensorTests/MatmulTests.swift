import Testing
@testable import ModulaTensor

@Suite("Matmul: forward values")
struct MatmulTests {
    static let transposes: [(Bool, Bool)] = [(false, false), (false, true), (true, false), (true, true)]

    /// Operand shapes for `op(A)` of m×k and `op(B)` of k×n, with the given batch axes.
    func operands<T: TensorScalar>(
        _: T.Type, batch: [Int], m: Int, k: Int, n: Int, _ ta: Bool, _ tb: Bool, seed: UInt64
    ) -> (Tensor<T>, Tensor<T>) {
        (randn(batch + (ta ? [k, m] : [m, k]), seed: seed, as: T.self),
         randn(batch + (tb ? [n, k] : [k, n]), seed: seed + 1, as: T.self))
    }

    func matrixCase<T: TensorScalar>(_: T.Type) {
        for (ta, tb) in Self.transposes {
            for (m, k, n) in [(3, 4, 5), (1, 7, 1), (6, 1, 2), (5, 5, 5)] {
                let (a, b) = operands(T.self, batch: [], m: m, k: k, n: n, ta, tb, seed: UInt64(m * 100 + n))
                let got = a.matmul(b, transposeA: ta, transposeB: tb)
                expectClose(got, naiveMatmul(a, b, transposeA: ta, transposeB: tb), tolerance: T(1e-5))
                #expect(matmul(a, b, transposeA: ta, transposeB: tb) == got)
            }
        }
    }

    @Test func matrices() {
        matrixCase(Float.self)
        matrixCase(Double.self)
    }

    func batchedCase<T: TensorScalar>(_: T.Type) {
        for (ta, tb) in Self.transposes {
            for batch in [[2], [2, 3]] {
                let (a, b) = operands(T.self, batch: batch, m: 3, k: 4, n: 2, ta, tb, seed: UInt64(batch.count))
                let got = a.matmul(b, transposeA: ta, transposeB: tb)
                #expect(got.shape == batch + [3, 2])
                expectClose(got, naiveMatmul(a, b, transposeA: ta, transposeB: tb), tolerance: T(1e-5))
            }
        }
    }

    @Test func batched() {
        batchedCase(Float.self)
        batchedCase(Double.self)
    }

    @Test func higherRankTimesMatrix() {
        // [batch, tokens, in] · W (and · Wᵀ): the leading axes fold into the rows of one GEMM.
        let x = randn([2, 3, 4], seed: 1, as: Double.self)
        let w = randn([4, 5], seed: 2, as: Double.self), wt = w.transposed()
        let want = naiveMatmul(x.reshaped([6, 4]), w, transposeA: false, transposeB: false).reshaped([2, 3, 5])
        expectClose(x.matmul(w), want)
        expectClose(x.matmul(wt, transposeB: true), want)
    }

    @Test func emptyInnerDimensionGivesZeros() {
        let a = Tensor<Float>.zeros([3, 0]), b = Tensor<Float>.zeros([0, 2])
        #expect(a.matmul(b) == Tensor.zeros([3, 2]))
    }

    @Test func gram() {
        let a = randn([4, 6], seed: 3, as: Double.self)
        expectClose(a.gram(), a.matmul(a, transposeB: true))
        expectClose(a.gram(transpose: true), a.matmul(a, transposeA: true))
        let f = randn([4, 6], seed: 3, as: Float.self)
        expectClose(f.gram(), f.matmul(f, transposeB: true), tolerance: 1e-5)
    }

    @Test func identity() {
        let a = randn([4, 4], seed: 8, as: Float.self)
        #expect(a.matmul(.identity(4)) == a)
        #expect(Tensor<Float>.identity(4).matmul(a) == a)
    }
}
