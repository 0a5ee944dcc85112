"""The paper's grid: data sets x runs, each run sampling once and pruning at every (criterion, rate).

A run is a pure function of its configuration (data set, sampler, sizes, run seed). It writes one folder,
``OUT/runs/DATASET/SAMPLER-runK/``, built under a temporary name and renamed into place when complete, so an
interrupted grid loses at most the runs in progress; a run whose folder exists is never run again (resume).
Runs execute here one after another or as Ray tasks (:mod:`bayesprune.experiments.executors`); either way the
process that ran a run writes its folder.

Every run of a data set shares the data split (``split_seed`` = the grid's seed) and differs in its sampling
seed (grid seed + run number), as the paper's independent runs do; R-hat across runs is then defined.
The folder layout is :mod:`bayesprune.io.grid`'s.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bayesprune.errors import OptionError
from bayesprune.evaluation.records import RunRecord, main_metric
from bayesprune.experiments.executors import executor_for
from bayesprune.experiments.runner import RunOutcome, run, run_batch
from bayesprune.io import grid as layout
from bayesprune.io.atomic import write_json
from bayesprune.settings import ExecutorSpec, GridSpec, RunConfig

SMOKE = {"runs": 2, "samples": 400, "resample_samples": 200}


def write_run(outcome: RunOutcome, folder: Path, *, run_index: int, config_name: str) -> Path:
    """Write a run's records, test-point outputs and posterior summary as a run folder (atomically)."""
    cfg = outcome.config
    fn = {"full": outcome.full_fn_outputs}
    for cell in outcome.cells:
        for stage, values in cell.fn_outputs.items():
            fn[f"{cell.record.name}:{stage}"] = values
    scored = outcome.cells[0].prune.reference if outcome.cells else None
    full = scored if scored is not None else outcome.full
    record = RunRecord(
        dataset=config_name, run=run_index + 1, seed=cfg.seed, split_seed=cfg.split_seed, sampler=cfg.sampler,
        task=outcome.dataset.task, n_params=int(outcome.full.spec.n_params),
        n_train=int(len(outcome.dataset.y_train)), n_test=int(len(outcome.dataset.y_test)),
        full=outcome.full_metrics, seconds_total=outcome.seconds,
        seconds_full={k: float(v) for k, v in outcome.full.result.seconds.items()},
        provenance=outcome.cells[0].record.provenance if outcome.cells else {},
    )
    return layout.write_run(
        folder, config={"dataset": config_name, "run": run_index + 1, "run_config": cfg.to_dict()}, run=record,
        cells=[c.record for c in outcome.cells], fn_outputs=fn,
        summary_csv=layout.posterior_summary_csv(full.spec.param_names, full.moments()),
    )


def _check_same_config(folder: Path, cfg: RunConfig) -> None:
    saved = layout.saved_config(folder)
    if saved is None:
        return
    want = cfg.to_dict()
    # a setting added since the folder was written had its default then
    defaults = {f.name: f.default for f in dataclasses.fields(RunConfig)}
    # where the files are is no setting; nor where a run computes (each run's provenance names its device)
    diff = sorted(k for k in want if k not in ("data_dir", "device") and saved.get(k, defaults[k]) != want[k])
    if diff:
        k = diff[0]
        raise OptionError(f"{folder} was made with {k} = {saved.get(k)!r}, not {want[k]!r}; use another output "
                          "folder for different settings (or delete that run folder)")


@dataclass(frozen=True)
class RunUnit:
    """One run of a grid as a unit of work: everything a worker process needs, and nothing it cannot pickle."""

    dataset: str  # the data set's name in the grid (its config's name)
    k: int  # 0-based run number
    config: RunConfig
    folder: str


@dataclass(frozen=True)
class RunDigest:
    """What a finished run tells the grid's console: its main metric, full and resampled per cell."""

    metric: str
    full: float
    cells: tuple[tuple[str, str, float], ...]  # (criterion, rate as text: "75%", "auto 90%"; resampled main metric)
    seconds: float


def _finish(unit: RunUnit, outcome: RunOutcome, seconds: float) -> tuple[RunDigest, str]:
    """Write a run's folder (atomically) and digest it."""
    write_run(outcome, Path(unit.folder), run_index=unit.k, config_name=unit.dataset)
    cells = tuple((c.criterion, ("auto " if c.record.requested == "auto" else "") + f"{c.rate:.0%}",
                   float(c.record.stages["resampled"].main)) for c in outcome.cells)
    return RunDigest(main_metric(outcome.dataset.task), float(outcome.full_metrics.main), cells, seconds), unit.folder


def run_units(units: tuple[RunUnit, ...], *, reporter=None) -> list[tuple[RunDigest, str]]:
    """The function every executor runs: one run (one unit), or the runs of one data set sampled as the chains of
    one call (several units, ``--batch-runs``); each run's folder is written as soon as it is done.
    Returns each run's digest and folder."""
    if len(units) == 1:
        t = time.perf_counter()
        outcome = run(units[0].config, reporter=reporter, label=units[0].dataset, run_index=units[0].k + 1)
        return [_finish(units[0], outcome, time.perf_counter() - t)]
    done = []
    t = time.perf_counter()
    outcomes = run_batch([u.config for u in units], labels=[u.dataset for u in units],
                         run_indices=[u.k + 1 for u in units])
    for unit, outcome in zip(units, outcomes, strict=True):
        done.append(_finish(unit, outcome, time.perf_counter() - t))
        t = time.perf_counter()
    return done


@dataclass
class GridProgress:
    """What ``execute`` reports after each run (``digest`` is None for a run skipped as already done)."""

    done: int
    total: int
    skipped: int
    dataset: str
    run: int
    seconds: float
    digest: RunDigest | None


def check_existing(spec: GridSpec, out: str | Path) -> int:
    """Refuse to mix settings in one grid folder; return how many planned runs are already complete."""
    complete = 0
    for cfg, k, rcfg in spec.plan():
        folder = layout.run_dir(out, cfg.name, spec.sampler, k)
        if layout.is_complete(folder):
            _check_same_config(folder, rcfg)
            complete += 1
    return complete


def execute(spec: GridSpec, out: str | Path, *, executor: ExecutorSpec | None = None,
            on_run: Callable[[GridProgress], None] | None = None, reporter=None, command: str = "") -> dict[str, Any]:
    """Run every missing run of the grid into ``out``; return a summary (runs done, skipped, wall time).

    ``executor``: where the runs execute (default: here, one after another; ``ExecutorSpec(executor="ray")``: Ray
    tasks). Every executor writes the same run folders, so ``results.csv`` is the same (wall times aside).
    """
    out = Path(out)
    where = executor_for(executor)
    where.check()
    plan = list(spec.plan())
    layout.remove_partial_runs(out)
    t0 = time.perf_counter()
    done = skipped = 0
    units = []
    for cfg, k, rcfg in plan:
        folder = layout.run_dir(out, cfg.name, spec.sampler, k)
        if layout.is_complete(folder):
            _check_same_config(folder, rcfg)
            skipped += 1
            done += 1
            if on_run:
                on_run(GridProgress(done, len(plan), skipped, cfg.name, k + 1, 0.0, None))
            continue
        units.append(RunUnit(cfg.name, k, rcfg, str(folder)))
    by_folder = {u.folder: u for u in units}
    if spec.batch_runs:  # the missing runs of a data set in one unit
        work = [tuple(u for u in units if u.dataset == name) for name in dict.fromkeys(u.dataset for u in units)]
    else:
        work = [(u,) for u in units]
    if where.concurrent:
        work = _round_robin(work)
    for finished in where.map(run_units, work, in_process={"reporter": reporter}):
        for digest, folder in finished:
            unit = by_folder[folder]
            done += 1
            if on_run:
                on_run(GridProgress(done, len(plan), skipped, unit.dataset, unit.k + 1, digest.seconds, digest))
    summary = {"planned": len(plan), "ran": len(plan) - skipped, "skipped": skipped,
               "seconds": time.perf_counter() - t0, "executor": where.name}
    write_json(out / "grid.json", {
        "command": command, "datasets": [c.name for c in spec.configs], "criteria": list(spec.criteria),
        "rates": list(spec.rates), "runs": spec.runs, "samples": spec.samples, "burnin": spec.burnin,
        "resample_samples": spec.resample_samples, "sampler": spec.sampler, "chains": spec.chains,
        "seed": spec.seed, "batch_runs": spec.batch_runs, **summary,
    })
    layout.write_results(out)
    return summary


def _round_robin(work: list[tuple[RunUnit, ...]]) -> list[tuple[RunUnit, ...]]:
    """The first run of every data set, then the second of every one, ...: runs that execute at once then mostly
    compile different shapes, and a data set's later runs find its shapes in the shared compilation cache."""
    by_dataset: dict[str, list[tuple[RunUnit, ...]]] = {}
    for w in work:
        by_dataset.setdefault(w[0].dataset, []).append(w)
    rounds = max((len(v) for v in by_dataset.values()), default=0)
    return [v[i] for i in range(rounds) for v in by_dataset.values() if i < len(v)]


def smoke(spec: GridSpec) -> GridSpec:
    """The same grid at tiny sizes (seconds per data set once compiled)."""
    return replace(spec, runs=min(spec.runs, SMOKE["runs"]), samples=SMOKE["samples"],
                   resample_samples=SMOKE["resample_samples"])
