"""A posterior sample: the draws of a (possibly pruned) BNN posterior, with the chain moments that pruning scores
use and the chain operations (selection, alignment of hidden units)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bayesprune.errors import OptionError
from bayesprune.model.mlp import MLPSpec
from bayesprune.posterior.logdensity import BNNPosterior
from bayesprune.pruning import align, criteria
from bayesprune.samplers.driver import ChainResult

__all__ = ["PosteriorSample"]


@dataclass(frozen=True)
class PosteriorSample:
    """Draws of a (possibly pruned) BNN posterior and how they were made.

    ``result.draws`` holds positions ``(chain, draw, dim)``: the kept parameters (all when ``kept_idx`` is
    ``None``), then eta = log tau^2 for regression. ``seconds``: the stage's wall time; ``info``: how the chains
    started (``init``) and in how many groups (``superchains``); ``chain_weights``: each chain's weight in the
    predictive (:func:`~bayesprune.stages.weights.weigh_chains`; ``None``: equal). Built once, complete: a new
    sample is a new object (:meth:`select_chains`, :meth:`aligned`, :meth:`replace`).
    """

    posterior: BNNPosterior
    result: ChainResult
    kept_idx: np.ndarray | None = None
    seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    chain_weights: np.ndarray | None = None

    @property
    def spec(self) -> MLPSpec:
        return self.posterior.spec

    @property
    def n_params_kept(self) -> int:
        return self.spec.n_params if self.kept_idx is None else int(len(self.kept_idx))

    @property
    def keep_mask(self) -> np.ndarray:
        mask = np.zeros(self.spec.n_params, bool)
        mask[np.arange(self.spec.n_params) if self.kept_idx is None else self.kept_idx] = True
        return mask

    def theta_draws(self) -> np.ndarray:
        """Full parameter vectors (pruned entries exactly 0), shape (chain, draw, n_params)."""
        kept = None if self.kept_idx is None else np.asarray(self.kept_idx)
        return np.asarray(self.posterior.theta(np.asarray(self.result.draws), kept))

    def _embed(self, v: np.ndarray) -> np.ndarray:
        out = np.zeros(v.shape[:-1] + (self.spec.n_params,))
        k = self.n_params_kept
        if self.kept_idx is None:
            out[..., :] = v[..., :k]
        else:
            out[..., self.kept_idx] = v[..., :k]
        return out

    def moments(self) -> criteria.PosteriorMoments:
        """Mean and sd of every parameter over *all* post-burn-in draws of all chains (not only kept ones)."""
        return criteria.PosteriorMoments(self._embed(self.result.pooled_mean),
                                         np.sqrt(self._embed(self.result.pooled_var)))

    def chain_moments(self) -> list[criteria.PosteriorMoments]:
        r = self.result
        return [criteria.PosteriorMoments(self._embed(r.mean[c]), np.sqrt(self._embed(r.var[c])))
                for c in range(r.num_chains)]

    def theta_mean(self) -> np.ndarray:
        return self.moments().mean

    def best_chain(self) -> int:
        """The chain with the highest weight (when the chains are weighted), ties and unweighted chains broken by
        the highest mean log posterior over their kept draws."""
        logpost = np.nanmean(self.result.logdensity, axis=1)
        if self.chain_weights is None:
            return int(np.argmax(logpost))
        w = np.asarray(self.chain_weights)
        return int(np.lexsort((-logpost, -w))[0])

    def alignment_maps(self, reference: int) -> list[np.ndarray]:
        """Per chain, the position index map that relabels its hidden units to match chain ``reference``
        (``aligned_position = position[map]``; see :mod:`bayesprune.pruning.align`); eta stays where it is."""
        if self.kept_idx is not None:
            raise OptionError("align the full posterior sample, not a pruned one")
        r = self.result
        n = self.spec.n_params
        extra = np.arange(n, r.draws.shape[-1])
        return [np.concatenate([align.align_to(self.spec, r.mean[reference, :n], r.mean[c, :n]), extra])
                for c in range(r.num_chains)]

    def aligned(self, reference: int) -> PosteriorSample:
        """Every chain's hidden units relabelled to match chain ``reference`` (a copy of every draw; for a few
        positions, index them with :meth:`alignment_maps` instead)."""
        maps = self.alignment_maps(reference)
        r = self.result

        def permute(a: np.ndarray) -> np.ndarray:
            return np.stack([a[c][..., m] for c, m in enumerate(maps)])

        return PosteriorSample(self.posterior, r.map_positions(lambda a: permute(np.asarray(a))), None, self.seconds,
                               {**self.info, "aligned_to": reference}, self.chain_weights)

    def select_chains(self, chains: list[int] | np.ndarray, *, superchains: int | None = None) -> PosteriorSample:
        """The same sample restricted to some chains; ``superchains``: the groups they form (a subset is in no
        groups unless it says so)."""
        weights = None
        if self.chain_weights is not None:
            w = np.asarray(self.chain_weights)[np.asarray(chains)]
            weights = w / w.sum() if w.sum() > 0 else None
        return PosteriorSample(self.posterior, self.result.select_chains(chains), self.kept_idx, self.seconds,
                               {**self.info, "superchains": superchains}, weights)

    def replace(self, **changes: Any) -> PosteriorSample:
        return dataclasses.replace(self, **changes)
