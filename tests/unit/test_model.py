"""The flat-vector MLP: layout, names, round trips and the forward pass against plain NumPy."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayesprune.errors import OptionError
from bayesprune.model import MLPSpec, flatten, forward, hidden_unit_groups, init_params, unflatten

specs = st.builds(
    MLPSpec,
    n_inputs=st.integers(1, 6),
    hidden=st.lists(st.integers(1, 5), min_size=0, max_size=3).map(tuple),
    n_outputs=st.integers(1, 4),
)


@settings(max_examples=30, deadline=None)
@given(spec=specs, seed=st.integers(0, 10_000))
def test_flatten_unflatten_round_trip(spec, seed):
    theta = np.random.default_rng(seed).normal(size=spec.n_params).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(flatten(unflatten(spec, theta))), theta)
    assert len(spec.param_names) == spec.n_params == len(set(spec.param_names))


@settings(max_examples=30, deadline=None)
@given(spec=specs.filter(lambda s: len(s.hidden) > 0))
def test_unit_groups_partition_hidden_parameters(spec):
    groups = hidden_unit_groups(spec)
    assert len(groups) == sum(spec.hidden)
    for layer, _, idx in groups:
        fan_in, fan_out = spec.widths[layer], spec.widths[layer + 2]
        assert len(idx) == fan_in + 1 + fan_out == len(set(idx.tolist()))


def test_names_and_forward_match_numpy():
    spec = MLPSpec(3, (4,), 2, activation="tanh", output="softmax")
    assert spec.n_params == 3 * 4 + 4 + 4 * 2 + 2
    assert spec.param_names[0] == "layer1.W[0,0]" and spec.param_names[-1] == "layer2.b[1]"
    theta = np.asarray(init_params(jax.random.key(0), spec, scale=0.7))
    X = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    W1 = theta[:12].reshape(3, 4)
    b1 = theta[12:16]
    W2 = theta[16:24].reshape(4, 2)
    b2 = theta[24:]
    expected = np.tanh(X @ W1 + b1) @ W2 + b2
    np.testing.assert_allclose(np.asarray(forward(spec, theta, X)), expected, rtol=1e-5, atol=1e-5)


def test_sigmoid_output_and_bad_specs():
    spec = MLPSpec(2, (3,), 1, output="sigmoid")
    out = np.asarray(forward(spec, np.ones(spec.n_params, np.float32) * 0.3, np.ones((4, 2), np.float32)))
    assert np.all((out > 0) & (out < 1))
    with pytest.raises(OptionError, match="hidden must list widths >= 1"):
        MLPSpec(2, (0,), 1)
    with pytest.raises(OptionError, match="activation"):
        MLPSpec(2, (3,), 1, activation="swish")
