// Compound modules, built only from the public combinators [Modula's `compound`; Large et al. 2024, §B], as
// factories on the combinator they return.

extension Sequential {

    /// A multilayer perceptron: `depth` ``Linear`` layers with ``ReLU`` between them.
    ///
    /// Weights are named `0.weight`, `2.weight`, … by their position in the chain.
    ///
    /// Stops with a message unless `depth ≥ 1` and `input`, `width` and `output` are positive.
    public static func mlp(
        input: Int, width: Int, output: Int, depth: Int = 3, norm: MatrixNorm = .spectral,
        orthogonalizer: any Orthogonalizer = defaultOrthogonalizer
    ) -> Sequential {
        require(depth >= 1, "MLP: depth must be ≥ 1, got \(depth)")
        require(input > 0 && width > 0 && output > 0,
                "MLP: input, width and output must be positive, got input \(input), width \(width), output \(output)")
        if depth == 1 { return Sequential([Linear(in: input, out: output, norm: norm, orthogonalizer: orthogonalizer)]) }
        return Sequential {
            Linear(in: input, out: width, norm: norm, orthogonalizer: orthogonalizer)
            for _ in 0..<(depth - 2) {
                ReLU()
                Linear(in: width, out: width, norm: norm, orthogonalizer: orthogonalizer)
            }
            ReLU()
            Linear(in: width, out: output, norm: norm, orthogonalizer: orthogonalizer)
        }
    }

    /// A residual MLP: an input layer, `depth` residual blocks `(1 − 1/L)·x + (1/L)·Linear(ReLU(x))`
    /// whose masses are tared to `blocksMass` together, and an output layer.
    ///
    /// Stops with a message unless `depth ≥ 1` and the sizes are positive.
    public static func resMLP(
        input: Int, width: Int, output: Int, depth: Int, blocksMass: Double = 1,
        orthogonalizer: any Orthogonalizer = defaultOrthogonalizer
    ) -> Sequential {
        require(depth >= 1, "ResMLP: depth must be ≥ 1, got \(depth)")
        require(input > 0 && width > 0 && output > 0,
                "ResMLP: input, width and output must be positive, got input \(input), width \(width), output \(output)")
        let blocks = Sequential((0..<depth).map { l in
            Sum.residual(Sequential([ReLU(), Linear(in: width, out: width, orthogonalizer: orthogonalizer).named("linear")]), weight: 1 / Double(depth)).named("\(l)")
        })
        return Sequential {
            Linear(in: input, out: width, orthogonalizer: orthogonalizer).named("input")
            blocks.tared(blocksMass).named("blocks")
            ReLU()
            Linear(in: width, out: output, orthogonalizer: orthogonalizer).named("output")
        }
    }

    /// Multi-head causal self-attention on `[batch, tokens, dimension]` (mass 4, sensitivity 1).
    ///
    /// Q, K, V = SplitIntoHeads∘Linear; scores = Softmax(scale)∘CausalMask∘AttentionQK∘RoPE∘(Q, K);
    /// output = Linear∘MergeHeads∘((1/3)·ApplyAttentionScores)∘(V, scores). Weights are named
    /// `query`, `key`, `value` and `out`.
    public static func attention(
        heads: Int, dimension: Int, queryDimension: Int, valueDimension: Int,
        softmaxScale: Double = 1, causal: Bool = true, rope: Bool = true,
        orthogonalizer: any Orthogonalizer = defaultOrthogonalizer
    ) -> Sequential {
        func projection(_ label: String, _ d: Int) -> Sequential {
            Sequential([Linear(in: dimension, out: heads * d, orthogonalizer: orthogonalizer).named(label), SplitIntoHeads(heads: heads)])
        }
        let scores = Sequential {
            Parallel([projection("query", queryDimension), projection("key", queryDimension)])
            if rope { RoPE(headDimension: queryDimension) }
            AttentionQK()
            if causal { CausalMask() }
            Softmax(scale: softmaxScale)
        }
        return Sequential {
            Parallel([projection("value", valueDimension), scores])
            (1.0 / 3.0) * ApplyAttentionScores()
            MergeHeads()
            Linear(in: heads * valueDimension, out: dimension, orthogonalizer: orthogonalizer).named("out")
        }
    }

    /// The GPT of Modula's hello-GPT: an embedding (mass 1), `blocks` pairs of residual attention and
    /// residual MLP blocks (tared to `blocksMass` together), and a linear head (mass 1).
    ///
    /// Each residual block is `(1 − 1/2L)·x + (1/2L)·f(x)`. Input: token ids `[batch, tokens]`;
    /// output: logits `[batch, tokens, vocabulary]`. At vocabulary 65, 4 heads, dimension 128,
    /// query/value dimension 32 and 4 blocks it has 26 atoms, mass 7 and sensitivity 1.
    ///
    /// Stops with a message unless every size and the block count are positive.
    public static func gpt(
        vocabulary: Int, heads: Int, dimension: Int, queryDimension: Int, valueDimension: Int,
        blocks count: Int, blocksMass: Double = 5, softmaxScale: Double = 1,
        orthogonalizer: any Orthogonalizer = defaultOrthogonalizer
    ) -> Sequential {
        require(count >= 1, "GPT: needs at least one block, got \(count)")
        require(vocabulary > 0 && heads > 0 && dimension > 0 && queryDimension > 0 && valueDimension > 0,
                "GPT: sizes must be positive, got vocabulary \(vocabulary), heads \(heads), dimension \(dimension), "
                    + "queryDimension \(queryDimension), valueDimension \(valueDimension)")
        let alpha = 1 / Double(2 * count)
        let attend = attention(
            heads: heads, dimension: dimension, queryDimension: queryDimension,
            valueDimension: valueDimension, softmaxScale: softmaxScale, orthogonalizer: orthogonalizer)
        let mlp = Sequential {
            Linear(in: dimension, out: 4 * dimension, orthogonalizer: orthogonalizer).named("up")
            GELU()
            Linear(in: 4 * dimension, out: dimension, orthogonalizer: orthogonalizer).named("down")
        }
        let blocks = Sequential((0..<count).map { l in
            Sequential([
                Sum.residual(attend, weight: alpha).named("attention"),
                Sum.residual(mlp, weight: alpha).named("mlp"),
            ]).named("\(l)")
        })
        return Sequential {
            Embed(vocabulary: vocabulary, dimension: dimension).tared(1).named("embed")
            blocks.tared(blocksMass).named("blocks")
            Linear(in: dimension, out: vocabulary, orthogonalizer: orthogonalizer).named("head")
        }
    }

    /// A residual CNN for `[batch, channels, size, size]` images: a 3×3 input convolution, `depth`
    /// residual blocks `(1 − 1/L)·x + (1/L)·Conv(ReLU(x))` tared to `blocksMass` together, 2×2 average
    /// pooling, and a linear classifier.
    ///
    /// Stops with a message unless `depth ≥ 1` and `imageSize` is even.
    public static func resCNN(
        channels: Int, width: Int, classes: Int, imageSize: Int, depth: Int, blocksMass: Double = 20,
        orthogonalizer: any Orthogonalizer = defaultOrthogonalizer
    ) -> Sequential {
        require(imageSize % 2 == 0, "ResCNN: image size must be even, got \(imageSize)")
        require(depth >= 1, "ResCNN: depth must be ≥ 1, got \(depth)")
        let blocks = Sequential((0..<depth).map { l in
            Sum.residual(Sequential([ReLU(), Conv2D(in: width, out: width, orthogonalizer: orthogonalizer).named("conv")]), weight: 1 / Double(depth)).named("\(l)")
        })
        return Sequential {
            Conv2D(in: channels, out: width, orthogonalizer: orthogonalizer).named("input")
            blocks.tared(blocksMass).named("blocks")
            ReLU()
            AvgPool(2)
            Flatten()
            Linear(in: width * (imageSize / 2) * (imageSize / 2), out: classes, orthogonalizer: orthogonalizer).named("output")
        }
    }
}

extension Sum {
    /// A residual connection `(1 − α)·Identity + α·block`.
    ///
    /// Stops with a message unless `0 < alpha ≤ 1`.
    public static func residual(_ block: any Module, weight alpha: Double) -> Sum {
        require(alpha > 0 && alpha <= 1, "Residual: weight must lie in (0, 1], got \(alpha)")
        if alpha == 1 { return Sum([Identity(), block]) }
        return (1 - alpha) * Identity() + alpha * block
    }
}
