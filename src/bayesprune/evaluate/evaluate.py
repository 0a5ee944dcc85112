"""One stage's metrics block (``M`` in metrics.json) from position draws and test data."""

from __future__ import annotations

import jax
import numpy as np

from bayesprune.evaluate import diagnostics, metrics
from bayesprune.posterior.logdensity import BNNPosterior
from bayesprune.predict import Predictive, point_prediction, posterior_predictive


def evaluate_predictive(
    posterior: BNNPosterior,
    draws: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    *,
    kept_idx: np.ndarray | None = None,
    theta_mean: np.ndarray | None = None,
    key: jax.Array | None = None,
    interval: float = 0.9,
) -> tuple[dict, Predictive]:
    """Score the posterior predictive of ``draws`` (chain, draw, dim) on the test set.

    Returns the metrics block and the predictive itself. ``point_estimate`` is the paper's way of scoring:
    one prediction at the posterior-mean parameters ``theta_mean`` (the mean of the draws when ``None``).
    Draws whose outputs are not finite are dropped and counted (``n_nonfinite_draws``), never averaged in.
    """
    key = jax.random.key(0) if key is None else key
    pred = posterior_predictive(posterior, draws, X_test, kept_idx)
    finite = np.all(np.isfinite(pred.outputs.reshape(*pred.outputs.shape[:2], -1)), axis=-1)
    n_bad = int((~finite).sum())
    if n_bad:
        keep_draws = finite.all(axis=0)  # keep a draw index only if every chain is finite there
        pred = Predictive(pred.task, pred.outputs[:, keep_draws],
                          None if pred.noise_var is None else pred.noise_var[:, keep_draws])
    if theta_mean is None:
        theta_mean = np.asarray(posterior.theta(np.asarray(draws).reshape(-1, draws.shape[-1]).mean(axis=0),
                                                None if kept_idx is None else np.asarray(kept_idx)))
    point = point_prediction(posterior, theta_mean, X_test)
    out: dict = {}
    if posterior.task == "regression":
        mean = pred.mean()
        f = pred.flat_outputs()
        samples = pred.samples(key, per_draw=max(1, 4000 // max(f.shape[0], 1)))
        lo = np.quantile(samples, (1 - interval) / 2, axis=0)
        hi = np.quantile(samples, 1 - (1 - interval) / 2, axis=0)
        out["rmse"] = metrics.rmse(y_test, mean)
        out["nll"] = metrics.gaussian_mixture_nll(y_test, f, pred.noise_var.reshape(-1))
        out["picp90"] = metrics.picp(y_test, lo, hi)
        out["mpiw90"] = metrics.mpiw(lo, hi)
        out["crps"] = metrics.crps(y_test, samples)
        out["point_estimate"] = {"rmse": metrics.rmse(y_test, point)}
    else:
        proba = pred.mean()
        out["accuracy"] = metrics.accuracy(y_test, proba)
        out["nll"] = metrics.classification_nll(y_test, proba)
        out["ece"] = metrics.ece(y_test, proba)
        out["brier"] = metrics.brier(y_test, proba)
        out["point_estimate"] = {"accuracy": metrics.accuracy(y_test, point)}
    out.update(diagnostics.function_space(pred.outputs))
    out["n_nonfinite_draws"] = n_bad
    return out, pred
