import Testing
@testable import ModulaTensor

/// NaN in, NaN out: no elementwise map, extremum or loss may turn a NaN into a number (a ReLU that
/// maps NaN to 0 trains on garbage silently). Inputs put the NaN first, in the middle and last, so
/// that vectorized bodies and scalar tails are both covered.
@Suite("NaN propagation")
struct NaNPropagationTests {
    static let positions = [0, 5, 10]

    func withNaN<S: TensorScalar>(at position: Int, _: S.Type) -> Tensor<S> {
        var x = Tensor<S>(shape: [11], scalars: (0..<11).map { S($0) - 5 })
        x.withUnsafeMutableBufferPointer { $0[position] = .nan }
        return x
    }

    func expectNaN<S: TensorScalar>(_ t: Tensor<S>, at position: Int, _ what: String,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(t.scalars[position].isNaN, "\(what): \(t.scalars)", sourceLocation: sourceLocation)
    }

    func check<S: TensorScalar>(_: S.Type) {
        for p in Self.positions {
            let x = withNaN(at: p, S.self)
            expectNaN(x.relu(), at: p, "relu")
            expectNaN(x.gelu(), at: p, "gelu")
            expectNaN(x.gelu(scaledBy: 0.5), at: p, "gelu(scaledBy:)")
            expectNaN(x.abs(), at: p, "abs")
            expectNaN(x.sign(), at: p, "sign")
            expectNaN(x.map(.step), at: p, "step")
            expectNaN(x.exp(), at: p, "exp")
            expectNaN(x.tanh(), at: p, "tanh")
            expectNaN(x.sigmoid(), at: p, "sigmoid")
            expectNaN(x.squared(), at: p, "square")
            expectNaN(x.clamped(-1, 1), at: p, "clamped")
            expectNaN(maximum(x, Tensor<S>.zeros([11])), at: p, "maximum(x, 0)")
            expectNaN(maximum(Tensor<S>.zeros([11]), x), at: p, "maximum(0, x)")
            expectNaN(x.combined(.min, Tensor<S>.zeros([11]), "min"), at: p, "min(x, 0)")
            expectNaN(Tensor<S>.zeros([11]).combined(.min, x, "min"), at: p, "min(0, x)")
            #expect(x.max().isNaN && x.min().isNaN, "max/min with NaN at \(p)")
            #expect(x.reshaped([1, 11]).max(alongAxis: 1).scalars[0].isNaN, "max(alongAxis:) with NaN at \(p)")
            #expect(x.reshaped([11, 1]).max(alongAxis: 0).scalars[0].isNaN, "max(alongAxis: 0) with NaN at \(p)")
            #expect(x.softmax().scalars.allSatisfy { $0.isNaN }, "softmax with NaN at \(p)")
            #expect(x.logSoftmax().scalars.allSatisfy { $0.isNaN }, "logSoftmax with NaN at \(p)")
            #expect(crossEntropy(logits: x.reshaped([1, 11]), labels: [3]).scalar.isNaN, "crossEntropy with NaN at \(p)")
            #expect(meanSquaredError(x, Tensor<S>.zeros([11])).scalar.isNaN, "meanSquaredError with NaN at \(p)")
            #expect(x.reshaped([1, 11]).argmax(alongAxis: 1) == [p], "argmax with NaN at \(p)")
            #expect(!x.isFinite)
        }
    }

    @Test func float() { check(Float.self) }
    @Test func double() { check(Double.self) }

    @Test("a NaN reaches the gradient through relu")
    func reluGradient() {
        let x = withNaN(at: 5, Double.self)
        let (_, g) = valueWithGradient(at: [x]) { w in w[0].relu().sum() }
        #expect(g[0].scalars[5].isNaN)
        #expect(g[0].scalars[6] == 1 && g[0].scalars[4] == 0)
    }

    @Test("without NaN the maps keep their values, signed zeros included")
    func unchangedWithoutNaN() {
        let x = Tensor<Float>([-2, -0.0, 0, 3])
        #expect(x.relu().scalars == [0, 0, 0, 3])
        #expect(x.relu().scalars[1].sign == .plus)
        #expect(x.sign().scalars == [-1, 0, 0, 1])
        #expect(x.map(.step).scalars == [0, 0, 0, 1])
        #expect(maximum(x, Tensor<Float>([1, 1, -1, 1])).scalars == [1, 1, 0, 3])
        #expect(x.max() == 3 && x.min() == -2)
    }
}
