"""Do the default pipeline's convergence warnings fire when they should, and does their remedy work?

For each data set of benchmarks/pipeline.py (the same 15 sets and loaders, defaults, seed 0 unless `--seeds`
says), the default run (`bayesprune run`) is scored per sampled stage (full, resampled) by

- the warnings of the previous release (function-space R-hat over all chains above 1.05 unless every chain had
  settled in a mode of its own, or fewer than 100 effective draws of the least settled test prediction: the rule
  that flagged almost every regression run, replayed here from the stage's metrics);
- today's warning (`bayesprune.experiments.advice`): the Monte Carlo error of the predictions
  (`evaluation.diagnostics.monte_carlo_error`, RMS over test points in outcome sds) above 0.1.

Every run that today's rule warns about is run again with the chains the warning asks for (`--chains` so many times
the default's, the larger factor when both stages warn; `--chains` sets both stages' chains) and scored the same
way: a remedy *works* when the stage's Monte Carlo error falls to 0.1 or below; the test metric before and after
says whether it mattered. (Until the warning asked for more chains it asked for longer runs; docs/BENCHMARKS.md
keeps what those did.)

Usage: python benchmarks/warnings_check.py [--data-dir DIR] [--datasets a,b] [--seeds 0] [--report]
Runs are stored in benchmarks/results/warnings_runs/ as they finish (a rerun skips them); the table goes to
benchmarks/results/warnings.md.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from common import run_datasets_and_seeds, stored_run_parser, stored_runs, write_markdown  # noqa: E402
from pipeline import DATASETS, config_and_data  # noqa: E402

from bayesprune.experiments import runner  # noqa: E402
from bayesprune.experiments.advice import MC_ERROR_WARN, remedy_factor, stage_warnings  # noqa: E402
from bayesprune.settings import RunConfig  # noqa: E402

RUNS = Path(__file__).parent / "results" / "warnings_runs"
STAGES = ("full", "resampled")
OLD_RHAT, OLD_ESS = 1.05, 100  # the previous release's thresholds


def old_rule(m) -> bool:
    """Whether the previous release warned about a stage (R-hat or ESS of the least settled test point)."""
    within = m.rhat_fn_within_max
    modes = within is not None and np.isfinite(within) and within <= OLD_RHAT and (m.n_modes or 1) > 1
    rhat_bad = np.isfinite(m.rhat_fn_max) and m.rhat_fn_max > OLD_RHAT and not modes
    ess = m.ess_fn_within_min if modes else m.ess_fn_min
    return bool(rhat_bad or (np.isfinite(ess) and ess < OLD_ESS))


def scored(cfg, data) -> tuple[dict, RunConfig]:
    """The run's stages scored, and its configuration with the sampler ``auto`` chose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = runner.run(cfg, data=data)
    cfg = outcome.config
    cell = outcome.cells[0]
    key = "rmse" if outcome.dataset.task == "regression" else "accuracy"
    out = {"task": outcome.dataset.task}
    for stage in STAGES:
        m = outcome.full_metrics if stage == "full" else cell.record.stages["resampled"]
        out[stage] = {"main": getattr(m, key), "nll": m.nll, "mc_error": m.mc_error, "rhat_fn": m.rhat_fn_max,
                      "rhat_fn_within": m.rhat_fn_within_max, "ess_fn": m.ess_fn_min, "old_warns": old_rule(m),
                      "new_warns": any("Monte Carlo error" in w for w in stage_warnings(stage, m, cfg)),
                      "seconds": m.seconds}
    return out, cfg


def one_run(name: str, seed: int, data_dir: str, tmp: Path) -> dict:
    cfg, data = config_and_data(name, seed, "default", data_dir, tmp)
    first, cfg = scored(cfg, data)  # cfg: the sampler chosen, its lengths filled in
    lengths = {"full": cfg.samples, "resampled": cfg.resample_samples}
    result = {"dataset": name, "seed": seed, "task": first["task"], "default": first, "lengths": lengths,
              "chains": cfg.chains}
    factors = {s: remedy_factor(first[s]["mc_error"]) for s in STAGES if first[s]["new_warns"]}
    if factors:
        result["factors"] = factors
        result["after"] = scored(replace(cfg, chains=cfg.chains * max(factors.values())), data)[0]
    return result


def remedy_label(r: dict, stage: str) -> str:
    """What the warning of ``stage`` asked for: so many times the chains (the run repeated with the larger
    factor when both stages warned)."""
    factor = r["factors"].get(stage)
    return f"{factor}x chains ({r['chains'] * max(r['factors'].values())})" if factor else "(other stage)"


def report(rows: list[dict]) -> list[str]:
    lines = ["# Convergence warnings of the default pipeline, and whether their remedy works", "",
             "Command: `python benchmarks/warnings_check.py` (then `--report`). Defaults, seed(s) as stored. "
             "`MC error`: the Monte Carlo error of the predictions in outcome sds (RMS over test points); today's "
             f"rule warns above {MC_ERROR_WARN}. `old`: whether the previous release's rule (R-hat / ESS of the "
             "least settled test prediction) warned. Runs warned about today are run again with the chains the "
             "warning asks for (`after`).", ""]
    n = len(rows) * len(STAGES)
    old = sum(r["default"][s]["old_warns"] for r in rows for s in STAGES)
    new = sum(r["default"][s]["new_warns"] for r in rows for s in STAGES)
    fixed = sum(1 for r in rows for s in r.get("factors", {}) if r["after"][s]["mc_error"] <= MC_ERROR_WARN)
    # a run warns once per stage; where the rate guard kept the full network the two stages are one model (the
    # same metrics on both rows), so the runs are counted too: those warned, and those the remedy settled
    runs_old = sum(any(r["default"][s]["old_warns"] for s in STAGES) for r in rows)
    runs_new = sum(bool(r.get("factors")) for r in rows)
    runs_fixed = sum(bool(r.get("factors")) and all(r["after"][s]["mc_error"] <= MC_ERROR_WARN for s in r["factors"])
                     for r in rows)
    lines += ["## Summary", "", "| scored | warned, previous rule | warned, today's rule | "
              "today's warnings whose remedy brought the error to the threshold |", "|---|---|---|---|",
              f"| {n} stages ({len(rows)} runs x 2 sampled stages) | {old} | {new} | {fixed} of {new} |",
              f"| {len(rows)} runs | {runs_old} | {runs_new} | {runs_fixed} of {runs_new} |", ""]
    lines += ["## Every stage", "",
              "| data set | seed | stage | main | NLL | MC error | R-hat fn (within) | ESS fn | old | today | "
              "remedy | after: main | NLL | MC error |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        for s in STAGES:
            d = r["default"][s]
            within = d["rhat_fn_within"]
            row = (f"| {r['dataset']} | {r['seed']} | {s} | {d['main']:.4f} | {d['nll']:.3f} | {d['mc_error']:.3f} | "
                   f"{d['rhat_fn']:.2f} ({within:.2f}) | {d['ess_fn']:.0f} | {'warn' if d['old_warns'] else '-'} | "
                   f"{'warn' if d['new_warns'] else '-'} | ")
            a = r.get("after")
            if a is not None:
                row += f"{remedy_label(r, s)} | {a[s]['main']:.4f} | {a[s]['nll']:.3f} | {a[s]['mc_error']:.3f} |"
            else:
                row += "- | | | |"
            lines.append(row)
    return lines


def main() -> None:
    p = stored_run_parser(__doc__, DATASETS, "benchmarks/results/warnings.md")
    p.add_argument("--seeds", default="0")
    args = p.parse_args()
    if not args.report:
        run_datasets_and_seeds(args, RUNS, one_run,
                               lambda r: f"{r['dataset']:<26} seed {r['seed']}: MC error full "
                                         f"{r['default']['full']['mc_error']:.3f} resampled "
                                         f"{r['default']['resampled']['mc_error']:.3f}"
                                         + (f", after {r['factors']}: {r['after']['full']['mc_error']:.3f} / "
                                            f"{r['after']['resampled']['mc_error']:.3f}" if "after" in r else ""))
    write_markdown(args.out, report(stored_runs(RUNS)))


if __name__ == "__main__":
    main()
