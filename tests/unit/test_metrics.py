"""Metrics on worked examples and against reference implementations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayesprune.evaluation import metrics


def test_ece_worked_example():
    # 4 rows: confidences 0.9, 0.9 (bin 9), 0.6 (bin 6), 0.3 (bin 3 for 3 classes)
    proba = np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.6, 0.3, 0.1], [0.3, 0.35, 0.35]])
    y = np.array([0, 0, 0, 0])  # correct, wrong, correct, wrong (argmax of last row is 1)
    # bin(0.9): conf 0.9, acc 0.5 -> |0.4| * 2/4; bin(0.6): conf .6 acc 1 -> .4 * 1/4; bin(.35): acc 0 -> .35/4
    expected = 0.4 * 0.5 + 0.4 * 0.25 + 0.35 * 0.25
    assert metrics.ece(y, proba) == pytest.approx(expected)


def test_brier_and_accuracy():
    proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    y = np.array([0, 1, 2])
    assert metrics.brier(y, proba) == pytest.approx((0.06 + 0.14 + 0.54) / 3)
    assert metrics.accuracy(y, proba) == 1.0
    binary = np.array([[0.9, 0.1], [0.4, 0.6]])
    assert metrics.brier(np.array([0, 0]), binary) == pytest.approx((0.02 + 0.72) / 2)


def test_mixture_nll_single_component_is_gaussian_nll():
    y = np.array([0.1, -0.4, 2.0])
    means = np.array([[0.0, 0.0, 1.0]])
    got = metrics.gaussian_mixture_nll(y, means, np.array([0.25]))
    assert got == pytest.approx(-np.mean(stats.norm.logpdf(y, means[0], 0.5)))
    two = metrics.gaussian_mixture_nll(y, np.vstack([means, means + 1]), np.array([0.25, 1.0]))
    ref = -np.mean(np.log(0.5 * stats.norm.pdf(y, means[0], 0.5) + 0.5 * stats.norm.pdf(y, means[0] + 1, 1.0)))
    assert two == pytest.approx(ref)


def test_picp_mpiw_and_crps():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    lo, hi = np.array([-1.0, 1.5, 1.0, 2.9]), np.array([1.0, 2.0, 3.0, 3.1])
    assert metrics.picp(y, lo, hi) == 0.75
    assert metrics.mpiw(lo, hi) == pytest.approx((2 + 0.5 + 2 + 0.2) / 4)
    # CRPS of N(0,1) at y=0 is (sqrt(2) - 1)/sqrt(pi) ~ 0.2337; a large ensemble approaches it
    samples = np.random.default_rng(0).normal(size=(20000, 1))
    assert metrics.crps(np.array([0.0]), samples) == pytest.approx((np.sqrt(2) - 1) / np.sqrt(np.pi), abs=5e-3)
    properscoring = pytest.importorskip("properscoring")
    rng = np.random.default_rng(1)
    ens, obs = rng.normal(size=(50, 7)), rng.normal(size=7)
    assert metrics.crps(obs, ens) == pytest.approx(np.mean(properscoring.crps_ensemble(obs, ens.T)), rel=1e-10)
    assert metrics.rmse(np.array([0.0, 0.0]), np.array([3.0, 4.0])) == pytest.approx(np.sqrt(12.5))
