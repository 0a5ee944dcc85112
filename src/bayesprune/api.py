"""The pipeline as functions: :func:`sample`, :func:`prune`, :func:`resample`, :func:`predict`, :func:`evaluate`.

Example
-------
>>> import bayesprune as bp
>>> ds = bp.load_dataset("iris")
>>> full = bp.sample(ds, sampler="lgmh", chains=4, samples=4000, seed=0)
>>> pr = bp.prune(full, criterion="stn", rate=0.75, seed=0)
>>> compact = bp.resample(full, ds, pr, samples=2000, seed=0)
>>> bp.evaluate(compact, ds).accuracy
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jax
import numpy as np

from bayesprune import options, settings
from bayesprune.data.datasets import Dataset
from bayesprune.errors import OptionError
from bayesprune.evaluation import selection
from bayesprune.evaluation.diagnostics import function_space, nested_function_space, weight_space
from bayesprune.evaluation.records import StageMetrics
from bayesprune.evaluation.stage import PredictiveScore, score_predictive
from bayesprune.model.mlp import MLPSpec
from bayesprune.posterior.logdensity import BNNPosterior
from bayesprune.predictive import Predictive, pointwise_loglik, posterior_predictive
from bayesprune.pruning import align, criteria, masks, paths
from bayesprune.pruning import schedule as schedules
from bayesprune.samplers import warmstart
from bayesprune.samplers.driver import ChainResult, run_chains
from bayesprune.samplers.registry import get_sampler
from bayesprune.samplers.settings import SamplerSettings, settings_class
from bayesprune.seeds import stream_key
from bayesprune.settings import RunConfig

DEFAULT_KEPT_DRAWS = 1000  # kept draws per chain, for 4 chains or fewer
KEPT_DRAWS_TOTAL = 4000  # over all chains: with many chains each keeps fewer, so memory stays bounded
MIN_KEPT_DRAWS = 4  # per chain, whatever the number of chains (split R-hat needs two halves of two)
SamplerSettingsLike = SamplerSettings | Mapping[str, Any] | None


class ImproperPosteriorWarning(UserWarning):
    """The posterior may be improper: see :func:`bayesprune.posterior.prior.log_noise_prior`."""


@dataclass
class PosteriorSample:
    """Draws of a (possibly pruned) BNN posterior and how they were made.

    ``result.draws`` holds positions ``(chain, draw, dim)``: the kept parameters (all when ``kept_idx`` is
    ``None``), then eta = log tau^2 for regression.
    """

    posterior: BNNPosterior
    result: ChainResult
    kept_idx: np.ndarray | None = None
    seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

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
        """The chain with the highest mean log posterior over its kept draws."""
        return int(np.argmax(np.nanmean(self.result.logdensity, axis=1)))

    def aligned(self, reference: int) -> PosteriorSample:
        """Every chain's hidden units relabelled to match chain ``reference`` (see :mod:`bayesprune.pruning.align`)."""
        if self.kept_idx is not None:
            raise OptionError("align the full posterior sample, not a pruned one")
        r = self.result
        n = self.spec.n_params
        maps = [align.align_to(self.spec, r.mean[reference, :n], r.mean[c, :n]) for c in range(r.num_chains)]
        extra = np.arange(n, r.draws.shape[-1])  # eta stays where it is

        def permute(a: np.ndarray) -> np.ndarray:
            return np.stack([a[c][..., np.concatenate([m, extra])] for c, m in enumerate(maps)])

        res = dataclasses.replace(r, draws=permute(np.asarray(r.draws)), mean=permute(r.mean), var=permute(r.var),
                                  last_position=permute(r.last_position), seconds=dict(r.seconds))
        return PosteriorSample(self.posterior, res, None, self.seconds, dict(self.info, aligned_to=reference))

    def select_chains(self, chains: list[int] | np.ndarray) -> PosteriorSample:
        """The same sample restricted to some chains."""
        idx = np.asarray(chains, int)
        r = self.result
        res = dataclasses.replace(
            r, draws=np.asarray(r.draws[idx]), logdensity=r.logdensity[idx], acceptance=r.acceptance[idx],
            diverging=r.diverging[idx], mean=r.mean[idx], var=r.var[idx], last_position=r.last_position[idx],
            n_divergent=r.n_divergent[idx], n_grad_evals=r.n_grad_evals[idx],
            mean_acceptance=r.mean_acceptance[idx], params=jax.tree.map(lambda a: np.asarray(a)[idx], r.params),
            seconds=dict(r.seconds),
        )
        info = {k: v for k, v in self.info.items() if k != "superchains"}  # a subset is no longer in groups
        return PosteriorSample(self.posterior, res, self.kept_idx, self.seconds, info)


def build_posterior(
    ds: Dataset,
    *,
    hidden: tuple[int, ...] | None = None,
    activation: str = RunConfig.activation,
    regression_output: str = "identity",
    prior_var: float = RunConfig.prior_var,
    nu1: float = 0.0,
    nu2: float = 0.0,
) -> BNNPosterior:
    """The BNN posterior for a data set (topology defaults to the paper's for that data set).

    Warns (:class:`ImproperPosteriorWarning`) for regression with the paper's flat prior on the noise
    (``nu1 = nu2 = 0``) when the network has at least as many parameters as training rows: it can then fit
    the rows exactly and the posterior is improper.
    """
    hidden = tuple(ds.hidden if hidden is None else hidden)
    settings.check("hidden", hidden)
    settings.check("activation", activation)
    settings.check("prior_var", prior_var)
    options.non_negative("nu1", nu1)
    options.non_negative("nu2", nu2)
    output = "softmax" if ds.task == "classification" else regression_output
    spec = MLPSpec(ds.n_features, hidden, ds.n_outputs, activation=activation, output=output)
    posterior = BNNPosterior(spec, ds.task, prior_var=prior_var, nu1=nu1, nu2=nu2)
    message = improper_posterior_warning(posterior, len(ds.y_train))
    if message:
        warnings.warn(message, ImproperPosteriorWarning, stacklevel=2)
    return posterior


def improper_posterior_warning(posterior: BNNPosterior, n_train: int) -> str | None:
    """Why the posterior may be improper, or ``None``: regression with a flat prior on eta (``nu1 = nu2 = 0``)
    and at least as many network parameters as training rows (the network can then interpolate the rows, where
    the likelihood is unbounded as the noise variance goes to 0)."""
    if posterior.has_eta and posterior.nu1 == 0 and posterior.nu2 == 0 and posterior.spec.n_params >= n_train:
        return (f"{posterior.spec.n_params} network parameters for {n_train} training rows: the network can fit "
                "them exactly and, with the flat prior on the noise variance, the posterior is improper; use "
                "fewer hidden units or more rows")
    return None


def _sampling_lengths(samples: int, burnin: float, thin: int | None, *, chains: int = 1,
                      samples_param: str = "samples", samples_field: str = "samples", burnin_param: str = "burnin",
                      burnin_field: str = "burnin") -> tuple[int, int, int]:
    """(warm-up steps, post-burn-in steps, thinning) after the declared checks of the lengths."""
    settings.check(samples_field, samples, param=samples_param)
    settings.check(burnin_field, burnin, param=burnin_param)
    num_warmup = int(round(burnin * samples))
    num_draws = samples - num_warmup
    thin = auto_thin(num_draws, kept_per_chain(chains)) if thin is None else thin
    settings.check("thin", thin)
    if thin > num_draws:
        raise OptionError.about("thin", f"{thin} must be between 1 and the post-burn-in draws ({num_draws})")
    return num_warmup, num_draws, int(thin)


def kept_per_chain(chains: int) -> int:
    """How many draws each chain keeps by default: 1,000 with up to 4 chains, then 4,000 over all chains (at
    least 4 each), so thousands of chains keep host memory bounded (4,096 chains of 1,852 parameters: 121 MB)."""
    return max(MIN_KEPT_DRAWS, min(DEFAULT_KEPT_DRAWS, KEPT_DRAWS_TOTAL // max(1, chains)))


def auto_thin(num_draws: int, max_kept: int = DEFAULT_KEPT_DRAWS) -> int:
    """Smallest thinning that keeps at most ``max_kept`` draws per chain."""
    return max(1, -(-num_draws // max_kept))


def sample(
    ds: Dataset,
    *,
    posterior: BNNPosterior | None = None,
    sampler: str = RunConfig.sampler,
    chains: int = RunConfig.chains,
    samples: int | None = None,
    burnin: float = RunConfig.burnin,
    thin: int | None = None,
    seed: int = RunConfig.seed,
    superchains: int | None = RunConfig.superchains,
    sampler_settings: SamplerSettingsLike = None,
    init: str | None = RunConfig.init,
    init_steps: int | None = RunConfig.init_steps,
    until_converged: float | None = RunConfig.until_converged,
    progress=None,
    draws_file=None,
) -> PosteriorSample:
    """Sample the full BNN posterior: ``samples`` steps per chain, the first ``burnin`` share discarded.

    ``samples=None`` uses the sampler's default length and ``init=None`` its default start (``default_init``);
    ``sampler_settings`` are the sampler's own settings (its settings class from
    :mod:`bayesprune.samplers.settings`, or a dict of some of them, e.g. ``{"num_integration_steps": 32}``;
    ``None``: its defaults). ``thin=None`` keeps at most 1,000 draws per chain (fewer beyond 4 chains:
    :func:`kept_per_chain`) for prediction; pruning scores still use every post-burn-in draw (running
    moments). ``init="optimised"`` starts every chain from its own network optimised for ``init_steps`` Adam steps
    (:mod:`bayesprune.samplers.warmstart`); the time it takes is ``result.seconds["init"]``. With
    ``until_converged=SECONDS`` the chains go on, each extension as long as all sampled so far, until the
    test-point predictions have converged (:func:`converged`) or that many seconds have passed. With
    ``superchains=K`` the chains start in K groups of consecutive chains, each group from one point (a random
    or optimised network), and :func:`evaluate` reports nested R-hat (``nrhat_fn_max``).
    """
    settings.check("sampler", sampler)
    if sampler == settings.AUTO:
        raise OptionError.about("sampler", "'auto' is chosen by the run from the data's size; here name the sampler "
                                "(bayesprune.samplers.sizing.choose_sampler(rows=, params=, chains=) says which)")
    settings.check("chains", chains)
    settings.check_superchains(superchains, chains)
    settings.check("seed", seed)
    defaults = settings_class(sampler)
    init = defaults.default_init if init is None else init
    init_steps = defaults.default_init_steps if init_steps is None else init_steps
    settings.check("init", init)
    settings.check("init_steps", init_steps)
    settings.check("until_converged", until_converged)
    samples = defaults.default_samples if samples is None else samples
    num_warmup, num_draws, thin = _sampling_lengths(samples, burnin, thin, chains=chains)
    posterior = posterior or build_posterior(ds)
    keys = jax.random.split(stream_key(seed, "init"), superchains or chains)
    start = np.stack([np.asarray(posterior.init_position(k, ds.y_train)) for k in keys])
    t0 = time.perf_counter()
    if init == "optimised":
        start, _ = _optimised_start(posterior, ds, start, sampler, init_steps, seed)
    if superchains:  # every chain of a group from its group's point; each chain has its own random stream
        start = np.repeat(start, chains // superchains, axis=0)
    t_init = time.perf_counter() - t0
    result = run_chains(
        posterior, ds.X_train, ds.y_train, start, stream_key(seed, "sample"), sampler=sampler,
        settings=sampler_settings, num_warmup=num_warmup, num_draws=num_draws, thin=thin, progress=progress,
        draws_file=draws_file,
    )
    result.seconds["init"] = t_init
    if until_converged is not None:
        result = _until_converged(posterior, ds, result, stream_key(seed, "sample"), sampler, sampler_settings,
                                  None, until_converged, progress)
    return PosteriorSample(posterior, result, None, time.perf_counter() - t0,
                           {"init": init, "superchains": superchains})


CONVERGED_RHAT = 1.01  # Vehtari et al. (2021)'s threshold for split R-hat
CONVERGED_ESS = 400  # and their minimum bulk ESS for reliable estimates (100 per chain with 4 chains)


def _optimised_start(posterior, ds: Dataset, positions: np.ndarray, sampler: str, steps: int | None, seed: int,
                     kept_idx: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Adam from ``positions`` for ``steps`` steps (default: the sampler's ``default_init_steps``); stochastic-
    gradient samplers start from networks trained on minibatches, as their data is large."""
    stochastic = get_sampler(sampler).stochastic
    steps = settings_class(sampler).default_init_steps if steps is None else steps
    return warmstart.optimise(posterior, ds.X_train, ds.y_train, positions, steps=steps,
                              batch_size=warmstart.WARM_START_BATCH if stochastic else None,
                              key=stream_key(seed, "init-batches" if kept_idx is None else "resample-init"),
                              kept_idx=kept_idx)


def converged(metrics: dict[str, float]) -> bool:
    """Whether test-point predictions have converged: function-space R-hat <= 1.01 (when defined: two or more
    chains) and function-space bulk ESS >= 400."""
    rhat, ess = metrics["rhat_fn_max"], metrics["ess_fn_min"]
    return (not np.isfinite(rhat) or rhat <= CONVERGED_RHAT) and np.isfinite(ess) and ess >= CONVERGED_ESS


def _until_converged(posterior, ds, result, key, sampler, sampler_settings, kept_idx, seconds, progress):
    """Continue the chains of ``result`` (same tuning, no warm-up) until the predictions at the test inputs (the
    training inputs when there are none; no labels are used) converge or ``seconds`` pass. Each extension is as
    long as everything sampled so far (so the checks cost a logarithmic number of evaluations), and the kept
    draws are thinned by 2 whenever they pass twice the usual number per chain."""
    X = ds.X_test if len(ds.X_test) else ds.X_train
    t0 = time.perf_counter()
    for extension in range(1, 64):
        outputs = posterior_predictive(posterior, result.draws, X, kept_idx).outputs
        if converged(function_space(outputs)) or time.perf_counter() - t0 > seconds:
            break
        more = run_chains(
            posterior, ds.X_train, ds.y_train, result.last_position, jax.random.fold_in(key, extension),
            sampler=sampler, settings=sampler_settings, num_warmup=0, num_draws=result.draws.shape[1] * result.thin,
            thin=result.thin, kept_idx=kept_idx, params=result.params, progress=progress,
        )
        result = result.extended(more)
        if result.draws.shape[1] > 2 * kept_per_chain(result.num_chains):
            result = result.thinned(2)
    return result


@dataclass
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
    *,
    criterion: str = RunConfig.criteria[0],
    rate: float | str = RunConfig.rates[0],
    structured: bool = RunConfig.structured,
    per_layer: bool = RunConfig.per_layer,
    prune_inputs: bool = RunConfig.prune_inputs,
    layer_rates: tuple[float, ...] | None = RunConfig.layer_rates,
    score_from: str = RunConfig.score_from,
    repair: bool = RunConfig.repair,
    seed: int = RunConfig.seed,
    data: Dataset | None = None,
    **compress_options: Any,
) -> PruneResult:
    """Score every parameter from the posterior draws and remove the ``rate`` share with the lowest score.

    Parameters
    ----------
    rate
        Share of the network's parameters removed, or ``"auto"``: chosen from the training rows of ``data`` by
        PSIS-LOO (:func:`compress`, which also takes ``compress_options`` such as ``auto_rates``); the
        candidates are in ``result.selection`` and the resampled posterior at the chosen rate is
        ``compress(...).resampled``.
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
    if rate == "auto":
        if data is None:
            raise OptionError.about("data", "is needed by rate='auto' (the training rows choose the rate)")
        return compress(ps, data, criterion=criterion, rate="auto", structured=structured, per_layer=per_layer,
                        prune_inputs=prune_inputs, score_from=score_from, repair=repair, seed=seed,
                        **compress_options).prune
    if compress_options:
        raise OptionError.about(next(iter(compress_options)), "is an option of rate='auto' only")
    settings.check("criteria", (criterion,), param="criterion")
    settings.check("rates", (rate,), param="rate")
    settings.check("score_from", score_from)
    settings.check_prune_inputs(prune_inputs, structured)
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
    if criterion in criteria.NEEDS_DATA and data is None:
        raise OptionError.about("data", f"is needed by the {criterion} criterion (it is scored on the training rows)")

    def select(source: PosteriorSample, k: jax.Array) -> tuple[np.ndarray, np.ndarray, paths.Repair | None]:
        if criterion in criteria.NEEDS_DATA:
            full_positions = _reposition(source, np.asarray(source.result.draws), np.arange(ps.spec.n_params))
            scores = criteria.lppd_loss(ps.posterior, full_positions, data.X_train, data.y_train)
        else:
            scores = criteria.score(criterion, source.moments(), k)
        scores = np.where(removed, -np.inf, scores)  # already removed: first to go, never back by score
        keep = masks.make_mask(scores, ps.spec, rate, structured=structured, per_layer=per_layer,
                               prune_inputs=prune_inputs, layer_rates=layer_rates)
        if not repair:
            return scores, keep, None
        keep, info = paths.repair(keep, scores, ps.spec)
        return scores, keep, info

    scores, keep, info = select(reference, key)
    chain_source = reference if (score_from == "aligned" or ps.kept_idx is not None) else ps
    per_chain = [select(chain_source.select_chains([c]), jax.random.fold_in(key, c))[1]
                 for c in range(chain_source.result.num_chains)]
    removed_scores = scores[~keep & np.isfinite(scores)]
    threshold = float(np.max(removed_scores)) if removed_scores.size else float("-inf")
    if layer_rates is not None:  # the share of the whole network those rates removed
        rate = 1.0 - float(keep.mean())
    return PruneResult(keep, scores, criterion, float(rate), structured, per_layer,
                       masks.mean_pairwise_jaccard(per_chain), threshold, source, reference, info,
                       tuple(int(i) for i in paths.dropped_inputs(ps.spec, keep)), prune_inputs=prune_inputs)


def _reposition(ps: PosteriorSample, positions: np.ndarray, kept_idx: np.ndarray) -> np.ndarray:
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
    restrict = lambda a: _reposition(ps, a, kept_idx)  # noqa: E731
    res = dataclasses.replace(r, draws=restrict(r.draws), mean=restrict(r.mean), var=restrict(r.var),
                              last_position=restrict(r.last_position), seconds=dict(r.seconds))
    return PosteriorSample(ps.posterior, res, kept_idx, 0.0)


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
        Go on until the predictions converge, for at most this many seconds (as in :func:`sample`).
    """
    sampler = sampler or ps.result.sampler
    settings.check("sampler", sampler)
    n_chains = ps.result.num_chains if chains is None else chains
    settings.check("chains", n_chains)
    start = settings_class(sampler).default_resample_start if start is None else start
    settings.check("resample_start", start, param="start")
    settings.check("until_converged", until_converged)
    samples = settings_class(sampler).default_resample_samples if samples is None else samples
    num_warmup, num_draws, thin = _sampling_lengths(samples, burnin, thin, chains=n_chains,
                                                    samples_field="resample_samples",
                                                    burnin_field="resample_burnin")
    kept_idx = pr.kept_idx
    if kept_idx.size == 0:
        raise OptionError.about("rate", "keeps no parameters; use a lower rate")
    r = (pr.reference or ps.select_chains(pr.source_chains)).result
    t0 = time.perf_counter()
    if start == "mean":
        init = np.repeat(_reposition(ps, r.pooled_mean, kept_idx)[None], n_chains, 0)
    elif start in ("draws", "optimised"):
        flat = np.asarray(r.draws).reshape(-1, r.draws.shape[-1])
        init = _reposition(ps, flat[((np.arange(n_chains) + 0.5) * len(flat) / n_chains).astype(int)], kept_idx)
    else:
        last = _reposition(ps, r.last_position, kept_idx)
        init = last[np.arange(n_chains) % len(last)]
    if start == "optimised":
        init, _ = _optimised_start(ps.posterior, ds, init, sampler, None, seed, kept_idx=kept_idx)
    result = run_chains(
        ps.posterior, ds.X_train, ds.y_train, init, stream_key(seed, "resample"), sampler=sampler,
        settings=sampler_settings, num_warmup=num_warmup, num_draws=num_draws, thin=thin, kept_idx=kept_idx,
        progress=progress,
    )
    if until_converged is not None:
        result = _until_converged(ps.posterior, ds, result, stream_key(seed, "resample"), sampler,
                                  sampler_settings, kept_idx, until_converged, progress)
    return PosteriorSample(ps.posterior, result, kept_idx, time.perf_counter() - t0)


@dataclass
class Step:
    """One prune -> resample step of a schedule."""

    rate: float
    prune: PruneResult
    pruned: PosteriorSample  # the mask on the draws it was scored on, not resampled
    resampled: PosteriorSample

    def summary(self) -> dict[str, Any]:
        return {"rate": self.rate, "n_params_kept": int(self.prune.keep_mask.sum()),
                "seconds": float(self.resampled.seconds)}


@dataclass
class Compression:
    """The outcome of :func:`compress`: the final mask, its pruned and resampled posteriors, every step taken
    (the candidates of ``rate="auto"`` included) and, for ``rate="auto"``, the rate selection."""

    prune: PruneResult
    pruned: PosteriorSample
    resampled: PosteriorSample
    steps: list[Step]
    selection: selection.RateSelection | None = None

    @property
    def rate(self) -> float:
        return self.prune.rate


def compress(
    ps: PosteriorSample,
    ds: Dataset,
    *,
    criterion: str = RunConfig.criteria[0],
    rate: float | str = RunConfig.rates[0],
    schedule: str = RunConfig.schedule,
    schedule_steps: int = RunConfig.schedule_steps,
    auto_rates: tuple[float, ...] = RunConfig.auto_rates,
    auto_se: float = RunConfig.auto_se,
    auto_tolerance: float = RunConfig.auto_tolerance,
    structured: bool = RunConfig.structured,
    per_layer: bool = RunConfig.per_layer,
    prune_inputs: bool = RunConfig.prune_inputs,
    layer_rates: tuple[float, ...] | None = RunConfig.layer_rates,
    score_from: str = RunConfig.score_from,
    repair: bool = RunConfig.repair,
    seed: int = RunConfig.seed,
    progress=None,
    **resample_options: Any,
) -> Compression:
    """Prune the full sample ``ps`` to ``rate`` and resample, in one step (``schedule="oneshot"``, the paper) or
    several (``gradual``: :mod:`bayesprune.pruning.schedule`, each step scored on the previous step's resampled
    posterior and resampled from its draws).

    ``rate="auto"`` tries every rate of ``auto_rates`` (each from the full sample when one-shot; in increasing
    order, each from the previous, when gradual) and keeps the largest whose PSIS-LOO ELPD loss on the training
    rows, less ``auto_se`` standard errors, is at most ``auto_tolerance`` of the full model's gain over a model
    without inputs (projpred's rule, :mod:`bayesprune.evaluation.selection`); the full model's rate 0 when
    none is. The test rows are never read. ``resample_options`` go to
    :func:`resample` (``samples``, ``burnin``, ``start``, ``sampler_settings`` ...); ``progress(label)`` may
    return a progress callback for each resampling.
    """
    if ps.kept_idx is not None:
        raise OptionError.about("ps", "is already pruned; compress the full posterior sample")
    settings.check("schedule", schedule)
    settings.check("schedule_steps", schedule_steps)
    settings.check("rates", (rate,), param="rate")
    settings.check("auto_rates", tuple(auto_rates))
    settings.check("auto_se", auto_se)
    settings.check("auto_tolerance", auto_tolerance)
    if layer_rates is not None and (rate == "auto" or schedule != "oneshot"):
        raise OptionError.about("layer_rates", "prune in one step at the rates given (not with rate='auto' or "
                                "schedule='gradual')")
    prune_options = dict(criterion=criterion, structured=structured, per_layer=per_layer, prune_inputs=prune_inputs,
                         layer_rates=layer_rates, score_from=score_from, repair=repair, seed=seed, data=ds)

    def step(source: PosteriorSample, r: float) -> Step:
        pr = prune(source, rate=r, **prune_options)
        adv = progress(f"resampling {criterion} {r:.0%}") if progress else None
        return Step(r, pr, pruned(source, pr), resample(source, ds, pr, seed=seed, progress=adv, **resample_options))

    def ladder(rates: tuple[float, ...]) -> list[Step]:
        out: list[Step] = []
        source = ps
        for r in rates:
            out.append(step(source, r))
            source = out[-1].resampled
        return out

    if rate != "auto":
        steps = ladder(schedules.rates(schedule, float(rate), schedule_steps))
        return Compression(steps[-1].prune, steps[-1].pruned, steps[-1].resampled, steps)
    candidates = sorted(set(float(r) for r in auto_rates))
    steps = ladder(tuple(candidates)) if schedule == "gradual" else [step(ps, r) for r in candidates]
    full_loo = selection.loo(pointwise_loglik(ps.posterior, ps.result.draws, ds.X_train, ds.y_train))
    null = selection.null_elpd(ds.task, ds.y_train)
    found = [selection.candidate(full_loo, null, s.rate, int(s.prune.keep_mask.sum()),
                                 selection.loo(pointwise_loglik(ps.posterior, s.resampled.result.draws,
                                                                ds.X_train, ds.y_train, s.resampled.kept_idx)),
                                 auto_se, auto_tolerance)
             for s in steps]
    chosen = selection.choose(full_loo, null, found, auto_se, auto_tolerance)
    final = next((s for s in steps if s.rate == chosen.chosen), None) or step(ps, 0.0)
    final.prune.selection = chosen
    return Compression(final.prune, final.pruned, final.resampled, steps, chosen)


def predict(ps: PosteriorSample, X: np.ndarray) -> Predictive:
    """Posterior predictive on (already preprocessed) inputs ``X``."""
    return posterior_predictive(ps.posterior, ps.result.draws, X, ps.kept_idx)


def evaluate(ps: PosteriorSample, ds: Dataset, *, seed: int = RunConfig.seed) -> StageMetrics:
    """The metrics of a stage on the test set of ``ds``: the block ``M`` of metrics.json, typed."""
    return evaluate_stage(ps, ds, seed=seed)[0]


def evaluate_stage(ps: PosteriorSample, ds: Dataset, *, seed: int = RunConfig.seed
                   ) -> tuple[StageMetrics, PredictiveScore]:
    """:func:`evaluate`, and the scored predictive (for figures, and for R-hat across runs: the paper computes
    R-hat with every run as a chain, which needs each run's test-point predictions)."""
    scored = score_predictive(
        ps.posterior, ps.result.draws, ds.X_test, ds.y_test, kept_idx=ps.kept_idx,
        theta_mean=ps.theta_mean(), key=stream_key(seed, "evaluate"), y_scale=ds.y_scale,
    )
    superchains = ps.info.get("superchains")
    metrics = StageMetrics(
        task=ds.task, **scored.values, **weight_space(np.asarray(ps.result.draws)[..., : ps.n_params_kept]),
        acceptance_rate=ps.result.acceptance_rate, n_divergent=int(np.sum(ps.result.n_divergent)),
        seconds=float(ps.seconds), steps=int(ps.result.n_steps),
        nrhat_fn_max=nested_function_space(scored.predictive.outputs, superchains) if superchains else None,
    )
    return metrics, scored
