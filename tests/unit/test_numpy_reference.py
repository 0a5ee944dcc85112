"""The benchmark's NumPy baseline computes what it claims to, in both of its loop structures."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from numpy_reference import LoopLGMH, LoopNetwork  # noqa: E402


def _sgd_epoch(X, T, w, shape, lr, classification):
    """One epoch of per-row back-propagation of squared error, written out with matrices."""
    n_in, n_hidden, n_out = shape
    a = n_in * n_hidden
    W1 = w[:a].reshape(n_in, n_hidden).copy()
    B1 = w[a:a + n_hidden].copy()
    W2 = w[a + n_hidden:a + n_hidden + n_hidden * n_out].reshape(n_hidden, n_out).copy()
    B2 = w[a + n_hidden + n_hidden * n_out:].copy()
    for x, t in zip(X, T, strict=True):
        h = 1 / (1 + np.exp(-(x @ W1 + B1)))
        z = h @ W2 + B2
        out = np.exp(z - z.max()) / np.exp(z - z.max()).sum() if classification else z
        d_out = t - out
        d_hid = (W2 @ d_out) * h * (1 - h)
        W2, B2 = W2 + lr * np.outer(h, d_out), B2 + lr * d_out
        W1, B1 = W1 + lr * np.outer(x, d_hid), B1 + lr * d_hid
    return np.concatenate([W1.ravel(), B1, W2.ravel(), B2])


@pytest.mark.parametrize("classification", [True, False])
def test_per_weight_loops_and_vectorised_rows_take_the_same_sgd_epoch(classification):
    rng = np.random.default_rng(3)
    shape = (4, 5, 3 if classification else 1)
    X = rng.normal(size=(12, 4))
    T = np.eye(3)[rng.integers(0, 3, 12)] if classification else rng.normal(size=(12, 1))
    n = 4 * 5 + 5 + 5 * shape[2] + shape[2]
    w = rng.normal(0, 0.5, n)
    expected = _sgd_epoch(X, T, w, shape, 0.05, classification)
    for per_weight in (True, False):
        net = LoopNetwork(*shape, classification, 0.05, per_weight=per_weight)
        w_before = w.copy()
        np.testing.assert_allclose(net.langevin_gradient(X, T, w), expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(w, w_before)  # the starting point is not written into


def test_both_references_sample_the_same_chain_for_a_seed():
    rng = np.random.default_rng(0)
    X, Xt = rng.normal(size=(20, 3)), rng.normal(size=(8, 3))
    y, yt = rng.integers(0, 2, 20), rng.integers(0, 2, 8)
    runs = [LoopLGMH(X, y, Xt, yt, 4, True, seed=5, per_weight=pw).run(60) for pw in (True, False)]
    assert runs[0]["samples"] == runs[1]["samples"] == 60
    assert runs[0]["acceptance"] == runs[1]["acceptance"]
    assert 0 < runs[0]["acceptance"] < 1
