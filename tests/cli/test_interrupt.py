"""Interruption: Ctrl-C (SIGINT) and kill -9 during `bayesprune reproduce` lose at most the run in progress;
rerunning resumes and ends with exactly the numbers of an uninterrupted grid with the same seed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ARGS = ["reproduce", "--datasets", "iris", "--runs", "3", "--samples", "20000", "--resample-samples", "200",
        "--criteria", "stn,random", "--rates", "0.5", "--no-figures"]


CHILD = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
         "from bayesprune.cli import main; sys.exit(main(sys.argv[1:]))")


def _start(out: Path) -> subprocess.Popen:
    env = dict(os.environ, MPLBACKEND="Agg")
    # A child of a background job (as CI may run us) inherits an ignored SIGINT, and Python then installs no
    # Ctrl-C handler: the child installs Python's default one itself, as it has in an interactive terminal.
    return subprocess.Popen([sys.executable, "-c", CHILD, *ARGS, "--out", str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 300) -> None:
    t0 = time.time()
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"process ended before {path} appeared: {proc.stderr.read()}")
        if time.time() - t0 > timeout:
            proc.kill()
            pytest.fail(f"{path} did not appear within {timeout} s")
        time.sleep(0.02)


def _no_false_complete(out: Path) -> None:
    """Every visible run folder is complete; unfinished work only ever sits in hidden .partial folders."""
    for folder in (out / "runs" / "iris").iterdir():
        if not folder.name.startswith("."):
            assert (folder / "run.json").exists(), f"{folder} looks like a run but is incomplete"


def _numbers(out: Path, strip) -> dict:
    """Every metric of every run, without wall-clock timings (which legitimately differ)."""
    return {str(p.relative_to(out)): strip(json.loads(p.read_text()))
            for p in sorted(out.glob("runs/iris/*/**/*.json")) if p.name in ("run.json", "metrics.json")}


def test_interrupted_grid_resumes_to_the_same_numbers(tmp_path, without_timings):
    reference = tmp_path / "reference"
    done = subprocess.run([sys.executable, "-m", "bayesprune", *ARGS, "--quiet", "--out", str(reference)],
                          capture_output=True, text=True, env=dict(os.environ, MPLBACKEND="Agg"))
    assert done.returncode == 0, done.stderr

    out = tmp_path / "interrupted"
    proc = _start(out)  # Ctrl-C once run 1 is written
    _wait_for(out / "runs" / "iris" / "lgmh-run1" / "run.json", proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    _no_false_complete(out)
    assert not (out / "runs" / "iris" / "lgmh-run3").exists()

    proc = _start(out)  # kill -9 once run 2 is written
    _wait_for(out / "runs" / "iris" / "lgmh-run2" / "run.json", proc)
    proc.kill()
    proc.communicate(timeout=60)
    _no_false_complete(out)

    proc = _start(out)  # and finish
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert "run 1: already done" in err and "run 2: already done" in err
    assert not list((out / "runs" / "iris").glob(".*"))
    assert _numbers(out, without_timings) == _numbers(reference, without_timings)
    assert (out / "results.csv").read_text().count("\n") == (reference / "results.csv").read_text().count("\n")
