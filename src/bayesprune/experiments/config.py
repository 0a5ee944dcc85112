"""Experiment configurations as data: one TOML file per data set.

The paper's seven set-ups ship in ``experiments/configs/``; ``bayesprune reproduce --config FILE.toml`` adds
any other (for example a CSV of your own) without code. A file names the data (a registered data set, or a
CSV with its target and features), the network and the LG-MH settings::

    name = "core_2"                 # label in tables and run folders
    csv = "core_2.csv"              # relative to this file
    target = "Species"
    features = ["Bulk", "Porosity", "Resistivity"]
    task = "classification"
    hidden = [8]

    [lgmh]
    lr = 0.01
    step_w = 0.025
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from bayesprune.errors import InputError, OptionError

PAPER_ORDER = ("lazer", "sunspot", "abalone", "iris", "ionosphere", "abalone_classification", "reef_325")
TOP_KEYS = {"name", "dataset", "csv", "target", "features", "task", "hidden", "activation", "prior_var", "lgmh"}
LGMH_KEYS = {"lr", "step_w", "step_eta", "l_prob"}
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class ExperimentConfig:
    """One data set's set-up in the grid."""

    name: str
    dataset: str | None = None
    csv: str | None = None
    target: str | None = None
    features: tuple[str, ...] | None = None
    task: str | None = None
    hidden: tuple[int, ...] | None = None
    activation: str = "sigmoid"
    prior_var: float = 25.0
    lgmh: dict[str, float] = field(default_factory=dict)
    source: str = "builtin"

    def run_fields(self) -> dict[str, Any]:
        """Keyword arguments of :class:`bayesprune.experiments.runner.RunConfig` this config sets."""
        return {
            "dataset": self.dataset or self.name, "csv": self.csv, "target": self.target,
            "features": self.features, "task": self.task, "hidden": self.hidden,
            "activation": self.activation, "prior_var": self.prior_var, **self.lgmh,
        }


def _expect(path: str, key: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, kind):
        raise InputError(f"{path}: key '{key}' must be {what}, got {value!r}")
    return value


def parse_config(data: dict[str, Any], path: str, base_dir: Path | None = None) -> ExperimentConfig:
    """Validate the contents of one config file; every problem names the file and the key."""
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise InputError(f"{path}: unknown key '{unknown[0]}'; known keys are {', '.join(sorted(TOP_KEYS))}")
    name = _expect(path, "name", data.get("name", Path(path).stem), str, "a text label")
    if not NAME_RE.match(name):
        raise InputError(f"{path}: key 'name' = {name!r} may only use letters, digits, '_', '-' and '.'")
    dataset = data.get("dataset")
    csv = data.get("csv")
    if (dataset is None) == (csv is None):
        raise InputError(f"{path}: give exactly one of 'dataset' (a named data set) or 'csv' (a file)")
    if dataset is not None:
        _expect(path, "dataset", dataset, str, "a data set name (see 'bayesprune data list')")
    target = data.get("target")
    if csv is not None:
        _expect(path, "csv", csv, str, "a file path")
        csv_path = Path(csv)
        if not csv_path.is_absolute() and base_dir is not None:
            csv_path = base_dir / csv_path
        csv = str(csv_path)
        if target is None:
            raise InputError(f"{path}: 'csv' needs 'target' = the column to predict")
    if target is not None:
        _expect(path, "target", target, (str, int), "a column name or number")
        target = str(target)
    features = data.get("features")
    if features is not None:
        _expect(path, "features", features, list, "a list of column names")
        features = tuple(str(f) for f in features)
    task = data.get("task")
    if task is not None and task not in ("regression", "classification"):
        raise InputError(f"{path}: key 'task' must be \"regression\" or \"classification\", got {task!r}")
    hidden = data.get("hidden")
    if hidden is not None:
        _expect(path, "hidden", hidden, list, "a list of hidden-layer widths, e.g. [12]")
        if not hidden or not all(isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in hidden):
            raise InputError(f"{path}: key 'hidden' must list widths >= 1, e.g. [12], got {hidden!r}")
        hidden = tuple(hidden)
    activation = data.get("activation", "sigmoid")
    if activation not in ("sigmoid", "tanh", "relu"):
        raise InputError(f"{path}: key 'activation' must be sigmoid, tanh or relu, got {activation!r}")
    prior_var = _expect(path, "prior_var", data.get("prior_var", 25.0), (int, float), "a number > 0")
    if not prior_var > 0:
        raise InputError(f"{path}: key 'prior_var' must be > 0, got {prior_var}")
    lgmh = _expect(path, "lgmh", data.get("lgmh", {}), dict, "a table [lgmh]")
    bad = sorted(set(lgmh) - LGMH_KEYS)
    if bad:
        raise InputError(f"{path}: unknown key 'lgmh.{bad[0]}'; known: {', '.join(sorted(LGMH_KEYS))}")
    for k, v in lgmh.items():
        _expect(path, f"lgmh.{k}", v, (int, float), "a number")
    return ExperimentConfig(name=name, dataset=dataset, csv=csv, target=target, features=features, task=task,
                            hidden=hidden, activation=activation, prior_var=float(prior_var),
                            lgmh={k: float(v) for k, v in lgmh.items()}, source=str(path))


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
            raise OptionError(f"unknown data set '{missing[0]}' in --datasets; choose from {', '.join(known)} "
                              "or add a config file with --config FILE.toml")
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
