"""Does `bayesprune run` finish on files nobody chose it for? A sweep over R's data sets as R writes them.

The loader was checked on all 636 CSV files of pydataset 0.2.0 (R's data sets written by R's `write.csv`); this
sweep runs the whole pipeline on a seeded sample of them, as a user would who names the last column as the target:
`bayesprune run --csv FILE --target LAST --missing fill`, every other setting at its default except the chains'
lengths (`--samples 4000 --resample-samples 4000`, a tenth of MCLMC's, so that a file takes about a minute: the
sweep looks for crashes, errors and warnings, not at accuracy, which short chains do not measure). The files: those
of 20 to 20,000 lines whose last column loads as a target (`load_csv(..., missing="fill")` succeeds), shuffled
with `random.Random(7)`, the first `--files`. Each run has 400 s. A run passes when it exits 0 without a
traceback, or exits 2 with its one-line error.

Usage: python benchmarks/files_sweep.py --public-dir DIR [--files 90] [--out benchmarks/results/files_sweep.md]
(`DIR`: the folder holding `rdata/csv/`, pydataset 0.2.0's `resources.tar.gz` unpacked, as for pipeline.py's
`r-files`). Each file's record is stored in `benchmarks/results/files_sweep_runs/` as it finishes (a rerun
skips it); `--report` only writes the table. About 75 s a file here beside other work.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import run_missing, write_markdown  # noqa: E402

RUNS = Path(__file__).parent / "results" / "files_sweep_runs"
RD = "rdata/csv"
LINES = (20, 20000)
SHUFFLE_SEED = 7
SECONDS = 400
ARGS = ("--missing", "fill", "--samples", "4000", "--resample-samples", "4000")


def last_column(path: Path) -> str:
    return path.open(errors="ignore").readline().strip().split(",")[-1].strip('"')


def candidates(public_dir: str) -> list[str]:
    """The files (relative to ``public_dir``) of 20-20,000 lines whose last column loads as a target."""
    from bayesprune.data import load_csv

    out = []
    for path in sorted(Path(public_dir).glob(f"{RD}/*/*.csv")):
        n = sum(1 for _ in path.open(errors="ignore"))
        if not LINES[0] <= n <= LINES[1]:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                load_csv(path, target=last_column(path), missing="fill")
        except Exception:  # noqa: BLE001 - a file the loader refuses is not run (the loader check covers it)
            continue
        out.append(str(path.relative_to(public_dir)))
    return out


def run_path(relative: str) -> Path:
    return RUNS / (relative.removeprefix(f"{RD}/").replace("/", "_").removesuffix(".csv") + ".json")


def one(relative: str, public_dir: str, tmp: str) -> dict:
    path = Path(public_dir) / relative
    target = last_column(path)
    cmd = [sys.executable, "-m", "bayesprune", "run", "--csv", str(path), "--target", target, *ARGS,
           "--out", str(Path(tmp) / run_path(relative).stem)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS,
                              env={**os.environ, "MPLBACKEND": "Agg"})
        rc, err, out = proc.returncode, proc.stderr, proc.stdout
    except subprocess.TimeoutExpired:
        rc, err, out = "timeout", "", ""
    return {"file": relative, "target": target, "rc": rc, "sec": round(time.perf_counter() - t0),
            "traceback": "Traceback" in err, "err_tail": err.strip().splitlines()[-3:] if err.strip() else [],
            "warn": [line for line in (out + err).splitlines() if "warn" in line.lower()][:6]}


def passed(r: dict) -> bool:
    return not r["traceback"] and (r["rc"] == 0 or (r["rc"] == 2 and len(r["err_tail"]) >= 1))


def kind(warning: str) -> str:
    """A warning's kind: its first clause with every number written N, the stage's name left out."""
    text = re.sub(r"^warning: (full|resampled|pruned): ", "warning: ", warning)
    return re.sub(r"\d[\d,.]*", "N", text).split(";")[0].split(" (")[0][:90].strip()


def report(rows: list[dict]) -> list[str]:
    ok = [r for r in rows if passed(r)]
    errors = [r for r in rows if r["rc"] == 2]
    failed = [r for r in rows if not passed(r)]
    kinds = collections.Counter(k for r in rows for k in {kind(w) for w in r["warn"]})
    secs = sorted(r["sec"] for r in rows)
    lines = ["# `bayesprune run` on R's data sets as R writes them", "",
             f"Command: `python benchmarks/files_sweep.py --public-dir DIR --files {len(rows)}`. "
             "`bayesprune run --csv FILE --target LAST --missing fill --samples 4000 --resample-samples 4000`, "
             "everything else default, on a seeded sample of pydataset 0.2.0's CSV files (20-20,000 lines, the last "
             "column as the target); short chains, so the metrics are not read: the sweep looks for crashes, "
             "errors and warnings.", "",
             f"**{len(ok)} of {len(rows)} runs passed** ({sum(r['rc'] == 0 for r in rows)} finished, "
             f"{len(errors)} stopped with a one-line error); {len(failed)} failed (a traceback, another exit "
             f"status or over {SECONDS} s). Seconds a run: median {secs[len(secs) // 2]}, longest {secs[-1]}.", "",
             "| warning (its kind) | runs |", "|---|---:|"]
    lines += [f"| {k} | {n} |" for k, n in kinds.most_common()]
    lines += ["", "| file | target | exit | s | kinds of warning | last line |", "|---|---|---|---:|---:|---|"]
    for r in sorted(rows, key=lambda r: r["file"]):
        last = (r["err_tail"][-1] if r["err_tail"] else "").replace("|", "/")
        if r["rc"] == 0:
            last = ""  # "wrote N files to ..." says nothing more
        lines.append(f"| {r['file'].removeprefix(RD + '/')} | {r['target']} | {r['rc']} | {r['sec']} | "
                     f"{len({kind(w) for w in r['warn']})} | {last} |")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--public-dir", help="the folder holding rdata/csv/ (the docstring says which)")
    p.add_argument("--files", type=int, default=90)
    p.add_argument("--out", default="benchmarks/results/files_sweep.md")
    p.add_argument("--report", action="store_true", help="only write the table from the stored runs")
    args = p.parse_args()
    if not args.report:
        if args.public_dir is None:
            p.error("--public-dir is needed to run (the folder holding rdata/csv/)")
        files = candidates(args.public_dir)
        random.Random(SHUFFLE_SEED).shuffle(files)
        with tempfile.TemporaryDirectory() as tmp:
            run_missing(files[: args.files], run_path, lambda f: one(f, args.public_dir, tmp),
                        lambda r: f"{r['file']}: exit {r['rc']}, {r['sec']} s")
    rows = [json.loads(f.read_text()) for f in sorted(RUNS.glob("*.json"))]
    write_markdown(args.out, report(rows))


if __name__ == "__main__":
    main()
