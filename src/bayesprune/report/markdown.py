"""The run report: a terminal summary table and ``report.md`` with its figures.

Everything here renders what the runner stored (:class:`~bayesprune.evaluation.records.RunView` and its
records); nothing is sampled or predicted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bayesprune.evaluation import extrapolation, paired
from bayesprune.evaluation.records import (
    FULL_SCORED,
    STAGES,
    CellRecord,
    RunView,
    main_metric,
    uncertainty_metrics,
)
from bayesprune.io.atomic import write_text
from bayesprune.report import figures


def _fmt(v, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if not np.isfinite(v):
            return "n/a"
        return f"{v:.{digits}f}"
    return str(v)


def summary_rows(record: CellRecord) -> tuple[list[str], list[list[str]]]:
    """Header and rows (one per stage) of the summary table of one (criterion, rate).

    Regression adds ``rmse (y)``, the RMSE in the target's own units (the other metrics are for the min-max
    scaled target, as in the paper).
    """
    main = main_metric(record.task)
    unc = uncertainty_metrics(record.task)
    units = ["rmse (y)"] if record.task == "regression" else []  # in the target's own units
    nested = any(m.nrhat_fn_max is not None for m in record.stages.values())  # chains started in groups
    header = ["stage", "kept", main, *units, "@mean", "NLL", *[u.upper() for u in unc],
              "R-hat fn", *(["nR-hat fn"] if nested else []), "ESS fn", "MC err", "accept", "s"]
    rows = []
    names = {FULL_SCORED: "full, scoring chain" + ("s" if len(record.score_chains) > 1 else "")}
    for stage in (STAGES[0], FULL_SCORED, *STAGES[1:]):
        m = record.stages.get(stage)
        if m is None:
            continue
        kept = record.n_params if stage in ("full", FULL_SCORED) else record.n_params_kept
        rows.append([
            names.get(stage, stage), f"{kept}/{record.n_params}", _fmt(m.main),
            *([f"{m.rmse_original:.4g}"] if units else []), _fmt(m.point_estimate),
            _fmt(m.nll), *[_fmt(m.value(u)) for u in unc], _fmt(m.rhat_fn_max, 2),
            *([_fmt(m.nrhat_fn_max, 2) if m.nrhat_fn_max is not None else "-"] if nested else []),
            _fmt(m.ess_fn_min, 0), _fmt(m.mc_error, 3), _fmt(m.acceptance_rate, 2), _fmt(m.seconds, 1),
        ])
    return header, rows


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _rate_text(record: CellRecord) -> str:
    """``75%``, ``auto: 90%``, ``per layer 0.5/0.9: 84%``, with ``(gradual, 3 steps)`` when the schedule had
    several."""
    text = f"auto: {record.rate:.0%}" if record.requested_rate == "auto" else f"{record.rate:.0%}"
    if record.rate_lowered:
        text += f" (guard: {record.requested_rate:.0%} lost too much)"
    if record.requested_rate == "layers" and record.config is not None:
        text = f"per layer {'/'.join(f'{r:g}' for r in record.config.layer_rates)}: {record.rate:.0%}"
    steps = [s for s in record.schedule or [] if not record.rate_selection]  # not the rates auto or the guard tried
    if len(steps) > 1:
        text += f" (gradual, {len(steps)} steps)"
    return text


def _title(record: CellRecord) -> str:
    return (f"{record.dataset} · {record.sampler} · {record.criterion.upper()} "
            f"{'structured ' if record.structured else ''}{_rate_text(record)} pruned")


def mask_lines(record: CellRecord) -> list[str]:
    """What the mask repair changed and which features are gone, as plain sentences."""
    out = []
    rep = record.mask_repair
    if rep and (rep["removed_dead"] or rep["path_added"]):
        out.append(f"mask repair: {rep['removed_dead']} parameters of dead hidden units removed and "
                   f"{rep['refilled']} live ones kept instead" + (f"; {rep['path_added']} added so every output has "
                                                                 "a path from the inputs" if rep["path_added"] else ""))
    if record.dropped_features:
        out.append(f"dropped features (no kept path to an output): {', '.join(record.dropped_features)}")
    return out


def selection_table(selection: dict) -> str:
    """The candidates of ``--rate auto`` as a Markdown table."""
    header = ["rate", "kept", "ELPD (LOO)", "loss vs full", "SE of loss", "passes", "Pareto k > good"]
    allowed = selection["allowed_loss"]
    rows = [["no inputs", "-", f"{selection['null_elpd']:.1f}", "-", "-", "-", "-"],
            ["full", "-", f"{selection['full_elpd']:.1f} ± {selection['full_se']:.1f}", f"allowed {allowed:.1f}",
             "-", "-", str(selection["full_n_bad_k"])]]
    for c in selection["candidates"]:
        rows.append([f"{c['rate']:.0%}" + (" (chosen)" if c["rate"] == selection["chosen"] else ""),
                     str(c["n_params_kept"]), f"{c['elpd']:.1f} ± {c['se']:.1f}", f"{c['loss']:.1f}",
                     f"{c['loss_se']:.1f}", "yes" if c["within"] else "no", str(c["n_bad_k"])])
    return markdown_table(header, rows)


def print_summary(view: RunView, console, *, notes: bool = True) -> None:
    """Print one rich table per (criterion, rate) on ``console``, each followed by its warnings; then the run's
    warnings and, unless ``notes`` is False (the command line printed them before the work), its notes; then what
    the run found (``findings``, notes known only after the work)."""
    from rich.table import Table

    for cell in view.cells:
        header, rows = summary_rows(cell.record)
        table = Table(title=_title(cell.record), title_style="bold")
        for i, h in enumerate(header):
            table.add_column(h, justify="left" if i == 0 else "right")
        for r in rows:
            table.add_row(*r)
        # a file or a pipe has no width to fit: print the table whole rather than cut its cells ("121/1…") to the
        # console's nominal width; a terminal keeps its own width
        width = console.width
        if not console.is_terminal:
            console.width = max(width, console.measure(table, options=console.options.update_width(10_000)).maximum)
        try:
            console.print(table)
        finally:
            console.width = width
        sel = cell.record.rate_selection
        if sel and cell.record.requested_rate == "auto":
            console.print("rate auto: " + ", ".join(
                f"{c['rate']:.0%} loss {c['loss']:.1f} ± {c['loss_se']:.1f}" for c in sel["candidates"])
                + f" -> {sel['chosen']:.0%} (allowed loss {sel['allowed_loss']:.1f} + {sel['n_se']:g} SE; PSIS-LOO "
                "on the training rows)")
        elif sel and cell.record.rate_lowered:
            console.print(guard_line(sel))
        for line in note_lines(cell.record):
            console.print(line)
        for w in warnings_for(cell.record):
            console.print(f"[yellow]warning:[/yellow] {w}")
    for w in view.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    for n in [*(view.notes if notes else []), *view.findings]:
        console.print(f"note: {n}", markup=False)


def note_lines(record: CellRecord) -> list[str]:
    """The lines after a cell's table, in the console and in report.md alike: the mask repair, the compact
    model against the full one, the test rows outside the training range."""
    return mask_lines(record) + weight_lines(record) + versus_lines(record) + extrapolation_lines(record)


def weight_lines(record: CellRecord) -> list[str]:
    """The chain weights of the sampled stages whose chains were not weighted equally (``--chain-weights``)."""
    parts = []
    for stage in ("full", "resampled"):
        m = record.stages.get(stage)
        w = None if m is None else m.chain_weights
        if w is not None and max(w) - min(w) > 1e-9:
            parts.append(f"{stage} {' / '.join(f'{x:.2f}' for x in w)}")
    if not parts:
        return []
    return ["chain weights (stacking of the chains' PSIS-LOO fit to the training rows: a chain in a poorer mode "
            "counts less): " + "; ".join(parts)]


def tuned_text(values: dict[str, list[float]]) -> str:
    """A stage's tuned sampler parameters (:attr:`CellRecord.tuned`): each one's median over the chains and its
    range, ``step_size 0.0123 (0.0101-0.0150)``; one chain: its value."""
    def one(v: list[float]) -> str:
        return f"{np.median(v):.3g}" + (f" ({min(v):.3g}-{max(v):.3g})" if len(v) > 1 else "")
    return ", ".join(f"{k} {one(v)}" for k, v in values.items())


def versus_lines(record: CellRecord) -> list[str]:
    """The line comparing the compact model with the full one on the same test rows (paired: rows changed and
    McNemar's test, or the RMSE ratio's bootstrap interval); none when the full network was kept."""
    line = paired.describe(record.versus_full)
    return [line] if line else []


def extrapolation_lines(record: CellRecord) -> list[str]:
    """The line saying how many test rows lie outside the training range and what share of the error they
    carry; none when every test row lies inside it."""
    line = extrapolation.describe(record.extrapolation, record.task)
    return [line] if line else []


def guard_line(sel: dict) -> str:
    """What the rate guard tried and kept, as one sentence (``sel``: the ``rate_selection`` block)."""
    tried = sorted(sel["candidates"], key=lambda c: -c["rate"])
    chosen = f"{sel['chosen']:.0%}" if sel["chosen"] else "the full network"
    def accuracy(c: dict) -> str:  # classification with --rate-guard-accuracy
        return "" if c.get("accuracy_loss") is None else f" ({c['accuracy_loss']:.1%} accuracy)"

    return (f"rate guard: PSIS-LOO ELPD lost on the training rows (at most {sel['allowed_loss']:.1f} nats allowed) "
            + ", ".join(f"{c['rate']:.0%} {c['loss']:.1f}{accuracy(c)}" for c in tried)
            + f" -> {chosen} kept; --rate-guard 0 keeps the rate given")


def warnings_for(record: CellRecord) -> list[str]:
    """The warnings the runner stored about the sampled stages of a (criterion, rate)."""
    return list(record.warnings or [])


def write_report(view: RunView, out: Path, *, with_figures: bool = True) -> list[Path]:
    """Write report.md (and its PNG figures) for a run into ``out``."""
    out = Path(out)
    written: list[Path] = []
    figs: list[tuple[str, str]] = []
    first = view.cells[0].record
    cfg = first.config
    if with_figures:
        figdir = out / "figures"
        if view.task == "classification":
            probas = {"full": view.full.mean}
            for c in view.cells:
                probas[f"resampled ({c.record.criterion} {c.record.rate:.0%})"] = c.resampled.mean
            p = figures.reliability_diagram(view.y_test, probas, figdir / "reliability.png")
            figs.append(("Reliability diagram", p.name))
        else:
            c = view.cells[0]
            bands = {"full": (view.full.mean, view.full.lower, view.full.upper),
                     f"resampled ({c.record.criterion} {c.record.rate:.0%})":
                         (c.resampled.mean, c.resampled.lower, c.resampled.upper)}
            p = figures.predictive_bands(view.y_test, bands, figdir / "predictive_bands.png",
                                         ylabel="log target (scaled)" if cfg.target_transform == "log"
                                         else "target (scaled)")
            figs.append(("Predictive mean and 90% interval on test data", p.name))
        for c in view.cells:
            r = c.record
            if r.rate_selection:
                p = figures.rate_selection(r.rate_selection, figdir / f"rate_selection_{r.criterion}.png")
                figs.append((f"Rate selection ({r.criterion.upper()})", p.name))
            p = figures.score_histogram(c.scores, c.threshold, r.criterion, r.rate,
                                        figdir / f"scores_{r.criterion}_{r.rate:g}.png")
            figs.append((f"{r.criterion.upper()} scores at {r.rate:.0%}", p.name))
        if len({c.record.rate for c in view.cells}) > 1:
            p = figures.metric_vs_rate([c.record for c in view.cells], figdir / "metric_vs_rate.png")
            figs.append((f"Test {main_metric(view.task)} against pruning rate", p.name))
        written += [figdir / f for _, f in figs]

    arch = first.architecture
    widths = (arch["n_inputs"], *arch["hidden"], arch["n_outputs"])
    lines = [f"# bayesprune report: {first.dataset}", ""]
    lines += [
        f"- Data: {view.dataset_summary} (source: {view.source})",
        f"- Network: {widths} ({arch['activation']} hidden units), {first.n_params} parameters, prior "
        f"N(0, {cfg.prior_var})",
        f"- Sampler: {cfg.sampler}, {cfg.chains} chains x {cfg.samples} samples, burn-in {cfg.burnin:.0%}; "
        f"resampling {cfg.resample_samples} samples, burn-in {cfg.resample_burnin:.0%}, start: "
        f"{cfg.resample_start}, from {cfg.resample_from}",
        # an unset setting (None) takes the sampler's default, which warm-up tunes where it adapts: say so
        "- Sampler settings: " + ", ".join(f"{k} {'default' if v is None else v}"
                                           for k, v in cfg.sampler_settings.to_dict().items()),
        *([f"- Sampler parameters after warm-up (median over chains, range): {tuned_text(first.tuned['full'])}"]
          if first.tuned and first.tuned.get("full") else []),
        f"- Seed: {cfg.seed}",
        "",
        "Metrics are on the test set from the posterior predictive (all kept draws); the `@mean` column is",
        "the paper's point estimate (prediction at the posterior-mean weights). R-hat fn / ESS fn are split",
        "R-hat (max) and bulk ESS (min) of the test-point predictions across chains (ArviZ's definitions); MC err",
        "is the Monte Carlo error of the predictive mean in outcome sds (root mean square over the test points):",
        "about MC err^2 / 2 nats of test NLL, warned about above 0.1.",
        "",
    ]
    lines += [f"- warning: {w}" for w in view.warnings] + [f"- note: {n}" for n in [*view.notes, *view.findings]]
    for c in view.cells:
        m = c.record
        lines += [f"## {m.criterion.upper()} {'structured ' if m.structured else ''}pruning at "
                  f"{_rate_text(m)} ({m.n_params_kept} of {m.n_params} parameters kept)", ""]
        header, rows = summary_rows(m)
        lines += [markdown_table(header, rows), ""]
        if m.rate_selection:
            lines += [f"Rate chosen by the rule: {m.rate_selection['rule']}. Candidates:", "",
                      selection_table(m.rate_selection), ""]
        if m.schedule and len(m.schedule) > 1 and not m.rate_selection:
            lines += ["Steps: " + " -> ".join(f"{s['rate']:.0%} ({s['n_params_kept']} kept)" for s in m.schedule),
                      ""]
        notes = note_lines(m)
        if m.tuned and m.tuned.get("resampled"):
            notes = [*notes, f"resampling sampler parameters after warm-up: {tuned_text(m.tuned['resampled'])}"]
        lines += [f"- {line}" for line in notes] + ([""] if notes else [])
        comp = m.compact
        if comp:
            lines.append(
                f"Compact model (`model.bpz`, {comp.layout} layout, {comp.n_draws} draws): "
                f"{comp.describe_widths()}, {comp.bytes_compact:,} bytes against "
                f"{comp.bytes_dense:,} for the same draws stored densely ({comp.bytes_ratio:.0%}; "
                f"{comp.bytes_dense_compressed:,} zipped).")
            lines.append("")
        lines.append(f"Mask agreement between chains (mean pairwise Jaccard of kept sets): "
                     f"{m.chain_agreement_jaccard:.3f}; scores from chain(s) {m.score_chains}.")
        for w in warnings_for(m):
            lines.append(f"- warning: {w}")
        lines.append("")
    for title, name in figs:
        lines += [f"### {title}", "", f"![{title}](figures/{name})", ""]
    write_text(out / "report.md", "\n".join(lines))
    written.append(out / "report.md")
    return written
