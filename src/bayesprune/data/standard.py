"""The field's standard benchmark sets: the UCI regression sets on their fixed splits, and MNIST.

**UCI** (``--dataset uci/<folder> --split K``): any folder under ``<data-dir>/uci/`` in the layout of
Hernandez-Lobato & Adams (2015) and Gal & Ghahramani (2016): ``data.txt`` (whitespace-separated numbers, one row
per line), ``index_features.txt`` and ``index_target.txt`` (0-based columns), ``index_train_K.txt`` /
``index_test_K.txt`` (0-based rows of split K), ``n_splits.txt`` and ``n_hidden.txt`` (the hidden units the
literature used). Features and target are standardised on the training rows of the split, as the papers do, so
the metrics in the target's units (``*_original``) are comparable with theirs.

**MNIST** (``--dataset mnist``): the four gzipped IDX files of LeCun, Cortes & Burges under ``<data-dir>/mnist/``
(or fetched into the cache, checked against their SHA-256): 60,000 training and 10,000 test images, pixels scaled
to [0, 1] (no other scaling), ten classes, LeNet-300-100 (two hidden layers of 300 and 100 units) by default.

Every file that cannot be read gets one :class:`~bayesprune.errors.InputError` line naming it and what to fix.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from bayesprune.data.datasets import Dataset, resolve_data_dir
from bayesprune.errors import InputError

UCI_PREFIX = "uci/"
MNIST = "mnist"
MNIST_FILES = {"train_images": "train-images-idx3-ubyte.gz", "train_labels": "train-labels-idx1-ubyte.gz",
               "test_images": "t10k-images-idx3-ubyte.gz", "test_labels": "t10k-labels-idx1-ubyte.gz"}
MNIST_HIDDEN = (300, 100)  # LeNet-300-100 (LeCun et al. 1998)
_UCI_FILES = ("data.txt", "index_features.txt", "index_target.txt", "n_splits.txt", "n_hidden.txt")


def is_standard(name: str) -> bool:
    return name.startswith(UCI_PREFIX) or name == MNIST


def uci_folders(data_dir: Path | None) -> list[str]:
    """The ``uci/<folder>`` names of the folders under ``<data_dir>/uci`` that hold the layout's files."""
    root = None if data_dir is None else Path(data_dir) / "uci"
    if root is None or not root.is_dir():
        return []
    return sorted(f"{UCI_PREFIX}{p.name}" for p in root.iterdir()
                  if p.is_dir() and all((p / f).is_file() for f in _UCI_FILES))


def _numbers(path: Path, dtype=float) -> np.ndarray:
    """The whitespace-separated numbers of ``path``, one row per line; a bad line is a one-line error."""
    if not path.is_file():
        raise InputError(f"{path}: file not found; a UCI folder needs {', '.join(_UCI_FILES)} and "
                         "index_train_K.txt / index_test_K.txt for each split K")
    rows = []
    with open(path) as fh:
        for i, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rows.append([float(v) for v in line.split()])
            except ValueError:
                raise InputError(f"{path}: row {i}: '{line.strip()[:40]}' is not a list of numbers; "
                                 "fix or remove that line") from None
    if not rows:
        raise InputError(f"{path}: empty file")
    width = {len(r) for r in rows}
    if len(width) > 1:
        bad = next(i for i, r in enumerate(rows, start=1) if len(r) != len(rows[0]))
        raise InputError(f"{path}: row {bad} has {len(rows[bad - 1])} values, the first row {len(rows[0])}; "
                         "every row needs the same number of columns")
    return np.asarray(rows).astype(np.int64 if dtype is int else np.float64)


def _indices(path: Path, limit: int, what: str) -> np.ndarray:
    idx = _numbers(path, int).reshape(-1)
    bad = np.flatnonzero((idx < 0) | (idx >= limit))
    if bad.size:
        raise InputError(f"{path}: row {bad[0] + 1}: {what} {idx[bad[0]]} is outside 0..{limit - 1}")
    return idx


def load_uci(name: str, *, split: int = 0, data_dir=None) -> Dataset:
    """A UCI regression set on its fixed split ``split`` (see the module docstring)."""
    from sklearn.preprocessing import StandardScaler

    ddir = resolve_data_dir(data_dir)
    folder = None if ddir is None else Path(ddir) / name
    if folder is None or not folder.is_dir():
        where = f"in {ddir}" if ddir is not None else "(no data directory set)"
        raise InputError(f"data set '{name}' not found {where}: expected a folder {name}/ with {_UCI_FILES[0]}; "
                         "pass --data-dir DIR or set BAYESPRUNE_DATA")
    data = _numbers(folder / "data.txt")
    n_rows, n_cols = data.shape
    features = _indices(folder / "index_features.txt", n_cols, "column")
    target = _indices(folder / "index_target.txt", n_cols, "column")
    n_splits = int(_numbers(folder / "n_splits.txt", int).reshape(-1)[0])
    hidden = int(_numbers(folder / "n_hidden.txt", int).reshape(-1)[0])
    if target.size != 1 or target[0] in features:
        raise InputError(f"{folder / 'index_target.txt'}: must name one column that is not a feature")
    if isinstance(split, bool) or not isinstance(split, (int, np.integer)) or not 0 <= split < n_splits:
        raise InputError(f"split {split!r} of {name}: its n_splits.txt says {n_splits} splits, so choose "
                         f"--split 0..{n_splits - 1}")
    train = _indices(folder / f"index_train_{split}.txt", n_rows, "row")
    test = _indices(folder / f"index_test_{split}.txt", n_rows, "row")
    if np.intersect1d(train, test).size:
        raise InputError(f"{folder / f'index_test_{split}.txt'}: rows also in index_train_{split}.txt; "
                         "a test row must not be trained on")
    X, y = data[:, features], data[:, target[0]]
    xs, ys = StandardScaler().fit(X[train]), StandardScaler().fit(y[train, None])
    tx = lambda a: xs.transform(a).astype(np.float32)  # noqa: E731
    ty = lambda a: ys.transform(a[:, None]).ravel().astype(np.float32)  # noqa: E731
    return Dataset(name=name, task="regression", X_train=tx(X[train]), y_train=ty(y[train]), X_test=tx(X[test]),
                   y_test=ty(y[test]), feature_names=[f"x{i}" for i in features], x_scaler=xs, y_scaler=ys,
                   hidden=(hidden,), source=str(folder), meta={"split": int(split), "n_splits": n_splits})


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """An IDX file of unsigned bytes (gzipped or not) with ``ndim`` dimensions, checked against its header."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found; pass --data-dir DIR or run 'bayesprune data fetch mnist'") \
            from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: not a gzipped IDX file or truncated ({exc}); fetch it again") from None
    if len(raw) < 4 + 4 * ndim:
        raise InputError(f"{path}: {len(raw)} bytes, too short for an IDX header; the file is truncated")
    zero, kind, dims = struct.unpack(">HBB", raw[:4])
    if zero != 0 or kind != 0x08 or dims != ndim:
        raise InputError(f"{path}: not an IDX file of {ndim}-dimensional unsigned bytes (magic {raw[:4].hex()})")
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    body = raw[4 + 4 * ndim:]
    if len(body) != int(np.prod(shape)):
        raise InputError(f"{path}: the header says {int(np.prod(shape)):,} values of shape {shape}, the file "
                         f"holds {len(body):,}; the file is truncated or corrupted")
    return np.frombuffer(body, np.uint8).reshape(shape)


def load_mnist(*, data_dir=None) -> Dataset:
    """MNIST's standard split (see the module docstring)."""
    ddir = resolve_data_dir(data_dir)
    if ddir is None:
        raise InputError("data set 'mnist' not found (no data directory set): pass --data-dir DIR, set "
                         "BAYESPRUNE_DATA, or run 'bayesprune data fetch mnist'")
    folder = Path(ddir) / MNIST
    arrays = {}
    for key, fname in MNIST_FILES.items():
        arrays[key] = read_idx(folder / fname, 3 if key.endswith("images") else 1)
    for part in ("train", "test"):
        n_img, n_lab = len(arrays[f"{part}_images"]), len(arrays[f"{part}_labels"])
        if n_img != n_lab:
            raise InputError(f"{folder / MNIST_FILES[f'{part}_labels']}: {n_lab:,} labels for {n_img:,} images")
        if arrays[f"{part}_labels"].max() > 9:
            raise InputError(f"{folder / MNIST_FILES[f'{part}_labels']}: labels must be digits 0..9")
    flat = lambda a: (a.reshape(len(a), -1).astype(np.float32) / np.float32(255.0))  # noqa: E731
    side = arrays["train_images"].shape[1:]
    return Dataset(name=MNIST, task="classification", X_train=flat(arrays["train_images"]),
                   y_train=arrays["train_labels"].astype(np.int32), X_test=flat(arrays["test_images"]),
                   y_test=arrays["test_labels"].astype(np.int32),
                   feature_names=[f"px{r}_{c}" for r in range(side[0]) for c in range(side[1])],
                   class_names=[str(d) for d in range(10)], hidden=MNIST_HIDDEN, source=str(folder))


def load_standard(name: str, *, split: int = 0, data_dir=None) -> Dataset:
    """``uci/<folder>`` on split ``split``, or ``mnist``."""
    return load_mnist(data_dir=data_dir) if name == MNIST else load_uci(name, split=split, data_dir=data_dir)
