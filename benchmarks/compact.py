"""What compaction buys: bytes on disk and prediction speed of compact against dense models.

Runs the pipeline (LG-MH, STN) on a data set at several rates, structured (whole hidden units removed) and
unstructured, writes each compact model, and compares it with the same posterior draws stored densely (all
parameters, the same number of draws, the same compression) and predicted through the full-width network.

Usage: python benchmarks/compact.py [--dataset ionosphere] [--data-dir DIR] [--quick]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
from common import best_time, write_markdown

from bayesprune import api
from bayesprune.data import load_dataset
from bayesprune.evaluation.records import to_json
from bayesprune.io.compact import load_model, pack_compact, write_compact
from bayesprune.posterior import BNNPosterior
from bayesprune.predictive import network_outputs


def compaction_report(rs, ds, path: Path, *, n_draws: int, repeats: int) -> dict:
    """The compact model's sizes (as ``metrics.json`` records them) and its prediction time against the same
    draws predicted through the full-width network."""
    blob, info = pack_compact(rs, ds, n_draws=n_draws)
    model = load_model(write_compact(blob, path))
    X = np.asarray(ds.X_test, np.float32)
    dense = np.zeros((model.draws.shape[0], rs.spec.n_params), np.float32)
    full_post, compact_post = BNNPosterior(rs.spec, ds.task), BNNPosterior(model.spec, ds.task)
    compact = model.thetas()
    t_dense = best_time(lambda: network_outputs(full_post, dense[None], X), repeats)
    t_compact = best_time(lambda: network_outputs(compact_post, compact[None], X), repeats)
    return {**to_json(info), "predict_seconds_dense": t_dense, "predict_seconds_compact": t_compact}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="ionosphere")
    p.add_argument("--data-dir", default=os.environ.get("BAYESPRUNE_DATA", "../shared/data"))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--draws", type=int, default=200, help="posterior draws stored in each model")
    p.add_argument("--out", default="benchmarks/results/compact.md")
    args = p.parse_args()
    ds = load_dataset(args.dataset, data_dir=args.data_dir, seed=0)
    samples, resamples = (4000, 2000) if args.quick else (40000, 20000)
    full = api.sample(ds, sampler="lgmh", chains=4, samples=samples, seed=0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for structured in (True, False):
            for rate in (0.5, 0.75, 0.9):
                pr = api.prune(full, criterion="stn", rate=rate, structured=structured)
                rs = api.resample(full, ds, pr, samples=resamples)
                acc = api.evaluate(rs, ds).value("accuracy")
                rep = compaction_report(rs, ds, Path(tmp) / "m.bpz", n_draws=args.draws, repeats=20)
                rows.append((structured, rate, acc, rep))
                ms_c, ms_d = rep["predict_seconds_compact"] * 1e3, rep["predict_seconds_dense"] * 1e3
                print(f"{'structured' if structured else 'unstructured':<12} {rate:.2f}: "
                      f"{rep['bytes_compact']:,} / {rep['bytes_dense']:,} bytes ({rep['bytes_ratio']:.0%}), "
                      f"predict {ms_c:.2f} ms vs {ms_d:.2f} ms", flush=True)
    lines = [
        f"# Compact models: {args.dataset}",
        "",
        f"Command: `python benchmarks/compact.py --dataset {args.dataset}{' --quick' if args.quick else ''}`. "
        f"LG-MH, 4 chains x {samples} samples, STN pruning, {resamples} resampling steps; {args.draws} draws per "
        "model. Dense = the same draws with every parameter stored (pruned ones as zeros) in the same uncompressed "
        "`.npz` format; `dense zipped` = the same with `np.savez_compressed`, which shrinks the zeros. Dense "
        f"models are predicted through the full-width network. Prediction time: best of 20 runs over the "
        f"{len(ds.y_test)} test rows x {args.draws} draws, compile excluded.",
        "",
        "| pruning | rate | kept params | hidden | test acc. | compact bytes | dense bytes | ratio | dense zipped | "
        "compact ms | dense ms | speed-up |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for structured, rate, acc, r in rows:
        ms_c, ms_d = r["predict_seconds_compact"] * 1e3, r["predict_seconds_dense"] * 1e3
        lines.append(
            f"| {'structured' if structured else 'unstructured'} | {rate:.2f} | "
            f"{r['n_params_kept']}/{r['n_params']} | {r['hidden_full']} -> {r['hidden_compact']} | {acc:.3f} | "
            f"{r['bytes_compact']:,} | {r['bytes_dense']:,} | {r['bytes_ratio']:.0%} | "
            f"{r['bytes_dense_compressed']:,} | {ms_c:.2f} | {ms_d:.2f} | "
            f"{ms_d / ms_c:.1f}x |")
    write_markdown(args.out, lines)


if __name__ == "__main__":
    main()
