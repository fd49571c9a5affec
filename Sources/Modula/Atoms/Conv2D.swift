/// A 2-D convolution (stride 1, zero padding) on `[batch, channels, height, width]` with weight
/// `[out, in, k, k]`, computed as im2col followed by one GEMM.
///
/// Its norm treats each kernel position as its own RMS→RMS linear map: k²·max over positions of
/// √(in/out)·‖W_ij‖₂; the duality map orthogonalizes each position's `[out, in]` slice and scales it
/// by √(out/in)/k² [Large et al. 2024, Appendix].
public struct Conv2D: Atom {
    /// Input channels.
    public let inChannels: Int
    /// Output channels.
    public let outChannels: Int
    /// The kernel is `kernelSize × kernelSize`.
    public let kernelSize: Int
    /// Zeros added on each side (default: (k − 1)/2, which keeps the size for odd k).
    public let padding: Int
    /// How each kernel position's polar factor is computed.
    public let orthogonalizer: any Orthogonalizer
    /// The atom's mass (1 unless chosen).
    public let mass: Double

    /// A stride-1 convolution from `inChannels` to `outChannels` channels.
    ///
    /// - Precondition: the channel counts and the kernel size are positive. Stops with a message otherwise.
    public init(
        in inChannels: Int, out outChannels: Int, kernelSize: Int = 3, padding: Int? = nil,
        orthogonalizer: any Orthogonalizer = defaultOrthogonalizer, mass: Double = 1
    ) {
        require(inChannels > 0 && outChannels > 0 && kernelSize > 0, "Conv2D: sizes must be positive")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.padding = padding ?? (kernelSize - 1) / 2
        self.orthogonalizer = orthogonalizer
        self.mass = mass
    }

    public var name: String { "Conv2D(\(inChannels)→\(outChannels), \(kernelSize)×\(kernelSize))" }
    public var weightShape: [Int] { [outChannels, inChannels, kernelSize, kernelSize] }
    var k2: Int { kernelSize * kernelSize }

    public func apply<S: TensorScalar>(_ x: Tensor<S>, weight: Tensor<S>) throws -> Tensor<S> {
        guard x.rank == 4, x.shape[1] == inChannels else {
            throw ModuleError(module: name, problem: "expected input [batch, \(inChannels), height, width], got \(x.shape)")
        }
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let ho = h + 2 * padding - kernelSize + 1, wo = w + 2 * padding - kernelSize + 1
        guard ho > 0 && wo > 0 else {
            throw ModuleError(module: name, problem: "input \(h)×\(w) is smaller than the kernel \(kernelSize)×\(kernelSize)")
        }
        // im2col as a tensor kernel (element loops here would run unspecialized through `any Module`).
        let cols = x.patches(kernel: kernelSize, padding: padding)                        // [in·k·k, n·ho·wo]
        let y = weight.reshaped([outChannels, inChannels * k2]).matmul(cols)             // [out, n·ho·wo]
        return y.reshaped([outChannels, n, ho, wo]).permuted([1, 0, 2, 3])
    }

    /// The `[out, in]` slice at each kernel position.
    func positions<S: TensorScalar>(_ w: Tensor<S>) -> [Tensor<S>] {
        let m = w.reshaped([outChannels, inChannels, k2])
        return (0..<k2).map { m.slice(axis: 2, $0..<($0 + 1)).reshaped([outChannels, inChannels]) }
    }
    func assemble<S: TensorScalar>(_ slices: [Tensor<S>]) -> Tensor<S> {
        Tensor.concatenate(slices.map { $0.reshaped([outChannels, inChannels, 1]) }, alongAxis: 2)
            .reshaped(weightShape).detached
    }

    public func initialize<S: TensorScalar>(using rng: inout RandomGenerator) -> Tensor<S> {
        project(Tensor<S>.randomNormal(weightShape, using: &rng))
    }
    public func project<S: TensorScalar>(_ w: Tensor<S>) -> Tensor<S> {
        let scale = S((Double(outChannels) / Double(inChannels)).squareRoot() / Double(k2))
        return assemble(positions(w).map { SVDOrthogonalizer().orthogonalize($0) * scale })
    }
    public func norm<S: TensorScalar>(_ w: Tensor<S>) -> S {
        let scale = S(Double(k2) * (Double(inChannels) / Double(outChannels)).squareRoot())
        return positions(w).map { ((try? $0.spectralNorm()) ?? S.nan) * scale }.max() ?? 0
    }
    public func dualNorm<S: TensorScalar>(_ g: Tensor<S>) -> S {
        let scale = S((Double(outChannels) / Double(inChannels)).squareRoot() / Double(k2))
        return positions(g).reduce(S(0)) { $0 + ((try? $1.singularValues()) ?? [S.nan]).reduce(0, +) * scale }
    }
    public func dualize<S: TensorScalar>(_ g: Tensor<S>) -> Tensor<S> {
        let scale = S((Double(outChannels) / Double(inChannels)).squareRoot() / Double(k2))
        return assemble(positions(g).map { orthogonalizer.orthogonalize($0) * scale })
    }
}
