"""Shared fixtures. The paper's data files are found through $BAYESPRUNE_DATA (CI points it at ../shared/data);
tests that need them skip cleanly when it is not set or the folder is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


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
