"""Scale: many chains on one device, and a grid's wall time on the local executor against Ray.

1. **Chains.** LG-MH on ionosphere (1,852 parameters), ``--steps`` per chain (half warm-up), for each number of
   chains in ``--chains``, each in a fresh process: chain-steps per second (warm-up and sampling, compilation
   apart), compile seconds, function-space ESS per second (the whole call), split R-hat and, with 64 or more
   chains, nested R-hat over superchains of 16 chains (Margossian et al. 2022), and peak resident memory
   (``VmHWM``, the process's own high-water mark).
2. **Grids.** ``bayesprune reproduce`` with ``--executor local`` and ``--executor ray`` (a local Ray instance with
   ``--ray-workers`` CPUs) on the same grid, each into a fresh folder with a cold compilation cache; wall time of
   the whole command, and whether every number of ``results.csv`` (wall times aside) is identical.

Usage: python benchmarks/scale.py [--chains 1,16,256,1024,4096] [--steps 400] [--grids smoke,paper]
                                  [--data-dir DIR] [--out benchmarks/results/scale.md] [--update]
(``--chains "" --grids smoke --update`` measures the smoke grid again and keeps the other rows.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from common import write_markdown

CHILD = """
import json, sys, time
def hwm():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM")) / 1024
from bayesprune import api
from bayesprune.data import load_dataset
from bayesprune.devices import describe, resolve
ds = load_dataset("ionosphere", data_dir=sys.argv[1])
chains, steps = int(sys.argv[2]), int(sys.argv[3])
superchains = chains // 16 if chains >= 64 else None
t = time.perf_counter()
ps = api.sample(ds, sampler="lgmh", chains=chains, samples=steps, burnin=0.5, seed=0, superchains=superchains)
m = api.evaluate(ps, ds)
total = time.perf_counter() - t
s = ps.result.seconds
print(json.dumps({"chains": chains, "steps": steps, "superchains": superchains, "compile_s": s["compile"],
                  "run_s": s["warmup"] + s["sampling"], "total_s": total, "kept": list(ps.result.draws.shape),
                  "rhat_fn": m.rhat_fn_max, "nrhat_fn": m.nrhat_fn_max, "ess_fn": m.ess_fn_min,
                  "peak_mib": hwm(), "device": describe(resolve("auto"))}))
"""

GRIDS = {
    "smoke": ["--smoke"],
    "paper": [],
}


def chains_row(data_dir: str, chains: int, steps: int) -> dict:
    env = dict(os.environ, BAYESPRUNE_JIT_CACHE="0")
    proc = subprocess.run([sys.executable, "-c", CHILD, data_dir, str(chains), str(steps)], capture_output=True,
                          text=True, env=env)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-2000:])
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    r["chain_steps_per_s"] = chains * steps / r["run_s"]
    r["ess_per_s"] = r["ess_fn"] / r["total_s"]
    return r


def _numbers(out: Path) -> pd.DataFrame:
    frame = pd.read_csv(out / "results.csv", dtype={"requested": str})
    frame = frame[~frame.metric.str.startswith("seconds")]
    return frame.sort_values(["dataset", "run", "criterion", "requested", "stage", "metric"]).reset_index(drop=True)


def grid_row(name: str, data_dir: str, workers: int) -> dict:
    """Wall time of one grid, local and Ray, each in a fresh folder with its own cold compilation cache."""
    row: dict = {"grid": name}
    with tempfile.TemporaryDirectory() as tmp:
        for executor in ("local", "ray"):
            out = Path(tmp) / executor
            env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=str(Path(tmp) / f"cache-{executor}"))
            cmd = [sys.executable, "-m", "bayesprune", "reproduce", *GRIDS[name], "--data-dir", data_dir,
                   "--quiet", "--no-figures", "--out", str(out), "--executor", executor]
            if executor == "ray":
                cmd += ["--ray-cpus", str(os.cpu_count() / workers)]
            t = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            row[f"{executor}_s"] = time.perf_counter() - t
            if proc.returncode:
                raise RuntimeError(proc.stderr[-2000:])
            row[f"{executor}_runs"] = len(list(out.glob("runs/*/*/run.json")))
        a, b = _numbers(Path(tmp) / "local"), _numbers(Path(tmp) / "ray")
        same_cells = a.drop(columns="value").equals(b.drop(columns="value"))
        row["identical"] = bool(same_cells and ((a.value == b.value) | (a.value.isna() & b.value.isna())).all())
        row["numbers"] = len(a)
    row["ratio"] = row["local_s"] / row["ray_s"]
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chains", default="1,16,256,1024,4096")
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--grids", default="smoke,paper", help="smoke, paper, or none")
    p.add_argument("--ray-workers", type=int, default=2, help="runs at once on Ray (CPUs per run = cores / this)")
    p.add_argument("--data-dir", default=os.environ.get("BAYESPRUNE_DATA", "../shared/data"))
    p.add_argument("--out", default="benchmarks/results/scale.md")
    p.add_argument("--update", action="store_true", help="keep the rows of the JSON beside --out that this "
                   "invocation does not measure again")
    args = p.parse_args()
    results: dict = {"chains": [], "grids": [], "cpus": os.cpu_count()}
    saved = Path(args.out).with_suffix(".json")
    if args.update and saved.exists():
        results = json.loads(saved.read_text())
    chains = [int(v) for v in args.chains.split(",") if v]
    if chains:
        results["chains"] = []
    for c in chains:
        r = chains_row(args.data_dir, c, args.steps)
        results["chains"].append(r)
        print(f"{c} chains: {r['chain_steps_per_s']:,.0f} chain-steps/s, peak {r['peak_mib']:.0f} MiB", flush=True)
    for g in (v for v in args.grids.split(",") if v and v != "none"):
        r = grid_row(g, args.data_dir, args.ray_workers)
        results["grids"] = [x for x in results["grids"] if x["grid"] != g] + [r]
        print(f"{g} grid: local {r['local_s']:.0f} s, ray {r['ray_s']:.0f} s, identical {r['identical']}",
              flush=True)
    Path(args.out).with_suffix(".json").write_text(json.dumps(results, indent=1))
    device = results["chains"][0]["device"] if results["chains"] else "cpu"
    lines = ["# Scale", "", f"Command: `python benchmarks/scale.py` (chains 1,16,256,1024,4096, {args.steps} "
             f"steps, grids smoke and paper); {results['cpus']} CPU cores, device {device}.", ""]
    if results["chains"]:
        lines += ["## Chains on one device", "",
                  f"LG-MH on ionosphere (1,852 parameters), {args.steps} steps per chain (half warm-up), each row "
                  "a fresh process with a cold compilation cache. chain-steps/s: warm-up and sampling, "
                  "compilation apart; fn-ESS/s: the least effective draws of a test prediction per second of the "
                  "whole call; nested R-hat over superchains of 16 chains (started together) from 64 chains up; "
                  "kept: draws kept per chain (4,000 over all chains beyond 4); peak: the process's resident "
                  "high-water mark.", "",
                  "| chains | chain-steps/s | vs 1 chain | compile s | run s | kept per chain | fn R-hat | "
                  "nested R-hat | fn-ESS/s | peak MiB |", "|---|---|---|---|---|---|---|---|---|---|"]
        base = results["chains"][0]["chain_steps_per_s"]
        for r in results["chains"]:
            nr = f"{r['nrhat_fn']:.3f}" if r["nrhat_fn"] is not None else "-"
            lines.append(f"| {r['chains']:,} | {r['chain_steps_per_s']:,.0f} | {r['chain_steps_per_s'] / base:.1f}x "
                         f"| {r['compile_s']:.1f} | {r['run_s']:.1f} | {r['kept'][1]} | {r['rhat_fn']:.2f} | {nr} | "
                         f"{r['ess_per_s']:.1f} | {r['peak_mib']:,.0f} |")
        lines.append("")
    if results["grids"]:
        lines += ["## A grid: local executor against Ray", "",
                  f"`bayesprune reproduce [--smoke] --executor local|ray`, the paper's seven data sets and "
                  f"protocol; Ray: a local instance running {args.ray_workers} runs at once. Wall time of the "
                  "whole command (start-up, compilation and report included), each with a cold compilation "
                  "cache; identical: every number of results.csv (wall times aside) equal.", "",
                  "| grid | runs | local s | Ray s | local / Ray | numbers compared | identical |",
                  "|---|---|---|---|---|---|---|"]
        for r in results["grids"]:
            lines.append(f"| {r['grid']} | {r['local_runs']} | {r['local_s']:.0f} | {r['ray_s']:.0f} | "
                         f"{r['ratio']:.2f}x | {r['numbers']:,} | {'yes' if r['identical'] else 'NO'} |")
        lines.append("")
    write_markdown(args.out, lines)


if __name__ == "__main__":
    main()
