"""Peak memory of long runs: 4 chains x N draws of LG-MH on ionosphere (1,852 parameters), in fresh processes.

Peak resident memory is read from the child's own ``VmHWM`` (/proc/self/status): ``ru_maxrss`` would carry over
the parent's high-water mark across fork and exec and overstate it.

Usage: python benchmarks/memory.py [--draws 2000,50000] [--data-dir DIR]
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


def measure(data_dir: str, draws: int) -> dict:
    """Peak RSS (MiB) and time of a 4-chain ``draws``-step LG-MH run on ionosphere, in a fresh process."""
    proc = subprocess.run([sys.executable, "-c", CHILD, data_dir, str(draws)], capture_output=True, text=True,
                          check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--draws", default="2000,50000")
    p.add_argument("--data-dir", default=os.environ.get("BAYESPRUNE_DATA", "../shared/data"))
    p.add_argument("--out", default="benchmarks/results/memory.md")
    args = p.parse_args()
    lines = ["# Peak memory", "", "Command: `python benchmarks/memory.py`. `api.sample(ionosphere, lgmh, 4 chains, "
             "N draws, no burn-in)` in a fresh process; at most 1,000 draws per chain are kept (auto-thinning), "
             "pruning scores use running moments of every draw.", "",
             "| draws per chain | parameters | kept draws | peak RSS MiB | of which imports + data MiB | seconds |",
             "|---|---|---|---|---|---|"]
    for n in (int(v) for v in args.draws.split(",")):
        r = measure(args.data_dir, n)
        lines.append(f"| {n:,} | 1,852 | {r['kept']} | {r['peak_mib']:.0f} | {r['after_import_mib']:.0f} | "
                     f"{r['seconds']:.1f} |")
        print(lines[-1], flush=True)
    write_markdown(args.out, lines)


if __name__ == "__main__":
    main()
