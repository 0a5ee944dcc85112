"""Plain-language warnings about a sampled stage, each with the remedy its sampler declares
(:class:`~bayesprune.samplers.base.Advice`): computed once by the runner and stored in the record
(``metrics.json``: ``warnings``), which the report only renders."""

from __future__ import annotations

import numpy as np

from bayesprune.evaluation.records import StageMetrics
from bayesprune.samplers.registry import DEFAULT_SAMPLER, SAMPLERS, get_sampler, settings_class
from bayesprune.settings import RunConfig

RHAT_WARN = 1.05  # function-space R-hat above this: the chains disagree on predictions
ESS_WARN = 100  # fewer effective draws of a test prediction than this: estimates are noisy
STAGES = ("full", "resampled")  # the sampled stages (the pruned one re-uses the full model's draws)


def stage_warnings(stage: str, m: StageMetrics, cfg: RunConfig | None = None) -> list[str]:
    """Warnings about one stage's convergence, each with how far it is off and the one option most likely to fix
    it (``bayesprune run`` flags of ``cfg.sampler``, from its module's advice)."""
    cfg = cfg or RunConfig()
    advice = get_sampler(cfg.sampler).advice
    length_flag = "--samples" if stage == "full" else "--resample-samples"
    length = cfg.samples if stage == "full" else cfg.resample_samples
    longer = f"sample longer ({length_flag} {2 * length}) or until converged (--until-converged 600)"

    def say(text: str) -> str:
        return text.format(length_flag=length_flag, longer=longer, default_sampler=DEFAULT_SAMPLER)

    out = []
    if m.acceptance_rate < 0.01:
        out.append(f"{stage}: acceptance {m.acceptance_rate:.3f} < 1%, the chain is stuck; {say(advice.stuck)}")
    elif m.acceptance_rate > 0.99:
        out.append(f"{stage}: acceptance {m.acceptance_rate:.3f} > 99%, steps are too small to explore; "
                   + say(advice.small_steps))
    if m.nrhat_fn_max is not None:  # many short chains started in groups: nested R-hat is the judge
        if not np.isfinite(m.nrhat_fn_max) or m.nrhat_fn_max > RHAT_WARN:
            out.append(f"{stage}: the groups of chains disagree on the test predictions (nested R-hat "
                       f"{m.nrhat_fn_max:.2f}, should be <= {RHAT_WARN}); {longer}")
    elif np.isfinite(m.rhat_fn_max) and m.rhat_fn_max > RHAT_WARN and not settled_in_modes(m):
        within = (f", within a chain {m.rhat_fn_within_max:.2f}" if m.rhat_fn_within_max is not None
                  and np.isfinite(m.rhat_fn_within_max) else "")
        out.append(f"{stage}: chains have not settled on the test predictions (function-space R-hat "
                   f"{m.rhat_fn_max:.2f}{within}, should be <= {RHAT_WARN}); {say(advice.disagree)}")
    # chains settled in different modes are each a model of their own: their own draws are what there is
    ess = m.ess_fn_within_min if settled_in_modes(m) else m.ess_fn_min
    if np.isfinite(ess) and ess < ESS_WARN:
        out.append(f"{stage}: only {ess:.0f} effective draws of the least certain test prediction "
                   f"(fewer than {ESS_WARN}); {longer}")
    if m.n_divergent:
        out.append(f"{stage}: {m.n_divergent} divergent or non-finite transitions were rejected"
                   + say(advice.divergent))
    return out


def settled_in_modes(m: StageMetrics) -> bool:
    """Whether the chains disagree only because each settled in a mode of its own: every chain converged on its
    own (within-chain R-hat <= ``RHAT_WARN``) and they form more than one mode. Sampling longer does not merge
    modes, so disagreement of this kind is not a convergence problem to warn about; the predictive mixes the
    modes as a deep ensemble does (``n_modes`` and ``modes_apart`` in metrics.json say how many and how far)."""
    within = m.rhat_fn_within_max
    return (within is not None and bool(np.isfinite(within)) and within <= RHAT_WARN
            and (m.n_modes or 1) > 1)


def cell_warnings(stages: dict[str, StageMetrics], cfg: RunConfig) -> list[str]:
    """Warnings about the sampled stages (full and resampled) of a (criterion, rate)."""
    return [w for stage in STAGES if stage in stages for w in stage_warnings(stage, stages[stage], cfg)]


BAD_K_SHARE = 0.01  # PSIS-LOO unreliable on more than this share of the training rows: say so


def selection_warnings(sel, n_rows: int, cfg: RunConfig | None = None) -> list[str]:
    """A warning when ``--rate auto``'s PSIS-LOO estimates (:class:`~bayesprune.evaluation.selection.
    RateSelection`) are unreliable on more than ``BAD_K_SHARE`` of the training rows (Pareto k above ArviZ's
    threshold, for the full model or the chosen candidate): the rate chosen from them may be off."""
    if sel is None:
        return []
    cfg = cfg or RunConfig()
    chosen = sel.chosen_candidate
    bad = max(sel.full_n_bad_k, chosen.n_bad_k if chosen is not None else 0)
    if bad <= BAD_K_SHARE * n_rows:
        return []
    defaults = settings_class(cfg.sampler) if cfg.sampler in SAMPLERS else None
    samples = cfg.samples or (defaults.default_samples if defaults else 0)
    resample = cfg.resample_samples or (defaults.default_resample_samples if defaults else 0)
    return [f"rate auto: PSIS-LOO is unreliable on {bad} of {n_rows} training rows (Pareto k too high), so the "
            f"chosen rate may be off; sample longer (--samples {2 * samples} --resample-samples {2 * resample}) "
            f"or give the rate (--rate {sel.chosen or 0.5:g})"]


GAP_SDS = 5.0  # how many sds of the typical-set gap a chain may fall below its fine-tuned start


def resampling_warnings(start_logpost: list[float] | None, logdensity: np.ndarray, dim: int) -> list[str]:
    """A warning when a resampled chain settled far below the fine-tuned network it started from.

    Near a mode of a ``dim``-dimensional posterior that is roughly Gaussian, the log posterior of draws lies
    below the mode's by ``dim / 2`` on average, with sd ``sqrt(dim / 2)``. A chain whose mean log posterior is
    more than ``dim / 2 + GAP_SDS * sqrt(dim / 2)`` below its start's has left the fit that fine-tuning found
    (seen when MCLMC resampling from poor starts never recovered). ``start_logpost``: each chain's start
    (``info["start_logpost"]`` of a resampling from ``optimised`` starts); ``logdensity``: its draws'."""
    if not start_logpost:
        return []
    mean = np.nanmean(np.asarray(logdensity, np.float64), axis=1)
    gap = np.asarray(start_logpost, np.float64) - mean
    allowed = dim / 2 + GAP_SDS * np.sqrt(dim / 2)
    bad = np.flatnonzero(~np.isfinite(gap) | (gap > allowed))
    if not bad.size:
        return []
    return [f"resampled: {bad.size} of {len(gap)} chains settled far below the fine-tuned network they started from "
            f"(log posterior {float(np.nanmax(gap)):.0f} below it; about {dim / 2:.0f} is expected for "
            f"{dim} parameters); try another sampler for this network (--sampler hmc) or a lower --rate"]

