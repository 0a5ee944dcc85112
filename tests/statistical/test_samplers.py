"""Samplers against closed-form posteriors (fixed seeds, no seed hunting).

Bayesian linear regression is a network with no hidden layer and identity output; with known noise tau^2 and
prior N(0, sigma^2 I) its posterior is Gaussian with covariance S = (A^T A / tau^2 + I / sigma^2)^-1 and mean
S A^T y / tau^2, where A = [X, 1]. After checking that every coordinate has bulk ESS > 200 we require
|mean - truth| < z * MCSE(mean) and |sd - truth| < z * MCSE(sd), with MCSE from ArviZ. There are 3
coordinates x 2 checks x 7 sampler set-ups + 5 checks on the 2-D Gaussian = 47 checks; z = 4.1 gives a
two-sided per-check failure rate of 4.1e-5 and a family-wise rate below 2e-3 when the sampler is correct.

Unadjusted MCLMC has no Metropolis step and is biased by its discretisation. Measured on this posterior (32
chains x 20,000 steps, BlackJAX's tuning to an energy error variance of 5e-4 per dimension): posterior sds
0.7% +- 0.2% too small, means unbiased within 0.3% of an sd (1e-4: sds 0.4% too small). Its sd check
allows that bias, 2% of the sd, on top of z * MCSE.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bayesprune._arviz import az
from bayesprune.model import MLPSpec
from bayesprune.posterior import BNNPosterior
from bayesprune.samplers import (
    AdjustedMCLMCSettings,
    BarkerSettings,
    HMCSettings,
    LGMHSettings,
    MALASettings,
    MCLMCSettings,
    NUTSSettings,
    lgmh,
    run_chains,
)

pytestmark = pytest.mark.slow
Z = 4.1
TAU2, SIGMA2 = 0.25, 25.0


def _blr_problem():
    rng = np.random.default_rng(42)
    X = rng.normal(size=(40, 2)).astype(np.float32)
    y = (X @ np.array([1.5, -0.7]) + 0.3 + rng.normal(scale=np.sqrt(TAU2), size=40)).astype(np.float32)
    A = np.column_stack([X, np.ones(40)]).astype(np.float64)
    cov = np.linalg.inv(A.T @ A / TAU2 + np.eye(3) / SIGMA2)
    mean = cov @ A.T @ y / TAU2
    return X, y, mean, np.sqrt(np.diag(cov))


def _check(draws: np.ndarray, mean: np.ndarray, sd: np.ndarray, label: str, sd_bias: float = 0.0) -> dict:
    """Assert the draws' means and sds within ``Z`` MCSEs of the truth; return the smallest bulk ESS and the
    largest errors in MCSEs (``z_mean``, ``z_sd``; the sd's net of its allowed bias)."""
    ds = az.convert_to_dataset({"x": draws})
    ess = az.ess(ds, method="bulk")["x"].values
    assert np.all(ess > 200), f"{label}: ESS {ess} too low for the MCSE test"
    mcse_mean = az.mcse(ds, method="mean")["x"].values
    mcse_sd = az.mcse(ds, method="sd")["x"].values
    flat = draws.reshape(-1, draws.shape[-1])
    err_mean = np.abs(flat.mean(0) - mean)
    err_sd = np.abs(flat.std(0) - sd)
    assert np.all(err_mean < Z * mcse_mean), f"{label}: mean error {err_mean} vs MCSE {mcse_mean}"
    assert np.all(err_sd < Z * mcse_sd + sd_bias * sd), f"{label}: sd error {err_sd} vs MCSE {mcse_sd}"
    return {"ess_min": float(ess.min()), "z_mean": float(np.max(err_mean / mcse_mean)),
            "z_sd": float(np.max(np.maximum(err_sd - sd_bias * sd, 0.0) / mcse_sd))}


SETTINGS = {
    # LG-MH with the paper's structure; lr and step scaled to this posterior (sd ~ 0.08, curvature ~ 160)
    "lgmh": (LGMHSettings(lr=0.002, step_w=0.04), 4000, 40000, 0.0),
    "mala": (MALASettings(), 1000, 6000, 0.0),
    "barker": (BarkerSettings(), 1000, 6000, 0.0),
    # HMC's default trajectory is jittered (samplers/hmc.py). A fixed one resonated on this nearly whitened
    # Gaussian when the trajectory (steps x ~0.8) came near a period (5 fixed steps: one chain's sd 1.7x the truth;
    # 8 fixed steps: a bulk ESS of 7.8 on one coordinate on another CPU; 3 fixed steps with the dense mass matrix:
    # an sd 5.2 MCSEs off under one of six seeds, benchmarks/results/sampler_seeds.md). Jittered, both pass
    # under every seed tried.
    "hmc": (HMCSettings(num_integration_steps=8), 500, 6000, 0.0),
    "hmc-dense": (HMCSettings(num_integration_steps=3, dense_mass=True), 500, 6000, 0.0),
    "nuts": (NUTSSettings(), 500, 2000, 0.0),
    "mclmc": (MCLMCSettings(), 1000, 6000, 0.02),  # unadjusted: see the module docstring for its bias
    "amclmc": (AdjustedMCLMCSettings(), 1000, 6000, 0.0),
}


@pytest.mark.parametrize("setup", list(SETTINGS))
def test_bayesian_linear_regression_closed_form(setup):
    closed_form_check(setup)


def closed_form_check(setup: str, seed: int = 7) -> dict:
    """The check of ``setup`` with the chains' key from ``seed`` and their starts from ``seed - 7`` (the suite
    runs seed 7; benchmarks/sampler_seeds.py runs others)."""
    X, y, mean, sd = _blr_problem()
    post = BNNPosterior(MLPSpec(2, (), 1), "regression", prior_var=SIGMA2, noise_var=TAU2)
    config, warmup, draws, sd_bias = SETTINGS[setup]
    init = np.random.default_rng(seed - 7).normal(size=(4, 3)).astype(np.float32)
    r = run_chains(post, X, y, init, jax.random.key(seed), sampler=config.sampler, settings=config,
                   num_warmup=warmup, num_draws=draws, thin=max(1, draws // 4000))
    found = _check(r.draws, mean, sd, setup, sd_bias)
    # the running (Welford) moments over every post-burn-in step agree with the closed form too
    np.testing.assert_allclose(r.pooled_mean, mean, atol=0.02)
    np.testing.assert_allclose(np.sqrt(r.pooled_var), sd, rtol=0.1)
    assert int(np.sum(r.n_divergent)) == 0
    return found


def test_lgmh_correlated_gaussian():
    cov = np.array([[1.0, 0.9], [0.9, 1.0]])
    prec = jnp.asarray(np.linalg.inv(cov), jnp.float32)

    def logdensity(x):
        return -0.5 * x @ prec @ x

    algo = lgmh(logdensity, lr=0.05, step_size=0.35, l_prob=0.5)

    def chain(key, x0):
        def body(state, k):
            state, info = algo.step(k, state)
            return state, (state.position, info.is_accepted)

        _, (xs, acc) = jax.lax.scan(body, algo.init(x0), jax.random.split(key, 60000))
        return xs[10000:], acc

    keys = jax.random.split(jax.random.key(3), 4)
    x0 = jnp.asarray(np.random.default_rng(1).normal(size=(4, 2)) * 3, jnp.float32)
    xs, acc = jax.jit(jax.vmap(chain))(keys, x0)
    xs = np.asarray(xs, np.float64)
    assert 0.2 < float(np.mean(acc)) < 0.9
    _check(xs, np.zeros(2), np.ones(2), "lgmh 2-D")
    prod = (xs[..., 0] * xs[..., 1])[..., None]  # E[x1 x2] = 0.9
    ds = az.convert_to_dataset({"p": prod})
    mcse = float(az.mcse(ds, method="mean")["p"].values[0])
    assert abs(prod.mean() - 0.9) < Z * mcse


def test_lgmh_rejects_nan_and_counts_it():
    def logdensity(x):
        return jnp.where(x[0] > 0.5, jnp.nan, -0.5 * jnp.sum(x**2))

    algo = lgmh(logdensity, lr=0.0, step_size=1.0)
    state = algo.init(jnp.zeros(2))
    n_div = 0
    step = jax.jit(algo.step)
    for k in jax.random.split(jax.random.key(0), 200):
        state, info = step(k, state)
        n_div += int(info.is_divergent)
        assert bool(jnp.isfinite(state.logdensity))
        assert float(state.position[0]) <= 0.5
    assert n_div > 10
