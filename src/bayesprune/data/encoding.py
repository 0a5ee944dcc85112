"""Text feature columns of a table, encoded one-hot: one 0/1 input per category.

A feature column whose every cell is text (``red``, ``M``, ``yes``) is categorical: it becomes one input per
distinct value, named ``column=value``, in sorted order. A column mixing numbers and text is not guessed at: it
stays numeric, and its first text cell is the error (:func:`bayesprune.data.table.numeric_column`), as is a
column whose every value holds a digit (``12%``, ``$3.50``: numbers written with units, not categories) and a
text column with more than :data:`MAX_CATEGORIES` values (an identifier, which one-hot inputs cannot use). A
column of dates written year first (``2012-07-02``) is numeric: each its decimal year
(:func:`bayesprune.data.table.decimal_year`). The categories are recorded with the data set and in the compact
model file, so that ``bayesprune predict`` encodes new rows the same way and refuses a value the model never saw.
Written here because scikit-learn's ``OneHotEncoder`` reports no file, row or column for a bad cell, which every
input error here names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesprune.data.table import decimal_year, file_rows, is_number, numeric_column
from bayesprune.errors import InputError

MAX_CATEGORIES = 50  # distinct text values a feature column may have to be encoded one-hot


def _where(frame: pd.DataFrame, column: str, i: int) -> str:
    path = frame.attrs.get("path", "<data>")
    return f"{path}: row {file_rows(frame)[i]}, column {list(frame.columns).index(column) + 1} ('{column}')"


def _leave_out(features: list[str], column: str) -> str:
    """How to leave ``column`` out: the ``--features`` option written out, ready to paste."""
    others = [f for f in features if f != column]
    return (f"leave it out (--features {','.join(others)})" if others
            else "it is the only feature column, so the file needs others")


def text_categories(frame: pd.DataFrame, features: list[str]) -> dict[str, list[str]]:
    """The categorical columns among ``features`` (every cell text), each with its sorted distinct values; the
    frame has no missing cell in them (:func:`bayesprune.data.table.check_no_missing` ran first)."""
    found: dict[str, list[str]] = {}
    for column in features:
        cells = [str(c) for c in frame[column].tolist()]
        if not cells or any(is_number(c) for c in cells):
            continue  # numeric, or mixed: numeric_column names the first text cell
        if all(decimal_year(c) is not None for c in cells):
            continue  # dates: numeric_column reads each as its decimal year
        values = sorted(set(cells))
        if all(any(ch.isdigit() for ch in c) for c in cells):  # numbers written with units (12%, $3.50) ...
            if len(values) > MAX_CATEGORIES:  # ... or identifiers (a ticket, a name with a number): say which
                raise InputError(f"{_where(frame, column, 0)}: '{cells[0]}' is not a number, and the column's "
                                 f"{len(values)} distinct values are too many to encode one input each (at most "
                                 f"{MAX_CATEGORIES}): write its numbers without units, or, if it names or "
                                 f"identifies rows, {_leave_out(features, column)}")
            continue  # numeric_column names the first cell that is not a number
        if len(values) > MAX_CATEGORIES:
            raise InputError(f"{frame.attrs.get('path', '<data>')}: column '{column}' has {len(values)} distinct "
                             f"text values, too many to encode one input each (at most {MAX_CATEGORIES}); "
                             f"{_leave_out(features, column)}")
        found[column] = values
    return found


def encoded_names(features: list[str], categories: dict[str, list[str]]) -> list[str]:
    """The network's input names: a numeric column's own, ``column=value`` for each category of a text one."""
    return [name for f in features for name in ([f"{f}={v}" for v in categories[f]] if f in categories else [f])]


def encode(frame: pd.DataFrame, features: list[str], categories: dict[str, list[str]]) -> np.ndarray:
    """The rows of ``frame`` as network inputs (float64): numeric columns as numbers, the columns in
    ``categories`` one-hot; a category the list does not hold is an error naming its cell."""
    blocks = []
    for f in features:
        if f not in categories:
            blocks.append(numeric_column(frame, f)[:, None])
            continue
        known = {v: k for k, v in enumerate(categories[f])}
        cells = [str(c) for c in frame[f].tolist()]
        block = np.zeros((len(cells), len(known)))
        for i, c in enumerate(cells):
            if c not in known:
                raise InputError(f"{_where(frame, f, i)}: '{c}' is not a category the model knows "
                                 f"({', '.join(categories[f])}); use one of them")
            block[i, known[c]] = 1.0
        blocks.append(block)
    return np.concatenate(blocks, axis=1) if blocks else np.zeros((len(frame), 0))
