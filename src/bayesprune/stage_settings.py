"""The settings each stage takes, grouped: :class:`SamplingSpec` (how the full posterior is sampled),
:class:`PruningSpec` (how a mask is chosen), :class:`CompressionSpec` (how the rate is reached: schedule and rate
selection) and :class:`ResamplingSpec` (how the kept parameters are sampled again).

A group is a small frozen dataclass, validated once when it is built, and passed between layers as it is: the
runner derives the groups from its :class:`~bayesprune.settings.RunConfig` (:meth:`SettingsGroup.from_run`),
the API functions take them (``sample(ds, sampling)``, ``prune(ps, pruning)``, ``compress(ps, ds,
pruning=..., compression=..., resampling=...)``, ``resample(ps, ds, pr, resampling)``) or build them from keyword
arguments, a convenience at the top level. Every field is a run setting of ``RunConfig`` (its default, help and
check, through :func:`_of_run`) unless the run has no such setting (``criterion``: the run has a list; a
resampling's ``sampler``, ``sampler_settings`` and ``chains``), so no stage re-checks or re-defaults a setting.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from bayesprune import options
from bayesprune.errors import OptionError
from bayesprune.options import option
from bayesprune.pruning.criteria import CRITERIA
from bayesprune.samplers.base import SamplerSettings
from bayesprune.samplers.registry import SAMPLERS
from bayesprune.settings import RunConfig, check_prune_inputs, check_superchains

_RUN_FIELDS = {f.name: f for f in dataclasses.fields(RunConfig)}
_RUN_OPTIONS = dict((f.name, opt) for f, opt in options.declared(RunConfig))


def _of_run(name: str):
    """A group field that is the run setting ``name``: its default, help, check and choices (the field may have
    another name in the group: ``ResamplingSpec.samples`` is ``RunConfig.resample_samples``)."""
    opt = dataclasses.replace(_RUN_OPTIONS[name], flag=None, group="", toml=False)
    return dataclasses.field(default=_RUN_FIELDS[name].default, metadata={"option": opt, "run_setting": name})


@dataclass(frozen=True, kw_only=True)
class SettingsGroup:
    """Base of the groups: lists become tuples, every field's declared check runs once, at construction."""

    title: ClassVar[str] = ""  # what the group is, for errors ("a pruning setting")
    param: ClassVar[str] = ""  # the API parameter that takes the group

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if isinstance(getattr(self, f.name), list):
                object.__setattr__(self, f.name, tuple(getattr(self, f.name)))
        options.check_all(self)

    @classmethod
    def names(cls) -> frozenset[str]:
        return frozenset(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_run(cls, cfg: RunConfig, **overrides: Any):
        """The group of a run's configuration (a field takes the run setting it is declared from)."""
        values = {f.name: getattr(cfg, f.metadata.get("run_setting", f.name)) for f in dataclasses.fields(cls)
                  if f.name not in overrides}
        return cls(**values, **overrides)

    @classmethod
    def given(cls, group: Any, settings: Mapping[str, Any]):
        """``group`` (an instance), or the group of the keyword arguments ``settings`` when it is ``None``."""
        unknown = sorted(set(settings) - cls.names())
        if unknown:
            raise OptionError.about(unknown[0], f"is not {cls.title} (known: {', '.join(sorted(cls.names()))})")
        if group is None:
            return cls(**settings)
        if not isinstance(group, cls):
            raise OptionError.about(cls.param, f"must be a {cls.__name__}, got {type(group).__name__}")
        if settings:
            raise OptionError.about(next(iter(settings)), f"is set by {cls.param}= already: give one or the other")
        return group

    @classmethod
    def take(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """Remove this group's keyword arguments from ``settings`` and return them."""
        return {name: settings.pop(name) for name in list(settings) if name in cls.names()}


@dataclass(frozen=True, kw_only=True)
class SamplingSpec(SettingsGroup):
    """How the full posterior is sampled (see :func:`bayesprune.stages.sample.sample`). ``samples``, ``init`` and
    ``init_steps`` left ``None`` take the sampler's own defaults."""

    title: ClassVar[str] = "a sampling setting"
    param: ClassVar[str] = "sampling"

    sampler: str = _of_run("sampler")
    sampler_settings: SamplerSettings | Mapping[str, Any] | None = option(
        None, "the sampler's settings (default: its defaults)", flag=None)
    chains: int = _of_run("chains")
    superchains: int | None = _of_run("superchains")
    samples: int | None = _of_run("samples")
    burnin: float = _of_run("burnin")
    thin: int | None = _of_run("thin")
    init: str | None = _of_run("init")
    init_steps: int | None = _of_run("init_steps")
    until_converged: float | None = _of_run("until_converged")
    chain_weights: str = _of_run("chain_weights")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_superchains(self.superchains, self.chains)


@dataclass(frozen=True, kw_only=True)
class PruningSpec(SettingsGroup):
    """How a keep-mask is chosen (see :func:`bayesprune.stages.prune.prune` for each setting)."""

    title: ClassVar[str] = "a pruning setting"
    param: ClassVar[str] = "pruning"

    criterion: str = option(RunConfig.criteria[0], "pruning criterion", choices=CRITERIA, flag=None)
    structured: bool = _of_run("structured")
    per_layer: bool = _of_run("per_layer")
    prune_inputs: bool = _of_run("prune_inputs")
    layer_rates: tuple[float, ...] | None = _of_run("layer_rates")
    score_from: str = _of_run("score_from")
    repair: bool = _of_run("repair")

    def __post_init__(self) -> None:
        super().__post_init__()
        check_prune_inputs(self.prune_inputs, self.structured)


@dataclass(frozen=True, kw_only=True)
class CompressionSpec(SettingsGroup):
    """How the rate is reached: in one step or several (``schedule``), the rule of ``rate="auto"``, and the guard
    of a rate given (``rate_guard``, ``rate_guard_accuracy``)."""

    title: ClassVar[str] = "a compression setting"
    param: ClassVar[str] = "compression"

    schedule: str = _of_run("schedule")
    schedule_steps: int = _of_run("schedule_steps")
    auto_rates: tuple[float, ...] = _of_run("auto_rates")
    auto_se: float = _of_run("auto_se")
    auto_tolerance: float = _of_run("auto_tolerance")
    rate_guard: float = _of_run("rate_guard")
    rate_guard_accuracy: float = _of_run("rate_guard_accuracy")


@dataclass(frozen=True, kw_only=True)
class ResamplingSpec(SettingsGroup):
    """How the kept parameters are sampled again. ``None`` means: the sampler, its settings and the number of
    chains of the sample the mask was scored on; the sampler's own resampling length and start."""

    title: ClassVar[str] = "a resampling setting"
    param: ClassVar[str] = "resampling"

    sampler: str | None = option(None, "the resampling sampler (default: the full sample's)",
                                 choices=(None, *SAMPLERS), flag=None)
    sampler_settings: SamplerSettings | Mapping[str, Any] | None = option(
        None, "the sampler's settings (default: its defaults)", flag=None)
    chains: int | None = option(None, "chains (default: the full sample's)",
                                check=options.optional(options.integer(1)), flag=None)
    samples: int | None = _of_run("resample_samples")
    burnin: float = _of_run("resample_burnin")
    thin: int | None = _of_run("thin")
    start: str | None = _of_run("resample_start")
    start_from: str = _of_run("resample_from")
    until_converged: float | None = _of_run("until_converged")
    chain_weights: str = _of_run("chain_weights")

    @classmethod
    def from_run(cls, cfg: RunConfig, **overrides: Any) -> ResamplingSpec:
        """The run's resampling: the sampler, chains and thinning of the full sample (``None``), its settings,
        lengths and start."""
        return super().from_run(cfg, **{"sampler": None, "chains": None, "thin": None, **overrides})
