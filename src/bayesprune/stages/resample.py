"""The resampling stage: MCMC again on the parameters a mask keeps, from starts drawn from the posterior the mask
was scored on."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bayesprune.data.datasets import Dataset
from bayesprune.errors import OptionError
from bayesprune.samplers.driver import run_chains
from bayesprune.samplers.registry import get_sampler, settings_class
from bayesprune.seeds import stream_key
from bayesprune.settings import RunConfig
from bayesprune.stage_settings import ResamplingSpec
from bayesprune.stages import sample as sampling
from bayesprune.stages.posterior_sample import PosteriorSample
from bayesprune.stages.prune import PruneResult, reposition
from bayesprune.stages.sample import optimised_start, sampling_lengths
from bayesprune.stages.weights import weigh_chains


def resample(
    ps: PosteriorSample,
    ds: Dataset,
    pr: PruneResult,
    resampling: ResamplingSpec | None = None,
    *,
    seed: int = RunConfig.seed,
    progress=None,
    **settings_: Any,
) -> PosteriorSample:
    """Run MCMC again on the kept parameters only; pruned ones stay exactly 0 and are never proposed.

    ``ps`` is the sample the mask was scored on: the full one, or a pruned and resampled one (a step of a
    gradual schedule; parameters the new mask keeps that ``ps`` did not start at 0).

    The settings are one :class:`~bayesprune.stage_settings.ResamplingSpec` (``resampling``), or its fields as
    keyword arguments:

    Parameters
    ----------
    sampler, sampler_settings
        The sampler (default: the full sample's) and its settings (default: its defaults).
    samples
        Steps per chain including burn-in (default: the sampler's default resampling length).
    start
        ``draws`` (default): each chain from a different draw of the posterior the mask was scored on, pruned
        (draws spread evenly over its chains and iterations), so the chains start apart and split R-hat can
        see when they end in different places; ``mean`` (the paper): every chain from the pruned posterior
        mean of those chains; ``last``: from their last states, pruned (cycled over the chains); ``optimised``:
        as ``draws``, then each start optimised on the kept parameters (the sampler's ``default_init_steps``
        Adam steps, on minibatches for the stochastic-gradient samplers: the fine-tuning that pruning methods
        do after pruning, here before the resampling that follows), the noise variance (regression) first set
        to its mode given the pruned network (``BNNPosterior.with_noise_at_mode``), as pruning can change the
        residuals by orders of magnitude.
    start_from
        ``all-chains`` (the run's default, chosen by benchmarks/pipeline.py): the starts come from every chain
        of the full sample, hidden units relabelled to match the scoring chain
        (:meth:`~bayesprune.stages.posterior_sample.PosteriorSample.alignment_maps`), so each resampling chain
        starts in the mode of a different full chain and the compact model keeps the full sample's modes, as
        its predictive does; ``scoring-chains``: from the chains the mask was scored on (the best one by
        default).
    chains
        Number of chains (default: as many as the full sample had).
    until_converged
        Go on until the predictions converge, for at most this many seconds (as in
        :func:`~bayesprune.stages.sample.sample`).

    ``progress(what, total)`` may return an ``advance(n)`` callback for each part of the work, ``what`` being
    ``"fine-tuning"`` (the optimised starts' Adam steps) or ``"resampling"``.
    """
    spec = ResamplingSpec.given(resampling, settings_)
    sampler = spec.sampler or ps.result.sampler
    sampler_settings, until_converged = spec.sampler_settings, spec.until_converged
    n_chains = ps.result.num_chains if spec.chains is None else spec.chains
    defaults = settings_class(sampler)
    start = defaults.default_resample_start if spec.start is None else spec.start
    samples = defaults.default_resample_samples if spec.samples is None else spec.samples
    kept_idx = pr.kept_idx
    num_warmup, num_draws, thin = sampling_lengths(samples, spec.burnin, spec.thin, chains=n_chains,
                                                   dim=ps.posterior.position_size(kept_idx.size))
    if kept_idx.size == 0:
        raise OptionError.about("rate", "keeps no parameters; use a lower rate")
    t0 = time.perf_counter()
    init = reposition(ps, start_positions(ps, pr, start, n_chains, spec.start_from), kept_idx)
    info = {}
    if start == "optimised":  # the noise variance re-fitted to the pruned network's residuals first (closed form)
        init = ps.posterior.with_noise_at_mode(init, ds.X_train, ds.y_train, kept_idx)
        stage = (lambda total: progress("fine-tuning", total)) if progress else None  # noqa: E731
        init, loss = optimised_start(ps.posterior, ds, init, sampler, None, seed, kept_idx=kept_idx, progress=stage)
        if not get_sampler(sampler).stochastic:  # the exact log posterior of each fine-tuned start
            info["start_logpost"] = [float(-v) for v in loss]
    advance = progress("resampling", samples) if progress else None
    result = run_chains(
        ps.posterior, ds.X_train, ds.y_train, init, stream_key(seed, "resample"), sampler=sampler,
        settings=sampler_settings, num_warmup=num_warmup, num_draws=num_draws, thin=thin, kept_idx=kept_idx,
        progress=advance,
    )
    if until_converged is not None:
        result = sampling.extend_until_converged(ps.posterior, ds, result, stream_key(seed, "resample"), sampler,
                                                 sampler_settings, kept_idx, until_converged, advance)
    out = PosteriorSample(ps.posterior, result, kept_idx, time.perf_counter() - t0, info)
    return weigh_chains(out, ds, spec.chain_weights).replace(seconds=time.perf_counter() - t0)


def start_positions(ps: PosteriorSample, pr: PruneResult, start: str, n_chains: int,
                    start_from: str = "scoring-chains") -> np.ndarray:
    """The ``n_chains`` positions of ``ps`` (before pruning) the resampling chains start from: the chains the mask
    was scored on, or (``all-chains``) every chain of the full sample ``ps`` with its hidden units relabelled to
    match the scoring chain; from ``mean`` their pooled mean, from ``draws`` / ``optimised`` draws spread evenly
    over their chains and iterations, from ``last`` their last states (cycled). Only the positions used are
    relabelled: a copy of every draw of LeNet-300-100 (4 x 1,000 x 266,610) is 4.3 GB. A pruned ``ps`` (a step of
    a gradual schedule) pools its chains either way."""
    if starts_chains(ps, pr, start_from) != list(pr.source_chains):  # all chains, but scored on some
        r, maps = ps.result, ps.alignment_maps(pr.source_chains[0])
    else:
        r, maps = (pr.reference or ps.select_chains(pr.source_chains)).result, None

    def at(position: np.ndarray, chain: int) -> np.ndarray:
        return position if maps is None else position[maps[chain]]

    n_source = r.num_chains
    if start == "mean":
        mean = np.mean([at(r.mean[c], c) for c in range(n_source)], axis=0)  # chains equally long
        return np.repeat(mean[None], n_chains, 0)
    if start in ("draws", "optimised"):
        n_draws = r.draws.shape[1]
        flat = ((np.arange(n_chains) + 0.5) * n_source * n_draws / n_chains).astype(int)
        return np.stack([at(np.asarray(r.draws[i // n_draws, i % n_draws]), i // n_draws) for i in flat])
    return np.stack([at(np.asarray(r.last_position[c % n_source]), c % n_source) for c in range(n_chains)])


def starts_chains(ps: PosteriorSample, pr: PruneResult, start_from: str = "scoring-chains") -> list[int]:
    """The chains of the full sample ``ps`` that resampling starts from (see :func:`start_positions`)."""
    if start_from == "all-chains" and ps.kept_idx is None:
        return list(range(ps.result.num_chains))
    return list(pr.source_chains)
