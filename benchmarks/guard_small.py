"""What the rate guard sees on files of a few dozen training rows, beside what their test rows see.

Every broken run of `pipeline.py`'s `heldout-files` variant (and the 40-row file's broken seed 3 of
`files-margin-half`) is on a file of 12-30 training rows. This script reruns today's defaults on the
regression files of `heldout-files` with at most 43 training rows (seeds 0-2) and on the 40-row file (seeds 3-5),
the runs `pipeline.py` stored, and prints per run the guard's estimate for each rate it tried (the compact model's
PSIS-LOO ELPD loss against the full model's, per training row, and its standard error) beside the test verdict
(compact / full test RMSE). It chooses nothing: it asks whether any rule on the guard's estimate, with or without its
standard error, or on how many training rows its PSIS-LOO estimates are unreliable for (Pareto k above ArviZ's
threshold, for the full network and for each rate tried), could have refused the broken runs without refusing the
runs the test rows call within.

Usage: python benchmarks/guard_small.py [--data-dir DIR] --public-dir DIR [--out benchmarks/results/guard_small.md]
(`--public-dir`: the unzipped wheels of pipeline.py's docstring.) About 8 minutes here; `--report` rewrites the
table from the stored JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pipeline  # noqa: E402
from common import write_results  # noqa: E402

from bayesprune import settings  # noqa: E402
from bayesprune.experiments import runner  # noqa: E402

SMALL = ("public/stackloss", "public/statecrime", "public/scotvote", "public/copper", "public/driving",
         "public/ccard", "public/heart", "public/strikes")
JOBS = [(name, seed, "heldout-files") for name in SMALL for seed in (0, 1, 2)] + [
    ("awkward/tiny", seed, "files-margin") for seed in (3, 4, 5)]


def one(name: str, seed: int, variant: str, data_dir: str, public_dir: str, tmp: Path) -> dict:
    cfg, data = pipeline.config_and_data(name, seed, variant, data_dir, tmp, public_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the improper-posterior warning of every such file: pipeline.py counts it
        outcome = runner.run(cfg, data=data)
    cell = outcome.cells[0]
    n = len(outcome.dataset.y_train)
    full, compact = outcome.full_metrics.rmse, cell.record.stages["resampled"].rmse
    selection = cell.record.rate_selection or {}
    tried = selection.get("candidates", [])
    return {"dataset": name, "seed": seed, "rows_train": n, "rows_test": len(outcome.dataset.y_test),
            "rate": cell.record.rate, "ratio": compact / full, "full_bad_k": selection.get("full_n_bad_k"),
            "tried": [{"rate": c["rate"], "loss": c["loss"] / n, "loss_se": c["loss_se"] / n, "within": c["within"],
                       "bad_k": c["n_bad_k"]} for c in tried]}


def verdict(ratio: float) -> str:
    return ("broken" if ratio > pipeline.BROKEN_RMSE else "within" if ratio <= pipeline.WITHIN_RMSE
            else "between")


def report(rows: list[dict]) -> list[str]:
    cap = settings.RATE_GUARD
    lines = ["# The rate guard on files of a few dozen training rows", "",
             "Command: `python benchmarks/guard_small.py --public-dir DIR`. Today's defaults (STN 75%, the rate guard "
             f"at {cap:.4f} nats per training row); per run, each rate the guard tried, highest first: the compact "
             "model's PSIS-LOO ELPD loss against the full model's per training row +- its standard error (negative: "
             "it seemed to fit better), whether it passed and on how many training rows that model's PSIS-LOO "
             "has a Pareto k above ArviZ's threshold (k: the estimate unreliable there); the full network's count; "
             "then the rate kept and the test rows' verdict (compact / full test RMSE).", "",
             "| data set | seed | training / test rows | guard: rate, loss +- se per row, high-k rows | full network's "
             "high-k rows | kept rate | compact / full test RMSE | verdict |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        tried = "; ".join(f"{t['rate']:.0%}: {t['loss']:+.3f} +- {t['loss_se']:.3f} ({'pass' if t['within'] else 'no'}"
                          f", k {t['bad_k']})" for t in sorted(r["tried"], key=lambda t: -t["rate"]))
        lines.append(f"| {r['dataset']} | {r['seed']} | {r['rows_train']} / {r['rows_test']} | {tried} | "
                     f"{r['full_bad_k']} | {r['rate']:.0%} | {r['ratio']:.3f}x | {verdict(r['ratio'])} |")
    kept = [r for r in rows if r["rate"] > 0]
    broken = [r for r in kept if verdict(r["ratio"]) == "broken"]
    within = [r for r in kept if verdict(r["ratio"]) == "within"]

    def kept_rate(r):  # the guard's estimate for the rate it kept
        return next(t for t in r["tried"] if t["rate"] == r["rate"])

    def refused_with_se(r):  # the rate kept, judged with its loss's standard error added
        return kept_rate(r)["loss"] + kept_rate(r)["loss_se"] > cap

    losses = ", ".join(f"{kept_rate(r)['loss']:+.3f}" for r in broken)
    lines += ["", f"Of {len(kept)} runs that kept a compact model, {len(broken)} broke; the guard's estimate for "
              f"their rate: {losses} nats per row. A guard that added one standard error to the loss would "
              f"have refused "
              f"{sum(map(refused_with_se, broken))} of the {len(broken)} broken runs and "
              f"{sum(map(refused_with_se, within))} of the {len(within)} within."]

    def share(r):  # the share of training rows where the kept model's or the full network's estimate is unreliable
        return max(kept_rate(r)["bad_k"], r["full_bad_k"]) / r["rows_train"]

    shares = {name: sorted(share(r) for r in group) for name, group in (("broken", broken), ("within", within))}
    lines += ["", "Share of training rows with a high Pareto k (the larger of the kept model's and the full "
              "network's): broken runs " + ", ".join(f"{x:.0%}" for x in shares["broken"]) + "; within runs "
              + ", ".join(f"{x:.0%}" for x in shares["within"]) + ". A guard that refused a compact model above a "
              "share of unreliable rows would refuse within runs at every share that refuses a broken one: "
              + "; ".join(f"above {t:.0%}: {sum(x > t for x in shares['broken'])} of {len(broken)} broken, "
                          f"{sum(x > t for x in shares['within'])} of {len(within)} within"
                          for t in (0.1, 0.2, 0.3, 0.5)) + "."]
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=os.environ.get("BAYESPRUNE_DATA", "../shared/data"))
    p.add_argument("--public-dir")
    p.add_argument("--out", default="benchmarks/results/guard_small.md")
    p.add_argument("--report", action="store_true", help="rewrite the table from the stored JSON")
    args = p.parse_args()
    if args.report:
        rows = json.loads(Path(args.out).with_suffix(".json").read_text())
        write_results(args.out, report(rows), rows)
        return
    if args.public_dir is None:
        p.error("--public-dir is needed to run (the unzipped wheels of pipeline.py's docstring)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for job in JOBS:
            rows.append(one(*job, args.data_dir, args.public_dir, Path(tmp)))
            print(f"{job[0]} seed {job[1]}: {rows[-1]['ratio']:.3f}x at {rows[-1]['rate']:.0%}", flush=True)
    write_results(args.out, report(rows), rows)


if __name__ == "__main__":
    main()
