"""The layers depend one way (docs/ARCHITECTURE.md), no public name hides a submodule, and importing bayesprune
changes no global state."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import bayesprune

PACKAGE = Path(bayesprune.__file__).parent

# Each unit of the package and the units it must never import (at module level or inside a function).
FORBIDDEN = {
    "errors": "*",
    "indices": "*",
    "devices": {"options", "settings", "samplers", "model", "posterior", "pruning", "data", "evaluation", "io",
                "api", "experiments", "report", "cli", "estimators", "predictive", "stages"},
    "options": {"settings", "samplers", "model", "posterior", "pruning", "data", "evaluation", "io", "api",
                "experiments", "report", "cli", "estimators", "predictive"},
    "data": {"model", "posterior", "samplers", "pruning", "settings", "evaluation", "io", "api", "experiments",
             "report", "cli", "estimators", "predictive"},
    "model": {"data", "posterior", "samplers", "pruning", "settings", "evaluation", "io", "api", "experiments",
              "report", "cli", "estimators", "predictive"},
    "posterior": {"data", "samplers", "pruning", "settings", "evaluation", "io", "api", "experiments", "report",
                  "cli", "estimators", "predictive"},
    "samplers": {"data", "pruning", "settings", "evaluation", "io", "api", "experiments", "report", "cli",
                 "estimators", "predictive"},
    "pruning": {"data", "samplers", "settings", "evaluation", "io", "api", "experiments", "report", "cli",
                "estimators", "predictive"},
    "settings": {"data", "evaluation", "io", "api", "experiments", "report", "cli", "estimators", "predictive"},
    "predictive": {"data", "samplers", "pruning", "settings", "evaluation", "io", "api", "experiments", "report",
                   "cli", "estimators"},
    "evaluation": {"data", "samplers", "io", "api", "experiments", "report", "cli", "estimators"},
    "io": {"api", "experiments", "report", "cli", "estimators"},
    # the settings groups the stages take, derived from the run settings
    "stage_settings": {"data", "evaluation", "io", "api", "stages", "experiments", "report", "cli", "estimators",
                       "predictive"},
    # the stages of a run (stages/) sit on the building blocks; api.py is their facade
    "stages": {"io", "api", "experiments", "report", "cli", "estimators"},
    "api": {"io", "experiments", "report", "cli", "estimators"},
    "estimators": {"io", "experiments", "report", "cli"},
    "experiments": {"report", "cli", "estimators"},
    # the report renders what the runner stored: files (io/) and records (evaluation/), nothing sampled
    "report": {"api", "stages", "experiments", "samplers", "predictive", "posterior", "pruning", "cli",
               "estimators"},
}


# the stages of a run use every building block below them, so none of those may import a stage
for _lower in ("devices", "options", "data", "model", "posterior", "samplers", "pruning", "settings", "predictive",
               "evaluation", "io"):
    FORBIDDEN[_lower] = FORBIDDEN[_lower] | {"stages", "stage_settings"}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(path: Path, module: str) -> set[str]:
    """The bayesprune units a source file imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = module.rsplit(".", node.level)[0]
                names = [f"{base}.{node.module}" if node.module else base]
            else:
                names = [node.module or ""]
                if node.module == "bayesprune":
                    names = [f"bayesprune.{a.name}" for a in node.names]
        else:
            continue
        found |= {_unit(n) for n in names if n.startswith("bayesprune.")}
    return found - {""}


def _modules():
    for info in pkgutil.walk_packages(bayesprune.__path__, "bayesprune."):
        spec = importlib.util.find_spec(info.name)
        yield info.name, Path(spec.origin)


@pytest.mark.parametrize(("module", "path"), list(_modules()), ids=lambda v: str(v).rsplit("/", 1)[-1])
def test_layers_depend_one_way(module, path):
    unit = _unit(module)
    if unit not in FORBIDDEN:
        return
    imported = _imports(path, module) - {unit}
    forbidden = FORBIDDEN[unit]
    bad = imported if forbidden == "*" else imported & forbidden
    assert not bad, f"{module} imports {sorted(bad)}"


def test_no_public_name_hides_a_submodule():
    submodules = {info.name.rsplit(".", 1)[-1] for info in pkgutil.iter_modules(bayesprune.__path__)}
    for name in bayesprune.__all__:
        assert name not in submodules, name
    for name in ("evaluation.metrics", "predictive", "evaluation.records"):
        assert importlib.import_module(f"bayesprune.{name}").__name__ == f"bayesprune.{name}"


def test_importing_bayesprune_leaves_matplotlib_and_jax_settings_alone():
    code = (
        "import matplotlib, jax\n"
        "before = (matplotlib.rcParams._get_backend_or_none(), jax.config.jax_compilation_cache_dir)\n"
        "import bayesprune, bayesprune.cli, bayesprune.report.figures, bayesprune.report.grid\n"
        "after = (matplotlib.rcParams._get_backend_or_none(), jax.config.jax_compilation_cache_dir)\n"
        "assert before == after, (before, after)\n"
    )
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("MPLBACKEND", "JAX_COMPILATION_CACHE_DIR")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr


LAZY_PACKAGES = ("bayesprune", "bayesprune.io", "bayesprune.evaluation")  # names loaded when first used


def _type_checking_imports(package) -> dict[str, str]:
    """Name -> module of the imports under ``if TYPE_CHECKING:`` in a package's ``__init__``."""
    tree = ast.parse(Path(package.__file__).read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If) and getattr(node.test, "id", None)
                 == "TYPE_CHECKING")
    return {alias.name: node.module for node in block.body if isinstance(node, ast.ImportFrom)
            for alias in node.names}


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_public_names_are_their_modules_objects(name):
    """Each public name is loaded when first used: it is the object its module defines, ``dir()`` lists it, the
    imports type checkers read name the same modules, and an unknown name is an AttributeError."""
    package = importlib.import_module(name)
    exports = package._EXPORTS
    assert set(package.__all__) - {"__version__"} == set(exports)
    assert _type_checking_imports(package) == exports
    for attr, module in exports.items():
        assert getattr(package, attr) is getattr(importlib.import_module(module), attr), attr
        assert attr in dir(package)
    with pytest.raises(AttributeError, match=f"module '{name}' has no attribute 'nope'"):
        package.nope  # noqa: B018


def test_import_and_help_leave_the_heavy_libraries_unloaded():
    """``import bayesprune`` and ``bayesprune --help`` (and a light command's help) import no numerical library:
    the commands that sample import JAX when they run (startup times: benchmarks/startup.py); reading a compact
    model imports none of ArviZ, scikit-learn, BlackJAX, optax (the run's settings) or SciPy."""
    code = (
        "import sys\n"
        "import bayesprune\n"
        "from bayesprune.cli import main\n"
        "for argv in (['--help'], ['predict', '--help'], ['--version']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, (argv, exc.code)\n"
        "heavy = sorted(m for m in ('jax', 'blackjax', 'arviz', 'sklearn', 'pandas', 'scipy', 'matplotlib')\n"
        "               if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "usage: bayesprune" in proc.stdout and "bayesprune predict" in proc.stdout
    code = ("import sys\n"
            "from bayesprune.io.compact import load_model\n"
            "from bayesprune.io.predictions import read_rows\n"
            "from bayesprune.predictive import Predictive\n"
            "loaded = {'arviz', 'sklearn', 'blackjax', 'optax', 'scipy'} & set(sys.modules)\n"
            "assert not loaded, sorted(loaded)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
