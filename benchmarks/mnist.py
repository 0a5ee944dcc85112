"""MNIST LeNet-300-100 (784-300-100-10, 266,610 parameters): the Bayesian network, its compact networks at the
compression papers' sizes, and what a deep ensemble and magnitude pruning give at the same sizes, in one run.

Every row is measured here, in this run, on the standard 10,000 test images:

- **Bayesian LeNet-300-100**: ``bayesprune.sample`` with the sampler ``--sampler auto`` picks for 60,000 rows
  (the size guide), 4 chains from optimised starts, the sampler's default lengths unless ``--samples`` says.
- **Compact at >= 56x and >= 68x** (at most 4,761 and 3,921 non-zero parameters, biases counted: stricter than
  the papers, which count weights): ``bayesprune.compress`` with the defaults of ``bayesprune run`` (STN, mask
  repair, resampling from the pruned draws fine-tuned on the kept parameters).
- **Deep ensemble**: the 4 networks the chains start from (each fitted with optax's Adam on minibatches, the
  chains' own starts, taken from the sampling stage itself, not fitted twice).
- **Magnitude pruning of that ensemble** (Han et al. 2015's criterion, one shot): each member keeps its
  largest-magnitude parameters up to the same budget, then is fine-tuned on them with the same Adam steps as the
  compact model's starts; the 4 pruned members predict as an ensemble.

Per row: test error, NLL, ECE; for the compact rows the compact file's bytes (as ``bayesprune run`` writes it,
200 draws, and per draw) against the dense float32 network's 1,066,440 bytes, and the prediction time of the
10,000 test images (best of 5, compile excluded). Published anchors printed beside: dense error 1.64% (LeCun et
al. 1998); Han et al. (2015) magnitude pruning 12x at 1.59%; DNS (Guo et al. 2016) 56x at 1.99%; Sparse
Variational Dropout (Molchanov et al. 2017) 68x at 1.92%.

Targets (issue "the field's standard benchmarks"): >= 56x at <= 1.99% error (stretch >= 68x at <= 1.92%); the
compact network's NLL and ECE no worse than the deep ensemble's at full size; the compact file <= 1/20 of the
dense network's bytes; the whole pipeline under 30 minutes on this machine.

Usage: python benchmarks/mnist.py [--data-dir DIR] [--samples N] [--resample-samples N] [--seed 0]
                                  [--criterion stn] [--out benchmarks/results/mnist.md]
Shorter ``--samples`` / ``--resample-samples`` than the defaults are printed in the table's heading.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from common import best_time, write_results  # noqa: E402

from bayesprune import api  # noqa: E402
from bayesprune.data import load_dataset  # noqa: E402
from bayesprune.evaluation import metrics  # noqa: E402
from bayesprune.io import save_posterior  # noqa: E402
from bayesprune.io.compact import MODEL_DRAWS, load_model, pack_compact, write_compact  # noqa: E402
from bayesprune.posterior import BNNPosterior  # noqa: E402
from bayesprune.predictive import posterior_predictive  # noqa: E402
from bayesprune.pruning import n_to_remove  # noqa: E402
from bayesprune.samplers import sizing  # noqa: E402
from bayesprune.settings import RunConfig  # noqa: E402
from bayesprune.stages import sample as sampling  # noqa: E402

BUDGETS = {"56x": 4761, "68x": 3921}  # non-zero parameters, biases included: 266,610 / 56 and / 68, rounded down
ANCHORS = [("dense (LeCun et al. 1998)", "1x", "1.64%"), ("magnitude pruning (Han et al. 2015)", "12x", "1.59%"),
           ("DNS (Guo et al. 2016)", "56x", "1.99%"), ("Sparse VD (Molchanov et al. 2017)", "68x", "1.92%")]


def rate_for(n: int, budget: int) -> float:
    """The smallest rate (in steps of 1e-6) whose kept count is at most ``budget``."""
    rate = 1.0 - budget / n
    while n - n_to_remove(n, rate) > budget:
        rate += 1e-6
    return rate


def scores(probs: np.ndarray, y: np.ndarray) -> dict:
    return {"error": 1.0 - metrics.accuracy(y, probs), "nll": metrics.classification_nll(y, probs),
            "ece": metrics.ece(y, probs)}


def sample_scores(sample, ds) -> dict:
    """A sample's test scores as ``bayesprune.evaluate`` gives them (the compact rows' scores)."""
    m = api.evaluate(sample, ds)
    return {"error": 1.0 - m.accuracy, "nll": m.nll, "ece": m.ece}


def ensemble_scores(post: BNNPosterior, positions: np.ndarray, ds) -> dict:
    """The networks ``positions`` (member, dim) as an equally weighted ensemble."""
    return scores(posterior_predictive(post, positions[:, None, :], ds.X_test).mean(), ds.y_test)


def magnitude_pruned(post: BNNPosterior, ds, starts: np.ndarray, budget: int, sampler: str, seed: int):
    """Each member keeps its ``budget`` largest-magnitude parameters and is fine-tuned on them (Adam, the
    sampler's warm-start length, as the compact model's resampling starts are)."""
    members = []
    for member in starts:
        kept = np.sort(np.argsort(-np.abs(member))[:budget]).astype(np.int32)
        tuned, _ = sampling.optimised_start(post, ds, np.asarray(post.restrict(member[None], kept)), sampler, None,
                                            seed, kept_idx=kept)
        members.append(np.asarray(post.theta(tuned, kept))[0])
    return np.stack(members)


def load(data_dir: str, train_rows: int | None):
    """MNIST (the first ``train_rows`` training images only, for a quick check), its LeNet-300-100 posterior, and
    the sampler ``--sampler auto`` takes for it with the size guide's estimate."""
    ds = load_dataset("mnist", data_dir=data_dir)
    if train_rows is not None:
        ds = dataclasses.replace(ds, X_train=ds.X_train[:train_rows], y_train=ds.y_train[:train_rows])
    post = sampling.build_posterior(ds)
    sampler, guide = sizing.choose_sampler(rows=60000, params=post.spec.n_params, chains=RunConfig.chains)
    return ds, post, sampler, guide


def sample_keeping_starts(ds, post: BNNPosterior, sampler: str, samples: int | None, seed: int):
    """The full Bayesian network (``bayesprune.sample``, 4 chains from optimised starts) and the chains' starts,
    taken from the sampling stage itself (its own optimised ensemble), not fitted twice."""
    captured = []
    chain_starts = sampling.chain_starts

    def keep_starts(*a, **k):
        captured.append(chain_starts(*a, **k))
        return captured[-1]

    sampling.chain_starts = keep_starts
    try:
        full = api.sample(ds, posterior=post, sampler=sampler, chains=RunConfig.chains, samples=samples, seed=seed)
    finally:
        sampling.chain_starts = chain_starts
    return full, captured[0]


def compact_file(rs, ds, folder: Path) -> dict:
    """The compact model file as ``bayesprune run`` writes it, its bytes per draw, and its prediction time."""
    blob, info = pack_compact(rs, ds)
    model = load_model(write_compact(blob, folder / "model.bpz"))
    one, _ = pack_compact(rs, ds, n_draws=1)
    X = ds.X_test if ds.x_scaler is None else ds.x_scaler.inverse_transform(ds.X_test)  # the images as read
    return {"bytes": len(blob), "bytes_one_draw": len(one), "draws": int(model.draws.shape[0]),
            "hidden": list(model.spec.hidden), "inputs_read": len(model.header.get("inputs", model.feature_names)),
            "file_error": 1.0 - metrics.accuracy(ds.y_test, model.predict(X)["probabilities"]),
            "predict_seconds": best_time(lambda: model.predict(X), 5)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=os.environ.get("BAYESPRUNE_DATA", "../shared/data"))
    p.add_argument("--samples", type=int, default=None, help="full-sample steps per chain (default: the sampler's)")
    p.add_argument("--resample-samples", type=int, default=None,
                   help="resampling steps per chain (default: the sampler's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-rows", type=int, default=None,
                   help="use only the first N training images (a quick check of the script; the heading says so)")
    p.add_argument("--criterion", default=RunConfig.criteria[0],
                   help="the compact networks' pruning criterion (default: run's, STN; benchmarks/mnist_masks.py "
                        "compares STN and magnitude on this network)")
    p.add_argument("--out", default="benchmarks/results/mnist.md")
    args = p.parse_args()
    t_start = time.perf_counter()
    ds, post, sampler, guide = load(args.data_dir, args.train_rows)
    n = post.spec.n_params
    print(f"LeNet-300-100: {n:,} parameters; --sampler auto -> {sampler} (full-batch MCLMC estimated "
          f"{guide.seconds / 60:.0f} min)", flush=True)

    t0 = time.perf_counter()
    full, starts = sample_keeping_starts(ds, post, sampler, args.samples, args.seed)
    seconds = {"full": time.perf_counter() - t0}
    rows = {"Bayesian LeNet-300-100 (full)": {"kept": n, **scores(api.predict(full, ds.X_test).mean(), ds.y_test)},
            "deep ensemble of its 4 starts (full)": {"kept": n, **ensemble_scores(post, starts, ds)}}
    with tempfile.TemporaryDirectory() as tmp:
        save_posterior(full, ds, Path(tmp) / "posterior_full.nc")
        rows["Bayesian LeNet-300-100 (full)"]["posterior_bytes"] = (Path(tmp) / "posterior_full.nc").stat().st_size
        write_table(args, sampler, guide.seconds, n, rows, seconds, finished=False)
        for name, budget in BUDGETS.items():
            rate = rate_for(n, budget)
            t0 = time.perf_counter()
            comp = api.compress(full, ds, rate=rate, seed=args.seed, samples=args.resample_samples,
                                criterion=args.criterion, rate_guard=0.0)  # the papers' sizes exactly
            seconds[name] = time.perf_counter() - t0
            rs = comp.resampled
            criterion = comp.prune.criterion
            label = f"Bayesian, {criterion.upper() if criterion != 'magnitude' else 'magnitude'} compact"
            rows[f"{label} {name}"] = {
                "kept": rs.n_params_kept, **sample_scores(rs, ds), **compact_file(rs, ds, Path(tmp))}
            save_posterior(rs, ds, Path(tmp) / "posterior_resampled.nc")
            rows[f"{label} {name}"]["posterior_bytes"] = (
                Path(tmp) / "posterior_resampled.nc").stat().st_size
            t0 = time.perf_counter()
            pruned_members = magnitude_pruned(post, ds, starts, budget, sampler, args.seed)
            seconds[f"magnitude {name}"] = time.perf_counter() - t0
            rows[f"deep ensemble, magnitude-pruned {name}"] = {
                "kept": int(np.count_nonzero(pruned_members, axis=1).max()),
                **ensemble_scores(post, pruned_members, ds)}
            write_table(args, sampler, guide.seconds, n, rows, seconds, finished=False)
    seconds["total"] = time.perf_counter() - t_start
    write_table(args, sampler, guide.seconds, n, rows, seconds, finished=True)

def write_table(args, sampler: str, guide_seconds: float, n: int, rows: dict, seconds: dict, *,
                finished: bool) -> None:
    """The table of what is measured so far (rewritten after every stage, so a run that is stopped keeps it)."""
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kilobytes on Linux
    done = (f"Whole run: {seconds['total'] / 60:.1f} minutes here" if finished else
            "**Partial: the run had not finished when this was written.** Minutes so far")
    dense_bytes = 4 * n
    lines = [
        "# MNIST LeNet-300-100: Bayesian, compact, deep ensemble and magnitude pruning",
        "",
        f"Command: `python benchmarks/mnist.py"
        f"{'' if args.samples is None else f' --samples {args.samples}'}"
        f"{'' if args.resample_samples is None else f' --resample-samples {args.resample_samples}'}"
        f"{'' if args.train_rows is None else f' --train-rows {args.train_rows}'}"
        f"{'' if args.criterion == RunConfig.criteria[0] else f' --criterion {args.criterion}'}`"
        f" (seed {args.seed}). Sampler: `{sampler}` (`--sampler auto`; full-batch MCLMC estimated at "
        f"{guide_seconds / 60:.0f} minutes of sampling), 4 chains, "
        f"{'the sampler default lengths' if args.samples is None else f'{args.samples} steps per chain'}"
        f"{'' if args.resample_samples is None else f', {args.resample_samples} resampling steps'}. "
        f"{done} (full sample {seconds['full'] / 60:.1f}"
        + "".join(f", {k} {v / 60:.1f}" for k, v in seconds.items() if k not in ("full", "total"))
        + f"); peak memory {peak_gb:.1f} GB.",
        "",
        "| model | non-zero parameters | compression | test error | NLL | ECE | file bytes (per draw) | "
        "predict 10,000 images |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        file = (f"{r['bytes']:,} for {r['draws']} draws ({r['bytes_one_draw']:,}; dense float32 network "
                f"{dense_bytes:,}: {dense_bytes / r['bytes_one_draw']:.0f}x)") if "bytes" in r else "-"
        ms = (f"{r['predict_seconds'] * 1e3:.0f} ms ({r['draws']} draws, {r['inputs_read']} of 784 pixels read; "
              f"error from the file {r['file_error']:.2%})") if "predict_seconds" in r else "-"
        lines.append(f"| {name} | {r['kept']:,} | {n / r['kept']:.0f}x | {r['error']:.2%} | {r['nll']:.4f} | "
                     f"{r['ece']:.4f} | {file} | {ms} |")
    full_file = rows["Bayesian LeNet-300-100 (full)"].get("posterior_bytes")
    if full_file:
        out = [f"{name.split()[-1]}: {(full_file + r['posterior_bytes'] + r['bytes']) / 1e6:.0f} MB"
               for name, r in rows.items() if "posterior_bytes" in r and "bytes" in r]
        lines += ["", f"What `bayesprune run --out` writes of this run (posterior files as it saves them, "
                  f"`bayesprune.io.save_posterior`): posterior_full.nc {full_file / 1e6:.1f} MB"
                  + "".join(f"; {name.split()[-1]} posterior_resampled.nc {r['posterior_bytes'] / 1e6:.1f} MB"
                            for name, r in rows.items() if "posterior_bytes" in r and "bytes" in r)
                  + (f"; with one compact size's model file: {', '.join(out)}" if out else "") + "."]
    lines += ["", "Published (weights counted, biases not; each paper's own training):", "",
              "| method | compression | test error |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in ANCHORS]
    write_results(args.out, lines, {"sampler": sampler, "seconds": seconds, "rows": rows,
                                    "samples": args.samples, "resample_samples": args.resample_samples,
                                    "model_draws": MODEL_DRAWS, "finished": finished,
                                    "peak_rss_gb": peak_gb})


if __name__ == "__main__":
    main()
