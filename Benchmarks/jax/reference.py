"""JAX reference timings for the training steps that `modula-bench step` measures.

Written for this project from the recipes of Modula's examples (Large et al. 2024, "Scalable optimization in
the modular norm"; not Modula's source): the same networks,
loss, momentum, per-atom dualize targets and six-step Newton–Schulz as swift-modula, jitted as one
XLA computation per step (forward + backward + momentum + dualize + update), run on the CPU.

    python3 -m venv /tmp/jaxvenv && /tmp/jaxvenv/bin/pip install jax
    /tmp/jaxvenv/bin/python Benchmarks/jax/reference.py [--threads 1|2] [gpt] [mlp] [ortho]

Output lines mirror modula-bench's: `bench jax/step/<name> <shape> key=value …`, and for `ortho` (the jitted
six-step iteration alone, as in `modula-bench orthogonalize/six-step`) `bench jax/orthogonalize/six-step …`. `--threads 1` pins the
process to one CPU and turns off XLA's multithreaded Eigen before JAX is imported.
"""
import argparse
import statistics
import time

from jax_threads import pin_threads

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=0, help="1: one CPU; 0: JAX's default")
parser.add_argument("--seconds", type=float, default=4.0, help="time budget per benchmark")
parser.add_argument("what", nargs="*", default=["gpt", "mlp", "ortho"])
args = parser.parse_args()
THREADS = pin_threads(args.threads)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from modula_jax import SIX_STEP, dualize_embed, dualize_linear, orthogonalize  # noqa: E402


def timed(step, state, batches, budget):
    """Median seconds per call of a jitted `step(state, batch) -> (loss, state)` after compilation."""
    loss, state = step(state, batches[0])
    jax.block_until_ready(loss)
    t0 = time.perf_counter()
    loss, state = step(state, batches[1 % len(batches)])
    jax.block_until_ready((loss, state))
    once = time.perf_counter() - t0
    reps = max(5, min(200, int(budget / max(once, 1e-6))))
    samples = []
    for i in range(reps):
        t0 = time.perf_counter()
        loss, state = step(state, batches[i % len(batches)])
        jax.block_until_ready((loss, state))
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), float(loss)


def report(name, shape, fields):
    print(" ".join(["bench", name, shape] + [f"{k}={v}" for k, v in fields]), flush=True)


# MARK: - hello-GPT (Modula's hello-GPT: 4 blocks, width 128, context 64)

def gpt_bench(vocab=65, heads=4, d=128, dq=32, blocks=4, context=64, batch=12, beta=0.95, lr=0.1):
    key = jax.random.PRNGKey(0)
    shapes = [("embed", (vocab, d))]
    for _ in range(blocks):
        shapes += [("q", (heads * dq, d)), ("k", (heads * dq, d)), ("v", (heads * dq, d)),
                   ("o", (d, heads * dq)), ("up", (4 * d, d)), ("down", (d, 4 * d))]
    shapes += [("head", (vocab, d))]
    # Per-atom dualize targets at t = 1 from the modular masses and sensitivities: embed 1/7, Q/K/V 5/7, out and MLP 5/21, head 1/7.
    targets = {"embed": 1 / 7, "q": 5 / 7, "k": 5 / 7, "v": 5 / 7, "o": 5 / 21, "up": 5 / 21,
               "down": 5 / 21, "head": 1 / 7}
    keys = jax.random.split(key, len(shapes) + 2)
    weights = []
    for (kind, s), k in zip(shapes, keys):
        w = jax.random.normal(k, s, jnp.float32)
        weights.append(dualize_embed(w, 1.0) if kind == "embed" else dualize_linear(w, 1.0))
    momentum = [jnp.zeros_like(w) for w in weights]

    half = dq // 2
    pos = jnp.arange(context, dtype=jnp.float32)[:, None]
    freq = 10000.0 ** (-jnp.arange(half, dtype=jnp.float32) / half)
    cos, sin = jnp.cos(pos * freq), jnp.sin(pos * freq)
    mask = jnp.tril(jnp.ones((context, context), bool))
    alpha = 1 / (2 * blocks)

    def split(x):  # [b, t, h·d] → [b, h, t, d]
        b, t, _ = x.shape
        return x.reshape(b, t, heads, -1).transpose(0, 2, 1, 3)

    def rope(x):
        x1, x2 = x[..., :half], x[..., half:]
        return jnp.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)

    def forward(w, ids):
        x = w[0][ids]
        i = 1
        for _ in range(blocks):
            wq, wk, wv, wo, wu, wd = w[i:i + 6]
            i += 6
            q, k, v = rope(split(x @ wq.T)), rope(split(x @ wk.T)), split(x @ wv.T)
            s = jnp.einsum("bhtd,bhsd->bhts", q, k) / dq
            s = jax.nn.softmax(jnp.where(mask, s, -jnp.inf), axis=-1)
            a = (jnp.einsum("bhts,bhsd->bhtd", s, v) / 3).transpose(0, 2, 1, 3).reshape(x.shape[0], context, -1)
            x = (1 - alpha) * x + alpha * (a @ wo.T)
            h = jax.nn.gelu(x @ wu.T, approximate=True) / 1.1289
            x = (1 - alpha) * x + alpha * (h @ wd.T)
        return x @ w[-1].T

    def loss_fn(w, ids, labels):
        logits = forward(w, ids)
        logp = jax.nn.log_softmax(logits, axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, labels[..., None], axis=-1))

    def step(state, batch):
        w, m, t = state
        ids, labels = batch
        loss, g = jax.value_and_grad(loss_fn)(w, ids, labels)
        m = [beta * mi + (1 - beta) * gi for mi, gi in zip(m, g)]
        eta = lr * (1 - t / 2001)
        u = [dualize_embed(mi, targets[kind]) if kind == "embed" else dualize_linear(mi, targets[kind])
             for (kind, _), mi in zip(shapes, m)]
        w = [wi - eta * ui for wi, ui in zip(w, u)]
        return loss, (w, m, t + 1)

    step = jax.jit(step, donate_argnums=0)
    batches = []
    for i in range(8):
        k1, k2 = jax.random.split(jax.random.PRNGKey(100 + i))
        batches.append((jax.random.randint(k1, (batch, context), 0, vocab),
                        jax.random.randint(k2, (batch, context), 0, vocab)))
    sec, loss = timed(step, (weights, momentum, 0), batches, args.seconds)
    report("jax/step/hello-gpt", f"batch={batch} context={context}", [
        ("tokens_per_second", round(batch * context / sec)), ("ms", f"{sec * 1e3:.2f}"),
        ("threads", THREADS), ("loss", f"{loss:.4f}")])


# MARK: - MLP 784 → width → width → 10 (hello-MNIST)

def mlp_bench(width, batch, lr=0.1, name=None):
    sizes = [784, width, width, 10]
    keys = jax.random.split(jax.random.PRNGKey(1), 5)
    weights = [dualize_linear(jax.random.normal(keys[l], (sizes[l + 1], sizes[l]), jnp.float32), 1.0)
               for l in range(3)]

    def loss_fn(w, x, y):
        h = jax.nn.relu(x @ w[0].T)
        h = jax.nn.relu(h @ w[1].T)
        return jnp.mean((h @ w[2].T - y) ** 2)

    def step(w, batch_):
        x, y = batch_
        loss, g = jax.value_and_grad(loss_fn)(w, x, y)
        # Mass 3, every sensitivity 1: each Linear gets target 1/3 (no momentum, as in hello-MNIST).
        return loss, [wi - lr * dualize_linear(gi, 1 / 3) for wi, gi in zip(w, g)]

    step = jax.jit(step, donate_argnums=0)
    batches = []
    for i in range(4):
        k1, k2 = jax.random.split(jax.random.PRNGKey(200 + i))
        x = jax.random.uniform(k1, (batch, 784), jnp.float32)
        y = jax.nn.one_hot(jax.random.randint(k2, (batch,), 0, 10), 10, dtype=jnp.float32)
        batches.append((x, y))
    sec, _ = timed(step, weights, batches, args.seconds)
    if name:
        report(f"jax/step/{name}", f"batch={batch}", [
            ("images_per_second", round(batch / sec)), ("ms", f"{sec * 1e3:.3f}"), ("threads", THREADS)])
    else:
        report(f"jax/step/mlp-{width}", f"batch={batch}", [("ms", f"{sec * 1e3:.3f}"), ("threads", THREADS)])


# MARK: - Six-step Newton–Schulz alone (modula-bench orthogonalize/six-step)

def ortho_bench(rows, cols):
    """The jitted six-step iteration on one Float matrix (XLA fuses the scalings; it has no SYRK)."""
    g = jax.random.normal(jax.random.PRNGKey(7), (rows, cols), jnp.float32)
    f = jax.jit(orthogonalize)
    jax.block_until_ready(f(g))
    t0 = time.perf_counter()
    jax.block_until_ready(f(g))
    once = time.perf_counter() - t0
    reps = max(5, min(100, int(args.seconds / max(once, 1e-6))))
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        jax.block_until_ready(f(g))
        samples.append(time.perf_counter() - t0)
    sec = statistics.median(samples)
    m, n = min(rows, cols), max(rows, cols)
    flops = len(SIX_STEP) * (2 * m * m * n + 2 * m * m * m + 2 * m * m * n)  # XXᵀ, A², (bA + cA²)X
    report("jax/orthogonalize/six-step", f"{rows}x{cols}", [
        ("ms", f"{sec * 1e3:.3f}"), ("gflops", f"{flops / sec / 1e9:.1f}"), ("threads", THREADS)])


print(f"# jax {jax.__version__} on {jax.devices()[0].platform}, threads={THREADS}", flush=True)
if "gpt" in args.what:
    gpt_bench()
if "mlp" in args.what:
    mlp_bench(256, 128, name="hello-mnist")
    for width in (256, 1024):
        for batch in (128, 1024):
            mlp_bench(width, batch)
if "ortho" in args.what:
    for rows, cols in ((256, 256), (1024, 1024), (1024, 4096), (4096, 1024)):
        ortho_bench(rows, cols)
