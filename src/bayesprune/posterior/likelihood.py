"""Likelihoods of the network output, pointwise (for ArviZ LOO/WAIC) and summed."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def gaussian_pointwise(mean: jnp.ndarray, y: jnp.ndarray, noise_var: jnp.ndarray) -> jnp.ndarray:
    """log N(y_i | f_i, tau^2) for each row; ``mean`` (n,) or (n, 1)."""
    mean = mean.reshape(y.shape)
    return -0.5 * (jnp.log(2.0 * jnp.pi * noise_var) + (y - mean) ** 2 / noise_var)


def categorical_pointwise(logits: jnp.ndarray, y: jnp.ndarray) -> jnp.ndarray:
    """log softmax(logits_i)[y_i] for each row; ``y`` holds class indices."""
    logp = jax.nn.log_softmax(logits, axis=-1)
    return jnp.take_along_axis(logp, y[:, None].astype(jnp.int32), axis=-1)[:, 0]
