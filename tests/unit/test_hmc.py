"""HMC's trajectory: jittered by default (BlackJAX's dynamic HMC, Halton sequence), fixed on request."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from blackjax.mcmc import dynamic_hmc

from bayesprune.model import MLPSpec
from bayesprune.posterior import BNNPosterior
from bayesprune.samplers import HMCSettings, run_chains


def _run(settings: HMCSettings, warmup: int = 0):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2)).astype(np.float32)
    y = (X @ np.array([1.0, -0.5])).astype(np.float32)
    post = BNNPosterior(MLPSpec(2, (), 1), "regression", noise_var=0.25)
    init = rng.normal(size=(3, 3)).astype(np.float32)
    return run_chains(post, X, y, init, jax.random.key(0), sampler="hmc", settings=settings, num_warmup=warmup,
                      num_draws=256, thin=1)


def test_fixed_trajectory_takes_exactly_its_steps():
    r = _run(HMCSettings(num_integration_steps=6, jitter_trajectory=False, adapt=False, step_size=0.05))
    np.testing.assert_array_equal(r.n_grad_evals, 256 * 6)


def test_jittered_trajectory_varies_around_its_mean_in_lockstep_over_chains():
    """256 transitions of the Halton sequence: the mean number of leapfrog steps is the setting's (BlackJAX's
    rescaling makes round(U * s + 0.5) average to it; the sequence's discrepancy over 256 terms is below 1%), and
    every chain takes the same number (the sequence is indexed by the transition, so vmapped chains run in
    lockstep)."""
    r = _run(HMCSettings(num_integration_steps=6, adapt=False, step_size=0.05))
    per_step = r.n_grad_evals / 256
    assert np.all(per_step == per_step[0])
    assert abs(per_step[0] - 6) < 0.3
    lengths = [int(dynamic_hmc.halton_trajectory_length(jnp.asarray(i, jnp.int32), 6.0)) for i in range(64)]
    assert min(lengths) == 1 and max(lengths) >= 10  # from 1 to about twice the mean: no fixed trajectory
    # and with adaptation the same trajectories are used in warm-up, then sampling goes on from the tuned state
    adapted = _run(HMCSettings(num_integration_steps=6), warmup=100)
    assert np.all(np.isfinite(adapted.draws)) and adapted.acceptance_rate > 0.5
