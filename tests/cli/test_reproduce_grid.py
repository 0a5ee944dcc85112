"""`bayesprune reproduce --smoke` on iris: the default criteria x rates (the grid's full structure), resuming,
refusing other settings, `bayesprune report`, and `--rates auto` / `--batch-runs`."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from bayesprune.cli import main
from bayesprune.io.grid import load_results
from bayesprune.report.grid import claims


def _cli(args, capsys):
    try:
        code = main(args)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def iris_grid(data_dir, tmp_path_factory):
    """The default grid (STN, SPN, random at 25/50/75%) on iris at smoke sizes."""
    out = tmp_path_factory.mktemp("grid") / "iris"
    code = main(["reproduce", "--smoke", "--data-dir", str(data_dir), "--datasets", "iris", "--quiet",
                 "--out", str(out)])
    assert code == 0
    return out


def _rows(grid):
    with open(grid / "results.csv") as fh:
        return list(csv.DictReader(fh))


def _metrics(folder, strip):
    return {p.parent.name: strip(json.loads(p.read_text())["stages"]) for p in sorted(folder.glob("*/metrics.json"))}


def test_default_grid_covers_every_criterion_and_rate(iris_grid):
    cells = {(r["criterion"], float(r["rate"]), r["stage"]) for r in _rows(iris_grid)}
    for crit in ("stn", "spn", "random"):
        for rate in (0.25, 0.5, 0.75):
            assert {(crit, rate, "pruned"), (crit, rate, "resampled")} <= cells
    kept = {float(r["rate"]): float(r["value"]) for r in _rows(iris_grid) if r["metric"] == "kept_share"}
    assert kept == {0.25: 74 / 99, 0.5: 49 / 99, 0.75: 25 / 99}  # round(r * 99), halves rounded up


def test_rerun_skips_finished_runs_and_resumes_a_missing_one(iris_grid, data_dir, capsys, without_timings):
    victim = iris_grid / "runs" / "iris" / "lgmh-run2"
    before = _metrics(victim, without_timings)
    shutil.rmtree(victim)
    (iris_grid / "runs" / "iris" / ".lgmh-run2.partial").mkdir()  # as left by a killed run
    code, _, err = _cli(["reproduce", "--smoke", "--data-dir", str(data_dir), "--datasets", "iris",
                         "--out", str(iris_grid)], capsys)
    assert code == 0
    assert "run 1: already done, skipped" in err and "1 runs in" in err
    assert _metrics(victim, without_timings) == before  # same seed, same numbers
    assert not (iris_grid / "runs" / "iris" / ".lgmh-run2.partial").exists()


def test_rerun_with_other_settings_is_refused(iris_grid, data_dir, capsys):
    code, _, err = _cli(["reproduce", "--smoke", "--data-dir", str(data_dir), "--datasets", "iris",
                         "--criteria", "stn", "--out", str(iris_grid)], capsys)
    assert code == 2 and "criteria" in err and "another output folder" in err and len(err.strip().splitlines()) == 1


def test_report_rebuilds_from_saved_runs(iris_grid, capsys):
    (iris_grid / "results.csv").unlink()
    (iris_grid / "report.md").unlink()
    code, out, _ = _cli(["report", str(iris_grid), "--no-figures"], capsys)
    assert code == 0 and (iris_grid / "results.csv").exists() and (iris_grid / "report.md").exists()


def test_report_of_an_empty_folder(tmp_path, capsys):
    code, _, err = _cli(["report", str(tmp_path)], capsys)
    assert code == 2 and "no finished runs" in err
    code, _, err = _cli(["report", str(tmp_path / "missing")], capsys)
    assert code == 2 and "no such folder" in err


def test_rate_auto_and_batch_runs(data_dir, tmp_path, capsys):
    """``--rates 0.75,auto``: each run chooses its own rate; the auto cell never overwrites the fixed one, and the
    report shows what was chosen. ``--batch-runs``: the two runs' full posteriors are the chains of one call, each
    run keeping its own seed and folder."""
    out = tmp_path / "auto"
    code, _, err = _cli(["reproduce", "--smoke", "--data-dir", str(data_dir), "--datasets", "iris", "--criteria",
                         "stn", "--rates", "0.75,auto", "--auto-rates", "0.5,0.75", "--batch-runs", "--quiet",
                         "--out", str(out)], capsys)
    assert code == 0, err
    for run in sorted(out.glob("runs/iris/*-run*")):
        assert {p.name for p in run.iterdir() if p.is_dir()} == {"stn-0.75", "stn-auto"}
        fixed = json.loads((run / "stn-0.75" / "metrics.json").read_text())
        auto = json.loads((run / "stn-auto" / "metrics.json").read_text())
        assert fixed["rate"] == 0.75 and fixed["requested_rate"] == 0.75
        assert auto["requested_rate"] == "auto" and auto["rate"] in (0.0, 0.5, 0.75)  # 0: none passed
        assert auto["rate"] == auto["rate_selection"]["chosen"]
    rows = _rows(out)
    auto_rows = [r for r in rows if r["requested"] == "auto"]
    assert auto_rows and {float(r["rate"]) for r in auto_rows} <= {0.0, 0.5, 0.75}
    assert {r["requested"] for r in rows if r["criterion"] == "stn"} == {"0.75", "auto"}
    report = (out / "report.md").read_text()
    assert "| STN | auto (" in report and "Rate chosen by PSIS-LOO" in report
    one_run = load_results(out)
    assert any("not tested (one run)" in line for line in claims(one_run[one_run.run == 1]))

    runs = sorted(out.glob("runs/iris/lgmh-run*/run.json"))
    assert len(runs) == 2
    batches = [json.loads(p.read_text())["provenance"]["batch"] for p in runs]
    assert batches[0] == batches[1] and batches[0]["runs"] == [1, 2] and batches[0]["chains"] == 2
    seeds = [json.loads((p.parent / "config.json").read_text())["run_config"]["seed"] for p in runs]
    assert seeds == [0, 1]  # each run keeps its own seed for pruning, resampling and evaluation
    full = [np.load(p.parent / "fn_summaries.npz")["full"] for p in runs]
    assert full[0].shape == full[1].shape and not np.array_equal(full[0], full[1])  # different chains
    assert json.loads((out / "grid.json").read_text())["batch_runs"] is True

