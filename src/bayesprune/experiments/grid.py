"""The paper's grid: data sets x runs, each run sampling once and pruning at every (criterion, rate).

A run is a pure function of its configuration (data set, sampler, sizes, run seed). It writes one folder,
``OUT/runs/DATASET/SAMPLER-runK/``, built under a temporary name and renamed into place when complete, so an
interrupted grid loses at most the run in progress; a run whose folder exists is never run again (resume).

Every run of a data set shares the data split (``split_seed`` = the grid's seed) and differs in its sampling
seed (grid seed + run number), as the paper's independent runs do; R-hat across runs is then defined.

Run folder::

    config.json            the run's configuration
    run.json               the full model's metrics, timings, provenance (written last: the run is complete)
    CRITERION-RATE/metrics.json   metrics.json of DESIGN.md per (criterion, rate)
    posterior_summary.csv  mean and sd of every parameter in the chain(s) the scores came from, STN and SPN
    fn_summaries.npz       thinned test-point predictions per stage, for R-hat across runs
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bayesprune.errors import OptionError
from bayesprune.experiments.config import ExperimentConfig
from bayesprune.experiments.runner import RunConfig, RunOutcome, run
from bayesprune.io.atomic import write_json, write_text

FN_MAX_DRAWS = 250
FN_MAX_POINTS = 50
RESULT_COLUMNS = ("dataset", "run", "seed", "sampler", "criterion", "rate", "stage", "metric", "value")
SMOKE = {"runs": 2, "samples": 400, "resample_samples": 200}


@dataclass(frozen=True)
class GridSpec:
    """The grid: which data sets, criteria, rates, how many runs and how long (defaults: the paper)."""

    configs: tuple[ExperimentConfig, ...]
    criteria: tuple[str, ...] = ("stn", "spn", "random")
    rates: tuple[float, ...] = (0.25, 0.5, 0.75)
    runs: int = 5
    samples: int = 50000
    burnin: float = 0.5
    resample_samples: int = 1000
    resample_burnin: float = 0.5
    sampler: str = "lgmh"
    chains: int = 1
    seed: int = 0
    data_dir: str | None = None
    score_from: str = "best-chain"
    structured: bool = False

    def run_config(self, cfg: ExperimentConfig, k: int) -> RunConfig:
        """Configuration of run ``k`` (0-based) of data set ``cfg``."""
        return RunConfig(
            **cfg.run_fields(), data_dir=self.data_dir, sampler=self.sampler, chains=self.chains,
            samples=self.samples, burnin=self.burnin, criteria=self.criteria, rates=self.rates,
            structured=self.structured, score_from=self.score_from, resample_samples=self.resample_samples,
            resample_burnin=self.resample_burnin, seed=self.seed + k, split_seed=self.seed,
        ).validate()

    def plan(self) -> Iterator[tuple[ExperimentConfig, int, RunConfig]]:
        if self.runs < 1:
            raise OptionError(f"--runs must be >= 1, got {self.runs}")
        for cfg in self.configs:
            for k in range(self.runs):
                yield cfg, k, self.run_config(cfg, k)


def run_dir(out: Path, dataset: str, sampler: str, k: int) -> Path:
    return Path(out) / "runs" / dataset / f"{sampler}-run{k + 1}"


def cell_name(criterion: str, rate: float) -> str:
    return f"{criterion}-{rate:g}"


def is_complete(folder: Path) -> bool:
    return (folder / "run.json").is_file()


def _thin(values: np.ndarray) -> np.ndarray:
    """At most FN_MAX_DRAWS draws per chain and FN_MAX_POINTS test points, as float32."""
    d, m = values.shape[1], values.shape[2]
    di = np.unique(np.linspace(0, d - 1, min(d, FN_MAX_DRAWS)).round().astype(int))
    mi = np.unique(np.linspace(0, m - 1, min(m, FN_MAX_POINTS)).round().astype(int))
    return values[:, di][:, :, mi].astype(np.float32)


def _summary_csv(outcome: RunOutcome) -> str:
    """Per-parameter mean/sd over the post-burn-in draws the pruning scores use (first cell's source chains)."""
    full = outcome.full
    if outcome.cells and outcome.cells[0].prune.reference is not None:
        full = outcome.cells[0].prune.reference
    mom = full.moments()
    names = full.spec.param_names
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["param", "mean", "sd", "stn", "spn"])
    for name, mu, sd in zip(names, mom.mean, mom.std, strict=True):
        stn = abs(mu) / sd if sd > 0 else float("inf")
        w.writerow([name, f"{mu:.6g}", f"{sd:.6g}", f"{stn:.6g}", f"{abs(mu) + sd:.6g}"])
    return buf.getvalue()


def write_run(outcome: RunOutcome, folder: Path, *, run_index: int, config_name: str) -> Path:
    """Write a run folder atomically: built as ``.NAME.partial`` next to it, renamed when complete."""
    folder = Path(folder)
    tmp = folder.parent / f".{folder.name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    cfg = outcome.config
    write_json(tmp / "config.json", {"dataset": config_name, "run": run_index + 1, "run_config": cfg.to_dict()})
    fn = {"full": _thin(outcome.full_fn_summaries)}
    for cell in outcome.cells:
        name = cell_name(cell.criterion, cell.rate)
        cell.metrics["dataset"] = config_name
        cell.metrics["run"] = run_index + 1
        write_json(tmp / name / "metrics.json", cell.metrics)
        for stage, values in cell.fn_summaries.items():
            fn[f"{name}:{stage}"] = _thin(values)
    np.savez_compressed(tmp / "fn_summaries.npz", **fn)
    write_text(tmp / "posterior_summary.csv", _summary_csv(outcome))
    first = outcome.cells[0].metrics if outcome.cells else {}
    write_json(tmp / "run.json", {
        "dataset": config_name, "run": run_index + 1, "seed": cfg.seed, "split_seed": cfg.split_seed,
        "sampler": cfg.sampler, "task": outcome.dataset.task, "n_params": int(outcome.full.spec.n_params),
        "n_train": int(len(outcome.dataset.y_train)), "n_test": int(len(outcome.dataset.y_test)),
        "full": outcome.full_metrics, "seconds_total": outcome.seconds,
        "seconds_full": {k: float(v) for k, v in outcome.full.result.seconds.items()},
        "provenance": first.get("provenance", {}),
    })
    if folder.exists():  # an incomplete folder from an older layout: replace it
        shutil.rmtree(folder)
    os.replace(tmp, folder)
    return folder


def _check_same_config(folder: Path, cfg: RunConfig) -> None:
    try:
        saved = json.loads((folder / "config.json").read_text())["run_config"]
    except (OSError, ValueError, KeyError):
        return
    want = json.loads(json.dumps(cfg.to_dict()))
    diff = sorted(k for k in want if k != "data_dir" and saved.get(k) != want[k])  # where the files are is no setting
    if diff:
        k = diff[0]
        raise OptionError(f"{folder} was made with {k} = {saved.get(k)!r}, not {want[k]!r}; use another --out "
                          "folder for different settings (or delete that run folder)")


@dataclass
class GridProgress:
    """What ``execute`` reports after each run."""

    done: int
    total: int
    skipped: int
    dataset: str
    run: int
    seconds: float
    outcome: RunOutcome | None


def check_existing(spec: GridSpec, out: str | Path) -> int:
    """Refuse to mix settings in one grid folder; return how many planned runs are already complete."""
    complete = 0
    for cfg, k, rcfg in spec.plan():
        folder = run_dir(Path(out), cfg.name, spec.sampler, k)
        if is_complete(folder):
            _check_same_config(folder, rcfg)
            complete += 1
    return complete


def execute(spec: GridSpec, out: str | Path, *, on_run: Callable[[GridProgress], None] | None = None,
            reporter=None, command: str = "") -> dict[str, Any]:
    """Run every missing run of the grid into ``out``; return a summary (runs done, skipped, wall time)."""
    out = Path(out)
    plan = list(spec.plan())
    for folder in (out / "runs").glob("*/.*.partial"):
        shutil.rmtree(folder, ignore_errors=True)  # left by an interrupted run
    t0 = time.perf_counter()
    done = skipped = 0
    for cfg, k, rcfg in plan:
        folder = run_dir(out, cfg.name, spec.sampler, k)
        if is_complete(folder):
            _check_same_config(folder, rcfg)
            skipped += 1
            done += 1
            if on_run:
                on_run(GridProgress(done, len(plan), skipped, cfg.name, k + 1, 0.0, None))
            continue
        t = time.perf_counter()
        outcome = run(rcfg, reporter=reporter)
        write_run(outcome, folder, run_index=k, config_name=cfg.name)
        done += 1
        if on_run:
            on_run(GridProgress(done, len(plan), skipped, cfg.name, k + 1, time.perf_counter() - t, outcome))
    summary = {"planned": len(plan), "ran": len(plan) - skipped, "skipped": skipped,
               "seconds": time.perf_counter() - t0}
    write_json(out / "grid.json", {
        "command": command, "datasets": [c.name for c in spec.configs], "criteria": list(spec.criteria),
        "rates": list(spec.rates), "runs": spec.runs, "samples": spec.samples, "burnin": spec.burnin,
        "resample_samples": spec.resample_samples, "sampler": spec.sampler, "chains": spec.chains,
        "seed": spec.seed, **summary,
    })
    write_results(out)
    return summary


def _flatten(block: dict[str, Any]) -> Iterator[tuple[str, float]]:
    for key, value in block.items():
        if key == "point_estimate":
            for k2, v2 in value.items():
                yield f"point_{k2}", float(v2)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield key, float(value)


def collect_rows(out: str | Path) -> list[dict[str, Any]]:
    """Tidy rows (RESULT_COLUMNS) from every complete run folder under ``out/runs``."""
    rows: list[dict[str, Any]] = []
    for run_json in sorted(Path(out).glob("runs/*/*/run.json")):
        folder = run_json.parent
        info = json.loads(run_json.read_text())
        base = {"dataset": info["dataset"], "run": info["run"], "seed": info["seed"], "sampler": info["sampler"]}
        stages: list[tuple[str, float, str, dict]] = [("none", 0.0, "full", info["full"])]
        stages[0][3]["seconds_total"] = info.get("seconds_total", float("nan"))
        for mfile in sorted(folder.glob("*/metrics.json")):
            m = json.loads(mfile.read_text())
            for stage in ("pruned", "resampled"):
                block = dict(m["stages"][stage], kept_share=m["n_params_kept"] / m["n_params"])
                stages.append((m["criterion"], float(m["rate"]), stage, block))
        for criterion, rate, stage, block in stages:
            for metric, value in _flatten(block):
                rows.append({**base, "criterion": criterion, "rate": rate, "stage": stage, "metric": metric,
                             "value": value})
    return rows


def write_results(out: str | Path) -> Path:
    """(Re)write ``out/results.csv`` from the run folders."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=RESULT_COLUMNS, lineterminator="\n")
    w.writeheader()
    for row in collect_rows(out):
        w.writerow({**row, "value": repr(row["value"])})
    path = Path(out) / "results.csv"
    write_text(path, buf.getvalue())
    return path


def smoke(spec: GridSpec) -> GridSpec:
    """The same grid at tiny sizes (seconds per data set once compiled)."""
    return replace(spec, runs=min(spec.runs, SMOKE["runs"]), samples=SMOKE["samples"],
                   resample_samples=SMOKE["resample_samples"])
