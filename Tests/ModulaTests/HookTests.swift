import Testing
@testable import Modula

@Suite("Hooks")
struct HookTests {
    let mlp = Sequential.mlp(input: 6, width: 8, output: 3, depth: 3)

    func setup() -> ([Tensor<Double>], Tensor<Double>) {
        var rng = RandomGenerator(seed: 1)
        return (mlp.initialize(using: &rng), Tensor<Double>.randomNormal([4, 6], using: &rng))
    }

    @Test("a forward hook sees every atom and bond by path, with its inputs and outputs; nil keeps them")
    func forwardPaths() throws {
        let (w, x) = setup()
        var seen: [(String, String, [Int])] = []
        let hook = Hook.forward(Double.self) { e in
            seen.append((e.path, e.module.name, e.outputs[0].shape))
            return nil
        }
        let hooked = try withHooks([hook]) { try mlp(x, w) }
        #expect(seen.map(\.0) == ["0", "1", "2", "3", "4"])
        #expect(seen.map(\.2) == [[4, 8], [4, 8], [4, 8], [4, 8], [4, 3]])
        #expect(hooked == (try mlp(x, w)))
        // Outside withHooks nothing runs.
        seen = []
        _ = try mlp(x, w)
        #expect(seen.isEmpty)
    }

    @Test("a forward hook can replace an output; a predicate selects atoms only")
    func replaceOutput() throws {
        let (w, x) = setup()
        let zero = Hook.forward(Double.self, where: Hook.at("1")) { e in [Tensor.zeros(e.outputs[0].shape)] }
        #expect(try withHooks([zero]) { try mlp(x, w) } == .zeros([4, 3]))
        var atoms: [String] = []
        let onlyAtoms = Hook.forward(Double.self, where: { _, m in m is any Atom }) { e in atoms.append(e.path); return nil }
        _ = try withHooks([onlyAtoms]) { try mlp(x, w) }
        #expect(atoms == ["0", "2", "4"])
    }

    @Test("a gradient hook sees the gradient at a module's output and can replace it")
    func gradients() throws {
        let (w, x) = setup()
        var arriving: [Tensor<Double>] = []
        let look = Hook.gradient(Double.self, where: Hook.at("4")) { e in arriving.append(e.gradient); return nil }
        let (_, plain) = try valueWithGradient(at: w) { w in try mlp(x, w).sum() }
        let (_, observed) = try withHooks([look]) { try valueWithGradient(at: w) { w in try mlp(x, w).sum() } }
        #expect(arriving == [Tensor.ones([4, 3])])   // d sum / d output
        #expect(observed == plain)
        let block = Hook.gradient(Double.self, where: Hook.at("4")) { e in .zeros(e.gradient.shape) }
        let (_, blocked) = try withHooks([block]) { try valueWithGradient(at: w) { w in try mlp(x, w).sum() } }
        #expect(blocked.allSatisfy { $0 == .zeros($0.shape) })
    }

    @Test("paths inside a GPT are the tree's labels, atoms in weight order")
    func gptPaths() throws {
        let gpt = Sequential.gpt(vocabulary: 7, heads: 2, dimension: 8, queryDimension: 4, valueDimension: 4, blocks: 1)
        var rng = RandomGenerator(seed: 2)
        let w: [Tensor<Double>] = gpt.initialize(using: &rng)
        let ids = Tensor<Double>(shape: [1, 5], scalars: [1, 2, 3, 4, 5])
        var atomPaths: [String] = []
        _ = try withHooks([Hook.forward(Double.self, where: { _, m in m is any Atom }) { e in atomPaths.append(e.path); return nil }]) {
            try gpt(ids, w)
        }
        #expect(atomPaths == gpt.atomPaths)  // forward order is weight order
        #expect(gpt.atomPaths.count == gpt.weightNames.count)
        #expect(atomPaths.contains("blocks.0.attention.1.0.1.0.0.query"), "\(atomPaths)")
    }
}
