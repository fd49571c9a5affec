// The compounds' earlier spelling as capitalized free functions, kept so that code written against it builds.

/// A multilayer perceptron (``Sequential/mlp(input:width:output:depth:norm:orthogonalizer:)``).
@available(*, deprecated, renamed: "Sequential.mlp(input:width:output:depth:norm:orthogonalizer:)")
public func MLP(
    input: Int, width: Int, output: Int, depth: Int = 3, norm: MatrixNorm = .spectral,
    orthogonalizer: any Orthogonalizer = defaultOrthogonalizer
) -> Sequential {
    .mlp(input: input, width: width, output: output, depth: depth, norm: norm, orthogonalizer: orthogonalizer)
}

/// A residual connection (``Sum/residual(_:weight:)``).
@available(*, deprecated, renamed: "Sum.residual(_:weight:)")
public func Residual(_ block: any Module, weight alpha: Double) -> Sum { .residual(block, weight: alpha) }

/// A residual MLP (``Sequential/resMLP(input:width:output:depth:blocksMass:orthogonalizer:)``).
@available(*, deprecated, renamed: "Sequential.resMLP(input:width:output:depth:blocksMass:orthogonalizer:)")
public func ResMLP(
    input: Int, width: Int, output: Int, depth: Int, blocksMass: Double = 1,
    orthogonalizer: any Orthogonalizer = defaultOrthogonalizer
) -> Sequential {
    .resMLP(input: input, width: width, output: output, depth: depth, blocksMass: blocksMass, orthogonalizer: orthogonalizer)
}

/// Multi-head causal self-attention
/// (``Sequential/attention(heads:dimension:queryDimension:valueDimension:softmaxScale:causal:rope:orthogonalizer:)``).
@available(*, deprecated, renamed: "Sequential.attention(heads:dimension:queryDimension:valueDimension:softmaxScale:causal:rope:orthogonalizer:)")
public func Attention(
    heads: Int, dimension: Int, queryDimension: Int, valueDimension: Int,
    softmaxScale: Double = 1, causal: Bool = true, rope: Bool = true,
    orthogonalizer: any Orthogonalizer = defaultOrthogonalizer
) -> Sequential {
    .attention(heads: heads, dimension: dimension, queryDimension: queryDimension, valueDimension: valueDimension,
               softmaxScale: softmaxScale, causal: causal, rope: rope, orthogonalizer: orthogonalizer)
}

/// The GPT of Modula's hello-GPT
/// (``Sequential/gpt(vocabulary:heads:dimension:queryDimension:valueDimension:blocks:blocksMass:softmaxScale:orthogonalizer:)``).
@available(*, deprecated, renamed: "Sequential.gpt(vocabulary:heads:dimension:queryDimension:valueDimension:blocks:blocksMass:softmaxScale:orthogonalizer:)")
public func GPT(
    vocabulary: Int, heads: Int, dimension: Int, queryDimension: Int, valueDimension: Int,
    blocks count: Int, blocksMass: Double = 5, softmaxScale: Double = 1,
    orthogonalizer: any Orthogonalizer = defaultOrthogonalizer
) -> Sequential {
    .gpt(vocabulary: vocabulary, heads: heads, dimension: dimension, queryDimension: queryDimension,
         valueDimension: valueDimension, blocks: count, blocksMass: blocksMass, softmaxScale: softmaxScale,
         orthogonalizer: orthogonalizer)
}

/// A residual CNN (``Sequential/resCNN(channels:width:classes:imageSize:depth:blocksMass:orthogonalizer:)``).
@available(*, deprecated, renamed: "Sequential.resCNN(channels:width:classes:imageSize:depth:blocksMass:orthogonalizer:)")
public func ResCNN(
    channels: Int, width: Int, classes: Int, imageSize: Int, depth: Int, blocksMass: Double = 20,
    orthogonalizer: any Orthogonalizer = defaultOrthogonalizer
) -> Sequential {
    .resCNN(channels: channels, width: width, classes: classes, imageSize: imageSize, depth: depth,
            blocksMass: blocksMass, orthogonalizer: orthogonalizer)
}
