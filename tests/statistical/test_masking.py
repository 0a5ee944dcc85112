"""Pruned parameters never move during sampling; an all-true mask reproduces the unmasked chain."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from bayesprune import api
from bayesprune.data import load_dataset
from bayesprune.model import MLPSpec
from bayesprune.posterior import BNNPosterior
from bayesprune.samplers import run_chains

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("sampler", ["lgmh", "nuts"])
def test_pruned_parameters_stay_zero_and_kept_ones_move(sampler):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3)).astype(np.float32)
    y = rng.integers(0, 2, size=30).astype(np.int32)
    spec = MLPSpec(3, (4,), 2, output="softmax")
    post = BNNPosterior(spec, "classification")
    kept = np.sort(rng.choice(spec.n_params, size=10, replace=False)).astype(np.int32)
    init = rng.normal(size=(2, 10)).astype(np.float32) * 0.1
    r = run_chains(post, X, y, init, jax.random.key(0), sampler=sampler, num_warmup=100, num_draws=200,
                   kept_idx=kept)
    theta = np.asarray(post.theta(r.draws, kept))
    pruned = np.setdiff1d(np.arange(spec.n_params), kept)
    assert np.all(theta[..., pruned] == 0.0)
    assert np.all(theta[..., kept].std(axis=1) > 0)


def test_all_true_mask_reproduces_unmasked_chain():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3)).astype(np.float32)
    y = rng.normal(size=30).astype(np.float32)
    spec = MLPSpec(3, (4,), 1)
    post = BNNPosterior(spec, "regression")
    init = rng.normal(size=(2, spec.n_params + 1)).astype(np.float32) * 0.1
    a = run_chains(post, X, y, init, jax.random.key(5), sampler="lgmh", num_warmup=50, num_draws=300)
    b = run_chains(post, X, y, init, jax.random.key(5), sampler="lgmh", num_warmup=50, num_draws=300,
                   kept_idx=np.arange(spec.n_params, dtype=np.int32))
    np.testing.assert_allclose(a.draws, b.draws, rtol=1e-5, atol=1e-6)


@pytest.mark.optimised
def test_nuts_on_iris_converges_in_function_space(no_data_env):
    """Target: iris 4-12-3, 4 chains of NUTS, test accuracy >= 0.9 and function-space R-hat < 1.05."""
    ds = load_dataset("iris", seed=0)
    full = api.sample(ds, sampler="nuts", chains=4, samples=1000, seed=0)
    m = api.evaluate(full, ds)
    assert m.accuracy >= 0.9
    assert m.rhat_fn_max < 1.05
