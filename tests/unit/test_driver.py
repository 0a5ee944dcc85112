"""The chain driver: shapes with thinning and uneven chunks, streaming to disk, running moments."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

from bayesprune.model import MLPSpec
from bayesprune.posterior import BNNPosterior
from bayesprune.samplers import registry, run_chains


def _problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(25, 2)).astype(np.float32)
    y = (X[:, 0] - X[:, 1] + rng.normal(scale=0.3, size=25)).astype(np.float32)
    return BNNPosterior(MLPSpec(2, (3,), 1), "regression"), X, y


def test_thinning_uneven_chunks_and_memmap(tmp_path):
    post, X, y = _problem()
    init = np.zeros((3, post.position_size()), np.float32)
    calls = []
    r = run_chains(post, X, y, init, jax.random.key(0), sampler="lgmh", num_warmup=40, num_draws=1030, thin=10,
                   chunk_size=400, draws_file=tmp_path / "draws.npy", progress=calls.append)
    assert r.draws.shape == (3, 103, post.position_size())
    assert r.n_steps == 1030 and sum(calls) == 40 + 1030
    on_disk = np.load(tmp_path / "draws.npy", mmap_mode="r")
    np.testing.assert_array_equal(on_disk, r.draws)
    assert r.logdensity.shape == r.acceptance.shape == (3, 103)
    assert np.all(np.isfinite(r.logdensity)) and np.all((r.acceptance >= 0) & (r.acceptance <= 1))
    # running moments cover every post-burn-in step, so they differ from the thinned draws' moments
    assert r.mean.shape == (3, post.position_size())
    np.testing.assert_allclose(r.mean, r.draws.mean(axis=1), atol=0.5)


def test_same_key_same_draws_and_different_key_differs():
    post, X, y = _problem()
    init = np.zeros((2, post.position_size()), np.float32)
    a = run_chains(post, X, y, init, jax.random.key(1), sampler="lgmh", num_warmup=10, num_draws=200)
    b = run_chains(post, X, y, init, jax.random.key(1), sampler="lgmh", num_warmup=10, num_draws=200)
    c = run_chains(post, X, y, init, jax.random.key(2), sampler="lgmh", num_warmup=10, num_draws=200)
    np.testing.assert_array_equal(a.draws, b.draws)
    assert not np.array_equal(a.draws, c.draws)


@pytest.mark.parametrize(("num_warmup", "num_draws", "thin", "chunk_size"), [
    (300, 331, 1, 200),  # warm-up with a remainder block; chunks of 200 and 131 kept draws (131 is prime)
    (20, 1200, 300, 600),  # one kept draw spans more steps than a block: numbers drawn in each step
    (0, 96, 3, 5000),
])
def test_lgmh_block_generated_numbers_give_the_step_by_step_chain(num_warmup, num_draws, thin, chunk_size):
    """The driver generates LG-MH's random numbers for a block of steps at once; the chain must be the one the
    BlackJAX-style ``step(key, state)`` gives with the same keys (a definition without ``randomness``)."""
    post, X, y = _problem()
    init = np.full((2, post.position_size()), 0.1, np.float32)
    kw = dict(num_warmup=num_warmup, num_draws=num_draws, thin=thin, chunk_size=chunk_size)
    blocked = run_chains(post, X, y, init, jax.random.key(4), sampler="lgmh", **kw)
    per_step = dataclasses.replace(registry.get_sampler("lgmh"), randomness=None)
    reference = run_chains(post, X, y, init, jax.random.key(4), sampler=per_step, **kw)
    assert per_step.random_numbers(jax.random.split(jax.random.key(0), 3), 5).shape == (3,)  # keys: per step
    assert blocked.draws.shape == (2, num_draws // thin, post.position_size())
    np.testing.assert_allclose(blocked.draws, reference.draws, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(blocked.mean, reference.mean, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(blocked.acceptance > 0, reference.acceptance > 0)


def test_a_continued_run_pools_its_moments_exactly():
    """``extended`` appends a continuation (same tuning, no warm-up) and combines the running moments exactly:
    with every step kept they equal the moments of all the draws."""
    post, X, y = _problem()
    init = np.zeros((2, post.position_size()), np.float32)
    first = run_chains(post, X, y, init, jax.random.key(0), sampler="hmc", num_warmup=100, num_draws=150, thin=1)
    more = run_chains(post, X, y, first.last_position, jax.random.key(1), sampler="hmc", num_warmup=0,
                      num_draws=250, thin=1, params=first.params)
    assert np.array_equal(more.params["step_size"], first.params["step_size"])  # the tuning carried over
    both = first.extended(more)
    assert both.draws.shape == (2, 400, post.position_size()) and both.n_steps == 400
    np.testing.assert_allclose(both.mean, both.draws.mean(axis=1), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(both.var, both.draws.var(axis=1), rtol=1e-3, atol=1e-6)
    thinned = both.thinned(3)
    assert thinned.thin == 3 and thinned.draws.shape[1] == 133
    np.testing.assert_array_equal(thinned.draws, both.draws[:, 2:399:3])
    np.testing.assert_array_equal(thinned.mean, both.mean)
