"""The resampling stage: MCMC again on the parameters a mask keeps, from starts drawn from the posterior the mask
was scored on."""

from __future__ import annotations

import time

import numpy as np

from bayesprune import settings
from bayesprune.data.datasets import Dataset
from bayesprune.errors import OptionError
from bayesprune.samplers.driver import run_chains
from bayesprune.samplers.registry import settings_class
from bayesprune.seeds import stream_key
from bayesprune.settings import RunConfig
from bayesprune.stages import sample as sampling
from bayesprune.stages.posterior_sample import PosteriorSample
from bayesprune.stages.prune import PruneResult, reposition
from bayesprune.stages.sample import SamplerSettingsLike, optimised_start, sampling_lengths


def resample(
    ps: PosteriorSample,
    ds: Dataset,
    pr: PruneResult,
    *,
    sampler: str | None = None,
    samples: int | None = None,
    burnin: float = RunConfig.resample_burnin,
    thin: int | None = None,
    start: str | None = RunConfig.resample_start,
    seed: int = RunConfig.seed,
    sampler_settings: SamplerSettingsLike = None,
    chains: int | None = None,
    until_converged: float | None = RunConfig.until_converged,
    progress=None,
) -> PosteriorSample:
    """Run MCMC again on the kept parameters only; pruned ones stay exactly 0 and are never proposed.

    ``ps`` is the sample the mask was scored on: the full one, or a pruned and resampled one (a step of a
    gradual schedule; parameters the new mask keeps that ``ps`` did not start at 0).

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
        do after pruning, here before the resampling that follows).
    chains
        Number of chains (default: as many as the full sample had).
    until_converged
        Go on until the predictions converge, for at most this many seconds (as in
        :func:`~bayesprune.stages.sample.sample`).
    """
    sampler = sampler or ps.result.sampler
    settings.check("sampler", sampler)
    n_chains = ps.result.num_chains if chains is None else chains
    settings.check("chains", n_chains)
    start = settings_class(sampler).default_resample_start if start is None else start
    settings.check("resample_start", start, param="start")
    settings.check("until_converged", until_converged)
    samples = settings_class(sampler).default_resample_samples if samples is None else samples
    num_warmup, num_draws, thin = sampling_lengths(samples, burnin, thin, chains=n_chains,
                                                    samples_field="resample_samples",
                                                    burnin_field="resample_burnin")
    kept_idx = pr.kept_idx
    if kept_idx.size == 0:
        raise OptionError.about("rate", "keeps no parameters; use a lower rate")
    r = (pr.reference or ps.select_chains(pr.source_chains)).result
    t0 = time.perf_counter()
    if start == "mean":
        init = np.repeat(reposition(ps, r.pooled_mean, kept_idx)[None], n_chains, 0)
    elif start in ("draws", "optimised"):
        flat = np.asarray(r.draws).reshape(-1, r.draws.shape[-1])
        init = reposition(ps, flat[((np.arange(n_chains) + 0.5) * len(flat) / n_chains).astype(int)], kept_idx)
    else:
        last = reposition(ps, r.last_position, kept_idx)
        init = last[np.arange(n_chains) % len(last)]
    if start == "optimised":
        init, _ = optimised_start(ps.posterior, ds, init, sampler, None, seed, kept_idx=kept_idx)
    result = run_chains(
        ps.posterior, ds.X_train, ds.y_train, init, stream_key(seed, "resample"), sampler=sampler,
        settings=sampler_settings, num_warmup=num_warmup, num_draws=num_draws, thin=thin, kept_idx=kept_idx,
        progress=progress,
    )
    if until_converged is not None:
        result = sampling.extend_until_converged(ps.posterior, ds, result, stream_key(seed, "resample"), sampler,
                                  sampler_settings, kept_idx, until_converged, progress)
    return PosteriorSample(ps.posterior, result, kept_idx, time.perf_counter() - t0)


