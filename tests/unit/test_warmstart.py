"""Warm starts: each chain optimised from its own random start, and sampling continued until converged."""

from __future__ import annotations

import numpy as np

import bayesprune as bp
from bayesprune.samplers import warmstart


def test_optimised_starts_are_better_and_stay_distinct():
    ds = bp.load_dataset("sklearn:iris", seed=0)
    post = bp.build_posterior(ds, hidden=(4,))
    import jax

    starts = np.stack([np.asarray(post.init_position(k, ds.y_train)) for k in jax.random.split(jax.random.key(0), 3)])
    logp = lambda z: float(post.logdensity(z, ds.X_train, ds.y_train))  # noqa: E731
    optimised, loss = warmstart.optimise(post, ds.X_train, ds.y_train, starts, steps=300)
    for s, o, l in zip(starts, optimised, loss, strict=True):
        assert logp(o) > logp(s) + 10  # a much better network than its random start
        np.testing.assert_allclose(-logp(o), l, rtol=1e-3)
    assert np.min(np.linalg.norm(optimised[:, None] - optimised[None], axis=-1)[np.triu_indices(3, 1)]) > 0.1
    same, _ = warmstart.optimise(post, ds.X_train, ds.y_train, starts, steps=0)
    np.testing.assert_array_equal(same, starts)


def test_until_converged_goes_on_until_the_predictions_converge():
    ds = bp.load_dataset("sklearn:iris", seed=0)
    post = bp.build_posterior(ds, hidden=(3,))
    ps = bp.sample(ds, posterior=post, sampler="hmc", samples=120, seed=0, init="optimised", init_steps=200,
                   until_converged=120)
    m = bp.evaluate(ps, ds)
    assert m.steps > 60  # continued past the 60 post-burn-in steps asked for
    assert bp.api.converged({"rhat_fn_max": m.rhat_fn_max, "ess_fn_min": m.ess_fn_min})
    assert ps.result.seconds["init"] > 0


def test_mclmc_tuning_survives_a_start_at_a_sharp_mode():
    """A sharp posterior (sd 1e-4) started at its mode, as an optimised start is, with BlackJAX's default initial
    step size (sqrt(dim) / 4, here 2e4 posterior sds): without the step-size search the tuned step size
    collapsed to 0 in float32 and the chain never moved. With it, the chain samples the Gaussian: over 2,000
    steps the draws' sd is that of the posterior within 30% (a deterministic run, seed fixed)."""
    import jax
    import jax.numpy as jnp

    from bayesprune.samplers import MCLMCSettings
    from bayesprune.samplers.registry import get_sampler

    dim, sd = 64, 1e-4
    logdensity = lambda z: -0.5 * jnp.sum(jnp.square(z / sd))  # noqa: E731
    sdef, settings = get_sampler("mclmc"), MCLMCSettings()
    params = sdef.initial_params(settings, dim, False)
    state, tuned = sdef.warmup(jax.random.key(0), jnp.zeros(dim), logdensity, params, 1000, settings)
    assert np.isfinite(float(tuned["step_size"])) and float(tuned["step_size"]) > 0

    def one(s, k):
        s, _ = sdef.step(k, s, logdensity, tuned, settings)
        return s, s.position

    _, draws = jax.lax.scan(one, state, jax.random.split(jax.random.key(1), 2000))
    assert abs(float(jnp.std(draws)) / sd - 1) < 0.3


def test_optimised_start_never_ends_where_the_loss_is_not_finite():
    """Adam's steps have about the learning rate's size: at 1e30 one step lands at finite parameters whose loss
    overflows. The old loop checked only the loss of the point it stepped from, so the chain started there."""
    ds = bp.load_dataset("sklearn:iris", seed=0)
    post = bp.build_posterior(ds, hidden=(3,))
    import jax

    starts = np.stack([np.asarray(post.init_position(k, ds.y_train)) for k in jax.random.split(jax.random.key(1), 2)])
    for steps in (1, 3):
        ends, loss = warmstart.optimise(post, ds.X_train, ds.y_train, starts, steps=steps, learning_rate=1e30)
        values = [float(post.logdensity(z, ds.X_train, ds.y_train)) for z in ends]
        assert np.all(np.isfinite(values)) and np.all(np.isfinite(loss))
        np.testing.assert_allclose(-np.asarray(values), loss, rtol=1e-5)
