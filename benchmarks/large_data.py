"""Large data end to end: a 100,000-row regression CSV with 10 features through ``bayesprune run --sampler auto``.

The CSV is synthetic (10 standard-normal features; target ``sin(x0) + x1^2 / 2 - x2 x3 + 0.3 x4 + tanh(2 x5)``
plus Gaussian noise of sd 0.5), written to a temporary folder. The command is timed as a whole (data reading,
the size guide's choice, warm start, sampling, pruning at 75%, resampling, evaluation, outputs); its test RMSE
(original units) and PICP90 are read from metrics.json, its peak resident memory (the child's ``ru_maxrss``; the
parent has only NumPy loaded then, so its own high-water mark cannot dominate) and the bytes it wrote are
recorded, and the metrics are set against scikit-learn's ``MLPRegressor`` of the
same width (12 hidden units), with its default ReLU and with the network's sigmoid (logistic) activation,
trained on the same split (``bayesprune.data.load_csv``, the run's own seed) with its defaults.

Usage: python benchmarks/large_data.py [--rows 100000] [--out benchmarks/results/large_data.md]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import write_results


def write_csv(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 10))
    f = np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 - X[:, 2] * X[:, 3] + 0.3 * X[:, 4] + np.tanh(2 * X[:, 5])
    y = f + rng.normal(scale=0.5, size=rows)
    header = ",".join([f"x{i}" for i in range(10)] + ["y"])
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", fmt="%.5f", header=header, comments="")


def sklearn_rmse(csv: Path, activation: str) -> tuple[float, float]:
    from sklearn.neural_network import MLPRegressor

    from bayesprune.data.datasets import load_csv
    from bayesprune.seeds import stream_int

    ds = load_csv(csv, target="y", hidden=(12,), seed=stream_int(0, "split"))
    t = time.perf_counter()
    model = MLPRegressor(hidden_layer_sizes=(12,), activation=activation, random_state=0).fit(ds.X_train,
                                                                                                ds.y_train)
    seconds = time.perf_counter() - t
    pred = ds.inverse_y(model.predict(ds.X_test))
    return float(np.sqrt(np.mean((pred - ds.inverse_y(ds.y_test)) ** 2))), seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "large_data.md"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "large.csv"
        write_csv(csv, args.rows)
        out = Path(tmp) / "run"
        t = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "bayesprune", "run", "--csv", str(csv), "--target", "y",
                            "--sampler", "auto", "--out", str(out), "--no-figures"], capture_output=True, text=True)
        seconds = time.perf_counter() - t
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if p.returncode:
            raise RuntimeError(p.stderr[-3000:])
        files = {str(f.relative_to(out)): f.stat().st_size for f in out.rglob("*") if f.is_file()}
        largest = sorted(files.items(), key=lambda kv: -kv[1])[:3]
        note = next((line for line in p.stderr.splitlines() if line.startswith("note: --sampler auto")), "")
        m = json.loads((out / "metrics.json").read_text())
        relu, relu_s = sklearn_rmse(csv, "relu")
        logistic, logistic_s = sklearn_rmse(csv, "logistic")
    st = m["stages"]
    lines = [
        f"# Large data: {args.rows:,} rows, 10 features, end to end", "",
        "`python benchmarks/large_data.py` on this machine (2 CPU cores): `bayesprune run --csv large.csv --target y "
        "--sampler auto` (60/40 split, network 10-12-1, STN 75%), the whole command timed.", "",
        f"- size guide: {note.removeprefix('note: ')}",
        f"- sampler: {m['sampler']}; wall time of the command: **{seconds:.0f} s**; peak resident memory "
        f"**{peak_mib:,.0f} MiB**; outputs **{sum(files.values()) / 2**20:,.1f} MiB** in {len(files)} files (largest: "
        + ", ".join(f"{name} {size / 2**20:,.1f} MiB" for name, size in largest) + ")", "",
        "| stage | test RMSE (y units) | PICP90 | MPIW90 (y units) | fn R-hat |",
        "|---|---:|---:|---:|---:|",
    ]
    for stage in ("full", "resampled"):
        s = st[stage]
        lines.append(f"| {stage} | {s['rmse_original']:.4f} | {s['picp90']:.3f} | {s['mpiw90_original']:.3f} | "
                     f"{s['rhat_fn_max']:.2f} |")
    lines += [
        "",
        "| scikit-learn MLPRegressor (12 units, defaults) | test RMSE | fit seconds |", "|---|---:|---:|",
        f"| relu (its default) | {relu:.4f} | {relu_s:.1f} |",
        f"| logistic (the network's sigmoid) | {logistic:.4f} | {logistic_s:.1f} |", "",
        f"Full Bayesian network against the better MLPRegressor: RMSE ratio "
        f"{st['full']['rmse_original'] / min(relu, logistic):.3f}; resampled (75% removed): "
        f"{st['resampled']['rmse_original'] / min(relu, logistic):.3f}.", "",
    ]
    write_results(args.out, lines, {"seconds": seconds, "peak_mib": peak_mib, "output_bytes": files, "note": note,
                                    "stages": st, "mlp_relu": relu, "mlp_logistic": logistic})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
