// The cost of hooks (`withHooks`, Sources/Modula/Core/Hooks.swift): forward + backward of a network through its
// modules with no hook installed, with a no-op forward hook and with a no-op gradient hook on every atom and bond,
// and, for the MLP, the same tensor operations written out by hand (the plain path, no modules). The optimizer's
// update is left out: hooks do not act there, and it would only dilute the difference.
//
//   swift run -c release modula-bench hooks/
//
//   bench hooks/mlp-256 batch=128 plain_ms=… no_hook_ms=… forward_hook_ms=… gradient_hook_ms=…
//         no_hook_ratio=… forward_hook_ratio=… gradient_hook_ratio=… threads=…
//   bench hooks/gpt-small batch=8 context=16 no_hook_ms=… forward_hook_ms=… gradient_hook_ms=… …
//
// Ratios are against the plain path (the MLP) or against no hook (the GPT): 1 means no cost. The repetitions are
// interleaved, so noise on a shared machine hits every variant alike.
import Modula
import ModulaTensor

/// Times `step` with no hook, with a no-op forward hook and with a no-op gradient hook (plus `plain` when given).
func timeHookVariants(plain: (() -> Void)?, _ step: @escaping () -> Void) -> (plain: Double?, none: Double, forward: Double, gradient: Double) {
    let forward = Hook.forward(Float.self) { _ in nil }
    let gradient = Hook.gradient(Float.self) { _ in nil }
    var bodies: [() -> Void] = [step, { withHooks([forward]) { step() } }, { withHooks([gradient]) { step() } }]
    if let plain { bodies.append(plain) }
    let t = timeInterleaved(budget: 3.0, maxReps: 1000, bodies)
    return (plain == nil ? nil : t[3], t[0], t[1], t[2])
}

func benchHooks(_ filters: [String]) {
    if selected("hooks/mlp-256", filters) {
        let batch = 128, sizes = [784, 256, 256, 10]
        let mlp = Sequential.mlp(input: sizes[0], width: sizes[1], output: sizes[3], depth: 3)
        var rng = RandomGenerator(seed: 8)
        let weights: [Tensor<Float>] = mlp.initialize(using: &rng)
        let x = Tensor<Float>.randomNormal([batch, sizes[0]], using: &rng)
        let labels = (0..<batch).map { _ in rng.nextInt(below: sizes[3]) }
        let step = {
            blackHole(try! valueWithGradient(at: weights) { w in crossEntropy(logits: try mlp(x, w), labels: labels) })
        }
        let plain = {
            blackHole(valueWithGradient(at: weights) { w in
                let h1 = x.matmul(w[0], transposeB: true).relu()
                let h2 = h1.matmul(w[1], transposeB: true).relu()
                return crossEntropy(logits: h2.matmul(w[2], transposeB: true), labels: labels)
            })
        }
        let t = timeHookVariants(plain: plain, step)
        report("hooks/mlp-256", "batch=\(batch)", [
            ("plain_ms", fmt(t.plain! * 1e3)), ("no_hook_ms", fmt(t.none * 1e3)),
            ("forward_hook_ms", fmt(t.forward * 1e3)), ("gradient_hook_ms", fmt(t.gradient * 1e3)),
            ("no_hook_ratio", fmt(t.none / t.plain!)), ("forward_hook_ratio", fmt(t.forward / t.plain!)),
            ("gradient_hook_ratio", fmt(t.gradient / t.plain!)), ("threads", "\(tensorThreads())"),
        ])
    }
    if selected("hooks/gpt-small", filters) {
        // hello-GPT's quick form: many small modules, so a per-module cost would show most here.
        let (batch, context, vocabulary) = (8, 16, 65)
        let gpt = Sequential.gpt(vocabulary: vocabulary, heads: 2, dimension: 32, queryDimension: 8, valueDimension: 8, blocks: 2)
        var rng = RandomGenerator(seed: 9)
        let weights: [Tensor<Float>] = gpt.initialize(using: &rng)
        let ids = Tensor<Float>(shape: [batch, context], scalars: (0..<batch * context).map { _ in Float(rng.nextInt(below: vocabulary)) })
        let labels = (0..<batch * context).map { _ in rng.nextInt(below: vocabulary) }
        let t = timeHookVariants(plain: nil) {
            blackHole(try! valueWithGradient(at: weights) { w in crossEntropy(logits: try gpt(ids, w), labels: labels) })
        }
        report("hooks/gpt-small", "batch=\(batch) context=\(context)", [
            ("no_hook_ms", fmt(t.none * 1e3)), ("forward_hook_ms", fmt(t.forward * 1e3)),
            ("gradient_hook_ms", fmt(t.gradient * 1e3)), ("forward_hook_ratio", fmt(t.forward / t.none)),
            ("gradient_hook_ratio", fmt(t.gradient / t.none)), ("threads", "\(tensorThreads())"),
        ])
    }
}
