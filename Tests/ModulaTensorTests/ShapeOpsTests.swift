import Testing
@testable import ModulaTensor

@Suite("Shape operations: forward values")
struct ShapeOpsTests {
    @Test func reshape() {
        let x = Tensor<Float>.arange(0, 24)
        let y = x.reshaped([2, -1, 4])
        #expect(y.shape == [2, 3, 4])
        #expect(y.scalars == x.scalars)
        #expect(x.reshaped([4, 6]).reshaped([-1]).shape == [24])
        #expect(Tensor<Float>(7).reshaped([1, 1]).shape == [1, 1])
        #expect(Tensor<Float>.zeros([1, 1]).reshaped([]).shape == [])
    }

    func permuteCase<T: TensorScalar>(_: T.Type) {
        let x = randn([2, 3, 4, 5], seed: 4, as: T.self)
        let s = x.scalars
        // [0, 2, 1, 3] and [2, 1, 0, 3] keep the last axis (contiguous runs, as for attention heads).
        for perm in [[0, 1, 2, 3], [3, 2, 1, 0], [1, 0, 3, 2], [2, 0, 3, 1], [0, 1, 3, 2], [0, 2, 1, 3], [2, 1, 0, 3]] {
            let y = x.permuted(perm)
            #expect(y.shape == perm.map { x.shape[$0] })
            var want: [T] = []
            for k in 0..<y.count {
                let idx = multiIndex(k, y.shape)
                var src = [Int](repeating: 0, count: 4)
                for (i, p) in perm.enumerated() { src[p] = idx[i] }
                want.append(s[flatIndex(src, x.shape)])
            }
            #expect(y.scalars == want, "\(perm)")
        }
    }

    @Test func permute() {
        permuteCase(Float.self)
        permuteCase(Double.self)
    }

    @Test func transpose() {
        // Large enough to cross the 32×32 blocking of the rank-2 path.
        let a = randn([37, 70], seed: 5, as: Float.self)
        let t = a.transposed()
        #expect(t.shape == [70, 37])
        for i in 0..<37 { for j in 0..<70 { #expect(t[j, i] == a[i, j]) } }
        #expect(t.transposed() == a)
        let b = randn([2, 3, 4], seed: 6, as: Double.self)
        #expect(b.transposed() == b.permuted([0, 2, 1]))
        #expect(Tensor<Float>.zeros([0, 3]).transposed().shape == [3, 0])
    }

    @Test func slice() {
        let x = Tensor<Double>.arange(0, 24).reshaped([2, 3, 4])
        let s1 = x.slice(axis: 1, 1..<3)
        #expect(s1.shape == [2, 2, 4])
        #expect(s1.scalars == [4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23])
        #expect(x.slice(axis: 0, 1..<2).scalars == Array(12..<24).map(Double.init))
        #expect(x.slice(axis: -1, 3..<4).scalars == [3, 7, 11, 15, 19, 23])
        #expect(x.slice(axis: 2, 2..<2).shape == [2, 3, 0])
    }

    @Test func concatenate() {
        let a = Tensor<Float>.arange(0, 6).reshaped([2, 3])
        let b = Tensor<Float>.arange(6, 10).reshaped([2, 2])
        let c = Tensor<Float>.concatenate([a, b], alongAxis: 1)
        #expect(c.shape == [2, 5])
        #expect(c.scalars == [0, 1, 2, 6, 7, 3, 4, 5, 8, 9])
        let d = Tensor<Float>.concatenate([a, a.reshaped([2, 3]) * 2], alongAxis: 0)
        #expect(d.shape == [4, 3])
        #expect(d.scalars == [0, 1, 2, 3, 4, 5, 0, 2, 4, 6, 8, 10])
        let e = Tensor<Float>.concatenate([a, Tensor.zeros([2, 0]), b], alongAxis: -1)
        #expect(e == c)
        // Slicing undoes concatenation.
        let x = randn([2, 3, 4], seed: 1, as: Double.self), y = randn([2, 5, 4], seed: 2, as: Double.self)
        let xy = Tensor.concatenate([x, y], alongAxis: 1)
        #expect(xy.slice(axis: 1, 0..<3) == x)
        #expect(xy.slice(axis: 1, 3..<8) == y)
    }

    @Test func concatenateWithEmptyTrailingAxis() {
        let a = Tensor<Float>.zeros([2, 3, 0]), b = Tensor<Float>.zeros([2, 1, 0])
        #expect(Tensor.concatenate([a, b], alongAxis: 1).shape == [2, 4, 0])
    }

    @Test func gatherAndScatter() {
        let table = Tensor<Double>.arange(0, 12).reshaped([4, 3])
        let g = table.gather([2, 0, 2, 3])
        #expect(g.shape == [4, 3])
        #expect(g.scalars == [6, 7, 8, 0, 1, 2, 6, 7, 8, 9, 10, 11])
        let g2 = table.gather([1, 1, 3, 0, 2, 1], indexShape: [2, 3])
        #expect(g2.shape == [2, 3, 3])
        #expect(g2.slice(axis: 1, 2..<3).reshaped([2, 3]).scalars == [9, 10, 11, 3, 4, 5])
        let v = Tensor<Double>.gather1D([5, 6, 7], [2, 2, 0])
        #expect(v.scalars == [7, 7, 5])

        let rows = Tensor<Double>(rows: [[1, 2, 3], [10, 20, 30], [100, 200, 300]])
        let s = rows.scatterAdding([3, 0, 3], into: [4, 3])
        #expect(s.scalars == [10, 20, 30, 0, 0, 0, 0, 0, 0, 101, 202, 303])
        // Scatter-add is the adjoint of gather: ⟨gather(x), y⟩ = ⟨x, scatter(y)⟩.
        let idx = [1, 3, 1, 0, 2]
        let x = randn([4, 3], seed: 1, as: Double.self), y = randn([5, 3], seed: 2, as: Double.self)
        #expect(Swift.abs(x.gather(idx).dotValue(y) - x.dotValue(y.scatterAdding(idx, into: [4, 3]))) < 1e-12)
    }
}

extension Tensor {
    /// Gathers elements of a rank-1 tensor (test helper through the row gather).
    static func gather1D(_ values: [Scalar], _ idx: [Int]) -> Tensor { Tensor(values).gather(idx) }
}
