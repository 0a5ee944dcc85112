"""Size: time and memory per effective sample against rows and parameters, full-batch HMC against SG-MCMC.

Synthetic regression (10 standard-normal features, a smooth nonlinear target plus noise sd 0.5, 1,000 test rows)
in two sweeps, each cell in a fresh process (peak resident memory ``VmHWM`` is the cell's own):

1. **Rows** 10^3 -> 10^6 with the network 10-12-1 (145 parameters);
2. **Parameters** 10^2 -> 10^5 (hidden 8, 96, 100-100, 300-300) with 2,000 rows.

Samplers: BlackJAX HMC (full batch, 16 leapfrog steps, window adaptation, 1,000 steps from random starts) and
SGHMC / SGLD (minibatches of 128 rows, the tuned learning rate and Fisher metric, 20,000 steps from minibatch-
optimised starts): the defaults of ``bayesprune run --sampler hmc|sghmc|sgld`` but shorter for HMC. A cell whose
full run would take too long here is timed on a short run (``timed``) and its time per effective sample is
projected with the ESS per step the same sampler reached at the largest size it ran in full (marked ``*``); timing
runs start from random networks (no warm start).
ESS is the within-chain function-space ESS: each chain's ESS of each test prediction, summed over the 4 chains,
median over the test points. The pooled ESS of the least certain prediction (``ess_fn_min``, reported too) is
about the number of chains in every cell: the chains settle in different modes and the pooled ESS measures that,
not how fast a sampler moves within its mode. For SG-MCMC the ESS measures how fast the chains explore their own
(biased, docs/METHOD.md) stationary law. The per-gradient times of the HMC
cells also fit the two constants of the size guide (``bayesprune.samplers.sizing``), printed against the ones
it uses.

``--sg-starts`` measures instead what the stochastic-gradient samplers' early-stopped starts change
(``results/size_sg_starts.md``): the parameters sweep's SGHMC cells that run in full, each from starts trained to
the end (``default_init_holdout`` 0, as before) and from early-stopped ones (the default), side by side, with
test RMSE, PICP90 and NLL. ``--seeds 0,1,2,3,4`` repeats each of those cells on other sampling seeds (the data
stay the same) and adds a summary over the seeds.

Usage: python benchmarks/size.py [--out benchmarks/results/size.md] [--quick] [--sg-starts [--seeds 0,1,...]]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from common import write_results

CHILD = r"""
import json, sys, time
import numpy as np
def hwm():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM")) / 1024
from bayesprune import api
from bayesprune.data.datasets import Dataset
from bayesprune.samplers.registry import settings_class
cell = json.loads(sys.argv[1])
if "holdout" in cell:  # the early-stopped start's held-out share, for the --sg-starts comparison
    if cell["holdout"] is not None:
        settings_class(cell["sampler"]).default_init_holdout = cell["holdout"]
rng = np.random.default_rng(0)
n = cell["rows"] + 1000
X = rng.normal(size=(n, 10)).astype(np.float32)
f = np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 - X[:, 2] * X[:, 3] + 0.3 * X[:, 4] + np.tanh(2 * X[:, 5])
y = ((f + rng.normal(scale=0.5, size=n)) / 4).astype(np.float32)
ds = Dataset("synthetic", "regression", X[:-1000], y[:-1000], X[-1000:], y[-1000:],
             [f"x{i}" for i in range(10)], hidden=tuple(cell["hidden"]))
post = api.build_posterior(ds, hidden=tuple(cell["hidden"]))
t = time.perf_counter()
# a timing run measures steps only: it starts from random networks (its warm start would cost more than it)
init = None if cell["full"] else "prior"
seed = cell.get("seed", 0)
ps = api.sample(ds, posterior=post, sampler=cell["sampler"], chains=4, samples=cell["steps"], seed=seed, init=init)
m, scored = api.evaluate_stage(ps, ds)
from bayesprune._arviz import az
out = np.asarray(scored.fn_outputs, np.float64)  # (chain, draw, test point)
# within-chain ESS: each chain's ESS of each test prediction, summed over the chains, median over test points
within = sum(az.ess(az.convert_to_dataset({"f": out[c:c + 1]}))["f"].values for c in range(out.shape[0]))
s = ps.result.seconds
grads = settings_class(cell["sampler"])().grads_per_step()
extra = {}
if "holdout" in cell:  # the ensemble of the chains' starts (recomputed: the same seeded starts) on the test rows
    import jax.numpy as jnp
    from scipy.special import logsumexp
    from bayesprune.stages.sample import chain_starts
    starts = chain_starts(post, ds, 4, cell["sampler"], "optimised", None, seed)
    L = np.stack([np.asarray(post.pointwise_loglik(jnp.asarray(z), ds.X_test, ds.y_test)) for z in starts])
    extra["ensemble_nll"] = float(-np.mean(logsumexp(L, axis=0) - np.log(len(starts))))
print(json.dumps({**cell, **extra, "params": post.spec.n_params, "compile_s": s["compile"],
                  "init_s": s.get("init", 0.0),
                  "run_s": s["warmup"] + s["sampling"], "ess_fn": float(np.median(within)),
                  "ess_fn_min": m.ess_fn_min, "rhat_fn": m.rhat_fn_max,
                  "rmse": m.rmse, "picp90": m.picp90, "nll": m.nll, "grads_per_step": grads, "peak_mib": hwm()}))
"""

FULL = {"hmc": 1000, "sghmc": 20000, "sgld": 20000}  # steps of a full run (half warm-up)
TIMED = {"hmc": 20, "sghmc": 2000, "sgld": 2000}  # steps of a timing run


def cells(quick: bool) -> list[dict]:
    rows = [1000, 10_000] if quick else [1000, 10_000, 100_000, 1_000_000]
    hidden = [[8], [96]] if quick else [[8], [96], [100, 100], [300, 300]]
    out = []
    for r in rows:
        for sampler in FULL:
            full = sampler != "hmc" or r <= 10_000
            out.append({"sweep": "rows", "rows": r, "hidden": [12], "sampler": sampler, "full": full})
    for h in hidden:
        for sampler in FULL:
            full = sum(h) <= 96 if sampler == "hmc" else sum(h) <= 200
            out.append({"sweep": "params", "rows": 2000, "hidden": h, "sampler": sampler, "full": full})
    for c in out:
        c["steps"] = FULL[c["sampler"]] if c["full"] else (6 if c["rows"] >= 1_000_000 else TIMED[c["sampler"]])
    return out


def run_cell(cell: dict) -> dict:
    env = dict(os.environ, BAYESPRUNE_JIT_CACHE="0")
    p = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cell)], capture_output=True, text=True, env=env,
                       cwd=Path(__file__).parent)
    if p.returncode:
        raise RuntimeError(f"cell {cell} failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def project(results: list[dict]) -> None:
    """Seconds per step and per effective sample; ESS per step carried from the largest full run."""
    for r in results:
        r["s_per_step"] = r["run_s"] / r["steps"]
    for sweep in ("rows", "params"):
        for sampler in FULL:
            mine = [r for r in results if r["sweep"] == sweep and r["sampler"] == sampler]
            full = [r for r in mine if r["full"]]
            ref = max(full, key=lambda r: (r["rows"], r["params"])) if full else None
            for r in mine:
                if r["full"]:
                    r["s_per_ess"] = r["run_s"] / max(r["ess_fn"], 1e-9)
                    r["projected"] = False
                elif ref is not None:
                    ess_per_step = ref["ess_fn"] / ref["steps"]
                    r["s_per_ess"] = r["s_per_step"] / max(ess_per_step, 1e-12)
                    r["projected"] = True


def fit_constants(results: list[dict]) -> tuple[float, float]:
    """Least squares of seconds per gradient per chain per row on (1, parameters), over the HMC cells."""
    rows = [r for r in results if r["sampler"] == "hmc"]
    y = np.array([r["run_s"] / (r["steps"] * r["grads_per_step"] * 4 * r["rows"]) for r in rows])
    A = np.column_stack([np.ones(len(rows)), [r["params"] for r in rows]])
    (a, b), *_ = np.linalg.lstsq(A, y, rcond=None)
    return float(a), float(b)


def crossing(results: list[dict]) -> str:
    rows = sorted({r["rows"] for r in results if r["sweep"] == "rows"})
    for n in rows:
        by = {r["sampler"]: r for r in results if r["sweep"] == "rows" and r["rows"] == n}
        if "hmc" in by and "sghmc" in by and by["sghmc"]["s_per_ess"] < by["hmc"]["s_per_ess"]:
            return f"{n:,} rows"
    return "not within the rows measured"


def table(results: list[dict], a: float, b: float) -> list[str]:
    from bayesprune.samplers import sizing

    lines = [
        "# Size: time and memory per effective sample", "",
        "`python benchmarks/size.py` on this machine (2 CPU cores, JAX on CPU), 4 chains per cell, each cell in a "
        "fresh process. s/step: sampling seconds (warm-up and draws, compilation and the optimised start apart) "
        "per step of 4 chains. fn-ESS: within-chain ESS of the test predictions (each chain's, summed over the "
        "chains; median test point); pooled: the pooled ESS of the least certain prediction, which counts modes "
        "more than mixing (about one per chain when they disagree). s/ESS: sampling seconds per within-chain "
        "effective sample; "
        "`*` projected from a short timing run with the ESS per step of the largest full run of the same sampler "
        "and sweep. Peak: the cell process's resident high-water mark.", "",
    ]
    for sweep, title in (("rows", "Rows (network 10-12-1, 145 parameters)"),
                         ("params", "Parameters (2,000 rows)")):
        lines += [f"## {title}", "",
                  "| rows | parameters | sampler | steps | s/step | fn-ESS | pooled | s/ESS | RMSE | PICP90 | init s "
                  "| peak MiB |",
                  "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in [r for r in results if r["sweep"] == sweep]:
            ess = f"{r['ess_fn']:.0f} | {r['ess_fn_min']:.0f}" if r["full"] else "timed | timed"
            spe = f"{r['s_per_ess']:.3g}{'*' if r.get('projected') else ''}" if "s_per_ess" in r else "n/a"
            lines.append(f"| {r['rows']:,} | {r['params']:,} | {r['sampler']} | {r['steps']:,} | "
                         f"{r['s_per_step']:.3g} | {ess} | {spe} | {r['rmse']:.3f} | {r['picp90']:.2f} | "
                         f"{r['init_s']:.1f} | {r['peak_mib']:,.0f} |")
        lines.append("")
    lines += [
        f"Where they cross (rows sweep): SGHMC costs less per effective sample than full-batch HMC from "
        f"**{crossing(results)}** on.", "",
        f"Size-guide constants fitted to the HMC cells' seconds per gradient per chain: {a:.3g} s per row + "
        f"{b:.3g} s per row and parameter; `bayesprune.samplers.sizing` uses {sizing.ROW_SECONDS:.3g} and "
        f"{sizing.ROW_PARAM_SECONDS:.3g} (set from this fit).", "",
    ]
    return lines


def sg_starts(out: str | None, seeds: list[int]) -> int:
    """The parameters sweep's full SGHMC cells from starts trained to the end and from early-stopped ones."""
    out = out or str(Path(__file__).parent / "results" / "size_sg_starts.md")
    results = []
    for seed in seeds:
        for cell in (c for c in cells(False) if c["sweep"] == "params" and c["sampler"] == "sghmc" and c["full"]):
            for holdout in (0.0, None):
                r = run_cell({**cell, "holdout": holdout, "seed": seed})
                results.append(r)
                print(f"seed {seed} {r['params']:>7,} params holdout {r['holdout']}: RMSE {r['rmse']:.3f} "
                      f"PICP90 {r['picp90']:.3f} NLL {r['nll']:.3f} (starts' ensemble {r['ensemble_nll']:.3f})",
                      flush=True)
    seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else f"sampling seeds {', '.join(map(str, seeds))}"
    lines = ["# Stochastic-gradient chains from early-stopped starts", "",
             "`python benchmarks/size.py --sg-starts"
             + ("" if seeds == [0] else f" --seeds {','.join(map(str, seeds))}") + "`: the parameters sweep of "
             "size.md (2,000 rows of the synthetic regression, 1,000 test rows), SGHMC with its defaults (20,000 "
             f"steps of 4 chains, tuned learning rate, Fisher metric), {seed_text}, each cell from starts trained "
             "for all 10,000 Adam steps and from starts stopped early on 10% of the training rows then refitted on "
             "all of them (the default; docs/METHOD.md). The starts' ensemble: the mixture of the 4 chains' starts "
             "on the test rows. Seconds: the cell's compilation, start and sampling.", ""]
    label = {True: "trained to the end", False: "early-stopped (default)"}
    if len(seeds) > 1:
        lines += ["## Over the seeds", "",
                  "Mean over the seeds (min - max); `PICP90 in [0.85, 0.95]`: seeds whose 90% intervals cover "
                  "85-95% of the test rows.", "",
                  "| parameters | start | RMSE | PICP90 | PICP90 in [0.85, 0.95] | NLL | starts' ensemble NLL |",
                  "|---:|---|---:|---:|---:|---:|---:|"]
        for params in sorted({r["params"] for r in results}):
            for plain in (True, False):
                rs = [r for r in results if r["params"] == params and (r["holdout"] is not None) == plain]
                def span(key, fmt, rs=rs):
                    v = [r[key] for r in rs]
                    return f"{np.mean(v):{fmt}} ({min(v):{fmt}} - {max(v):{fmt}})"
                inside = sum(0.85 <= r["picp90"] <= 0.95 for r in rs)
                lines.append(f"| {params:,} | {label[plain]} | {span('rmse', '.3f')} | {span('picp90', '.3f')} | "
                             f"{inside} / {len(rs)} | {span('nll', '.3f')} | {span('ensemble_nll', '.3f')} |")
        lines += ["", "## Every cell", ""]
    lines += ["| parameters | start | seed | RMSE | PICP90 | NLL | starts' ensemble NLL | init s | seconds |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['params']:,} | {label[r['holdout'] is not None]} | {r['seed']} | {r['rmse']:.3f} | "
                     f"{r['picp90']:.3f} | {r['nll']:.3f} | {r['ensemble_nll']:.3f} | "
                     f"{r['init_s']:.1f} | {r['compile_s'] + r['init_s'] + r['run_s']:.0f} |")
    write_results(out, lines, results)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="default: benchmarks/results/size.md (size_sg_starts.md)")
    parser.add_argument("--quick", action="store_true", help="the two smallest sizes of each sweep")
    parser.add_argument("--sg-starts", action="store_true",
                        help="SGHMC from starts trained to the end and from early-stopped ones (params sweep)")
    parser.add_argument("--seeds", default="0",
                        help="with --sg-starts: comma-separated sampling seeds (default 0; the data stay the same)")
    args = parser.parse_args(argv)
    if args.sg_starts:
        return sg_starts(args.out, [int(s) for s in args.seeds.split(",")])
    args.out = args.out or str(Path(__file__).parent / "results" / "size.md")
    results = []
    for cell in cells(args.quick):
        r = run_cell(cell)
        results.append(r)
        print(f"{r['sweep']:6} {r['rows']:>9,} rows {r['params']:>7,} params {r['sampler']:6} "
              f"{r['run_s']:8.1f} s  ESS {r['ess_fn']:8.1f}  peak {r['peak_mib']:7.0f} MiB", flush=True)
    project(results)
    a, b = fit_constants(results)
    lines = table(results, a, b)
    write_results(args.out, lines, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
