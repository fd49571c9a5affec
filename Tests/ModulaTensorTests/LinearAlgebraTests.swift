import Testing
@testable import ModulaTensor

@Suite("Linear algebra: SVD, symmetric eigendecomposition, norms")
struct LinearAlgebraTests {
    func maxAbs<T: TensorScalar>(_ t: Tensor<T>) -> T { t.count == 0 ? 0 : t.abs().max() }

    func svdCase<T: TensorScalar>(_: T.Type, _ m: Int, _ n: Int, tolerance: T) throws {
        let a = randn([m, n], seed: UInt64(m * 10 + n), as: T.self)
        let (u, s, vt) = try a.svd()
        let k = Swift.min(m, n)
        #expect(u.shape == [m, k] && s.shape == [k] && vt.shape == [k, n])
        // Reconstruction u · diag(s) · vt.
        let back = (u * s).matmul(vt)
        #expect(maxAbs(back - a) <= tolerance, "\(T.self) \(m)×\(n) reconstruction")
        // Orthonormal columns of u and rows of vt.
        #expect(maxAbs(u.matmul(u, transposeA: true) - .identity(k)) <= tolerance)
        #expect(maxAbs(vt.matmul(vt, transposeB: true) - .identity(k)) <= tolerance)
        // Descending and nonnegative.
        let sv = s.scalars
        #expect(zip(sv, sv.dropFirst()).allSatisfy { $0 >= $1 } && sv.allSatisfy { $0 >= 0 })
        #expect(try a.singularValues() == sv)
        #expect(try a.spectralNorm() == sv[0])
        #expect(Swift.abs(try a.stableRank() - a.squaredNormValue / (sv[0] * sv[0])) <= tolerance)
        // The input is unchanged (LAPACK works on a copy).
        #expect(a == randn([m, n], seed: UInt64(m * 10 + n), as: T.self))
    }

    @Test(arguments: [(5, 3), (3, 5), (4, 4), (1, 6), (6, 1)])
    func svd(_ shape: (Int, Int)) throws {
        try svdCase(Float.self, shape.0, shape.1, tolerance: 1e-5)
        try svdCase(Double.self, shape.0, shape.1, tolerance: 1e-12)
    }

    @Test func svdOfKnownMatrix() throws {
        // diag(3, 2) rotated on the left: singular values 3, 2.
        let a = Tensor<Double>(rows: [[0, 2], [3, 0], [0, 0]])
        let (_, s, _) = try a.svd()
        #expect(isClose(s.scalars, [3, 2]))
        #expect(try Tensor<Double>.zeros([3, 3]).spectralNorm() == 0)
        #expect(try Tensor<Double>.zeros([3, 3]).stableRank() == 0)
        #expect(try Tensor<Double>.zeros([0, 3]).spectralNorm() == 0)
        let (u0, s0, vt0) = try Tensor<Float>.zeros([0, 3]).svd()
        #expect(u0.shape == [0, 0] && s0.shape == [0] && vt0.shape == [0, 3])
    }

    func eigenCase<T: TensorScalar>(_: T.Type, n: Int, tolerance: T) throws {
        let b = randn([n, n], seed: UInt64(n), as: T.self)
        let a = b + b.transposed()
        let (values, vectors) = try a.symmetricEigen()
        #expect(values.shape == [n] && vectors.shape == [n, n])
        // A V = V diag(λ), Vᵀ V = I, λ ascending.
        #expect(maxAbs(a.matmul(vectors) - vectors * values) <= tolerance)
        #expect(maxAbs(vectors.matmul(vectors, transposeA: true) - .identity(n)) <= tolerance)
        let w = values.scalars
        #expect(zip(w, w.dropFirst()).allSatisfy { $0 <= $1 })
        // Consistent with the SVD: |λ| are the singular values.
        let sv = try a.singularValues()
        #expect(isClose(w.map { Swift.abs($0) }.sorted(by: >), sv, tolerance: tolerance))
    }

    @Test func symmetricEigen() throws {
        for n in [1, 2, 5, 8] {
            try eigenCase(Float.self, n: n, tolerance: 1e-4)
            try eigenCase(Double.self, n: n, tolerance: 1e-12)
        }
        let (values, _) = try Tensor<Double>(rows: [[2, 1], [1, 2]]).symmetricEigen()
        #expect(isClose(values.scalars, [1, 3]))
    }

    @Test func norms() {
        let a = Tensor<Double>(rows: [[3, 0], [0, -4]])
        #expect(a.frobeniusNormValue == 5)
        #expect(a.frobeniusNorm().shape == [])
        #expect(a.frobeniusNorm().scalar == 5)
        #expect(Tensor<Float>(rows: [[3, 0], [0, -4]]).frobeniusNormValue == 5)
    }
}
