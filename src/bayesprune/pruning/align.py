"""Aligning chains across the permutation symmetry of hidden units.

Swapping two hidden units (with their incoming weights, bias and outgoing weights) leaves a network's function
unchanged, so independent chains settle in copies of the same mode with their units in different orders, and a
weight's mean pooled over chains mixes unrelated weights. Alignment relabels each chain's hidden units to match a
reference chain: for every hidden layer, the assignment (Hungarian algorithm, SciPy's ``linear_sum_assignment``)
that minimises the squared distance between the units' posterior-mean parameter vectors (incoming weights, bias,
and for the last hidden layer the outgoing weights). Sign symmetries (exact for tanh, approximate for sigmoid)
are not aligned.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from bayesprune.model.mlp import MLPSpec, hidden_unit_index


def permutation_index(spec: MLPSpec, unit_perms: list[np.ndarray]) -> np.ndarray:
    """Parameter index map for hidden-unit permutations: ``aligned = theta[index]``.

    ``unit_perms[l][i]`` is the unit of hidden layer ``l`` that becomes unit ``i``.
    """
    return hidden_unit_index(spec, unit_perms)


def _unit_features(spec: MLPSpec, theta: np.ndarray, layer: int, prev_perm: np.ndarray) -> np.ndarray:
    """One row per unit of hidden layer ``layer``: incoming weights (rows in aligned order), bias, and outgoing
    weights when the next layer is the output."""
    w, b = spec.layer_slices[layer]
    fan_in, width = spec.widths[layer], spec.widths[layer + 1]
    W = theta[w].reshape(fan_in, width)[prev_perm]
    feats = [W.T, theta[b][:, None]]
    if layer == len(spec.hidden) - 1:
        w2, _ = spec.layer_slices[layer + 1]
        feats.append(theta[w2].reshape(width, spec.widths[layer + 2]))
    return np.concatenate(feats, axis=1)


def align_to(spec: MLPSpec, reference: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Index map that relabels the hidden units of ``theta`` to best match ``reference`` (both mean vectors)."""
    unit_perms = []
    prev = np.arange(spec.n_inputs)
    prev_ref = np.arange(spec.n_inputs)
    for layer in range(len(spec.hidden)):
        ref_f = _unit_features(spec, reference, layer, prev_ref)
        f = _unit_features(spec, theta, layer, prev)
        cost = ((ref_f[:, None, :] - f[None, :, :]) ** 2).sum(axis=-1)
        _, perm = linear_sum_assignment(cost)
        unit_perms.append(perm)
        prev, prev_ref = perm, np.arange(spec.widths[layer + 1])
    return permutation_index(spec, unit_perms)
