"""Defects of the default pipeline found in a review of the maths, each pinned by a test that failed before its
fix (the repair's, warm start's and schedule's are in test_paths.py, test_warmstart.py and test_compress.py)."""

from __future__ import annotations

import warnings
from dataclasses import replace

import jax
import numpy as np
import pytest

import bayesprune as bp
from bayesprune.model import MLPSpec
from bayesprune.posterior import BNNPosterior
from bayesprune.samplers import AdjustedMCLMCSettings, MCLMCSettings, run_chains
from bayesprune.samplers.base import MIN_ADAPT_STEPS, ShortWarmupWarning
from bayesprune.settings import RunConfig
from bayesprune.stages import sample as sampling


def _gaussian(d: int = 49, rows: int = 200):
    """A d+1-dimensional Gaussian posterior (linear regression, no hidden layer), its scales spread 100-fold."""
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(rows, d)) * np.geomspace(0.03, 3, d)).astype(np.float32)
    y = (X @ rng.normal(size=d) * 0.1 + rng.normal(size=rows)).astype(np.float32)
    return BNNPosterior(MLPSpec(d, (), 1), "regression", prior_var=1.0, noise_var=1.0), X, y


@pytest.mark.parametrize("sampler,settings", [("mclmc", MCLMCSettings()), ("amclmc", AdjustedMCLMCSettings())])
def test_a_warmup_too_short_to_tune_says_so(sampler, settings):
    post, X, y = _gaussian(d=3, rows=20)
    init = np.zeros((2, 4), np.float32)
    with pytest.warns(ShortWarmupWarning, match=f"at least {MIN_ADAPT_STEPS}"):
        run_chains(post, X, y, init, jax.random.key(0), sampler=sampler, settings=settings,
                   num_warmup=MIN_ADAPT_STEPS - 1, num_draws=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShortWarmupWarning)  # long enough, or no warm-up asked for: silent
        for n in (0, MIN_ADAPT_STEPS):
            run_chains(post, X, y, init, jax.random.key(0), sampler=sampler, settings=settings, num_warmup=n,
                       num_draws=10)


def test_adjusted_mclmc_tuning_keeps_the_trajectory_it_calibrates(monkeypatch):
    """BlackJAX (1.3+) pins the adjusted tuning's final L to ``target_num_integration_steps * step_size``, so its
    third phase (an autocorrelation-based L, then the step size re-tuned at that L) is thrown away and leaves a
    step size calibrated for another trajectory. Measured on this posterior, 3 seeds x 4 chains: acceptance
    0.949 / 0.951 / 0.945 with that phase, 0.938 / 0.934 / 0.940 without (target 0.9)."""
    import blackjax

    calls = []
    real = blackjax.adjusted_mclmc_find_L_and_step_size

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(blackjax, "adjusted_mclmc_find_L_and_step_size", spy)
    post, X, y = _gaussian()
    init = np.random.default_rng(0).normal(size=(4, 50)).astype(np.float32) * 0.1
    r = run_chains(post, X, y, init, jax.random.key(0), sampler="amclmc", settings=AdjustedMCLMCSettings(),
                   num_warmup=1000, num_draws=500)
    assert calls and all(c["frac_tune3"] == 0 for c in calls)
    assert 0.85 < float(np.mean(r.acceptance)) < 0.97


def test_until_converged_does_not_start_an_extension_that_would_end_after_the_budget(monkeypatch):
    """The old loop checked the clock only before each doubling: with a 10 s budget and a first extension of 5 s
    it started the 10 s one at 5 s and ended at 15 s. Now each extension's time is estimated first."""
    ds = bp.load_dataset("sklearn:iris", seed=0)
    post = bp.build_posterior(ds, hidden=(2,))
    first = bp.sample(ds, posterior=post, sampler="mala", samples=100, chains=2, seed=0).result
    clock = [0.0]
    per_step = 0.1  # fake seconds per step

    def fake_run_chains(*args, num_draws, **kwargs):
        clock[0] += per_step * num_draws
        return first.with_seconds(sampling=per_step * num_draws, compile=0.0)

    monkeypatch.setattr(sampling, "run_chains", fake_run_chains)
    monkeypatch.setattr(sampling.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(sampling, "converged", lambda metrics: False)
    start = first.with_seconds(sampling=per_step * first.n_steps, compile=0.0)
    budget = 10.0
    out = sampling.extend_until_converged(post, ds, start, jax.random.key(0), "mala", None, None, budget, None)
    assert clock[0] <= budget
    assert out.n_steps > first.n_steps  # it did extend while the budget allowed


def test_until_converged_with_superchains_judges_by_nested_rhat(monkeypatch):
    ds = bp.load_dataset("sklearn:iris", seed=0)
    post = bp.build_posterior(ds, hidden=(2,))
    first = bp.sample(ds, posterior=post, sampler="mala", samples=100, chains=4, seed=0).result
    seen = []
    monkeypatch.setattr(sampling, "nested_function_space", lambda outputs, k: seen.append(k) or 1.0)
    monkeypatch.setattr(sampling, "converged", lambda metrics: seen.append(metrics["rhat_fn_max"]) or True)
    sampling.extend_until_converged(post, ds, first, jax.random.key(0), "mala", None, None, 60.0, None,
                                    superchains=2)
    assert seen == [2, 1.0]


def _metrics(**fields):
    from bayesprune.evaluation.records import StageMetrics

    base = dict(task="regression", nll=0.0, point_estimate=0.1, rhat_fn_max=1.0, ess_fn_min=1000.0,
                n_nonfinite_draws=0, rhat_w_median=1.0, share_rhat_w_ok=1.0, ess_w_median=1000.0,
                acceptance_rate=float("nan"), n_divergent=0, seconds=1.0, rmse=0.1)
    return StageMetrics(**{**base, **fields})


def test_warnings_follow_the_monte_carlo_error_of_the_predictions():
    """Every regression run warned 'chains have not settled ... sample longer' (function-space R-hat and ESS of
    the least settled test point), also when chains sat in different modes, each converged, and when the drift
    was a small fraction of the noise. Now the warning follows the Monte Carlo error of the predictions in
    outcome sds, and asks for the number of chains that brings it to the threshold (more chains, not longer ones:
    the error of the chains' average falls with their number even where each chain sits in a mode of its own)."""
    from bayesprune.experiments.advice import MC_ERROR_WARN, stage_warnings

    modes = _metrics(rhat_fn_max=1.6, ess_fn_min=8.0, rhat_fn_within_max=1.01, ess_fn_within_min=900.0,
                     n_modes=2, modes_apart=3.0, mc_error=0.02)
    assert stage_warnings("full", modes) == []
    drifting = _metrics(rhat_fn_max=2.1, ess_fn_min=5.0, rhat_fn_within_max=2.0, mc_error=0.05)
    assert stage_warnings("full", drifting) == []  # a noise-free output drifting by a twentieth of the noise
    cfg = RunConfig(samples=40000, resample_samples=20000)
    text = " ".join(stage_warnings("full", _metrics(mc_error=0.25), cfg))
    assert "Monte Carlo error is 0.25" in text and "8x the chains (--chains 32)" in text  # (0.25 / 0.1)^2 = 6.25
    text = " ".join(stage_warnings("resampled", _metrics(mc_error=0.12), replace(cfg, chains=3)))
    assert "2x the chains (--chains 6)" in text and "longer" not in text
    assert "16x" in " ".join(stage_warnings("full", _metrics(mc_error=5.0), cfg))  # at most 16 times
    assert "16x" in " ".join(stage_warnings("full", _metrics(mc_error=1e300), cfg))  # a chain that barely moved
    assert stage_warnings("full", _metrics(mc_error=MC_ERROR_WARN)) == []


def test_monte_carlo_error_of_independent_and_drifting_chains():
    """Independent draws: the error of the mean of C chains of D draws is sd / sqrt(C D) (the function's sd
    against the outcome's, noise included); chains that drift (random walks) have few effective draws and a
    large error. Fixed seed; the ESS estimate of 800 independent draws has a relative sd of about 5%, so the 20%
    band fails with probability far below 1e-4."""
    from bayesprune.evaluation.diagnostics import monte_carlo_error

    rng = np.random.default_rng(0)
    f = rng.normal(size=(4, 800, 50))
    noise = np.full((4, 800), 3.0)  # outcome variance 1 + 3 = 4
    expected = np.sqrt(1.0 / 3200 / 4.0)
    assert monte_carlo_error(f, noise) == pytest.approx(expected, rel=0.2)
    assert monte_carlo_error(f, noise, chain_weights=np.array([1.0, 0.0, 0.0, 0.0])) == pytest.approx(
        np.sqrt(1.0 / 800 / 4.0), rel=0.2)  # one chain's draws count
    walks = np.cumsum(rng.normal(size=(4, 800, 50)), axis=1)
    assert monte_carlo_error(walks, np.zeros((4, 800))) > 0.2  # warned about (threshold 0.1)
    probs = rng.dirichlet([1.0, 1.0, 1.0], size=(4, 800, 50))  # classification: (chain, draw, point, class)
    assert 0.0 < monte_carlo_error(probs) < 0.05


def test_chain_agreement_tells_modes_from_unsettled_chains():
    from bayesprune.evaluation.diagnostics import chain_agreement, function_space

    rng = np.random.default_rng(0)
    two_modes = rng.normal(size=(4, 400, 30))
    two_modes[2:] += 3.0  # chains 2, 3 in another mode, 3 sds away
    a = chain_agreement(two_modes)
    assert function_space(two_modes)["rhat_fn_max"] > 1.5  # over all chains: far from converged
    assert a["rhat_fn_within_max"] < 1.05 and a["n_modes"] == 2 and 2.5 < a["modes_apart"] < 3.5
    walks = np.cumsum(rng.normal(size=(4, 400, 30)), axis=1)  # random walks: no chain has settled
    assert chain_agreement(walks)["rhat_fn_within_max"] > 1.5


def test_rate_auto_warns_when_psis_loo_is_unreliable():
    """High Pareto k values were counted in rate_selection but neither used nor warned about."""
    from bayesprune.evaluation.selection import Candidate, RateSelection
    from bayesprune.experiments.advice import selection_warnings

    def sel(bad_full: int, bad_chosen: int) -> RateSelection:
        c = Candidate(0.75, 25, -10.0, 1.0, 0.5, 0.2, bad_chosen, True)
        return RateSelection("rule", 1.0, 0.05, -50.0, -9.5, 1.0, bad_full, 2.0, [c], 0.75)

    assert selection_warnings(sel(0, 1), 200) == []  # one row in 200: within the 1% allowed
    text = selection_warnings(sel(0, 9), 200)
    # the default rate with its guard, not longer runs (which left 242 of 455 rows with a high k on UCI Boston)
    assert len(text) == 1 and "9 of 200" in text[0] and "--rate 0.75, the default" in text[0]
    assert "longer" not in text[0]
    assert selection_warnings(sel(5, 0), 200) and selection_warnings(None, 200) == []


def test_a_resampled_chain_far_below_its_fine_tuned_start_is_warned_about():
    from bayesprune.experiments.advice import resampling_warnings

    dim = 50
    rng = np.random.default_rng(0)
    typical = -100.0 - dim / 2 + rng.normal(0, np.sqrt(dim / 2), size=(3, 500))  # draws near the start's mode
    assert resampling_warnings([-100.0] * 3, typical, dim) == []
    lost = typical.copy()
    lost[1] -= 400.0  # one chain wandered off the fit
    text = resampling_warnings([-100.0] * 3, lost, dim)
    assert len(text) == 1 and "1 of 3 chains" in text[0] and "--sampler hmc" in text[0]
    assert resampling_warnings(None, lost, dim) == []
    stuck = typical.copy()
    stuck[2] = stuck[2, 0]  # a chain that never took a step, from any start
    for start in ([-100.0] * 3, None):
        text = resampling_warnings(start, stuck, dim)
        assert len(text) == 1 and "1 of 3 chains never moved" in text[0] and "--sampler hmc" in text[0]
    assert resampling_warnings(None, typical[:, :1], dim) == []  # one draw a chain: nothing to tell
    # a pruned network that can still interpolate its rows (an improper posterior): no mode to be below, still stuck
    assert resampling_warnings([-100.0] * 3, lost, dim, bounded=False) == []
    assert "never moved" in resampling_warnings([-100.0] * 3, stuck, dim, bounded=False)[0]


def test_improper_posterior_counts_the_parameters_a_pruned_network_keeps():
    post = BNNPosterior(MLPSpec(3, (10,), 1), "regression")  # 51 parameters
    improper = sampling.improper_posterior_warning
    assert improper(post, 40) is not None
    assert improper(post, 40, n_params=20) is None
    assert "30 network parameters for 30" in improper(post, 30, n_params=30)
    assert improper(replace(post, nu1=1.0, nu2=1.0), 40) is None
    assert "--hidden 7: 36 parameters" in improper(post, 40, cli=True)  # 8 units would be 41 parameters
    assert "(hidden=(7,): 36 parameters)" in improper(post, 40)  # the Python API's parameter, not the option
    wide = BNNPosterior(MLPSpec(50, (12,), 1), "regression")
    assert "--hidden 3: 157 parameters" in improper(wide, 180, cli=True)
    assert "fewer features (--features)" in improper(wide, 40, cli=True)  # one unit is 53 parameters
    assert "fewer features or more rows" in improper(wide, 40)
    one = improper(BNNPosterior(MLPSpec(3, (4,), 1), "regression"), 10)  # one unit: 6 parameters, two 11
    assert "at most 1 unit (hidden=(1,): 6 parameters)" in one
    assert all("--" not in improper(p, n) for p, n in ((post, 40), (wide, 180), (wide, 40)))


def test_the_widest_hidden_layer_has_fewer_parameters_than_rows():
    for n_in, n_out, rows in [(3, 1, 40), (50, 1, 180), (4, 3, 90), (2, 1, 36), (10, 1, 13), (10, 1, 14)]:
        h = sampling.widest_hidden(n_in, n_out, rows)
        assert MLPSpec(n_in, (h + 1,), n_out).n_params >= rows
        assert h == 0 or MLPSpec(n_in, (h,), n_out).n_params < rows


def test_real_resampling_from_fine_tuned_starts_stays_near_them():
    """The guard's threshold on a real resampling (iris, 75% pruned, MCLMC from fine-tuned starts): no chain is
    flagged."""
    from bayesprune.experiments.advice import resampling_warnings

    ds = bp.load_dataset("sklearn:iris", seed=0)
    post = bp.build_posterior(ds, hidden=(4,))
    full = bp.sample(ds, posterior=post, sampler="mclmc", samples=2000, chains=2, seed=0)
    comp = bp.compress(full, ds, rate=0.5, samples=1000, start="optimised", seed=0)
    res = comp.resampled
    assert len(res.info["start_logpost"]) == 2
    assert resampling_warnings(res.info["start_logpost"], res.result.logdensity, res.result.draws.shape[-1]) == []


def test_mclmc_tuning_bounds_the_positions_its_L_phase_keeps(monkeypatch):
    """BlackJAX's third MCLMC tuning phase keeps every position it visits for an FFT-based ESS: 20,000 warm-up
    steps of a 17,226-parameter network kept 6,667 x 17,226 floats per chain and the default digits run with
    --hidden 128,64 peaked at 9.9 GB. The phase now keeps at most TUNE3_VALUES values and the first two phases
    take the steps it gives up, so the warm-up is as long as asked."""
    import blackjax

    from bayesprune.samplers import mclmc

    for num_steps, dim in [(20000, 99), (20000, 17226), (1000, 266_610), (50, 10)]:
        nominal, fracs = mclmc.tuning_phases(num_steps, dim)
        steps = [round(nominal * f) for f in fracs]
        assert abs(sum(steps) - num_steps) <= 2
        assert steps[2] <= max(mclmc.TUNE3_VALUES // dim, mclmc.TUNE3_MIN_STEPS)
    assert mclmc.tuning_phases(20000, 99) == (66667, mclmc.MCLMC_TUNING)  # small networks: BlackJAX's shares

    calls = []
    real = blackjax.mclmc_find_L_and_step_size

    def spy(*args, **kwargs):
        calls.append((args[1], kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(blackjax, "mclmc_find_L_and_step_size", spy)
    monkeypatch.setattr(mclmc, "TUNE3_VALUES", 100 * 30)  # 100 steps of this 30-parameter posterior
    post, X, y = _gaussian(d=29)
    init = np.random.default_rng(0).normal(size=(2, 30)).astype(np.float32) * 0.1
    r = run_chains(post, X, y, init, jax.random.key(0), sampler="mclmc", settings=MCLMCSettings(),
                   num_warmup=1000, num_draws=200)
    (nominal, first), (_, rest) = calls  # the step-size phase, then the preconditioner's and L's (re-centred)
    assert first["frac_tune2"] == first["frac_tune3"] == rest["frac_tune1"] == 0
    assert round(nominal * rest["frac_tune3"]) == 100
    assert round(nominal * first["frac_tune1"]) + round(nominal * rest["frac_tune2"]) == 900
    assert np.isfinite(r.draws).all() and np.ptp(r.draws[:, :, 0], axis=1).min() > 0  # tuned, and moving


def test_mclmc_preconditioner_survives_a_posterior_narrow_against_its_mean():
    """BlackJAX estimates MCLMC's diagonal preconditioner as E[x^2] - E[x]^2 in float32, which cancels to 0 or
    below when a parameter's posterior sd is small against its mean: on UCI naval one of the four default chains
    tuned a negative inverse mass and a step size of 0, and all 20,000 of its transitions were non-finite. Here
    (means about 10, sds about 1e-3) every chain did so before the tuning moved to centred coordinates (the
    step-size phase centred on the chain's start, the preconditioner's re-centred where that phase ended). The
    mean check allows 4 posterior sds: the largest error over 21 coordinates was 1.2-1.8 on seeds 0-3 (the chains
    barely cross the posterior in 500 draws: a Monte Carlo sd of about 0.7), so a failure is a more than 5-sd
    event for that error."""
    rng = np.random.default_rng(0)
    d, rows, noise_var = 20, 2000, 1.8e-4
    X = rng.normal(size=(rows, d)).astype(np.float32)
    w = (10.0 + rng.normal(size=d)).astype(np.float32)
    y = (X @ w + np.sqrt(noise_var) * rng.normal(size=rows)).astype(np.float32)
    post = BNNPosterior(MLPSpec(d, (), 1), "regression", prior_var=1e6, noise_var=noise_var)
    init = (np.concatenate([w, [0.0]]) + rng.normal(size=(4, d + 1)) * 1e-4).astype(np.float32)
    r = run_chains(post, X, y, init, jax.random.key(0), sampler="mclmc", settings=MCLMCSettings(),
                   num_warmup=2000, num_draws=500)
    assert np.all(np.asarray(r.params["inverse_mass_matrix"]) > 0) and np.all(np.asarray(r.params["step_size"]) > 0)
    assert not r.n_divergent.any()
    # the exact posterior (prior 1e6: least squares) of the weights, in float64
    Xd = np.c_[X, np.ones(rows)].astype(np.float64)
    cov = noise_var * np.linalg.inv(Xd.T @ Xd)
    mean = cov @ Xd.T @ y.astype(np.float64) / noise_var
    z = (r.draws.reshape(-1, d + 1).mean(0) - mean) / np.sqrt(np.diag(cov))
    assert np.all(np.abs(z) < 4.0), z
