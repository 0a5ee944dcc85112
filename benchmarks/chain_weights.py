"""Chain weights on the full model: equal, stacking and `--chain-weights auto`, from one sample per run.

Per run (`bayesprune run`'s defaults for the full model: MCLMC from Adam starts, 4 chains): each chain's mean
PSIS-LOO ELPD per training row (from the 250 evenly spaced draws the weights use), the gap between the best and
the worst chain, the largest chain's LOO correction p_loo / n (nats per row), each chain's share of rows with
Pareto k > 0.7, and the full model's test RMSE, NLL and PICP90 under equal and under stacking weights. The same
draws serve both weightings, so the difference is the weights' alone. `auto` is stacking where the gap is above both
log 1.05 = 0.0488 nats per row (:data:`bayesprune.evaluation.stacking.POOR_MODE_GAP`) and the LOO correction, and
equal weights otherwise; the table derives it from the two.

Data sets: the regression sets of benchmarks/pipeline.py (the paper's abalone, sunspot and lazer, scikit-learn's
diabetes, three UCI sets on split 0, and its synthetic sine, Friedman, heteroscedastic and low-noise sets), seeds
0, 1 and 2, as `pipeline.py` builds them.

Usage: python benchmarks/chain_weights.py [--data-dir DIR] [--datasets a,b] [--seeds 0,1,2] [--report]
                                          [--out benchmarks/results/chain_weights.md]
Each run is stored in benchmarks/results/chain_weights_runs/ as it finishes (a rerun skips it).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from common import run_datasets_and_seeds, stored_run_parser, stored_runs, write_markdown  # noqa: E402
from pipeline import NOISE_MODE, config_and_data  # noqa: E402

from bayesprune.evaluation.selection import arviz_loo  # noqa: E402
from bayesprune.evaluation.stacking import POOR_MODE_GAP, chain_weights, clear_gap  # noqa: E402
from bayesprune.experiments import runner  # noqa: E402
from bayesprune.stages.evaluate import evaluate  # noqa: E402
from bayesprune.stages.weights import weight_loglik  # noqa: E402

RUNS = Path(__file__).parent / "results" / "chain_weights_runs"
WORSE = 1.05  # the rule's bound: auto's full-model test RMSE at most 5% above equal weights' on every run


def one_run(name: str, seed: int, data_dir: str, tmp: Path) -> dict:
    cfg, _ = config_and_data(name, seed, "noise-mode", data_dir, tmp)  # `noise-mode`: nothing pinned
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cfg, ds, posterior, _, _ = runner._data_and_posterior(cfg)
        ps = runner._sample_full(cfg, ds, posterior)
    loglik = weight_loglik(ps, ds).astype(np.float64)
    loos = [arviz_loo(loglik[c][None]) for c in range(loglik.shape[0])]
    elpd = [float(np.mean(e["loo_i"])) for e in loos]
    out = {"dataset": name, "seed": seed, "task": ds.task, "n": len(ds.y_train), "elpd_chain": elpd,
           "gap": max(elpd) - min(elpd), "correction": max(float(e["p_loo"]) for e in loos) / len(ds.y_train),
           "high_k": [float(np.mean(np.asarray(e["pareto_k"]) > 0.7)) for e in loos], "sampler": cfg.sampler}
    key = "rmse" if ds.task == "regression" else "accuracy"
    # the weights `weigh_chains` gives, from the log-likelihoods above: equal, and stacking
    for how, weights in (("equal", None), ("stacking", chain_weights(loglik))):
        weighted = ps.replace(chain_weights=weights)
        m = evaluate(weighted, ds, seed=seed)
        out[how] = {"main": getattr(m, key), "nll": m.nll, "picp90": m.picp90,
                    "w": None if weighted.chain_weights is None else [float(w) for w in weighted.chain_weights]}
    out["seconds"] = time.perf_counter() - t0
    return out


def stacks(r: dict) -> bool:
    """Whether `--chain-weights auto` stacks this run's chains (:func:`bayesprune.evaluation.stacking.
    chain_weights` with ``min_gap``)."""
    return clear_gap(r["gap"], r["correction"])


def auto(r: dict) -> dict:
    return r["stacking"] if stacks(r) else r["equal"]


def report(rows: list[dict]) -> list[str]:
    lines = ["# Chain weights on the full model: equal, stacking, auto", "",
             "`python benchmarks/chain_weights.py` (defaults of `bayesprune run` for the full model, one sample per "
             "run, both weightings; `auto` stacks where the gap between the best and the worst chain's PSIS-LOO "
             f"ELPD per training row is above {POOR_MODE_GAP:.4f} nats and above the largest chain's LOO correction "
             "p_loo / n). RMSE on the scaled target; k > 0.7: the largest share of a chain's training rows with "
             "Pareto k above 0.7.", "",
             "| data | seed | gap (nats/row) | correction | k > 0.7 | RMSE equal | RMSE stacking | RMSE auto | "
             "auto / equal | NLL equal | NLL auto | PICP90 equal | PICP90 auto |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        a = auto(r)
        lines.append(f"| {r['dataset']} | {r['seed']} | {r['gap']:.3f} | {r['correction']:.3f} | "
                     f"{max(r['high_k']):.2f} | {r['equal']['main']:.4g} | "
                     f"{r['stacking']['main']:.4g} | {a['main']:.4g} | {a['main'] / r['equal']['main']:.3f} | "
                     f"{r['equal']['nll']:.3f} | {a['nll']:.3f} | {r['equal']['picp90']:.3f} | {a['picp90']:.3f} |")
    ratio = np.array([auto(r)["main"] / r["equal"]["main"] for r in rows])
    st = np.array([r["stacking"]["main"] / r["equal"]["main"] for r in rows])
    stacked = sum(stacks(r) for r in rows)
    lines += ["", f"{len(rows)} runs; auto stacked {stacked}. Test RMSE against equal weights: auto worse by more "
              f"than 5% on {int(np.sum(ratio > WORSE))}, better by more than 5% on {int(np.sum(ratio < 1 / WORSE))} "
              f"(ratios {ratio.min():.2f}-{ratio.max():.2f}); stacking everywhere worse by more than 5% on "
              f"{int(np.sum(st > WORSE))}, better on {int(np.sum(st < 1 / WORSE))} (ratios {st.min():.2f}-"
              f"{st.max():.2f})."]
    return lines


def main() -> None:
    p = stored_run_parser(__doc__, NOISE_MODE, "benchmarks/results/chain_weights.md")
    p.add_argument("--seeds", default="0,1,2")
    args = p.parse_args()
    if not args.report:
        run_datasets_and_seeds(args, RUNS, one_run,
                               lambda r: f"{r['dataset']:<26} seed {r['seed']}: gap {r['gap']:.3f}, RMSE equal "
                                         f"{r['equal']['main']:.4g} stacking {r['stacking']['main']:.4g}, "
                                         f"{r['seconds']:.0f} s")
    rows = stored_runs(RUNS)
    print("\n".join(report(rows)))
    write_markdown(args.out, report(rows))


if __name__ == "__main__":
    main()
