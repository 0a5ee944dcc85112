"""Shared fixtures. The paper's data files are found through $BAYESPRUNE_DATA (CI points it at ../shared/data);
tests that need them skip cleanly when it is not set or the folder is missing."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
# One on-disk JAX compilation cache for this test session (fresh each session), shared by the test workers
# (pytest-xdist's workers inherit it from the controller) and the subprocesses that the CLI tests start: a shape
# compiled in one process is loaded, not compiled again, in the others. Every compilation is cached, however
# short (JAX's default caches only those over a second). Set before JAX is imported.
_OWN_CACHE = None
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _OWN_CACHE = tempfile.mkdtemp(prefix="bayesprune-test-jax-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _OWN_CACHE
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
# The suite is compile-bound (many small shapes, short chains): XLA compiles faster without its optimisations than
# the optimised code would save, so the suite sets JAX's own switch for that, JAX_DISABLE_MOST_OPTIMIZATIONS (its
# worker processes and the CLI subprocesses inherit it). Measured on a 2-core CPU, same hour: the estimator file
# 119 s with XLA_FLAGS=--xla_backend_optimization_level=0 (the suite's earlier setting), 87 s with this; the
# whole suite 7:27 -> 6:32. The few compute-bound tests (long chains on one shape) are marked ``optimised`` and
# compile with optimisations on (the NUTS run on iris: 46 s without, 14 s with). Results differ only by
# floating-point rounding, which the statistical tests' tolerances allow (they are checked under several seeds).
# Set JAX_DISABLE_MOST_OPTIMIZATIONS=0 to compile everything optimised.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
# Without its optimisations XLA's CPU backend still compiles each fusion through its MLIR fusion emitters, which
# take longer to compile than its older emitters: the whole suite 6:55 against 4:58 back to back, the paper's seven
# sets through the smoke grid 48 s against 37 s (three runs each, same hour) with every metric equal to the last
# digit. With optimisations on (a user's run) the
# older emitters were slower in all (the default iris run 49-51 s against 41-43 s), so this is the suite's alone.
# An XLA_FLAGS that names the flag wins; XLA stops a process at a flag it does not know, so a JAX that has dropped
# it is asked first, once (the workers and subprocesses inherit the answer).
_EMITTERS_OFF = "--xla_cpu_use_fusion_emitters=false"
if (os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"] == "1" and "xla_cpu_use_fusion_emitters" not in
        os.environ.get("XLA_FLAGS", "") and "BAYESPRUNE_TEST_XLA_ASKED" not in os.environ):
    os.environ["BAYESPRUNE_TEST_XLA_ASKED"] = "1"
    _flags = f"{os.environ.get('XLA_FLAGS', '')} {_EMITTERS_OFF}".strip()
    with contextlib.suppress(subprocess.TimeoutExpired):  # no answer: the flags as they were
        if subprocess.run([sys.executable, "-c", "import jax.numpy as jnp; jnp.zeros(1).block_until_ready()"],
                          env={**os.environ, "XLA_FLAGS": _flags}, capture_output=True, timeout=120).returncode == 0:
            os.environ["XLA_FLAGS"] = _flags

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from bayesprune import api  # noqa: E402
from bayesprune.model import MLPSpec  # noqa: E402
from bayesprune.posterior import BNNPosterior  # noqa: E402
from bayesprune.samplers.driver import ChainResult  # noqa: E402

# Property-based tests: a fixed, derandomised profile (the same examples on every run; CI is reproducible).
# HYPOTHESIS_PROFILE=explore runs many more, randomised examples locally.
settings.register_profile("ci", max_examples=60, derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _optimised_test(request):
    """A test marked ``optimised`` compiles with XLA's optimisations on (a compute-bound test: long chains)."""
    with _optimisations(request.node.get_closest_marker("optimised") is not None):
        yield


@contextlib.contextmanager
def _optimisations(on: bool):
    if not on:
        yield
        return
    import jax

    before = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", False)
    try:
        yield
    finally:
        jax.config.update("jax_disable_most_optimizations", before)


# The test files that take longest (seconds of one worker, measured on a 2-core CPU: estimators 119, pipeline review
# 69, CLI 68, reproduce 64, samplers 60, docs 55, ...), run first so the workers finish together instead of one
# waiting on a long file started last (longest-first scheduling). An order only: a file missing from the list runs
# after these, and a stale entry costs nothing but balance.
_LONGEST_FIRST = ("tests/unit/test_estimators.py", "tests/unit/test_pipeline_review.py", "tests/cli/test_cli.py",
                  "tests/cli/test_reproduce.py", "tests/statistical/test_samplers.py", "tests/unit/test_docs.py",
                  "tests/unit/test_compact.py", "tests/cli/test_interrupt.py", "tests/statistical/test_masking.py",
                  "tests/cli/test_ray.py", "tests/unit/test_compress.py", "tests/cli/test_reproduce_grid.py",
                  "tests/unit/test_driver.py", "tests/unit/test_warmstart.py", "tests/unit/test_sgmcmc.py",
                  "tests/unit/test_standard_data.py", "tests/unit/test_review_fixes.py")


def pytest_configure(config):
    # pytest-xdist (>= 3.6) reorders its file queue by the number of tests in a file unless told not to, which put
    # the one-test files that take a minute (the seven-data-set grid, the interrupted grid) last and left one
    # worker idle for a minute at the end; keep the order of _LONGEST_FIRST instead.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(_LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: file order kept


def pytest_unconfigure(config):
    """The process that made the session's compilation cache removes it."""
    if _OWN_CACHE is not None and not hasattr(config, "workerinput"):
        shutil.rmtree(_OWN_CACHE, ignore_errors=True)


def _data_dir() -> Path | None:
    env = os.environ.get("BAYESPRUNE_DATA")
    if env and Path(env).is_dir():
        return Path(env)
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = _data_dir()
    if d is None:
        pytest.skip("paper data not available: set BAYESPRUNE_DATA to the folder of the paper's files")
    return d


@pytest.fixture
def no_data_env(monkeypatch, tmp_path):
    """No data directory and an empty cache: only embedded data sets are available."""
    monkeypatch.delenv("BAYESPRUNE_DATA", raising=False)
    monkeypatch.setenv("BAYESPRUNE_CACHE", str(tmp_path / "cache"))


def _without_timings(obj):
    """A metrics object without wall-clock fields (which differ between identical runs)."""
    if isinstance(obj, dict):
        return {k: _without_timings(v) for k, v in obj.items()
                if "seconds" not in k and k not in ("compact", "provenance")}
    if isinstance(obj, list):
        return [_without_timings(v) for v in obj]
    return obj


@pytest.fixture(scope="session")
def without_timings():
    return _without_timings


def _fake_sample(chains: int = 4, seed: int = 0) -> api.PosteriorSample:
    """A posterior sample of the iris network with made-up draws (no sampling needed to test pruning)."""
    spec = MLPSpec(4, (12,), 3)
    rng = np.random.default_rng(seed)
    draws = rng.normal(size=(chains, 20, spec.n_params)).astype(np.float32)
    zeros = np.zeros((chains, 20), np.float32)
    result = ChainResult(
        draws=draws, logdensity=zeros, acceptance=zeros, diverging=zeros.astype(bool), mean=draws.mean(axis=1),
        var=draws.var(axis=1), last_position=draws[:, -1], n_steps=20, n_warmup=0, thin=1,
        n_divergent=np.zeros(chains, int), n_grad_evals=np.zeros(chains, int), mean_acceptance=np.zeros(chains),
        sampler="hmc")
    return api.PosteriorSample(BNNPosterior(spec, "classification"), result)


@pytest.fixture(scope="session")
def fake_sample():
    """A factory of posterior samples of the iris network with made-up draws."""
    return _fake_sample
