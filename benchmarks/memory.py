"""Peak memory of long runs: 4 chains x N draws of LG-MH on ionosphere (1,852 parameters), and the evaluation of
draws on many rows or wide layers (the pointwise log-likelihood that PSIS-LOO and chain weights read, and the network
outputs of the predictive) with draws taken 512 at a time (the fixed batch before) against the memory-budgeted
batch (``predictive.draw_batch``), each in a fresh process.

Peak resident memory is read from the child's own ``VmHWM`` (/proc/self/status): ``ru_maxrss`` would carry over
the parent's high-water mark across fork and exec and overstate it.

Usage: python benchmarks/memory.py [--draws 2000,50000] [--no-sampling] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from common import write_markdown

CHILD = """
import json, sys, time
def hwm():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM")) / 1024
from bayesprune import api
from bayesprune.data import load_dataset
ds = load_dataset("ionosphere", data_dir=sys.argv[1])
base = hwm()
t = time.perf_counter()
ps = api.sample(ds, sampler="lgmh", chains=4, samples=int(sys.argv[2]), burnin=0.0, seed=0)
print(json.dumps({"seconds": time.perf_counter() - t, "kept": list(ps.result.draws.shape),
                  "after_import_mib": base, "peak_mib": hwm()}))
"""

EVAL_CHILD = """
import json, sys, time
import numpy as np
def hwm():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM")) / 1024
from bayesprune import predictive
from bayesprune.model import MLPSpec
from bayesprune.posterior import BNNPosterior
case, batch = sys.argv[1], sys.argv[2]
rows, n_draws, layers = CASES[case]
rng = np.random.default_rng(0)
X = rng.normal(size=(rows, layers[0])).astype(np.float32)
task = "regression" if layers[-1] == 1 else "classification"
y = rng.normal(size=rows).astype(np.float32) if task == "regression" else rng.integers(0, layers[-1], rows)
post = BNNPosterior(MLPSpec(layers[0], tuple(layers[1:-1]), layers[-1]), task)
draws = rng.normal(scale=0.05, size=(4, n_draws // 4, post.position_size())).astype(np.float32)
if batch == "512":  # the budget lifted: 512 draws at a time, whatever the rows and widths
    predictive.EVAL_BYTES = 2**62
base = hwm()
t = time.perf_counter()
ll = predictive.pointwise_loglik(post, draws, X, y)
out = predictive.network_outputs(post, np.asarray(post.theta(draws)), X)
print(json.dumps({"seconds": time.perf_counter() - t, "after_import_mib": base, "peak_mib": hwm(),
                  "draw_batch": min(predictive.draw_batch(post, rows, 512), n_draws),
                  "result_mib": (ll.nbytes + out.nbytes) / 2**20}))
"""
# evaluation cases: rows, draws, layer widths (synthetic rows and draws)
EVAL_CASES = {"regression 10-12-1": (100_000, 4000, (10, 12, 1)),
              "LeNet-300-100 784-300-100-10": (5_000, 256, (784, 300, 100, 10))}


def measure_evaluation(case: str, batch: str) -> dict:
    """Peak RSS (MiB) of evaluating the draws of ``case`` on its rows, in a fresh process."""
    child = f"CASES = {EVAL_CASES!r}\n" + EVAL_CHILD
    proc = subprocess.run([sys.executable, "-c", child, case, batch], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(data_dir: str, draws: int) -> dict:
    """Peak RSS (MiB) and time of a 4-chain ``draws``-step LG-MH run on ionosphere, in a fresh process."""
    proc = subprocess.run([sys.executable, "-c", CHILD, data_dir, str(draws)], capture_output=True, text=True,
                          check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--draws", default="2000,50000")
    p.add_argument("--data-dir", default=os.environ.get("BAYESPRUNE_DATA", "../shared/data"))
    p.add_argument("--no-sampling", action="store_true", help="only the evaluation cases")
    p.add_argument("--out", default="benchmarks/results/memory.md")
    args = p.parse_args()
    lines = ["# Peak memory", "", "Command: `python benchmarks/memory.py`. `api.sample(ionosphere, lgmh, 4 chains, "
             "N draws, no burn-in)` in a fresh process; at most 1,000 draws per chain are kept (auto-thinning), "
             "pruning scores use running moments of every draw.", "",
             "| draws per chain | parameters | kept draws | peak RSS MiB | of which imports + data MiB | seconds |",
             "|---|---|---|---|---|---|"]
    for n in () if args.no_sampling else (int(v) for v in args.draws.split(",")):
        r = measure(args.data_dir, n)
        lines.append(f"| {n:,} | 1,852 | {r['kept']} | {r['peak_mib']:.0f} | {r['after_import_mib']:.0f} | "
                     f"{r['seconds']:.1f} |")
        print(lines[-1], flush=True)
    lines += ["", "## Evaluation on many rows or wide layers", "",
              "Synthetic draws (4 chains) and rows: `pointwise_loglik` (float64, draws x rows: the input of "
              "PSIS-LOO and chain weights) and `network_outputs` on the same rows, in a fresh process; draws at a "
              "time: 512 (the fixed batch of before: the budget lifted), or the batch `draw_batch` takes under its "
              "budget (`EVAL_BYTES`); both write their results into one preallocated array. "
              "`results`: the two arrays returned, which no batching shrinks.", "",
              "| case | rows | draws | draws at a time | peak RSS MiB | before evaluating | results MiB | seconds |",
              "|---|---|---|---|---|---|---|---|"]
    for case, (rows, n_draws, _) in EVAL_CASES.items():
        for batch in ("512", "budgeted"):
            r = measure_evaluation(case, batch)
            lines.append(f"| {case} | {rows:,} | {n_draws:,} | {r['draw_batch']} ({batch}) | {r['peak_mib']:.0f} | "
                         f"{r['after_import_mib']:.0f} | {r['result_mib']:.0f} | {r['seconds']:.1f} |")
            print(lines[-1], flush=True)
    write_markdown(args.out, lines)


if __name__ == "__main__":
    main()
