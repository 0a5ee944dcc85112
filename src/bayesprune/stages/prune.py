"""The pruning stage: :func:`prune` scores every parameter from the posterior draws and chooses a keep-mask;
:func:`pruned` is the sample with that mask applied and nothing resampled (the paper's 'pruned')."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from bayesprune import settings
from bayesprune.data.datasets import Dataset
from bayesprune.errors import OptionError
from bayesprune.evaluation import selection
from bayesprune.pruning import criteria, masks, paths
from bayesprune.seeds import stream_key
from bayesprune.settings import RunConfig
from bayesprune.stage_settings import CompressionSpec, PruningSpec, ResamplingSpec
from bayesprune.stages.posterior_sample import PosteriorSample


@dataclass(frozen=True)
class PruneResult:
    """A keep-mask and how it was chosen.

    ``repair``: what :func:`bayesprune.pruning.paths.repair` changed (``None`` without repair);
    ``dropped_inputs``: input features no kept path uses; ``selection``: the candidates of ``rate="auto"``.
    """

    keep_mask: np.ndarray
    scores: np.ndarray
    criterion: str
    rate: float
    structured: bool
    per_layer: bool
    chain_agreement: float
    threshold: float
    source_chains: list[int]
    reference: PosteriorSample | None = None  # the (selected or aligned) draws the scores came from
    repair: paths.Repair | None = None
    dropped_inputs: tuple[int, ...] = ()
    selection: selection.RateSelection | None = None
    prune_inputs: bool = False

    @property
    def kept_idx(self) -> np.ndarray:
        return np.flatnonzero(self.keep_mask).astype(np.int32)


def prune(
    ps: PosteriorSample,
    pruning: PruningSpec | None = None,
    *,
    rate: float | str = RunConfig.rates[0],
    seed: int = RunConfig.seed,
    data: Dataset | None = None,
    **settings_: Any,
) -> PruneResult:
    """Score every parameter from the posterior draws and remove the ``rate`` share with the lowest score.

    Parameters
    ----------
    pruning
        How the mask is chosen (:class:`~bayesprune.stage_settings.PruningSpec`: ``criterion``, ``structured``,
        ``per_layer``, ``prune_inputs``, ``layer_rates``, ``score_from``, ``repair``); or give those settings as
        keyword arguments.
    rate
        Share of the network's parameters removed. A rate chosen from the data (``"auto"``) needs every candidate
        pruned *and resampled*: that is :func:`~bayesprune.stages.compress.compress` (``compress(ps, ds,
        rate="auto").prune``).
    score_from
        ``best-chain`` (default): moments of the chain with the highest mean log posterior. Independent
        chains of a BNN settle in different modes related by unit permutations and sign flips, so a
        parameter's mean pooled over chains mixes unrelated weights; the paper likewise prunes each run
        (one chain) on its own draws. ``aligned``: all chains pooled after relabelling their hidden units to
        match the best chain. ``pooled``: all chains pooled as they are. A sample that is already pruned (a
        step of a gradual schedule) pools all its chains: they were all started in the mode its mask was
        scored on.
    repair
        Remove parameters that no longer lie on a path from the inputs to the outputs and spend their budget on
        live ones (:func:`bayesprune.pruning.paths.repair`); the count kept is unchanged.
    data
        The data set: needed by ``rate="auto"`` and by the ``lppd`` criterion (scored on its training rows).

    Parameters already removed from a pruned ``ps`` stay removed (they score lowest), so the rate is always
    the share of the whole network. ``chain_agreement`` is the mean pairwise Jaccard index of the masks each
    chain alone would give (random pruning draws each chain's scores from its own key, so it measures chance
    agreement there).
    """
    elsewhere = sorted(set(settings_) & (CompressionSpec.names() | ResamplingSpec.names()))
    if rate == "auto" or elsewhere:
        raise OptionError.about(elsewhere[0] if elsewhere else "rate", "belongs to compress(): rate='auto' "
                                "resamples every candidate rate, so use bayesprune.compress(sample, data, "
                                "rate='auto', ...).prune")
    spec = PruningSpec.given(pruning, settings_)
    settings.check("rates", (rate,), param="rate")
    criterion, score_from, layer_rates = spec.criterion, spec.score_from, spec.layer_rates
    key = stream_key(seed, f"prune:{criterion}")
    if ps.kept_idx is not None:
        source = list(range(ps.result.num_chains))
        reference = ps
    elif score_from == "best-chain":
        source = [ps.best_chain()]
        reference = ps.select_chains(source)
    elif score_from == "aligned":
        source = list(range(ps.result.num_chains))
        reference = ps.aligned(ps.best_chain())
    else:
        source = list(range(ps.result.num_chains))
        reference = ps
    removed = ~ps.keep_mask
    scorer = criteria.get(criterion)
    if scorer.needs_data and data is None:
        raise OptionError.about("data", f"is needed by the {criterion} criterion (it is scored on the training rows)")

    def select(source: PosteriorSample, k: jax.Array) -> tuple[np.ndarray, np.ndarray, paths.Repair | None]:
        if scorer.needs_data:
            full_positions = reposition(source, np.asarray(source.result.draws), np.arange(ps.spec.n_params))
            scores = scorer.from_draws(ps.posterior, full_positions, data.X_train, data.y_train)
        else:
            scores = scorer.from_moments(source.moments(), k)
        scores = np.where(removed, -np.inf, scores)  # already removed: first to go, never back by score
        keep = masks.make_mask(scores, ps.spec, rate, structured=spec.structured, per_layer=spec.per_layer,
                               prune_inputs=spec.prune_inputs, layer_rates=layer_rates)
        if not spec.repair:
            return scores, keep, None
        keep, info = paths.repair(keep, scores, ps.spec, allowed=~removed)
        return scores, keep, info

    scores, keep, info = select(reference, key)
    chain_source = reference if (score_from == "aligned" or ps.kept_idx is not None) else ps
    per_chain = [select(chain_source.select_chains([c]), jax.random.fold_in(key, c))[1]
                 for c in range(chain_source.result.num_chains)]
    removed_scores = scores[~keep & np.isfinite(scores)]
    threshold = float(np.max(removed_scores)) if removed_scores.size else float("-inf")
    if layer_rates is not None:  # the share of the whole network those rates removed
        rate = 1.0 - float(keep.mean())
    return PruneResult(keep, scores, criterion, float(rate), spec.structured, spec.per_layer,
                       masks.mean_pairwise_jaccard(per_chain), threshold, source, reference, info,
                       tuple(int(i) for i in paths.dropped_inputs(ps.spec, keep)), prune_inputs=spec.prune_inputs)


def reposition(ps: PosteriorSample, positions: np.ndarray, kept_idx: np.ndarray) -> np.ndarray:
    """Positions of ``ps`` (its kept parameters [+ eta]) as positions over ``kept_idx``: parameters it does not
    hold start at 0."""
    post = ps.posterior
    positions = np.asarray(positions)
    if ps.kept_idx is None:
        return np.asarray(post.restrict(positions, kept_idx))
    full = np.zeros(positions.shape[:-1] + (post.position_size(),), positions.dtype)
    full[..., ps.kept_idx] = positions[..., : len(ps.kept_idx)]
    if post.has_eta:
        full[..., -1] = positions[..., -1]
    return np.asarray(post.restrict(full, kept_idx))


def pruned(ps: PosteriorSample, pr: PruneResult) -> PosteriorSample:
    """The draws the mask was scored on, pruned parameters set to 0, no resampling (the paper's 'pruned')."""
    kept_idx = pr.kept_idx
    r = (pr.reference or ps.select_chains(pr.source_chains)).result
    return PosteriorSample(ps.posterior, r.map_positions(lambda a: reposition(ps, a, kept_idx)), kept_idx, 0.0)


