"""The file layout of an experiment grid (``bayesprune reproduce --out DIR``): run folders and results.csv.

::

    DIR/grid.json                       the last invocation: command, settings, runs run and skipped, wall time
    DIR/results.csv                     every number, tidy (RESULT_COLUMNS)
    DIR/runs/DATASET/SAMPLER-runK/      one folder per run, written atomically:
        config.json                     the run's configuration and its place in the grid
        run.json                        the full model's metrics, timings, provenance (written last)
        CRITERION-RATE/metrics.json     one metrics.json per (criterion, rate)
        posterior_summary.csv           mean, sd, STN and SPN of every parameter (the chain the scores came from)
        fn_summaries.npz                thinned test-point outputs per stage, for R-hat across runs

A run folder is built as ``.SAMPLER-runK.partial`` and renamed when complete; a folder with ``run.json`` is
complete. Everything that reads or writes these files is here; the grid's execution is in
:mod:`bayesprune.experiments.grid`, its report in :mod:`bayesprune.report.grid`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesprune.errors import InputError
from bayesprune.evaluation.records import CellRecord, RunRecord, to_json
from bayesprune.indices import evenly_spaced
from bayesprune.io.atomic import write_json, write_text
from bayesprune.pruning.criteria import PosteriorMoments, spn, stn
from bayesprune.samplers.registry import settings_for

# rate: the share removed (for --rate auto, the one chosen in that run); requested: the rate as asked ("0.75",
# "auto"; "0" for the full model), the key the report groups runs by
RESULT_COLUMNS = ("dataset", "run", "seed", "sampler", "criterion", "rate", "requested", "stage", "metric",
                  "value")
FN_MAX_DRAWS = 250
FN_MAX_POINTS = 50
FN_FILE = "fn_summaries.npz"


def run_dir(out: str | Path, dataset: str, sampler: str, k: int) -> Path:
    """The folder of run ``k`` (0-based) of a data set."""
    return Path(out) / "runs" / dataset / f"{sampler}-run{k + 1}"


def is_complete(folder: Path) -> bool:
    return (folder / "run.json").is_file()


LEGACY_LGMH_KEYS = ("lr", "step_w", "step_eta", "l_prob")


def saved_config(folder: Path) -> dict[str, Any] | None:
    """The run configuration saved in a run folder (``None`` when there is none or it cannot be read).

    Folders written before the sampler's settings were nested (``sampler_settings``) kept LG-MH's four settings
    at the top level and no others (every other sampler ran with its defaults then); they are read as nested.
    """
    try:
        cfg = json.loads((folder / "config.json").read_text())["run_config"]
    except (OSError, ValueError, KeyError):
        return None
    if "sampler_settings" not in cfg and "sampler" in cfg:
        legacy = {k: cfg.pop(k) for k in LEGACY_LGMH_KEYS if k in cfg}
        cfg["sampler_settings"] = settings_for(cfg["sampler"], legacy if cfg["sampler"] == "lgmh" else None
                                               ).to_dict()
    return cfg


def remove_partial_runs(out: str | Path) -> None:
    """Delete run folders left unfinished by an interrupted grid."""
    for folder in (Path(out) / "runs").glob("*/.*.partial"):
        shutil.rmtree(folder, ignore_errors=True)


def thin_outputs(values: np.ndarray) -> np.ndarray:
    """At most FN_MAX_DRAWS draws per chain and FN_MAX_POINTS test points (every class kept), as float32."""
    d, m = values.shape[1], values.shape[2]
    di, mi = evenly_spaced(d, FN_MAX_DRAWS), evenly_spaced(m, FN_MAX_POINTS)
    return values[:, di][:, :, mi].astype(np.float32)


def posterior_summary_csv(names: list[str] | tuple[str, ...], moments: PosteriorMoments) -> str:
    """Mean, sd, STN and SPN of every parameter (scores as the pruning criteria compute them)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["param", "mean", "sd", "stn", "spn"])
    for name, mu, sd, s1, s2 in zip(names, moments.mean, moments.std, stn(moments), spn(moments), strict=True):
        w.writerow([name, f"{mu:.6g}", f"{sd:.6g}", f"{s1:.6g}", f"{s2:.6g}"])
    return buf.getvalue()


def write_run(folder: Path, *, config: dict[str, Any], run: RunRecord, cells: list[CellRecord],
              fn_outputs: dict[str, np.ndarray], summary_csv: str) -> Path:
    """Write a run folder atomically: built as ``.NAME.partial`` next to it, renamed when complete.

    ``fn_outputs`` maps ``full`` and ``<cell name>:<stage>`` to test-point outputs ``(chain, draw, m[, K])``.
    """
    folder = Path(folder)
    tmp = folder.parent / f".{folder.name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    write_json(tmp / "config.json", config)
    for record in cells:
        write_json(tmp / record.name / "metrics.json", to_json(record))
    np.savez_compressed(tmp / FN_FILE, **{k: thin_outputs(v) for k, v in fn_outputs.items()})
    write_text(tmp / "posterior_summary.csv", summary_csv)
    write_json(tmp / "run.json", to_json(run))
    if folder.exists():  # an incomplete folder from an older layout: replace it
        shutil.rmtree(folder)
    os.replace(tmp, folder)
    return folder


def saved_outputs(out: str | Path, dataset: str, key: str) -> list[np.ndarray]:
    """The saved test-point outputs ``key`` (``full``, ``<cell>:pruned``, ``<cell>:resampled``) of every run of a
    data set, one array ``(chain, draw, m[, K])`` per run."""
    arrays = []
    for f in sorted(Path(out).glob(f"runs/{dataset}/*/{FN_FILE}")):
        with np.load(f) as z:
            if key in z:
                arrays.append(z[key])
    return arrays


def _stage_rows(stage: str, criterion: str, rate: float, requested: str, metrics,
                extra: dict[str, float]) -> Iterator[tuple]:
    """(criterion, rate, requested, stage, metric, value) for every number of a stage's metrics and ``extra``."""
    for metric, value in [*metrics.flat(), *extra.items()]:
        yield criterion, rate, requested, stage, metric, value


def collect_rows(out: str | Path) -> list[dict[str, Any]]:
    """Tidy rows (RESULT_COLUMNS) from every complete run folder under ``out/runs``."""
    rows: list[dict[str, Any]] = []
    for run_json in sorted(Path(out).glob("runs/*/*/run.json")):
        info = RunRecord.from_json(json.loads(run_json.read_text()))
        base = {"dataset": info.dataset, "run": info.run, "seed": info.seed, "sampler": info.sampler}
        found = list(_stage_rows("full", "none", 0.0, "0", info.full, {"seconds_total": info.seconds_total}))
        for mfile in sorted(run_json.parent.glob("*/metrics.json")):
            rec = CellRecord.from_json(json.loads(mfile.read_text()))
            for stage in ("pruned", "resampled"):
                found += _stage_rows(stage, rec.criterion, rec.rate, rec.requested, rec.stages[stage],
                                     {"kept_share": rec.kept_share})
        for criterion, rate, requested, stage, metric, value in found:
            rows.append({**base, "criterion": criterion, "rate": rate, "requested": requested, "stage": stage,
                         "metric": metric, "value": value})
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


def load_results(out: str | Path) -> pd.DataFrame:
    """``results.csv`` of a grid folder as a data frame (rebuilt from the run folders if missing, older than a run
    or written by an older version with fewer columns)."""
    out = Path(out)
    if not out.is_dir():
        raise InputError(f"{out}: no such folder; give the --out folder of 'bayesprune reproduce'")
    path = out / "results.csv"
    runs = list(out.glob("runs/*/*/run.json"))
    stale = not path.exists() or path.stat().st_mtime < max((p.stat().st_mtime for p in runs), default=0)
    if not stale and runs:
        with path.open() as f:
            stale = f.readline().strip().split(",") != list(RESULT_COLUMNS)
    if stale:
        if not runs:
            raise InputError(f"{out}: no finished runs (runs/*/*/run.json); run 'bayesprune reproduce --out {out}'")
        write_results(out)
    frame = pd.read_csv(path, dtype={"requested": str, "criterion": str})
    missing = [c for c in RESULT_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: column '{missing[0]}' missing; delete the file to rebuild it from runs/")
    return frame


def read_grid(out: str | Path) -> dict[str, Any]:
    """``grid.json`` of a grid folder ({} when absent)."""
    path = Path(out) / "grid.json"
    return json.loads(path.read_text()) if path.exists() else {}
