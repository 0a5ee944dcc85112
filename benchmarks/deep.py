"""Deeper networks: scikit-learn's digits with two hidden layers (64-128-64-10, 17,226 parameters), pruned.

Each configuration is one ``bayesprune run --dataset digits --hidden 128,64 --sampler sghmc`` (the whole
pipeline: optimised starts, sampling, pruning, resampling, evaluation, compact model), timed as a command and
read back from its metrics.json:

- ``90% unstructured``: STN, 90% of the parameters removed, resampling from the pruned draws
  (``--resample-start draws``, the full-batch samplers' default);
- ``90% unstructured, fine-tuned``: the same with ``--resample-start optimised`` (the pruned draws optimised on
  the kept parameters before resampling; SGHMC's default);
- ``50% units and features``: ``--structured --prune-inputs``, half of the hidden units (ranked over both layers)
  and half of the input pixels removed, fine-tuned; the compact model is a smaller dense network.

Usage: python benchmarks/deep.py [--seeds 1] [--out benchmarks/results/deep.md]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import write_results

BASE = ["--dataset", "digits", "--hidden", "128,64", "--sampler", "sghmc", "--quiet", "--no-figures"]
CONFIGS = {
    "90% unstructured": ["--rate", "0.9", "--resample-start", "draws"],
    "90% unstructured, fine-tuned": ["--rate", "0.9", "--resample-start", "optimised"],
    "50% units and features": ["--rate", "0.5", "--structured", "--prune-inputs", "--resample-start",
                               "optimised"],
}


def run(name: str, extra: list[str], seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        t = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "bayesprune", "run", *BASE, *extra, "--seed", str(seed),
                            "--out", str(out)], capture_output=True, text=True)
        seconds = time.perf_counter() - t
        if p.returncode:
            raise RuntimeError(f"{name} failed:\n{p.stderr[-2000:]}")
        m = json.loads((out / "metrics.json").read_text())
    st = m["stages"]
    return {"config": name, "seed": seed, "seconds": seconds, "n_params": m["n_params"],
            "n_params_kept": m["n_params_kept"], "full": st["full"]["accuracy"],
            "resampled": st["resampled"]["accuracy"], "pruned": st["pruned"]["accuracy"],
            "full_nll": st["full"]["nll"], "resampled_nll": st["resampled"]["nll"],
            "full_ece": st["full"]["ece"], "resampled_ece": st["resampled"]["ece"],
            "rhat_full": st["full"]["rhat_fn_max"], "rhat_resampled": st["resampled"]["rhat_fn_max"],
            "hidden": m["compact"]["hidden_compact"], "inputs": m["compact"].get("inputs_compact"),
            "bytes_ratio": m["compact"]["bytes_compact"] / m["compact"]["bytes_dense"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "deep.md"))
    args = parser.parse_args(argv)
    rows = []
    for seed in range(args.seeds):
        for name, extra in CONFIGS.items():
            r = run(name, extra, seed)
            rows.append(r)
            print(f"{name:32} seed {seed}: full {r['full']:.3f} resampled {r['resampled']:.3f} "
                  f"({r['n_params_kept']:,}/{r['n_params']:,} kept) {r['seconds']:.0f} s", flush=True)
    lines = [
        "# Deeper networks: digits, 64-128-64-10", "",
        "`python benchmarks/deep.py` on this machine (2 CPU cores): `bayesprune run --dataset digits --hidden "
        "128,64 --sampler sghmc` (4 chains, 20,000 steps from minibatch-optimised starts, 10,000 resampling "
        "steps), 1,078 training and 719 test rows. Loss: full minus resampled accuracy, in points. Seconds: the "
        "whole command, compilation included.", "",
        "| configuration | seed | kept | removed | full acc | pruned acc | resampled acc | loss (points) | "
        "NLL full / resampled | ECE full / resampled | fn R-hat full / resampled | compact network | bytes | s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|---:|---:|",
    ]
    for r in rows:
        net = f"{r['inputs'] or 64}-{'-'.join(str(h) for h in r['hidden'])}-10"
        lines.append(
            f"| {r['config']} | {r['seed']} | {r['n_params_kept']:,} | {1 - r['n_params_kept'] / r['n_params']:.1%} "
            f"| {r['full']:.3f} | {r['pruned']:.3f} | {r['resampled']:.3f} | {100 * (r['full'] - r['resampled']):+.1f} "
            f"| {r['full_nll']:.3f} / {r['resampled_nll']:.3f} | {r['full_ece']:.3f} / {r['resampled_ece']:.3f} "
            f"| {r['rhat_full']:.2f} / {r['rhat_resampled']:.2f} | {net} | {r['bytes_ratio']:.0%} "
            f"| {r['seconds']:.0f} |")
    lines.append("")
    write_results(args.out, lines, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
