"""How a user-facing setting is declared and checked: the one mechanism behind every setting.

A setting is a field of a frozen dataclass (:class:`bayesprune.settings.RunConfig`, a sampler's settings in its
module of :mod:`bayesprune.samplers`) declared with :func:`option`: its default, its help text, its check and how
it is reached from outside (a command-line flag, a TOML key). Everything else is derived from these
declarations: the ``bayesprune run`` options (:mod:`bayesprune.cli`), the keys of an experiment config file
(:mod:`bayesprune.experiments.config`) and the validation, which raises :class:`~bayesprune.errors.OptionError`
phrased in the Python parameter's name (``"samples must be >= 2, got 1"``); the command line shows the same text
with the flag (``"--samples must be >= 2, got 1"``).

The checks here are the only range checks of the package: the API functions call the same ones.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

from bayesprune.errors import OptionError

Check = Callable[[str, Any], None]


@dataclass(frozen=True)
class Option:
    """What a setting is, besides its default (see :func:`option`)."""

    help: str
    check: Check | None = None
    choices: tuple[Any, ...] | None = None
    flag: str | None = ""  # "" -> --name-with-dashes; None -> not a command-line option
    group: str = ""  # heading of the option in --help
    toml: bool = False  # a key of an experiment config file


def option(default: Any = dataclasses.MISSING, help: str = "", *, check: Check | None = None,
           choices: Sequence[Any] | None = None, flag: str | None = "", group: str = "", toml: bool = False):
    """A dataclass field that is a user-facing setting (see the module docstring)."""
    meta = Option(help, check, tuple(choices) if choices is not None else None, flag, group, toml)
    if isinstance(default, (list, dict, set)):
        raise TypeError("option defaults must be immutable (use a tuple)")
    return dataclasses.field(default=default, metadata={"option": meta})


def declared(cls_or_obj) -> list[tuple[dataclasses.Field, Option]]:
    """The fields of a settings dataclass that are declared with :func:`option`, in order."""
    return [(f, f.metadata["option"]) for f in dataclasses.fields(cls_or_obj) if "option" in f.metadata]


def base_type(hint: Any) -> Any:
    """``X`` of a field type ``X | None`` (the type a given value has)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def flag_of(name: str, opt: Option | None = None) -> str:
    """The command-line flag of a setting: ``--name-with-dashes`` unless declared otherwise."""
    if opt is not None and opt.flag:
        return opt.flag
    return "--" + name.replace("_", "-")


def check_all(obj) -> None:
    """Check every declared setting of ``obj``; the first problem raises :class:`OptionError`."""
    for f, opt in declared(obj):
        value = getattr(obj, f.name)
        if opt.choices is not None:
            one_of(opt.choices)(f.name, value)
        if opt.check is not None:
            opt.check(f.name, value)


# --- checks: each takes the parameter's name and its value --------------------------------------------------


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise OptionError.about(name, f"must be a number, got {value!r}")
    v = float(value)
    if math.isnan(v):
        raise OptionError.about(name, "must be a number, got nan")
    return v


def integer(minimum: int) -> Check:
    """An integer >= ``minimum``."""

    def check(name: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise OptionError.about(name, f"must be an integer >= {minimum}, got {value!r}")
        if value < minimum:
            raise OptionError.about(name, f"must be >= {minimum}, got {value}")

    return check


def positive(name: str, value: Any) -> None:
    """A finite number > 0."""
    v = _number(name, value)
    if not (math.isfinite(v) and v > 0):
        raise OptionError.about(name, f"must be a finite number > 0, got {value}")


def non_negative(name: str, value: Any) -> None:
    """A finite number >= 0."""
    v = _number(name, value)
    if not (math.isfinite(v) and v >= 0):
        raise OptionError.about(name, f"must be a finite number >= 0, got {value}")


def probability(name: str, value: Any) -> None:
    """A number in [0, 1]."""
    v = _number(name, value)
    if not 0.0 <= v <= 1.0:
        raise OptionError.about(name, f"must be in [0, 1], got {value}")


def open_probability(name: str, value: Any) -> None:
    """A number in (0, 1)."""
    v = _number(name, value)
    if not 0.0 < v < 1.0:
        raise OptionError.about(name, f"must be in (0, 1), got {value}")


def share_below_one(name: str, value: Any) -> None:
    """A share in [0, 1)."""
    v = _number(name, value)
    if not 0.0 <= v < 1.0:
        raise OptionError.about(name, f"must be in [0, 1), got {value}")


def share_discarded(name: str, value: Any) -> None:
    """A burn-in share in [0, 1)."""
    v = _number(name, value)
    if not 0.0 <= v < 1.0:
        raise OptionError.about(name, f"{value} must be in [0, 1): the share of samples discarded")


def pruning_rate(name: str, value: Any) -> None:
    """A pruning rate in [0, 1)."""
    v = _number(name, value)
    if not 0.0 <= v < 1.0:
        raise OptionError.about(name, f"{value} is outside [0, 1); e.g. 0.75 removes 75% of the parameters")


def rate_or_auto(name: str, value: Any) -> None:
    """A pruning rate in [0, 1), or ``"auto"`` (chosen from the training data)."""
    if isinstance(value, str):
        if value != "auto":
            raise OptionError.about(name, f"'{value}' is neither a rate in [0, 1) nor 'auto'")
        return
    pruning_rate(name, value)


def one_of(choices: Sequence[Any]) -> Check:
    """One of ``choices``."""

    def check(name: str, value: Any) -> None:
        if value not in choices:
            raise OptionError.about(name, f"'{value}' is unknown; choose one of {', '.join(map(str, choices))}")

    return check


def optional(inner: Check) -> Check:
    """``None`` or what ``inner`` accepts."""

    def check(name: str, value: Any) -> None:
        if value is not None:
            inner(name, value)

    return check


def each(inner: Check, *, nonempty: bool = True) -> Check:
    """A tuple whose every element ``inner`` accepts (at least one when ``nonempty``)."""

    def check(name: str, value: Any) -> None:
        if not isinstance(value, (tuple, list)):
            raise OptionError.about(name, f"must be a list, got {value!r}")
        if nonempty and not value:
            raise OptionError.about(name, "needs at least one value")
        for v in value:
            inner(name, v)

    return check
