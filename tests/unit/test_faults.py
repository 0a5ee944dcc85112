"""Numerical faults: overflowing proposals and step sizes far too large are rejected and counted, stuck chains
are warned about, and no metric is ever averaged over non-finite draws."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import bayesprune as bp
from bayesprune import api
from bayesprune.experiments.advice import stage_warnings


@pytest.fixture(scope="module")
def iris():
    return bp.load_dataset("sklearn:iris", seed=0)


def _finite_metrics(m) -> None:
    for key in ("accuracy", "nll", "ece", "brier", "point_estimate"):
        assert np.isfinite(getattr(m, key)), key


def test_overflowing_lgmh_proposals_are_rejected_and_counted(iris):
    cfg = {"lr": 1e38, "step_w": 1e38}  # every gradient move overflows float32
    ps = api.sample(iris, sampler="lgmh", chains=2, samples=400, seed=0, sampler_settings=cfg)
    r = ps.result
    assert np.all(np.isfinite(r.draws)) and np.all(np.isfinite(r.logdensity))
    assert r.acceptance_rate < 0.01 and int(np.sum(r.n_divergent)) > 0
    m = api.evaluate(ps, iris)
    _finite_metrics(m)
    assert m.n_divergent > 0


def test_stuck_and_divergent_chains_are_warned_about(iris):
    ps = api.sample(iris, sampler="lgmh", chains=2, samples=400, seed=0,
                    sampler_settings={"lr": 1e38, "step_w": 1e38})
    text = " ".join(stage_warnings("full", api.evaluate(ps, iris)))
    assert "stuck" in text and "divergent or non-finite" in text


def test_hmc_with_a_huge_step_size_counts_divergences(iris):
    cfg = {"step_size": 50.0, "adapt": False}
    ps = api.sample(iris, sampler="hmc", chains=2, samples=200, seed=0, sampler_settings=cfg)
    assert int(np.sum(ps.result.n_divergent)) > 0 and ps.result.acceptance_rate < 0.2
    assert np.all(np.isfinite(ps.result.draws))
    _finite_metrics(api.evaluate(ps, iris))


def test_tiny_steps_warn_acceptance_near_one(iris):
    ps = api.sample(iris, sampler="lgmh", chains=2, samples=400, seed=0,
                    sampler_settings={"lr": 0.0, "step_w": 1e-7, "step_eta": 1e-7})
    m = api.evaluate(ps, iris)
    assert m.acceptance_rate > 0.99
    assert any("too small" in w for w in stage_warnings("full", m))


def test_non_finite_draws_are_dropped_not_averaged(iris):
    ps = api.sample(iris, sampler="lgmh", chains=2, samples=200, seed=0)
    draws = np.array(ps.result.draws)
    draws[1, 3, :] = np.nan  # a corrupted draw (e.g. from a faulty file)
    ps = ps.replace(result=dataclasses.replace(ps.result, draws=draws))
    m = api.evaluate(ps, iris)
    assert m.n_nonfinite_draws > 0
    _finite_metrics(m)
