"""Pruning: criteria (draws -> scores) and selectors (scores -> keep-mask)."""

from bayesprune.pruning.criteria import CRITERIA, PosteriorMoments, score
from bayesprune.pruning.masks import (
    apply_mask,
    global_mask,
    make_mask,
    mean_pairwise_jaccard,
    n_to_remove,
    per_layer_mask,
    structured_mask,
)

__all__ = [
    "CRITERIA",
    "PosteriorMoments",
    "apply_mask",
    "global_mask",
    "make_mask",
    "mean_pairwise_jaccard",
    "n_to_remove",
    "per_layer_mask",
    "score",
    "structured_mask",
]
