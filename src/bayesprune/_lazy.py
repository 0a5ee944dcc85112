"""A package's public names imported when first used (PEP 562), from a table of name -> defining module: the
``__getattr__`` and ``__dir__`` its ``__init__`` assigns. Importing the package then costs none of its modules'
imports (JAX, ArviZ, ...) until a name is used (``benchmarks/startup.py``). scikit-image's ``lazy_loader`` does the
same; these few lines save a dependency."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_names(package: str, exports: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for the package named ``package`` (call it from its ``__init__``): a name of
    ``exports`` is imported from its module when first asked for and kept in the package's namespace."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module '{package}' has no attribute '{name}'")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # later uses skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    return __getattr__, __dir__
