"""Chain weights by stacking (evaluation/stacking.py, stages/weights.py): a chain in a poor mode gets no weight,
chains that predict alike share it equally, and every consumer of the predictive uses the weights."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import bayesprune as bp
from bayesprune.evaluation import metrics
from bayesprune.evaluation.stacking import POOR_MODE_GAP, chain_weights, clusters
from bayesprune.io.compact import _thin
from bayesprune.predictive import Predictive


def _loglik(rng, means, draws=200, rows=150):
    """Pointwise log-likelihoods (chain, draw, row): chain c's rows scatter around ``means[c]``."""
    base = rng.normal(0.0, 0.3, size=rows)
    return np.stack([m + base + rng.normal(0.0, 0.05, size=(draws, rows)) for m in means])


def test_a_chain_in_a_poor_mode_gets_no_weight_and_alike_chains_share():
    rng = np.random.default_rng(0)
    w = chain_weights(_loglik(rng, [-1.0, -1.0, -1.0, -1.6]))
    assert w[3] < 1e-3
    np.testing.assert_allclose(w[:3], w[:3].mean(), rtol=1e-9)  # one group: shared equally
    assert w.sum() == pytest.approx(1.0)


def test_chains_that_predict_alike_get_equal_weights():
    rng = np.random.default_rng(1)
    np.testing.assert_allclose(chain_weights(_loglik(rng, [-1.0] * 4)), 0.25)
    assert clusters([np.zeros(10), np.zeros(10)]) == [[0, 1]]


def test_auto_stacks_only_chains_a_clear_gap_apart():
    """``--chain-weights auto``: a chain 0.6 nats per row below the others is stacked away; chains 0.03 apart (a
    difference of many standard errors over 150 rows, so plain stacking separates them) keep equal weights."""
    rng = np.random.default_rng(4)
    poor = _loglik(rng, [-1.0, -1.0, -1.0, -1.6])
    assert chain_weights(poor, POOR_MODE_GAP)[3] < 1e-3
    close = _loglik(rng, [-1.0, -1.0, -1.0, -1.03])
    assert chain_weights(close)[3] < 0.2  # stacking alone sees the gap
    np.testing.assert_allclose(chain_weights(close, POOR_MODE_GAP), 0.25)


def test_auto_leaves_chains_whose_gap_is_within_the_loo_correction_equal():
    """A chain 0.15 nats per row below the others (over ``POOR_MODE_GAP``), but draws so spread that each chain's
    LOO correction p_loo / n is about 0.49 nats per row: the ranking rests on the correction, ``auto`` keeps
    equal weights while plain stacking drops the chain (seeds 0-5 checked)."""
    rng = np.random.default_rng(0)
    base = rng.normal(0.0, 0.3, size=150)
    spread = np.stack([m + base + rng.normal(0.0, 0.7, size=(200, 150)) for m in [-1.0, -1.0, -1.0, -1.15]])
    assert chain_weights(spread)[3] < 1e-3
    np.testing.assert_allclose(chain_weights(spread, POOR_MODE_GAP), 0.25)


def test_non_finite_chains_get_no_weight_and_one_chain_is_all():
    rng = np.random.default_rng(2)
    ll = _loglik(rng, [-1.0, -1.0, -1.0])
    ll[1, 3, 5] = -np.inf
    w = chain_weights(ll)
    assert w[1] == 0 and w.sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(chain_weights(ll[:1]), [1.0])


def test_weighted_predictive_is_the_weighted_mixture():
    rng = np.random.default_rng(3)
    f = rng.normal(size=(3, 50, 7))
    tau2 = rng.uniform(0.1, 0.5, size=(3, 50))
    w = np.array([0.5, 0.5, 0.0])
    weighted = Predictive("regression", f, tau2, w)
    two = Predictive("regression", f[:2], tau2[:2])  # the same mixture: the third chain has no weight
    np.testing.assert_allclose(weighted.mean(), two.mean(), rtol=1e-12)
    np.testing.assert_allclose(weighted.std(), two.std(), rtol=1e-12)
    y = rng.normal(size=7)
    np.testing.assert_allclose(
        metrics.gaussian_mixture_nll(y, weighted.flat_outputs(), tau2.reshape(-1), weighted.draw_weights()),
        metrics.gaussian_mixture_nll(y, two.flat_outputs(), tau2[:2].reshape(-1)), rtol=1e-12)
    samples = weighted.samples(jax.random.key(0), per_draw=4)
    assert samples.shape == (150 * 4, 7)
    equal = Predictive("regression", f, tau2)
    np.testing.assert_allclose(Predictive("regression", f, tau2, np.full(3, 1 / 3)).mean(), equal.mean(),
                               rtol=1e-12)


def test_compact_draws_follow_the_chain_weights():
    draws = np.arange(4 * 100, dtype=np.float32).reshape(4, 100, 1)
    picked = _thin(draws, 40, np.array([0.5, 0.25, 0.25, 0.0]))
    chain = (picked[:, 0] // 100).astype(int)
    assert len(picked) == 40 and np.bincount(chain, minlength=4).tolist() == [20, 10, 10, 0]
    np.testing.assert_array_equal(_thin(draws, 40), _thin(draws, 40, None))


def test_a_run_weights_a_broken_chain_out():
    """One chain of a real sample replaced by a network far from the data: stacking gives it no weight, and the
    weighted predictive is as good as the three good chains'."""
    ds = bp.load_dataset("sklearn:iris", seed=0)
    post = bp.build_posterior(ds, hidden=(3,))
    full = bp.sample(ds, posterior=post, sampler="mala", samples=400, chains=4, seed=0)
    draws = np.asarray(full.result.draws).copy()
    draws[3] = 0.0  # a poor mode: the network that predicts every class alike
    broken = full.replace(result=full.result.map_positions(lambda a: draws if a.shape == draws.shape else a))
    weighted = bp.weigh_chains(broken, ds)
    assert weighted.chain_weights[3] < 0.01
    good = bp.evaluate(broken.select_chains([0, 1, 2]), ds).nll
    assert bp.evaluate(weighted, ds).nll <= 1.05 * good  # no worse than the good chains alone
    assert bp.evaluate(broken, ds).nll > good
    assert bp.weigh_chains(weighted, ds, "equal").chain_weights is None
    assert bp.weigh_chains(broken, ds, "auto").chain_weights[3] < 0.01  # far more than LOO's correction apart
    with pytest.raises(bp.OptionError, match="chain_weights"):
        bp.weigh_chains(full, ds, "votes")


def test_the_summary_names_unequal_chain_weights_only():
    from types import SimpleNamespace

    from bayesprune.report.markdown import weight_lines

    def record(full, resampled):
        return SimpleNamespace(stages={"full": SimpleNamespace(chain_weights=full), "pruned": None,
                                       "resampled": SimpleNamespace(chain_weights=resampled)})

    assert weight_lines(record(None, [0.25] * 4)) == []
    (line,) = weight_lines(record([1.0, 0.0, 0.0, 0.0], None))
    assert "full 1.00 / 0.00 / 0.00 / 0.00" in line and "resampled" not in line
