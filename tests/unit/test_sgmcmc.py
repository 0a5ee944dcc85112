"""Stochastic-gradient samplers: the minibatch estimator, the tuned learning rate, the cyclical schedule's kept
draws, the size guide and --sampler auto."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bayesprune.errors import OptionError
from bayesprune.model import MLPSpec
from bayesprune.posterior import BNNPosterior
from bayesprune.samplers import HMCSettings, MCLMCSettings, SGHMCSettings, SGLDSettings, run_chains, sizing, stochastic


def _blr(n=60):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, 2)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0]) + 0.5 + rng.normal(scale=0.5, size=n)).astype(np.float32)
    post = BNNPosterior(MLPSpec(2, (), 1), "regression", prior_var=25.0, noise_var=0.25)
    return post, X, y


def _estimator(post, X, y, batch):
    return stochastic.minibatch_logdensity(post.log_prior, post.pointwise_loglik, jnp.asarray(X), jnp.asarray(y),
                                           batch)


def test_minibatch_estimate_is_unbiased():
    post, X, y = _blr()
    z = jnp.array([0.8, -1.5, 0.2])
    est = _estimator(post, X, y, 7)
    values = jax.vmap(lambda k: est.estimate(z, k))(jax.random.split(jax.random.key(0), 20000))
    exact = float(post.logdensity(z, jnp.asarray(X), jnp.asarray(y)))
    se = float(jnp.std(values)) / np.sqrt(len(values))
    assert abs(float(jnp.mean(values)) - exact) < 4.1 * se  # two-sided error rate 4e-5
    # a batch at least as large as the data set is all rows, with replacement (still an estimate)
    assert _estimator(post, X, y, 10_000).n_rows == len(X)


def test_fisher_metric_and_tuned_learning_rate_follow_the_curvature():
    post, X, y = _blr()
    n = len(X)
    A = np.column_stack([X, np.ones(n)]).astype(np.float64)
    H = A.T @ A / 0.25 + np.eye(3) / 25.0  # the Hessian of -log p
    est = _estimator(post, X, y, 30)
    lam = float(stochastic.largest_curvature(jax.random.key(1), jnp.zeros(3), est))
    # four minibatches of 30 rows (with replacement) estimate the Hessian: within 25% of the exact eigenvalue
    assert abs(lam / (np.linalg.eigvalsh(H).max() / n) - 1) < 0.25
    # the metric: the inverse of the rows' mean squared gradient (+ the prior's precision per row) at the start
    start = np.array([0.3, -0.4, 0.1])
    residual = y - A @ start
    fisher = np.mean((A * residual[:, None] / 0.25) ** 2, axis=0) + 1 / (25.0 * n)
    metrics = jax.vmap(lambda k: stochastic.fisher_metric(k, jnp.asarray(start, jnp.float32), est))(
        jax.random.split(jax.random.key(5), 64))
    # one estimate (120 rows drawn) is noisy: squared gradients are heavy-tailed; their mean over 64 is within 10%
    np.testing.assert_allclose(np.mean(1 / np.asarray(metrics), axis=0), fisher, rtol=0.1)


def test_cyclical_schedule_keeps_only_sampling_stage_draws():
    post, X, y = _blr()
    settings = SGHMCSettings(batch_size=20, step_schedule="cyclical", cycle_length=100, exploration=0.6)
    scale, collected = jax.vmap(lambda s: stochastic.schedule(settings, s))(jnp.arange(200))
    assert float(scale[0]) == 1.0 and float(scale[50]) == pytest.approx(0.5) and float(scale[99]) < 0.01
    np.testing.assert_array_equal(np.asarray(collected), np.tile(np.arange(100) >= 60, 2))
    # 60 warm-up steps, then 300 steps (cycle positions 60..359): every 10th is a candidate draw
    r = run_chains(post, X, y, np.zeros((3, 3), np.float32), jax.random.key(4), sampler="sghmc", settings=settings,
                   num_warmup=60, num_draws=300, thin=10)
    # the warm-up tuned the metric and the learning rate of each chain at its start (all at 0 here):
    # lr from the largest eigenvalue of sqrt(P) H sqrt(P), H the Hessian of -log p (within 25%: 4 batches of 20)
    A = np.column_stack([X, np.ones(len(X))]).astype(np.float64)
    H = A.T @ A / 0.25 + np.eye(3) / 25.0
    for lr, P in zip(np.asarray(r.params["learning_rate"]), np.asarray(r.params["metric"]), strict=True):
        exact = np.linalg.eigvalsh(np.sqrt(P)[:, None] * H * np.sqrt(P)[None, :]).max() / len(X)
        assert abs(lr / float(stochastic.tuned_learning_rate(exact, len(X), 20)) - 1) < 0.25
        assert not np.all(P == 1.0)
    steps = 60 + np.arange(1, 301)  # the schedule's counter after each sampling step
    kept_steps = steps[9::10]
    expected = int(np.sum(((kept_steps - 1) % 100) >= 60))
    assert r.draws.shape == (3, expected, 3)
    assert r.n_steps == int(np.sum(((steps - 1) % 100) >= 60))  # the moments count sampling-stage steps only
    with pytest.raises(OptionError, match="thin"):
        run_chains(post, X, y, np.zeros((1, 3), np.float32), jax.random.key(4), sampler="sghmc", settings=settings,
                   num_warmup=0, num_draws=50, thin=50)


def test_stochastic_settings_are_checked():
    with pytest.raises(OptionError, match="batch_size"):
        SGLDSettings(batch_size=0)
    with pytest.raises(OptionError, match="exploration"):
        SGHMCSettings(exploration=1.0)
    with pytest.raises(OptionError, match="step_schedule"):
        SGLDSettings(step_schedule="linear")


def test_size_guide_and_auto_choice():
    small = sizing.choose_sampler(rows=90, params=99, chains=4)
    assert small[0] == "mclmc" and small[1].seconds < sizing.LONG_SECONDS
    big = sizing.choose_sampler(rows=60_000, params=1_201, chains=4)
    assert big[0] == "sghmc" and big[1].seconds > sizing.LONG_SECONDS
    # full-batch cost grows with rows; minibatch cost does not, beyond the batch
    hmc = [sizing.estimate(HMCSettings(), rows=r, params=500, chains=4) for r in (1000, 10_000)]
    assert hmc[1].sampling_seconds > 9 * hmc[0].sampling_seconds and hmc[1].seconds > 3 * hmc[0].seconds
    # the sampling of minibatch chains does not grow with the rows; the whole run does (evaluation on every row)
    sg = [sizing.estimate(SGHMCSettings(), rows=r, params=500, chains=4) for r in (20_000, 200_000)]
    assert sg[0].sampling_seconds == sg[1].sampling_seconds
    assert sg[1].seconds > sg[0].seconds
    assert sg[0].seconds < hmc[1].seconds
    # on few rows the start runs its held-out check first (its 10,000 steps pass over 2,000 rows 5,120 times):
    # about twice the start's Adam steps
    checked = sizing.estimate(SGHMCSettings(), rows=2000, params=500, chains=4)
    assert checked.sampling_seconds > sg[0].sampling_seconds
    # each sampled stage (a resampling more) costs its share
    two, three = (sizing.estimate(MCLMCSettings(), rows=1000, params=500, chains=4, stages=k,
                                  resample_samples=(k - 1) * MCLMCSettings.default_resample_samples)
                  for k in (2, 3))
    assert three.seconds > two.seconds and three.sampling_seconds > two.sampling_seconds
    text = sizing.estimate(MCLMCSettings(), rows=100_000, params=10, chains=1).describe()
    assert "100,000 rows" in text and "whole run" in text


def _near_the_limit_rows(params):
    """Rows at which a default MCLMC run of ``params`` parameters is estimated just over the limit on the
    reference machine (so that a machine 10x faster brings it under, and the probe is worth it)."""
    for rows in np.geomspace(1_000, 1_000_000, 61).astype(int):
        chosen, est = sizing.choose_sampler(rows=int(rows), params=params, chains=4)
        if chosen == "sghmc" and sizing.worth_probing(est.seconds):
            return int(rows)
    raise AssertionError("no size near the limit")


def test_near_the_limit_the_full_batch_default_runs_shortened_to_fit():
    """Over the limit by less than 1 / SHORTEST_SHARE, MCLMC keeps full batch at the largest share of its default
    lengths that the guide fits in LONG_SECONDS (whole thousands of steps, every stage cut alike); beyond, SGHMC.
    The estimate decided on counts the most resamplings the default pipeline makes (the rate guard's)."""
    defaults = MCLMCSettings
    seen = set()
    for rows in np.geomspace(2_000, 200_000, 41).astype(int):
        size = dict(rows=int(rows), params=901, chains=4)
        full = sizing.default_run(**size)
        assert full.stages == 1 + sizing.RESAMPLINGS
        assert full.seconds > sizing.estimate(MCLMCSettings(), **size).seconds  # one resampling
        chosen, est = sizing.choose_sampler(**size)
        if full.seconds <= sizing.LONG_SECONDS:
            seen.add("default")
            assert chosen == "mclmc" and est == full and est.samples == defaults.default_samples
        elif chosen == "mclmc":
            seen.add("shortened")
            assert est.seconds <= sizing.LONG_SECONDS < full.seconds
            assert sizing.SHORTEST_SHARE * defaults.default_samples <= est.samples < defaults.default_samples
            assert est.samples % sizing.LENGTH_STEP == 0
            assert est.resample_samples / defaults.default_resample_samples == est.samples / defaults.default_samples
            # the largest share that fits: a thousand steps more on both stages would not
            longer = sizing.default_run(samples=est.samples + sizing.LENGTH_STEP,
                                        resample_samples=est.resample_samples + sizing.LENGTH_STEP, **size)
            assert longer.seconds > sizing.LONG_SECONDS
        else:
            seen.add("sghmc")
            assert chosen == "sghmc" and est == full
            half = sizing.default_run(samples=defaults.default_samples // 2,
                                      resample_samples=defaults.default_resample_samples // 2, **size)
            assert half.seconds > sizing.LONG_SECONDS
    assert seen == {"default", "shortened", "sghmc"}


def test_a_shortened_auto_run_says_so_and_keeps_the_lengths_given(monkeypatch):
    from types import SimpleNamespace

    from bayesprune.experiments.runner import resolve_sampler
    from bayesprune.settings import RunConfig

    monkeypatch.setattr(sizing, "machine_speed", lambda *a: 1.0)
    post = BNNPosterior(MLPSpec(16, (50,), 1), "regression")  # UCI naval's network: 901 parameters
    rows = next(int(r) for r in np.geomspace(2_000, 200_000, 81)
                if sizing.default_run(rows=int(r), params=901, chains=4).seconds > 1.1 * sizing.LONG_SECONDS)
    ds = SimpleNamespace(X_train=np.zeros((rows, 16)), y_train=np.zeros(rows))
    _, est = sizing.choose_sampler(rows=rows, params=901, chains=4, speed=1.0)
    assert est.samples < MCLMCSettings.default_samples  # shortened, not switched
    cfg, note = resolve_sampler(RunConfig().validate(), ds, post)
    assert cfg.sampler == "mclmc" and (cfg.samples, cfg.resample_samples) == (est.samples, est.resample_samples)
    assert note.startswith(f"--sampler auto runs mclmc at {est.samples:,} + {est.resample_samples:,} steps to fit "
                           f"the 15-minute guide (its default lengths, {MCLMCSettings.default_samples:,} + "
                           f"{MCLMCSettings.default_resample_samples:,}, would not)")
    cfg, note = resolve_sampler(RunConfig(samples=30_000).validate(), ds, post)
    assert (cfg.samples, cfg.resample_samples) == (30_000, est.resample_samples)
    assert f"runs mclmc at 30,000 + {est.resample_samples:,} steps" in note  # the lengths it runs
    cfg, note = resolve_sampler(RunConfig(samples=30_000, resample_samples=9_000).validate(), ds, post)
    assert (cfg.sampler, cfg.samples, cfg.resample_samples, note) == ("mclmc", 30_000, 9_000, None)


def test_sample_with_sampler_auto_runs_the_shortened_length(monkeypatch):
    """``api.sample(sampler="auto")`` runs the length the size guide chose (stopped at the chains' start)."""
    from bayesprune.experiments.runner import load_data
    from bayesprune.settings import RunConfig
    from bayesprune.stages import sample as sample_stage

    iris = load_data(RunConfig())

    class Started(Exception):
        pass

    def run_chains(*args, num_warmup, num_draws, thin, **kwargs):
        raise Started(num_warmup + num_draws)

    cost = sizing.estimate(MCLMCSettings(), rows=90, params=99, chains=2, samples=24_000, resample_samples=24_000)
    monkeypatch.setattr(sample_stage, "sized_sampler", lambda *a: ("mclmc", cost))
    monkeypatch.setattr(sample_stage, "chain_starts", lambda post, ds, n, *a, **k: np.zeros((n, post.position_size())))
    monkeypatch.setattr(sample_stage, "run_chains", run_chains)
    with pytest.raises(Started) as started:
        sample_stage.sample(iris, sampler="auto", chains=2)
    assert started.value.args[0] == 24_000
    with pytest.raises(Started) as started:
        sample_stage.sample(iris, sampler="auto", chains=2, samples=3_000)  # a length given is kept
    assert started.value.args[0] == 3_000


def test_size_guide_scales_by_this_machines_speed_near_the_limit(monkeypatch):
    from types import SimpleNamespace

    from bayesprune.api import sized_sampler

    post = BNNPosterior(MLPSpec(10, (100,), 1), "regression")  # 1,201 parameters
    rows = _near_the_limit_rows(post.spec.n_params)
    reference = sizing.choose_sampler(rows=rows, params=1_201, chains=4)
    fast = sizing.choose_sampler(rows=rows, params=1_201, chains=4, speed=0.1)
    assert reference[0] == "sghmc" and reference[1].speed is None and "reference machine" in reference[1].describe()
    assert fast[0] == "mclmc" and fast[1].seconds < reference[1].seconds and "this machine" in fast[1].describe()
    assert not sizing.worth_probing(sizing.LONG_SECONDS / (2 * sizing.PROBE_BELOW))
    assert not sizing.worth_probing(sizing.LONG_SECONDS * 2 * sizing.PROBE_ABOVE)
    # the probe runs only where it could change the choice, and its speed decides
    calls = []
    monkeypatch.setattr(sizing, "machine_speed", lambda *a: calls.append(a[3]) or 0.1)
    assert sized_sampler(SimpleNamespace(X_train=np.zeros((90, 10)), y_train=np.zeros(90)), post, 4)[0] == "mclmc"
    assert calls == []
    near = SimpleNamespace(X_train=np.zeros((rows, 10)), y_train=np.zeros(rows))
    chosen, cost = sized_sampler(near, post, 4)
    assert calls == [4] and chosen == "mclmc" and cost.speed == 0.1


def test_machine_speed_times_the_gradient():
    post, X, y = _blr()
    speed = sizing.machine_speed(post, X, y, 2)
    assert np.isfinite(speed) and speed > 0


def test_auto_resolves_by_size_and_a_long_full_batch_run_is_announced(capsys, monkeypatch):
    from types import SimpleNamespace

    from bayesprune.cli import main
    from bayesprune.experiments.runner import resolve_sampler
    from bayesprune.settings import RunConfig

    monkeypatch.setattr(sizing, "machine_speed", lambda *a: 1.0)  # the reference machine's speed, on any machine
    post = BNNPosterior(MLPSpec(10, (100,), 1), "regression")  # 1,201 parameters
    small, big = (SimpleNamespace(X_train=np.zeros((n, 10)), y_train=np.zeros(n)) for n in (90, 60_000))
    assert RunConfig().sampler == "auto"  # the default
    cfg, note = resolve_sampler(RunConfig().validate(), small, post)
    assert cfg.sampler == "mclmc" and cfg.samples == MCLMCSettings.default_samples and note is None  # no noise
    cfg, note = resolve_sampler(RunConfig().validate(), big, post)
    assert cfg.sampler == "sghmc" and cfg.init_steps == SGHMCSettings.default_init_steps
    assert note.startswith("--sampler auto chose sghmc on minibatches: full-batch mclmc on 60,000 rows x 1,201 "
                           "parameters")
    assert "--sampler mclmc samples full batch anyway" in note
    # a named full-batch sampler is run as asked, with a note that names the minibatch option
    cfg, note = resolve_sampler(RunConfig(sampler="hmc"), big, post)
    assert cfg.sampler == "hmc" and "--sampler sghmc" in note
    # its estimate counts the resamplings the run can make: the rate given and the rate guard's 50%, as auto's does
    assert "with 2 resamplings" in note
    assert "resamplings" not in resolve_sampler(RunConfig(sampler="hmc", rate_guard=0.0), big, post)[1]
    assert resolve_sampler(RunConfig(sampler="sghmc"), big, post)[1] is None
    # sampler settings belong to a named sampler
    assert main(["run", "--sampler", "auto", "--batch-size", "64", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--batch-size is a setting of a named sampler" in err[0]
    assert main(["run", "--batch-size", "64", "--quiet"]) == 2  # the default is auto too
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "name the sampler" in err[0]


def test_the_size_guides_choice_is_a_note_and_its_advice_on_a_named_sampler_a_warning(monkeypatch):
    """``--sampler auto`` taking SGHMC on large data is a choice made for the user (a note); a named full-batch
    sampler over the guide's limit is a problem with a remedy (a warning)."""
    from dataclasses import replace

    from bayesprune.experiments import runner
    from bayesprune.settings import RunConfig

    ds = runner.load_data(RunConfig())  # iris, embedded
    monkeypatch.setattr(runner, "resolve_sampler",
                        lambda cfg, ds, post: (replace(cfg, sampler="sghmc") if cfg.sampler == "auto" else cfg,
                                               "size note"))
    cfg, _, _, warned, notes = runner._data_and_posterior(RunConfig().validate(), ds)
    assert cfg.sampler == "sghmc" and warned == [] and notes == ["size note"]
    cfg, _, _, warned, notes = runner._data_and_posterior(RunConfig(sampler="hmc"), ds)
    assert cfg.sampler == "hmc" and warned == ["size note"] and notes == []


def test_settings_of_the_full_batch_default_without_a_sampler_mean_that_sampler():
    from bayesprune.cli import build_parser, run_config

    cfg = run_config(build_parser().parse_args(["run", "--desired-energy-var", "1e-4"]))
    assert cfg.sampler == "mclmc" and cfg.sampler_settings.desired_energy_var == 1e-4
    assert run_config(build_parser().parse_args(["run"])).sampler == "auto"


def test_most_resamplings_counts_the_guards_steps_the_candidates_and_the_schedule():
    from bayesprune.stage_settings import CompressionSpec, PruningSpec
    from bayesprune.stages.compress import most_resamplings

    guard, pruning = CompressionSpec(), PruningSpec()  # the defaults: the guard on, auto rates 0.5-0.95
    assert most_resamplings(0.75, guard, pruning) == 2  # 75%, then 50%
    assert most_resamplings(0.9, guard, pruning) == 3  # 90%, 75%, 50%
    assert most_resamplings(0.5, guard, pruning) == 1
    assert most_resamplings(0.0, guard, pruning) == 0
    assert most_resamplings("auto", guard, pruning) == 4  # one per candidate
    assert most_resamplings(0.9, CompressionSpec(rate_guard=0.0), pruning) == 1
    gradual = CompressionSpec(schedule="gradual", schedule_steps=3)
    assert most_resamplings(0.9, gradual, pruning) == 3  # one per step; the guard does not check a schedule
    assert most_resamplings(0.9, guard, PruningSpec(layer_rates=(0.9, 0.9))) == 1
