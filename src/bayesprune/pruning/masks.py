"""Selectors: scores -> boolean keep-mask over ``theta`` (True = kept).

Unstructured selectors remove individual parameters; structured ones remove whole hidden units (the unit's
incoming weights, bias and outgoing weights), scored by the sum of their parameters' scores. Either can rank
globally (the paper) or within each layer, at one rate or a rate per layer. A rate ``r`` removes exactly
``round(r * n)`` (half rounded up) of the ``n`` candidates; structured pruning never removes the last unit of a
layer.
"""

from __future__ import annotations

import numpy as np

from bayesprune.errors import OptionError
from bayesprune.model.mlp import MLPSpec, hidden_unit_groups
from bayesprune.options import pruning_rate


def n_to_remove(n: int, rate: float) -> int:
    """round(rate * n), halves rounded up (not Python's round-half-even)."""
    pruning_rate("rate", rate)
    return int(np.floor(float(rate) * n + 0.5))


def _lowest(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` lowest scores (ties broken by position, so the result is deterministic)."""
    return np.argsort(scores, kind="stable")[:k]


def global_mask(scores: np.ndarray, rate: float) -> np.ndarray:
    """Remove the ``round(rate * n)`` lowest-scoring parameters over the whole network."""
    keep = np.ones(len(scores), bool)
    keep[_lowest(np.asarray(scores), n_to_remove(len(scores), rate))] = False
    return keep


def per_layer_mask(scores: np.ndarray, spec: MLPSpec, rate: float) -> np.ndarray:
    """Remove ``round(rate * n_l)`` lowest-scoring parameters within each layer ``l``."""
    scores = np.asarray(scores)
    keep = np.ones(len(scores), bool)
    for layer in range(spec.n_layers):
        idx = np.flatnonzero(spec.param_layer == layer)
        keep[idx[_lowest(scores[idx], n_to_remove(len(idx), rate))]] = False
    return keep


def unit_scores(scores: np.ndarray, spec: MLPSpec) -> tuple[np.ndarray, list]:
    """Score of each hidden unit = sum of the scores of its parameters; returns (scores, groups)."""
    groups = hidden_unit_groups(spec)
    return np.array([np.sum(np.asarray(scores)[g]) for _, _, g in groups]), groups


def input_groups(spec: MLPSpec) -> list[np.ndarray]:
    """The parameters of each input feature: its outgoing weights into the first layer."""
    w, _ = spec.layer_slices[0]
    return [w.start + i * spec.widths[1] + np.arange(spec.widths[1]) for i in range(spec.n_inputs)]


def structured_mask(scores: np.ndarray, spec: MLPSpec, rate: float, *, per_layer: bool = False,
                    inputs: bool = False) -> np.ndarray:
    """Remove whole hidden units: ``round(rate * units)`` of them, globally or per layer. With ``inputs``, also
    ``round(rate * features)`` input features (ranked among themselves by the sum of their weights' scores;
    never the last one), so the compact model reads fewer columns."""
    if not spec.hidden:
        raise OptionError("structured pruning needs at least one hidden layer")
    u_scores, groups = unit_scores(scores, spec)
    layers = np.array([layer for layer, _, _ in groups])
    removed: list[int] = []
    if per_layer:
        for layer in range(len(spec.hidden)):
            idx = np.flatnonzero(layers == layer)
            k = min(n_to_remove(len(idx), rate), len(idx) - 1)
            removed += list(idx[_lowest(u_scores[idx], k)])
    else:
        k = n_to_remove(len(groups), rate)
        left = {layer: int(np.sum(layers == layer)) for layer in range(len(spec.hidden))}
        for u in np.argsort(u_scores, kind="stable"):
            if len(removed) == k:
                break
            if left[layers[u]] > 1:
                removed.append(int(u))
                left[layers[u]] -= 1
    keep = np.ones(spec.n_params, bool)
    for u in removed:
        keep[groups[u][2]] = False
    if inputs:
        features = input_groups(spec)
        f_scores = np.array([np.sum(np.asarray(scores)[g]) for g in features])
        for i in _lowest(f_scores, min(n_to_remove(len(features), rate), len(features) - 1)):
            keep[features[i]] = False
    return keep


def layer_rate_count(spec: MLPSpec, *, structured: bool, prune_inputs: bool) -> tuple[int, str]:
    """How many per-layer rates a network takes, and what they are for."""
    if structured:
        return len(spec.hidden) + int(prune_inputs), ("the input features, then " if prune_inputs else "") + \
            "each hidden layer's units"
    return spec.n_layers, "each weight layer (the output layer included)"


def _check_layer_rates(spec: MLPSpec, layer_rates, *, structured: bool, prune_inputs: bool) -> None:
    n, what = layer_rate_count(spec, structured=structured, prune_inputs=prune_inputs)
    if len(layer_rates) != n:
        raise OptionError.about("layer_rates", f"needs {n} rates for this network, one for {what}; got "
                                f"{len(layer_rates)}")
    for r in layer_rates:
        pruning_rate("layer_rates", r)


def layer_rates_mask(scores: np.ndarray, spec: MLPSpec, layer_rates, *, structured: bool = False,
                     prune_inputs: bool = False) -> np.ndarray:
    """A rate per layer: unstructured, ``round(r_l * n_l)`` lowest-scoring parameters of weight layer ``l``;
    structured, ``round(r_l * units_l)`` lowest-scoring units of hidden layer ``l`` (never the last), after the
    input features' rate with ``prune_inputs``."""
    _check_layer_rates(spec, layer_rates, structured=structured, prune_inputs=prune_inputs)
    scores = np.asarray(scores)
    keep = np.ones(len(scores), bool)
    if not structured:
        for layer, rate in enumerate(layer_rates):
            idx = np.flatnonzero(spec.param_layer == layer)
            keep[idx[_lowest(scores[idx], n_to_remove(len(idx), rate))]] = False
        return keep
    rates = list(layer_rates)
    if prune_inputs:
        features = input_groups(spec)
        f_scores = np.array([np.sum(scores[g]) for g in features])
        for i in _lowest(f_scores, min(n_to_remove(len(features), rates.pop(0)), len(features) - 1)):
            keep[features[i]] = False
    u_scores, groups = unit_scores(scores, spec)
    layers = np.array([layer for layer, _, _ in groups])
    for layer, rate in enumerate(rates):
        idx = np.flatnonzero(layers == layer)
        for u in idx[_lowest(u_scores[idx], min(n_to_remove(len(idx), rate), len(idx) - 1))]:
            keep[groups[u][2]] = False
    return keep


def layer_rates_share(spec: MLPSpec, layer_rates, *, structured: bool = False, prune_inputs: bool = False) -> float:
    """The share of the network's parameters that ``layer_rates`` removes (it depends on the counts only)."""
    keep = layer_rates_mask(np.zeros(spec.n_params), spec, layer_rates, structured=structured,
                            prune_inputs=prune_inputs)
    return 1.0 - float(keep.mean())


def make_mask(
    scores: np.ndarray, spec: MLPSpec, rate: float, *, structured: bool = False, per_layer: bool = False,
    prune_inputs: bool = False, layer_rates: tuple[float, ...] | None = None,
) -> np.ndarray:
    """Dispatch to the selector for (a rate per layer?, structured?, per layer?, input features too?)."""
    if layer_rates is not None:
        return layer_rates_mask(scores, spec, layer_rates, structured=structured, prune_inputs=prune_inputs)
    if structured:
        return structured_mask(scores, spec, rate, per_layer=per_layer, inputs=prune_inputs)
    if per_layer:
        return per_layer_mask(scores, spec, rate)
    return global_mask(scores, rate)


def apply_mask(theta: np.ndarray, keep_mask: np.ndarray) -> np.ndarray:
    """Zero the pruned parameters (idempotent: applying a mask twice equals applying it once)."""
    return np.where(keep_mask, theta, 0.0).astype(np.asarray(theta).dtype)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|A ∩ B| / |A ∪ B| of the kept sets of two masks (1 when both keep nothing)."""
    union = np.sum(a | b)
    return float(np.sum(a & b) / union) if union else 1.0


def mean_pairwise_jaccard(masks: list[np.ndarray]) -> float:
    """Agreement of several masks (e.g. one per chain): mean Jaccard over all pairs (1.0 for one mask)."""
    if len(masks) < 2:
        return 1.0
    vals = [jaccard(masks[i], masks[j]) for i in range(len(masks)) for j in range(i + 1, len(masks))]
    return float(np.mean(vals))
