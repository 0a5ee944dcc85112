"""Tables, claim checks and figures of a grid, rebuilt from its saved runs (``bayesprune report DIR``).

Nothing is recomputed from the posterior: the numbers come from ``results.csv`` (rebuilt from the run folders
when missing) and R-hat across runs from the saved test-point predictions (``fn_summaries.npz``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bayesprune.data.registry import PAPER_DATASETS
from bayesprune.evaluation.diagnostics import rhat_every_quantity
from bayesprune.evaluation.records import LOWER_IS_BETTER, cell_name, main_metric, uncertainty_metrics
from bayesprune.io.atomic import write_text
from bayesprune.io.grid import load_results, read_grid, saved_outputs
from bayesprune.report.figures import new_figure, save_png
from bayesprune.report.markdown import markdown_table


def _pm(values: pd.Series, digits: int = 3) -> str:
    v = values.dropna().to_numpy(float)
    if v.size == 0:
        return "n/a"
    sd = v.std(ddof=1) if v.size > 1 else 0.0
    return f"{v.mean():.{digits}f} ± {sd:.{digits}f}"


def _tasks(frame: pd.DataFrame) -> dict[str, str]:
    """dataset -> task (from which main metric its rows carry), in the paper's order, then by name."""
    out = {}
    rank = {name: i for i, name in enumerate(PAPER_DATASETS)}
    for ds in sorted(frame.dataset.unique(), key=lambda d: (rank.get(d, len(rank)), d)):
        regression = ((frame.dataset == ds) & (frame.metric == main_metric("regression"))).any()
        out[ds] = "regression" if regression else "classification"
    return out


def _values(frame: pd.DataFrame, dataset: str, stage: str, metric: str, criterion: str = "none",
            requested: str = "0") -> pd.Series:
    """One number per run of a (criterion, rate as asked) -- ``requested`` is ``"0.75"`` or ``"auto"``."""
    sel = frame[(frame.dataset == dataset) & (frame.stage == stage) & (frame.metric == metric)
                & (frame.criterion == criterion) & (frame.requested == requested)]
    return sel.set_index("run")["value"].sort_index()


def _fixed(requested: str) -> bool:
    return requested != "auto"


def _rate_sort(requested: str) -> float:
    return float(requested) if _fixed(requested) else 2.0  # auto after every fixed rate


def _rate_label(frame: pd.DataFrame, dataset: str, criterion: str, requested: str) -> str:
    """``75%``, or for --rate auto the rates it chose: ``auto (75-90%)``."""
    if _fixed(requested):
        return f"{float(requested):.0%}"
    chosen = frame[(frame.dataset == dataset) & (frame.criterion == criterion) & (frame.requested == requested)
                   & (frame.stage == "pruned") & (frame.metric == "kept_share")].rate
    lo, hi = (chosen.min(), chosen.max()) if len(chosen) else (np.nan, np.nan)
    return f"auto ({lo:.0%})" if np.isclose(lo, hi) else f"auto ({lo:.0%}-{hi:.0%})"


def _cells(frame: pd.DataFrame, dataset: str) -> list[tuple[str, str]]:
    """(criterion, rate as asked) of every cell of a data set: by criterion, then rate, ``auto`` last."""
    g = frame[(frame.dataset == dataset) & (frame.criterion != "none")]
    order = {"stn": 0, "spn": 1, "magnitude": 2, "lppd": 3, "random": 4}
    pairs = set(zip(g.criterion, g.requested, strict=True))
    return sorted(pairs, key=lambda p: (order.get(p[0], 9), p[0], _rate_sort(p[1])))


def performance_table(frame: pd.DataFrame, dataset: str, task: str) -> str:
    """Main metric (mean ± sd over runs): point estimate at the posterior mean (the paper) and predictive."""
    m = main_metric(task)
    header = ["criterion", "rate", "kept", f"pruned {m} @mean", f"pruned {m}", f"resampled {m} @mean",
              f"resampled {m}"]
    full_point, full_pred = _values(frame, dataset, "full", f"point_{m}"), _values(frame, dataset, "full", m)
    rows = [["full model", "0%", "100%", _pm(full_point), _pm(full_pred), _pm(full_point), _pm(full_pred)]]
    for c, r in _cells(frame, dataset):
        kept = _values(frame, dataset, "pruned", "kept_share", c, r)
        rows.append([c.upper(), _rate_label(frame, dataset, c, r), f"{kept.mean():.0%}" if len(kept) else "-",
                     _pm(_values(frame, dataset, "pruned", f"point_{m}", c, r)),
                     _pm(_values(frame, dataset, "pruned", m, c, r)),
                     _pm(_values(frame, dataset, "resampled", f"point_{m}", c, r)),
                     _pm(_values(frame, dataset, "resampled", m, c, r))])
    return markdown_table(header, rows)


def uncertainty_table(frame: pd.DataFrame, dataset: str, task: str) -> str:
    metrics = uncertainty_metrics(task) + (("nll",) if task == "classification" else ())
    header = ["criterion", "rate"] + [f"{s} {u.upper()}" for s in ("pruned", "resampled") for u in metrics]
    rows = [["full model", "0%"] + [_pm(_values(frame, dataset, "full", u)) for u in metrics] * 2]
    for c, r in _cells(frame, dataset):
        rows.append([c.upper(), _rate_label(frame, dataset, c, r)] + [_pm(_values(frame, dataset, s, u, c, r))
                                                for s in ("pruned", "resampled") for u in metrics])
    return markdown_table(header, rows)


def across_run_rhat(out: Path, dataset: str, key: str) -> float:
    """Max over test points (and, for classification, over every class) of R-hat with every run's chain(s) as
    chains: the paper's R-hat across runs, in function space."""
    arrays = saved_outputs(out, dataset, key)
    if len(arrays) < 2 or len({a.shape[1:] for a in arrays}) != 1:
        return float("nan")
    return rhat_every_quantity(np.concatenate(arrays, axis=0))


def convergence_table(frame: pd.DataFrame, out: Path, dataset: str) -> str:
    header = ["criterion", "rate", "R-hat fn across runs (pruned)", "R-hat fn across runs (resampled)",
              "ESS fn min (resampled, per run)", "acceptance (resampled)"]
    full_r = across_run_rhat(out, dataset, "full")
    rows = [["full model", "0%", f"{full_r:.2f}", f"{full_r:.2f}",
             _pm(_values(frame, dataset, "full", "ess_fn_min"), 0),
             _pm(_values(frame, dataset, "full", "acceptance_rate"), 2)]]
    for c, r in _cells(frame, dataset):
        name = cell_name(c, r)
        rows.append([c.upper(), _rate_label(frame, dataset, c, r),
                     f"{across_run_rhat(out, dataset, name + ':pruned'):.2f}",
                     f"{across_run_rhat(out, dataset, name + ':resampled'):.2f}",
                     _pm(_values(frame, dataset, "resampled", "ess_fn_min", c, r), 0),
                     _pm(_values(frame, dataset, "resampled", "acceptance_rate", c, r), 2)])
    return markdown_table(header, rows)


def _paired(a: pd.Series, b: pd.Series) -> tuple[float, float, int]:
    """Mean and standard error of the run-paired difference a - b."""
    d = (a - b).dropna()
    n = len(d)
    if n == 0:
        return float("nan"), float("nan"), 0
    se = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    return float(d.mean()), se, n


def claims(frame: pd.DataFrame) -> list[str]:
    """The paper's claims checked on this grid, one bullet each, with the numbers behind the verdict.

    'Worse' and 'better' are judged on the run-paired difference of the posterior-predictive main metric:
    a difference counts when it exceeds two standard errors.
    """
    tasks = _tasks(frame)
    lines: list[str] = []

    def sign(task: str) -> int:  # +1 when higher is better
        return -1 if main_metric(task) in LOWER_IS_BETTER else 1

    # 1. >= 75% removed with performance retained after resampling
    top_rate = max((float(r) for r in frame.requested.unique() if _fixed(r) and float(r) > 0), default=0.0)
    kept_ok, kept_bad, untested = [], [], []
    for ds, task in tasks.items():
        m = main_metric(task)
        best = None
        for c, r in _cells(frame, ds):
            if not _fixed(r) or not np.isclose(float(r), top_rate) or c == "random":
                continue
            mean, se, n = _paired(_values(frame, ds, "resampled", m, c, r), _values(frame, ds, "full", m))
            gain = sign(task) * mean
            if best is None or gain > best[0]:
                best = (gain, se, c, mean)
        if best is None:
            continue
        gain, se, c, mean = best
        if not np.isfinite(se):
            untested.append(f"{ds} ({c.upper()} {m} {mean:+.3f})")
            continue
        text = f"{ds} ({c.upper()} {m} {mean:+.3f} ± {se:.3f})"
        (kept_bad if gain < -2 * se else kept_ok).append(text)
    if kept_ok or kept_bad or untested:
        lines.append(f"**{top_rate:.0%} of parameters removed, performance retained after resampling** (best of "
                     f"STN/SPN/magnitude, resampled minus full model, mean ± standard error of the run-paired "
                     f"difference): no significant loss on {len(kept_ok)} of {len(kept_ok) + len(kept_bad)} "
                     f"data sets" + (f" — {', '.join(kept_ok)}" if kept_ok else "")
                     + (f"; significantly worse (by more than 2 standard errors) on {', '.join(kept_bad)}"
                        if kept_bad else "")
                     + (f"; not tested (one run): {', '.join(untested)}" if untested else "") + ".")
    # 2. resampling recovers the loss of pruning
    better = worse = same = 0
    for ds, task in tasks.items():
        m = main_metric(task)
        for c, r in _cells(frame, ds):
            mean, se, n = _paired(_values(frame, ds, "resampled", m, c, r), _values(frame, ds, "pruned", m, c, r))
            if not np.isfinite(se):
                continue
            g = sign(task) * mean
            better += g > 2 * se
            worse += g < -2 * se
            same += abs(g) <= 2 * se
    if better + worse + same:
        lines.append(f"**Resampling recovers what pruning lost** (resampled vs pruned, every data set x criterion x "
                     f"rate): better in {better}, no significant difference in {same}, worse in {worse} of "
                     f"{better + worse + same} cells.")
    # 3. STN vs SPN by task
    for task in ("classification", "regression"):
        wins = {"stn": 0, "spn": 0, "tie": 0}
        for ds, t in tasks.items():
            if t != task:
                continue
            m = main_metric(task)
            for r in sorted({r for c, r in _cells(frame, ds) if c == "stn"}, key=_rate_sort):
                if ("spn", r) not in _cells(frame, ds):
                    continue
                mean, se, n = _paired(_values(frame, ds, "resampled", m, "stn", r),
                                      _values(frame, ds, "resampled", m, "spn", r))
                if not np.isfinite(se):
                    continue
                g = sign(task) * mean
                wins["stn" if g > 2 * se else "spn" if g < -2 * se else "tie"] += 1
        total = sum(wins.values())
        if total:
            lines.append(f"**STN vs SPN on {task}** (resampled, paired over runs, each data set x rate): STN better "
                         f"in {wins['stn']}, SPN better in {wins['spn']}, no significant difference in "
                         f"{wins['tie']} of {total}.")
    # 4. --rate auto: what it chose and what that cost
    auto = []
    for ds, task in tasks.items():
        m = main_metric(task)
        for c, r in _cells(frame, ds):
            if _fixed(r):
                continue
            removed = 1 - _values(frame, ds, "pruned", "kept_share", c, r)
            full = _values(frame, ds, "full", m)
            mean, se, n = _paired(_values(frame, ds, "resampled", m, c, r), full)
            rel = f" ({mean / full.mean():+.1%} of the full model's)" if m in LOWER_IS_BETTER else ""
            auto.append(f"{ds} {c.upper()} removed {removed.mean():.0%} (median {removed.median():.0%}), {m} "
                        f"{mean:+.3f} ± {se:.3f}{rel}")
    if auto:
        lines.append("**Rate chosen by PSIS-LOO (`auto`)**: share removed (mean over runs) and resampled minus full "
                     "model (mean ± standard error of the run-paired difference): " + "; ".join(auto) + ".")
    # 5. pruned models converge better (lower R-hat) -- reported in the convergence tables
    return lines


def timing_table(frame: pd.DataFrame) -> str:
    header = ["data set", "runs", "seconds per run (mean)", "seconds, all runs"]
    rows = []
    for ds in _tasks(frame):
        t = _values(frame, ds, "full", "seconds_total")
        rows.append([ds, str(len(t)), f"{t.mean():.1f}", f"{t.sum():.0f}"])
    return markdown_table(header, rows)


def performance_figure(frame: pd.DataFrame, path: Path) -> Path:
    """One panel per data set: main metric vs pruning rate, pruned (dashed) and resampled (solid)."""
    tasks = _tasks(frame)
    n = len(tasks)
    cols = min(4, n)
    rows_ = int(np.ceil(n / cols))
    fig, axes = new_figure((4.2 * cols, 3.3 * rows_), rows_, cols, squeeze=False)
    colours = {"stn": "tab:blue", "spn": "tab:orange", "random": "tab:grey", "magnitude": "tab:green",
               "lppd": "tab:purple"}
    for ax, (ds, task) in zip(axes.flat, tasks.items(), strict=False):
        m = main_metric(task)
        full = _values(frame, ds, "full", m)
        ax.axhline(full.mean(), color="black", lw=1, label="full model")
        crits = sorted({c for c, _ in _cells(frame, ds)})
        for c in crits:
            rates = [r for cc, r in _cells(frame, ds) if cc == c]
            fixed = [r for r in rates if _fixed(r)]
            for stage, style in (("pruned", "--"), ("resampled", "-")):
                mu = [_values(frame, ds, stage, m, c, r).mean() for r in fixed]
                sd = [_values(frame, ds, stage, m, c, r).std(ddof=1) for r in fixed]
                if fixed:
                    ax.errorbar(np.array(fixed, float) * 100, mu, yerr=sd, ls=style, marker="o", ms=3, capsize=2,
                                color=colours.get(c), label=f"{c.upper()} {stage}")
            for r in rates:
                if _fixed(r):
                    continue  # auto: one star at the mean share removed, resampled
                removed = 100 * (1 - _values(frame, ds, "pruned", "kept_share", c, r).mean())
                ax.plot(removed, _values(frame, ds, "resampled", m, c, r).mean(), marker="*", ms=11, ls="none",
                        color=colours.get(c), markeredgecolor="black", label=f"{c.upper()} auto, resampled")
        ax.set_title(ds)
        ax.set_xlabel("parameters removed (%)")
        ax.set_ylabel(f"test {m}")
    for ax in axes.flat[n:]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return save_png(fig, path, dpi=110)


def build_report(out: str | Path, *, figures: bool = True, title: str | None = None,
                 dest: str | Path | None = None) -> list[Path]:
    """Write ``out/report.md`` (and ``out/figures/``) from the saved runs of a grid.

    ``dest``: write the report to this Markdown file instead, its figure as ``figures/<stem>-*.png`` beside it
    (for publishing several grids' reports in one documentation folder).
    """
    out = Path(out)
    target = Path(dest) if dest else out / "report.md"
    fig_rel = f"figures/{target.stem}-performance_vs_rate.png" if dest else "figures/performance_vs_rate.png"
    frame = load_results(out)
    tasks = _tasks(frame)
    grid = read_grid(out)
    lines = [f"# {title or 'Pruned BNN grid'}", ""]
    if grid:
        lines += [f"Command: `{grid.get('command', '')}`", "",
                  f"Sampler {grid.get('sampler')}, {grid.get('runs')} runs x {grid.get('samples'):,} samples "
                  f"({grid.get('burnin', 0.5):.0%} burn-in), resampling {grid.get('resample_samples'):,} samples; "
                  f"wall time of the last invocation {grid.get('seconds', float('nan')):.0f} s "
                  f"({grid.get('ran', '?')} runs run, {grid.get('skipped', '?')} already done).", ""]
    lines += ["Mean ± sd over runs. `@mean`: prediction at the posterior-mean parameters (how the paper scores); "
              "otherwise the posterior predictive over all kept draws.", "", "## Claims checked", ""]
    lines += [f"- {c}" for c in claims(frame)] + [""]
    written = []
    if figures:
        fig = performance_figure(frame, target.parent / fig_rel)
        lines += [f"![test metric vs pruning rate]({fig_rel})", ""]
        written.append(fig)
    lines += ["## Test performance", ""]
    for ds, task in tasks.items():
        lines += [f"### {ds} ({task})", "", performance_table(frame, ds, task), ""]
    lines += ["## Uncertainty", ""]
    for ds, task in tasks.items():
        lines += [f"### {ds}", "", uncertainty_table(frame, ds, task), ""]
    lines += ["## Convergence", "", "R-hat across runs: rank-normalised split R-hat of the test-point predictions "
              "with each run as a chain, max over test points (the paper's Gelman-Rubin across runs, in function "
              "space).", ""]
    for ds in tasks:
        lines += [f"### {ds}", "", convergence_table(frame, out, ds), ""]
    lines += ["## Wall time", "", timing_table(frame), ""]
    write_text(target, "\n".join(lines))
    return [target, *written]
