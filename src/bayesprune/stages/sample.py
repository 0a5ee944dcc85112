"""The sampling stage: the BNN posterior of a data set and :func:`sample`, its full-model draws (from random or
optimised starts, optionally until the predictions converge)."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

from bayesprune import options, settings
from bayesprune.data.datasets import Dataset
from bayesprune.errors import OptionError
from bayesprune.evaluation.diagnostics import function_space, nested_function_space
from bayesprune.model.mlp import MLPSpec
from bayesprune.posterior.logdensity import BNNPosterior
from bayesprune.posterior.prior import NOISE_FLOOR_NU2
from bayesprune.predictive import posterior_predictive
from bayesprune.samplers import sizing, warmstart
from bayesprune.samplers.base import SamplerSettings
from bayesprune.samplers.driver import run_chains
from bayesprune.samplers.registry import get_sampler, settings_class
from bayesprune.seeds import stream_key
from bayesprune.settings import RunConfig
from bayesprune.stage_settings import SamplingSpec
from bayesprune.stages.posterior_sample import PosteriorSample
from bayesprune.stages.weights import weigh_chains

DEFAULT_KEPT_DRAWS = 1000  # kept draws per chain, for 4 chains or fewer
KEPT_DRAWS_TOTAL = 4000  # over all chains: with many chains each keeps fewer, so memory stays bounded
MIN_KEPT_DRAWS = 4  # per chain, whatever the number of chains (split R-hat needs two halves of two)
# values of the kept draws over all chains (1 GiB of float32): only networks of more than 67,108 parameters keep
# fewer than 4,000 draws (LeNet-300-100's 266,610: 251 per chain of 4, instead of 4.3 GB for 1,000 each)
KEPT_VALUES_TOTAL = 2**28
SamplerSettingsLike = SamplerSettings | Mapping[str, Any] | None


class ImproperPosteriorWarning(UserWarning):
    """The posterior may be improper: see :func:`bayesprune.posterior.prior.log_noise_prior`."""


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


def noise_prior(choice: str, n_params: int, n_train: int) -> tuple[float, float]:
    """``(nu1, nu2)`` of the inverse-gamma prior on a regression's noise variance for ``--noise-prior``:
    ``"flat"`` the paper's (0, 0); ``"auto"`` the same where the network has fewer parameters than training rows,
    else (0, :data:`~bayesprune.posterior.prior.NOISE_FLOOR_NU2`), which keeps the posterior proper where the
    flat prior would not (:func:`improper_posterior_warning`)."""
    settings.check("noise_prior", choice)
    return (0.0, NOISE_FLOOR_NU2) if choice == "auto" and n_params >= n_train else (0.0, 0.0)


def improper_posterior_warning(posterior: BNNPosterior, n_train: int, n_params: int | None = None, *,
                               cli: bool = False) -> str | None:
    """Why the posterior may be improper, or ``None``: regression with a flat prior on eta (``nu1 = nu2 = 0``)
    and at least as many network parameters as training rows (the network can then interpolate the rows, where
    the likelihood is unbounded as the noise variance goes to 0). ``n_params``: the parameters a pruned network
    keeps (default: all). The remedy names ``bayesprune run``'s options with ``cli=True``, else the Python
    API's parameters (``hidden=(3,)``)."""
    n_params = posterior.spec.n_params if n_params is None else int(n_params)
    if posterior.has_eta and posterior.nu1 == 0 and posterior.nu2 == 0 and n_params >= n_train:
        spec = posterior.spec
        width = widest_hidden(spec.n_inputs, spec.n_outputs, n_train)
        setting = f"--hidden {width}" if cli else f"hidden=({width},)"
        remedy = (f"one hidden layer of at most {width} unit{'s' if width > 1 else ''} ({setting}: "
                  f"{MLPSpec(spec.n_inputs, (width,), spec.n_outputs).n_params} parameters) or more rows"
                  if width else f"fewer features{' (--features)' if cli else ''} or more rows")
        return (f"{n_params} network parameters for {n_train} training rows: the network can fit "
                f"them exactly and, with the flat prior on the noise variance, the posterior is improper; use {remedy}")
    return None


def widest_hidden(n_inputs: int, n_outputs: int, n_train: int) -> int:
    """The most units of one hidden layer for which the network has fewer parameters than ``n_train`` rows (0:
    none): ``h (n_inputs + 1) + n_outputs (h + 1) < n_train``. On a regression with 50 features and 180 training
    rows (seed 0) the default 12 units (625 parameters) gave a full model 1.25x the test RMSE of 3 units (157), with
    chains that disagreed (function-space R-hat 2.15 against 1.15)."""
    return max(0, (n_train - n_outputs - 1) // (n_inputs + 1 + n_outputs))


def sampling_lengths(samples: int, burnin: float, thin: int | None, *, chains: int = 1, dim: int | None = None
                     ) -> tuple[int, int, int]:
    """(warm-up steps, post-burn-in steps, thinning) of lengths that passed their declared checks; a thinning
    beyond the post-burn-in draws (which the lengths together decide) is refused here. ``dim``: the sampled
    positions' size (for :func:`kept_per_chain`)."""
    num_warmup = int(round(burnin * samples))
    num_draws = samples - num_warmup
    thin = auto_thin(num_draws, kept_per_chain(chains, dim)) if thin is None else thin
    if thin > num_draws:
        raise OptionError.about("thin", f"{thin} must be between 1 and the post-burn-in draws ({num_draws})")
    return num_warmup, num_draws, int(thin)


def kept_per_chain(chains: int, dim: int | None = None) -> int:
    """How many draws each chain keeps by default: 1,000 with up to 4 chains, then 4,000 over all chains (at
    least 4 each), so thousands of chains keep host memory bounded (4,096 chains of 1,852 parameters: 121 MB);
    and with positions of ``dim`` values, at most :data:`KEPT_VALUES_TOTAL` values over all chains, so a large
    network's draws stay within 1 GiB too."""
    chains = max(1, chains)
    kept = min(DEFAULT_KEPT_DRAWS, KEPT_DRAWS_TOTAL // chains)
    if dim:
        kept = min(kept, KEPT_VALUES_TOTAL // (chains * dim))
    return max(MIN_KEPT_DRAWS, kept)


def sized_sampler(ds: Dataset, posterior: BNNPosterior, chains: int) -> tuple[str, sizing.CostEstimate]:
    """What ``sampler="auto"`` takes for this data and network, and the full-batch estimate it chose on:
    :func:`~bayesprune.samplers.sizing.choose_sampler` with the draws each chain keeps (:func:`kept_per_chain`),
    at this machine's speed where the reference machine's estimate is near the limit (:func:`speed_here`)."""
    size = dict(rows=len(ds.X_train), params=posterior.spec.n_params, chains=chains,
                kept=kept_per_chain(chains, posterior.position_size()))
    chosen, full = sizing.choose_sampler(**size)
    speed = speed_here(ds, posterior, chains, full)
    return (chosen, full) if speed is None else sizing.choose_sampler(**size, speed=speed)


def speed_here(ds: Dataset, posterior: BNNPosterior, chains: int, reference: sizing.CostEstimate) -> float | None:
    """This machine's gradient time over the reference machine's (:func:`~bayesprune.samplers.sizing.machine_speed`)
    when the ``reference`` estimate is near enough the size guide's limit for it to matter, else ``None``."""
    if not sizing.worth_probing(reference.seconds):
        return None
    return sizing.machine_speed(posterior, ds.X_train, ds.y_train, chains)


def auto_thin(num_draws: int, max_kept: int = DEFAULT_KEPT_DRAWS) -> int:
    """Smallest thinning that keeps at most ``max_kept`` draws per chain."""
    return max(1, -(-num_draws // max_kept))


def sample(
    ds: Dataset,
    sampling: SamplingSpec | None = None,
    *,
    posterior: BNNPosterior | None = None,
    seed: int = RunConfig.seed,
    progress=None,
    draws_file=None,
    **settings_: Any,
) -> PosteriorSample:
    """Sample the full BNN posterior: ``samples`` steps per chain, the first ``burnin`` share discarded.

    The settings are one :class:`~bayesprune.stage_settings.SamplingSpec` (``sampling``: ``sampler``,
    ``sampler_settings``, ``chains``, ``superchains``, ``samples``, ``burnin``, ``thin``, ``init``, ``init_steps``,
    ``until_converged``), or those fields as keyword arguments.

    ``sampler="auto"`` (the default) takes MCLMC, shortened to fit where a run at its default lengths is estimated
    over 15 minutes, or SGHMC where even half the lengths would not fit
    (:func:`~bayesprune.samplers.sizing.choose_sampler`; ``result.sampler`` says which).
    ``samples=None`` uses the sampler's default length (or the shortened one) and ``init=None`` its default start
    (``default_init``);
    ``sampler_settings`` are the sampler's own settings (its settings class from
    its sampler module in :mod:`bayesprune.samplers`, or a dict of some of them, e.g. ``{"num_integration_steps": 32}``;
    ``None``: its defaults). ``thin=None`` keeps at most 1,000 draws per chain (fewer beyond 4 chains:
    :func:`kept_per_chain`) for prediction; pruning scores still use every post-burn-in draw (running
    moments). ``init="optimised"`` starts every chain from its own network optimised for ``init_steps`` Adam steps
    (:mod:`bayesprune.samplers.warmstart`); the time it takes is ``result.seconds["init"]``. With
    ``until_converged=SECONDS`` the chains go on, each extension as long as all sampled so far, until the
    test-point predictions have converged (:func:`converged`) or that many seconds have passed. With
    ``superchains=K`` the chains start in K groups of consecutive chains, each group from one point (a random
    or optimised network), and :func:`~bayesprune.stages.evaluate.evaluate` reports nested R-hat (``nrhat_fn_max``).
    ``progress(label, total)`` (e.g. :meth:`bayesprune.progress.Reporter.stage`) may return an ``advance(n)``
    callback for each part of the work: the optimised starts' Adam steps, then the sampling steps.
    """
    spec = SamplingSpec.given(sampling, settings_)
    sampler, chains, superchains = spec.sampler, spec.chains, spec.superchains
    sampler_settings, until_converged = spec.sampler_settings, spec.until_converged
    settings.check("seed", seed)
    posterior = posterior or build_posterior(ds)
    if sampler == settings.AUTO:  # chosen by the data's size, as bayesprune run chooses it
        if sampler_settings is not None:
            raise OptionError.about("sampler_settings", "need a named sampler, not sampler='auto' (the settings "
                                    "belong to one sampler): give sampler='mclmc', for example")
        sampler, cost = sized_sampler(ds, posterior, chains)
        auto_samples = cost.samples if sampler == cost.sampler else None  # MCLMC, perhaps shortened to fit
    else:
        auto_samples = None
    defaults = settings_class(sampler)
    init = defaults.default_init if spec.init is None else spec.init
    init_steps = defaults.default_init_steps if spec.init_steps is None else spec.init_steps
    samples = spec.samples or auto_samples or defaults.default_samples
    num_warmup, num_draws, thin = sampling_lengths(samples, spec.burnin, spec.thin, chains=chains,
                                                   dim=posterior.position_size())
    t0 = time.perf_counter()
    start = chain_starts(posterior, ds, superchains or chains, sampler, init, init_steps, seed, progress=progress)
    if superchains:  # every chain of a group from its group's point; each chain has its own random stream
        start = np.repeat(start, chains // superchains, axis=0)
    t_init = time.perf_counter() - t0
    advance = progress(f"sampling {chains}x{sampler}", samples) if progress else None
    result = run_chains(
        posterior, ds.X_train, ds.y_train, start, stream_key(seed, "sample"), sampler=sampler,
        settings=sampler_settings, num_warmup=num_warmup, num_draws=num_draws, thin=thin, progress=advance,
        draws_file=draws_file,
    ).with_seconds(init=t_init)
    if until_converged is not None:
        result = extend_until_converged(posterior, ds, result, stream_key(seed, "sample"), sampler, sampler_settings,
                                        None, until_converged, advance, superchains=superchains)
    ps = PosteriorSample(posterior, result, None, time.perf_counter() - t0,
                         {"init": init, "superchains": superchains})
    return weigh_chains(ps, ds, spec.chain_weights).replace(seconds=time.perf_counter() - t0)


CONVERGED_RHAT = 1.01  # Vehtari et al. (2021)'s threshold for split R-hat
CONVERGED_ESS = 400  # and their minimum bulk ESS for reliable estimates (100 per chain with 4 chains)


def chain_starts(posterior, ds: Dataset, n: int, sampler: str, init: str, init_steps: int | None,
                 seed: int, *, progress=None) -> np.ndarray:
    """The ``n`` points chains start from: random networks from the prior (the ``init`` stream of ``seed``),
    each optimised by :func:`optimised_start` when ``init="optimised"`` (a progress stage of its own, as
    :func:`sample`'s ``progress`` makes one)."""
    keys = jax.random.split(stream_key(seed, "init"), n)
    start = np.stack([np.asarray(posterior.init_position(k, ds.y_train)) for k in keys])
    if init == "optimised":
        stage = (lambda total: progress(f"optimising {n} starts", total)) if progress else None  # noqa: E731
        start, _ = optimised_start(posterior, ds, start, sampler, init_steps, seed, progress=stage)
    return start


def optimised_start(posterior, ds: Dataset, positions: np.ndarray, sampler: str, steps: int | None, seed: int,
                     kept_idx: np.ndarray | None = None, *, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """Adam from ``positions`` for ``steps`` steps (default: the sampler's ``default_init_steps``); stochastic-
    gradient samplers start from networks trained on minibatches, as their data is large, checked on a held-out
    share of the training rows (their ``default_init_holdout``) and stopped early where they overfit, when the
    steps pass over the rows often enough to overfit (:func:`~bayesprune.samplers.warmstart.optimise`).
    ``progress(total)`` may return an ``advance(n)`` callback for the Adam steps (``total``: the most they can
    take, the held-out check's run included)."""
    stochastic = get_sampler(sampler).stochastic
    defaults = settings_class(sampler)
    steps = defaults.default_init_steps if steps is None else steps
    holdout, batch_size = defaults.default_init_holdout, warmstart.WARM_START_BATCH if stochastic else None
    total = warmstart.planned_steps(steps, holdout, len(ds.X_train), batch_size)
    advance = progress(total) if progress and steps else None
    return warmstart.optimise(posterior, ds.X_train, ds.y_train, positions, steps=steps, batch_size=batch_size,
                              key=stream_key(seed, "init-batches" if kept_idx is None else "resample-init"),
                              kept_idx=kept_idx, holdout=holdout, progress=advance)


def converged(metrics: dict[str, float]) -> bool:
    """Whether test-point predictions have converged: function-space R-hat <= 1.01 (when defined: two or more
    chains) and function-space bulk ESS >= 400."""
    rhat, ess = metrics["rhat_fn_max"], metrics["ess_fn_min"]
    return (not np.isfinite(rhat) or rhat <= CONVERGED_RHAT) and np.isfinite(ess) and ess >= CONVERGED_ESS


def extend_until_converged(posterior, ds, result, key, sampler, sampler_settings, kept_idx, seconds, progress, *,
                           superchains: int | None = None):
    """Continue the chains of ``result`` (same tuning, no warm-up) until the predictions at the test inputs (the
    training inputs when there are none; no labels are used) converge, or until the next extension would end
    after ``seconds``. Each extension is as long as everything sampled so far (so the checks cost a logarithmic
    number of evaluations), and the kept draws are thinned by 2 whenever they pass twice the usual number per
    chain. With ``superchains`` (chains started in groups) convergence is judged by nested R-hat, as the run's
    report judges it, instead of split R-hat.

    An extension's time is estimated before it starts, from the speed of the steps sampled so far and the mean
    compilation time of the runs so far: one that would end after ``seconds`` is not started, so the whole
    takes at most ``seconds`` beyond the first run unless an estimate falls short."""
    X = ds.X_test if len(ds.X_test) else ds.X_train
    t0 = time.perf_counter()
    runs = 1
    for extension in range(1, 64):
        outputs = posterior_predictive(posterior, result.draws, X, kept_idx).outputs
        metrics = function_space(outputs)
        if superchains:
            metrics = {**metrics, "rhat_fn_max": nested_function_space(outputs, superchains)}
        if converged(metrics):
            break
        steps = result.draws.shape[1] * result.thin
        estimate = (result.seconds.get("sampling", 0.0) / max(result.n_steps, 1) * steps
                    + result.seconds.get("compile", 0.0) / runs)
        if time.perf_counter() - t0 + estimate > seconds:
            break
        more = run_chains(
            posterior, ds.X_train, ds.y_train, result.last_position, jax.random.fold_in(key, extension),
            sampler=sampler, settings=sampler_settings, num_warmup=0, num_draws=steps,
            thin=result.thin, kept_idx=kept_idx, params=result.params, progress=progress,
        )
        result = result.extended(more)
        runs += 1
        if result.draws.shape[1] > 2 * kept_per_chain(result.num_chains, result.draws.shape[-1]):
            result = result.thinned(2)
    return result


