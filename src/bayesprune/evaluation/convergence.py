"""Rank-normalised split R-hat and bulk ESS, vectorised over many quantities at once.

The definitions are those of Vehtari, Gelman, Simpson, Carpenter and Bürkner (2021), "Rank-normalization,
folding, and localization: an improved R-hat for assessing convergence of MCMC", as ArviZ implements them
(``az.rhat(method="rank")`` and ``az.ess(method="bulk")``); the unit tests check agreement with ArviZ.
ArviZ evaluates one quantity at a time in Python; here all quantities go through NumPy together, which is
what makes diagnosing hundreds of test-point predictions after every stage of a grid cheap.

All functions take ``values`` of shape ``(chain, draw, m)`` and return one number per quantity, shape ``(m,)``.
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sp_fft
from scipy import special, stats

MIN_DRAWS = 4


def _split(values: np.ndarray) -> np.ndarray:
    """(m, C, D) -> (m, 2C, D // 2): every chain cut into its first and last halves (middle draw dropped)."""
    half = values.shape[-1] // 2
    return np.concatenate([values[..., :half], values[..., values.shape[-1] - half:]], axis=1)


def _z_scale(values: np.ndarray) -> np.ndarray:
    """Rank-normalise each quantity over all its chains and draws: z = Phi^-1((rank - 3/8) / (S + 1/4))."""
    m = values.shape[0]
    flat = values.reshape(m, -1)
    ranks = stats.rankdata(flat, method="average", axis=1)
    z = special.ndtri((ranks - 0.375) / (flat.shape[1] + 0.25))
    return z.reshape(values.shape)


def _basic_rhat(values: np.ndarray) -> np.ndarray:
    """sqrt(((D - 1) / D * W + B / D) / W) with W the mean within-chain and B/D the between-chain variance."""
    n = values.shape[-1]
    within = values.var(axis=-1, ddof=1).mean(axis=-1)
    between = n * values.mean(axis=-1).var(axis=-1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt((between / within + n - 1) / n)


def _invalid(values: np.ndarray) -> np.ndarray:
    """Quantities that cannot be diagnosed: any non-finite value (per quantity), shape (m,)."""
    return ~np.all(np.isfinite(values), axis=(1, 2))


def _to_quantity_major(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, np.float64)
    if values.ndim == 2:
        values = values[..., None]
    return np.moveaxis(values, -1, 0)  # (m, C, D)


def rhat(values: np.ndarray) -> np.ndarray:
    """Rank-normalised split R-hat: the larger of the bulk and the folded (tail) R-hat.

    NaN where a quantity has non-finite values, fewer than 2 chains or 4 draws (as in ArviZ).
    """
    v = _to_quantity_major(values)
    m, n_chains, n_draws = v.shape
    out = np.full(m, np.nan)
    if n_chains < 2 or n_draws < MIN_DRAWS or m == 0:
        return out
    ok = ~_invalid(v)
    if not ok.any():
        return out
    s = _split(v[ok])
    bulk = _basic_rhat(_z_scale(s))
    folded = np.abs(s - np.median(s.reshape(s.shape[0], -1), axis=1)[:, None, None])
    tail = _basic_rhat(_z_scale(folded))
    out[ok] = np.maximum(bulk, tail)
    return out


def nested_rhat(values: np.ndarray, superchains: int) -> np.ndarray:
    """Nested R-hat of Margossian, Hoffman, Sountsov, Riou-Durand, Vehtari and Gelman (2022), "Nested R-hat:
    assessing the convergence of Markov chain Monte Carlo when running many short chains".

    The chains are ``superchains`` groups of M consecutive chains (chains of a group start from one point). With
    K groups, chain means ``a_mk``, group means ``a_k`` and their mean ``a``::

        B = var_k(a_k)            (ddof 1)            between groups
        W = mean_k(var_m(a_mk) + mean_m(s2_mk))       within groups: between their chains (ddof 1; 0 when M = 1)
                                                      and within chains (ddof 1; 0 with one draw)
        nested R-hat = sqrt(1 + B / W)

    Unlike split R-hat it needs no chain to be long: many short chains that started together and now disagree
    only as much as independent draws do give values near 1. Not rank-normalised or split (the paper's
    definition; ArviZ has no nested R-hat). NaN where a quantity has non-finite values or W = 0.
    """
    v = _to_quantity_major(values)
    m, n_chains, n_draws = v.shape
    if superchains < 2 or n_chains % superchains:
        raise ValueError(f"superchains {superchains} must be >= 2 and divide the {n_chains} chains")
    per = n_chains // superchains
    g = v.reshape(m, superchains, per, n_draws)
    chain_means = g.mean(axis=-1)
    within_chain = g.var(axis=-1, ddof=1).mean(axis=-1) if n_draws > 1 else np.zeros((m, superchains))
    between_chain = chain_means.var(axis=-1, ddof=1) if per > 1 else np.zeros((m, superchains))
    between = chain_means.mean(axis=-1).var(axis=-1, ddof=1)
    within = (within_chain + between_chain).mean(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.sqrt(1 + between / within)
    out[_invalid(v) | ~(within > 0)] = np.nan
    return out


def _autocov(values: np.ndarray) -> np.ndarray:
    """Biased autocovariance at every lag along the last axis (FFT)."""
    n = values.shape[-1]
    centred = values - values.mean(axis=-1, keepdims=True)
    size = sp_fft.next_fast_len(2 * n)
    f = np.fft.rfft(centred, n=size, axis=-1)
    return np.fft.irfft(f * np.conjugate(f), n=size, axis=-1)[..., :n] / n


def _ess_geyer(z: np.ndarray) -> np.ndarray:
    """ESS of each quantity of ``z`` (m, C, D) with Geyer's initial positive and monotone sequences."""
    m, n_chains, n_draws = z.shape
    acov = _autocov(z)
    mean_var = acov[..., 0].mean(axis=1) * n_draws / (n_draws - 1.0)
    var_plus = mean_var * (n_draws - 1.0) / n_draws
    if n_chains > 1:
        var_plus = var_plus + z.mean(axis=-1).var(axis=-1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1.0 - (mean_var[:, None] - acov.mean(axis=1)) / var_plus[:, None]  # (m, D)
    # pair sums P_j = rho[2j] + rho[2j+1], with rho[0] = 1; sums are added while they stay positive
    j_max = max(int(np.ceil((n_draws - 2) / 2)) - 1, 0)
    rho[:, 0] = 1.0
    n_pairs = j_max + 1
    pairs = rho[:, 0: 2 * n_pairs: 2] + rho[:, 1: 2 * n_pairs: 2]  # (m, n_pairs)
    nonpos = pairs <= 0
    first_nonpos = np.where(nonpos.any(axis=1), nonpos.argmax(axis=1), n_pairs)
    n_used = np.minimum(first_nonpos, j_max)  # J: pairs 0..J-1 enter the sum
    monotone = np.minimum.accumulate(pairs, axis=1)
    used = np.arange(n_pairs)[None, :] < n_used[:, None]
    total = np.where(used, monotone, 0.0).sum(axis=1)
    rows = np.arange(m)
    last_even = rho[rows, 2 * n_used]
    last_pair = pairs[rows, np.minimum(n_used, n_pairs - 1)]
    tail = np.where(n_used == 0, 1.0, np.where((last_pair >= 0) | (last_even > 0), last_even, 0.0))
    tau = -1.0 + 2.0 * total + tail
    size = n_chains * n_draws
    tau = np.maximum(tau, 1.0 / np.log10(size))
    ess = size / tau
    return np.where(np.isnan(rho).any(axis=1), np.nan, ess)


def _split_ess(values: np.ndarray, rank_normalise: bool) -> np.ndarray:
    """Geyer's ESS of the split chains of every quantity, rank-normalised or as they are: NaN where a quantity
    has non-finite values or fewer than 4 draws, the number of draws where it is constant (as in ArviZ)."""
    v = _to_quantity_major(values)
    m, _, n_draws = v.shape
    out = np.full(m, np.nan)
    if n_draws < MIN_DRAWS or m == 0:
        return out
    ok = ~_invalid(v)
    if not ok.any():
        return out
    z = _split(v[ok])
    if rank_normalise:
        z = _z_scale(z)
    ess = _ess_geyer(z)
    spread = z.reshape(z.shape[0], -1)
    const = (spread.max(axis=1) - spread.min(axis=1)) < np.finfo(float).resolution
    out[ok] = np.where(const, z[0].size, ess)
    return out


def ess_mean(values: np.ndarray) -> np.ndarray:
    """Effective sample size of the mean: Geyer's ESS of the split chains, not rank-normalised (ArviZ's
    ``az.ess(method="mean")``, the one its Monte Carlo standard error of the mean divides by)."""
    return _split_ess(values, rank_normalise=False)


def ess_bulk(values: np.ndarray) -> np.ndarray:
    """Bulk effective sample size: Geyer's ESS of the rank-normalised split chains (ArviZ's
    ``az.ess(method="bulk")``)."""
    return _split_ess(values, rank_normalise=True)
