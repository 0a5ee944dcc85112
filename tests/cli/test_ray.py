"""The Ray executor: a grid run as Ray tasks on a local instance with 2 CPUs gives the local executor's results, a
worker killed mid-run costs only that run (Ray reruns it), a task's error arrives as the error it was, and without
Ray ``--executor ray`` ends with one line saying how to install it."""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from bayesprune.cli import main
from bayesprune.errors import OptionError
from bayesprune.experiments.config import select_configs
from bayesprune.experiments.executors import RayExecutor, init_ray
from bayesprune.experiments.grid import execute
from bayesprune.io.grid import load_results
from bayesprune.settings import ExecutorSpec, GridSpec, check


def test_no_cluster_at_the_address_is_one_line(data_dir, tmp_path, capsys):
    """Runs first, before this module starts its Ray instance: the command must connect by itself."""
    pytest.importorskip("ray")
    code = main(["reproduce", "--smoke", "--datasets", "iris", "--data-dir", str(data_dir), "--executor", "ray",
                 "--ray-address", "auto", "--quiet", "--out", str(tmp_path / "grid")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("bayesprune reproduce: error: --ray-address auto: no running Ray cluster")
    assert sum("error" in line for line in err) == 1


@pytest.fixture(scope="module")
def ray_2cpus():
    ray = pytest.importorskip("ray")
    init_ray(num_cpus=2)
    yield ray
    ray.shutdown()


def _spec(data_dir: Path) -> GridSpec:
    return GridSpec(configs=tuple(select_configs(["iris"], None)), runs=2, samples=400, resample_samples=200,
                    criteria=("stn",), rates=(0.75,), data_dir=str(data_dir))


def _numbers(out: Path):
    frame = load_results(out)
    frame = frame[~frame.metric.str.startswith("seconds")]
    return frame.sort_values(["dataset", "run", "criterion", "requested", "stage", "metric"]).reset_index(drop=True)


def _task_processes() -> list[int]:
    """PIDs of Ray workers running a task now (Ray titles a busy worker ``ray::<task function>``)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(b"ray::_call"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds Ray's worker processes in /proc")
def test_ray_grid_equals_local_and_survives_a_killed_worker(ray_2cpus, data_dir, tmp_path):
    spec = _spec(data_dir)
    execute(spec, tmp_path / "local")

    killed: list[int] = []
    stop = threading.Event()

    def kill_first_busy_worker():
        while not stop.is_set() and not killed:
            for pid in _task_processes():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.02)

    killer = threading.Thread(target=kill_first_busy_worker, daemon=True)
    killer.start()
    try:
        summary = execute(spec, tmp_path / "ray", executor=ExecutorSpec(executor="ray", ray_retries=2))
    finally:
        stop.set()
        killer.join()
    assert killed, "no busy Ray worker was seen, so none was killed"
    assert summary["ran"] == 2 and summary["executor"] == "ray"
    assert sorted(p.name for p in (tmp_path / "ray" / "runs" / "iris").iterdir()) == [
        "lgmh-run1", "lgmh-run2"]  # no .partial folder left by the killed worker
    local, ray = _numbers(tmp_path / "local"), _numbers(tmp_path / "ray")
    assert len(local) == len(ray) > 0
    assert local.drop(columns="value").equals(ray.drop(columns="value"))
    assert ((local.value == ray.value) | (local.value.isna() & ray.value.isna())).all()


def test_a_tasks_error_arrives_as_itself(ray_2cpus):
    with pytest.raises(OptionError, match="samples must be >= 2, got 1"):
        list(RayExecutor(ExecutorSpec(executor="ray")).map(functools.partial(check, "samples"), [1]))


def test_ray_missing_is_one_line(data_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    code = main(["reproduce", "--smoke", "--datasets", "iris", "--data-dir", str(data_dir), "--executor", "ray",
                 "--out", str(tmp_path / "grid")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "pip install 'bayesprune[ray]'" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "grid").exists()

