"""How much the default compact model moves between sampling seeds on one split, and whether the rate guard sees it.

The pipeline benchmark's broken runs are small classification sets (iris: 60 test rows, wine: 72), where one
test row is 1.4-1.7 points of accuracy. This script holds the split fixed (`--split-seed`) and varies only the
sampling seed, so any change of a model's test accuracy is the sampling's (and the mask's), not the split's; it
records the rate guard's evidence beside it: the compact model's PSIS-LOO loss per training row against the full
model's, and how many training rows have a Pareto k above ArviZ's threshold in the full model's LOO (a high k
means that row's estimate is unreliable).

Usage: python benchmarks/compact_noise.py [--data-dir DIR] [--datasets iris,wine] [--splits 1,2] [--seeds 4]
                                          [--report]
Each run is stored in benchmarks/results/compact_noise_runs/ as it finishes (a rerun skips it); `--report` only
writes benchmarks/results/compact_noise.md from what is stored.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import jax  # noqa: E402
import numpy as np  # noqa: E402
from common import report_stored, run_missing, stored_run_parser  # noqa: E402

from bayesprune.experiments import runner  # noqa: E402
from bayesprune.settings import RunConfig  # noqa: E402

RUNS = Path(__file__).parent / "results" / "compact_noise_runs"


def one_run(name: str, split: int, seed: int, data_dir: str) -> dict:
    t0 = time.perf_counter()
    out = runner.run(RunConfig(seed=seed, split_seed=split, dataset=name, data_dir=data_dir))
    cell = out.cells[0]
    sel = cell.prune.selection
    n = len(out.dataset.y_train)
    return {"dataset": name, "split": split, "seed": seed, "seconds": time.perf_counter() - t0, "rows_train": n,
            "rows_test": len(out.dataset.y_test), "full": out.full_metrics.accuracy, "full_nll": out.full_metrics.nll,
            "compact": cell.record.stages["resampled"].accuracy, "compact_nll": cell.record.stages["resampled"].nll,
            "rate": cell.rate, "full_bad_k": None if sel is None else sel.full_n_bad_k,
            "versus_full": cell.record.versus_full,
            "guard": [] if sel is None else [{"rate": c.rate, "loss_per_row": c.loss / n, "bad_k": c.n_bad_k,
                                              "within": c.within} for c in sel.candidates]}


def _rows_lost(r: dict) -> float:
    """Test rows the compact model lost against the full one (negative: gained)."""
    return (r["full"] - r["compact"]) * r["rows_test"]


def _guard_loss(r: dict) -> float | None:
    """The guard's loss per training row at the rate it tried first (candidates are stored in increasing rate)."""
    return r["guard"][-1]["loss_per_row"] if r["guard"] else None


def _p(r: dict) -> str:
    vs = r.get("versus_full")
    return "-" if not vs else f"{vs['p_value']:.2g} ({vs['lost']} lost, {vs['gained']} gained)"


def report(rows: list[dict]) -> list[str]:
    lines = ["# The default compact model across sampling seeds on a fixed split", "",
             "Command: `python benchmarks/compact_noise.py` (then `--report`). `bayesprune run` defaults, "
             "`--split-seed` fixed, the sampling seed varied. `rows`: test rows lost (+) or gained (-) by the "
             "compact model against the full one. `guard loss`: the compact model's PSIS-LOO loss per training "
             "row at the rate tried first (the guard keeps it at most 0.0488); `high k`: training rows whose "
             "Pareto k in the full model's LOO is above the threshold. `McNemar p`: the exact test of the rows the "
             "compact model got wrong against those it got right, of the rows that changed correctness "
             "(evaluation/paired.py; as the run's report line prints it).", "",
             "| data set | split | seed | full | compact | rows | McNemar p | full NLL | compact NLL | rate kept | "
             "guard loss | high k | seconds |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lost, g = round(_rows_lost(r)), _guard_loss(r)
        lines.append(f"| {r['dataset']} | {r['split']} | {r['seed']} | {r['full']:.3f} | {r['compact']:.3f} | "
                     f"{lost:+d} / {r['rows_test']} | {_p(r)} | {r['full_nll']:.3f} | {r['compact_nll']:.3f} | "
                     f"{r['rate']:.0%} | {'-' if g is None else format(g, '+.4f')} | "
                     f"{r['full_bad_k']} / {r['rows_train']} | {r['seconds']:.0f} |")
    lines += ["", "## Per data set and split", "",
              "| data set | split | seeds | full accuracy (min-max) | compact (min-max) | mean rows lost | "
              "guard loss vs rows lost (Spearman) |", "|---|---|---|---|---|---|---|"]
    for key in sorted({(r["dataset"], r["split"]) for r in rows}):
        rs = [r for r in rows if (r["dataset"], r["split"]) == key]
        lost = np.array([_rows_lost(r) for r in rs])
        loss = np.array([np.nan if (g := _guard_loss(r)) is None else g for r in rs])
        rho = "-"
        if len(rs) > 2 and np.all(np.isfinite(loss)) and np.ptp(lost) > 0:
            from scipy.stats import spearmanr

            rho = f"{spearmanr(loss, lost).statistic:+.2f}"
        full, comp = [r["full"] for r in rs], [r["compact"] for r in rs]
        lines.append(f"| {key[0]} | {key[1]} | {len(rs)} | {min(full):.3f}-{max(full):.3f} | "
                     f"{min(comp):.3f}-{max(comp):.3f} | {lost.mean():+.1f} | {rho} |")
    return lines


def main() -> None:
    p = stored_run_parser(__doc__, ("iris", "wine"), "benchmarks/results/compact_noise.md")
    p.add_argument("--splits", default="1,2")
    p.add_argument("--seeds", type=int, default=4)
    args = p.parse_args()
    if not args.report:
        jobs = [(name, int(split), seed) for name in args.datasets.split(",") for split in args.splits.split(",")
                for seed in range(args.seeds)]

        def describe(r: dict) -> str:
            return (f"{r['dataset']:<8} split {r['split']} seed {r['seed']}: full {r['full']:.3f} compact "
                    f"{r['compact']:.3f} at {r['rate']:.0%}; {r['seconds']:.0f} s")

        run_missing(jobs, lambda job: RUNS / f"{job[0]}-split{job[1]}-{job[2]}.json",
                    lambda job: one_run(*job, args.data_dir), describe, after=jax.clear_caches)
    report_stored(RUNS, args.out, report)


if __name__ == "__main__":
    main()
