"""Prediction files of ``bayesprune predict``: the input rows a compact model reads from a CSV, and the CSV of its
predictions (regression: mean, sd and a central interval in the target's units; classification: the class, the
sd of its probability over draws and one probability column per class)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bayesprune.data.encoding import encode
from bayesprune.data.table import names_first_row, read_table
from bayesprune.errors import OptionError
from bayesprune.io.atomic import atomic_path


def read_inputs(path: str | Path, feature_names: list[str], categories: dict[str, list[str]] | None = None,
                fills: dict[str, float] | None = None) -> np.ndarray:
    """The rows of ``path`` as the model's features, in its order: by header name when the file has a header,
    else exactly the model's number of columns. ``feature_names`` are the file's columns the model reads and
    ``categories`` its text columns with their categories (encoded one-hot, as in training), ``fills`` its
    numeric columns whose missing cells it fills (and flags) as in training. A missing or extra column, a
    category the model never saw or a missing cell it cannot fill is a one-line error naming the file."""
    return read_rows(path, feature_names, categories, fills)[0]


def read_rows(path: str | Path, feature_names: list[str], categories: dict[str, list[str]] | None = None,
              fills: dict[str, float] | None = None) -> tuple[np.ndarray, list[str] | None]:
    """:func:`read_inputs`' array, and the labels of the file's rows where a nameless first column held them
    (pandas' index, R's row names; ``None`` otherwise), which ``bayesprune predict`` writes beside each row's
    prediction."""
    categories, fills = categories or {}, fills or {}
    frame = read_table(path)
    if names_first_row(frame, list(feature_names)):  # a header the sniffing missed: the model's names settle it
        frame = read_table(path, header=True)
    cols = list(frame.columns)
    if frame.attrs.get("row_offset", 1) == 2:  # has a header
        missing = [f for f in feature_names if f not in cols]
        if missing:
            raise OptionError(f"{path}: missing feature column(s) {', '.join(missing)}; the model needs "
                              f"{', '.join(feature_names)}")
        use = feature_names
    else:
        if len(cols) != len(feature_names):
            raise OptionError(f"{path}: {len(cols)} columns but the model needs {len(feature_names)} features "
                              f"({', '.join(feature_names)}); add a header naming them or fix the columns")
        use = cols
    named = dict(zip(use, feature_names, strict=True))
    labels = frame.attrs.get("row_labels")
    labels = None if labels is None else labels.tolist()
    return (encode(frame, use, {c: categories[f] for c, f in named.items() if f in categories},
                   {c: fills[f] for c, f in named.items() if f in fills}), labels)


def prediction_table(result: dict[str, Any], task: str, class_names: list[str], interval: float,
                     labels: list[str] | None = None) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a prediction CSV from a compact model's ``predict`` result; with the input rows'
    ``labels`` (:func:`read_rows`), those first, in a nameless column as pandas and R write row labels."""
    if task == "regression":
        pct = f"{interval:.0%}"
        # a model of the target's logarithm predicts its median first (bayesprune.evaluation.stage says why)
        first = ["median"] if "median" in result else []
        header = [*first, "mean", "sd", f"lower_{pct}", f"upper_{pct}"]
        rows = zip(*(result[k] for k in (*first, "mean", "sd", "lower", "upper")), strict=True)
        table = [[f"{v:.6g}" for v in r] for r in rows]
    else:
        header = ["class", "sd"] + [f"p_{c}" for c in class_names]
        table = [[c, f"{sd:.4f}", *[f"{p:.6f}" for p in probs]]
                 for c, sd, probs in zip(result["class"], result["sd"], result["probabilities"], strict=True)]
    if labels is None:
        return header, table
    return ["", *header], [[label, *row] for label, row in zip(labels, table, strict=True)]


def write_predictions(header: list[str], rows: list[list[str]], out: str | Path | None) -> None:
    """Write the table to ``out`` atomically (a failed write leaves no partial file), or to standard output."""
    if out is None:
        w = csv.writer(sys.stdout)
        w.writerow(header)
        w.writerows(rows)
        return
    with atomic_path(out) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
