"""`bayesprune reproduce --smoke` over the paper's seven data sets: every config runs end to end through the grid
(one rate, two criteria, so the compiled shapes stay few); the iris grid's structure, resume, refusal, report and
`--rates auto` / `--batch-runs` are in test_reproduce_grid.py (a file of its own, so the two run on different test
workers)."""

from __future__ import annotations

import csv

import pytest

from bayesprune.cli import main
from bayesprune.experiments.config import PAPER_ORDER
from bayesprune.io.grid import RESULT_COLUMNS


@pytest.fixture(scope="module")
def all_datasets(data_dir, tmp_path_factory):
    """The paper's seven data sets, smoke sizes, one run each, STN and random at 75%."""
    out = tmp_path_factory.mktemp("grid") / "all"
    code = main(["reproduce", "--smoke", "--data-dir", str(data_dir), "--criteria", "stn,random", "--rates", "0.75",
                 "--runs", "1", "--quiet", "--out", str(out)])
    assert code == 0
    return out


def _rows(grid):
    with open(grid / "results.csv") as fh:
        return list(csv.DictReader(fh))


def test_every_paper_data_set_runs_through_the_grid(all_datasets):
    runs = sorted(all_datasets.glob("runs/*/*/run.json"))
    assert len(runs) == len(PAPER_ORDER)
    assert {p.parent.parent.name for p in runs} == set(PAPER_ORDER)
    rows = _rows(all_datasets)
    assert tuple(rows[0]) == RESULT_COLUMNS
    cells = {(r["dataset"], r["criterion"], float(r["rate"]), r["stage"]) for r in rows}
    for ds in PAPER_ORDER:
        assert (ds, "none", 0.0, "full") in cells
        for crit in ("stn", "random"):
            assert {(ds, crit, 0.75, "pruned"), (ds, crit, 0.75, "resampled")} <= cells
    metrics = {r["metric"] for r in rows}
    assert {"rmse", "accuracy", "point_rmse", "point_accuracy", "picp90", "ece", "kept_share",
            "rmse_original"} <= metrics
    report = (all_datasets / "report.md").read_text()
    for ds in PAPER_ORDER:
        assert f"### {ds}" in report
    assert "## Claims checked" in report and (all_datasets / "figures" / "performance_vs_rate.png").stat().st_size
    kept = [float(r["value"]) for r in rows if r["metric"] == "kept_share" and r["dataset"] == "ionosphere"
            and r["criterion"] == "stn"]
    assert kept and all(abs(k - round(0.25 * 1852) / 1852) < 1e-12 for k in kept)
