"""Log posterior against a hand computation; masks hold pruned parameters at exactly zero."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from bayesprune.model import MLPSpec, forward
from bayesprune.posterior import BNNPosterior

RNG = np.random.default_rng(0)
X = RNG.normal(size=(20, 3)).astype(np.float32)


def test_regression_logdensity_matches_scipy():
    spec = MLPSpec(3, (4,), 1)
    post = BNNPosterior(spec, "regression", prior_var=25.0, nu1=2.0, nu2=0.5)
    y = RNG.normal(size=20).astype(np.float32)
    theta = RNG.normal(size=spec.n_params).astype(np.float32) * 0.5
    eta = np.float32(-1.3)
    z = np.concatenate([theta, [eta]])
    f = np.asarray(forward(spec, theta, X))[:, 0]
    tau2 = np.exp(eta)
    expected = (stats.norm.logpdf(y, f, np.sqrt(tau2)).sum() + stats.norm.logpdf(theta, 0, 5).sum()
                + stats.invgamma.logpdf(tau2, 2.0, scale=0.5) + eta)  # + log Jacobian d tau2 / d eta
    got = float(post.logdensity(jnp.asarray(z), X, y))
    const = float(stats.invgamma.logpdf(1.0, 2.0, scale=0.5) + 0.5)  # normalising constant we drop
    assert abs(got - (expected - const)) < 1e-2 * abs(expected)


def test_classification_logdensity_matches_scipy():
    spec = MLPSpec(3, (5,), 3, output="softmax")
    post = BNNPosterior(spec, "classification")
    y = RNG.integers(0, 3, size=20)
    theta = RNG.normal(size=spec.n_params).astype(np.float32)
    logits = np.asarray(forward(spec, theta, X))
    ll = np.sum(logits[np.arange(20), y] - np.log(np.exp(logits).sum(axis=1)))
    expected = ll + stats.norm.logpdf(theta, 0, 5).sum()
    np.testing.assert_allclose(float(post.logdensity(jnp.asarray(theta), X, y)), expected, rtol=1e-4)


def test_all_true_mask_reproduces_unmasked():
    spec = MLPSpec(3, (4,), 1)
    post = BNNPosterior(spec, "regression")
    y = RNG.normal(size=20).astype(np.float32)
    z = RNG.normal(size=spec.n_params + 1).astype(np.float32)
    all_idx = jnp.arange(spec.n_params)
    np.testing.assert_allclose(post.logdensity(z, X, y, all_idx), post.logdensity(z, X, y), rtol=1e-6)
    g1 = jax.grad(lambda v: post.logdensity(v, X, y, all_idx))(z)
    g0 = jax.grad(lambda v: post.logdensity(v, X, y))(z)
    np.testing.assert_allclose(g1, g0, rtol=1e-5)


def test_masked_position_scatters_with_zeros():
    spec = MLPSpec(3, (4,), 1)
    post = BNNPosterior(spec, "regression")
    kept = np.array([0, 5, 7, 20], np.int32)
    z = np.array([1.0, 2.0, 3.0, 4.0, -0.5], np.float32)  # 4 kept parameters + eta
    theta = np.asarray(post.theta(jnp.asarray(z), jnp.asarray(kept)))
    assert theta[kept].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert np.count_nonzero(theta) == 4
    assert float(post.log_noise_var(jnp.asarray(z))) == -0.5
    np.testing.assert_array_equal(np.asarray(post.restrict(jnp.asarray(np.r_[theta, -0.5]), kept)), z)


def test_evaluation_takes_fewer_draws_at_a_time_on_wide_layers_and_many_rows(monkeypatch):
    """``draw_batch`` keeps one copy of a batch's activations under the budget (a power of two, at least one
    draw), and the log-likelihood and outputs do not depend on how many draws are taken at a time."""
    from bayesprune import predictive

    small = BNNPosterior(MLPSpec(4, (5,), 3), "classification")
    assert predictive.draw_batch(small, 120, 512) == 512  # the paper's sizes: unchanged
    linear = BNNPosterior(MLPSpec(4, (), 1), "regression")  # no hidden layer: the outputs are the widest
    assert predictive.draw_batch(linear, 10**6, 512) == 64  # 256 MiB / 4 MB per draw: 67, down to a power of two
    lenet = BNNPosterior(MLPSpec(784, (300, 100), 10), "classification")
    b = predictive.draw_batch(lenet, 60_000, 512)
    assert b & (b - 1) == 0 and 1 <= b and b * 4 * 60_000 * 300 <= predictive.EVAL_BYTES < 2 * b * 4 * 60_000 * 300
    assert predictive.draw_batch(lenet, 10**9, 512) == 1

    rng = np.random.default_rng(0)
    post = BNNPosterior(MLPSpec(3, (6,), 1), "regression")
    X = rng.normal(size=(50, 3)).astype(np.float32)
    y = rng.normal(size=50).astype(np.float32)
    draws = rng.normal(scale=0.5, size=(2, 9, post.position_size())).astype(np.float32)
    ll, out = predictive.pointwise_loglik(post, draws, X, y), predictive.network_outputs(post, post.theta(draws), X)
    monkeypatch.setattr(predictive, "EVAL_BYTES", 4 * 50 * 6 * 4)  # 4 draws at a time: 5 batches, the last padded
    assert predictive.draw_batch(post, 50, 512) == 4
    ll4 = predictive.pointwise_loglik(post, draws, X, y)
    out4 = predictive.network_outputs(post, post.theta(draws), X)
    assert ll4.dtype == np.float64 and ll4.shape == (2, 9, 50) and out4.shape == (2, 9, 50)
    np.testing.assert_allclose(ll4, ll, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out4, out, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
def test_predictive_noise_drawn_a_chunk_of_points_at_a_time(monkeypatch, weighted):
    """With the noise drawn a few points at a time (as on many test points), any blocks of columns still give
    exactly the samples of all columns at once; the chunks' numbers are not repeated; weighted chains resample
    the draws once for every column."""
    import bayesprune.predictive as predictive

    rng = np.random.default_rng(2)
    post = BNNPosterior(MLPSpec(3, (4,), 1), "regression")
    X = rng.normal(size=(37, 3)).astype(np.float32)
    draws = rng.normal(scale=0.5, size=(2, 10, post.position_size())).astype(np.float32)
    pred = predictive.posterior_predictive(post, draws, X)
    if weighted:
        pred = dataclasses.replace(pred, chain_weights=np.array([0.8, 0.2]))
    monkeypatch.setattr(predictive, "NOISE_VALUES", 2 * 20 * 5)  # chunks of 5 columns: 8 chunks, the last of 2
    key = jax.random.key(4)
    whole = pred.samples(key, 2)
    cols = pred.sample_columns(key, 2)
    blocks = [cols(slice(a, b)) for a, b in ((0, 3), (3, 12), (12, 13), (13, 37))]
    np.testing.assert_array_equal(np.concatenate(blocks, axis=1), whole)
    if not weighted:
        noise = whole - np.tile(pred.flat_outputs(), (2, 1))
        assert len(np.unique(noise)) == noise.size  # no chunk's numbers reused
    else:  # noise-free: every sample row is one draw's outputs at every point, whichever chunk it came from
        quiet = dataclasses.replace(pred, noise_var=np.full_like(pred.noise_var, 1e-14))
        rows = quiet.samples(key, 2)
        f = pred.flat_outputs()
        gap = np.abs(rows[:, None, :] - f[None]).max(axis=2)  # (sample row, draw)
        assert gap.min(axis=1).max() < 1e-5
        assert len(set(gap.argmin(axis=1))) < len(f)  # weights 0.8 / 0.2 resample: some draws repeat


def test_regression_metrics_a_block_of_points_at_a_time_equal_all_at_once(monkeypatch):
    """The regression metrics computed over blocks of test points (as on many rows) equal those computed at once:
    the interval's ends exactly (the same random numbers), CRPS and NLL up to float rounding."""
    from bayesprune.evaluation import stage
    from bayesprune.predictive import posterior_predictive

    rng = np.random.default_rng(1)
    post = BNNPosterior(MLPSpec(3, (4,), 1), "regression")
    X = rng.normal(size=(37, 3)).astype(np.float32)
    y = rng.normal(size=37)
    draws = rng.normal(scale=0.5, size=(2, 10, post.position_size())).astype(np.float32)
    pred = posterior_predictive(post, draws, X)
    key = jax.random.key(3)
    whole = pred.samples(key, 2)
    cols = pred.sample_columns(key, 2)
    np.testing.assert_array_equal(np.concatenate([cols(slice(0, 10)), cols(slice(10, 37))], axis=1), whole)

    at_once = stage.score_predictive(post, draws, X, y, key=key).values
    monkeypatch.setattr(stage, "METRIC_VALUES", 40 * 8)  # 40 samples per point: blocks of 8 points, the last of 5
    blocks = stage.score_predictive(post, draws, X, y, key=key).values
    for name in ("picp90", "mpiw90", "rmse"):
        assert blocks[name] == at_once[name], name
    for name in ("crps", "nll"):
        assert blocks[name] == pytest.approx(at_once[name], rel=1e-12), name


def test_compact_draws_expanded_a_batch_at_a_time_predict_as_all_at_once(monkeypatch):
    """The predictive of compact draws, expanded to full parameter vectors a few draws at a time (as for LeNet's
    4,000 compact draws), equals the network run on all expanded vectors at once (bit-equal here; a tolerance of
    float32 rounding, as another CPU may tile batches of another size differently)."""
    import bayesprune.predictive as predictive

    rng = np.random.default_rng(5)
    post = BNNPosterior(MLPSpec(5, (7,), 1), "regression")
    kept = np.sort(rng.choice(post.spec.n_params, 20, replace=False)).astype(np.int32)
    draws = rng.normal(size=(3, 11, post.position_size(20))).astype(np.float32)
    X = rng.normal(size=(33, 5)).astype(np.float32)
    thetas = np.asarray(post.theta(jnp.asarray(draws), jnp.asarray(kept)))
    whole = predictive.network_outputs(post, thetas, X)
    monkeypatch.setattr(predictive, "EVAL_BYTES", 4 * 33 * 7 * 4)  # 4 draws at a time: 9 batches, the last padded
    assert predictive.draw_batch(post, 33, 512) == 4
    pred = predictive.posterior_predictive(post, draws, X, kept)
    np.testing.assert_allclose(pred.outputs, whole, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(pred.noise_var, np.exp(draws[..., -1]), rtol=1e-6)


@pytest.mark.parametrize("block", [None, 7])
def test_noise_at_mode_maximises_the_log_posterior_over_eta_given_the_rest(monkeypatch, block):
    """tau^2 | theta ~ InvGamma(nu1 + n/2, nu2 + S/2): eta at (nu2 + S/2) / (nu1 + n/2) zeroes the log posterior's
    derivative in eta and beats any other eta; kept parameters, a batch of positions and blocks of rows too."""
    from bayesprune.posterior import logdensity

    if block:
        monkeypatch.setattr(logdensity, "NOISE_MODE_ROWS", block)
    spec = MLPSpec(3, (4,), 1)
    post = BNNPosterior(spec, "regression", nu1=2.0, nu2=0.5)
    y = RNG.normal(size=20).astype(np.float32)
    kept = np.arange(0, spec.n_params, 2)
    z = RNG.normal(size=(3, kept.size + 1)).astype(np.float32)
    z[:, -1] = np.log(1e-6)
    moved = np.asarray(post.with_noise_at_mode(z, X, y, kept))
    assert np.array_equal(moved[:, :-1], z[:, :-1])

    def logpost(one, eta):
        return post.logdensity(jnp.asarray(one).at[-1].set(eta), X, y, kept)

    for one in moved:
        eta = jnp.float32(one[-1])
        assert abs(float(jax.grad(lambda e: logpost(one, e))(eta))) < 1e-3  # noqa: B023 (called at once)
        assert float(logpost(one, eta)) > max(float(logpost(one, eta - 0.1)), float(logpost(one, eta + 0.1)))
    assert np.allclose(np.asarray(post.with_noise_at_mode(z[0], X, y, kept)), moved[0])  # one position alike
    classes = BNNPosterior(MLPSpec(3, (4,), 2), "classification")
    assert classes.with_noise_at_mode(z, X, y, kept) is z
