"""Pruning criteria: posterior draws (or their moments) -> one score per parameter. Low scores go first.

- STN, signal-to-noise (the paper's Eq. 15): score_i = |mu_i| / s_i
- SPN, signal-plus-noise (Eq. 16):           score_i = |mu_i| + s_i
- magnitude:                                 score_i = |mu_i|
- random:                                    score_i ~ U(0, 1), seeded (the baseline)
- lppd (function space):                     score_i = lppd(draws) - lppd(draws with parameter i set to 0)

mu_i and s_i are the mean and standard deviation of parameter i over the post-burn-in draws of all chains.
``lppd`` is the log pointwise predictive density of the training rows, ``sum_n log mean_s p(y_n | theta_s)``
(Gelman, Hwang & Vehtari 2014): the drop when a parameter is removed from every draw is what removing it costs the
posterior predictive, whatever the draws' hidden units are called, so it does not need the chains to agree on
weights (which permutation symmetry prevents) the way |mu| / sigma does. It needs the data and one network
evaluation per parameter, draw and row (:func:`lppd_loss`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from bayesprune.errors import OptionError
from bayesprune.indices import evenly_spaced
from bayesprune.options import one_of

LPPD_DRAWS = 100  # draws per scoring (evenly thinned): the score is a difference of two sums over the same draws
LPPD_BATCH = 16  # parameters removed at once (one compiled shape)


@dataclass(frozen=True)
class PosteriorMoments:
    """Per-parameter posterior mean and standard deviation, shape ``(n_params,)`` each."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def from_draws(cls, draws: np.ndarray) -> PosteriorMoments:
        """Moments over all chains and draws of ``draws`` with shape (chain, draw, param)."""
        flat = np.asarray(draws, np.float64).reshape(-1, np.shape(draws)[-1])
        return cls(flat.mean(axis=0), flat.std(axis=0))


def stn(m: PosteriorMoments) -> np.ndarray:
    """Signal-to-noise |mu| / sigma (a parameter that never moved scores +inf unless its mean is 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.abs(m.mean) / m.std
    return np.where(np.isnan(s), 0.0, s)


def spn(m: PosteriorMoments) -> np.ndarray:
    """Signal-plus-noise |mu| + sigma."""
    return np.abs(m.mean) + m.std


def magnitude(m: PosteriorMoments) -> np.ndarray:
    """Posterior-mean magnitude |mu|."""
    return np.abs(m.mean)


def random_scores(key: jax.Array, n: int) -> np.ndarray:
    """Uniform random scores: a truly random pruning order, reproducible for a given key."""
    return np.asarray(jax.random.uniform(key, (n,)), np.float64)


@partial(jax.jit, static_argnums=0)
def _lppd_without(posterior, z: jax.Array, X: jax.Array, y: jax.Array, drop: jax.Array) -> jax.Array:
    """lppd of the draws ``z`` (S, dim) with coordinate ``drop[b]`` set to 0, for each ``b``; ``drop`` = -1: none."""
    n_draws = z.shape[0]

    def one(i):
        zi = jnp.where((jnp.arange(z.shape[1]) == i)[None, :], 0.0, z)
        ll = jax.vmap(lambda v: posterior.pointwise_loglik(v, X, y))(zi)  # (S, n)
        return jnp.sum(jax.scipy.special.logsumexp(ll, axis=0) - jnp.log(n_draws))

    return jax.vmap(one)(drop)


def lppd_loss(posterior, positions: np.ndarray, X: np.ndarray, y: np.ndarray, *,
              max_draws: int = LPPD_DRAWS) -> np.ndarray:
    """The ``lppd`` criterion: for every network parameter, how much the training rows' log pointwise predictive
    density falls when that parameter is set to 0 in every draw. ``positions``: full positions (..., dim) (all
    parameters, then eta for regression)."""
    z = np.asarray(positions, np.float32).reshape(-1, np.shape(positions)[-1])
    z = jnp.asarray(z[evenly_spaced(len(z), max_draws)])
    Xj, yj = jnp.asarray(X, jnp.float32), jnp.asarray(y)
    n = posterior.spec.n_params
    base = float(_lppd_without(posterior, z, Xj, yj, jnp.array([-1] * LPPD_BATCH))[0])
    out = []
    for start in range(0, n, LPPD_BATCH):
        idx = np.arange(start, start + LPPD_BATCH)
        vals = np.asarray(_lppd_without(posterior, z, Xj, yj, jnp.asarray(np.where(idx < n, idx, -1))), np.float64)
        out.append(vals[idx < n])
    return base - np.concatenate(out)


@dataclass(frozen=True)
class Criterion:
    """A pruning criterion: ``from_moments(moments, key)`` scores every parameter from its posterior mean and sd
    (``key``: a JAX key for criteria that draw), or ``from_draws(posterior, positions, X, y)`` from the draws and
    the training rows. ``help``: one phrase for ``--criterion``."""

    name: str
    help: str
    from_moments: Callable[[PosteriorMoments, jax.Array | None], np.ndarray] | None = None
    from_draws: Callable[..., np.ndarray] | None = None

    @property
    def needs_data(self) -> bool:
        return self.from_draws is not None


def _random(moments: PosteriorMoments, key: jax.Array | None) -> np.ndarray:
    if key is None:
        raise OptionError.about("key", "is needed by random pruning (a JAX key from the seed)")
    return random_scores(key, len(moments.mean))


_TABLE = (
    Criterion("stn", "signal-to-noise |mean| / sd (the paper)", from_moments=lambda m, key: stn(m)),
    Criterion("spn", "signal-plus-noise |mean| + sd (the paper)", from_moments=lambda m, key: spn(m)),
    Criterion("random", "uniform random scores (the baseline)", from_moments=_random),
    Criterion("magnitude", "|mean|", from_moments=lambda m, key: magnitude(m)),
    Criterion("lppd", "the loss of training log predictive density when a parameter is set to 0",
              from_draws=lppd_loss),
)
TABLE: dict[str, Criterion] = {c.name: c for c in _TABLE}
CRITERIA = tuple(TABLE)
NEEDS_DATA = frozenset(name for name, c in TABLE.items() if c.needs_data)  # scored from draws and training rows


def get(criterion: str) -> Criterion:
    one_of(CRITERIA)("criterion", criterion)
    return TABLE[criterion]


def describe() -> str:
    """``stn: signal-to-noise ...; spn: ...``: the criteria for help texts."""
    return "; ".join(f"{c.name}: {c.help}" for c in _TABLE)


def score(criterion: str, moments: PosteriorMoments, key: jax.Array | None = None) -> np.ndarray:
    """Scores of every parameter under a moment criterion (``stn``, ``spn``, ``random``, ``magnitude``); a
    criterion scored from draws and data (``lppd``) is its ``from_draws`` (:func:`lppd_loss`)."""
    c = get(criterion)
    if c.from_moments is None:
        raise OptionError.about("criterion", f"'{criterion}' is scored from draws and data: use lppd_loss")
    return c.from_moments(moments, key)
