"""The settings of each sampler, one frozen dataclass per sampler, with their defaults defined once.

Every field is a setting of ``bayesprune run`` (flag ``--name-with-dashes``), of an experiment config file
(a table named after the sampler: ``[lgmh]``, ``[hmc]``, ``[mclmc]``, ...), of :func:`bayesprune.sample` /
:func:`bayesprune.resample` (``settings=``) and of the estimators (``sampler_settings=``). The classes are
hashable, so a compiled sampler is cached per settings.

``default_samples`` and ``default_resample_samples`` are the run lengths used when none is given: the samplers
differ by orders of magnitude in what one step buys (docs/BENCHMARKS.md), so each gets a length that mixes on
the embedded iris in seconds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from bayesprune import options
from bayesprune.errors import OptionError
from bayesprune.options import option

GRADS_PER_STEP_MCLMC = 2  # the isokinetic McLachlan integrator evaluates the gradient twice per step
DESIRED_ENERGY_VAR = 5e-4  # BlackJAX's MCLMC default; adjusted MCLMC's unadjusted tuning phase uses it too


@dataclass(frozen=True, kw_only=True)
class SamplerSettings:
    """Base class: what every sampler's settings can do."""

    sampler: ClassVar[str] = ""
    default_samples: ClassVar[int] = 0
    default_resample_samples: ClassVar[int] = 0
    default_init: ClassVar[str] = "prior"  # where chains start unless told (bayesprune.samplers.warmstart.INITS)
    default_init_steps: ClassVar[int] = 1000  # Adam steps of an optimised start
    default_resample_start: ClassVar[str] = "draws"  # where resampling starts unless told (settings.RESAMPLE_STARTS)

    def __post_init__(self) -> None:
        options.check_all(self)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def grads_per_step(self) -> float:
        """Gradient evaluations per step, for cost estimates (:mod:`bayesprune.samplers.sizing`); typical
        values for samplers whose trajectories vary in length."""
        return 1.0


@dataclass(frozen=True, kw_only=True)
class LGMHSettings(SamplerSettings):
    """The paper's Langevin-gradient Metropolis-Hastings (defaults: the paper's values)."""

    sampler: ClassVar[str] = "lgmh"
    default_samples: ClassVar[int] = 40000
    default_resample_samples: ClassVar[int] = 20000

    lr: float = option(0.01, "LG-MH gradient step of a Langevin proposal", check=options.non_negative)
    step_w: float = option(0.025, "LG-MH proposal sd of the network parameters", check=options.non_negative)
    step_eta: float = option(0.2, "LG-MH proposal sd of eta = log noise variance", check=options.non_negative)
    l_prob: float = option(0.5, "LG-MH share of Langevin (gradient) proposals", check=options.probability)


@dataclass(frozen=True, kw_only=True)
class _AdaptiveSettings(SamplerSettings):
    step_size: float = option(0.01, "initial step size of MALA/HMC/NUTS (tuned in warm-up when adapting)",
                              check=options.positive)
    target_accept: float = option(0.8, "acceptance rate the warm-up adaptation aims at",
                                  check=options.open_probability)
    adapt: bool = option(True, "tune the step size (and the diagonal mass matrix of HMC/NUTS) in warm-up",
                         check=options.one_of((True, False)))


@dataclass(frozen=True, kw_only=True)
class MALASettings(_AdaptiveSettings):
    """BlackJAX's MALA; step size tuned by dual averaging in warm-up."""

    sampler: ClassVar[str] = "mala"
    default_samples: ClassVar[int] = 40000
    default_resample_samples: ClassVar[int] = 20000

    target_accept: float = option(0.574, "acceptance rate the warm-up adaptation aims at",
                                  check=options.open_probability)


@dataclass(frozen=True, kw_only=True)
class _WindowAdaptedSettings(_AdaptiveSettings):
    dense_mass: bool = option(False, "adapt a dense mass matrix (all covariances; dim^2 memory and work per "
                              "step) instead of a diagonal one", check=options.one_of((True, False)))


@dataclass(frozen=True, kw_only=True)
class HMCSettings(_WindowAdaptedSettings):
    """BlackJAX's HMC with Stan-style window adaptation of step size and mass matrix (diagonal or dense)."""

    sampler: ClassVar[str] = "hmc"
    default_samples: ClassVar[int] = 4000
    default_resample_samples: ClassVar[int] = 2000

    num_integration_steps: int = option(16, "HMC leapfrog steps per transition", check=options.integer(1))

    def grads_per_step(self) -> float:
        return float(self.num_integration_steps)


@dataclass(frozen=True, kw_only=True)
class NUTSSettings(_WindowAdaptedSettings):
    """BlackJAX's NUTS with Stan-style window adaptation of step size and mass matrix (diagonal or dense)."""

    sampler: ClassVar[str] = "nuts"
    default_samples: ClassVar[int] = 1000
    default_resample_samples: ClassVar[int] = 1000

    max_num_doublings: int = option(10, "NUTS tree depth limit", check=options.integer(1))

    def grads_per_step(self) -> float:
        return float(2 ** min(self.max_num_doublings, 5))  # trees of depth 5 are typical for these networks


@dataclass(frozen=True, kw_only=True)
class _MicrocanonicalSettings(SamplerSettings):
    adapt: bool = option(True, "tune the step size and the momentum decoherence length L (and a diagonal "
                         "preconditioner) in warm-up, BlackJAX's MCLMC tuning", check=options.one_of((True, False)))
    step_size: float | None = option(None, "initial step size (default sqrt(dim) / 4, BlackJAX's)",
                                     check=options.optional(options.positive))
    decoherence_length: float | None = option(None, "initial momentum decoherence length L (default sqrt(dim))",
                                              check=options.optional(options.positive))
    diagonal_preconditioning: bool = option(True, "tune a diagonal preconditioner in warm-up",
                                            check=options.one_of((True, False)))


@dataclass(frozen=True, kw_only=True)
class MCLMCSettings(_MicrocanonicalSettings):
    """BlackJAX's unadjusted microcanonical Langevin MC (Robnik et al. 2023), tuned automatically. No
    Metropolis step: its bias is controlled by the energy error the tuning aims at (``desired_energy_var``)."""

    sampler: ClassVar[str] = "mclmc"
    default_samples: ClassVar[int] = 40000  # chosen by benchmarks/default_sampler.py (docs/BENCHMARKS.md)
    default_resample_samples: ClassVar[int] = 20000
    default_init: ClassVar[str] = "optimised"  # MILE's recipe (Sommer et al. 2025): an ensemble of optimised nets

    desired_energy_var: float = option(DESIRED_ENERGY_VAR, "energy error variance per dimension the step size is "
                                       "tuned to (smaller: less bias, smaller steps)", check=options.positive)

    def grads_per_step(self) -> float:
        return float(GRADS_PER_STEP_MCLMC)


@dataclass(frozen=True, kw_only=True)
class AdjustedMCLMCSettings(_MicrocanonicalSettings):
    """BlackJAX's adjusted microcanonical Langevin MC: MCLMC trajectories with a Metropolis-Hastings step (exact
    in the limit), random trajectory lengths; tuned from an unadjusted MCLMC tuning, then to ``target_accept``."""

    sampler: ClassVar[str] = "amclmc"
    default_samples: ClassVar[int] = 4000
    default_resample_samples: ClassVar[int] = 2000
    default_init: ClassVar[str] = "optimised"

    target_accept: float = option(0.9, "acceptance rate the warm-up adaptation aims at",
                                  check=options.open_probability)

    def grads_per_step(self) -> float:
        return 32.0  # about 16 integration steps of two gradients, typical after tuning


STEP_SCHEDULES = ("constant", "cyclical")


@dataclass(frozen=True, kw_only=True)
class _StochasticGradientSettings(SamplerSettings):
    """Stochastic-gradient MCMC: each step uses the gradient on a random minibatch of rows, scaled to all rows."""

    default_samples: ClassVar[int] = 20000
    default_resample_samples: ClassVar[int] = 10000
    default_init: ClassVar[str] = "optimised"  # SG-MCMC is run from trained networks in practice (Zhang et al.)
    # on minibatches of warmstart.WARM_START_BATCH rows: 10,000 steps cost a sixth of 1,000 full-batch ones on
    # 60,000 rows and train a network as far as scikit-learn's MLPRegressor does (benchmarks/size.py)
    default_init_steps: ClassVar[int] = 10000
    # the bias-bounded steps are too small to re-fit a network that pruning broke: fine-tune it first
    # (benchmarks/deep.py: digits 90% loses 5 points from the pruned draws, 0.7 fine-tuned)
    default_resample_start: ClassVar[str] = "optimised"

    batch_size: int = option(128, "SGLD/SGHMC rows per minibatch gradient (all rows when the data set has fewer)",
                             check=options.integer(1))
    learning_rate: float | None = option(None, "SGLD/SGHMC step as an SGD learning rate on the mean "
                                         "log-likelihood per row (the Langevin step is learning_rate / rows); "
                                         "default: tuned in warm-up to keep the stationary variance within 20% "
                                         "of the posterior's (docs/METHOD.md)",
                                         check=options.optional(options.positive))
    step_schedule: str = option("constant", "SGLD/SGHMC step-size schedule: constant, or cyclical (cosine cycles "
                                "of --cycle-length steps, Zhang et al. 2020)", choices=STEP_SCHEDULES)
    cycle_length: int = option(1000, "SGLD/SGHMC steps per cycle of the cyclical schedule",
                               check=options.integer(2))
    precondition: bool = option(True, "SGLD/SGHMC: move in the metric of the inverse diagonal empirical Fisher "
                                "information, estimated in warm-up (SGFS, Ahn et al. 2012)",
                                check=options.one_of((True, False)))
    exploration: float = option(0.5, "SGLD/SGHMC share of each cycle spent exploring (noise-free steps, not "
                                "kept) before the sampling stage, cyclical schedule", check=options.share_below_one)


@dataclass(frozen=True, kw_only=True)
class SGLDSettings(_StochasticGradientSettings):
    """BlackJAX's stochastic gradient Langevin dynamics (Welling & Teh 2011): an Euler step of the Langevin
    diffusion with a minibatch gradient and no Metropolis correction."""

    sampler: ClassVar[str] = "sgld"


@dataclass(frozen=True, kw_only=True)
class SGHMCSettings(_StochasticGradientSettings):
    """BlackJAX's stochastic gradient HMC (Chen et al. 2014): underdamped Langevin dynamics with a minibatch
    gradient, momentum kept between steps and friction that absorbs the gradient noise."""

    sampler: ClassVar[str] = "sghmc"

    momentum_decay: float = option(0.1, "SGHMC share of the momentum lost to friction per step (SGD's 1 - "
                                   "momentum)", check=options.open_probability)


SETTINGS: dict[str, type[SamplerSettings]] = {
    cls.sampler: cls for cls in (LGMHSettings, MALASettings, HMCSettings, NUTSSettings, MCLMCSettings,
                                 AdjustedMCLMCSettings, SGLDSettings, SGHMCSettings)
}
SAMPLERS = tuple(SETTINGS)


def settings_class(sampler: str) -> type[SamplerSettings]:
    """The settings class of a sampler (``lgmh``, ``mala``, ``hmc``, ``nuts``)."""
    options.one_of(SAMPLERS)("sampler", sampler)
    return SETTINGS[sampler]


def settings_for(sampler: str, settings: SamplerSettings | Mapping[str, Any] | None = None) -> SamplerSettings:
    """The settings of ``sampler``: its defaults, a mapping of some of them, or a settings object to check.

    A mapping may only name settings of that sampler; anything else raises :class:`OptionError`.
    """
    return as_settings(settings_class(sampler), settings)


def as_settings(cls: type[SamplerSettings], settings: SamplerSettings | Mapping[str, Any] | None, *,
                param: str = "sampler_settings") -> SamplerSettings:
    """``settings`` as an instance of ``cls`` (see :func:`settings_for`); errors name ``param``."""
    if settings is None:
        return cls()
    if isinstance(settings, SamplerSettings):
        if not isinstance(settings, cls):
            raise OptionError.about(param, f"are {type(settings).__name__}, not the {cls.__name__} of "
                                           f"sampler '{cls.sampler}'")
        return settings
    if not isinstance(settings, Mapping):
        raise OptionError.about(param, f"must be a {cls.__name__} or a dict, got {settings!r}")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(settings) - known)
    if unknown:
        owners = [name for name, c in SETTINGS.items() if unknown[0] in {f.name for f in dataclasses.fields(c)}]
        where = f"it is a setting of {', '.join(owners)}" if owners else f"known: {', '.join(sorted(known))}"
        raise OptionError.about(unknown[0], f"is not a setting of sampler '{cls.sampler}' ({where})")
    return cls(**settings)
