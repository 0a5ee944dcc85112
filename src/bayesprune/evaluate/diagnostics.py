"""Convergence diagnostics from ArviZ: split R-hat and bulk ESS, in function space and in weight space.

Weight-space R-hat of a BNN is mostly uninformative (hidden units can swap places and flip signs between
chains, so individual weights need not agree even when the predictions do). Function-space diagnostics use
the posterior-predictive means of the test points, which those symmetries leave unchanged.
"""

from __future__ import annotations

import warnings

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    import arviz as az


def _diagnose(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R-hat and bulk ESS of every trailing coordinate of ``values`` with shape (chain, draw, ...)."""
    values = np.asarray(values, np.float64)
    ds = az.convert_to_dataset({"v": values})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rhat = np.asarray(az.rhat(ds)["v"].values, np.float64)
        ess = np.asarray(az.ess(ds, method="bulk")["v"].values, np.float64)
    return rhat, ess


def function_space(outputs: np.ndarray) -> dict[str, float]:
    """Max split R-hat and min bulk ESS over the predictive outputs ``(C, D, n[, K])`` of test points.

    Constant outputs (e.g. a probability saturated at 1 in every draw) have no defined R-hat and are skipped.
    """
    if outputs.shape[1] < 4:
        return {"rhat_fn_max": float("nan"), "ess_fn_min": float("nan")}
    rhat, ess = _diagnose(outputs)
    ok = np.isfinite(rhat)
    return {
        "rhat_fn_max": float(np.max(rhat[ok])) if ok.any() else float("nan"),
        "ess_fn_min": float(np.min(ess[np.isfinite(ess)])) if np.isfinite(ess).any() else float("nan"),
    }


def weight_space(draws: np.ndarray, threshold: float = 1.1) -> dict[str, float]:
    """Share of parameters with split R-hat below ``threshold``, median R-hat and median bulk ESS."""
    if draws.shape[1] < 4:
        return {"rhat_w_median": float("nan"), "share_rhat_w_ok": float("nan"), "ess_w_median": float("nan")}
    rhat, ess = _diagnose(draws)
    return {
        "rhat_w_median": float(np.nanmedian(rhat)),
        "share_rhat_w_ok": float(np.mean(rhat < threshold)),
        "ess_w_median": float(np.nanmedian(ess)),
    }
