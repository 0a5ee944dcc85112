"""Experiment configurations as data: one TOML file per data set.

The paper's seven set-ups ship in ``experiments/configs/``; ``bayesprune reproduce --config FILE.toml`` adds
any other (for example a CSV of your own) without code. A file names the data (a registered data set, or a
CSV with its target and features), the network and, in one table per sampler (``[lgmh]``, ``[mala]``,
``[hmc]``, ``[nuts]``), that sampler's settings::

    name = "core_2"                 # label in tables and run folders
    csv = "core_2.csv"              # relative to this file
    target = "Species"
    features = ["Bulk", "Porosity", "Resistivity"]
    task = "classification"
    hidden = [8]

    [lgmh]
    lr = 0.01
    step_w = 0.025

    [hmc]
    num_integration_steps = 32

The keys are derived from the declarations of :class:`~bayesprune.settings.RunConfig` (the settings marked
``toml=True``) and of the sampler settings classes, so a new setting reaches config files without code here.
"""

from __future__ import annotations

import re
import tomllib
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from bayesprune import options, settings
from bayesprune.data.registry import PAPER_DATASETS
from bayesprune.errors import InputError, OptionError
from bayesprune.samplers.base import SamplerSettings
from bayesprune.samplers.registry import SETTINGS, settings_for
from bayesprune.settings import RunConfig

PAPER_ORDER = tuple(PAPER_DATASETS)
# the keys of a config file: its name, the run settings declared toml=True, one table per sampler
RUN_KEYS = tuple(f.name for f, opt in options.declared(RunConfig) if opt.toml)
SAMPLER_TABLES = tuple(SETTINGS)
TOP_KEYS = ("name", *RUN_KEYS, *SAMPLER_TABLES)
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class ExperimentConfig:
    """One data set's set-up in the grid: run settings (``settings``) and sampler tables (``samplers``)."""

    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    samplers: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "builtin"

    def run_fields(self) -> dict[str, Any]:
        """Keyword arguments of :class:`~bayesprune.settings.RunConfig` this config sets."""
        return {"dataset": self.name, **self.settings}

    def sampler_settings(self, sampler: str) -> SamplerSettings:
        """The settings of ``sampler``: its table in the file over the sampler's defaults."""
        return settings_for(sampler, self.samplers.get(sampler))


def _coerce(path: str, key: str, value: Any, hint: Any) -> Any:
    """A TOML value as the declared type of its setting; the error names the file and the key."""
    base = options.base_type(hint)
    if typing.get_origin(base) is tuple:
        item = typing.get_args(base)[0]
        if not isinstance(value, list) or not all(isinstance(v, item) and not isinstance(v, bool) for v in value):
            what = "integers, e.g. [12]" if item is int else "texts"
            raise InputError(f"{path}: key '{key}' must be a list of {what}, got {value!r}")
        return tuple(value)
    if base is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"{path}: key '{key}' must be a number, got {value!r}")
        return float(value)
    if base is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"{path}: key '{key}' must be an integer, got {value!r}")
        return value
    if base is bool:
        if not isinstance(value, bool):
            raise InputError(f"{path}: key '{key}' must be true or false, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError(f"{path}: key '{key}' must be a text, got {value!r}")
    return str(value)


def _checked(path: str, key: str, run_check) -> None:
    try:
        run_check()
    except OptionError as exc:
        detail = exc.detail or str(exc)
        raise InputError(f"{path}: key '{key}' {detail}") from None


def parse_config(data: dict[str, Any], path: str, base_dir: Path | None = None) -> ExperimentConfig:
    """Validate the contents of one config file; every problem names the file and the key."""
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise InputError(f"{path}: unknown key '{unknown[0]}'; known keys are {', '.join(sorted(TOP_KEYS))}")
    name = data.get("name", Path(path).stem)
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InputError(f"{path}: key 'name' = {name!r} may only use letters, digits, '_', '-' and '.'")
    if ("dataset" in data) == ("csv" in data):
        raise InputError(f"{path}: give exactly one of 'dataset' (a named data set) or 'csv' (a file)")
    if "csv" in data and "target" not in data:
        raise InputError(f"{path}: 'csv' needs 'target' = the column to predict")
    hints = typing.get_type_hints(RunConfig)
    values: dict[str, Any] = {}
    for key in RUN_KEYS:
        if key in data:
            value = _coerce(path, key, data[key], hints[key])
            _checked(path, key, lambda key=key, value=value: settings.check(key, value))
            values[key] = value
    if "csv" in values and not Path(values["csv"]).is_absolute() and base_dir is not None:
        values["csv"] = str(base_dir / values["csv"])
    tables: dict[str, dict[str, Any]] = {}
    for sampler in SAMPLER_TABLES:
        if sampler not in data:
            continue
        table = data[sampler]
        if not isinstance(table, dict):
            raise InputError(f"{path}: key '{sampler}' must be a table [{sampler}]")
        cls = SETTINGS[sampler]
        known = {f.name: hint for f, hint in ((f, typing.get_type_hints(cls)[f.name])
                                              for f, _ in options.declared(cls))}
        bad = sorted(set(table) - set(known))
        if bad:
            raise InputError(f"{path}: unknown key '{sampler}.{bad[0]}'; known: {', '.join(sorted(known))}")
        coerced = {k: _coerce(path, f"{sampler}.{k}", v, known[k]) for k, v in table.items()}
        for k, v in coerced.items():
            _checked(path, f"{sampler}.{k}", lambda k=k, v=v, sampler=sampler: settings_for(sampler, {k: v}))
        tables[sampler] = coerced
    return ExperimentConfig(name=name, settings=values, samplers=tables, source=str(path))


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate one TOML config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: config file not found") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file; save the config as UTF-8 TOML") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, str(path), base_dir=path.parent)


def builtin_configs() -> dict[str, ExperimentConfig]:
    """The paper's seven set-ups, in the paper's order."""
    folder = resources.files("bayesprune.experiments") / "configs"
    out = {}
    for name in PAPER_ORDER:
        res = folder / f"{name}.toml"
        out[name] = parse_config(tomllib.loads(res.read_text(encoding="utf-8")), f"{name}.toml")
    return out


def select_configs(names: list[str] | None, extra_files: list[str] | None = None) -> list[ExperimentConfig]:
    """The configs of a grid: the named built-in ones (all seven by default) plus any config files."""
    builtin = builtin_configs()
    extra = [load_config(f) for f in extra_files or []]
    if names is None:
        chosen = list(builtin.values()) if not extra else []
    else:
        known = {**builtin, **{c.name: c for c in extra}}
        missing = [n for n in names if n not in known]
        if missing:
            raise OptionError.about("datasets", f"'{missing[0]}' is unknown; choose from {', '.join(known)} or "
                                                "add a config file (--config FILE.toml)")
        chosen = [known[n] for n in names]
    for c in extra:
        if c not in chosen and (names is None or c.name in names):
            chosen.append(c)
    seen: set[str] = set()
    for c in chosen:
        if c.name in seen:
            raise OptionError(f"two configs are both named '{c.name}'; give each data set its own 'name'")
        seen.add(c.name)
    return chosen
