"""bayesprune against the field, in one run on one machine: speed, sampling efficiency, memory.

For iris (4-12-3), ionosphere (34-50-2) and abalone (8-12-1) with the paper's priors it measures

- bayesprune's samplers (lgmh, mala, hmc, nuts), 1 and 4 chains (``--quick``: 4 chains, and lgmh with 1; NUTS
  tree depth at most 6 for all three NUTS implementations; the prune + resample stage on ionosphere only);
- NumPyro NUTS and plain BlackJAX NUTS / MALA on the same log posterior, 4 chains (benchmarks/peers.py);
- a pure-NumPy reference of the paper's per-sample loop (benchmarks/numpy_reference.py), once with the authors'
  per-weight update loops and once with each row's update vectorised;

and reports samples/s, gradient evaluations/s, function-space ESS/s (bulk ESS of the posterior-predictive
test-point means, median over test points), weight-space median ESS/s, compile and run time apart, peak
resident memory (VmHWM, reset before each configuration), and the time of the prune + resample stage. Then
the step profile and scaling (benchmarks/profile_step.py) and (not with ``--quick``) the peak memory of a
50,000-draw ionosphere run in a fresh process (benchmarks/memory.py).

Usage: python benchmarks/run.py [--quick] [--data-dir DIR] [--out benchmarks/results/benchmarks.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import jax  # noqa: E402
import numpy as np  # noqa: E402
from common import write_markdown  # noqa: E402

from bayesprune import api  # noqa: E402
from bayesprune.data import load_dataset  # noqa: E402
from bayesprune.evaluation import convergence  # noqa: E402
from bayesprune.evaluation.diagnostics import function_space_summaries  # noqa: E402
from bayesprune.predictive import posterior_predictive  # noqa: E402

DATASETS = ("iris", "ionosphere", "abalone")
FULL = {"lgmh": 20000, "mala": 20000, "hmc": 2000, "nuts": 200}
QUICK = {"lgmh": 4000, "mala": 4000, "hmc": 400, "nuts": 100}
# NUTS tree depth for all three NUTS implementations (quick: capped so a poorly adapted short warm-up
# cannot spend 1,023 gradients per step; the per-gradient comparison stays like for like)
NUTS_DEPTH = {"full": 10, "quick": 6}
NUMPY_SECONDS = {"full": 8.0, "quick": 2.5}
QUICK_PRUNE = ("hmc", 4, "ionosphere")  # --quick times the prune + resample stage once
# samples/s of the authors' public code on a 2-core machine, as docs/METHOD.md reports them (for context only)
PAPER_RATES = {"iris": 72.0, "ionosphere": 3.2, "abalone": 2.3}


def peak_rss_reset() -> None:
    """Reset this process's peak RSS (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def peak_rss_mib() -> float:
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return float("nan")


def median_ess(values: np.ndarray) -> float:
    """Median bulk ESS over the quantities that move within some chain; chains that never move (every step
    rejected) count as one draw each."""
    moving = np.ptp(values, axis=1).max(axis=0) > 0
    if not moving.any():
        return float(values.shape[0])
    return float(np.nanmedian(convergence.ess_bulk(values[..., moving])))


def efficiency(posterior, ds, draws: np.ndarray, run_s: float) -> dict:
    """Median function-space and weight-space bulk ESS per second of sampling."""
    draws = np.asarray(draws)
    if draws.shape[1] > 1000:
        draws = draws[:, np.linspace(0, draws.shape[1] - 1, 1000).round().astype(int)]
    pred = posterior_predictive(posterior, draws, ds.X_test)
    fn = function_space_summaries(pred.outputs)
    ess_fn = median_ess(fn)
    n = posterior.spec.n_params
    idx = np.unique(np.linspace(0, n - 1, min(n, 200)).round().astype(int))
    rhat_fn = convergence.rhat(fn)
    return {"ess_fn": ess_fn, "ess_fn_per_s": ess_fn / run_s, "ess_w_per_s": median_ess(draws[..., idx]) / run_s,
            "rhat_fn": float(np.nanmax(rhat_fn)) if np.isfinite(rhat_fn).any() else float("nan")}


def bench_bayesprune(ds, sampler: str, chains: int, steps: int, *, prune_stage: bool, nuts_depth: int) -> dict:
    peak_rss_reset()
    config = {"max_num_doublings": nuts_depth} if sampler == "nuts" else None
    ps = api.sample(ds, sampler=sampler, chains=chains, samples=steps, seed=0, sampler_settings=config)
    r = ps.result
    run_s = r.seconds["warmup"] + r.seconds["sampling"]
    grads_per_step = float(np.sum(r.n_grad_evals)) / max(r.n_steps * chains, 1)
    row = {"tool": "bayesprune", "sampler": sampler, "chains": chains, "steps": steps,
           "samples_per_s": steps * chains / run_s, "grads_per_s": grads_per_step * steps * chains / run_s,
           "grads_per_step": grads_per_step, "compile_s": r.seconds["compile"], "run_s": run_s,
           "accept": r.acceptance_rate, **efficiency(ps.posterior, ds, r.draws, run_s)}
    row["prune_resample_s"] = None
    if prune_stage:  # STN 75%, then 1,000 resampling steps with the same sampler (compile included)
        t0 = time.perf_counter()
        pr = api.prune(ps, criterion="stn", rate=0.75, seed=0)
        res = api.resample(ps, ds, pr, samples=1000, seed=0, sampler_settings=config)
        row["prune_resample_s"] = time.perf_counter() - t0
        row["prune_resample_compile_s"] = res.result.seconds["compile"]
    row["peak_mib"] = peak_rss_mib()
    row["mala_step"] = float(np.mean(r.params["step_size"])) if sampler == "mala" else None
    return row


def bench_peer(name: str, fn, posterior, ds, chains: int, steps: int, **kw) -> dict:
    peak_rss_reset()
    warmup = steps // 2
    out = fn(posterior, ds, chains=chains, warmup=warmup, draws=steps - warmup, **kw)
    tool, sampler = name.split(" ")
    row = {"tool": tool, "sampler": sampler, "chains": chains, "steps": steps,
           "samples_per_s": out["steps"] / out["run_s"], "grads_per_s": out["grad_evals"] / out["run_s"],
           "grads_per_step": out["grad_evals"] / out["steps"], "compile_s": out["compile_s"],
           "run_s": out["run_s"], "accept": float("nan"), "prune_resample_s": None,
           **efficiency(posterior, ds, out["draws"], out["run_s"])}
    row["peak_mib"] = peak_rss_mib()
    return row


def bench_numpy(ds, seconds: float, per_weight: bool) -> dict:
    """The NumPy reference: the authors' loops (``per_weight``) or with each row's update vectorised."""
    from numpy_reference import LoopLGMH

    peak_rss_reset()
    ref = LoopLGMH(ds.X_train, ds.y_train, ds.X_test, ds.y_test, ds.hidden[0], ds.task == "classification",
                   per_weight=per_weight)
    out = ref.run(10**9, max_seconds=seconds)
    return {"tool": "numpy-loops" if per_weight else "numpy-rows", "sampler": "lgmh", "chains": 1,
            "steps": out["samples"],
            "samples_per_s": out["samples_per_s"], "grads_per_s": float("nan"), "grads_per_step": float("nan"),
            "compile_s": 0.0, "run_s": out["seconds"], "accept": out["acceptance"], "ess_fn_per_s": float("nan"),
            "ess_w_per_s": float("nan"), "ess_fn": float("nan"), "rhat_fn": float("nan"),
            "prune_resample_s": None, "peak_mib": peak_rss_mib()}


def _f(v, fmt: str) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    return format(v, fmt)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer steps and configurations (under 5 minutes)")
    p.add_argument("--data-dir", default=os.environ.get("BAYESPRUNE_DATA", "../shared/data"))
    p.add_argument("--out", default=None, help="Markdown table (default benchmarks/results/benchmarks[-quick].md)")
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--skip-extras", action="store_true", help="no profile, scaling or 50,000-draw memory run")
    args = p.parse_args()
    try:
        import numpyro  # noqa: F401
    except ImportError:
        sys.exit("benchmarks need the peers: pip install -e '.[bench]' (or: make bench)")
    mode = "quick" if args.quick else "full"
    steps = QUICK if args.quick else FULL
    out = args.out or f"benchmarks/results/benchmarks{'-quick' if args.quick else ''}.md"
    from peers import blackjax_mala, blackjax_nuts, numpyro_nuts

    t_start = time.perf_counter()
    rows = []
    for name in args.datasets.split(","):
        ds = load_dataset(name, data_dir=args.data_dir, seed=0)
        posterior = api.build_posterior(ds)
        ds_rows = [bench_numpy(ds, NUMPY_SECONDS[mode], per_weight) for per_weight in (True, False)]
        configs = [(s, c) for s in ("lgmh", "mala", "hmc", "nuts") for c in (1, 4)]
        if args.quick:
            configs = [("lgmh", 1)] + [(s, 4) for s in ("lgmh", "mala", "hmc", "nuts")]
        for sampler, chains in configs:
            ds_rows.append(bench_bayesprune(ds, sampler, chains, steps[sampler], nuts_depth=NUTS_DEPTH[mode],
                                            prune_stage=not args.quick or (sampler, chains, name) == QUICK_PRUNE))
        mala_step = next(r["mala_step"] for r in ds_rows if r.get("mala_step"))
        for chains in (4,):  # peers: 4 vectorised chains (NUTS at 1 chain would double the longest part)
            ds_rows.append(bench_peer("numpyro nuts", numpyro_nuts, posterior, ds, chains, steps["nuts"],
                                      max_depth=NUTS_DEPTH[mode]))
            ds_rows.append(bench_peer("blackjax nuts", blackjax_nuts, posterior, ds, chains, steps["nuts"],
                                      max_depth=NUTS_DEPTH[mode]))
            ds_rows.append(bench_peer("blackjax mala", blackjax_mala, posterior, ds, chains, steps["mala"],
                                      step_size=mala_step))
        for r in ds_rows:
            r.update(dataset=name, n_params=posterior.spec.n_params, n_train=len(ds.y_train))
            print(f"{name:<11} {r['tool']:<10} {r['sampler']:<5} x{r['chains']}: {r['samples_per_s']:10,.1f} "
                  f"samples/s {_f(r['grads_per_s'], ',.0f'):>9} grads/s  fn-ESS/s {_f(r['ess_fn_per_s'], '.2f')}",
                  flush=True)
        rows += ds_rows
    lines = report(rows, steps, mode, time.perf_counter() - t_start)
    if not args.skip_extras:
        from profile_step import profile_section

        lines += profile_section(args.data_dir, quick=args.quick, figure_dir=Path(out).parent)
    if not args.skip_extras and not args.quick:
        from memory import measure

        r = measure(args.data_dir, 50000)
        lines += ["## Peak memory of a long run", "",
                  f"4 chains x 50,000 LG-MH draws on ionosphere (1,852 parameters) in a fresh process: peak RSS "
                  f"**{r['peak_mib']:.0f} MiB**, of which {r['after_import_mib']:.0f} MiB after imports and data; "
                  f"kept draws {r['kept']} (at most 1,000 per chain; pruning scores use running moments), "
                  f"{r['seconds']:.1f} s.", ""]
    lines.append(f"Total benchmark wall time: {time.perf_counter() - t_start:.0f} s.")
    write_markdown(out, lines)


def report(rows: list[dict], steps: dict, mode: str, seconds: float) -> list[str]:
    lines = [
        "# Benchmark: bayesprune against the field", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}, Python "
        f"{platform.python_version()}, JAX {jax.__version__} on {jax.devices()[0].platform}. "
        f"Command: `python benchmarks/run.py{' --quick' if mode == 'quick' else ''}` ({mode} mode).", "",
        "Steps per chain (incl. 50% warm-up): " + ", ".join(f"{k} {v:,}" for k, v in steps.items())
        + "; peers use the same counts as bayesprune's sampler of the same kind. samples/s = chain steps of all "
        "chains per second, compile excluded. fn-ESS/s = median over test points of the bulk ESS of the "
        "posterior-predictive test means, per second of sampling. Peak MiB = peak RSS of the benchmark process "
        "during that configuration (includes the imported libraries).", "",
        "| data set | params | tool | sampler | chains | samples/s | grads/step | grads/s | fn-ESS/s | w-ESS/s | "
        "R-hat fn | accept | compile s | run s | prune+resample s | peak MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['n_params']} | {r['tool']} | {r['sampler']} | {r['chains']} | "
            f"{r['samples_per_s']:,.1f} | {_f(r['grads_per_step'], '.1f')} | {_f(r['grads_per_s'], ',.0f')} | "
            f"{_f(r['ess_fn_per_s'], '.2f')} | {_f(r['ess_w_per_s'], '.2f')} | {_f(r['rhat_fn'], '.2f')} | "
            f"{_f(r['accept'], '.2f')} | {r['compile_s']:.1f} | {r['run_s']:.1f} | "
            f"{_f(r['prune_resample_s'], '.1f')} | {_f(r['peak_mib'], '.0f')} |")
    lines += ["", "## Ratios (same run)", "",
              "lgmh, 1 chain, samples/s against the NumPy reference with the authors' per-weight loops "
              "(numpy-loops), against the same with each row's update vectorised (numpy-rows), and against the "
              "authors' code as measured on a 2-core machine (docs/METHOD.md) (not this run).", "",
              "| data set | lgmh 1 chain vs numpy-loops | vs numpy-rows | vs authors' code (measured rate) | "
              "bayesprune nuts vs NumPyro nuts (grads/s) "
              "| bayesprune nuts vs BlackJAX nuts (grads/s) | bayesprune mala vs BlackJAX mala (grads/s) | "
              "fastest bayesprune vs fastest peer (grads/s) |", "|---|---|---|---|---|---|---|---|"]
    best = {}
    for ds in dict.fromkeys(r["dataset"] for r in rows):
        sel = [r for r in rows if r["dataset"] == ds]

        def get(tool, sampler, chains=4, rows_=sel):
            return next((r for r in rows_ if r["tool"] == tool and r["sampler"] == sampler
                         and r["chains"] == chains), None)

        loops, rows_ref = get("numpy-loops", "lgmh", 1), get("numpy-rows", "lgmh", 1)
        lg1 = get("bayesprune", "lgmh", 1)
        paper = f"{lg1['samples_per_s'] / PAPER_RATES[ds]:,.0f}x ({PAPER_RATES[ds]:g}/s)" \
            if lg1 and ds in PAPER_RATES else "-"
        ratio = lambda a, b, key: (a[key] / b[key]) if a and b else float("nan")  # noqa: E731
        ours = max((r for r in sel if r["tool"] == "bayesprune"), key=lambda r: r["grads_per_s"])
        peer = max((r for r in sel if r["tool"] in ("numpyro", "blackjax")), key=lambda r: r["grads_per_s"])
        lines.append(
            f"| {ds} | **{ratio(lg1, loops, 'samples_per_s'):,.0f}x** | {ratio(lg1, rows_ref, 'samples_per_s'):,.0f}x"
            f" | {paper} | "
            f"{ratio(get('bayesprune', 'nuts'), get('numpyro', 'nuts'), 'grads_per_s'):.2f}x | "
            f"{ratio(get('bayesprune', 'nuts'), get('blackjax', 'nuts'), 'grads_per_s'):.2f}x | "
            f"{ratio(get('bayesprune', 'mala'), get('blackjax', 'mala'), 'grads_per_s'):.2f}x | "
            f"{ours['sampler']} x{ours['chains']} {ours['grads_per_s']:,.0f} vs {peer['tool']} {peer['sampler']} "
            f"x{peer['chains']} {peer['grads_per_s']:,.0f} = {ours['grads_per_s'] / peer['grads_per_s']:.2f}x |")
        for r in sel:
            if r["tool"] == "bayesprune" and r["chains"] == 4:
                best.setdefault(r["sampler"], []).append(r["ess_fn_per_s"])
    geo = {s: float(np.exp(np.mean(np.log(np.maximum(v, 1e-9))))) for s, v in best.items()}
    winner = max(geo, key=geo.get)
    caveat = (f" Quick mode: NUTS here runs at tree depth {NUTS_DEPTH['quick']} (`run`'s NUTS at "
              f"{NUTS_DEPTH['full']}) on {steps['nuts']} steps; choose defaults from the full benchmark."
              if mode == "quick" else "")
    lines += ["", "## Default sampler by function-space ESS/s", "",
              "Geometric mean over the data sets of fn-ESS/s, 4 chains: "
              + ", ".join(f"{s} {v:.2f}" for s, v in sorted(geo.items(), key=lambda kv: -kv[1]))
              + f". Best: **{winner}**.{caveat}", "",
              f"Wall time of the table above: {seconds:.0f} s.", ""]
    print(f"best sampler by fn-ESS/s: {winner} ({geo})")
    return lines


if __name__ == "__main__":
    main()
