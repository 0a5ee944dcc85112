"""Which sampler, initialisation and length should `bayesprune run` use by default? Measured, by a stated rule.

For every data set (the paper's seven, and scikit-learn's wine, breast_cancer and diabetes as data the choice
was not made on) and every candidate `sampler:init:samples`, two runs of 4 chains (seeds 0 and 1) sample the
full posterior as `bayesprune run` does. Per run: wall time as a user waits for it (compilation and the warm
start included), function-space R-hat (max over up to 200 test points, the diagnostic of metrics.json), median
and minimum function-space bulk ESS over the test points, the test metric. Per data set and candidate: how far
the two seeds' predictive means are apart (mean over test points of |difference| in the scaled target, whose
range is 1, for regression; of the largest class-probability difference for classification).

The rule: a candidate with a broken run anywhere (a chain that left the posterior's bulk: test RMSE more than
twice the best run's on that data set, or accuracy more than 10 points below it) cannot be the default; among
the others, the one whose fn R-hat is <= 1.05 (both seeds) on the most of the paper's data sets, ties broken by
the highest geometric-mean fn-ESS/s (median ESS). (The broken-run condition was added after unadjusted MCLMC
broke one of two abalone runs: a default must not.) NumPyro's NUTS on the same log posterior and the paper's LG-MH
are measured beside them for the ratios.

Usage: python benchmarks/default_sampler.py [--data-dir DIR] [--datasets a,b] [--candidates s:i:n,...]
                                            [--numpyro] [--out benchmarks/results/default_sampler.md]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from common import write_markdown  # noqa: E402
from run import median_ess  # noqa: E402

from bayesprune import api  # noqa: E402
from bayesprune.data import PAPER_DATASETS, load_dataset  # noqa: E402
from bayesprune.evaluation.diagnostics import function_space, function_space_summaries  # noqa: E402
from bayesprune.evaluation.records import main_metric  # noqa: E402
from bayesprune.predictive import posterior_predictive  # noqa: E402

OTHER = ("wine", "breast_cancer", "diabetes")
CANDIDATES = ("hmc:prior:4000", "hmc:optimised:4000", "mclmc:optimised:10000", "mclmc:optimised:20000",
              "lgmh:prior:40000")
CHAINS = 4
SEEDS = (0, 1)
RHAT_OK = 1.05


def diagnose(posterior, ds, draws: np.ndarray) -> tuple[dict, np.ndarray]:
    """fn R-hat (max), median and min fn-ESS, the test metric, and the predictive mean at the test points."""
    if draws.shape[1] > 1000:
        draws = draws[:, np.linspace(0, draws.shape[1] - 1, 1000).round().astype(int)]
    pred = posterior_predictive(posterior, draws, ds.X_test)
    fs = function_space(pred.outputs)
    mean = pred.mean()
    if ds.task == "regression":
        main = float(np.sqrt(np.mean((mean - ds.y_test) ** 2)))
    else:
        main = float(np.mean(mean.argmax(-1) == ds.y_test))
    return {"rhat": fs["rhat_fn_max"], "ess_min": fs["ess_fn_min"],
            "ess_med": median_ess(function_space_summaries(pred.outputs)), "main": main}, mean


def forget_compiled() -> None:
    """Drop every compiled function, so each run pays its compilation as a user's first run does."""
    import jax

    from bayesprune.samplers import driver, warmstart

    jax.clear_caches()
    driver._compiled.cache_clear()
    warmstart._compiled.cache_clear()


def run_candidate(ds, posterior, candidate: str, seed: int) -> tuple[dict, np.ndarray]:
    sampler, init, samples = candidate.split(":")
    forget_compiled()
    if sampler == "numpyro":
        from peers import numpyro_nuts

        n = int(samples)
        r = numpyro_nuts(posterior, ds, chains=CHAINS, warmup=n // 2, draws=n - n // 2, seed=seed)
        seconds = r["compile_s"] + r["run_s"]
        draws = r["draws"]
    else:
        t0 = time.perf_counter()
        ps = api.sample(ds, posterior=posterior, sampler=sampler, chains=CHAINS, samples=int(samples), seed=seed,
                        init=init)
        seconds = time.perf_counter() - t0
        draws = np.asarray(ps.result.draws)
    stats, mean = diagnose(posterior, ds, draws)
    stats["seconds"] = seconds
    return stats, mean


def apart(task: str, a: np.ndarray, b: np.ndarray) -> float:
    """Mean over test points of how far two predictive means are apart (see the module docstring)."""
    if task == "regression":
        return float(np.mean(np.abs(a - b)))
    return float(np.mean(np.max(np.abs(a - b), axis=-1)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=os.environ.get("BAYESPRUNE_DATA", "../shared/data"))
    p.add_argument("--datasets", default=",".join((*PAPER_DATASETS, *OTHER)))
    p.add_argument("--candidates", default=",".join(CANDIDATES))
    p.add_argument("--numpyro", action="store_true", help="add NumPyro NUTS (1,000 steps, seed 0 only)")
    p.add_argument("--out", default="benchmarks/results/default_sampler.md")
    p.add_argument("--add", action="store_true",
                   help="keep the measurements already in the .json beside --out and add these candidates")
    args = p.parse_args()
    candidates = args.candidates.split(",") + (["numpyro:prior:1000"] if args.numpyro else [])
    raw_path = Path(args.out).with_suffix(".json")
    rows = json.loads(raw_path.read_text()) if args.add and raw_path.exists() else []
    done = {(r["dataset"], r["candidate"]) for r in rows}
    for name in args.datasets.split(","):
        ds = load_dataset(name, data_dir=args.data_dir, seed=0)
        posterior = api.build_posterior(ds)
        for cand in candidates:
            if (name, cand) in done:
                continue
            seeds = SEEDS[:1] if cand.startswith("numpyro") else SEEDS
            runs, means = [], []
            for seed in seeds:
                stats, mean = run_candidate(ds, posterior, cand, seed)
                runs.append(stats)
                means.append(mean)
                print(f"{name:<24} {cand:<24} seed {seed}: {stats['seconds']:7.1f} s, R-hat {stats['rhat']:.3f}, "
                      f"ESS med {stats['ess_med']:.0f} min {stats['ess_min']:.0f}, "
                      f"{main_metric(ds.task)} {stats['main']:.3f}", flush=True)
            rows.append({"dataset": name, "task": ds.task, "candidate": cand, "runs": runs,
                         "apart": apart(ds.task, *means) if len(means) == 2 else float("nan")})
            raw_path.parent.mkdir(parents=True, exist_ok=True)
            raw_path.write_text(json.dumps(rows, indent=1))
    everything = list(dict.fromkeys(r["candidate"] for r in rows))
    write_markdown(args.out, report(rows, everything, args))


def _gmean(values) -> float:
    v = np.asarray([x for x in values if np.isfinite(x) and x > 0])
    return float(np.exp(np.mean(np.log(v)))) if v.size else float("nan")


def report(rows: list[dict], candidates: list[str], args) -> list[str]:
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    rows = sorted(rows, key=lambda r: (datasets.index(r["dataset"]), candidates.index(r["candidate"])))
    seconds = sum(x["seconds"] for r in rows for x in r["runs"])
    paper = [d for d in datasets if d in PAPER_DATASETS]
    lines = ["# The default sampler, chosen by measurement", "",
             f"Command: `python benchmarks/default_sampler.py{' --numpyro' if args.numpyro else ''}` (its runs "
             f"took {seconds / 60:.0f} min on this machine). {CHAINS} chains; `candidate` is `sampler:init:steps` "
             "(steps per chain including the 50% burn-in); seconds include compilation and the warm start, as a "
             "user waits for them. Per data set and candidate: the worse of the two seeds' fn R-hat (max over "
             "up to 200 test points), fn-ESS/s (median fn-ESS over the test points, per second; mean of the "
             "seeds), min fn-ESS, the test metric (mean of the seeds) and how far the seeds' predictive means "
             "are apart (scaled target; largest class probability).", ""]
    lines += ["| data set | candidate | R-hat fn (worse seed) | fn-ESS/s | min fn-ESS | seconds | test metric | "
              "seeds apart |", "|---|---|---|---|---|---|---|---|"]
    summary = {}
    for r in rows:
        rh = max(x["rhat"] for x in r["runs"])
        eps = float(np.mean([x["ess_med"] / x["seconds"] for x in r["runs"]]))
        summary.setdefault(r["candidate"], []).append((r["dataset"], rh, eps))
        lines.append(f"| {r['dataset']} | {r['candidate']} | {rh:.3f} | {eps:.2f} | "
                     f"{min(x['ess_min'] for x in r['runs']):.0f} | {np.mean([x['seconds'] for x in r['runs']]):.1f} "
                     f"| {np.mean([x['main'] for x in r['runs']]):.3f} | {r['apart']:.4f} |")
    broken = failures(rows)
    lines += ["", "## Summary over the paper's seven data sets", "",
              "| candidate | data sets with fn R-hat <= 1.05 | geometric-mean fn-ESS/s | worst fn R-hat | "
              "broken runs (all ten data sets) |", "|---|---|---|---|---|"]
    scored = []
    for cand in candidates:
        entries = [e for e in summary.get(cand, []) if e[0] in paper]
        if not entries:
            continue
        passing = sum(e[1] <= RHAT_OK for e in entries)
        g = _gmean(e[2] for e in entries)
        scored.append((passing, g, cand))
        lines.append(f"| {cand} | {passing} of {len(entries)} | {g:.2f} | {max(e[1] for e in entries):.2f} | "
                     f"{', '.join(broken.get(cand, [])) or 'none'} |")
    for cand in candidates:
        missing = [d for d in paper if d not in {e[0] for e in summary.get(cand, [])}]
        if missing:
            lines.append(f"\n{cand} has no measurement on {', '.join(missing)} (a run that did not finish in the "
                         "time it was given is not recorded).")
    eligible = [s for s in scored if not s[2].startswith(("lgmh", "numpyro")) and s[2] not in broken]
    if eligible:
        best = max(eligible, key=lambda s: (s[0], s[1]))
        lines += ["", f"By the rule (module docstring), the default is **{best[2]}**: fn R-hat <= {RHAT_OK} on "
                  f"{best[0]} of {len(paper)} paper data sets, geometric-mean fn-ESS/s {best[1]:.2f}, no broken run."]
        mine = {e[0]: e[2] for e in summary[best[2]] if e[0] in paper}
        for ref in ("lgmh:prior:40000", "numpyro:prior:1000", "hmc:prior:4000"):
            theirs = {e[0]: e[2] for e in summary.get(ref, []) if e[0] in mine}
            if theirs:  # over the data sets both were measured on
                ratio = _gmean([mine[d] / theirs[d] for d in theirs])
                lines.append(f"- {ratio:.1f}x the fn-ESS/s of {ref} (geometric mean of the per-data-set ratios over "
                             f"{', '.join(theirs)}).")
    return lines


def failures(rows: list[dict]) -> dict[str, list[str]]:
    """Candidate -> the runs (``dataset seed k``) that broke: a test RMSE more than twice the best run's on that
    data set, or an accuracy more than 10 points below it (a chain that left the posterior's bulk)."""
    out: dict[str, list[str]] = {}
    for name in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == name]
        regression = mine[0]["task"] == "regression"
        values = [x["main"] for r in mine for x in r["runs"]]
        best = min(values) if regression else max(values)
        for r in mine:
            for k, x in enumerate(r["runs"]):
                bad = x["main"] > 2 * best if regression else x["main"] < best - 0.10
                if bad:
                    out.setdefault(r["candidate"], []).append(f"{name} seed {k}")
    return out

if __name__ == "__main__":
    main()
