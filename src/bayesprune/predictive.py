"""Posterior predictive: network outputs for every kept draw, then means, intervals and class probabilities."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from bayesprune.model.mlp import forward
from bayesprune.posterior.logdensity import BNNPosterior


@partial(jax.jit, static_argnums=0)
def _outputs(posterior: BNNPosterior, thetas: jax.Array, X: jax.Array) -> jax.Array:
    out = jax.vmap(lambda t: forward(posterior.spec, t, X))(thetas)
    if posterior.task == "classification":
        return jax.nn.softmax(out, axis=-1)
    return out[..., 0]


# One batch of draws evaluated at once holds its activations, draws x rows x the widest layer in float32 (a few
# times over: pre-activations, activations, outputs): 512 draws of LeNet-300-100 on 60,000 rows would be 37 GB a
# copy. This caps one copy at 256 MiB by taking fewer draws at a time on many rows or wide layers.
EVAL_BYTES = 256 * 2**20
NOISE_VALUES = 2**24  # predictive-sample noise drawn at once: 64 MiB of float32 (Predictive.sample_columns)


def draw_batch(posterior: BNNPosterior, n_rows: int, batch: int) -> int:
    """Draws evaluated at once: ``batch``, or fewer (a power of two, so few shapes compile) when one copy of their
    activations on ``n_rows`` rows would exceed :data:`EVAL_BYTES`."""
    spec = posterior.spec
    per_draw = 4 * max(n_rows, 1) * max((spec.n_outputs, *spec.hidden))  # a network may have no hidden layer
    fit = EVAL_BYTES // per_draw
    if fit >= batch:
        return batch
    return 1 << max(int(fit).bit_length() - 1, 0)


def _in_batches(call, stack: np.ndarray, batch: int, dtype=None) -> np.ndarray:
    """``call`` on the rows of ``stack`` (n, ...) in batches of ``batch`` rows (the last one padded by repeating
    its final row), so one compiled shape serves any number of rows; the results written into one array (of
    ``dtype``, default the results'), padding dropped: no list of parts and no second copy to concatenate."""
    size = min(batch, stack.shape[0])
    out = None
    for start in range(0, stack.shape[0], size):
        chunk = stack[start : start + size]
        pad = size - chunk.shape[0]
        if pad:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)])
        part = np.asarray(call(jnp.asarray(chunk)))[: size - pad]
        if out is None:
            out = np.empty((stack.shape[0], *part.shape[1:]), dtype or part.dtype)
        out[start : start + len(part)] = part
    return out


def network_outputs(posterior: BNNPosterior, thetas: np.ndarray, X: np.ndarray, kept_idx: np.ndarray | None = None,
                    *, batch: int = 512) -> np.ndarray:
    """Outputs for a stack of full parameter vectors ``thetas`` (..., n_params), or of positions (..., dim)
    reduced to the parameters ``kept_idx``.

    A batch of them at a time (:func:`draw_batch`) is expanded to full parameter vectors and run through the
    network: the vectors of every draw at once would be draws x the full network (4.3 GB for 4,000 compact draws
    of LeNet-300-100, however few parameters they keep). The expansion runs outside the compiled forward pass,
    so every stage of a run (full, pruned, resampled) shares one compiled network per batch shape.

    Returns regression means ``(..., n)`` or class probabilities ``(..., n, K)``.
    """
    thetas = np.asarray(thetas, np.float32)
    lead = thetas.shape[:-1]
    Xj = jnp.asarray(X, jnp.float32)
    kept = None if kept_idx is None else jnp.asarray(kept_idx)
    out = _in_batches(lambda z: _outputs(posterior, posterior.theta(z, kept), Xj),
                      thetas.reshape(-1, thetas.shape[-1]), draw_batch(posterior, len(X), batch))
    return out.reshape(*lead, *out.shape[1:])


@partial(jax.jit, static_argnums=0)
def _pointwise(posterior: BNNPosterior, draws: jax.Array, X: jax.Array, y: jax.Array, kept_idx) -> jax.Array:
    return jax.vmap(lambda z: posterior.pointwise_loglik(z, X, y, kept_idx))(draws)


def pointwise_loglik(posterior: BNNPosterior, draws: np.ndarray, X: np.ndarray, y: np.ndarray,
                     kept_idx: np.ndarray | None = None, *, batch: int = 512) -> np.ndarray:
    """log p(y_i | x_i, z) for every draw and row: positions ``draws`` (..., dim) -> (..., n), in float64.

    The input of PSIS-LOO (:mod:`bayesprune.evaluation.selection`) and the ``log_likelihood`` group of the saved
    posterior; computed in fixed-size batches of draws (:func:`draw_batch`: fewer at a time on many rows) so one
    compiled shape serves any number of draws.
    """
    draws = np.asarray(draws, np.float32)
    lead = draws.shape[:-1]
    Xj, yj = jnp.asarray(X, jnp.float32), jnp.asarray(y)
    kept = None if kept_idx is None else jnp.asarray(kept_idx)
    out = _in_batches(lambda z: _pointwise(posterior, z, Xj, yj, kept), draws.reshape(-1, draws.shape[-1]),
                      draw_batch(posterior, len(y), batch), np.float64)
    return out.reshape(*lead, len(y))


@dataclass
class Predictive:
    """The posterior predictive on a set of inputs, from ``C x D`` draws.

    Attributes
    ----------
    task
        ``regression`` or ``classification``.
    outputs
        Regression: network means ``f`` of shape ``(C, D, n)``; classification: probabilities ``(C, D, n, K)``.
    noise_var
        Regression noise variance tau^2 per draw ``(C, D)`` (``None`` for classification).
    chain_weights
        Each chain's weight ``(C,)`` in the predictive mixture (summing to 1); ``None``: equal weights.
    """

    task: str
    outputs: np.ndarray
    noise_var: np.ndarray | None = None
    chain_weights: np.ndarray | None = None

    @property
    def n_draws(self) -> int:
        return int(self.outputs.shape[0] * self.outputs.shape[1])

    def flat_outputs(self) -> np.ndarray:
        return self.outputs.reshape(self.n_draws, *self.outputs.shape[2:])

    def draw_weights(self) -> np.ndarray | None:
        """Each flattened draw's weight ``(C * D,)`` (its chain's weight over the chain's draws); ``None``:
        equal."""
        if self.chain_weights is None:
            return None
        c, d = self.outputs.shape[:2]
        return np.repeat(np.asarray(self.chain_weights, np.float64) / d, d)

    def _average(self, values: np.ndarray) -> np.ndarray:
        """The (weighted) mean over the flattened draws of ``values`` ``(C * D, ...)``."""
        w = self.draw_weights()
        return values.mean(axis=0) if w is None else np.tensordot(w, values, axes=1)

    def mean(self) -> np.ndarray:
        """Predictive mean (regression) or mean class probabilities (classification)."""
        return self._average(self.flat_outputs())

    def exp_moments(self, a: float, c: float) -> tuple[np.ndarray, np.ndarray]:
        """Mean and sd of ``exp(a * y + c)`` under the predictive mixture (regression): a log-transformed
        target's predictive in the target's own units (``y`` its scaled logarithm). Each draw's component is then
        log-normal with ``m = a f + c``, ``s^2 = a^2 tau^2``: mean ``exp(m + s^2 / 2)``, second moment
        ``exp(2 m + 2 s^2)``, averaged over the draws with their weights (exact, no sampling)."""
        m = a * self.flat_outputs().astype(np.float64) + c
        s2 = a * a * self.noise_var.reshape(-1).astype(np.float64)[:, None]
        first = self._average(np.exp(m + s2 / 2))
        second = self._average(np.exp(2 * m + 2 * s2))
        return first, np.sqrt(np.maximum(second - first ** 2, 0.0))

    def probabilities(self) -> np.ndarray:
        if self.task != "classification":
            raise ValueError("class probabilities exist only for classification")
        return self.mean()

    def std(self) -> np.ndarray:
        """Predictive sd: sqrt(Var_draws[f] + E[tau^2]) for regression; sd of probabilities otherwise."""
        f = self.flat_outputs()
        if self.chain_weights is None:
            if self.task == "regression":
                return np.sqrt(f.var(axis=0) + np.mean(self.noise_var))
            return f.std(axis=0)
        var = self._average((f - self.mean()) ** 2)
        if self.task == "regression":
            return np.sqrt(var + self._average(self.noise_var.reshape(-1)))
        return np.sqrt(var)

    def samples(self, key: jax.Array, per_draw: int = 1) -> np.ndarray:
        """Draws of y* ~ N(f, tau^2), one set per posterior draw: shape ``(D * C * per_draw, n)``. With chain
        weights, the posterior draws are first resampled with replacement in proportion to their weights (as
        many as there are), so the set is a sample of the weighted mixture."""
        return self.sample_columns(key, per_draw)(slice(None))

    def sample_columns(self, key: jax.Array, per_draw: int = 1):
        """:meth:`samples` a block of test points at a time: a function of a column slice that returns exactly
        ``samples(key, per_draw)[:, columns]`` without building the whole (samples x points) array in float64.

        The random numbers are drawn in float32, a chunk of at most :data:`NOISE_VALUES` of them at a time (the
        columns ``j * width`` onwards from ``fold_in(key, j)``; all from ``key`` when one chunk holds every
        column), so neither the noise nor the weighted resample of the draws is ever held for every point: 4,000
        draws on 40,000 test points would be 640 MB each."""
        f = self.flat_outputs()
        n_draws, n = f.shape
        tau2 = self.noise_var.reshape(-1)
        w = self.draw_weights()
        idx = None
        if w is not None:
            key, pick = jax.random.split(key)
            idx = np.asarray(jax.random.choice(pick, len(w), (len(w),), p=jnp.asarray(w / w.sum())))
            tau2 = tau2[idx]
        tau = np.sqrt(tau2)[:, None]
        width = n if per_draw * n_draws * n <= NOISE_VALUES else max(1, NOISE_VALUES // (per_draw * n_draws))
        cache: dict[int, np.ndarray] = {}

        def noise(j: int) -> np.ndarray:
            if j not in cache:
                cache.clear()  # callers walk the columns in order: one chunk held at a time
                k = key if width >= n else jax.random.fold_in(key, j)
                cache[j] = np.asarray(jax.random.normal(k, (per_draw, n_draws, width)))
            return cache[j]

        def columns(cols: slice) -> np.ndarray:
            start, stop, _ = cols.indices(n)
            if stop <= start:
                return np.empty((per_draw * n_draws, 0), f.dtype)
            fb = f[:, start:stop] if idx is None else f[idx, start:stop]
            eps = np.concatenate([noise(j)[:, :, max(start - j * width, 0): stop - j * width]
                                  for j in range(start // width, -(-stop // width))], axis=2)
            block = fb[None] + tau[None] * eps
            return block.reshape(-1, block.shape[-1])

        return columns

    def interval(self, key: jax.Array, level: float = 0.9, per_draw: int = 4) -> tuple[np.ndarray, np.ndarray]:
        """Central ``level`` prediction interval from the predictive samples (0.9 = 5th to 95th percentile)."""
        s = self.samples(key, per_draw)
        lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
        return np.quantile(s, lo, axis=0), np.quantile(s, hi, axis=0)


def posterior_predictive(
    posterior: BNNPosterior, draws: np.ndarray, X: np.ndarray, kept_idx: np.ndarray | None = None
) -> Predictive:
    """Posterior predictive on ``X`` from position draws ``(C, D, dim)`` (reduced when ``kept_idx`` is given),
    a batch of draws at a time (:func:`network_outputs`)."""
    draws = np.asarray(draws, np.float32)
    out = network_outputs(posterior, draws, X, kept_idx)
    noise = None
    if posterior.task == "regression":
        noise = np.exp(np.asarray(posterior.log_noise_var(jnp.asarray(draws))))
    return Predictive(posterior.task, out, noise)


def point_prediction(posterior: BNNPosterior, theta_mean: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Prediction at one parameter vector (the paper scores the posterior-mean weights this way)."""
    return network_outputs(posterior, np.asarray(theta_mean)[None], X)[0]


# The bisection's bracket: [min_d f_d - 10 tau_d, max_d f_d + 10 tau_d]; the mixture's CDF is below Phi(-10) ~ 8e-24
# at its left end (and as close to 1 at its right).
BRACKET_SDS = 10.0


def mixture_interval(f: np.ndarray, noise_var: np.ndarray, level: float = 0.9, steps: int = 200
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The central ``level`` interval of the regression predictive, the equally weighted mixture
    (1/D) sum_d N(f_d, tau_d^2), per row: ``f`` the draws' means (D, N), ``noise_var`` tau^2 (D,).

    Bisection on the mixture's CDF in float64 until the bracket stops shrinking: the exact quantiles, which
    :meth:`Predictive.interval` estimates from predictive samples; deterministic, so the ONNX export
    (:mod:`bayesprune.io.onnx_export`) runs the same rule in its graph. Written by hand: SciPy and the other
    dependencies have no quantile function for a Gaussian mixture."""
    return (mixture_quantile(f, noise_var, (1 - level) / 2, steps),
            mixture_quantile(f, noise_var, 1 - (1 - level) / 2, steps))


def mixture_quantile(f: np.ndarray, noise_var: np.ndarray, p: float, steps: int = 200) -> np.ndarray:
    """The ``p`` quantile of the equally weighted mixture (1/D) sum_d N(f_d, tau_d^2) per row (``f`` (D, N),
    ``noise_var`` (D,)): bisection on the mixture's CDF in float64 until the bracket is two adjacent floats, or
    ``steps`` halvings. The ends of :func:`mixture_interval`, and a log-target model's median (p = 0.5)."""
    from scipy.special import erf

    f = np.asarray(f, np.float64)
    tau = np.sqrt(np.asarray(noise_var, np.float64).reshape(-1))[:, None]
    inv = 1.0 / (tau * np.sqrt(2.0))
    lo, hi = (f - BRACKET_SDS * tau).min(0), (f + BRACKET_SDS * tau).max(0)
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        if np.all((mid == lo) | (mid == hi)):  # the bracket is two adjacent floats
            break
        below = erf((mid[None] - f) * inv).mean(0) < 2 * p - 1  # mixture CDF below p
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return 0.5 * (lo + hi)
