"""Deploying the compact posterior: file bytes and prediction latency of its ONNX export in ONNX Runtime, against
the dense posterior exported the same way and against ``bayesprune predict`` (JAX), side by side in one run.

Cases: the default iris run (``bayesprune run``, STN 75%), and digits 64-128-64-10 at 90% removed, unstructured
and structured (whole hidden units). The digits runs use HMC with 1,000 steps per chain (and 400 resampling
steps), not the default sampler, to keep the benchmark to minutes: sizes and latencies depend on the architecture,
the mask and the number of draws, not on how long the chains ran. Every model keeps its 200 draws (the .bpz
default), and the dense posterior is the full model's 200 draws through the full-width network.

Per model: bytes of the ``.bpz``, of the ``.onnx`` and of the dense float32 parameters (draws x parameters x 4);
latency per row at batch 1 (median of 300 calls) and at batch 1,024 (median of 20 calls, divided by 1,024).
ONNX Runtime on one thread (``intra_op_num_threads=1``), so the figures do not depend on the machine's cores.

Usage: python benchmarks/deploy.py [--out benchmarks/results/deploy.md] [--quick]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from common import write_results

from bayesprune.experiments.runner import run
from bayesprune.io.compact import load_model, pack_compact, write_compact
from bayesprune.io.onnx_export import export_onnx
from bayesprune.settings import RunConfig

CASES = {
    "iris (default run, STN 75%)": RunConfig(),
    # sizes at 90% as measured: the rate as given (no rate guard)
    "digits 64-128-64-10, STN 90%": RunConfig(dataset="digits", hidden=(128, 64), rates=(0.9,), sampler="hmc",
                                              samples=1000, resample_samples=400, rate_guard=0.0),
    "digits 64-128-64-10, STN 90% structured": RunConfig(dataset="digits", hidden=(128, 64), rates=(0.9,),
                                                         sampler="hmc", samples=1000, resample_samples=400,
                                                         structured=True, rate_guard=0.0),
}


def median_seconds(fn, repeats: int) -> float:
    """Median wall time of ``repeats`` calls, after two that warm up."""
    fn(), fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def latencies(model_path: Path, onnx_path: Path, X: np.ndarray, *, repeats: int) -> dict[str, float]:
    """Microseconds per row at batch 1 and 1,024: ONNX Runtime and the model's own ``predict``."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    model = load_model(model_path)
    rows = np.random.default_rng(0).choice(len(X), 1024)
    one, big = X[:1].astype(np.float32), X[rows].astype(np.float32)
    return {
        "onnx_us_batch1": 1e6 * median_seconds(lambda: sess.run(None, {"X": one}), repeats),
        "onnx_us_batch1024": 1e6 * median_seconds(lambda: sess.run(None, {"X": big}), max(repeats // 15, 3)) / 1024,
        "predict_us_batch1": 1e6 * median_seconds(lambda: model.predict(one), max(repeats // 10, 5)),
        "predict_us_batch1024": 1e6 * median_seconds(lambda: model.predict(big), 3) / 1024,
    }


def measure(name: str, cfg: RunConfig, tmp: Path, repeats: int) -> list[dict]:
    outcome = run(cfg)
    ds, cell = outcome.dataset, outcome.cells[0]
    X = ds.x_scaler.inverse_transform(ds.X_test) if ds.x_scaler is not None else ds.X_test
    rows = []
    for kind, blob in (("compact", cell.model), ("dense posterior", pack_compact(outcome.full, ds)[0])):
        bpz = write_compact(blob, tmp / f"{kind}.bpz")
        onnx_path = export_onnx(bpz, tmp / f"{kind}.onnx")
        model = load_model(bpz)
        h = model.header
        row = {"case": name, "model": kind, "layout": h["layout"], "hidden": h["architecture"]["hidden"],
               "inputs": h["architecture"]["n_inputs"], "params_kept": h["n_params_kept"],
               "params_full": h["n_params_full"], "draws": h["n_draws"], "bytes_bpz": bpz.stat().st_size,
               "bytes_onnx": onnx_path.stat().st_size,
               "bytes_dense_float32": 4 * h["n_draws"] * h["n_params_full"]}
        row.update(latencies(bpz, onnx_path, X, repeats=repeats))
        print(f"{name} / {kind}: {row['bytes_onnx']:,} bytes onnx, {row['onnx_us_batch1']:.0f} us/row at batch 1, "
              f"{row['onnx_us_batch1024']:.2f} us/row at batch 1024", flush=True)
        rows.append(row)
    return rows


def table(rows: list[dict]) -> list[str]:
    lines = [
        "# Deploying the compact posterior: ONNX Runtime against the dense posterior and `bayesprune predict`",
        "",
        "Command: `python benchmarks/deploy.py`. Bytes of each file; latency in microseconds per row (ONNX Runtime "
        "on one thread; `predict` is `bayesprune predict`'s computation, JAX on this machine's CPU).",
        "",
        "| case | model | layout | hidden | params kept | .bpz bytes | .onnx bytes | onnx / bpz | dense float32 "
        "bytes | onnx us/row, batch 1 | onnx us/row, batch 1024 | predict us/row, batch 1 | predict us/row, "
        "batch 1024 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['model']} | {r['layout']} | {'-'.join(map(str, r['hidden']))} | "
            f"{r['params_kept']:,} / {r['params_full']:,} | {r['bytes_bpz']:,} | {r['bytes_onnx']:,} | "
            f"{r['bytes_onnx'] / r['bytes_bpz']:.2f} | {r['bytes_dense_float32']:,} | {r['onnx_us_batch1']:.0f} | "
            f"{r['onnx_us_batch1024']:.2f} | {r['predict_us_batch1']:.0f} | {r['predict_us_batch1024']:.2f} |")
    lines += ["", "Compact against dense posterior, both exported to ONNX (ratio of latencies, dense / compact):", "",
              "| case | batch 1 | batch 1024 | file bytes, dense / compact |", "|---|---|---|---|"]
    by_case: dict[str, dict[str, dict]] = {}
    for r in rows:
        by_case.setdefault(r["case"], {})[r["model"]] = r
    for case, m in by_case.items():
        c, d = m["compact"], m["dense posterior"]
        lines.append(f"| {case} | {d['onnx_us_batch1'] / c['onnx_us_batch1']:.2f}x | "
                     f"{d['onnx_us_batch1024'] / c['onnx_us_batch1024']:.2f}x | "
                     f"{d['bytes_onnx'] / c['bytes_onnx']:.1f}x |")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="benchmarks/results/deploy.md")
    p.add_argument("--quick", action="store_true", help="the iris case only, fewer timing calls")
    args = p.parse_args()
    cases = dict(list(CASES.items())[:1]) if args.quick else CASES
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, cfg in cases.items():
            rows += measure(name, cfg, Path(tmp), repeats=60 if args.quick else 300)
    write_results(args.out, table(rows), rows)


if __name__ == "__main__":
    main()
