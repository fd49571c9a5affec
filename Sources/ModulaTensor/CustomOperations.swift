extension Tensor {
    /// Declares `self` to be the result of a differentiable operation on `inputs` whose
    /// vector-Jacobian product is `pullback`.
    ///
    /// This is how code outside the tensor layer adds new differentiable operations (an im2col for
    /// convolutions, a fused kernel, …): compute the result with any means, then attach the
    /// pullback, which maps the cotangent of the result to one cotangent per input (`nil` for
    /// none). The pullback receives and must return plain tensors; it is only called during a
    /// gradient computation. When no input is being differentiated, this returns `self` unchanged.
    ///
    /// ```swift
    /// let y = Tensor(shape: x.shape, scalars: x.scalars.map { $0 * $0 })
    ///     .withPullback(inputs: [x]) { g in [g * x.detached * 2] }
    /// ```
    public func withPullback(inputs: [Tensor], _ pullback: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        detached.recorded(inputs, pullback)
    }
}
