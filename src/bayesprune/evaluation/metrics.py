"""Accuracy and uncertainty metrics of a posterior predictive.

Library implementations are used where they exist (scikit-learn for RMSE, accuracy, log loss and Brier score).
Hand-rolled here, with tests against worked examples and reference implementations: the Gaussian-mixture NLL,
PICP/MPIW, the expected calibration error, and the ensemble CRPS (properscoring computes the same estimator but,
without numba, builds an (n, S, S) array: 199 GiB for Abalone's test set with 4,000 draws; the sorted-sample
form below is O(n S log S) and is tested against properscoring on small inputs).
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp
from sklearn.metrics import accuracy_score, brier_score_loss, log_loss, mean_squared_error


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error sqrt(mean((y - y_hat)^2))."""
    return float(np.sqrt(mean_squared_error(y_true, y_pred)))


def accuracy(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Share of rows whose most probable class is the true class."""
    return float(accuracy_score(y_true, np.argmax(proba, axis=-1)))


def gaussian_mixture_nll(y_true: np.ndarray, means: np.ndarray, noise_var: np.ndarray,
                         weights: np.ndarray | None = None) -> float:
    """Mean negative log predictive density of the mixture of ``S`` Gaussians (one per posterior draw).

    NLL = -mean_i log( sum_s w_s N(y_i | f_si, tau_s^2) ), computed with log-sum-exp; ``w_s = 1/S`` unless
    ``weights`` (S,) are given. ``means`` has shape (S, n); ``noise_var`` (S,).
    """
    var = np.asarray(noise_var, np.float64)[:, None]
    logp = -0.5 * (np.log(2 * np.pi * var) + (y_true[None, :] - means) ** 2 / var)
    if weights is None:
        return float(-np.mean(logsumexp(logp, axis=0) - np.log(means.shape[0])))
    w = np.asarray(weights, np.float64)
    return float(-np.mean(logsumexp(logp, axis=0, b=(w / w.sum())[:, None])))


def classification_nll(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Mean negative log probability of the true class (scikit-learn's log loss).

    The probabilities are cast to float64 (and each row renormalised) first: scikit-learn clips them at the
    machine epsilon of their dtype, which for float32 caps the loss of a row at -log(1.2e-7) = 15.94.
    """
    p = np.asarray(proba, np.float64)
    p = p / p.sum(axis=-1, keepdims=True)
    return float(log_loss(y_true, p, labels=np.arange(p.shape[-1])))


def picp(y_true: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Prediction interval coverage probability: share of y inside [lower, upper]."""
    return float(np.mean((y_true >= lower) & (y_true <= upper)))


def mpiw(lower: np.ndarray, upper: np.ndarray) -> float:
    """Mean prediction interval width: mean(upper - lower)."""
    return float(np.mean(upper - lower))


def crps(y_true: np.ndarray, samples: np.ndarray) -> float:
    """Mean continuous ranked probability score of predictive samples ``(S, n)``.

    CRPS(F, y) = E|X - y| - 0.5 E|X - X'| with X, X' ~ F (the empirical distribution of the S samples,
    all pairs), and E|X - X'| = (2 / S^2) sum_i (2 i - S - 1) x_(i) over the sorted samples x_(1..S).
    """
    x = np.sort(np.asarray(samples, np.float64), axis=0)
    s = x.shape[0]
    term1 = np.mean(np.abs(x - np.asarray(y_true, np.float64)[None, :]), axis=0)
    weights = (2.0 * np.arange(1, s + 1) - s - 1.0)[:, None]
    term2 = 2.0 * np.sum(weights * x, axis=0) / s**2
    return float(np.mean(term1 - 0.5 * term2))


def brier(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Multiclass Brier score mean_i sum_k (p_ik - 1[y_i = k])^2 (scikit-learn; binary: its usual form)."""
    K = proba.shape[-1]
    if K == 2:
        return float(2 * brier_score_loss(y_true, proba[:, 1], pos_label=1))
    return float(brier_score_loss(y_true, proba, labels=np.arange(K)))


def ece(y_true: np.ndarray, proba: np.ndarray, n_bins: int = 10) -> float:
    """Expected calibration error of the top-label confidence, equal-width bins on [0, 1].

    ECE = sum_b (n_b / n) |acc_b - conf_b|, where a row falls in bin b = (lo, hi] by its max probability.
    """
    _, conf, acc, counts = reliability_table(y_true, proba, n_bins)
    n = counts.sum()
    mask = counts > 0
    return float(np.sum(counts[mask] / n * np.abs(acc[mask] - conf[mask])))


def reliability_table(y_true: np.ndarray, proba: np.ndarray, n_bins: int = 10):
    """Per-bin (edges, mean confidence, accuracy, count) for the reliability diagram and ECE."""
    confidence = proba.max(axis=-1)
    correct = (proba.argmax(axis=-1) == y_true).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    counts = np.bincount(which, minlength=n_bins).astype(np.float64)
    conf_sum = np.bincount(which, weights=confidence, minlength=n_bins)
    acc_sum = np.bincount(which, weights=correct, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return edges, conf_sum / counts, acc_sum / counts, counts
