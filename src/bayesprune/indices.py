"""Evenly spaced indices: the draws, test points or parameters that a summary keeps when it cannot keep all."""

from __future__ import annotations

import numpy as np


def evenly_spaced(n: int, k: int) -> np.ndarray:
    """At most ``k`` indices of ``range(n)``, evenly spaced from the first to the last (all of them when
    ``k >= n``), sorted and distinct."""
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(int))
