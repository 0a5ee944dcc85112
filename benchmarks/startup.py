"""How long the command line takes to start: ``import bayesprune``, ``bayesprune --help``, ``--version``,
``run --help``, ``predict --help``, ``data list`` and ``predict`` of 30 iris rows with the compact model of a short
default run (made once, before the timing, by the working tree), each in a fresh process (what a user waits for
before the first line), for the working tree and, side by side in the same run, a git revision (``--against``).

Each command runs ``--repeats`` times per tree, the trees alternating so that a slower moment of the machine
falls on both; the table gives the median wall time and the ratio. Nothing is sampled; ``predict`` compiles its
network's forward pass.

Usage: python benchmarks/startup.py [--against REV] [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

from common import write_markdown

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = {
    "import bayesprune": ["-c", "import bayesprune"],
    "bayesprune --help": ["-m", "bayesprune", "--help"],
    "bayesprune --version": ["-m", "bayesprune", "--version"],
    "bayesprune run --help": ["-m", "bayesprune", "run", "--help"],
    "bayesprune predict --help": ["-m", "bayesprune", "predict", "--help"],
    "bayesprune data list": ["-m", "bayesprune", "data", "list"],
    "bayesprune predict (30 rows)": ["-m", "bayesprune", "predict", "{model}", "--csv", "{rows}"],
}


def iris_model(folder: Path) -> dict[str, str]:
    """A compact model of a short default iris run and a CSV of 30 iris rows to predict: the paths that fill the
    commands' ``{model}`` and ``{rows}``."""
    from sklearn.datasets import load_iris

    out = folder / "iris-run"
    subprocess.run([sys.executable, "-m", "bayesprune", "run", "--samples", "300", "--resample-samples", "200",
                    "--chains", "2", "--quiet", "--no-figures", "--out", str(out)], check=True, cwd=ROOT,
                   capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    iris = load_iris(as_frame=True).frame.drop(columns="target").iloc[::5]
    rows = folder / "iris-rows.csv"
    iris.to_csv(rows, index=False, header=False)  # no header: the model's columns in order, whatever their names
    return {"model": str(out / "model.bpz"), "rows": str(rows)}


def source_of(rev: str, dest: Path) -> Path:
    """The ``src`` folder of git revision ``rev``, extracted under ``dest``."""
    blob = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(dest, filter="data")
    return dest / "src"


def seconds(src: Path, argv: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(src)}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed under {src}:\n{proc.stderr}")
    return elapsed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--against", help="a git revision to time beside the working tree (e.g. HEAD~1)")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--out", default="benchmarks/results/startup.md")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"working tree": ROOT / "src"}
        if args.against:  # named by its commit, which stays true after the tree moves on
            rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.against], capture_output=True,
                                 text=True, check=True).stdout.strip()
            trees[rev] = source_of(rev, Path(tmp))
        for src in trees.values():  # byte-compile once, so no tree pays it in the first repeat
            seconds(src, ["-c", "import bayesprune.cli"])
        files = iris_model(Path(tmp))
        times: dict[tuple[str, str], list[float]] = {}
        for name, command in COMMANDS.items():
            argv = [word.format(**files) for word in command]
            for _ in range(args.repeats):
                for tree, src in trees.items():
                    times.setdefault((name, tree), []).append(seconds(src, argv))
            print(name, {tree: f"{statistics.median(times[name, tree]):.2f} s" for tree in trees}, flush=True)
    head = "| command | " + " | ".join(f"{t} (s)" for t in trees) + (" | ratio |" if args.against else "")
    lines = ["# Start-up of the command line", "",
             f"Command: `python benchmarks/startup.py{' --against ' + args.against if args.against else ''}`. "
             f"Median wall time of {args.repeats} fresh processes per command and tree (`{Path(sys.executable).name}"
             " -m bayesprune ...` with the tree's `src` first on `PYTHONPATH`), the trees alternating; "
             f"{os.cpu_count()} CPUs. Nothing is sampled; `predict` compiles its network's forward pass.", "",
             head, "|---" * (len(trees) + 1 + bool(args.against)) + "|"]
    for name in COMMANDS:
        medians = [statistics.median(times[name, tree]) for tree in trees]
        row = f"| `{name}` | " + " | ".join(f"{m:.2f}" for m in medians)
        if args.against:
            row += f" | {medians[0] / medians[1]:.2f}x"
        lines.append(row + " |")
    if args.against:
        lines += ["", f"Ratio: the working tree's median over {list(trees)[1]}'s."]
    print("\n".join(lines))
    write_markdown(args.out, lines)


if __name__ == "__main__":
    main()
