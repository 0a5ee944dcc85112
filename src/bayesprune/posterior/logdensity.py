"""The BNN log posterior over a flat *position* vector, with an optional pruning mask.

The position a sampler moves is ``z = [theta_kept, eta]`` for regression with sampled noise (eta = log tau^2)
and ``z = theta_kept`` otherwise. With a mask, only the kept parameters are in ``z``: pruned parameters are
held at exactly 0 and are not sampled at all (the reduced vector is scattered back into ``theta``).
Data and kept indices are ordinary arguments, so jitted callers compile once per shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from bayesprune.model.mlp import MLPSpec, forward, init_params
from bayesprune.posterior.likelihood import categorical_pointwise, gaussian_pointwise
from bayesprune.posterior.prior import PRIOR_VAR, gaussian_logprior, log_noise_prior

Task = Literal["regression", "classification"]
NOISE_MODE_ROWS = 2**16  # rows per block of :meth:`BNNPosterior.with_noise_at_mode`


@dataclass(frozen=True)
class BNNPosterior:
    """Static description of a BNN posterior (hashable: usable as a static jit argument).

    Parameters
    ----------
    spec
        The network.
    task
        ``regression`` (Gaussian likelihood) or ``classification`` (categorical on softmax).
    prior_var
        sigma^2 of the Gaussian prior on every weight and bias (paper: 25).
    nu1, nu2
        Inverse-gamma prior on the noise variance tau^2 (paper: 0, 0).
    noise_var
        A known noise variance; ``None`` (default) samples eta = log tau^2 as the last position coordinate.
    """

    spec: MLPSpec
    task: Task
    prior_var: float = PRIOR_VAR
    nu1: float = 0.0
    nu2: float = 0.0
    noise_var: float | None = None

    @property
    def has_eta(self) -> bool:
        return self.task == "regression" and self.noise_var is None

    def position_size(self, n_kept: int | None = None) -> int:
        """Length of the position vector for ``n_kept`` kept parameters (all when ``None``)."""
        k = self.spec.n_params if n_kept is None else int(n_kept)
        return k + (1 if self.has_eta else 0)

    def theta(self, z: jax.Array, kept_idx: jax.Array | None = None) -> jax.Array:
        """The full parameter vector (pruned entries exactly 0) from a position."""
        k = self.spec.n_params if kept_idx is None else kept_idx.shape[0]
        core = z[..., :k]
        if kept_idx is None:
            return core
        full = jnp.zeros(z.shape[:-1] + (self.spec.n_params,), dtype=z.dtype)
        return full.at[..., kept_idx].set(core)

    def log_noise_var(self, z: jax.Array) -> jax.Array:
        """eta = log tau^2 from a position (regression), the fixed value when noise is known."""
        if self.has_eta:
            return z[..., -1]
        return jnp.full(z.shape[:-1], jnp.log(self.noise_var if self.noise_var else 1.0))

    def pointwise_loglik(self, z, X, y, kept_idx=None) -> jax.Array:
        """log p(y_i | x_i, z) for every row, shape (n,)."""
        out = forward(self.spec, self.theta(z, kept_idx), X)
        if self.task == "regression":
            return gaussian_pointwise(out[:, 0], y, jnp.exp(self.log_noise_var(z)))
        return categorical_pointwise(out, y)

    def log_prior(self, z, kept_idx=None) -> jax.Array:
        """log p(z): the Gaussian prior on the kept parameters (+ the noise prior on eta)."""
        k = self.spec.n_params if kept_idx is None else kept_idx.shape[0]
        lp = gaussian_logprior(z[:k], self.prior_var)
        if self.has_eta:
            lp = lp + log_noise_prior(z[-1], self.nu1, self.nu2)
        return lp

    def logdensity(self, z, X, y, kept_idx=None) -> jax.Array:
        """log p(z | data) up to a constant: log-likelihood + Gaussian prior (+ noise prior)."""
        return jnp.sum(self.pointwise_loglik(z, X, y, kept_idx)) + self.log_prior(z, kept_idx)

    def init_position(self, key: jax.Array, y_train: np.ndarray | None = None) -> jax.Array:
        """A random starting position: Glorot-normal weights, eta = log of the target variance."""
        theta = init_params(key, self.spec)
        if not self.has_eta:
            return theta
        var = float(np.var(y_train)) if y_train is not None and len(y_train) > 1 else 1.0
        return jnp.concatenate([theta, jnp.array([np.log(max(var, 1e-6))], dtype=theta.dtype)])

    def with_noise_at_mode(self, z: jax.Array, X, y, kept_idx=None) -> jax.Array:
        """Positions ``z`` (one or a batch) with eta = log tau^2 moved to its mode given the rest of the position.

        Given theta, tau^2 | theta, data ~ InvGamma(nu1 + n / 2, nu2 + S / 2), S the sum of squared residuals;
        on eta (Jacobian tau^2) the density is exp(-(nu1 + n/2) eta - (nu2 + S/2) e^-eta), whose mode is
        tau^2 = (nu2 + S / 2) / (nu1 + n / 2): a closed form, so no optimiser step size is involved. Pruning
        changes the residuals by orders of magnitude (UCI naval at 90% removed: tau^2 3e-5 fitted to the full
        network, 0.57 the pruned network's mean squared residual on the scaled target), and from the old tau^2
        the log posterior's gradient in eta is of order n S / tau^2: Adam (about ``lr`` per step) does not
        close a gap of 10 in eta in its 1,000 steps, and a sampler tuned there takes steps too small to move.
        Unchanged without a sampled noise (classification, a known ``noise_var``)."""
        if not self.has_eta:
            return z
        z = jnp.asarray(z)
        flat = z.reshape(-1, z.shape[-1])
        theta = self.theta(flat, kept_idx)
        outputs = jax.vmap(lambda t, X_: forward(self.spec, t, X_)[:, 0], in_axes=(0, None))
        squares = jnp.zeros(flat.shape[0], z.dtype)
        for start in range(0, len(y), NOISE_MODE_ROWS):  # rows in blocks: positions x rows outputs stay small
            X_, y_ = (jnp.asarray(a[start:start + NOISE_MODE_ROWS], z.dtype) for a in (X, y))
            squares = squares + jnp.sum((y_ - outputs(theta, X_)) ** 2, axis=-1)
        var = (self.nu2 + 0.5 * squares) / (self.nu1 + 0.5 * len(y))
        return flat.at[:, -1].set(jnp.log(jnp.maximum(var, jnp.finfo(z.dtype).tiny))).reshape(z.shape)

    def restrict(self, z_full: jax.Array, kept_idx: np.ndarray) -> jax.Array:
        """A reduced position (kept parameters [+ eta]) from a full one."""
        core = z_full[..., kept_idx]
        if self.has_eta:
            return jnp.concatenate([core, z_full[..., -1:]], axis=-1)
        return core

