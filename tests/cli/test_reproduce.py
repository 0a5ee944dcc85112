"""`bayesprune reproduce --smoke` over the paper's whole grid, resuming, and `bayesprune report`."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from bayesprune.cli import main
from bayesprune.experiments.config import PAPER_ORDER
from bayesprune.io.grid import RESULT_COLUMNS


def _cli(args, capsys):
    try:
        code = main(args)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def smoke_grid(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("grid") / "smoke"
    code = main(["reproduce", "--smoke", "--data-dir", str(data_dir), "--quiet", "--out", str(out)])
    assert code == 0
    return out


def _metrics(folder, strip):
    return {p.parent.name: strip(json.loads(p.read_text())["stages"]) for p in sorted(folder.glob("*/metrics.json"))}


def test_smoke_covers_the_whole_grid(smoke_grid):
    runs = sorted(smoke_grid.glob("runs/*/*/run.json"))
    assert len(runs) == len(PAPER_ORDER) * 2
    assert {p.parent.parent.name for p in runs} == set(PAPER_ORDER)
    with open(smoke_grid / "results.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == RESULT_COLUMNS
    cells = {(r["dataset"], r["criterion"], float(r["rate"]), r["stage"]) for r in rows}
    for ds in PAPER_ORDER:
        assert (ds, "none", 0.0, "full") in cells
        for crit in ("stn", "spn", "random"):
            for rate in (0.25, 0.5, 0.75):
                assert {(ds, crit, rate, "pruned"), (ds, crit, rate, "resampled")} <= cells
    metrics = {r["metric"] for r in rows}
    assert {"rmse", "accuracy", "point_rmse", "point_accuracy", "picp90", "ece", "kept_share"} <= metrics
    report = (smoke_grid / "report.md").read_text()
    for ds in PAPER_ORDER:
        assert f"### {ds}" in report
    assert "## Claims checked" in report and (smoke_grid / "figures" / "performance_vs_rate.png").stat().st_size
    kept = [float(r["value"]) for r in rows if r["metric"] == "kept_share" and r["dataset"] == "ionosphere"
            and r["criterion"] == "stn" and r["rate"] == "0.75"]
    assert kept and all(abs(k - round(0.25 * 1852) / 1852) < 1e-12 for k in kept)


def test_rerun_skips_finished_runs_and_resumes_a_missing_one(smoke_grid, data_dir, capsys, without_timings):
    victim = smoke_grid / "runs" / "iris" / "lgmh-run2"
    before = _metrics(victim, without_timings)
    shutil.rmtree(victim)
    (smoke_grid / "runs" / "iris" / ".lgmh-run2.partial").mkdir()  # as left by a killed run
    code, _, err = _cli(["reproduce", "--smoke", "--data-dir", str(data_dir), "--datasets", "iris",
                         "--out", str(smoke_grid)], capsys)
    assert code == 0
    assert "run 1: already done, skipped" in err and "1 runs in" in err
    assert _metrics(victim, without_timings) == before  # same seed, same numbers
    assert not (smoke_grid / "runs" / "iris" / ".lgmh-run2.partial").exists()


def test_rerun_with_other_settings_is_refused(smoke_grid, data_dir, capsys):
    code, _, err = _cli(["reproduce", "--smoke", "--data-dir", str(data_dir), "--datasets", "iris",
                         "--criteria", "stn", "--out", str(smoke_grid)], capsys)
    assert code == 2 and "criteria" in err and "another --out" in err and len(err.strip().splitlines()) == 1


def test_report_rebuilds_from_saved_runs(smoke_grid, capsys):
    (smoke_grid / "results.csv").unlink()
    (smoke_grid / "report.md").unlink()
    code, out, _ = _cli(["report", str(smoke_grid), "--no-figures"], capsys)
    assert code == 0 and (smoke_grid / "results.csv").exists() and (smoke_grid / "report.md").exists()


def test_report_of_an_empty_folder(tmp_path, capsys):
    code, _, err = _cli(["report", str(tmp_path)], capsys)
    assert code == 2 and "no finished runs" in err
    code, _, err = _cli(["report", str(tmp_path / "missing")], capsys)
    assert code == 2 and "no such folder" in err
