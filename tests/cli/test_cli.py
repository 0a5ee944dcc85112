"""Every command on tiny settings; every user mistake exits 2 with one line and no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from bayesprune._arviz import az
from bayesprune.cli import main
from bayesprune.io.compact import load_model
from bayesprune.io.schema import validate_metrics
from bayesprune.progress import PlainStage

TINY = ["--samples", "300", "--resample-samples", "200", "--chains", "2", "--quiet"]


def run_cli(args, capsys):
    try:
        code = main(args)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_help_teaches(capsys):
    code, out, _ = run_cli(["--help"], capsys)
    assert code == 0
    for word in ("run", "data", "examples", "STN"):
        assert word in out
    code, out, _ = run_cli(["run", "--help"], capsys)
    assert code == 0 and "--resample-samples" in out and "--criterion" in out


def test_an_arviz_of_the_new_api_is_one_line_before_any_work(tmp_path):
    """ArviZ 1.x (Python 3.12+) changed the API bayesprune calls (a default run on Python 3.13 failed in
    ``from_dict``): with one installed, ``run`` stops at once with exit 2 and the line that says what to install."""
    fake = tmp_path / "arviz"
    fake.mkdir()
    (fake / "__init__.py").write_text('__version__ = "1.3.0"\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "bayesprune", "run", "--quiet"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "bayesprune run: error: bayesprune needs ArviZ 0.x (0.23.4 or later), found 1.3.0, whose data API changed; "
        "install it with: pip install 'arviz>=0.23.4,<1'"]


def test_every_compiled_function_is_kept_on_disk(tmp_path, monkeypatch):
    """JAX keeps only compilations over 1 s by default; most of a run's take 0.1-0.5 s, so the CLI keeps all,
    unless JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS says otherwise."""
    import jax

    from bayesprune.cli import enable_compilation_cache

    before = (jax.config.jax_compilation_cache_dir, jax.config.jax_persistent_cache_min_compile_time_secs)
    for name in ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "BAYESPRUNE_JIT_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BAYESPRUNE_CACHE", str(tmp_path))
    try:
        enable_compilation_cache()
        assert jax.config.jax_compilation_cache_dir == str(tmp_path / "jax")
        assert jax.config.jax_persistent_cache_min_compile_time_secs == 0.0
    finally:
        jax.config.update("jax_compilation_cache_dir", before[0])
        jax.config.update("jax_persistent_cache_min_compile_time_secs", before[1])


def test_run_classification_writes_schema(tmp_path, capsys, no_data_env):
    out_dir = tmp_path / "iris"
    # the accuracy cap off: on chains this short the 75% model loses a training row of LOO accuracy and the guard
    # keeps the full network, while this test reads a compact model's record
    code, out, err = run_cli(["run", *TINY, "--rate-guard-accuracy", "0", "--out", str(out_dir)], capsys)
    assert code == 0, err
    assert "full" in out and "resampled" in out and "accuracy" in out
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert validate_metrics(metrics) == []
    assert metrics["dataset"] == "iris" and metrics["task"] == "classification"
    assert metrics["n_params"] == 99 and metrics["n_params_kept"] == 25
    assert metrics["criterion"] == "stn" and metrics["rate"] == 0.75
    # iris's seed-0 split: every test row inside the training range, and the record says so
    assert metrics["extrapolation"]["test_rows"] == 60 and metrics["extrapolation"]["rows_outside"] == 0
    assert set(metrics["extrapolation"]["error_share"]) == {"full", "resampled"}
    # the paired comparison counts the same rows the table's accuracies do
    vs = metrics["versus_full"]
    assert vs["metric"] == "accuracy" and vs["rows"] == 60
    assert vs["difference"] == pytest.approx(metrics["stages"]["resampled"]["accuracy"]
                                             - metrics["stages"]["full"]["accuracy"])
    assert vs["changed"] >= vs["lost"] + vs["gained"] and 0.0 < vs["p_value"] <= 1.0
    report = (out_dir / "report.md").read_text()
    assert "compact against full:" in report
    # MCLMC's unset step size and L are its defaults (tuned in warm-up), not the word None
    assert "step_size default" in report and "None" not in report.split("- Sampler settings:")[1].split("\n")[0]
    # ... and what warm-up tuned them to is recorded per chain, and reported as the chains' median and range
    chains = metrics["config"]["chains"]
    for stage in ("full", "resampled"):
        tuned = metrics["tuned"][stage]
        assert set(tuned) == {"L", "step_size"} and all(len(v) == chains and min(v) > 0 for v in tuned.values())
    step = sorted(metrics["tuned"]["full"]["step_size"])
    assert ("- Sampler parameters after warm-up (median over chains, range): L " in report
            and f"step_size {np.median(step):.3g} ({step[0]:.3g}-{step[-1]:.3g})" in report)
    assert "resampling sampler parameters after warm-up: L " in report
    for name in ("report.md", "posterior_full.nc", "posterior_resampled.nc", "figures/reliability.png",
                 "figures/scores_stn_0.75.png"):
        assert (out_dir / name).is_file(), name
    idata = az.from_netcdf(str(out_dir / "posterior_resampled.nc"))
    assert idata.posterior["theta"].shape[-1] == 25
    assert {"lp", "acceptance_rate", "diverging"} <= set(idata.sample_stats.data_vars)
    assert "log_likelihood" in idata.groups()
    assert "| full |" in (out_dir / "report.md").read_text()


def test_run_regression_sweep(tmp_path, capsys, no_data_env):
    out_dir = tmp_path / "diab"
    code, out, err = run_cli(["run", "--dataset", "diabetes", *TINY, "--sampler", "hmc", "--criterion", "stn,random",
                              "--rate", "0.5,0.9", "--structured", "--out", str(out_dir)], capsys)
    assert code == 0, err
    assert "…" not in out  # not a terminal: every table printed whole, no cell cut to a width
    sweep = json.loads((out_dir / "sweep.json").read_text())
    assert len(sweep) == 4
    for m in sweep:
        assert validate_metrics(m) == []
        assert m["structured"] is True
    assert (out_dir / "stn-0.5/metrics.json").is_file()
    assert (out_dir / "figures/predictive_bands.png").is_file()
    assert (out_dir / "figures/metric_vs_rate.png").is_file()


def test_same_seed_same_numbers(tmp_path, capsys, no_data_env):
    def metrics(d):
        m = json.loads((d / "metrics.json").read_text())
        for stage in m["stages"].values():
            stage.pop("seconds")
        return m["stages"]

    assert run_cli(["run", *TINY, "--seed", "3", "--no-figures", "--out", str(tmp_path / "a")], capsys)[0] == 0
    # the second run without --quiet: stderr is captured, not a terminal, so progress comes as lines, not bars
    code, _, err = run_cli(["run", *[a for a in TINY if a != "--quiet"], "--seed", "3", "--no-figures", "--out",
                            str(tmp_path / "b")], capsys)
    assert code == 0, err
    lines = err.splitlines()
    assert "sampling 2xmclmc: 300 steps ..." in lines and "resampling stn 75%: 200 steps ..." in lines
    assert any(line.startswith("sampling 2xmclmc: done in") for line in lines)
    # the optimised starts and their fine-tuning after pruning (Adam steps) are stages of their own
    assert "optimising 2 starts: 1,000 steps ..." in lines and "fine-tuning stn 75%: 1,000 steps ..." in lines
    assert metrics(tmp_path / "a") == metrics(tmp_path / "b")  # bit-identical, not just close
    m = json.loads((tmp_path / "a" / "metrics.json").read_text())
    prov = m["provenance"]
    for key in ("bayesprune", "jax", "blackjax", "arviz", "numpy", "python", "platform", "data_sha256"):
        assert prov.get(key), key
    assert m["seed"] == 3 and m["config"]["seed"] == 3 and m["config"]["samples"] == 300


def test_run_clips_test_inputs_far_beyond_the_training_range(tmp_path, capsys):
    """--clip-inputs: test cells more than half the training rows' range past it are clipped there; the first
    line and metrics.json count them, and the extrapolation record sees the clipped rows."""
    from bayesprune.data.splits import split_indices
    from bayesprune.evaluation.extrapolation import outside
    from bayesprune.experiments.runner import load_data
    from bayesprune.seeds import stream_int
    from bayesprune.settings import RunConfig

    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, (60, 2))
    test_rows = split_indices(60, test_fraction=0.4, seed=stream_int(0, "split"))[1]  # the run's split (seed 0)
    x[test_rows[:4], 0] = 3.0  # four test rows two ranges past the training rows' [0, 1) in the first feature
    x[test_rows[4:6], 0] = 1.2  # two a little past it, kept as they are
    csv = tmp_path / "far.csv"
    csv.write_text("a,b,y\n" + "".join(f"{a:.4f},{b:.4f},{np.sin(3 * a) + b:.4f}\n" for a, b in x))
    ds = load_data(RunConfig(csv=str(csv), target="y", clip_inputs=True))
    expected = ds.meta["clipped_inputs"]
    assert expected == {"a": 4}
    code, out, err = run_cli(["run", "--csv", str(csv), "--target", "y", "--clip-inputs", "--hidden", "4", *TINY,
                              "--sampler", "hmc", "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err
    n = sum(expected.values())
    assert (f"{n} test cell{'s' * (n != 1)} beyond half the training rows' range past its edge clipped there: "
            + ", ".join(f"{c} {k}" for c, k in expected.items())) in " ".join(out.split())
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert m["extrapolation"]["clipped_inputs"] == expected
    assert m["extrapolation"]["rows_outside"] == int(outside(ds.X_train, ds.X_test).sum())
    assert m["config"]["clip_inputs"] is True
    assert load_model(tmp_path / "run" / "model.bpz").header["x_range"]["high"][0] == pytest.approx(
        1.5 * ds.X_train[:, 0].max() - 0.5 * ds.X_train[:, 0].min())


def test_run_user_csv(tmp_path, capsys):
    """A user's file with a text feature column and missing cells: the run encodes the column one input per
    category, fills the missing cells (a category of their own; a numeric column's training median, flagged) and
    leaves out the row without a target; predict encodes and fills new rows the same way from the model file,
    refusing a category the model never saw and a missing cell in a column that had none."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    label = np.where(X[:, 0] + X[:, 1] > 0, "high", "low")
    shade = ["dark" if i % 3 else "light" for i in range(80)]
    lines = ["p,q,r,shade,kind"] + [f"{'' if i % 10 == 0 else f'{a:.3f}'},{b:.3f},{c:.3f},"
                                    f"{'NA' if i % 15 == 7 else s},{'' if i == 79 else k}"
                                    for i, ((a, b, c), s, k) in enumerate(zip(X, shade, label, strict=True))]
    csv = tmp_path / "mine.csv"
    csv.write_text("\r".join(lines))  # CR-only endings, like the reef files
    code, _, err = run_cli(["run", "--csv", str(csv), "--target", "kind", "--features", "p,shade,q"], capsys)
    assert code == 2 and "row 2, column 1 ('p'): missing value (''); fill the cell, or let bayesprune fill it" in err
    code, out, err = run_cli(["run", "--csv", str(csv), "--target", "kind", "--features", "p,shade,q", "--missing",
                              "fill", "--hidden", "4", *TINY, "--sampler", "hmc", "--out", str(tmp_path / "run")],
                             capsys)
    assert code == 0, err
    summary = " ".join(out.split())  # the line as printed, however the console wrapped it
    assert ("mine: classification, 6 features (3 of them one per category of shade), 2 classes, 47 train / 32 "
            "test rows (1 without a target left out; 13 missing cells filled: p 8, shade 5") in summary, out
    model = load_model(tmp_path / "run" / "model.bpz")
    assert model.feature_names == ["p", "p=(missing)", "shade=dark", "shade=light", "shade=(missing)", "q"]
    assert list(model.fills) == ["p"] and model.raw_features == ["p", "shade", "q"]
    new = tmp_path / "new.csv"
    new.write_text("q,shade,p\n0.5,light,1.0\n-2.0,dark,-1.5\n0.1,NA,\n")
    code, out, err = run_cli(["predict", str(tmp_path / "run" / "model.bpz"), "--csv", str(new)], capsys)
    assert code == 0, err
    assert out.splitlines()[0].startswith("class,sd,p_high,p_low") and len(out.splitlines()) == 4
    inputs = model.inputs(pd.DataFrame({"p": ["", "1.0"], "shade": ["?", "dark"], "q": [0.5, -2.0]}))
    np.testing.assert_array_equal(inputs, [[model.fills["p"], 1, 0, 0, 1, 0.5], [1.0, 0, 1, 0, 0, -2.0]])
    new.write_text("q,shade,p\n,light,1.0\n")
    code, _, err = run_cli(["predict", str(tmp_path / "run" / "model.bpz"), "--csv", str(new)], capsys)
    assert code == 2 and "row 2, column 1 ('q'): missing value ('')" in err
    new.write_text("q,shade,p\n0.5,dim,1.0\n")
    code, _, err = run_cli(["predict", str(tmp_path / "run" / "model.bpz"), "--csv", str(new)], capsys)
    assert code == 2 and ("row 2, column 2 ('shade'): 'dim' is not a category the model knows (dark, light); use one "
                          "of them, or leave the cell empty (missing)") in err


BAD = [
    (["run", "--dataset", "nope"], "unknown data set 'nope'"),
    (["run", "--rate", "1.5"], "outside [0, 1)"),
    (["run", "--rate", "abc"], "--rate 'abc' is neither a rate in [0, 1) nor 'auto'"),
    (["run", "--samples", "0"], "--samples must be >= 2, got 0"),
    (["run", "--sampler", "gibbs"], "--sampler 'gibbs' is unknown; choose one of lgmh"),
    (["run", "--criterion", "size"], "--criterion 'size' is unknown"),
    (["run", "--csv", "nowhere.csv", "--target", "y"], "file not found"),
    (["run", "--csv", "x.csv"], "x.csv: file not found"),  # the file is read to name its columns
    (["run", "--hidden", "0"], "--hidden must list widths >= 1"),
    (["run", "--burnin", "1.0"], "--burnin"),
    (["run", "--dataset", "lazer", "--data-dir", "/nonexistent"], "bayesprune data fetch lazer"),
    (["data"], "say what to do"),
    (["data", "verify", "--data-dir", "/nonexistent"], "missing"),
]


@pytest.mark.parametrize("args,expected", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_exits_2_with_one_line(args, expected, capsys, no_data_env):
    code, _, err = run_cli(args, capsys)
    if args[:2] == ["data", "verify"]:
        assert code == 1 and expected in err + _
        return
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert expected in lines[0]
    assert "Traceback" not in err


def test_compact_line_gives_a_ratio_only_when_something_was_pruned():
    from bayesprune.cli import compact_line
    from bayesprune.evaluation.records import CompactInfo

    info = dict(layout="dense", n_draws=200, hidden_full=[12], inputs_full=4, inputs_compact=4,
                bytes_dense=40_000, bytes_dense_compressed=36_000)
    pruned = CompactInfo(n_params=99, n_params_kept=25, hidden_compact=[7], bytes_compact=11_000, **info)
    assert compact_line("stn", 0.75, pruned).endswith("11,000 bytes (28% of dense)")
    kept = CompactInfo(n_params=99, n_params_kept=99, hidden_compact=[12], bytes_compact=42_400, **info)
    line = compact_line("stn", 0.0, kept)  # the rate guard kept the full network: its file is not "106% of dense"
    assert line.startswith("compact model stn 0%: 99/99 parameters") and "of dense" not in line
    assert line.endswith("42,400 bytes (nothing pruned: the full network's draws)")


def test_csv_without_target_names_the_columns(tmp_path, capsys):
    csv = tmp_path / "houses.csv"
    csv.write_text("rooms,area,price\n3,70,1.5\n4,90,2.0\n")
    code, _, err = run_cli(["run", "--csv", str(csv)], capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert "--target is needed with --csv" in err
    assert "one of rooms, area, price (for example --target price)" in err


def test_a_log_target_that_reaches_zero_is_refused_before_any_work(tmp_path, capsys):
    csv = tmp_path / "houses.csv"
    csv.write_text("rooms,price\n" + "\n".join(f"{i},{(i - 2) * 1.5}" for i in range(12)))
    code, _, err = run_cli(["run", "--csv", str(csv), "--target", "price", "--target-transform", "log"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "houses.csv: row 2, column 2 ('price'): -3 is not above 0" in err and "(3 are not)" in err


def test_data_list_and_verify(data_dir, capsys):
    code, out, _ = run_cli(["data", "list", "--data-dir", str(data_dir)], capsys)
    assert code == 0
    for name in ("lazer", "sunspot", "abalone", "iris", "ionosphere", "abalone_classification", "reef_325"):
        row = next(line for line in out.splitlines() if line.startswith(name + " "))
        assert " yes " in row, row
    code, out, _ = run_cli(["data", "verify", "--data-dir", str(data_dir)], capsys)
    assert code == 0 and "all files match" in out


def test_plain_progress_writes_a_line_per_quarter():
    lines, now = [], [0.0]
    advance = PlainStage("sampling 4xmclmc", 1000, lines.append, clock=lambda: now[0])
    for n in (500, 100, 100, 50, 250):  # warm-up first, then chunks of draws, as the driver reports them
        now[0] += 10.0  # each chunk 10 s
        advance(n)
    assert lines[0] == "sampling 4xmclmc: 1,000 steps ..."
    # one line per quarter crossed (the warm-up's 500 crosses two), then the end; nothing else
    assert lines[1:-1] == ["sampling 4xmclmc: 500/1,000 (10 s)", "sampling 4xmclmc: 750/1,000 (40 s)"]
    assert lines[-1] == "sampling 4xmclmc: done in 50 s" and len(lines) == 4
    # a stage of a few seconds: where it starts and where it ends, no quarters in between
    lines.clear()
    advance = PlainStage("optimising 4 starts", 1000, lines.append, clock=lambda: now[0])
    for _ in range(20):
        now[0] += 0.1
        advance(50)
    assert lines == ["optimising 4 starts: 1,000 steps ...", "optimising 4 starts: done in 2 s"]


def test_entry_point_subprocess(no_data_env):
    proc = subprocess.run([sys.executable, "-m", "bayesprune.cli", "run", "--rate", "2"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "rate" in proc.stderr
