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


def _overfitting_regression():
    """200 training rows of a noisy regression on 10 features (noise sd 0.5) and a 385-parameter network:
    trained for long, it fits the noise (its posterior is improper, as the warning says); 400 fresh rows of the
    same law to test it on."""
    import pytest

    from bayesprune.stages.sample import ImproperPosteriorWarning

    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 10)).astype(np.float32)
    y = (np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 - X[:, 2] * X[:, 3] + rng.normal(scale=0.5, size=600)).astype(np.float32)
    ds = bp.Dataset("noisy", "regression", X[:200], y[:200], X[200:], y[200:], [f"x{i}" for i in range(10)],
                    hidden=(32,))
    with pytest.warns(ImproperPosteriorWarning):
        return ds, bp.build_posterior(ds, hidden=(32,))


def test_early_stopping_keeps_the_network_that_predicts_held_out_rows_best():
    """On few noisy rows a long Adam run overfits: the held-out check stops every chain before the end (the
    ensemble at the end far more than log 1.05 nats per held-out row below its best), and the early-stopped
    networks predict fresh rows better than the networks trained to the end. A deterministic run
    (seeds fixed): the margin measured was thousands of nats per row (the trained networks' noise variance went
    towards 0), against rounding's far smaller effects."""
    import jax
    import jax.numpy as jnp

    ds, post = _overfitting_regression()
    starts = np.stack([np.asarray(post.init_position(k, ds.y_train)) for k in jax.random.split(jax.random.key(2), 3)])
    key = jax.random.key(3)
    calls = []
    stopped_z, loss, stopped = warmstart.optimise_early_stopped(post, ds.X_train, ds.y_train, starts, steps=3000,
                                                                key=key, holdout=0.25, progress=calls.append)
    trained, _ = warmstart.optimise(post, ds.X_train, ds.y_train, starts, steps=3000, key=key)
    # the progress bar was sized for the check's run and a full refit; stopped early, it still ends full
    assert sum(calls) == warmstart.planned_steps(3000, 0.25, len(ds.X_train), None) == 6000
    fresh = lambda z: float(jnp.mean(post.pointwise_loglik(jnp.asarray(z), ds.X_test, ds.y_test)))  # noqa: E731
    assert stopped < 3000 and stopped % (3000 // warmstart.CHECKS) == 0
    assert np.mean([fresh(z) for z in stopped_z]) > np.mean([fresh(z) for z in trained]) + 10
    # the early-stopped start is refitted on every row: its loss is the full posterior's there
    for z, value in zip(stopped_z, loss, strict=True):
        np.testing.assert_allclose(-float(post.logdensity(z, ds.X_train, ds.y_train)), value, rtol=1e-4)


def test_no_early_stop_where_the_end_predicts_held_out_rows_about_as_well(monkeypatch):
    """A 4-unit network on iris does not overfit in 1,000 full-batch steps (1,000 passes over the rows, so the
    check runs; its held-out best is the last step): the ensemble at the end is within log 1.05 nats per
    held-out row of its best, so the start is the plain run's, bit for bit (same key, same computation)."""
    import jax

    ds = bp.load_dataset("sklearn:iris", seed=0)
    post = bp.build_posterior(ds, hidden=(4,))
    starts = np.stack([np.asarray(post.init_position(k, ds.y_train)) for k in jax.random.split(jax.random.key(0), 3)])
    key = jax.random.key(5)
    calls = []
    plain, plain_loss = warmstart.optimise(post, ds.X_train, ds.y_train, starts, steps=1000, key=key,
                                           progress=calls.append)
    assert calls == [1000 // warmstart.chunks(1000)] * warmstart.chunks(1000) and len(calls) > 1
    # the equal compiled chunks a progress bar advances between are the steps of one loop (equal here, bit for
    # bit; compared to float32 rounding, as two compiled programs are)
    monkeypatch.setattr(warmstart, "CHUNKS", 1)
    whole, whole_loss = warmstart.optimise(post, ds.X_train, ds.y_train, starts, steps=1000, key=key)
    np.testing.assert_allclose(plain, whole, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(plain_loss, whole_loss, rtol=1e-5)
    monkeypatch.undo()
    checked = []
    held, loss, stopped = warmstart.optimise_early_stopped(post, ds.X_train, ds.y_train, starts, steps=1000, key=key,
                                                           holdout=0.1, progress=checked.append)
    assert stopped == 1000 and sum(checked) == 2000  # the check's run, then the plain one
    np.testing.assert_array_equal(held, plain)
    np.testing.assert_array_equal(loss, plain_loss)


def test_early_stopping_needs_rows_to_hold_out():
    ds, post = _overfitting_regression()
    starts = np.zeros((2, post.position_size()), np.float32)
    import pytest

    with pytest.raises(ValueError, match="holdout"):
        warmstart.optimise(post, ds.X_train, ds.y_train, starts, steps=10, holdout=1.5)
    # two rows: none can be held out (though the steps pass over them often enough), so the run is the plain one
    assert warmstart.passes(1000, None, 2) >= warmstart.CHECK_PASSES
    plain, _ = warmstart.optimise(post, ds.X_train[:2], ds.y_train[:2], starts, steps=1000)
    held, _, stopped = warmstart.optimise_early_stopped(post, ds.X_train[:2], ds.y_train[:2], starts, steps=1000,
                                                        holdout=0.1)
    np.testing.assert_array_equal(plain, held)
    assert stopped == 1000


def test_stochastic_gradient_samplers_start_early_stopped_and_full_batch_ones_do_not():
    from bayesprune.samplers.registry import settings_class

    assert settings_class("sghmc").default_init_holdout == settings_class("sgld").default_init_holdout == 0.1
    assert all(settings_class(s).default_init_holdout == 0.0 for s in ("hmc", "mclmc", "nuts", "lgmh", "mala"))


def test_the_check_runs_only_where_the_steps_pass_over_the_rows_often_enough():
    """The held-out check costs a whole extra Adam run; it is made only where the steps pass over the training
    rows at least CHECK_PASSES times (overfitting needs many passes). With fewer passes the start is the plain
    run's, bit for bit (the same computation)."""
    import jax

    steps, batch = 10_000, warmstart.WARM_START_BATCH
    assert warmstart.passes(steps, batch, 2000) == 5120 and warmstart.held_rows(0.1, 2000, steps, batch) == 200
    assert warmstart.planned_steps(steps, 0.1, 2000, batch) == 2 * steps
    # MNIST's 60,000 rows: 171 passes, no check
    assert warmstart.held_rows(0.1, 60_000, steps, batch) == 0
    assert warmstart.planned_steps(steps, 0.1, 60_000, batch) == steps
    assert warmstart.held_rows(0.0, 2000, steps, batch) == 0
    ds, post = _overfitting_regression()
    starts = np.stack([np.asarray(post.init_position(k, ds.y_train)) for k in jax.random.split(jax.random.key(2), 2)])
    key = jax.random.key(4)
    assert warmstart.passes(100, 32, len(ds.X_train)) < warmstart.CHECK_PASSES
    plain, plain_loss = warmstart.optimise(post, ds.X_train, ds.y_train, starts, steps=100, batch_size=32, key=key)
    held, loss, stopped = warmstart.optimise_early_stopped(post, ds.X_train, ds.y_train, starts, steps=100,
                                                           batch_size=32, key=key, holdout=0.1)
    assert stopped == 100
    np.testing.assert_array_equal(held, plain)
    np.testing.assert_array_equal(loss, plain_loss)
