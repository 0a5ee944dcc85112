"""Pruning criteria: posterior draws (or their moments) -> one score per parameter. Low scores go first.

- STN, signal-to-noise (the paper's Eq. 15): score_i = |mu_i| / s_i
- SPN, signal-plus-noise (Eq. 16):           score_i = |mu_i| + s_i
- magnitude:                                 score_i = |mu_i|
- random:                                    score_i ~ U(0, 1), seeded (the baseline)

mu_i and s_i are the mean and standard deviation of parameter i over the post-burn-in draws of all chains.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import numpy as np

from bayesprune.errors import OptionError
from bayesprune.options import one_of

CRITERIA = ("stn", "spn", "random", "magnitude")


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


def score(criterion: str, moments: PosteriorMoments, key: jax.Array | None = None) -> np.ndarray:
    """Scores of every parameter under ``criterion`` (``stn``, ``spn``, ``random``, ``magnitude``)."""
    if criterion == "stn":
        return stn(moments)
    if criterion == "spn":
        return spn(moments)
    if criterion == "magnitude":
        return magnitude(moments)
    one_of(CRITERIA)("criterion", criterion)
    if key is None:
        raise OptionError.about("key", "is needed by random pruning (a JAX key from the seed)")
    return random_scores(key, len(moments.mean))
