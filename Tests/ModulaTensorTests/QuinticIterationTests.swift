// The Newton–Schulz matrix iteration of the tensor layer: its result against a plain reference, its work
// space (the result and two k×k matrices, panels of B·X written into the Gram matrix's memory), and the
// thread setting.
import Foundation
import Testing
@testable import ModulaTensor

/// Muon's quintic step (Jordan et al. 2024), five times.
private let muon = Array(repeating: (a: 3.4445, b: -4.7750, c: 2.0315), count: 5)

/// `steps` applied to `g / ‖g‖_F` with plain products: A = X Xᵀ, B = b·A + c·A², X ← a·X + B·X.
private func reference(_ g: Tensor<Double>, _ steps: [(a: Double, b: Double, c: Double)]) -> Tensor<Double> {
    var x = g / g.frobeniusNormValue
    for s in steps {
        let a = x.matmul(x, transposeB: true)
        let b = a * s.b + a.matmul(a) * s.c
        x = x * s.a + b.matmul(x)
    }
    return x
}

@Suite("Quintic iteration")
struct QuinticIterationTests {
    // Shapes: a small k with a separate panel buffer (40×300), panels in the Gram matrix's memory (128×300 in
    // three panels of 104, 104 and 92 columns, its transpose in rows), one square panel (96×96), and panels of 2¹⁸
    // elements (512×1024 and its transpose), whose a·X + B·X passes run in two halves when there are two threads.
    @Test("the panelled iteration is the plain one, up to rounding",
          arguments: [(40, 300), (128, 300), (300, 128), (96, 96), (512, 1024), (1024, 512)])
    func againstReference(shape: (Int, Int)) {
        var rng = RandomGenerator(seed: 5)
        let g = Tensor<Double>.randomNormal([shape.0, shape.1], using: &rng)
        let o = g.quinticIteration(muon, safety: 1)
        let expected = reference(g, muon)
        // Both evaluate the same products in other summation orders: each step perturbs X by at most 2k·u
        // relative (dot products of length k, k = min(m, n)), which a later step amplifies by at most its
        // derivative bound |a| + 3|b|σ² + 5|c|σ⁴ with σ ≤ 1.25 (normalized input; Muon's steps keep σ below 1.2).
        let k = Double(Swift.min(shape.0, shape.1)), u = Double.ulpOfOne / 2, sigma2 = 1.25 * 1.25
        let gain = muon.map { abs($0.a) + 3 * abs($0.b) * sigma2 + 5 * abs($0.c) * sigma2 * sigma2 }
        let bound = Double(muon.count) * 2 * k * u * gain.reduce(1, *)
        let d = (o - expected).frobeniusNormValue / expected.frobeniusNormValue
        #expect(d <= bound, "\(shape): \(d) > \(bound)")
    }

    @Test("zeros stay zeros, NaN spreads, empty matrices pass")
    func specialInputs() {
        #expect(Tensor<Float>.zeros([8, 12]).quinticIteration(muon, safety: 1) == .zeros([8, 12]))
        var bad = Tensor<Float>.ones([8, 12])
        bad.withUnsafeMutableBufferPointer { $0[5] = .infinity }
        let spread = bad.quinticIteration(muon, safety: 1).scalars.allSatisfy { $0.isNaN }
        #expect(spread)
        #expect(Tensor<Float>.zeros([0, 5]).quinticIteration(muon, safety: 1).shape == [0, 5])
    }

    // In a child process (exit test), so that no other test's tensors count in the peak.
    @Test("work space: besides the result, two k×k matrices and nothing per step")
    func workSpace() async {
        await #expect(processExitsWith: .success) {
            for shape in [[256, 512], [512, 256], [256, 256], [256, 784]] {
                var rng = RandomGenerator(seed: 1)
                let g = Tensor<Float>.randomNormal(shape, using: &rng)
                let k = shape.min()!
                let before = TensorMemory.liveBytes
                TensorMemory.resetPeakLiveBytes()
                let o = g.quinticIteration(muon, safety: 1)
                let peak = TensorMemory.peakLiveBytes - before
                let allowed = (shape[0] * shape[1] + 2 * k * k) * MemoryLayout<Float>.stride
                if peak > allowed || !o.isFinite {
                    FileHandle.standardError.write(Data("\(shape): peak \(peak) bytes > \(allowed)\n".utf8))
                    exit(1)
                }
            }
        }
    }

    @Test("setTensorThreads sets the thread count (at least 1), tensorThreads reads it")
    func threadSetting() async {
        await #expect(processExitsWith: .success) {
            setTensorThreads(1)
            guard tensorThreads() == 1 else { exit(1) }
            setTensorThreads(0)
            guard tensorThreads() == 1 else { exit(2) }
            setTensorThreads(2)
            guard tensorThreads() == 2, blasConfiguration.threads == 2 else { exit(3) }
        }
    }
}
