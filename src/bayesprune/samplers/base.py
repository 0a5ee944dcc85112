"""What every sampler module declares: its settings class (:class:`SamplerSettings`) and its definition
(:class:`SamplerDef`), built by keyword from pure functions over **one** chain, shaped like BlackJAX's kernels.

A sampler family is one module (``langevin_mh``, ``mala``, ``hmc``, ``mclmc``, ``stochastic``) exporting
``SAMPLERS``, a tuple of its definitions; :mod:`bayesprune.samplers.registry` lists the modules. The driver
(:mod:`bayesprune.samplers.driver`) vmaps a definition's functions over chains and jits once per definition,
settings and shape:

- ``initial_params(settings, dim, has_eta)``: tuning parameters before warm-up (a pytree of arrays);
- ``init(position, logdensity_fn, key) -> state`` and ``step(key, state, logdensity_fn, params, settings) ->
  (state, info)``: BlackJAX's ``init``/``step`` with the tuning parameters and settings passed in (``key`` for
  samplers whose state holds something random, such as MCLMC's momentum);
- ``summarise(info) -> (acceptance_rate, is_divergent, n_grad_evals)``;
- ``warmup(key, position, logdensity_fn, params, num_steps, settings) -> (state, params)``, optional: warm-up
  *with adaptation* (step size, mass matrix). Without it, or when the settings turn adaptation off, or the
  warm-up is too short to adapt, the driver burns in with plain steps;
- ``stochastic``, optional (:class:`Minibatching`): the sampler moves on minibatch estimates; its
  ``logdensity(posterior, X, y, kept_idx, settings)`` builds what ``init``/``step`` receive as
  ``logdensity_fn`` instead of the full-batch log density, and ``rows(settings, n_rows)`` says how many rows
  one gradient reads (for the size guide);
- ``collects(info) -> bool``, optional: whether the step's draw counts (cyclical SG-MCMC keeps only the draws of
  each cycle's sampling stage); without it every draw counts;
- ``randomness``, optional (:class:`BlockRandomness`): ``step`` split into its random numbers and a deterministic
  ``transition``, declared as data, so that the driver can generate the numbers of many steps in one batched
  call (the same numbers ``step`` would generate from the same keys). LG-MH declares it; BlackJAX's kernels
  generate inside ``step``;
- ``advice`` (:class:`Advice`): what to change when a stage's diagnostics show a problem, as ``bayesprune run``
  options of this sampler.

The settings class declares the sampler's defaults that are not its settings: ``default_samples`` and
``default_resample_samples`` (run lengths), ``default_init`` and ``default_init_steps`` (where chains start) and
``default_resample_start`` (where resampling starts).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import jax

from bayesprune import options
from bayesprune.options import option

MIN_ADAPT_STEPS = 50  # a shorter warm-up burns in with the initial step size instead of adapting it


class ShortWarmupWarning(UserWarning):
    """A warm-up too short for the sampler's adaptation: the chains burn in with the untuned initial settings."""

LogDensityFn = Callable[[jax.Array], jax.Array]
Params = Any  # a pytree of arrays
State = Any
Info = Any


@dataclass(frozen=True, kw_only=True)
class SamplerSettings:
    """Base class of a sampler's settings: one frozen dataclass per sampler, defaults defined once.

    Every field is a setting of ``bayesprune run`` (flag ``--name-with-dashes``), of an experiment config file
    (a table named after the sampler: ``[lgmh]``, ``[hmc]``, ...), of :func:`bayesprune.sample` /
    :func:`bayesprune.resample` (``sampler_settings=``) and of the estimators. The classes are hashable, so a
    compiled sampler is cached per settings.
    """

    sampler: ClassVar[str] = ""
    default_samples: ClassVar[int] = 0
    default_resample_samples: ClassVar[int] = 0
    default_init: ClassVar[str] = "prior"  # where chains start unless told (bayesprune.samplers.warmstart.INITS)
    default_init_steps: ClassVar[int] = 1000  # Adam steps of an optimised start
    # share of the training rows an optimised start holds out to stop early on (0: none; warmstart.optimise)
    default_init_holdout: ClassVar[float] = 0.0
    # where resampling starts unless told (settings.RESAMPLE_STARTS): the pruned draws fine-tuned on the kept
    # parameters. Over 15 data sets x 3 seeds of the default run (benchmarks/pipeline.py) starting at the pruned
    # draws themselves broke 16 of 45 compact models (up to 534x the full model's RMSE), fine-tuned starts 11
    # (at most 5x)
    default_resample_start: ClassVar[str] = "optimised"

    def __post_init__(self) -> None:
        options.check_all(self)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def grads_per_step(self) -> float:
        """Gradient evaluations per step, for cost estimates (:mod:`bayesprune.samplers.sizing`); typical
        values for samplers whose trajectories vary in length."""
        return 1.0


@dataclass(frozen=True, kw_only=True)
class AdaptiveSettings(SamplerSettings):
    """Settings of a sampler whose step size is tuned in warm-up towards an acceptance rate (MALA, HMC, NUTS)."""

    step_size: float = option(0.01, "initial step size of MALA/HMC/NUTS (tuned in warm-up when adapting)",
                              check=options.positive)
    target_accept: float = option(0.8, "acceptance rate the warm-up adaptation aims at",
                                  check=options.open_probability)
    adapt: bool = option(True, "tune the step size (and the diagonal mass matrix of HMC/NUTS) in warm-up",
                         check=options.one_of((True, False)))


class ParamsFn(Protocol):
    def __call__(self, settings: Any, dim: int, has_eta: bool) -> Params: ...


class InitFn(Protocol):
    def __call__(self, position: jax.Array, logdensity_fn: LogDensityFn, key: jax.Array) -> State: ...


class StepFn(Protocol):
    def __call__(self, key: jax.Array, state: State, logdensity_fn: LogDensityFn, params: Params,
                 settings: Any) -> tuple[State, Info]: ...


class TransitionFn(Protocol):
    def __call__(self, numbers: Any, state: State, logdensity_fn: LogDensityFn, params: Params,
                 settings: Any) -> tuple[State, Info]: ...


class WarmupFn(Protocol):
    def __call__(self, key: jax.Array, position: jax.Array, logdensity_fn: LogDensityFn, params: Params,
                 num_steps: int, settings: Any) -> tuple[State, Params]: ...


class SummaryFn(Protocol):
    def __call__(self, info: Info) -> tuple[jax.Array, jax.Array, jax.Array]: ...


@dataclass(frozen=True)
class BlockRandomness:
    """A step as ``transition(generate(key, dim), state, ...)``: its random numbers apart from the rest.

    ``generate(key, dim)`` gives one step's random numbers (a pytree); ``transition`` the next state from them.
    ``step(key, ...)`` must equal ``transition(generate(key, dim), ...)``.
    """

    generate: Callable[[jax.Array, int], Any]
    transition: TransitionFn


@dataclass(frozen=True)
class Minibatching:
    """How a stochastic-gradient sampler sees the posterior: ``logdensity(posterior, X, y, kept_idx, settings)``
    is what its ``init``/``step`` receive as ``logdensity_fn``; ``rows(settings, n_rows)`` the rows one gradient
    reads."""

    logdensity: Callable[..., Any]
    rows: Callable[[Any, int], int]


@dataclass(frozen=True)
class Advice:
    """What to change, as ``bayesprune run`` options, when a sampled stage shows a problem.

    Each text may use ``{length_flag}`` (``--samples`` or ``--resample-samples``), ``{longer}`` (sample so many
    times longer), ``{more_chains}`` (run so many times the chains) and ``{default_sampler}``. ``imprecise`` is
    for predictions whose Monte Carlo error is too large
    (:func:`~bayesprune.evaluation.diagnostics.monte_carlo_error`; more chains, for the reason
    :func:`~bayesprune.experiments.advice.stage_warnings` gives), ``stuck`` for an acceptance rate
    below 1%, ``small_steps`` above 99% (samplers without a Metropolis step
    report no acceptance rate, so neither applies), ``divergent`` for rejected non-finite or divergent
    transitions (``""``: none to give).
    """

    stuck: str = "adapt the step size in a longer warm-up (--burnin 0.5 and more {length_flag})"
    small_steps: str = "lower --target-accept"
    imprecise: str = "{more_chains}"
    divergent: str = ""


@dataclass(frozen=True, kw_only=True)
class SamplerDef:
    """One sampler: its settings class and its pure single-chain functions (see the module docstring)."""

    name: str
    description: str
    settings: type[SamplerSettings]
    initial_params: ParamsFn
    init: InitFn
    step: StepFn
    summarise: SummaryFn
    warmup: WarmupFn | None = None
    randomness: BlockRandomness | None = None
    stochastic: Minibatching | None = None
    collects: Callable[[Info], jax.Array] | None = None
    advice: Advice = Advice()

    def adapts(self, settings: SamplerSettings, num_steps: int) -> bool:
        """Whether warm-up runs the adaptation (else it burns in with plain steps)."""
        return self.warmup is not None and getattr(settings, "adapt", True) and num_steps >= MIN_ADAPT_STEPS

    def logdensity(self, posterior: Any, X: jax.Array, y: jax.Array, kept_idx: jax.Array | None,
                   settings: SamplerSettings) -> Any:
        """What ``init``/``step`` move on: the full-batch log density, or the minibatch estimator."""
        if self.stochastic is not None:
            return self.stochastic.logdensity(posterior, X, y, kept_idx, settings)
        return lambda z: posterior.logdensity(z, X, y, kept_idx)

    def rows_per_gradient(self, settings: SamplerSettings, n_rows: int) -> int:
        return n_rows if self.stochastic is None else self.stochastic.rows(settings, n_rows)

    def random_numbers(self, keys: jax.Array, dim: int) -> Any:
        """The random numbers of one step per key (a key array of any shape), generated in one batched call;
        the keys themselves for samplers that generate inside ``step``."""
        if self.randomness is None:
            return keys
        flat = jax.vmap(lambda k: self.randomness.generate(k, dim))(keys.reshape(-1))
        return jax.tree.map(lambda a: a.reshape(*keys.shape, *a.shape[1:]), flat)

    def apply(self, numbers: Any, state: State, logdensity_fn: LogDensityFn, params: Params,
              settings: SamplerSettings) -> tuple[State, Info]:
        """One step from what :meth:`random_numbers` returned for its key."""
        if self.randomness is None:
            return self.step(numbers, state, logdensity_fn, params, settings)
        return self.randomness.transition(numbers, state, logdensity_fn, params, settings)


def no_key(init):
    """BlackJAX's ``init(position, logdensity_fn)`` in the protocol's shape (no randomness in the state)."""
    return lambda position, logdensity_fn, key: init(position, logdensity_fn)


def steps_per_block(numbers_per_step: int) -> int:
    """Steps whose random numbers are generated in one batch: up to 256, at most 2**19 numbers (2 MiB) in all
    chains together (larger blocks fall out of the CPU's cache and cost more than they save)."""
    return max(1, min(256, 2**19 // max(int(numbers_per_step), 1)))


def units_per_block(n_units: int, steps_per_unit: int, numbers_per_step: int) -> int:
    """How many of ``n_units`` units of ``steps_per_unit`` steps (a kept draw and its thinned steps, or one
    warm-up step) share a block of random numbers: the largest divisor of ``n_units`` whose steps fit
    :func:`steps_per_block`, so blocks tile the units exactly and one loop body is compiled."""
    limit = max(1, min(steps_per_block(numbers_per_step) // steps_per_unit, n_units))
    return max(d for d in range(1, limit + 1) if n_units % d == 0)
