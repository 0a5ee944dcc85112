"""Text feature columns of a table, encoded one-hot: one 0/1 input per category.

A feature column whose every cell is text (``red``, ``M``, ``yes``) is categorical: it becomes one input per
distinct value, named ``column=value``, in sorted order; so is a column that reads as a code (:func:`_coded`: at
most :data:`MAX_CODES` distinct values, repeated) mixing numbers and text (``f``, ``r``, ``4``) or of values holding
digits (``KK-06``, ``KK-08``). Any other column mixing numbers and text is not guessed at: it stays numeric, and its
first text cell is the error (:func:`bayesprune.data.table.numeric_column`), as is any other column whose every
value holds a digit (``12%``, ``$3.50``: numbers written with units, not categories) and a
text column with more than :data:`MAX_CATEGORIES` values (one-hot inputs cannot use so many; such a column, a
text column with a different value in every row and a column of one value are left out before unless the features
are named: :func:`left_out_columns`). A
column of dates written year first (``2012-07-02``) or with the month named (``Jan 1 2000``) is numeric: each its
decimal year (:func:`bayesprune.data.table.decimal_year`). The categories are recorded with the data set and in
the compact model file, so that ``bayesprune predict`` encodes new rows the same way and refuses a value the model
never saw.

Missing cells (:data:`bayesprune.data.table.MISSING`) in a feature column, with ``missing="fill"`` in
:func:`bayesprune.data.load_csv` (``--missing fill``; the default stops at the first): in a text column a missing
cell is one more category, :data:`MISSING_CATEGORY`; in a numeric column it takes the column's median over the
training rows, and one more 0/1 input, ``column=(missing)``, says which rows were filled, so the network can learn
what a missing value means instead of taking the median at its word (the missing-indicator method; scikit-learn's
``SimpleImputer(add_indicator=True)`` does the same to an array, but names no cell and keeps nothing for a CSV's new
rows).

Every input comes from the training rows (:func:`training_encoding`): an input that is 0 on every training row would
have its weights drawn from the prior alone (the likelihood does not see them) and add noise of the prior's sd (5
under N(0, 25)) to every hidden unit of a row where it is 1. So a text column's categories are those its training
rows hold, the flag and the ``(missing)`` category exist only where a training row has a missing cell, and what only
test rows hold is encoded without an input of its own: a numeric missing cell as the median, unflagged; a text cell
(a missing one, or a category no training row has) as no category, every input of the column 0. The categories and
fill values are kept in the compact model file, and ``bayesprune predict`` encodes and fills new rows the same way
where the model has an input for what they hold, and refuses a category or a missing cell it has none for.

Written here because scikit-learn's ``OneHotEncoder`` reports no file, row or column for a bad cell, which every
input error here names.
"""

from __future__ import annotations

from functools import cached_property
from typing import NamedTuple

import numpy as np
import pandas as pd

from bayesprune.data.table import decimal_year, file_rows, is_number, missing_in, numeric_column
from bayesprune.errors import InputError

MAX_CATEGORIES = 50  # distinct text values a feature column may have to be encoded one-hot
# distinct values of a code (_coded): a column mixing numbers and text, or of values holding digits, read as
# categories (each value, the numbers too); as many as an integer target may have to be read as classes
# (bayesprune.data.datasets.MAX_CLASSES_FOR_INFERENCE)
MAX_CODES = 20
MISSING_CATEGORY = "(missing)"  # the category of a text column's missing cells; the name of a numeric one's flag


def _where(frame: pd.DataFrame, column: str, i: int) -> str:
    path = frame.attrs.get("path", "<data>")
    return f"{path}: row {file_rows(frame)[i]}, column {list(frame.columns).index(column) + 1} ('{column}')"


def _leave_out(features: list[str], column: str) -> str:
    """How to leave ``column`` out: the ``--features`` option written out, ready to paste."""
    others = [f for f in features if f != column]
    return (f"leave it out (--features {','.join(others)})" if others
            else "it is the only feature column, so the file needs others")


class _Reading:
    """How one feature column's cells read, each fact worked out once and only when a rule asks for it: the cells
    that are not missing (as text), whether none is, how many are numbers, whether every one holds a digit, is a
    date, or the column reads as a code. The rules of :func:`left_out_columns` and :func:`text_categories` are
    written on these facts."""

    def __init__(self, raw: list):
        self.cells = present_cells(raw)
        self.complete = len(self.cells) == len(raw)

    @cached_property
    def numbers(self) -> int:
        """How many cells read as numbers."""
        return sum(is_number(c) for c in self.cells)

    def names(self) -> bool:
        """Whether the cells are names: text, or text with a few numbers among them (at most a tenth: MASS's car
        models ``Integra``, ``Legend``, ..., ``100``, ``90``), as the numbers among them name things too. Stops
        at the first tenth of numbers in a column of numbers, unless their count is known."""
        limit = 0.1 * len(self.cells)
        if "numbers" not in self.__dict__:
            numbers = 0
            for c in self.cells:
                numbers += is_number(c)
                if numbers > limit:
                    return False
            self.numbers = numbers  # the whole count: no cell was left unread
        return self.numbers <= limit and self.numbers < len(self.cells)

    @cached_property
    def all_digits(self) -> bool:
        """Whether every value holds a digit: numbers with units (``12%``), codes (``KK-06``), dates."""
        return all(any(ch.isdigit() for ch in c) for c in self.cells)

    @cached_property
    def dates(self) -> bool:
        """Whether every value is a date :func:`~bayesprune.data.table.decimal_year` reads (a number then)."""
        return all(decimal_year(c) is not None for c in self.cells)

    @cached_property
    def coded(self) -> bool:
        """:func:`_coded` on the cells."""
        return _coded(self.cells)


class LeftOut(NamedTuple):
    """The feature columns the loader leaves out when the features are not named, by kind
    (:func:`left_out_columns`)."""

    identifiers: list[str]
    crowded: dict[str, int]  # column -> its number of distinct values
    constant: list[str]

    def columns(self) -> set[str]:
        return {*self.identifiers, *self.crowded, *self.constant}


NOTHING_LEFT_OUT = LeftOut([], {}, [])


def left_out_columns(frame: pd.DataFrame, features: list[str]) -> LeftOut:
    """The columns among ``features`` that a network cannot use, which the loader leaves out (and says so) when
    the features are not named, from one reading of each column.

    ``constant``: the columns whose every cell holds the same value, none missing (a flag that never fires in
    these rows, a study's one site). Standardised on the training rows its input is 0 on every one of them (a
    single category's one-hot input is the bias's twin), so the likelihood does not see its weights: they are
    drawn from the prior alone, add noise of the prior's sd to every hidden unit of a new row that differs, and
    count as parameters that pruning removes for nothing.

    ``identifiers``: the columns of names (a few numbers among them allowed, :meth:`_Reading.names`) that hold a
    different value in every row and no missing cell: a name or an identifier (a state, a council, a passenger, a
    car model). One-hot, each of its inputs is 1 on one row alone, so a training row's input lets the network fit
    that row and nothing else, and every test row's value is one no training row has (encoded as none): the column
    carries nothing a network can use on new rows.

    ``crowded``: the other columns of names with more than :data:`MAX_CATEGORIES` distinct values (each with its
    count), some of them shared by a few rows: a district, a town, a product name. One-hot they would give the
    network more inputs than it can learn from, most of them 1 on a row or two; :func:`text_categories` refuses
    them when the features are named.

    Neither is a column whose every value holds a digit (numbers with units, dates read as numbers or in a form
    not read, a ticket code: its error names the cell and how to leave it out). Written here because no library
    we use says which columns of a table identify its rows (scikit-learn's ``VarianceThreshold`` finds the
    constant columns of a numeric array, after encoding, not a table's text columns before it)."""
    found = LeftOut([], {}, [])
    for column in features:
        reading = _Reading(frame[column].tolist())
        distinct = len(set(reading.cells))
        if reading.complete and len(reading.cells) >= 2 and distinct == 1:
            found.constant.append(column)
            continue
        if not reading.cells or not reading.names() or reading.all_digits:  # a date holds digits too
            continue
        if reading.complete and len(reading.cells) >= 3 and distinct == len(reading.cells):
            found.identifiers.append(column)
        elif distinct > MAX_CATEGORIES:
            found.crowded[column] = distinct
    return found


def text_categories(frame: pd.DataFrame, features: list[str]) -> dict[str, list[str]]:
    """The categorical columns among ``features`` (every cell that is not missing is text), each with its sorted
    distinct values over every row (:func:`training_encoding` keeps the training rows' and adds
    :data:`MISSING_CATEGORY` where the caller fills missing cells)."""
    found: dict[str, list[str]] = {}
    for column in features:
        reading = _Reading(frame[column].tolist())
        cells, numbers = reading.cells, reading.numbers
        if not cells or numbers == len(cells) or (numbers and not (
                reading.coded and len(cells) - numbers >= 0.1 * len(cells))):
            continue  # numeric, or mixed: numeric_column names the first text cell
        if reading.dates:
            continue  # dates: numeric_column reads each as its decimal year
        values = sorted(set(cells))
        if reading.all_digits and not reading.coded:  # numbers with units ...
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


def present_cells(cells: list) -> list[str]:
    """The cells of one column that are not missing (:func:`~bayesprune.data.table.missing_in`), as text."""
    return [str(c) for c, gap in zip(cells, missing_in(cells), strict=True) if not gap]


def _coded(cells: list[str]) -> bool:
    """Whether a column's cells read as a code: at most :data:`MAX_CODES` distinct values, each in two rows or
    more on average (ggplot2's drive train ``f``, ``r``, ``4``; a grade span ``KK-06``, ``KK-08``). A column
    mixing numbers and text is read as categories where it is a code and at least a tenth of its cells are text,
    and one whose every value holds a digit where it is a code; otherwise each stays an error naming a cell: a
    measured column with a stray word (``12.5``, ``13.1``, ``unknown`` once), a count with a typo (``six`` in one
    row of 20), or numbers with units (``$3.50``), have more values or fewer words or repeats. (MASS's cylinders,
    ``4``, ``6``, ``8`` and ``rotary`` in one row of 93, reads as a typo too: its error names the cell.)"""
    return len(set(cells)) <= min(MAX_CODES, len(cells) / 2)


def training_encoding(frame: pd.DataFrame, features: list[str], categories: dict[str, list[str]],
                      train: np.ndarray) -> tuple[dict[str, list[str]], dict[str, float], dict[str, float | None]]:
    """The inputs the training rows ``train`` define (module docstring): ``(categories, fills, quiet)``. Each
    text column's categories are those of its training rows, with :data:`MISSING_CATEGORY` last where one of them
    has a missing cell; ``fills``: a numeric column's training median where a training row has a missing cell
    (flagged); ``quiet``: the columns whose test rows hold what no training row has, a missing cell or (text) a
    category, encoded without an input of their own (a numeric one's median, unflagged; ``None``: a text one's,
    every input 0). A numeric column without a value in the training rows is an error that says to leave it out."""
    fills, quiet = {}, {}
    in_train = np.zeros(len(frame), bool)
    in_train[train] = True
    categories = dict(categories)
    for f in features:
        raw = frame[f].tolist()
        cells = [str(c) for c in raw]
        gaps = np.array(missing_in(raw), bool)
        if f in categories:
            seen = {c for c, t, g in zip(cells, in_train, gaps, strict=True) if t and not g}
            categories[f] = [v for v in categories[f] if v in seen] + [MISSING_CATEGORY] * bool(gaps[in_train].any())
            if any(not g and c not in seen for c, g in zip(cells, gaps, strict=True)) or (
                    gaps.any() and not gaps[in_train].any()):
                quiet[f] = None
            continue
        if not gaps.any():
            continue
        values = numeric_column(frame, f, fill=np.nan)[train]
        if np.isnan(values).all():
            raise InputError(f"{frame.attrs.get('path', '<data>')}: column '{f}' has no value in the "
                             f"{len(train)} training rows, so there is nothing to fill its missing cells with; "
                             f"leave it out with --features")
        (fills if gaps[in_train].any() else quiet)[f] = float(np.nanmedian(values))
    return categories, fills, quiet


def encoded_names(features: list[str], categories: dict[str, list[str]], fills: dict[str, float] | None = None
                  ) -> list[str]:
    """The network's input names: a numeric column's own (then ``column=(missing)``, its filled cells' flag, for
    a column in ``fills``), ``column=value`` for each category of a text one."""
    fills = fills or {}
    return [name for f in features for name in (
        [f"{f}={v}" for v in categories[f]] if f in categories
        else [f, f"{f}={MISSING_CATEGORY}"] if f in fills else [f])]


def encode(frame: pd.DataFrame, features: list[str], categories: dict[str, list[str]],
           fills: dict[str, float] | None = None, quiet: dict[str, float | None] | None = None) -> np.ndarray:
    """The rows of ``frame`` as network inputs (float64): numeric columns as numbers, the columns in
    ``categories`` one-hot, those in ``fills`` with their missing cells filled and flagged
    (:func:`encoded_names`), those in ``quiet`` without an input of their own (:func:`training_encoding`); a
    category the list does not hold, or a missing cell the model has no fill for, is an error naming its cell."""
    fills, quiet = fills or {}, quiet or {}
    blocks = []
    for f in features:
        if f in fills:
            values = numeric_column(frame, f, fill=np.nan)
            flag = np.isnan(values)
            blocks.append(np.column_stack([np.where(flag, fills[f], values), flag.astype(np.float64)]))
            continue
        if f not in categories:
            blocks.append(numeric_column(frame, f, fill=quiet.get(f))[:, None])
            continue
        known = {v: k for k, v in enumerate(categories[f])}
        raw = frame[f].tolist()
        cells = [str(c) for c in raw]
        gaps = missing_in(raw)  # before str(): a DataFrame's None object is missing, the text "None" may be a value
        block = np.zeros((len(cells), len(known)))
        for i, c in enumerate(cells):
            if c in known and c != MISSING_CATEGORY and isinstance(raw[i], str):  # a category the model knows
                pass  # ("None" among them, also in a file of new rows whose column holds no other text)
            elif gaps[i] and MISSING_CATEGORY in known:
                c = MISSING_CATEGORY
            elif f in quiet and (gaps[i] or c not in known):
                continue  # what no training row has: every input of the column 0
            elif gaps[i]:
                raise InputError(f"{_where(frame, f, i)}: missing value ('{c}'), and the model's training rows "
                                 f"had none in this column to learn from; fill the cell or drop the row")
            if c not in known:
                named = [v for v in categories[f] if v != MISSING_CATEGORY]
                raise InputError(f"{_where(frame, f, i)}: '{c}' is not a category the model knows "
                                 f"({', '.join(named)}); use one of them" +
                                 (", or leave the cell empty (missing)" if len(named) < len(known) else ""))
            block[i, known[c]] = 1.0
        blocks.append(block)
    return np.concatenate(blocks, axis=1) if blocks else np.zeros((len(frame), 0))
