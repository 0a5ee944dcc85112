"""Criteria against hand values; selectors keep exact counts; masks are idempotent; units go whole."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayesprune.errors import OptionError
from bayesprune.model import MLPSpec, hidden_unit_groups
from bayesprune.pruning import PosteriorMoments, apply_mask, global_mask, make_mask, n_to_remove, score
from bayesprune.pruning.masks import mean_pairwise_jaccard, per_layer_mask, structured_mask

DRAWS = np.array([[[1.0, -2.0, 0.1], [3.0, -2.0, -0.1]], [[1.0, -4.0, 0.3], [3.0, -4.0, -0.3]]])
# param 0: values 1,3,1,3 -> mu 2, sd 1; param 1: -2,-2,-4,-4 -> mu -3, sd 1; param 2: mu 0, sd 0.2236


def test_stn_spn_magnitude_hand_values():
    m = PosteriorMoments.from_draws(DRAWS)
    np.testing.assert_allclose(m.mean, [2.0, -3.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(m.std, [1.0, 1.0, np.sqrt(0.05)], atol=1e-12)
    np.testing.assert_allclose(score("stn", m), [2.0, 3.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(score("spn", m), [3.0, 4.0, np.sqrt(0.05)], atol=1e-12)
    np.testing.assert_allclose(score("magnitude", m), [2.0, 3.0, 0.0], atol=1e-12)
    assert global_mask(score("stn", m), 1 / 3).tolist() == [True, True, False]


def test_random_scores_seeded():
    m = PosteriorMoments(np.zeros(50), np.ones(50))
    a = score("random", m, jax.random.key(1))
    b = score("random", m, jax.random.key(1))
    c = score("random", m, jax.random.key(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(global_mask(a, 0.5), global_mask(c, 0.5))
    with pytest.raises(OptionError):
        score("bogus", m)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 400), rate=st.floats(0.0, 0.99), seed=st.integers(0, 1000))
def test_global_rate_keeps_exact_count_and_is_idempotent(n, rate, seed):
    scores = np.random.default_rng(seed).exponential(size=n)
    keep = global_mask(scores, rate)
    assert keep.sum() == n - int(np.floor(rate * n + 0.5))
    theta = np.random.default_rng(seed + 1).normal(size=n)
    once = apply_mask(theta, keep)
    np.testing.assert_array_equal(apply_mask(once, keep), once)
    if keep.any() and (~keep).any():  # every removed score <= every kept score
        assert scores[~keep].max() <= scores[keep].min()


@pytest.mark.parametrize("rate,expected_kept", [(0.25, 74), (0.5, 49), (0.75, 25)])  # 24.75->25, 49.5->50
def test_paper_rates_on_iris_topology(rate, expected_kept):
    spec = MLPSpec(4, (12,), 3)
    assert spec.n_params == 99
    assert global_mask(np.arange(99.0), rate).sum() == expected_kept == 99 - n_to_remove(99, rate)


def test_per_layer_counts():
    spec = MLPSpec(4, (12,), 3)
    keep = per_layer_mask(np.random.default_rng(0).normal(size=99), spec, 0.5)
    assert keep[spec.param_layer == 0].sum() == 60 - 30
    assert keep[spec.param_layer == 1].sum() == 39 - 20  # round(19.5) = 20 (half up)


def test_structured_removes_whole_units():
    spec = MLPSpec(4, (12, 6), 3)
    scores = np.random.default_rng(2).exponential(size=spec.n_params)
    keep = structured_mask(scores, spec, 0.5)
    groups = hidden_unit_groups(spec)
    removed_units = [(layer, j) for layer, j, idx in groups if not keep[idx].any()]
    assert len(removed_units) == 9
    for layer, j, idx in groups:  # a surviving unit keeps its bias; a removed one loses everything
        bias = idx[spec.widths[layer]]
        assert keep[bias] == ((layer, j) not in removed_units)
    # never the last unit of a layer
    assert structured_mask(scores, spec, 0.99).reshape(-1).any()
    per = make_mask(scores, spec, 0.5, structured=True, per_layer=True)
    gone = [(layer, j) for layer, j, idx in groups if not per[idx].any()]
    assert sum(1 for layer, _ in gone if layer == 0) == 6 and sum(1 for layer, _ in gone if layer == 1) == 3


@given(n_inputs=st.integers(1, 9), rate=st.floats(0.0, 0.99), seed=st.integers(0, 10))
@settings(max_examples=30, deadline=None)
def test_structured_input_pruning_removes_whole_features(n_inputs, rate, seed):
    spec = MLPSpec(n_inputs, (5, 3), 2)
    scores = np.random.default_rng(seed).exponential(size=spec.n_params)
    keep = make_mask(scores, spec, rate, structured=True, prune_inputs=True)
    w, _ = spec.layer_slices[0]
    rows = keep[w].reshape(n_inputs, 5)
    removed = ~rows.any(axis=1)
    alive_units = keep[spec.layer_slices[0][1]]  # first-layer biases: the units that survive
    assert np.all(rows[~removed] == alive_units)  # a kept feature keeps its weights into every live unit
    assert removed.sum() == min(n_to_remove(n_inputs, rate), n_inputs - 1)  # never the last feature
    # the hidden units are chosen as without input pruning
    np.testing.assert_array_equal(keep[spec.layer_slices[1][0]], structured_mask(scores, spec, rate)[
        spec.layer_slices[1][0]])


def test_rates_outside_range_rejected_and_jaccard():
    with pytest.raises(OptionError, match="outside"):
        global_mask(np.ones(5), 1.0)
    with pytest.raises(OptionError, match="outside"):
        global_mask(np.ones(5), -0.1)
    a = np.array([True, True, False, False])
    assert mean_pairwise_jaccard([a, a]) == 1.0
    assert mean_pairwise_jaccard([a, np.array([True, False, True, False])]) == pytest.approx(1 / 3)


def test_a_rate_per_layer():
    from bayesprune.pruning.masks import layer_rates_share

    spec = MLPSpec(6, (8, 4), 3)  # weight layers of 56, 36 and 15 parameters
    scores = np.random.default_rng(4).exponential(size=spec.n_params)
    keep = make_mask(scores, spec, 0.0, layer_rates=(0.5, 0.25, 0.0))
    removed = [int((~keep[spec.param_layer == layer]).sum()) for layer in range(3)]
    assert removed == [28, 9, 0]
    assert layer_rates_share(spec, (0.5, 0.25, 0.0)) == pytest.approx(37 / spec.n_params)
    # structured: the input features' rate first, then each hidden layer's units
    keep = make_mask(scores, spec, 0.0, structured=True, prune_inputs=True, layer_rates=(0.5, 0.25, 0.5))
    groups = hidden_unit_groups(spec)
    gone = [layer for layer, _, idx in groups if not keep[idx].any()]
    assert gone.count(0) == 2 and gone.count(1) == 2
    w, _ = spec.layer_slices[0]
    assert int((~keep[w].reshape(6, 8).any(axis=1)).sum()) == 3
    assert 1 - keep.mean() == pytest.approx(layer_rates_share(spec, (0.5, 0.25, 0.5), structured=True,
                                                              prune_inputs=True))
    with pytest.raises(OptionError, match="layer_rates needs 3 rates for this network, one for each weight layer"):
        make_mask(scores, spec, 0.0, layer_rates=(0.5, 0.5))
    with pytest.raises(OptionError, match="one for the input features, then each hidden layer's units"):
        make_mask(scores, spec, 0.0, structured=True, prune_inputs=True, layer_rates=(0.5, 0.5))
