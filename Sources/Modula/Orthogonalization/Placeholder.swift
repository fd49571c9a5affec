// TEMPORARY: replaced when the orthogonalizer branch lands.
public protocol Orthogonalizer: Sendable {
    func orthogonalize<S: TensorScalar>(_ g: Tensor<S>) -> Tensor<S>
    var name: String { get }
}
public struct SVDOrthogonalizer: Orthogonalizer {
    public init() {}
    public var name: String { "svd" }
    public func orthogonalize<S: TensorScalar>(_ g: Tensor<S>) -> Tensor<S> {
        if g.squaredNormValue == 0 { return .zeros(g.shape) }
        let (u, _, vt) = try! g.svd()
        return u.matmul(vt)
    }
}
public struct MuonNewtonSchulz: Orthogonalizer {
    public init() {}
    public var name: String { "muon5" }
    public func orthogonalize<S: TensorScalar>(_ g: Tensor<S>) -> Tensor<S> {
        var x = g * (1 / (g.frobeniusNormValue + S(1e-7)))
        let t = g.shape[0] > g.shape[1]
        if t { x = x.transposed() }
        for _ in 0..<5 {
            let a = x.matmul(x, transposeB: true)
            x = x * S(3.4445) + (a * S(-4.7750) + a.matmul(a) * S(2.0315)).matmul(x)
        }
        return t ? x.transposed() : x
    }
}
