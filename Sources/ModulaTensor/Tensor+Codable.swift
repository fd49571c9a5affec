extension Tensor: Codable {
    private enum CodingKeys: String, CodingKey { case shape, scalars }

    /// Decodes a tensor written by ``encode(to:)``; the element count must match the shape.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let shape = try c.decode([Int].self, forKey: .shape)
        let values = try c.decode([Double].self, forKey: .scalars)
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == values.count else {
            throw DecodingError.dataCorruptedError(
                forKey: .scalars, in: c,
                debugDescription: "tensor of shape \(shape) needs \(shape.reduce(1, *)) scalars, found \(values.count)")
        }
        self.init(shape: shape, scalars: values.map { Scalar($0) })
    }

    /// Encodes the shape and the elements (as `Double`, which holds every `Float` exactly).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(shape, forKey: .shape)
        try c.encode(scalars.map { Double($0) }, forKey: .scalars)
    }
}
