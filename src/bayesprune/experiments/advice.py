"""Plain-language warnings about a sampled stage, each with the remedy its sampler declares
(:class:`~bayesprune.samplers.base.Advice`): computed once by the runner and stored in the record
(``metrics.json``: ``warnings``), which the report only renders."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bayesprune.evaluation.records import StageMetrics
from bayesprune.evaluation.selection import guard_rows
from bayesprune.samplers.registry import DEFAULT_SAMPLER, SAMPLERS, get_sampler
from bayesprune.settings import RATE_GUARD, RATE_GUARD_ACCURACY, RunConfig
from bayesprune.stages.compress import guard_off

RHAT_WARN = 1.05  # nested R-hat of groups of chains (--superchains) above this: the groups disagree
MC_ERROR_WARN = 0.1  # Monte Carlo error of the predictions above this many outcome sds: 0.005 nats of test NLL
MAX_FACTOR = 16  # the most the Monte Carlo error warning multiplies the chains (or a run's length) by
STAGES = ("full", "resampled")  # the sampled stages (the pruned one re-uses the full model's draws)


def remedy_factor(mc_error: float) -> int:
    """How many times the chains a run needs for its Monte Carlo error to fall to ``MC_ERROR_WARN``: with equal
    weights the squared error ``sum_c var_c / (C^2 ess_c)`` falls as ``1 / C``, so ``(mc_error / MC_ERROR_WARN)^2``,
    rounded up to a power of two (at least 2, at most ``MAX_FACTOR``). The same factor is the run length it would
    take if each chain's effective draws grew with its length, which BNN chains settled in modes of their own do
    not (:func:`stage_warnings`)."""
    with np.errstate(over="ignore"):  # an error too large to square: a chain that barely moved
        need = float(np.square(np.float64(mc_error) / MC_ERROR_WARN))
    if not need < MAX_FACTOR:
        return MAX_FACTOR
    return int(2 ** int(np.ceil(np.log2(max(need, 2.0)))))


def stage_warnings(stage: str, m: StageMetrics, cfg: RunConfig | None = None) -> list[str]:
    """Warnings about one stage's convergence, each with how far it is off and the one option most likely to fix
    it (``bayesprune run`` flags of ``cfg.sampler``, from its module's advice).

    Whether the chains have converged is judged by what it does to the predictions: the Monte Carlo error of
    the predictive mean in outcome sds (:func:`~bayesprune.evaluation.diagnostics.monte_carlo_error`), not by
    the function-space R-hat or ESS of the least settled test point, which stay in metrics.json and the report.
    Those flagged almost every regression run (a noise-free network output that drifts by a fraction of the
    noise sd), and chains settled in different modes are each a model of the mixture, which sampling longer
    does not merge (docs/BENCHMARKS.md, "Convergence warnings").

    The remedy for too large an error is more chains (``{more_chains}`` in the sampler's advice:
    :func:`remedy_factor` times ``--chains``), not longer ones: each chain's error enters with weight ``1 / C^2``,
    so doubling the chains halves the squared error whatever the chains do, while doubling their length halves it
    only where a chain's effective draws grow with its length. BNN chains that keep moving between nearby modes
    do not: on UCI energy, 2x and 4x longer runs left the error at 0.112 and 0.125 (from 0.121), while on the
    seven default runs of ``benchmarks/pipeline.py`` that warned (0.105-0.148), eight chains instead of four
    brought every one to 0.056-0.081 (``chains8-long``)."""
    cfg = cfg or RunConfig()
    if cfg.sampler not in SAMPLERS:  # not chosen yet (--sampler auto): the full-batch default's advice
        cfg = replace(cfg, sampler=DEFAULT_SAMPLER)
    advice = get_sampler(cfg.sampler).advice
    length_flag = "--samples" if stage == "full" else "--resample-samples"
    length = cfg.samples if stage == "full" else cfg.resample_samples  # filled in by RunConfig for its sampler
    error = m.mc_error if m.mc_error is not None and np.isfinite(m.mc_error) else None
    factor = remedy_factor(error) if error is not None else 2
    longer = f"sample {factor}x longer ({length_flag} {factor * length})"
    more_chains = f"run {factor}x the chains (--chains {factor * cfg.chains})"

    def say(text: str) -> str:
        return text.format(length_flag=length_flag, longer=longer, more_chains=more_chains,
                           default_sampler=DEFAULT_SAMPLER)

    out = []
    if m.acceptance_rate < 0.01:
        out.append(f"{stage}: acceptance {m.acceptance_rate:.3f} < 1%, the chain is stuck; {say(advice.stuck)}")
    elif m.acceptance_rate > 0.99:
        out.append(f"{stage}: acceptance {m.acceptance_rate:.3f} > 99%, steps are too small to explore; "
                   + say(advice.small_steps))
    if m.nrhat_fn_max is not None:  # many short chains started in groups (--superchains): nested R-hat judges
        if not np.isfinite(m.nrhat_fn_max) or m.nrhat_fn_max > RHAT_WARN:
            out.append(f"{stage}: the groups of chains disagree on the test predictions (nested R-hat "
                       f"{m.nrhat_fn_max:.2f}, should be <= {RHAT_WARN}); {longer} or until converged "
                       f"(--until-converged 600)")
    elif error is not None and error > MC_ERROR_WARN:
        out.append(f"{stage}: the predictions' Monte Carlo error is {error:.3g} of their predictive sd (root mean "
                   f"square over the test points; it costs about {error * error / 2:.3f} nats of test NLL, should "
                   f"be <= {MC_ERROR_WARN}); {say(advice.imprecise)}")
    if m.n_divergent:
        out.append(f"{stage}: {m.n_divergent} divergent or non-finite transitions were rejected"
                   + say(advice.divergent))
    return out


def cell_warnings(stages: dict[str, StageMetrics], cfg: RunConfig) -> list[str]:
    """Warnings about the sampled stages (full and resampled) of a (criterion, rate)."""
    return [w for stage in STAGES if stage in stages for w in stage_warnings(stage, stages[stage], cfg)]


BAD_K_SHARE = 0.01  # PSIS-LOO unreliable on more than this share of the training rows: say so


def selection_warnings(sel, n_rows: int) -> list[str]:
    """A warning when ``--rate auto``'s PSIS-LOO estimates (:class:`~bayesprune.evaluation.selection.
    RateSelection`) are unreliable on more than ``BAD_K_SHARE`` of the training rows (Pareto k above ArviZ's
    threshold, for the full model or the chosen candidate): the rate chosen from them may be off.

    The remedy named is the default rate with its guard (40 of 45 runs of benchmarks/pipeline.py within 1 point /
    5% of the full network). Sampling longer was named before, and does not make the estimate reliable: on UCI
    Boston split 3, 284 of 455 training rows had a high k at the default lengths and 242 at twice them (the
    threshold is 1%: 4 rows); a high k marks rows the fit depends on, which more draws estimate better but keep."""
    if sel is None:
        return []
    chosen = sel.chosen_candidate
    bad = max(sel.full_n_bad_k, chosen.n_bad_k if chosen is not None else 0)
    if bad <= BAD_K_SHARE * n_rows:
        return []
    return [f"rate auto: PSIS-LOO is unreliable on {bad} of {n_rows} training rows (Pareto k too high), so the "
            f"chosen rate may be off; give the rate instead (--rate {RunConfig.rates[0]:g}, the default, with its "
            f"rate guard)"]


def fit_warnings(check, n_rows: int, cfg: RunConfig) -> list[str]:
    """A warning when a compact model the rate guard did not choose (:func:`~bayesprune.stages.compress.
    fit_check`: the guard off, a gradual schedule, rates per layer) lost more PSIS-LOO fit to the training rows
    than the default guard allows, with the remedy that worked in benchmarks/pipeline.py: the guard, which lowers
    the rate (11 broken compact models of 45 without it, 2 with it)."""
    if check is None or check.within:
        return []
    rows = guard_rows(n_rows)
    off = guard_off(cfg.rate_guard, cfg.schedule, cfg.layer_rates)
    if off == "layer_rates":
        remedy = "give lower --layer-rates, or one --rate with the rate guard"
    elif off == "schedule":
        remedy = "give a lower --rate, or prune in one step (--schedule oneshot) with the rate guard, which lowers it"
    else:
        remedy = "leave the rate guard on (no --rate-guard 0): it lowers the rate until the fit holds"
    if check.loss / rows <= RATE_GUARD:  # the fit held: the accuracy did not
        return [f"compact {check.rate:.0%}: it classifies {check.accuracy_loss:.1%} of the training rows fewer "
                f"correctly than the full network (PSIS-LOO; the rate guard allows {RATE_GUARD_ACCURACY:.1%}), so it "
                f"may predict worse; {remedy}"]
    return [f"compact {check.rate:.0%}: it fits the training rows {check.loss / rows:.3f} nats per row worse than the "
            f"full network (PSIS-LOO; the rate guard allows {RATE_GUARD:.3f}), so it may predict worse; {remedy}"]


GAP_SDS = 5.0  # how many sds of the typical-set gap a chain may fall below its fine-tuned start


def resampling_warnings(start_logpost: list[float] | None, logdensity: np.ndarray, dim: int,
                        bounded: bool = True) -> list[str]:
    """A warning when resampled chains never moved (every draw of a chain the same: on UCI naval at 90% removed,
    MCLMC from starts whose noise variance was 4 orders of magnitude below the residuals', before the fix in
    :meth:`~bayesprune.posterior.logdensity.BNNPosterior.with_noise_at_mode`), or when a resampled chain settled far
    below the fine-tuned network it started from.

    Near a mode of a ``dim``-dimensional posterior that is roughly Gaussian, the log posterior of draws lies
    below the mode's by ``dim / 2`` on average, with sd ``sqrt(dim / 2)``. A chain whose mean log posterior is
    more than ``dim / 2 + GAP_SDS * sqrt(dim / 2)`` below its start's has left the fit that fine-tuning found
    (seen when MCLMC resampling from poor starts never recovered). ``start_logpost``: each chain's start
    (``info["start_logpost"]`` of a resampling from ``optimised`` starts); ``logdensity``: its draws'.

    ``bounded=False`` (a pruned network that can still interpolate its training rows under the flat noise prior:
    :func:`~bayesprune.stages.sample.improper_posterior_warning`, which the run gives) skips the second check: the
    log posterior is then unbounded near an interpolating fit, where fine-tuning heads, so there is no mode for
    the draws to lie ``dim / 2`` below (an 80-row regression with 30 features: the check flagged 2 of 3 seeds
    whose compact models were 1.07x and 0.99x the full model's test RMSE)."""
    logdensity = np.asarray(logdensity, np.float64)
    stuck = int(np.sum(np.all(logdensity == logdensity[:, :1], axis=1))) if logdensity.shape[1] > 1 else 0
    if stuck:  # every draw of a chain the same: no transition was ever taken (any start)
        return [f"resampled: {stuck} of {len(logdensity)} chains never moved from where they started (every draw the "
                f"same); try another sampler for this network (--sampler hmc) or a lower --rate"]
    if not start_logpost or not bounded:
        return []
    mean = np.nanmean(logdensity, axis=1)
    gap = np.asarray(start_logpost, np.float64) - mean
    allowed = dim / 2 + GAP_SDS * np.sqrt(dim / 2)
    bad = np.flatnonzero(~np.isfinite(gap) | (gap > allowed))
    if not bad.size:
        return []
    return [f"resampled: {bad.size} of {len(gap)} chains settled far below the fine-tuned network they started from "
            f"(log posterior {float(np.nanmax(gap)):.0f} below it; about {dim / 2:.0f} is expected for "
            f"{dim} parameters); try another sampler for this network (--sampler hmc) or a lower --rate"]


def interval_notes(ds, lower: np.ndarray, interval: float = 0.9) -> list[str]:
    """A note when the predictive intervals of a positive target reach below 0: every target value (training and
    test rows) is above 0, the target is modelled as it is, and the lower ends ``lower`` (scaled, as the
    predictive summary holds them) of some test rows fall below 0 in the target's units. A Gaussian likelihood
    on a price or a duration does that; ``--target-transform log`` cannot (its intervals are the exponential of
    the logarithm's). Where this note fired in benchmarks/target_transform.py (12 runs: a log-normal price,
    abalone, diabetes, lazer), the option also gave a test log-likelihood at least as high on 10 and an RMSE at
    most 1.05x on 11 (the rule written before that measurement: two thirds of each). Where it did not fire
    (Boston, energy, red wine, a target near a million) the logarithm lost test log-likelihood on 8 of 12 runs
    and RMSE by more than 5% on 3 (energy's logarithm gained log-likelihood and lost RMSE), so the option is
    advice, not the default."""
    if ds.task != "regression" or ds.target_transform != "none":
        return []
    if min(ds.inverse_y(ds.y_train).min(), ds.inverse_y(ds.y_test).min()) <= 0:
        return []
    below = int((ds.inverse_y(np.asarray(lower)) < 0).sum())
    if not below:
        return []
    target = f"'{ds.meta['target']}'" if "target" in ds.meta else "the target"
    return [f"{below} of {len(lower)} test rows' {interval:.0%} intervals reach below 0, though every value of "
            f"{target} is above 0: --target-transform log models its logarithm, so its intervals stay above 0 (on "
            "such data it also fit the test rows as well or better in most runs measured)"]
