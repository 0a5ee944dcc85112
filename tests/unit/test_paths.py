"""Mask repair (pruning/paths.py) and schedules: no dead paths remain in any mask, the count kept is unchanged,
every output keeps a path from the inputs, and a gradual schedule ends exactly at the requested rate."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayesprune.errors import OptionError
from bayesprune.model import MLPSpec
from bayesprune.pruning import global_mask, make_mask, n_to_remove, paths, schedule

SPECS = [MLPSpec(4, (12,), 3), MLPSpec(8, (12,), 1), MLPSpec(5, (6, 4), 3), MLPSpec(3, (), 2), MLPSpec(2, (3,), 2)]


def _minimum(spec: MLPSpec) -> int:
    """Fewest weights that give every output a path: one chain of units shared by all outputs."""
    return spec.n_outputs + len(spec.hidden)


@settings(max_examples=150, deadline=None, derandomize=True)  # fixed examples: the same in every run
@given(which=st.integers(0, len(SPECS) - 1), rate=st.floats(0.0, 0.99), seed=st.integers(0, 10_000),
       per_layer=st.booleans())
def test_repaired_masks_have_no_dead_paths_and_keep_the_count(which, rate, seed, per_layer):
    spec = SPECS[which]
    scores = np.random.default_rng(seed).exponential(size=spec.n_params)
    keep = make_mask(scores, spec, rate, per_layer=per_layer)
    repaired, info = paths.repair(keep, scores, spec)
    assert paths.useful(spec, repaired)[repaired].all(), "a kept parameter cannot change any output"
    assert paths.orphan_outputs(spec, repaired).size == 0, "an output has no path from the inputs"
    assert repaired.sum() == max(keep.sum(), _minimum(spec)) or not (paths.useful(spec, repaired) & ~repaired).any()
    assert info.dropped_inputs == tuple(paths.dropped_inputs(spec, repaired))
    if repaired.sum() == keep.sum():
        assert info.removed_dead == info.refilled + info.path_added
    again, _ = paths.repair(repaired, scores, spec)
    np.testing.assert_array_equal(again, repaired)  # a repaired mask needs no repair


def _gradual(spec: MLPSpec, target: float, seed: int):
    """Each step of a 3-step gradual schedule with random scores: (mask given, repaired mask, previous mask)."""
    rng = np.random.default_rng(seed)
    keep = np.ones(spec.n_params, bool)
    for rate in schedule.rates("gradual", target):
        scores = np.where(keep, rng.uniform(size=spec.n_params), -np.inf)  # removed before: scored lowest
        given_ = make_mask(scores, spec, rate)
        repaired, _ = paths.repair(given_, scores, spec, allowed=keep)
        yield given_, repaired, keep
        keep = repaired


def _fewest_weights_to_every_output(spec: MLPSpec, allowed: np.ndarray) -> int:
    """For one hidden layer: the fewest allowed weights that reach every output (exhaustive over unit sets)."""
    w1, _ = spec.layer_slices[0]
    w2, _ = spec.layer_slices[1]
    fed = allowed[w1].reshape(spec.n_inputs, -1).any(axis=0)
    out = allowed[w2].reshape(-1, spec.n_outputs)
    units = [u for u in range(spec.hidden[0]) if fed[u] and out[u].any()]
    for k in range(1, spec.n_outputs + 1):
        if any(out[list(c)].any(axis=0).all() for c in itertools.combinations(units, k)):
            return k + spec.n_outputs
    return spec.n_params


@pytest.mark.parametrize("target", [0.9, 0.95])
def test_gradual_repair_never_brings_back_a_removed_parameter(target):
    """Before `allowed`, 9 of these 100 runs at 90% and 6 at 95% kept a parameter an earlier step removed, and 31
    at 95% kept more than the budget; now none brings one back, and a step keeps more than its budget only when
    the parameters still allowed hold no smaller set of paths to every output."""
    spec = SPECS[0]
    over = 0
    for seed in range(100):
        for given_, repaired, previous in _gradual(spec, target, seed):
            assert not np.any(repaired & ~previous), f"seed {seed}: a removed parameter came back"
            assert paths.orphan_outputs(spec, repaired).size == 0
            if repaired.sum() > given_.sum():
                over += 1
                assert repaired.sum() <= max(_fewest_weights_to_every_output(spec, previous), given_.sum() + 1)
    assert over <= 25  # measured: 21 of 100 at 95% (20 infeasible within the earlier mask, 1 greedy miss by one)


def test_repair_refuses_a_mask_outside_allowed():
    spec = SPECS[0]
    keep = np.ones(spec.n_params, bool)
    with pytest.raises(ValueError, match="allowed"):
        paths.repair(keep, np.ones(spec.n_params), spec, allowed=np.zeros(spec.n_params, bool))


def test_dead_unit_is_removed_and_its_budget_respent():
    spec = MLPSpec(2, (3,), 1)  # W1 (2x3) = 0..5, b1 = 6..8, W2 (3x1) = 9..11, b2 = 12
    scores = np.array([5, 5, 5, 4, 4, 4, 3, 3, 3, 0.1, 2, 2, 1.0])
    keep = np.ones(13, bool)
    keep[[9, 12]] = False  # unit 0's only outgoing weight and the output bias: unit 0 is dead
    repaired, info = paths.repair(keep, scores, spec)
    assert info.removed_dead == 2 and info.refilled == 2  # unit 0 keeps one incoming weight (below), loses 3, 6
    assert repaired[12]  # the output bias, the best removed parameter on a live path, came back first
    # with no other live connection left to add, the last two go to bringing unit 0 back: its best incoming
    # weight and its outgoing weight
    assert repaired[[0, 9]].all() and not repaired[[3, 6]].any()
    assert repaired.sum() == keep.sum() and paths.useful(spec, repaired)[repaired].all()


def test_output_without_a_path_gets_one():
    spec = MLPSpec(4, (12,), 3)
    w2, _ = spec.layer_slices[1]
    scores = np.random.default_rng(0).exponential(size=spec.n_params)
    scores[w2.start + 2 :: 3][:12] = 0.0  # every weight into class 2 scores lowest: one-shot pruning cuts them all
    keep = global_mask(scores, 0.75)
    assert 2 in paths.orphan_outputs(spec, keep)
    repaired, info = paths.repair(keep, scores, spec)
    assert paths.orphan_outputs(spec, repaired).size == 0 and info.path_added >= 1
    assert repaired.sum() == keep.sum()


def test_dropped_inputs_are_reported():
    spec = MLPSpec(3, (2,), 1)
    keep = np.zeros(spec.n_params, bool)
    w1, _ = spec.layer_slices[0]
    w2, b2 = spec.layer_slices[1]
    keep[[w1.start + 0 * 2 + 0, w1.start + 2 * 2 + 0, w2.start + 0, b2.start]] = True  # inputs 0, 2 -> unit 0
    assert paths.dropped_inputs(spec, keep).tolist() == [1]


@settings(max_examples=80, deadline=None, derandomize=True)
@given(rate=st.floats(0.0, 0.99), steps=st.integers(1, 6))
def test_gradual_schedule_increases_to_exactly_the_rate(rate, steps):
    r = schedule.rates("gradual", rate, steps)
    assert r[-1] == rate and len(r) == (1 if rate == 0 else steps)
    assert all(a <= b for a, b in zip(r, r[1:], strict=False))
    assert all(0 <= x < 1 for x in r)
    assert schedule.rates("oneshot", rate, steps) == (rate,)


def test_cubic_schedule_values():
    # Zhu & Gupta (2017): s_t = s (1 - (1 - t/n)^3)
    np.testing.assert_allclose(schedule.rates("gradual", 0.9, 3), [0.9 * (1 - (2 / 3) ** 3), 0.9 * (1 - (1 / 3) ** 3),
                                                                  0.9])
    with pytest.raises(OptionError, match="schedule"):
        schedule.rates("sudden", 0.5)


def test_n_to_remove_is_the_count_a_schedule_reaches():
    spec = SPECS[0]
    scores = np.random.default_rng(1).exponential(size=spec.n_params)
    for rate in schedule.rates("gradual", 0.9, 4):
        keep = make_mask(scores, spec, rate)
        assert spec.n_params - keep.sum() == n_to_remove(spec.n_params, rate)
