"""Every sampler, by name: the sampler modules' definitions in one table.

Adding a sampler is one new module that exports ``SAMPLERS`` (its settings class and :class:`SamplerDef`, see
:mod:`bayesprune.samplers.base`) and one line in ``_MODULES``; its ``--sampler`` choice, its options, its config
table, its help and its advice follow from the declarations.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from bayesprune import options
from bayesprune.errors import OptionError
from bayesprune.samplers import hmc, langevin_mh, mala, mclmc, stochastic
from bayesprune.samplers.base import SamplerDef, SamplerSettings

DEFAULT_SAMPLER = "mclmc"  # chosen by benchmarks/default_sampler.py (docs/BENCHMARKS.md)

_MODULES = (langevin_mh, mala, hmc, mclmc, stochastic)  # in the order of help texts and docs

_SAMPLERS: dict[str, SamplerDef] = {d.name: d for module in _MODULES for d in module.SAMPLERS}
SAMPLERS: tuple[str, ...] = tuple(_SAMPLERS)
SETTINGS: dict[str, type[SamplerSettings]] = {name: _SAMPLERS[name].settings for name in SAMPLERS}
assert all(cls.sampler == name for name, cls in SETTINGS.items())


def get_sampler(name: str) -> SamplerDef:
    """A sampler's definition by name (one of :data:`SAMPLERS`)."""
    options.one_of(SAMPLERS)("sampler", name)
    return _SAMPLERS[name]


def settings_class(sampler: str) -> type[SamplerSettings]:
    """The settings class of a sampler."""
    return get_sampler(sampler).settings


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


def per_sampler(attribute: str) -> str:
    """``lgmh 40,000, mala 40,000, ...``: a per-sampler default for help texts, from the settings classes."""
    return ", ".join(f"{name} {getattr(settings_class(name), attribute):,}" for name in SAMPLERS)


def samplers_where(predicate) -> list[str]:
    """The samplers whose definition satisfies ``predicate`` (for help texts: 'optimised for mclmc, ...')."""
    return [name for name in SAMPLERS if predicate(_SAMPLERS[name])]
