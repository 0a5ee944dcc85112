"""The run report: a terminal summary table and ``report.md`` with its figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bayesprune.io.atomic import write_text
from bayesprune.report import figures
from bayesprune.seeds import stream_key

STAGES = ("full", "pruned", "resampled")


def _fmt(v, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if not np.isfinite(v):
            return "n/a"
        return f"{v:.{digits}f}"
    return str(v)


def summary_rows(metrics: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows (one per stage) of the summary table of one metrics.json."""
    reg = metrics["task"] == "regression"
    main = "rmse" if reg else "accuracy"
    unc = ("picp90", "mpiw90", "crps") if reg else ("ece", "brier")
    header = ["stage", "kept", main, "@mean", "NLL", *[u.upper() for u in unc],
              "R-hat fn", "ESS fn", "accept", "s"]
    rows = []
    for stage in STAGES:
        m = metrics["stages"][stage]
        kept = metrics["n_params"] if stage == "full" else metrics["n_params_kept"]
        rows.append([
            stage, f"{kept}/{metrics['n_params']}", _fmt(m[main]), _fmt(m["point_estimate"][main]),
            _fmt(m["nll"]), *[_fmt(m[u]) for u in unc], _fmt(m["rhat_fn_max"], 2),
            _fmt(m["ess_fn_min"], 0), _fmt(m["acceptance_rate"], 2), _fmt(m["seconds"], 1),
        ])
    return header, rows


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def print_summary(outcome, console) -> None:
    """Print one rich table per (criterion, rate) on ``console``."""
    from rich.table import Table

    for cell in outcome.cells:
        m = cell.metrics
        title = (f"{m['dataset']} · {m['sampler']} · {cell.criterion.upper()} "
                 f"{'structured ' if m['structured'] else ''}{cell.rate:.0%} pruned")
        header, rows = summary_rows(m)
        table = Table(title=title, title_style="bold")
        for i, h in enumerate(header):
            table.add_column(h, justify="left" if i == 0 else "right")
        for r in rows:
            table.add_row(*r)
        console.print(table)
        warn = warnings_for(m)
        for w in warn:
            console.print(f"[yellow]warning:[/yellow] {w}")


def warnings_for(metrics: dict) -> list[str]:
    """Plain-language warnings about convergence and stuck chains."""
    out = []
    for stage in ("full", "resampled"):
        m = metrics["stages"][stage]
        acc = m["acceptance_rate"]
        if acc < 0.01:
            out.append(f"{stage}: acceptance {acc:.3f} < 1%, the chain is stuck; lower the step size")
        elif acc > 0.99:
            out.append(f"{stage}: acceptance {acc:.3f} > 99%, steps are too small to explore")
        rh = m["rhat_fn_max"]
        if np.isfinite(rh) and rh > 1.1:
            out.append(f"{stage}: function-space R-hat {rh:.2f} > 1.1, chains disagree on predictions; "
                       "run longer or use --sampler nuts")
        if m.get("n_divergent", 0):
            out.append(f"{stage}: {m['n_divergent']} divergent or non-finite transitions were rejected")
    return out


def write_report(outcome, out: Path, *, with_figures: bool = True) -> list[Path]:
    """Write report.md (and its PNG figures) for a run into ``out``."""
    out = Path(out)
    ds = outcome.dataset
    cfg = outcome.config
    written: list[Path] = []
    figs: list[tuple[str, str]] = []
    if with_figures:
        figdir = out / "figures"
        key = stream_key(cfg.seed, "evaluate")
        first = outcome.cells[0]
        if ds.task == "classification":
            from bayesprune.api import predict

            probas = {"full": predict(outcome.full, ds.X_test).mean()}
            for c in outcome.cells:
                probas[f"resampled ({c.criterion} {c.rate:.0%})"] = predict(c.resampled, ds.X_test).mean()
            p = figures.reliability_diagram(ds.y_test, probas, figdir / "reliability.png")
            figs.append(("Reliability diagram", p.name))
        else:
            from bayesprune.api import predict

            bands = {}
            for label, ps in (("full", outcome.full), (f"resampled ({first.criterion} {first.rate:.0%})",
                                                       first.resampled)):
                pred = predict(ps, ds.X_test)
                lo, hi = pred.interval(key, 0.9)
                bands[label] = (pred.mean(), lo, hi)
            p = figures.predictive_bands(ds.y_test, bands, figdir / "predictive_bands.png")
            figs.append(("Predictive mean and 90% interval on test data", p.name))
        for c in outcome.cells:
            name = f"scores_{c.criterion}_{c.rate:g}.png"
            p = figures.score_histogram(c.prune.scores, c.prune.threshold, c.criterion, c.rate,
                                        figdir / name)
            figs.append((f"{c.criterion.upper()} scores at {c.rate:.0%}", p.name))
        if len({c.rate for c in outcome.cells}) > 1:
            metric = "rmse" if ds.task == "regression" else "accuracy"
            p = figures.metric_vs_rate([c.metrics for c in outcome.cells], metric,
                                       figdir / "metric_vs_rate.png")
            figs.append((f"Test {metric} against pruning rate", p.name))
        written += [figdir / f for _, f in figs]

    lines = [f"# bayesprune report: {ds.name}", ""]
    lines += [
        f"- Data: {ds.summary()} (source: {ds.source})",
        f"- Network: {outcome.full.spec.widths} ({outcome.full.spec.activation} hidden units), "
        f"{outcome.full.spec.n_params} parameters, prior N(0, {cfg.prior_var})",
        f"- Sampler: {cfg.sampler}, {cfg.chains} chains x {cfg.samples} samples, burn-in {cfg.burnin:.0%}; "
        f"resampling {cfg.resample_samples} samples, burn-in {cfg.resample_burnin:.0%}, start: "
        f"{cfg.resample_start}",
        f"- Seed: {cfg.seed}",
        "",
        "Metrics are on the test set from the posterior predictive (all kept draws); the `@mean` column is",
        "the paper's point estimate (prediction at the posterior-mean weights). R-hat fn / ESS fn are split",
        "R-hat (max) and bulk ESS (min) of the test-point predictions across chains (ArviZ).",
        "",
    ]
    for c in outcome.cells:
        m = c.metrics
        lines += [f"## {c.criterion.upper()} {'structured ' if cfg.structured else ''}pruning at "
                  f"{c.rate:.0%} ({m['n_params_kept']} of {m['n_params']} parameters kept)", ""]
        header, rows = summary_rows(m)
        lines += [markdown_table(header, rows), ""]
        comp = m.get("compact")
        if comp:
            lines.append(
                f"Compact model (`model.bpz`, {comp['layout']} layout, {comp['n_draws']} draws): hidden layers "
                f"{comp['hidden_full']} -> {comp['hidden_compact']}, {comp['bytes_compact']:,} bytes against "
                f"{comp['bytes_dense']:,} for the same draws stored densely ({comp['bytes_ratio']:.0%}; "
                f"{comp['bytes_dense_compressed']:,} zipped); predicting the test "
                f"set takes {comp['predict_seconds_compact'] * 1e3:.2f} ms against "
                f"{comp['predict_seconds_dense'] * 1e3:.2f} ms dense.")
            lines.append("")
        lines.append(f"Mask agreement between chains (mean pairwise Jaccard of kept sets): "
                     f"{m['chain_agreement_jaccard']:.3f}; scores from chain(s) {m['score_chains']}.")
        for w in warnings_for(m):
            lines.append(f"- warning: {w}")
        lines.append("")
    for title, name in figs:
        lines += [f"### {title}", "", f"![{title}](figures/{name})", ""]
    write_text(out / "report.md", "\n".join(lines))
    written.append(out / "report.md")
    return written
