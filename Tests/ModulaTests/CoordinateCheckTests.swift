import Testing
@testable import Modula

// mup's coordinate check on an MLP over widths 64…512: standard-parametrized Adam grows the hidden activations'
// change with width and is flagged; μP Adam and the modular norm are not. Measured here (log-log slopes of the
// last step's output RMS and its change against width): SP hidden 0.62 / 0.91, output 0.68 / 0.66; μP all below
// 0.07; modular below 0.09 except the output's RMS, −0.40 (its logits start at √(10/width) and 4 steps of 0.1
// do not yet dominate them).
@Suite("Coordinate check", .serialized)
struct CoordinateCheckTests {
    let widths = [64, 128, 256, 512]

    func check(_ prepare: (any Module, inout RandomGenerator) throws -> ([Tensor<Float>], Optimizer<Float>)) throws -> CoordinateCheck {
        var data = RandomGenerator(seed: 3)
        let probe = Tensor<Float>.randomNormal([16, 32], using: &data)
        let xs = (0..<4).map { _ in Tensor<Float>.randomNormal([16, 32], using: &data) }
        let ys = (0..<4).map { _ in (0..<16).map { _ in data.nextInt(below: 10) } }
        var t = 0
        return try CoordinateCheck.run(
            widths: widths, steps: 4, onlyAtoms: true,
            build: { Sequential.mlp(input: 32, width: $0, output: 10, depth: 3) }, prepare: prepare,
            batch: { _ in defer { t += 1 }; return (xs[t % 4], ys[t % 4]) }, probe: probe)
    }

    @Test("standard-parametrized Adam is flagged; μP Adam and modular are not")
    func flags() throws {
        let base = Sequential.mlp(input: 32, width: 64, output: 10, depth: 3)
        func adam(_ p: Parametrization) -> (any Module, inout RandomGenerator) throws -> ([Tensor<Float>], Optimizer<Float>) {
            { m, rng in
                let w: [Tensor<Float>] = try p.initialize(m, using: &rng)
                return (w, try Optimizer(module: m, groups: [
                    ParameterGroup("adam", rule: .rule(AdamWRule()), learningRate: .constant(0.01)),
                ], parametrization: p))
            }
        }
        let sp = try check(adam(.standard))
        let mup = try check(adam(.muP(base: base)))
        let modular = try check { m, rng in (m.initialize(using: &rng), try .modular(module: m, learningRate: .constant(0.1))) }
        #expect(sp.layers.map(\.path) == ["0", "2", "4"])
        #expect(!sp.flagged.isEmpty, "\(sp.layers.map { ($0.path, $0.rmsSlope, $0.changeSlope) })")
        #expect(mup.flagged.isEmpty, "\(mup.layers.map { ($0.path, $0.rmsSlope, $0.changeSlope) })")
        #expect(modular.flagged.isEmpty, "\(modular.layers.map { ($0.path, $0.rmsSlope, $0.changeSlope) })")
        #expect(sp.layers[0].rms.count == 4 && sp.layers[0].rms[0].count == 5)  // widths × (steps + 1)
    }
}
