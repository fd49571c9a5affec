"""The duality maps of swift-modula's atoms in JAX, shared by reference.py and hello_mnist.py.

Import after `jax_threads.pin_threads`. Written for this project from the modular-norm recipes (Large et al. 2024;
Bernstein & Newhouse 2024), not from Modula's source.
"""
import math

import jax
import jax.numpy as jnp

jax.config.update("jax_default_matmul_precision", "highest")

# Six-step Newton–Schulz coefficients (×1/1024), the orthogonalizer of swift-modula's Linear.
SIX_STEP = [(a / 1024, b / 1024, c / 1024) for a, b, c in [
    (3955, -8306, 5008), (3735, -6681, 3463), (3799, -6499, 3211),
    (4019, -6385, 2906), (2677, -3029, 1162), (2172, -1833, 682)]]


def orthogonalize(g):
    """Approximate polar factor: X ← aX + (bA + cA²)X on the side with the smaller Gram matrix."""
    wide = g.shape[0] <= g.shape[1]
    x = g if wide else g.T
    x = x / (jnp.sqrt(jnp.sum(x * x)) + 1e-30)
    for a, b, c in SIX_STEP:
        A = x @ x.T
        x = a * x + (b * A + c * (A @ A)) @ x
    return x if wide else x.T


def dualize_linear(g, target):
    """The Linear atom's duality map: √(fan_out/fan_in)·UVᵀ, scaled to `target`."""
    out, inn = g.shape
    return (target * math.sqrt(out / inn)) * orthogonalize(g)


def dualize_embed(g, target):
    """The Embed atom's duality map: each row scaled to length √d, scaled to `target`."""
    d = g.shape[1]
    n = jnp.sqrt(jnp.sum(g * g, axis=1, keepdims=True))
    return target * jnp.where(n > 0, g * (math.sqrt(d) / jnp.where(n > 0, n, 1)), 0.0)
