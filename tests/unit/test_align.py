"""Chain alignment undoes hidden-unit permutations exactly and keeps the network's function."""

from __future__ import annotations

import numpy as np
import pytest

from bayesprune.model import MLPSpec, forward
from bayesprune.pruning.align import align_to, permutation_index


@pytest.mark.parametrize("hidden", [(7,), (5, 4)])
def test_alignment_recovers_a_permuted_copy(hidden):
    spec = MLPSpec(3, hidden, 2, activation="tanh", output="softmax")
    rng = np.random.default_rng(0)
    theta = rng.normal(size=spec.n_params).astype(np.float32)
    perms = [rng.permutation(h) for h in hidden]
    shuffled = theta[permutation_index(spec, perms)]
    X = rng.normal(size=(6, 3)).astype(np.float32)
    # relabelling units leaves the function unchanged ...
    np.testing.assert_allclose(np.asarray(forward(spec, shuffled, X)), np.asarray(forward(spec, theta, X)),
                               rtol=1e-5, atol=1e-5)
    # ... and alignment to the original puts every parameter back in place
    noisy = shuffled + rng.normal(scale=0.01, size=spec.n_params).astype(np.float32)
    index = align_to(spec, theta, noisy)
    np.testing.assert_allclose(noisy[index], theta, atol=0.05)
    assert sorted(index.tolist()) == list(range(spec.n_params))
