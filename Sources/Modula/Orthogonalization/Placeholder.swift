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
