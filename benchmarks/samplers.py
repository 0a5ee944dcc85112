"""Sampler throughput and efficiency on the paper's data sets, and peak memory of a 50,000-draw run.

For each data set (iris 4-12-3, ionosphere 34-50-2, abalone 8-12-1), sampler (lgmh, mala, hmc, nuts) and
number of chains (1, 4) it reports, measured in one run on this machine:

- samples/s: chain steps (burn-in + draws, all chains) per second of sampling, compile time excluded;
- gradient evaluations per step and per second;
- function-space ESS/s: ArviZ's minimum bulk ESS of the test-point predictions per second of sampling;
- compile time, separately.

Peak memory of long runs is measured by benchmarks/memory.py.

Usage: python benchmarks/samplers.py [--quick] [--data-dir DIR] [--out benchmarks/results/samplers.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import jax
import numpy as np
from common import write_markdown

from bayesprune import api
from bayesprune.data import load_dataset
from bayesprune.evaluation.diagnostics import function_space
from bayesprune.predictive import posterior_predictive

STEPS = {"lgmh": 20000, "mala": 20000, "hmc": 2000, "nuts": 400}
QUICK = {"lgmh": 4000, "mala": 4000, "hmc": 400, "nuts": 100}


def bench_one(ds, sampler: str, chains: int, steps: int) -> dict:
    t0 = time.perf_counter()
    ps = api.sample(ds, sampler=sampler, chains=chains, samples=steps, seed=0)
    wall = time.perf_counter() - t0
    r = ps.result
    run_s = r.seconds["warmup"] + r.seconds["sampling"]
    pred = posterior_predictive(ps.posterior, r.draws, ds.X_test)
    fn = function_space(pred.outputs)
    grads = float(np.sum(r.n_grad_evals)) / max(r.n_steps * chains, 1)
    return {
        "dataset": ds.name, "sampler": sampler, "chains": chains, "steps": steps,
        "n_params": ps.spec.n_params, "samples_per_s": steps * chains / run_s,
        "grads_per_step": grads, "grads_per_s": grads * steps * chains / run_s,
        "ess_fn_min": fn["ess_fn_min"], "ess_fn_per_s": fn["ess_fn_min"] / run_s,
        "rhat_fn_max": fn["rhat_fn_max"], "compile_s": r.seconds["compile"], "run_s": run_s, "wall_s": wall,
        "acceptance": r.acceptance_rate,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer steps (about a minute or two)")
    p.add_argument("--data-dir", default=os.environ.get("BAYESPRUNE_DATA", "../shared/data"))
    p.add_argument("--out", default="benchmarks/results/samplers.md")
    p.add_argument("--datasets", default="iris,ionosphere,abalone")
    p.add_argument("--samplers", default="lgmh,mala,hmc,nuts")
    args = p.parse_args()
    steps = QUICK if args.quick else STEPS
    rows = []
    for name in args.datasets.split(","):
        ds = load_dataset(name, data_dir=args.data_dir, seed=0)
        for sampler in args.samplers.split(","):
            for chains in (1, 4):
                row = bench_one(ds, sampler, chains, steps[sampler])
                rows.append(row)
                print(f"{name:<11} {sampler:<5} {chains} chains: {row['samples_per_s']:9.0f} samples/s, "
                      f"{row['ess_fn_per_s']:8.1f} fn-ESS/s, compile {row['compile_s']:.1f}s", flush=True)

    lines = [
        "# Sampler benchmark",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, "
        f"JAX {jax.__version__} on {jax.devices()[0].platform}. Command: `python benchmarks/samplers.py"
        f"{' --quick' if args.quick else ''}`.",
        "",
        "Steps per chain (incl. 50% burn-in): " + ", ".join(f"{k} {v}" for k, v in steps.items()) + ".",
        "samples/s counts chain steps of all chains per second, compile excluded; fn-ESS is ArviZ's minimum bulk",
        "ESS of the test-point predictions over the kept draws.",
        "",
        "| data set | params | sampler | chains | samples/s | grads/step | grads/s | fn ESS | fn ESS/s | "
        "R-hat fn | accept | compile s | run s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['n_params']} | {r['sampler']} | {r['chains']} | {r['samples_per_s']:,.0f} | "
            f"{r['grads_per_step']:.1f} | {r['grads_per_s']:,.0f} | {r['ess_fn_min']:.0f} | "
            f"{r['ess_fn_per_s']:.1f} | {r['rhat_fn_max']:.2f} | {r['acceptance']:.2f} | "
            f"{r['compile_s']:.1f} | {r['run_s']:.1f} |")
    lines += ["", "Peak memory of a 4 x 50,000-draw run: see memory.md (`python benchmarks/memory.py`).", ""]
    write_markdown(args.out, lines)


if __name__ == "__main__":
    main()
