"""Figures of a run: reliability diagram, predictive bands, score histograms, accuracy against rate.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``) and written straight to PNG, so
importing or using bayesprune never touches pyplot's global state or the program's plotting backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from bayesprune.evaluation.metrics import reliability_table
from bayesprune.evaluation.records import main_metric
from bayesprune.io.atomic import atomic_path


def new_figure(figsize: tuple[float, float], nrows: int = 1, ncols: int = 1, **kw):
    """A figure and its axes, outside pyplot (no backend, no global figure list)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kw)


def save_png(fig: Figure, path: Path, *, dpi: int = 120, **kw) -> Path:
    """Write ``fig`` as a PNG (atomically)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, **kw)
    return path


def _save(fig: Figure, path: Path) -> Path:
    return save_png(fig, path, bbox_inches="tight")


def reliability_diagram(y_true, probas: dict[str, np.ndarray], path: Path, n_bins: int = 10) -> Path:
    """Accuracy against confidence per bin, one line per model; the diagonal is perfect calibration."""
    fig, ax = new_figure((4.5, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect calibration")
    for label, proba in probas.items():
        _, conf, acc, counts = reliability_table(y_true, proba, n_bins)
        ok = counts > 0
        ax.plot(conf[ok], acc[ok], marker="o", label=label)
    ax.set_xlabel("confidence (top-class probability)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title("Reliability diagram (test set)")
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)


def predictive_bands(y_true, bands: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], path: Path, *,
                     ylabel: str = "target (scaled)") -> Path:
    """Test targets with predictive mean and 90% interval per model, test points ordered by target; ``ylabel``
    names what the network models (the scaled target, or its scaled logarithm)."""
    order = np.argsort(y_true)
    x = np.arange(len(y_true))
    fig, axes = new_figure((8, 2.6 * len(bands)), len(bands), 1, sharex=True, squeeze=False)
    for ax, (label, (mean, lo, hi)) in zip(axes[:, 0], bands.items(), strict=True):
        ax.fill_between(x, lo[order], hi[order], alpha=0.3, label="90% interval")
        ax.plot(x, mean[order], lw=1, label="predictive mean")
        ax.scatter(x, y_true[order], s=4, color="black", label="observed")
        ax.set_title(label, fontsize=9)
        ax.set_ylabel(ylabel)
    axes[0, 0].legend(fontsize=7, loc="upper left")
    axes[-1, 0].set_xlabel("test points, ordered by observed value")
    return _save(fig, path)


def score_histogram(scores: np.ndarray, threshold: float, criterion: str, rate: float, path: Path) -> Path:
    """Histogram of log10 scores with the pruning cut."""
    fig, ax = new_figure((5.5, 3.2))
    s = np.asarray(scores, np.float64)
    finite = np.isfinite(s) & (s > 0)
    ax.hist(np.log10(s[finite]), bins=40, color="tab:blue", alpha=0.8)
    if np.isfinite(threshold) and threshold > 0:
        ax.axvline(np.log10(threshold), color="tab:red", lw=2, label=f"cut: {rate:.0%} removed")
        ax.legend(fontsize=8)
    ax.set_xlabel(f"log10 {criterion.upper()} score")
    ax.set_ylabel("parameters")
    ax.set_title(f"{criterion.upper()} scores (lowest are pruned)")
    return _save(fig, path)


def metric_vs_rate(records: list, path: Path) -> Path:
    """The main metric after pruning and after resampling against rate, one line per criterion
    (``records``: :class:`~bayesprune.evaluation.records.CellRecord`)."""
    metric = main_metric(records[0].task)
    fig, ax = new_figure((6, 4))
    for crit in sorted({r.criterion for r in records}):
        rs = sorted((r for r in records if r.criterion == crit), key=lambda r: r.rate)
        rates = [r.rate for r in rs]
        ax.plot(rates, [r.stages["resampled"].main for r in rs], marker="o", label=f"{crit} resampled")
        ax.plot(rates, [r.stages["pruned"].main for r in rs], marker="x", ls="--", label=f"{crit} pruned only")
    ax.axhline(records[0].stages["full"].main, color="black", lw=1, label="full model")
    ax.set_xlabel("pruning rate")
    ax.set_ylabel(f"test {metric}")
    ax.legend(fontsize=7)
    ax.set_title(f"Test {metric} against pruning rate")
    return _save(fig, path)


def rate_selection(selection: dict, path: Path) -> Path:
    """``--rate auto``: each candidate's PSIS-LOO ELPD loss against the full model (+- its paired standard error,
    training rows) with the allowed loss, the chosen rate marked (``selection``: the ``rate_selection`` block)."""
    cands = selection["candidates"]
    rates = np.array([c["rate"] for c in cands])
    loss = np.array([c["loss"] for c in cands])
    se = np.array([c["loss_se"] for c in cands])
    fig, ax = new_figure((6, 3.8))
    ax.errorbar(rates, loss, yerr=se, marker="o", capsize=3, label="ELPD loss +- 1 SE")
    ax.plot(rates, selection["allowed_loss"] + selection["n_se"] * se, color="tab:red", ls="--", lw=1,
            label=f"allowed: {selection['tolerance']:.0%} of the gain over no inputs + {selection['n_se']:g} SE")
    ax.axhline(0, color="black", lw=1)
    for c in cands:
        ax.annotate(f"{c['n_params_kept']} kept", (c["rate"], c["loss"]), textcoords="offset points",
                    xytext=(4, 6), fontsize=7)
    if selection["chosen"] > 0:
        ax.axvline(selection["chosen"], color="tab:green", lw=2, alpha=0.6, label=f"chosen: {selection['chosen']:.0%}")
    ax.set_xlabel("pruning rate")
    ax.set_ylabel("ELPD loss vs full model (nats, training LOO)")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.legend(fontsize=7)
    ax.set_title("Rate selection (PSIS-LOO, training rows only)")
    return _save(fig, path)
