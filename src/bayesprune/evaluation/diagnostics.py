"""Convergence diagnostics: split R-hat and bulk ESS, in function space and in weight space.

Weight-space R-hat of a BNN is mostly uninformative (hidden units can swap places and flip signs between
chains, so individual weights need not agree even when the predictions do). Function-space diagnostics use
the posterior-predictive means of the test points, which those symmetries leave unchanged.
"""

from __future__ import annotations

import warnings

import numpy as np

from bayesprune.evaluation import convergence
from bayesprune.indices import evenly_spaced

MAX_POINTS = 200


def _diagnose(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank-normalised split R-hat and bulk ESS (ArviZ's definitions) of every coordinate of (chain, draw, m)."""
    values = np.asarray(values, np.float64).reshape(values.shape[0], values.shape[1], -1)
    return convergence.rhat(values), convergence.ess_bulk(values)


def _points(n: int, max_points: int) -> np.ndarray:
    """At most ``max_points`` of ``n`` test points, evenly spaced in test-set order."""
    return evenly_spaced(n, max_points)


def outputs_at_points(outputs: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """The outputs ``(C, D, n[, K])`` at the diagnosed test points: ``(C, D, m[, K])`` with ``m <= max_points``,
    every class kept (the quantities to diagnose *across* runs, which may favour different classes)."""
    return outputs[:, :, _points(outputs.shape[2], max_points)]


def function_space_summaries(outputs: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """The quantities whose convergence is checked within a run, shape ``(C, D, m)`` with ``m <= max_points``.

    Regression: the network mean at each test point. Classification: at each test point, the probability of
    the class that the predictive mean pooled over all the run's chains picks (one class for every chain).
    """
    outputs = outputs_at_points(outputs, max_points)
    if outputs.ndim == 4:
        top = outputs.mean(axis=(0, 1)).argmax(axis=-1)
        outputs = np.take_along_axis(outputs, top[None, None, :, None], axis=-1)[..., 0]
    return outputs


def rhat_every_quantity(outputs: np.ndarray) -> float:
    """Max split R-hat over every quantity of ``(C, D, m[, K])`` (every class of every point); NaN if none is
    defined. With runs as chains this is the R-hat across runs: each class is tracked in every run."""
    values = np.asarray(outputs, np.float64).reshape(outputs.shape[0], outputs.shape[1], -1)
    r = convergence.rhat(values)
    return float(np.nanmax(r)) if np.isfinite(r).any() else float("nan")


def function_space(outputs: np.ndarray, max_points: int = MAX_POINTS) -> dict[str, float]:
    """Max split R-hat and min bulk ESS of the test-point predictions ``(C, D, n[, K])``.

    See :func:`function_space_summaries` for what is diagnosed. Constant outputs (e.g. a probability
    saturated at 1 in every draw) have no defined R-hat and are skipped, in the ESS too; chains that never
    moved at all have an ESS of 1.
    """
    if outputs.shape[1] < 4:
        return {"rhat_fn_max": float("nan"), "ess_fn_min": float("nan")}
    values = function_space_summaries(outputs, max_points)
    rhat, ess = _diagnose(values)
    ok = np.isfinite(rhat)
    flat = values.reshape(-1, values.shape[-1])
    moving = np.ptp(flat, axis=0) > 0
    if not moving.any() and np.isfinite(flat).all():
        ess_min = 1.0  # the chains never moved: one distinct draw
    else:
        keep = moving & np.isfinite(ess)  # a constant quantity's ESS (= number of draws) says nothing
        ess_min = float(np.min(ess[keep])) if keep.any() else float("nan")
    return {"rhat_fn_max": float(np.max(rhat[ok])) if ok.any() else float("nan"), "ess_fn_min": ess_min}


MC_PROB_CLIP = 0.01  # a class probability's outcome sd sqrt(p (1 - p)) is taken at p within [0.01, 0.99]


def monte_carlo_error(outputs: np.ndarray, noise_var: np.ndarray | None = None,
                      chain_weights: np.ndarray | None = None, max_points: int = MAX_POINTS) -> float:
    """How much the finite run moves the predictions: the root mean square, over the diagnosed test points, of
    the Monte Carlo standard error of the predictive mean in units of the predictive sd of the outcome.

    Each chain is taken as an estimate of its own predictive (chains settled in different modes are each a model
    of the mixture, as in a deep ensemble): the standard error of the weighted mean of chain means is
    ``sqrt(sum_c w_c^2 var_c / ess_c)``, with ``var_c`` a chain's variance of the quantity and ``ess_c`` its own
    ESS of the mean (split halves: a chain still drifting has few effective draws). The quantities are those of
    :func:`function_space_summaries`: the network mean (regression; outcome sd: the predictive's, noise
    included) or the probability of the predicted class (classification; outcome sd ``sqrt(p (1 - p))``, ``p``
    clipped to ``[0.01, 0.99]``).

    Why this scale: a predictive mean off by ``d`` outcome sds costs ``d^2 / 2`` nats of expected log score per
    point, to second order (Gaussian outcome, and the Bernoulli likelihood of a class), so ``e^2 / 2`` is what
    the Monte Carlo error costs the test NLL on average: 0.005 nats at ``e = 0.1``. A function-space R-hat or
    ESS of the noise-free network at one test point says nothing of how much that matters to a prediction
    whose noise is ten times larger. NaN with fewer than 4 draws or no finite quantity."""
    if outputs.shape[1] < 4:
        return float("nan")
    values = np.asarray(function_space_summaries(outputs, max_points), np.float64)
    n_chains = values.shape[0]
    w = (np.full(n_chains, 1.0 / n_chains) if chain_weights is None
         else np.asarray(chain_weights, np.float64) / np.sum(chain_weights))
    var = values.var(axis=1, ddof=1)  # (C, m)
    ess = np.stack([convergence.ess_mean(values[c: c + 1]) for c in range(n_chains)])
    se2 = np.sum(w[:, None] ** 2 * var / ess, axis=0)
    draw_w = np.repeat(w / values.shape[1], values.shape[1])
    flat = values.reshape(-1, values.shape[-1])
    mean = draw_w @ flat
    if outputs.ndim == 4:
        p = np.clip(mean, MC_PROB_CLIP, 1 - MC_PROB_CLIP)
        outcome_var = p * (1 - p)
    else:
        noise = 0.0 if noise_var is None else float(draw_w @ np.asarray(noise_var, np.float64).reshape(-1))
        outcome_var = draw_w @ (flat - mean) ** 2 + noise
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = se2 / outcome_var
    ok = np.isfinite(rel)
    return float(np.sqrt(np.mean(rel[ok]))) if ok.any() else float("nan")


MODE_SD = 1.0  # chains whose predictions are within this many within-chain sds of each other share a mode


def chain_agreement(outputs: np.ndarray, max_points: int = MAX_POINTS) -> dict[str, float]:
    """Each chain on its own, and the chains against each other, on the quantities of
    :func:`function_space_summaries`.

    - ``rhat_fn_within_max``: the largest split R-hat of any chain alone (its two halves as two chains): has
      each chain settled where it is?
    - ``ess_fn_within_min``: the smallest, over the quantities, of the chains' own bulk ESS summed over chains:
      how many effective draws there are if the chains are each a model of their own;
    - ``modes_apart``: the largest distance between two chains' mean predictions, as the mean over the points of
      ``|mean_a - mean_b|`` over the mean within-chain sd at the point;
    - ``n_modes``: groups of chains linked by distances of at most ``MODE_SD`` (connected components).

    Split R-hat over all chains (``rhat_fn_max``) is high both when chains have not converged and when each has
    converged in a different mode; these tell the two apart. NaN (and 1 mode) with fewer than 4 draws."""
    nan = {"rhat_fn_within_max": float("nan"), "ess_fn_within_min": float("nan"), "modes_apart": float("nan"),
           "n_modes": 1}
    if outputs.shape[1] < 4:
        return nan
    values = np.asarray(function_space_summaries(outputs, max_points), np.float64)
    n_chains = values.shape[0]
    half = values.shape[1] // 2
    # each chain's halves as two chains (split R-hat then cuts them again: four quarters compared)
    rhats = np.stack([_diagnose(np.stack([values[c, :half], values[c, values.shape[1] - half:]]))[0]
                      for c in range(n_chains)])
    ess = np.sum([_diagnose(values[c : c + 1])[1] for c in range(n_chains)], axis=0)
    moving = np.ptp(values.reshape(-1, values.shape[-1]), axis=0) > 0
    means, sds = values.mean(axis=1), values.std(axis=1)
    scale = np.maximum(sds.mean(axis=0), 1e-12)
    dist = np.array([[float(np.mean(np.abs(means[a] - means[b])[moving] / scale[moving])) if moving.any() else 0.0
                      for b in range(n_chains)] for a in range(n_chains)])
    label = list(range(n_chains))  # connected components by repeated relabelling
    for _ in range(n_chains):
        for a in range(n_chains):
            for b in range(n_chains):
                if dist[a, b] <= MODE_SD:
                    label[a] = label[b] = min(label[a], label[b])
    ok = np.isfinite(rhats) & moving[None]
    return {"rhat_fn_within_max": float(np.max(rhats[ok])) if ok.any() else float("nan"),
            "ess_fn_within_min": float(np.min(ess[moving])) if moving.any() else float("nan"),
            "modes_apart": float(dist.max()), "n_modes": len(set(label))}


def nested_function_space(outputs: np.ndarray, superchains: int, max_points: int = MAX_POINTS) -> float:
    """Max nested R-hat (:func:`convergence.nested_rhat`) of the quantities of :func:`function_space_summaries`;
    NaN when none is defined."""
    r = convergence.nested_rhat(function_space_summaries(outputs, max_points), superchains)
    return float(np.nanmax(r)) if np.isfinite(r).any() else float("nan")


def weight_space(draws: np.ndarray, threshold: float = 1.1, max_params: int = MAX_POINTS) -> dict[str, float]:
    """Share of parameters with split R-hat below ``threshold``, median R-hat and median bulk ESS.

    ``draws`` is (chain, draw, param); at most ``max_params`` evenly spaced parameters are diagnosed.
    """
    if draws.shape[1] < 4:
        return {"rhat_w_median": float("nan"), "share_rhat_w_ok": float("nan"), "ess_w_median": float("nan")}
    n = draws.shape[-1]
    idx = evenly_spaced(n, max_params)
    rhat, ess = _diagnose(np.asarray(draws)[..., idx])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN R-hat of a single chain
        return {
            "rhat_w_median": float(np.nanmedian(rhat)),
            "share_rhat_w_ok": float(np.mean(rhat < threshold)) if np.isfinite(rhat).any() else float("nan"),
            "ess_w_median": float(np.nanmedian(ess)),
        }
