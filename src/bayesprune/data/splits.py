"""Seeded train/test splits and scalers fitted on the training part only.

scikit-learn is imported by the functions that use it, not with the module: reading a compact model's rows
(``bayesprune predict``) and listing the data sets load this package but split nothing, and scikit-learn's import
is about 0.9 s of theirs (``benchmarks/startup.py``)."""

from __future__ import annotations

import numpy as np

from bayesprune.errors import InputError
from bayesprune.options import open_probability


def split_indices(
    n_rows: int,
    *,
    test_fraction: float = 0.4,
    seed: int = 0,
    stratify: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle and split row indices, as the paper does (shuffle, 60/40).

    Parameters
    ----------
    n_rows
        Number of rows.
    test_fraction
        Share of rows in the test part (paper: 0.4).
    seed
        Integer seed; the same seed always gives the same split.
    stratify
        Labels to stratify on (classification), or ``None`` for a plain shuffle.
    """
    from sklearn.model_selection import train_test_split

    open_probability("test_fraction", test_fraction)
    idx = np.arange(n_rows)
    if n_rows < 2:
        raise InputError(f"only {n_rows} data row(s); need at least 2 to split into train and test")
    try:
        train, test = train_test_split(
            idx, test_size=test_fraction, random_state=np.random.RandomState(seed), stratify=stratify
        )
    except ValueError as exc:
        raise InputError(f"cannot stratify the split: {exc}; split without stratifying or merge rare classes") from None
    return np.sort(train), np.sort(test)


def make_scaler(kind: str):
    """A fresh scikit-learn scaler for ``"minmax"`` or ``"zscore"``, or ``None`` for ``"none"``."""
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    if kind == "minmax":
        return MinMaxScaler()
    if kind == "zscore":
        return StandardScaler()
    if kind == "none":
        return None
    raise InputError(f"unknown scaling '{kind}'; use minmax, zscore or none")
