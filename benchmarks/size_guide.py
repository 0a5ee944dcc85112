"""The size guide against whole runs: fit its run constants and check its estimates.

``bayesprune.samplers.sizing`` estimates a whole ``bayesprune run`` as

    stages * STAGE_SECONDS + SAMPLING_SCALE * sampling + EVALUATION_GRADIENTS * evaluation

(``sampling``: the gradient-timing estimate of the chains' steps and their optimised starts; ``evaluation``: one
gradient's rows for every kept draw of every sampled stage), the last two times ``speed``, the machine's gradient
time over the reference machine's as ``sizing.machine_speed`` probes it (``--measure`` records it beside the run;
1 where a run has none). This script fits the three constants to whole runs measured **alone** on this machine,
by least squares on the logarithm of the time (a run 2x too slow and one 2x too fast weigh the same), and prints
every run's measured time beside the estimate of the guide before (sampling alone) and now (the constants
``sizing`` uses, which were set from this fit, rounded).

Runs fitted: the UCI runs of ``benchmarks/uci.py`` (``results/uci_runs``: the full sample and five resamplings,
90% and the four ``--rate auto`` candidates) and the guide's own timing runs (``results/size_guide_runs``, made
by ``--measure``: a default ``bayesprune run`` of the data and network named, timed in a child process).
Shown but not fitted: the pipeline benchmark's runs (``results/pipeline_runs``, variants with one resampling),
which ran two processes at a time on the two cores, so about twice as slow as alone.

Usage: python benchmarks/size_guide.py [--measure NAME --dataset D [--hidden H] [--sampler S]] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from common import write_results

from bayesprune.api import build_posterior
from bayesprune.experiments import runner
from bayesprune.samplers import sizing
from bayesprune.samplers.registry import settings_class
from bayesprune.settings import RunConfig
from bayesprune.stages.sample import kept_per_chain

RESULTS = Path(__file__).parent / "results"
OWN_RUNS = RESULTS / "size_guide_runs"
PIPELINE_VARIANTS = ("draws", "optimised", "stacking", "all-chains")  # one resampling each (no rate guard)


# resampling steps per chain of the runs stored before a run recorded its own (``resample_samples``): MCLMC
# resampled 20,000 steps by default until benchmarks/pipeline.py's `resample-long` made it 40,000
RESAMPLE_SAMPLES_BEFORE = {"mclmc": 20000}


def resample_length(r: dict) -> int:
    """The resampling steps per chain a stored run (``sampler``, maybe ``resample_samples``) was made with."""
    default = settings_class(r["sampler"]).default_resample_samples
    return int(r.get("resample_samples") or RESAMPLE_SAMPLES_BEFORE.get(r["sampler"], default))


def features(sampler: str, rows: int, params: int, stages: int, resample_samples: int | None = None,
             speed: float | None = None, samples: int | None = None) -> tuple[float, float, float, float]:
    """(stages, sampling, evaluation, the guide's estimate now) of a run of ``samples`` steps (default: the
    sampler's) and ``resample_samples`` steps per resampling (default: the sampler's), ``stages - 1``
    resamplings, 4 chains, on a machine whose gradients take ``speed`` times the reference machine's (``None``: 1;
    the sampling and evaluation returned are scaled by it)."""
    cls = settings_class(sampler)
    kept = kept_per_chain(RunConfig.chains, params)
    each = cls.default_resample_samples if resample_samples is None else resample_samples
    est = sizing.estimate(cls(), rows=rows, params=params, chains=RunConfig.chains, stages=stages, kept=kept,
                          samples=samples, resample_samples=(stages - 1) * each, speed=speed)
    scale = 1.0 if speed is None else speed
    return float(stages), scale * est.sampling_seconds, scale * est.evaluation_seconds, est.seconds


def run_features(r: dict) -> tuple[float, float, float, float]:
    """:func:`features` of a record (``sampler``, ``rows``, ``params``, ``stages``, maybe ``speed``) at the
    lengths it ran."""
    return features(r["sampler"], r["rows"], r["params"], r["stages"], resample_length(r), r.get("speed"),
                    r.get("samples"))


def records() -> tuple[list[dict], list[dict]]:
    """(runs fitted, runs checked, runs shown only): name, sampler, rows, params, stages, measured seconds, maybe
    speed. Fitted: the runs timed alone with the machine's speed beside them; checked: those timed alone without
    it (the UCI runs), taken at speed 1; shown: the pipeline benchmark's, two processes at a time."""
    from uci import STAGES as UCI_STAGES  # uci.py imports this module
    from uci import alone

    timed, shown = [], []
    for f in sorted((RESULTS / "uci_runs").glob("*.json")):
        r = json.loads(f.read_text())
        if not alone(r):  # other processes shared the CPU: its seconds are no timing
            continue
        timed.append({"name": f"uci/{r['dataset']} split {r['split']}", "sampler": r["sampler"],
                      "rows": r["rows_train"], "params": r["n_params"], "stages": UCI_STAGES,
                      "resample_samples": resample_length(r), "seconds": r["seconds"], "source": "uci.py"})
    for f in sorted(OWN_RUNS.glob("*.json")):
        r = json.loads(f.read_text())
        timed.append({**r, "source": "size_guide.py"})
    for variant in PIPELINE_VARIANTS:
        for f in sorted((RESULTS / "pipeline_runs" / variant).glob("*.json")):
            r = json.loads(f.read_text())
            shown.append({"name": f"{r['dataset']} seed {r['seed']} ({variant})", "sampler": "mclmc",
                          "rows": r["rows_train"], "params": r["n_params"], "stages": 2,
                          "resample_samples": RESAMPLE_SAMPLES_BEFORE["mclmc"],  # these variants predate 40,000
                          "seconds": r["seconds"], "source": "pipeline.py"})
    fitted = [r for r in timed if r.get("speed") is not None and not shortened(r)]
    return fitted, [r for r in timed if r not in fitted], shown


def shortened(r: dict) -> bool:
    """Whether a stored run sampled fewer steps than its sampler's default (as ``--sampler auto`` runs MCLMC near
    the limit): checked, not fitted, so the constants stay fitted to default runs."""
    default = settings_class(r["sampler"]).default_samples
    return int(r.get("samples") or default) < default


def fit(runs: list[dict]) -> np.ndarray:
    """(STAGE_SECONDS, SAMPLING_SCALE, EVALUATION_GRADIENTS) minimising the squared log ratio of estimate to
    measured time (scipy's least squares on the logs of the constants, so they stay positive)."""
    from scipy.optimize import least_squares

    F = np.array([run_features(r)[:3] for r in runs])
    y = np.log([r["seconds"] for r in runs])
    res = least_squares(lambda th: np.log(F @ np.exp(th)) - y, np.log([10.0, 1.0, 1.0]))
    return np.exp(res.x)


def measure(name: str, dataset: str, hidden: str | None, sampler: str, data_dir: str | None,
            samples: int | None = None, resample_samples: int | None = None, out: str | None = None) -> dict:
    """Time a default ``bayesprune run`` of ``dataset`` (one resampling; ``samples`` and ``resample_samples``
    steps where given) in a child process, alone; ``out``: keep its outputs there (metrics.json: the accuracy
    of what was timed)."""
    cfg = RunConfig(dataset=dataset, hidden=tuple(int(h) for h in hidden.split(",")) if hidden else None,
                    sampler=sampler, data_dir=data_dir)
    ds = runner.load_data(cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        post = build_posterior(ds, hidden=cfg.hidden)
    speed = sizing.machine_speed(post, ds.X_train, ds.y_train, RunConfig.chains)  # the probe --sampler auto runs
    cmd = [sys.executable, "-m", "bayesprune", "run", "--dataset", dataset, "--sampler", sampler, "--quiet",
           "--rate-guard", "0"]  # the guard may add resamplings; the guide estimates one
    if hidden:
        cmd += ["--hidden", hidden]
    if data_dir:
        cmd += ["--data-dir", data_dir]
    for flag, value in (("--samples", samples), ("--resample-samples", resample_samples), ("--out", out)):
        cmd += [flag, str(value)] if value else []
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB on Linux; the one child
    return {"name": name, "command": " ".join(["bayesprune", *cmd[3:]]), "sampler": sampler,
            "rows": len(ds.X_train), "params": post.spec.n_params, "stages": 2, "samples": samples or cfg.samples,
            "resample_samples": resample_samples or cfg.resample_samples, "seconds": seconds, "speed": speed,
            "peak_rss_gb": peak_gb}


def table(runs: list[dict]) -> tuple[list[str], list[float]]:
    lines = ["| run | sampler | rows | parameters | stages | speed | measured | guide before (sampling) | ratio | "
             "guide now (whole run) | ratio |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    ratios = []
    for r in runs:
        _, sampling, _, whole = run_features(r)
        ratios.append(r["seconds"] / whole)
        speed = "-" if r.get("speed") is None else f"{r['speed']:.2f}"
        lines.append(f"| {r['name']} | {r['sampler']} | {r['rows']:,} | {r['params']:,} | {r['stages']} | {speed} | "
                     f"{r['seconds']:.0f} s | {sampling:.0f} s | {r['seconds'] / sampling:.2f} | {whole:.0f} s | "
                     f"{r['seconds'] / whole:.2f} |")
    return lines, ratios


def decisions(runs: list[dict]) -> str:
    """How often the 15-minute rule, applied to the estimate, agrees with the measured time of the default MCLMC
    runs among ``runs`` (two stages: one resampling), and the runs where it does not."""
    default = [r for r in runs if r["sampler"] == sizing.FULL_BATCH_DEFAULT and r["stages"] == 2]
    wrong = [r["name"] for r in default
             if (run_features(r)[3] <= sizing.LONG_SECONDS) != (r["seconds"] <= sizing.LONG_SECONDS)]
    return (f"applied to the estimate agrees with the measured time on {len(default) - len(wrong)} of "
            f"{len(default)}" + (f" (not on {', '.join(wrong)})" if wrong else ""))


NEAR_LIMIT = OWN_RUNS / "naval-quality"  # whole runs' metrics.json (with wall_seconds and command) near the limit


def near_limit_lines() -> list[str]:
    """What a run near the limit gets from MCLMC shortened against SGHMC: the runs stored in ``NEAR_LIMIT``
    (UCI naval split 0, this machine, each alone), their full and compact test metrics (standardised target)."""
    files = sorted(NEAR_LIMIT.glob("*.json"))
    if not files:
        return []
    lines = ["## Near the limit: MCLMC shortened against SGHMC (UCI naval split 0)", "",
             "Each a whole `bayesprune run` timed alone (`wall_seconds`); test RMSE and NLL in the standardised "
             "target, test LL (nats per row) and RMSE in the target's units as the UCI literature reports them. "
             "`guard`: the rate guard on (the default) or off.", "",
             "| run | sampler | steps (full + resampling) | guard | rate kept | full RMSE | full NLL | compact RMSE | "
             "compact NLL | compact / full RMSE | full LL / RMSE (units) | compact LL / RMSE (units) | seconds |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for f in files:
        m = json.loads(f.read_text())
        full, compact, cfg = m["stages"]["full"], m["stages"]["resampled"], m["config"]
        guard = "on" if cfg["rate_guard"] > 0 else "off"
        steps = (f"{cfg['samples']:,} + {cfg['resample_samples']:,}" if m["sampler"] != "sghmc"
                 else f"{cfg['samples']:,} + {cfg['resample_samples']:,} (minibatch)")
        lines.append(f"| {f.stem} | {m['sampler']} | {steps} | {guard} | {m['rate']:.0%} | {full['rmse']:.4f} | "
                     f"{full['nll']:.2f} | {compact['rmse']:.4f} | {compact['nll']:.2f} | "
                     f"{compact['rmse'] / full['rmse']:.2f} | {-full['nll_original']:.2f} / "
                     f"{full['rmse_original']:.1e} | {-compact['nll_original']:.2f} / {compact['rmse_original']:.1e} | "
                     f"{m['wall_seconds']:.0f} |")
    return lines + [""]


def spread(ratios: list[float]) -> str:
    q = np.quantile(ratios, [0.0, 0.1, 0.5, 0.9, 1.0])
    return "min {:.2f}, 10% {:.2f}, median {:.2f}, 90% {:.2f}, max {:.2f}".format(*q)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--measure", help="time one default run and store it under results/size_guide_runs/NAME.json")
    p.add_argument("--dataset")
    p.add_argument("--hidden")
    p.add_argument("--sampler", default="mclmc")
    p.add_argument("--samples", type=int, help="with --measure: steps of the full sample (default: the sampler's)")
    p.add_argument("--resample-samples", type=int, help="with --measure: resampling steps (default: the sampler's)")
    p.add_argument("--keep-out", help="with --measure: the run's output folder (default: none written)")
    p.add_argument("--data-dir", default=os.environ.get("BAYESPRUNE_DATA"))
    p.add_argument("--out", default=str(RESULTS / "size_guide.md"))
    args = p.parse_args()
    if args.measure:
        rec = measure(args.measure, args.dataset, args.hidden, args.sampler, args.data_dir, args.samples,
                      args.resample_samples, args.keep_out)
        OWN_RUNS.mkdir(parents=True, exist_ok=True)
        (OWN_RUNS / f"{args.measure}.json").write_text(json.dumps(rec, indent=1) + "\n")
        print(json.dumps(rec, indent=1))
        return
    fitted, checked, shown = records()
    const = fit(fitted)
    fit_lines, fit_ratios = table(fitted)
    before = [r["seconds"] / run_features(r)[1] for r in fitted]
    check_lines, check_ratios = table(checked)
    shown_lines, shown_ratios = table(shown)
    lines = [
        "# The size guide against whole runs", "",
        "Command: `python benchmarks/size_guide.py` (timing runs: `--measure NAME --dataset D [--hidden H]`). "
        "Whole `bayesprune run`s measured on this 2-core machine; the guide's estimate before (the sampling "
        "alone, from the gradient timings of benchmarks/size.py) and now (`bayesprune.samplers.sizing.estimate`: "
        "stages x STAGE_SECONDS + SAMPLING_SCALE x sampling + EVALUATION_GRADIENTS x evaluation). `ratio`: "
        "measured / estimate.", "",
        f"Fitted here (least squares on log time, {len(fitted)} runs measured alone): STAGE_SECONDS "
        f"{const[0]:.3g}, SAMPLING_SCALE {const[1]:.3g}, EVALUATION_GRADIENTS {const[2]:.3g}; `sizing` uses "
        f"{sizing.STAGE_SECONDS:g}, {sizing.SAMPLING_SCALE:g} and {sizing.EVALUATION_GRADIENTS:g}.", "",
        f"- Fitted runs, measured / estimate: before {spread(before)}; now {spread(fit_ratios)}.",
        f"- Runs checked, not fitted (the UCI runs timed alone, six sampled stages, the machine's speed not "
        f"recorded: taken at 1; and runs shortened as `--sampler auto` shortens MCLMC near the limit), measured / "
        f"estimate now: {spread(check_ratios)}.",
        f"- Pipeline runs (two processes at a time, not fitted), measured / estimate now: {spread(shown_ratios)}.",
        f"- `--sampler auto` takes MCLMC when a default run with {sizing.RESAMPLINGS} resamplings (the most the "
        f"default pipeline makes) is estimated at most {sizing.LONG_SECONDS / 60:.0f} minutes, or MCLMC shortened "
        f"to fit (down to {sizing.SHORTEST_SHARE:.0%} of its lengths), else SGHMC. The estimate itself, checked on "
        f"the default MCLMC runs above (one resampling, at the speed measured beside each): the "
        f"{sizing.LONG_SECONDS / 60:.0f}-minute line {decisions(fitted)}.", "",
        *near_limit_lines(),
        "## Runs measured alone (fitted)", "", *fit_lines, "",
        "## Runs checked, not fitted: UCI runs measured alone (the machine's speed not recorded) and shortened "
        "runs", "", *check_lines, "",
        "## Pipeline benchmark runs (two at a time on two cores; shown, not fitted)", "", *shown_lines]
    data = {"fitted_constants": const.tolist(), "constants": [sizing.STAGE_SECONDS, sizing.SAMPLING_SCALE,
                                                             sizing.EVALUATION_GRADIENTS],
            "runs": fitted, "checked_runs": checked, "pipeline_runs": shown}
    write_results(args.out, lines, data)


if __name__ == "__main__":
    main()
