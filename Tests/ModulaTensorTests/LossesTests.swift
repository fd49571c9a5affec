import Foundation
import Testing
@testable import ModulaTensor

@Suite("Losses and normalizations: forward values")
struct LossesTests {
    func softmaxCase<T: TensorScalar>(_: T.Type, shape: [Int]) {
        let x = randn(shape, seed: 3, scale: 2, as: T.self)
        let n = shape.last!, s = x.scalars
        var wantSoftmax: [T] = [], wantLog: [T] = []
        for r in 0..<(x.count / n) {
            let row = s[(r * n)..<(r * n + n)].map { Double($0) }
            let z = row.reduce(0) { $0 + Foundation.exp($1) }
            wantSoftmax += row.map { T(Foundation.exp($0) / z) }
            wantLog += row.map { T($0 - Foundation.log(z)) }
        }
        expectClose(x.softmax(), shape, wantSoftmax, tolerance: T(1e-6))
        expectClose(x.logSoftmax(), shape, wantLog, tolerance: T(1e-6))
    }

    @Test func softmaxAndLogSoftmax() {
        for shape in [[5], [3, 4], [2, 3, 4], [2, 1]] {
            softmaxCase(Float.self, shape: shape)
            softmaxCase(Double.self, shape: shape)
        }
    }

    @Test func softmaxIsStableForLargeLogits() {
        let x = Tensor<Float>(rows: [[1000, 1000, -1000], [-1e30, 0, 1e30]])
        #expect(x.softmax().scalars == [0.5, 0.5, 0, 0, 0, 1])
        let l = x.logSoftmax().scalars
        #expect(x.logSoftmax().isFinite)
        #expect(Swift.abs(l[0] + Float.log(2)) < 1e-4 && Swift.abs(l[2] + 2000 + Float.log(2)) < 1e-3 && l[5] == 0)
        #expect(crossEntropy(logits: x, labels: [0, 2]).isFinite)
    }

    func crossEntropyCase<T: TensorScalar>(_: T.Type) {
        let logits = randn([4, 5], seed: 8, scale: 2, as: T.self)
        let labels = [0, 4, 2, 2]
        let ls = logits.logSoftmax().scalars
        let want = -labels.enumerated().reduce(T(0)) { $0 + ls[$1.offset * 5 + $1.element] } / 4
        let got = crossEntropy(logits: logits, labels: labels)
        #expect(got.shape == [])
        #expect(isClose([got.scalar], [want], tolerance: T(1e-6)))
        // Labels index the last axis of any rank.
        let got3 = crossEntropy(logits: logits.reshaped([2, 2, 5]), labels: labels)
        #expect(isClose([got3.scalar], [want], tolerance: T(1e-6)))
        // Equals the one-hot form.
        let viaOneHot = -(oneHot(labels, classes: 5, as: T.self) * logits.logSoftmax()).sum().scalar / 4
        #expect(isClose([got.scalar], [viaOneHot], tolerance: T(1e-6)))
    }

    @Test("crossEntropy") func crossEntropyValues() {
        crossEntropyCase(Float.self)
        crossEntropyCase(Double.self)
    }

    @Test("meanSquaredError") func meanSquaredErrorValues() {
        let p = Tensor<Double>(rows: [[1, 2], [3, 4]]), t = Tensor<Double>(rows: [[1, 0], [0, 4]])
        #expect(meanSquaredError(p, t).scalar == 13.0 / 4)
        #expect(meanSquaredError(p, p).scalar == 0)
    }

    @Test("oneHot") func oneHotValues() {
        let h = oneHot([2, 0, 1], classes: 3, as: Float.self)
        #expect(h.shape == [3, 3])
        #expect(h.scalars == [0, 0, 1, 1, 0, 0, 0, 1, 0])
    }
}
