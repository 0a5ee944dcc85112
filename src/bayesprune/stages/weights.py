"""Weighing the chains of a stage: stacking of their leave-one-out predictive densities on the training rows
(:mod:`bayesprune.evaluation.stacking`), so a chain in a poor mode counts little in the predictive, the compact
model and every metric."""

from __future__ import annotations

import numpy as np

from bayesprune.data.datasets import Dataset
from bayesprune.errors import OptionError
from bayesprune.evaluation.stacking import POOR_MODE_GAP, chain_weights
from bayesprune.indices import evenly_spaced
from bayesprune.predictive import pointwise_loglik
from bayesprune.settings import CHAIN_WEIGHTS
from bayesprune.stages.posterior_sample import PosteriorSample

WEIGHT_DRAWS = 250  # draws per chain (evenly spaced) whose training-row log-likelihoods the weights come from


def weigh_chains(ps: PosteriorSample, ds: Dataset, how: str = "stacking") -> PosteriorSample:
    """``ps`` with its chains weighted: ``stacking`` (:func:`~bayesprune.evaluation.stacking.chain_weights` on
    the training rows, from up to ``WEIGHT_DRAWS`` draws per chain), ``auto`` (stacking only when a chain's LOO
    ELPD per training row trails the best's by more than ``POOR_MODE_GAP`` and than the chains' LOO correction
    per row, equal weights otherwise) or ``equal``
    (no weights). Equal weights are recorded as ``None``."""
    if how not in CHAIN_WEIGHTS:
        raise OptionError.about("chain_weights", f"must be one of {', '.join(CHAIN_WEIGHTS)}, got {how!r}")
    if how == "equal" or ps.result.num_chains == 1:
        return ps.replace(chain_weights=None)
    weights = chain_weights(weight_loglik(ps, ds), POOR_MODE_GAP if how == "auto" else None)
    return ps.replace(chain_weights=None if how == "auto" and np.ptp(weights) == 0 else weights)


def weight_loglik(ps: PosteriorSample, ds: Dataset) -> np.ndarray:
    """The pointwise log-likelihoods ``(chain, draw, row)`` on the training rows that the weights come from: up
    to ``WEIGHT_DRAWS`` evenly spaced draws per chain."""
    draws = np.asarray(ps.result.draws)
    draws = draws[:, evenly_spaced(draws.shape[1], min(WEIGHT_DRAWS, draws.shape[1]))]
    return np.asarray(pointwise_loglik(ps.posterior, draws, ds.X_train, ds.y_train, ps.kept_idx))
