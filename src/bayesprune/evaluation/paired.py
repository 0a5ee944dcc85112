"""The compact model against the full one on the same test rows, and how much of the difference is chance.

Both models predict the same test rows, so their difference is a paired comparison: a row that both get right or
both wrong says nothing about which is better. On small test sets a whole-set metric moves by whole rows (iris:
60 test rows, 1.7 points of accuracy each), and benchmarks/compact_noise.py measured the default compact model
losing 0-4 rows between sampling seeds of one split at nearly the full model's NLL. A user comparing the two
columns of the summary table needs to know whether a difference is more than those rows:

- classification: how many test rows changed class, how many of them to a wrong one, and the exact McNemar test
  of whether the changes lean one way more than chance would (a two-sided binomial test on the rows that changed
  correctness, ``scipy.stats.binomtest``; McNemar 1947);
- regression: the compact model's test RMSE over the full model's with a 95% paired bootstrap interval over the
  test rows (``scipy.stats.bootstrap`` with ``paired=True``; BCa up to 5,000 rows, percentile beyond; Efron and
  Tibshirani 1993).

scikit-learn and ArviZ compute neither (scikit-learn's metrics are point estimates; ArviZ compares models by
their ELPD, not by a test metric), so this module calls SciPy's tests with the pairs made here.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import stats

LEVEL = 0.95  # the bootstrap interval's confidence level
RESAMPLES = 2000  # bootstrap resamples (BCa's interval endpoints settle to about two digits at this count)
BCA_ROWS = 5000  # BCa up to this many test rows; beyond, its jackknife (rows x (rows - 1) values, quadratic time)
# costs seconds to minutes, and the percentile interval, whose error BCa corrects at small samples, is as good
BATCH_VALUES = 10_000_000  # values per vectorised call of the statistic (memory: 80 MB of float64 per model)
SEED = 0  # the bootstrap's random stream: the same rows give the same interval


def changed_rows(y: np.ndarray, full_probs: np.ndarray, compact_probs: np.ndarray) -> dict[str, Any]:
    """Classification: rows whose predicted class changed, those that became wrong (``lost``) or right
    (``gained``), and the exact McNemar p-value of lost against gained (1.0 when none changed correctness)."""
    y = np.asarray(y).astype(int).reshape(-1)
    full = np.asarray(full_probs).argmax(axis=-1).reshape(-1)
    compact = np.asarray(compact_probs).argmax(axis=-1).reshape(-1)
    if not (len(y) == len(full) == len(compact)):
        raise ValueError(f"y, full_probs and compact_probs should have one row each, got {len(y)}, {len(full)} "
                         f"and {len(compact)}")
    lost = int(np.sum((full == y) & (compact != y)))
    gained = int(np.sum((full != y) & (compact == y)))
    p = float(stats.binomtest(lost, lost + gained, 0.5).pvalue) if lost + gained else 1.0
    return {"metric": "accuracy", "rows": int(len(y)), "changed": int(np.sum(full != compact)), "lost": lost,
            "gained": gained, "difference": (gained - lost) / len(y) if len(y) else float("nan"),
            "p_value": p, "test": "exact McNemar (two-sided binomial test on the rows that changed correctness)"}


def rmse_ratio(y: np.ndarray, full_mean: np.ndarray, compact_mean: np.ndarray, *, level: float = LEVEL,
               resamples: int = RESAMPLES, seed: int = SEED) -> dict[str, Any]:
    """Regression: the compact model's test RMSE over the full model's, with a ``level`` paired bootstrap
    interval over the test rows (BCa up to ``BCA_ROWS`` rows, percentile beyond; ``None`` bounds when fewer than 3
    rows, or the errors are not finite)."""
    y = np.asarray(y, np.float64).reshape(-1)
    e_full = (np.asarray(full_mean, np.float64).reshape(-1) - y) ** 2
    e_compact = (np.asarray(compact_mean, np.float64).reshape(-1) - y) ** 2
    if not (len(y) == len(e_full) == len(e_compact)):
        raise ValueError(f"y, full_mean and compact_mean should have one row each, got {len(y)}, {len(e_full)} "
                         f"and {len(e_compact)}")

    def ratio(a, b, axis=-1):
        return np.sqrt(np.mean(b, axis=axis) / np.mean(a, axis=axis))

    value = float(ratio(e_full, e_compact)) if len(y) and np.mean(e_full) > 0 else float("nan")
    lo = hi = None
    method = "BCa" if len(y) <= BCA_ROWS else "percentile"
    finite = np.all(np.isfinite(e_full)) and np.all(np.isfinite(e_compact))
    if len(y) >= 3 and finite and np.isfinite(value) and (np.ptp(e_full) > 0 or np.ptp(e_compact) > 0):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a degenerate resample: its bound comes back NaN, recorded as None
            res = stats.bootstrap((e_full, e_compact), ratio, paired=True, vectorized=True, confidence_level=level,
                                  n_resamples=resamples, method=method, rng=np.random.default_rng(seed),
                                  batch=max(1, BATCH_VALUES // len(y)))
        lo, hi = (float(v) if np.isfinite(v) else None for v in (res.confidence_interval.low,
                                                                 res.confidence_interval.high))
    return {"metric": "rmse", "rows": int(len(y)), "ratio": value, "interval": [lo, hi], "level": level,
            "test": f"paired bootstrap ({method}) over the test rows"}


def versus_full(task: str, y: np.ndarray, full_mean: np.ndarray, compact_mean: np.ndarray) -> dict[str, Any]:
    """What metrics.json records as ``versus_full``: :func:`changed_rows` or :func:`rmse_ratio` by ``task``."""
    if task == "classification":
        return changed_rows(y, full_mean, compact_mean)
    return rmse_ratio(y, full_mean, compact_mean)


def describe(info: dict[str, Any] | None) -> str | None:
    """One line for the report: the compact model against the full one on the test rows, and whether the
    difference is more than chance; None without a record."""
    if not info:
        return None
    n = info["rows"]
    if info["metric"] == "accuracy":
        if not info["changed"]:
            return f"compact against full: the same class on all {n:,} test rows"
        return (f"compact against full: {info['changed']} of {n:,} test rows changed class, {info['lost']} to a "
                f"wrong one and {info['gained']} to the right one (accuracy {100 * info['difference']:+.1f} "
                f"points; exact McNemar p = {info['p_value']:.2g}"
                + (", not distinguishable from chance on these rows)" if info["p_value"] >= 0.05 else ")"))
    lo, hi = info["interval"]
    if lo is None or hi is None:
        return f"compact against full: test RMSE {info['ratio']:.3g}x the full model's on {n:,} rows"
    return (f"compact against full: test RMSE {info['ratio']:.3f}x the full model's ({info['level']:.0%} paired "
            f"bootstrap interval over the {n:,} test rows: {lo:.3f}-{hi:.3f})")
