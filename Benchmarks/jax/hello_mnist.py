"""The whole hello-MNIST job in JAX, as a user would write it: the reference for `scripts/train`.

Written for this project from Modula's hello-MNIST recipe (Large et al. 2024, "Scalable optimization in the modular
norm"; not Modula's source): Fashion-MNIST from Debian's `dataset-fashion-mnist` (gzip IDX files), images/255,
the MLP 784 → 256 → 256 → 10 with ReLU and no biases, weights initialized as semi-orthogonal matrices of spectral
norm √(fan_out/fan_in), mean-squared error against one-hot targets, batches of 128 drawn with replacement from the
whole training set, 1000 steps of the dualized update at learning rate 0.1 (every Linear gets the target 1/3: mass 3,
sensitivities 1, no momentum), six-step Newton–Schulz, then the test accuracy over the 10 000 test images.

    python3 -m venv /tmp/jaxvenv && /tmp/jaxvenv/bin/pip install jax
    /tmp/jaxvenv/bin/python Benchmarks/jax/hello_mnist.py [--threads 1] [--steps 1000] [--data DIR]

It prints one line, `result jax-hello-mnist test_accuracy=… train_loss=… images_per_second=… seconds=…
load_seconds=… compile_seconds=… total_seconds=… threads=…`: `seconds` is the training loop after the first
(compiling) step, `total_seconds` the process from its first line (Python start-up excluded) to the result, JAX's
import, the data load, compilation and evaluation included. `--threads 1` pins the process to one CPU and turns off
XLA's multithreaded Eigen before JAX is imported.
"""
import time

START = time.perf_counter()

import argparse  # noqa: E402
import gzip  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402

from jax_threads import pin_threads  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=1000)
parser.add_argument("--batch", type=int, default=128)
parser.add_argument("--width", type=int, default=256)
parser.add_argument("--learning-rate", type=float, default=0.1)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
parser.add_argument("--threads", type=int, default=0, help="1: one CPU; 0: JAX's default")
args = parser.parse_args()
THREADS = pin_threads(args.threads)

import numpy as np  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from modula_jax import dualize_linear  # noqa: E402


def read_idx(path):
    """An IDX array (gzip-compressed or not): magic 0 0 type rank, big-endian extents, then the bytes."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 8:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file")
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank)
    if data.size != math.prod(dims):
        raise SystemExit(f"{path}: expected {math.prod(dims)} bytes of data, found {data.size}")
    return data.reshape(dims)


def load(split):
    prefix = "train" if split == "train" else "t10k"
    for suffix in (".gz", ""):
        images = os.path.join(args.data, f"{prefix}-images-idx3-ubyte{suffix}")
        if os.path.exists(images):
            labels = os.path.join(args.data, f"{prefix}-labels-idx1-ubyte{suffix}")
            x = read_idx(images).reshape(-1, 28 * 28).astype(np.float32) / 255
            return x, read_idx(labels).astype(np.int32)
    raise SystemExit(f"{args.data}: no {prefix}-images-idx3-ubyte(.gz); install dataset-fashion-mnist")


def forward(w, x):
    h = jax.nn.relu(x @ w[0].T)
    h = jax.nn.relu(h @ w[1].T)
    return h @ w[2].T


def loss_fn(w, x, y):
    return jnp.mean((forward(w, x) - y) ** 2)


@jax.jit
def step(w, x, labels):
    y = jax.nn.one_hot(labels, 10, dtype=jnp.float32)
    loss, g = jax.value_and_grad(loss_fn)(w, x, y)
    return loss, [wi - args.learning_rate * dualize_linear(gi, 1 / 3) for wi, gi in zip(w, g)]


@jax.jit
def correct(w, x, labels):
    return jnp.sum(jnp.argmax(forward(w, x), axis=-1) == labels)


def main():
    t0 = time.perf_counter()
    train_x, train_y = load("train")
    test_x, test_y = load("test")
    load_seconds = time.perf_counter() - t0

    sizes = [784, args.width, args.width, 10]
    keys = jax.random.split(jax.random.PRNGKey(args.seed), 3)
    w = [dualize_linear(jax.random.normal(keys[l], (sizes[l + 1], sizes[l]), jnp.float32), 1.0) for l in range(3)]
    rng = np.random.default_rng(args.seed)
    losses = []
    compile_seconds = seconds = 0.0
    for i in range(args.steps):
        idx = rng.integers(0, len(train_x), args.batch)
        t0 = time.perf_counter()
        loss, w = step(w, train_x[idx], train_y[idx])
        losses.append(float(loss))  # waits for the step, as a loop that logs its loss does
        if i == 0:
            compile_seconds = time.perf_counter() - t0
        else:
            seconds += time.perf_counter() - t0
    hits = sum(int(correct(w, test_x[s:s + 1000], test_y[s:s + 1000])) for s in range(0, len(test_x), 1000))
    accuracy = hits / len(test_x)
    tail = losses[-50:]
    total = time.perf_counter() - START
    print(f"result jax-hello-mnist test_accuracy={accuracy:.4f} train_loss={sum(tail) / len(tail):.6f} "
          f"images_per_second={round((args.steps - 1) * args.batch / max(seconds, 1e-9))} seconds={seconds:.2f} "
          f"load_seconds={load_seconds:.2f} compile_seconds={compile_seconds:.2f} total_seconds={total:.2f} "
          f"threads={THREADS} jax={jax.__version__}", flush=True)


main()
