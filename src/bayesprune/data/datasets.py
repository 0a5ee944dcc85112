"""Loading named data sets and user CSVs into a :class:`Dataset` ready for sampling."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bayesprune.data.encoding import (
    MAX_CATEGORIES,
    NOTHING_LEFT_OUT,
    LeftOut,
    encode,
    encoded_names,
    left_out_columns,
    present_cells,
    text_categories,
    training_encoding,
)
from bayesprune.data.registry import DatasetInfo, Task, get_info
from bayesprune.data.splits import make_scaler, split_indices
from bayesprune.data.table import (
    check_no_missing,
    file_rows,
    missing_in,
    names_first_row,
    numeric_column,
    read_table,
)
from bayesprune.data.table import drop_missing as drop_missing_rows
from bayesprune.errors import InputError, OptionError

DATA_ENV = "BAYESPRUNE_DATA"
DEFAULT_HIDDEN = (12,)  # one hidden layer of 12 units: the paper's most common width, used for a user's data
MAX_CLASSES_FOR_INFERENCE = 20
MIN_ROWS = 2  # rows a data set needs to be split into train and test
# how a regression target is modelled: as it is, or its logarithm (a price, a concentration, a duration: positive
# and right-skewed, where a Gaussian likelihood on the value itself gives intervals below 0); --target-transform
TARGET_TRANSFORMS = ("none", "log")
# what a missing cell of a CSV becomes: "error" (the default; benchmarks/pipeline.py, variants missing-fill and
# missing-drop, says why) stops at the first one, naming it; "fill" leaves out the rows without a target and fills
# a feature's missing cells (bayesprune.data.encoding says how); "drop" drops every row with a missing cell
MISSING_MODES = ("fill", "drop", "error")


@dataclass
class Dataset:
    """A data set split into train and test parts, preprocessed, with what is needed to undo it.

    ``y`` holds class indices ``0..K-1`` (classification) or scaled targets (regression); ``x_scaler`` and
    ``y_scaler`` are the fitted scikit-learn scalers (or ``None``) so predictions can be mapped back to
    original units with :meth:`inverse_y`.
    """

    name: str
    task: Task
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]
    class_names: list[str] | None = None
    x_scaler: Any = None
    y_scaler: Any = None
    hidden: tuple[int, ...] = DEFAULT_HIDDEN
    source: str = ""
    sha256: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # "log": y holds the scaled logarithm of the target (log_target); inverse_y maps back to the target itself
    target_transform: str = "none"
    # (low, high) per input in scaled units, the clip range (the training rows' range widened by CLIP_MARGIN of
    # it on each side): inputs beyond it are clipped to it (clip_inputs); None: inputs are used as they are
    x_range: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_outputs(self) -> int:
        return len(self.class_names) if self.task == "classification" else 1

    def inverse_y(self, y_scaled: np.ndarray) -> np.ndarray:
        """Map regression targets, or quantiles of a prediction (the map is increasing), from the scaled space
        back to original units, through the exponential for a log-transformed target (where a predictive mean
        does not map so: :meth:`bayesprune.predictive.Predictive.exp_moments`)."""
        arr = np.asarray(y_scaled, dtype=np.float64)
        if self.y_scaler is not None:
            arr = self.y_scaler.inverse_transform(arr.reshape(-1, 1)).reshape(arr.shape)
        return np.exp(arr) if self.target_transform == "log" else arr

    @property
    def y_affine(self) -> tuple[float, float]:
        """``(a, c)`` with ``modelled = y_scaled * a + c``: the modelled target is the target itself, or its
        logarithm for a log-transformed one; ``(1, 0)`` without a scaler."""
        if self.y_scaler is None:
            return 1.0, 0.0
        c = float(self.y_scaler.inverse_transform(np.zeros((1, 1)))[0, 0])
        return float(self.y_scaler.inverse_transform(np.ones((1, 1)))[0, 0]) - c, c

    @property
    def y_scale(self) -> float:
        """Modelled-target units per scaled unit (regression; :attr:`y_affine`): the target's units, or its
        logarithm's for a log-transformed target; 1 without a scaler."""
        return abs(self.y_affine[0])

    def transform_X(self, X: np.ndarray) -> np.ndarray:
        """Apply the fitted feature scaler to new raw inputs (and the clip to the clip range, where the data set
        has one: :func:`clip_inputs`)."""
        X = np.asarray(X, dtype=np.float64)
        X = X if self.x_scaler is None else self.x_scaler.transform(X)
        return X if self.x_range is None else np.clip(X, *self.x_range)

    def summary(self) -> str:
        classes = f", {len(self.class_names)} classes" if self.class_names else ""
        notes = []  # what became of missing cells (load_csv's missing)
        if self.meta.get("dropped_missing"):
            notes.append(f"{self.meta['dropped_missing']} with a missing cell dropped")
        if self.meta.get("dropped_no_target"):
            notes.append(f"{self.meta['dropped_no_target']} without a target left out")
        # cells counted per column: "13 missing cells filled: p 8, shade 5"
        for key, noun, what in (("filled_missing", "missing cell", "filled"),
                                ("unseen_categories", "test cell", "of a category no training row has, encoded "
                                                                   "as none"),
                                ("clipped_inputs", "test cell", "beyond half the training rows' range past its edge "
                                                   "clipped there")):
            if self.meta.get(key):
                counts = self.meta[key]
                n = sum(counts.values())
                notes.append(f"{n} {noun}{'s' * (n != 1)} {what}: " + ", ".join(f"{c} {k}" for c, k in counts.items()))
        dropped = f" ({'; '.join(notes)})" if notes else ""
        text = self.meta.get("categories", {})
        text = (f" ({sum(map(len, text.values()))} of them one per category of "
                f"{', '.join(text)})" if text else "")
        labels = self.meta.get("row_index_left_out")  # "numbers", "names" (True in records of older releases)
        index = (f"; its nameless first column of row {'names' if labels == 'names' else 'numbers'} left out"
                 if labels else "")
        inferred = self.meta.get("classes_inferred")
        inferred = (f"; its {inferred} integer target values taken as classes (--task regression predicts the "
                    f"target as a number)" if inferred else "")
        if self.meta.get("number_inferred"):
            values, single = self.meta["number_inferred"]
            inferred = (f"; its {values} integer target values, {single} of them in one row only, taken as a "
                        f"number (--task classification takes them as classes)")
        ids = self.meta.get("identifiers_left_out")
        if ids:
            index += (f"; {', '.join(repr(c) for c in ids)} left out, a different text value in every row (a "
                      f"name or an identifier: --features keeps {'it' if len(ids) == 1 else 'them'})")
        crowded = self.meta.get("crowded_left_out")
        if crowded:
            index += (f"; {', '.join(f'{c!r} ({n} values)' for c, n in crowded.items())} left out, more distinct "
                      f"text values than one input each can learn from (at most {MAX_CATEGORIES})")
        constant = self.meta.get("constant_left_out")
        if constant:
            index += (f"; {', '.join(repr(c) for c in constant)} left out, the same value in every row (nothing to "
                      f"learn from: --features keeps {'it' if len(constant) == 1 else 'them'})")
        log = "; the target's logarithm modelled" if self.target_transform == "log" else ""
        return (
            f"{self.name}: {self.task}, {self.n_features} feature{'s' * (self.n_features != 1)}{text}{classes}, "
            f"{len(self.y_train)} train / {len(self.y_test)} test rows{dropped}{index}{inferred}{log}"
        )


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The data directory: the argument, else ``$BAYESPRUNE_DATA``, else the fetch cache if it exists."""
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    from bayesprune.data.download import cache_dir

    cache = cache_dir()
    return cache if cache.exists() else None


def dataset_file(info: DatasetInfo, data_dir: Path | None) -> Path | None:
    """Where the file of a named data set is, or ``None`` when it is not there."""
    if info.source != "file" or data_dir is None or info.path is None:
        return None
    path = data_dir / info.path
    return path if path.is_file() else None


def load_dataset(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    seed: int = 0,
    test_fraction: float = 0.4,
    stratify: bool = False,
    split: int = 0,
) -> Dataset:
    """Load a named data set with the paper's preprocessing and a seeded 60/40 split.

    Scalers are fitted on the training part only (the paper's code scaled the whole file before splitting,
    which leaks test-set ranges into training; see docs/DATA.md). The field's standard sets keep their own
    splits (:mod:`bayesprune.data.standard`): ``uci/<folder>`` its fixed split ``split``, ``mnist`` its
    60,000 / 10,000 (``seed``, ``test_fraction`` and ``stratify`` are then not used).
    """
    from bayesprune.data.standard import is_standard, load_standard

    if is_standard(name):
        return load_standard(name, split=split, data_dir=data_dir)
    info = get_info(name)
    if info.source == "sklearn":
        return _load_sklearn(info, seed=seed, test_fraction=test_fraction, stratify=stratify)
    ddir = resolve_data_dir(data_dir)
    path = dataset_file(info, ddir)
    if path is None:
        if info.fallback is not None:
            ds = _load_sklearn(
                get_info(info.fallback), seed=seed, test_fraction=test_fraction, stratify=stratify
            )
            ds.name = info.name
            return ds
        where = f"in {ddir}" if ddir is not None else "(no data directory set)"
        raise InputError(
            f"data set '{name}' not found {where}: expected {info.path}; pass --data-dir DIR, "
            f"set {DATA_ENV}, or run 'bayesprune data fetch {name}'"
        )
    frame = read_table(path, sep=info.sep, header=info.header)
    target = info.target if info.target is not None else frame.columns[-1]
    features = list(info.features) if info.features else [c for c in frame.columns if c != target]
    ds = _from_frame(
        frame, name=info.name, target=target, features=features, task=info.task,
        scale_features=info.scale_features, scale_target=info.scale_target, seed=seed,
        test_fraction=test_fraction, stratify=stratify, hidden=info.hidden,
    )
    ds.sha256 = _sha256(path)
    return ds


def load_csv(
    path: str | os.PathLike,
    *,
    target: str,
    features: list[str] | None = None,
    task: Task | None = None,
    scale_features: str = "minmax",
    scale_target: str | None = None,
    hidden: tuple[int, ...] = DEFAULT_HIDDEN,
    seed: int = 0,
    test_fraction: float = 0.4,
    stratify: bool = False,
    sep: str | None = None,
    missing: str = "error",
    target_transform: str = "none",
) -> Dataset:
    """Load a user CSV: pick the target (and features), encode text labels and text feature columns (one input
    per category, :mod:`bayesprune.data.encoding`), infer the task if not given.

    Parameters
    ----------
    target
        Target column: a header name, or a 0-based column number for files without a header.
    features
        Feature columns (default: every other column but a text column with a different value in every row, a
        name or an identifier, a text column of more than 50 categories and a column of one value, each left out
        and said so:
        :func:`~bayesprune.data.encoding.left_out_columns`).
    task
        ``"regression"`` or ``"classification"``; inferred when ``None``: a text target, a target of two
        integer values, or an integer target with at most 20 distinct values of which at most half occur in one
        row only, is classification (:func:`_infer_task`).
    missing
        What a missing cell (empty, NA, NaN, ?) becomes. ``"error"`` (the default): the first one is an error
        naming it. ``"fill"``: a row without a target is left out (counted in ``meta["dropped_no_target"]``), a
        text feature's missing cell is one more category,
        ``(missing)``, and a numeric feature's takes the column's median over the training rows, with one more
        0/1 input, ``column=(missing)``, flagging it (the category and the flag only where a training row has
        a missing cell: :mod:`bayesprune.data.encoding`; counted per column in ``meta["filled_missing"]``; the
        flagged columns' medians in ``meta["fills"]``, used again by ``bayesprune predict``). ``"drop"``: drop
        every row with a missing cell in the target or a feature (counted in ``meta["dropped_missing"]``).
    target_transform
        ``"log"``: model the logarithm of a regression target whose every value is above 0 (:func:`log_target`);
        ``"none"`` (the default): the target itself.
    """
    if missing not in MISSING_MODES:
        raise OptionError.about("missing", f"{missing!r} is unknown; choose one of {', '.join(MISSING_MODES)}")
    if target_transform not in TARGET_TRANSFORMS:
        raise OptionError.about("target_transform", f"{target_transform!r} is unknown; choose one of "
                                f"{', '.join(TARGET_TRANSFORMS)}")
    path = Path(path)
    frame = read_table(path, sep=sep)
    if names_first_row(frame, [str(target), *(features or [])]):  # a header the sniffing missed: --target names it
        frame = read_table(path, sep=sep, header=True)
    columns = list(frame.columns)

    def _col(name: str) -> str:
        if name in columns:
            return name
        raise InputError(
            f"{path}: no column '{name}'; the columns are {', '.join(columns)} "
            "(use a header name, or a 0-based number for files without a header)"
        )

    target = _col(str(target))
    feats = [_col(f) for f in features] if features else [c for c in columns if c != target]
    if target in feats:
        raise InputError(f"{path}: column '{target}' is both the target and a feature; drop it from the features")
    if not feats:
        raise InputError(f"{path}: no feature columns left besides the target '{target}'")
    dropped = no_target = None
    n_rows = len(frame)
    if missing == "drop":
        frame, dropped = drop_missing_rows(frame, [target, *feats])
        if len(frame) < MIN_ROWS:
            raise InputError(f"{path}: {len(frame)} of {n_rows} rows have a value in the target and every feature "
                             f"(at least {MIN_ROWS} needed); fill missing cells or leave sparse columns out with "
                             "--features")
    elif missing == "fill":
        frame, no_target = drop_missing_rows(frame, [target])
        if len(frame) < MIN_ROWS:
            raise InputError(f"{path}: {len(frame)} of {n_rows} rows have a value in the target column "
                             f"'{target}' (at least {MIN_ROWS} needed); fill its missing cells")
    inferred = number_inferred = None
    if task is None:
        nums = _numbers(frame[target].tolist())
        task = _infer_task(nums)
        counts = _integer_values(nums)
        if counts is not None and counts[0] > 2:  # a count or a score of a few integer values: said either way
            if task == "classification":
                inferred = counts[0]
            elif counts[0] <= MAX_CLASSES_FOR_INFERENCE:  # most of them in one row: a number
                number_inferred = counts
    left_out = NOTHING_LEFT_OUT
    if not features:  # a text column with a value of its own in every row names the rows: it cannot generalise,
        left_out = left_out_columns(frame, feats)  # nor can one of more categories than one-hot learns, nor a
        gone = left_out.columns()  # column of one value
        kept = [f for f in feats if f not in gone]
        if len(left_out.constant) == len(feats):
            shown = ", ".join(repr(str(f)) for f in feats[:5]) + (", ..." if len(feats) > 5 else "")
            raise InputError(f"{path}: every feature column ({shown}) holds one value in every row: nothing to "
                             f"learn '{target}' from; check that the file and the target column are the ones meant")
        if kept:
            feats = kept
        else:  # nothing would be left: every column as named
            left_out = NOTHING_LEFT_OUT
    if scale_target is None:
        scale_target = "minmax" if task == "regression" else "none"
    ds = _from_frame(
        frame, name=path.stem, target=target, features=feats, task=task,
        scale_features=scale_features, scale_target=scale_target, seed=seed,
        test_fraction=test_fraction, stratify=stratify, hidden=hidden, sha256=_sha256(path), dropped=dropped,
        classes_inferred=inferred, missing=missing, no_target=no_target, number_inferred=number_inferred,
        left_out=left_out,
    )
    if target_transform == "none":
        return ds
    if task == "classification":
        raise InputError(f"{path}: --target-transform log applies to a regression target; '{target}' " + (
            f"was taken as class labels (its {inferred} integer values): add --task regression" if inferred else
            "holds class labels"))
    y = numeric_column(frame, target)  # name the first value the logarithm cannot take, as an editor shows its row
    bad = np.flatnonzero(~(y > 0))
    if bad.size:
        count = f"{bad.size} {'is' if bad.size == 1 else 'are'} not"
        raise InputError(f"{path}: row {file_rows(frame)[bad[0]]}, column {columns.index(target) + 1} "
                         f"('{target}'): {y[bad[0]]:g} is not above 0, and --target-transform log needs every "
                         f"target above 0 ({count}); leave it out, or shift the column")
    return log_target(ds, where=str(path))


def log_target(ds: Dataset, *, where: str | None = None) -> Dataset:
    """``ds`` with its regression target modelled on the log scale (``--target-transform log``): the logarithm of
    the target, scaled as the target was (a scaler of the same kind refitted on the training rows' logarithms).
    Every target value must be above 0; ``where`` names the data in the error (default: the data set's name).
    Written here because scikit-learn's ``TransformedTargetRegressor`` wraps an estimator, not a data set."""
    from sklearn.base import clone

    if ds.task != "regression":
        raise InputError(f"{where or ds.name}: --target-transform log applies to a regression target; "
                         f"this one is a class label")
    if ds.target_transform == "log":
        return ds
    raw_train, raw_test = ds.inverse_y(ds.y_train), ds.inverse_y(ds.y_test)
    low = float(min(raw_train.min(), raw_test.min()))
    if not low > 0:
        bad = int((raw_train <= 0).sum() + (raw_test <= 0).sum())
        raise InputError(f"{where or ds.name}: {bad} target value(s) at or below 0 (the smallest {low:.6g}); "
                         "--target-transform log needs every value above 0: leave it out, or shift the target")
    log_train, log_test = np.log(raw_train), np.log(raw_test)
    scaler = None if ds.y_scaler is None else clone(ds.y_scaler).fit(log_train.reshape(-1, 1))

    def scaled(v):
        out = v if scaler is None else scaler.transform(v.reshape(-1, 1)).ravel()
        return out.astype(np.float32)

    return dataclasses.replace(ds, y_train=scaled(log_train), y_test=scaled(log_test), y_scaler=scaler,
                               target_transform="log", meta={**ds.meta, "target_transform": "log"})


# How far past each edge of the training rows' range an input may lie before it is clipped, in shares of that
# range. Measured by benchmarks/pipeline.py (`files-margin`, `clip-margin`, docs/BENCHMARKS.md): cells just past
# the edge (0.005-0.40 ranges on the files measured) are where a smooth target's network still extrapolates
# correctly, and clipping them at the edge made the full network's RMSE on an exact linear function 36-80 times
# larger (0.0002-0.0003 -> 0.0098-0.0159 scaled); the rows that clipping helps lie far out (1.2-2.1 ranges on
# abalone and star98).
CLIP_MARGIN = 0.5


def clip_range(X_train: np.ndarray, margin: float = CLIP_MARGIN) -> tuple[np.ndarray, np.ndarray]:
    """The clip range of inputs whose training rows are ``X_train``: per column, its minimum and maximum moved
    out by ``margin`` times their distance (a column whose training rows hold one value is clipped to it)."""
    low, high = X_train.min(axis=0), X_train.max(axis=0)
    width = (high - low) * margin
    return (low - width).astype(X_train.dtype), (high + width).astype(X_train.dtype)


def clip_inputs(ds: Dataset) -> Dataset:
    """``ds`` with every input beyond its clip range (:func:`clip_range`: the training rows' range widened by
    half of it on each side) clipped to that range, on the test rows now and on new rows later
    (:meth:`Dataset.transform_X`, the compact model file, its ONNX graph).

    A network fitted on the training rows has no data beyond their range, and far beyond it what its units do is
    the prior's and the mode's guess: on abalone (split seed 0), one test row whose scaled height is 2.19 (1.13 in
    the file's units; the tallest training row 0.515, most below 0.25) got predictions from -2.3 to 0.8 across the
    four chains against a target of 0.27 and made the whole test RMSE vary by 10% between sampling seeds
    (docs/DATA.md). Close to the edge the network still carries a smooth target on, so a row within half a range
    of it is unchanged (:data:`CLIP_MARGIN`). scikit-learn's ``MinMaxScaler(clip=True)`` clips at the edge itself,
    for one scaler; this works on the scaled inputs whatever the scaler, and records the range for the model file.
    The meta entry ``clipped_inputs`` counts the test cells clipped per input."""
    if ds.x_range is not None:
        return ds
    low, high = clip_range(ds.X_train)
    outside = (ds.X_test < low) | (ds.X_test > high)
    counts = {name: int(k) for name, k in zip(ds.feature_names, outside.sum(axis=0), strict=True) if k}
    return dataclasses.replace(ds, X_test=np.clip(ds.X_test, low, high).astype(ds.X_test.dtype),
                               x_range=(low, high),
                               meta={**ds.meta, **({"clipped_inputs": counts} if counts else {})})


def _numbers(values: list[str]) -> np.ndarray | None:
    """A column's cells as float64, or ``None`` when one of them is text."""
    try:
        return np.array([float(v) for v in values])
    except ValueError:
        return None


def _infer_task(nums: np.ndarray | None) -> Task:
    """The task of a target column given as :func:`_numbers` (``None``: text, so classes): classes for text, two
    integer values (a 0/1 label), or at most :data:`MAX_CLASSES_FOR_INFERENCE` integer values of which at most half
    occur in one row only. A class seen in one row is in the training rows or the test rows, never both: where most
    values are such (a count or a score on a small file: stack loss's 21 rows hold 14 values, 9 of them once), the
    target is a number."""
    if nums is None:
        return "classification"
    counts = _integer_values(nums)
    if counts is None:
        return "regression"
    values, single = counts
    if values <= 2 or (values <= MAX_CLASSES_FOR_INFERENCE and 2 * single <= values):
        return "classification"
    return "regression"


def _integer_values(nums: np.ndarray | None) -> tuple[int, int] | None:
    """``(distinct values, values in one row only)`` of a target column of integers given as :func:`_numbers`;
    ``None`` for text or a column with a fraction."""
    if nums is None:
        return None
    finite = nums[np.isfinite(nums)]
    if not np.all(finite == np.round(finite)):
        return None
    _, counts = np.unique(finite, return_counts=True)
    return len(counts), int(np.sum(counts == 1))


def _encode_labels(
    raw: list[str], path: str, col_no: int, target: str, rows: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Class indices and names of a target column without missing cells (``check_no_missing`` ran first)."""
    try:
        as_num = [float(v) for v in raw]
    except ValueError:  # text labels are classes
        names = sorted(set(raw))
        lookup_s = {u: k for k, u in enumerate(names)}
        return np.array([lookup_s[v] for v in raw], dtype=np.int32), names
    uniq = sorted(set(as_num))
    if len(uniq) > MAX_CLASSES_FOR_INFERENCE:  # a measured quantity given as labels: one class per value
        nums = np.asarray(as_num)
        fractional = np.flatnonzero(nums != np.round(nums))
        if fractional.size:
            i = int(fractional[0])
            raise InputError(
                f"{path}: row {rows[i]}, column {col_no} ('{target}'): value {raw[i]} is not a class label (the "
                f"column has {len(uniq)} distinct non-integer values); for a measured target use --task regression"
            )
    names = [(str(int(u)) if float(u).is_integer() else str(u)) for u in uniq]
    lookup = {u: k for k, u in enumerate(uniq)}
    return np.array([lookup[v] for v in as_num], dtype=np.int32), names


FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_magnitude(values: np.ndarray, path, col_no: int, name: str, rows: np.ndarray) -> None:
    """Refuse values the sampler (float32) cannot hold, or whose range overflows when scaled."""
    big = np.abs(values)
    with np.errstate(over="ignore"):
        span = float(values.max() - values.min()) if values.size else 0.0
    if values.size and (big.max() > FLOAT32_MAX / 16 or not np.isfinite(span)):
        i = int(np.argmax(big))
        raise InputError(
            f"{path}: row {rows[i]}, column {col_no} ('{name}'): value {values[i]:.3g} is too large to use "
            f"(limit about 2e37); rescale the column, e.g. divide it by a power of ten"
        )


def _from_frame(
    frame,
    *,
    name: str,
    target: str,
    features: list[str],
    task: Task,
    scale_features: str,
    scale_target: str,
    seed: int,
    test_fraction: float,
    stratify: bool,
    hidden: tuple[int, ...],
    sha256: str | None = None,
    dropped: int | None = None,
    classes_inferred: int | None = None,
    missing: str = "error",
    no_target: int | None = None,
    number_inferred: tuple[int, int] | None = None,
    left_out: LeftOut = NOTHING_LEFT_OUT,
) -> Dataset:
    """``dropped``: rows with a missing cell that ``missing="drop"`` removed (``None``: it was not asked for);
    ``classes_inferred``: the number of integer target values the task inference took as classes (``None``: the
    task was given, or the target's values leave no doubt); ``number_inferred``: ``(values, in one row)`` of an
    integer target the inference took as a number (:func:`_integer_values`); ``left_out``: the columns left out,
    by kind (:func:`~bayesprune.data.encoding.left_out_columns`); ``missing``: as in
    :func:`load_csv`, whose rows without a target ``missing="fill"`` already left out (``no_target`` of them)."""
    path = frame.attrs.get("path", "<data>")
    missing_fix = ("fill the cell or drop the row" if missing != "error" else
                   "fill the cell, or let bayesprune fill it (--missing fill) or drop every row with a missing "
                   "cell (--missing drop)")
    # the first in the file's order; a feature's missing cells are filled below with missing="fill"
    check_no_missing(frame, [target] if missing == "fill" else [target, *features], missing_fix)
    categories = text_categories(frame, features)  # text feature columns, encoded one input per category
    col_no = list(frame.columns).index(target) + 1
    class_names = None
    if task == "classification":
        y, class_names = _encode_labels(
            frame[target].tolist(), path, col_no, target, file_rows(frame)
        )
        if len(class_names) < 2:
            raise InputError(
                f"{path}: column {col_no} ('{target}') has a single class, '{class_names[0]}', in every row: "
                "there is nothing to predict (classification needs at least two classes); choose another --target"
            )
    else:
        y = numeric_column(frame, target)
        if len(y) and np.all(y == y[0]):  # nothing to learn, and a scaled target would divide by its range, 0
            raise InputError(f"{path}: column {col_no} ('{target}') holds the same value, {y[0]:g}, in every row: "
                             "there is nothing to predict; choose another --target")
    split = split_indices(len(y), test_fraction=test_fraction, seed=seed,
                          stratify=y if (stratify and task == "classification") else None)
    # the training rows' categories and medians; a flag or category where a training row has a missing cell
    categories, fills, quiet = training_encoding(frame, features, categories, split[0])
    X = encode(frame, features, categories, fills, quiet)
    columns = list(frame.columns)
    rows = file_rows(frame)
    # each column's first input
    starts = np.cumsum([0] + [len(encoded_names([f], categories, fills)) for f in features])
    for f, j in zip(features, starts, strict=False):
        if f not in categories:
            _check_magnitude(X[:, j], path, columns.index(f) + 1, f, rows)
    if task == "regression":
        _check_magnitude(y, path, col_no, target, rows)
    X_train, y_train, X_test, y_test, x_scaler, y_scaler = _split_and_scale(
        X, y, task=task, scale_features=scale_features, scale_target=scale_target, seed=seed,
        test_fraction=test_fraction, stratify=stratify, split=split,
    )
    readable = {f: f"x{int(f)}" if frame.attrs.get("row_offset", 1) == 1 and f.isdigit() else str(f)
                for f in features}  # no header: x0, x1, ...
    feature_names = encoded_names([readable[f] for f in features],
                                  {readable[f]: v for f, v in categories.items()},
                                  {readable[f]: v for f, v in fills.items()})
    # missing cells left after check_no_missing and drop_missing are the ones missing="fill" filled
    filled = {readable[f]: k for f in features if (k := sum(missing_in(frame[f].tolist())))}
    unseen = {readable[f]: k for f in quiet if f in categories  # test cells of a category no training row has
              and (k := sum(c not in categories[f] for c in present_cells(frame[f].tolist())))}
    return Dataset(
        name=name, task=task, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
        feature_names=feature_names, class_names=class_names, x_scaler=x_scaler, y_scaler=y_scaler,
        hidden=hidden, source=str(path), sha256=sha256,
        meta={"target": str(target), "features": [str(f) for f in features],
              "scale_features": scale_features, "scale_target": scale_target,
              "seed": seed, "test_fraction": test_fraction, "stratify": stratify,
              **({"categories": {readable[f]: v for f, v in categories.items()}} if categories else {}),
              **({"fills": {readable[f]: v for f, v in fills.items()}} if fills else {}),
              **({"raw_features": [readable[f] for f in features]} if categories or fills else {}),
              **({"dropped_missing": dropped} if dropped else {}),
              **({"filled_missing": filled} if filled else {}),
              **({"unseen_categories": unseen} if unseen else {}),
              **({"dropped_no_target": no_target} if no_target else {}),
              **({"classes_inferred": classes_inferred} if classes_inferred else {}),
              **({"number_inferred": list(number_inferred)} if number_inferred else {}),
              **({"identifiers_left_out": list(left_out.identifiers)} if left_out.identifiers else {}),
              **({"crowded_left_out": dict(left_out.crowded)} if left_out.crowded else {}),
              **({"constant_left_out": list(left_out.constant)} if left_out.constant else {}),
              **({"row_index_left_out": frame.attrs["row_index"]} if frame.attrs.get("row_index") else {})},
    )


def _split_and_scale(X, y, *, task, scale_features, scale_target, seed, test_fraction, stratify, split=None):
    """Seeded split (``split``: the ``(train, test)`` indices already drawn so), then scalers fitted on the
    training part only; float32 features, typed targets."""
    train, test = split if split is not None else split_indices(
        len(y), test_fraction=test_fraction, seed=seed,
        stratify=y if (stratify and task == "classification") else None,
    )
    x_scaler = make_scaler(scale_features)
    X_train, X_test = X[train], X[test]
    if x_scaler is not None:
        X_train = x_scaler.fit_transform(X_train)
        X_test = x_scaler.transform(X_test)
    y_scaler = make_scaler(scale_target) if task == "regression" else None
    y_train, y_test = np.asarray(y[train], np.float64), np.asarray(y[test], np.float64)
    if y_scaler is not None:
        y_train = y_scaler.fit_transform(y_train.reshape(-1, 1)).ravel()
        y_test = y_scaler.transform(y_test.reshape(-1, 1)).ravel()
    return (X_train.astype(np.float32), _cast_y(y_train, task), X_test.astype(np.float32),
            _cast_y(y_test, task), x_scaler, y_scaler)


def _cast_y(y: np.ndarray, task: Task) -> np.ndarray:
    return y.astype(np.int32) if task == "classification" else y.astype(np.float32)


def _load_sklearn(info: DatasetInfo, *, seed: int, test_fraction: float, stratify: bool) -> Dataset:
    import sklearn.datasets as skd

    bunch = getattr(skd, info.sklearn_loader)()
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target)
    X_train, y_train, X_test, y_test, x_scaler, y_scaler = _split_and_scale(
        X, y, task=info.task, scale_features=info.scale_features, scale_target=info.scale_target, seed=seed,
        test_fraction=test_fraction, stratify=stratify,
    )
    class_names = [str(c) for c in bunch.target_names] if info.task == "classification" else None
    return Dataset(
        name=info.name, task=info.task, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
        feature_names=[str(f) for f in bunch.feature_names], class_names=class_names,
        x_scaler=x_scaler, y_scaler=y_scaler, hidden=info.hidden,
        source=f"scikit-learn {info.sklearn_loader}",
        sha256=hashlib.sha256(np.ascontiguousarray(X).tobytes() + np.ascontiguousarray(y).tobytes()).hexdigest(),
        meta={"scale_features": info.scale_features, "scale_target": info.scale_target,
              "seed": seed, "test_fraction": test_fraction, "stratify": stratify},
    )


def _sha256(path: Path | str) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
