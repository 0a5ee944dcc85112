"""Does the compact model keep its accuracy? Full vs resampled test accuracy over seeds, against random pruning.

For each data set, runs ``bayesprune run``'s pipeline (default settings unless overridden) for several seeds with
STN and random pruning at one rate, and reports the full model's and the resampled models' test accuracy (posterior
predictive), their mean and standard deviation over seeds, and the difference.

Usage: python benchmarks/pruning_seeds.py [--seeds 5] [--rate 0.75] [--score-from best-chain] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from common import write_markdown

from bayesprune.experiments.runner import RunConfig, run

CASES = {
    "iris": {"dataset": "iris"},
    "iris (scikit-learn copy)": {"dataset": "sklearn:iris"},
    "reef_325 (CSV)": {"csv": "{data}/reef_325/Unbalanced_325.csv", "target": "Species",
                       "features": ("Bulk", "Porosity", "Resistivity"), "hidden": (8,)},
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--rate", type=float, default=0.75)
    p.add_argument("--score-from", default="best-chain")
    p.add_argument("--data-dir", default=os.environ.get("BAYESPRUNE_DATA", "../shared/data"))
    p.add_argument("--out", default="benchmarks/results/pruning_seeds.md")
    args = p.parse_args()
    lines = [
        "# Accuracy kept after pruning, over seeds",
        "",
        f"Command: `python benchmarks/pruning_seeds.py --seeds {args.seeds} --rate {args.rate} --score-from "
        f"{args.score_from}`. Default `bayesprune run` settings otherwise (LG-MH, 4 chains x 40,000 samples, 50% "
        "burn-in, 20,000 resampling steps). Test accuracy of the posterior predictive.",
        "",
        "| data set | seed | full | STN resampled | random resampled | STN - full | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, case in CASES.items():
        case = {k: (v.format(data=args.data_dir) if isinstance(v, str) else v) for k, v in case.items()}
        if "dataset" in case:
            case["data_dir"] = args.data_dir
        accs = []
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            cfg = RunConfig(sampler="lgmh", criteria=("stn", "random"), rates=(args.rate,),
                            score_from=args.score_from, seed=seed, rate_guard=0.0, **case)
            out = run(cfg)
            full = out.full_metrics.accuracy
            stn, rnd = (c.record.stages["resampled"].accuracy for c in out.cells)
            accs.append((full, stn, rnd))
            sec = time.perf_counter() - t0
            lines.append(f"| {label} | {seed} | {full:.3f} | {stn:.3f} | {rnd:.3f} | {stn - full:+.3f} | {sec:.0f} |")
            print(lines[-1], flush=True)
        a = np.array(accs)
        m, s = a.mean(0), a.std(0)
        lines.append(f"| **{label}** | mean ± sd | {m[0]:.3f} ± {s[0]:.3f} | {m[1]:.3f} ± {s[1]:.3f} | "
                     f"{m[2]:.3f} ± {s[2]:.3f} | {m[1] - m[0]:+.3f} | |")
        print(lines[-1], flush=True)
    write_markdown(args.out, lines)


if __name__ == "__main__":
    main()
