// The fused attention kernels, scaled matmul, in-place kernels, the finiteness check and in-place
// gradient accumulation, each against a plain reference.
import Foundation
import Testing
@testable import ModulaTensor

@Suite("Fused and in-place kernels")
struct FusedKernelTests {
    @Test("rotatingHalves equals the rotation written with slices, and its gradient checks")
    func rotatingHalves() {
        let x = randn([2, 3, 5, 6], seed: 1, as: Double.self)
        let c = randn([5, 3], seed: 2, as: Double.self), s = randn([5, 3], seed: 3, as: Double.self)
        let x1 = x.slice(axis: -1, 0..<3), x2 = x.slice(axis: -1, 3..<6)
        let reference = Tensor.concatenate([x1 * c - x2 * s, x1 * s + x2 * c], alongAxis: -1)
        expectClose(x.rotatingHalves(cos: c, sin: s), reference)
        expectGradient(at: [x]) { $0[0].rotatingHalves(cos: c, sin: s) }
        // Float agrees with Double.
        let xf = x.converted(to: Float.self)
        expectClose(xf.rotatingHalves(cos: c.converted(), sin: s.converted()), reference.converted(to: Float.self), tolerance: 1e-5)
    }

    @Test("causallyMasked puts −∞ above the diagonal and passes the cotangent below it")
    func causallyMasked() {
        let x = randn([2, 2, 4, 4], seed: 4, as: Double.self)
        let m = x.causallyMasked()
        for b in 0..<2 { for h in 0..<2 { for i in 0..<4 { for j in 0..<4 {
            #expect(m[b, h, i, j] == (j > i ? -.infinity : x[b, h, i, j]))
        } } } }
        // Through a softmax (as in attention) the gradient is finite and matches finite differences.
        expectGradient(at: [x]) { $0[0].causallyMasked().softmax() }
        let g = gradient(at: [x]) { $0[0].causallyMasked().softmax().squared().sum() }[0]
        #expect(g[1, 1, 0, 3] == 0 && g[0, 1, 2, 3] == 0)
        #expect(Tensor<Float>.zeros([0, 0]).causallyMasked().shape == [0, 0])
    }

    @Test("matmul(scaledBy:) scales the product and its gradients", arguments: [(false, false), (false, true), (true, false), (true, true)])
    func scaledMatmul(_ t: (Bool, Bool)) {
        let a = randn([2] + (t.0 ? [4, 3] : [3, 4]), seed: 5, as: Double.self)
        let b = randn([2] + (t.1 ? [2, 4] : [4, 2]), seed: 6, as: Double.self)
        expectClose(a.matmul(b, transposeA: t.0, transposeB: t.1, scaledBy: 0.25),
                    a.matmul(b, transposeA: t.0, transposeB: t.1) * 0.25)
        expectGradient(at: [a, b]) { $0[0].matmul($0[1], transposeA: t.0, transposeB: t.1, scaledBy: -1.5) }
    }

    @Test("linearCombination equals the products and sums written out, bit for bit, and its gradient checks")
    func linearCombination() {
        let a = randn([3, 4], seed: 40, as: Float.self), b = randn([3, 4], seed: 41, as: Float.self)
        let c = randn([3, 4], seed: 42, as: Float.self)
        let fused = Tensor.linearCombination([a, b, c], coefficients: [0.875, 0.125, 1])
        #expect(fused.scalars == (a * 0.875 + b * 0.125 + c).scalars)
        let x = randn([2, 5], seed: 43, as: Double.self), y = randn([2, 5], seed: 44, as: Double.self)
        expectGradient(at: [x, y]) { Tensor.linearCombination([$0[0], $0[1], $0[0]], coefficients: [0.5, -2, 1]) }
    }

    @Test("gelu(scaledBy:) is the scaled tanh-approximated GELU, and its gradient checks")
    func scaledGELU() {
        let x = randn([4, 33], seed: 45, scale: 3, as: Double.self)
        let reference = x.scalars.map { v in 0.5 * v * (1 + Foundation.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))) / 1.1289 }
        expectClose(x.gelu(scaledBy: 1 / 1.1289), x.shape, reference, tolerance: 1e-12)
        expectClose(x.converted(to: Float.self).gelu(scaledBy: 1 / 1.1289), x.shape, reference.map { Float($0) }, tolerance: 2e-6)
        expectGradient(at: [x]) { $0[0].gelu(scaledBy: 0.5) }
        let xf = x.converted(to: Float.self)
        let (_, g) = valueWithGradient(at: xf) { $0.gelu(scaledBy: 2).sum() }
        let (_, gd) = valueWithGradient(at: x) { $0.gelu(scaledBy: 2).sum() }
        expectClose(g, gd.converted(to: Float.self), tolerance: 1e-5)
    }

    @Test("patches is im2col (one column per output position), and its gradient checks",
          arguments: [(3, 1), (3, 0), (1, 0), (3, 2), (2, 1)])
    func patches(_ kp: (Int, Int)) {
        let (k, p) = kp
        let x = randn([2, 3, 4, 5], seed: 50, as: Double.self)
        expectIm2col(x, kernel: k, padding: p)
        expectGradient(at: [x]) { $0[0].patches(kernel: k, padding: p) }
    }

    @Test("patches of a batch large enough to be split between threads, with fewer channels than threads' vector width")
    func patchesSplit() {
        // 32 RGB images of 16×16 with a 3×3 kernel: the copy is split by channel, three channels in two parts.
        expectIm2col(randn([32, 3, 16, 16], seed: 51, as: Float.self), kernel: 3, padding: 1)
        expectIm2col(randn([64, 1, 12, 12], seed: 52, as: Float.self), kernel: 3, padding: 0)
    }

    /// `x.patches(kernel:padding:)` against im2col written out element by element.
    func expectIm2col<T: TensorScalar>(_ x: Tensor<T>, kernel k: Int, padding p: Int) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let ho = h + 2 * p - k + 1, wo = w + 2 * p - k + 1
        let cols = x.patches(kernel: k, padding: p)
        #expect(cols.shape == [c * k * k, n * ho * wo])
        let xs = x.scalars, got = cols.scalars
        var wrong = 0
        for ch in 0..<c { for di in 0..<k { for dj in 0..<k { for b in 0..<n { for i in 0..<ho { for j in 0..<wo {
            let (yy, xx) = (i + di - p, j + dj - p)
            let expected = yy >= 0 && yy < h && xx >= 0 && xx < w ? xs[((b * c + ch) * h + yy) * w + xx] : 0
            if got[((ch * k + di) * k + dj) * (n * ho * wo) + (b * ho + i) * wo + j] != expected { wrong += 1 }
        } } } } } }
        #expect(wrong == 0, "\(x.shape), kernel \(k), padding \(p): \(wrong) wrong entries")
    }

    @Test("isFinite finds one NaN or infinity anywhere, also past a block boundary and in the tail")
    func isFinite() {
        for n in [1, 3, 4, 7, 1023, 1024, 1025, 5000] {
            let x = randn([n], seed: UInt64(n), as: Float.self)
            #expect(x.isFinite)
            for position in Set([0, n / 2, n - 1]) {
                for bad in [Float.nan, .infinity, -.infinity] {
                    var y = x
                    y.withUnsafeMutableBufferPointer { $0[position] = bad }
                    #expect(!y.isFinite, "n \(n), position \(position), \(bad)")
                }
            }
        }
        #expect(Tensor<Double>.zeros([0]).isFinite)
        #expect(Tensor<Double>(shape: [2], scalars: [Double.greatestFiniteMagnitude, -.greatestFiniteMagnitude]).isFinite)
    }

    @Test("kernels give the same result in place as into fresh memory")
    func inPlaceKernels() {
        for n in [1, 5, 8, 37, 100] {  // 100: whole 8- and 16-lane vectors and a tail
            let x = randn([n], seed: UInt64(10 + n), as: Float.self), y = randn([n], seed: UInt64(20 + n), as: Float.self)
            for op in [UnaryOp.exp, .tanh, .sigmoid, .gelu, .geluDerivative, .relu, .neg, .square, .abs] {
                let fresh = x.map(op)
                var same = x
                same.withUnsafeMutableBufferPointer { p in Float.unary(op, p.baseAddress!, p.baseAddress!, n) }
                #expect(same.scalars == fresh.scalars, "\(op), n \(n)")
            }
            for op in [BinaryOp.add, .sub, .mul, .div, .max, .min] {
                let fresh = x.combined(op, y, "test")
                var left = x, right = y
                left.withUnsafeMutableBufferPointer { p in
                    y.withUnsafeBufferPointer { q in Float.binary(op, p.baseAddress!, 1, q.baseAddress!, 1, p.baseAddress!, n) }
                }
                right.withUnsafeMutableBufferPointer { q in
                    x.withUnsafeBufferPointer { p in Float.binary(op, p.baseAddress!, 1, q.baseAddress!, 1, q.baseAddress!, n) }
                }
                #expect(left.scalars == fresh.scalars && right.scalars == fresh.scalars, "\(op), n \(n)")
            }
            var scaled = x
            scaled.scaleInPlace(by: 3, adding: -1)
            #expect(scaled.scalars == x.affine(3, -1).scalars)
            // Fused GELU and its pullback written over the input or over the cotangent; softmax rows in place.
            var fresh = x, overX = x, overG = y
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeBufferPointer { gp in
                    fresh.withUnsafeMutableBufferPointer { Float.gelu(xp.baseAddress!, scale: 0.7, cotangent: gp.baseAddress!, $0.baseAddress!, n) }
                    overG.withUnsafeMutableBufferPointer { Float.gelu(xp.baseAddress!, scale: 0.7, cotangent: $0.baseAddress!, $0.baseAddress!, n) }
                }
            }
            y.withUnsafeBufferPointer { gp in
                overX.withUnsafeMutableBufferPointer { Float.gelu($0.baseAddress!, scale: 0.7, cotangent: gp.baseAddress!, $0.baseAddress!, n) }
            }
            #expect(overX.scalars == fresh.scalars && overG.scalars == fresh.scalars, "gelu pullback, n \(n)")
            let soft = x.reshaped([1, n]).softmax()
            var softInPlace = x
            softInPlace.withUnsafeMutableBufferPointer { Float.softmaxRows($0.baseAddress!, $0.baseAddress!, rows: 1, length: n) }
            #expect(softInPlace.scalars == soft.scalars, "softmax, n \(n)")
        }
    }

    @Test("Float's transcendental kernels use the widest instruction set the CPU has, or the one MODULA_KERNELS names")
    func kernelDispatch() throws {
        #expect(["avx512", "avx2", "baseline"].contains(floatKernelInstructionSet))
        #if arch(x86_64) && os(Linux)
        let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(info.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        let best = flags.isSuperset(of: ["avx512f", "avx512dq"]) ? "avx512"
            : flags.isSuperset(of: ["avx2", "fma"]) ? "avx2" : "baseline"
        let forced = ProcessInfo.processInfo.environment["MODULA_KERNELS"] ?? ""
        #expect(floatKernelInstructionSet == (forced.isEmpty ? best : forced))
        #endif
    }

    @Test("MODULA_KERNELS with a name that is not an instruction set stops with a message")
    func kernelOverrideRejected() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            setenv("MODULA_KERNELS", "sse9", 1)
            _ = Tensor<Float>.ones([4]).exp()
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("MODULA_KERNELS=sse9: expected avx512, avx2 or baseline"), "\(text)")
    }

    @Test("softmax gives exact zeros at −∞ and a row of NaN when every entry is −∞")
    func softmaxMasked() {
        let x = Tensor<Float>(shape: [2, 20], scalars: (0..<40).map { i in i % 20 > 12 || i >= 20 ? -.infinity : Float(i % 7) })
        let s = x.softmax().scalars
        #expect(s[13..<20].allSatisfy { $0 == 0 })
        #expect(abs(s[0..<20].reduce(0, +) - 1) < 1e-6)
        #expect(s[20..<40].allSatisfy { $0.isNaN })
    }

    @Test("gradients of an input used many times add up, in place or not, without touching shared cotangents")
    func accumulation() {
        let x = randn([3, 4], seed: 30, as: Double.self)
        // x reaches the loss through `+` (one cotangent shared by both operands), a product and a reshape.
        expectGradient(at: [x]) { w in
            let a = w[0] + w[0]
            return (a + w[0] * w[0] + w[0].reshaped([4, 3]).reshaped([3, 4])).exp()
        }
        let g = gradient(at: [x]) { w in (w[0] + w[0] + w[0]).sum() }[0]
        #expect(g.scalars == [Double](repeating: 3, count: 12))
    }
}
