"""The compact model file: a pruned, resampled posterior that really is smaller.

Format (``.bpz``, an uncompressed NumPy ``.npz`` archive read with ``allow_pickle=False``):

- ``header``: UTF-8 JSON as a uint8 array: ``format`` ("bayesprune-compact"), ``version``, the architecture,
  the task, feature and class names, the preprocessing (scaler parameters), the layout, the number of draws, and
  the SHA-256 of every other array (checked on load);
- ``layout = "dense"`` (structured pruning): dead hidden units are removed, so ``draws`` holds the parameters
  of a physically narrower network, shape ``(n_draws, n_params_compact)``;
- ``layout = "sparse"`` (unstructured pruning): ``kept_idx`` (int32) lists the kept positions of the parameter
  vector of ``architecture`` (the network without the hidden units that keep no parameter) and ``draws`` holds
  only their values, shape ``(n_draws, n_kept)``;
- ``noise_var`` (regression): tau^2 per draw.

The loader refuses anything it cannot trust (wrong magic, unknown version, a checksum that does not match, arrays
of the wrong shape) with one clear :class:`~bayesprune.errors.InputError` line.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bayesprune.data.encoding import encode, encoded_names
from bayesprune.errors import BayesPruneError, InputError
from bayesprune.evaluation.records import CompactInfo
from bayesprune.indices import evenly_spaced
from bayesprune.io.atomic import atomic_path
from bayesprune.model.mlp import MLPSpec, hidden_unit_groups, hidden_unit_index
from bayesprune.posterior.logdensity import BNNPosterior

FORMAT = "bayesprune-compact"
VERSION = 1
EXTENSION = ".bpz"
MODEL_DRAWS = 200  # draws kept in a compact model, thinned evenly over all chains


def _scaler_params(scaler) -> dict | None:
    if scaler is None:
        return None
    if hasattr(scaler, "data_min_"):
        return {"kind": "minmax", "min": scaler.data_min_.tolist(), "range": scaler.data_range_.tolist(),
                "feature_range": list(scaler.feature_range)}
    return {"kind": "zscore", "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()}


def _apply_scaler(params: dict | None, X: np.ndarray, inverse: bool = False) -> np.ndarray:
    if params is None:
        return X
    if params["kind"] == "minmax":
        lo, hi = params["feature_range"]
        rng = np.where(np.asarray(params["range"]) == 0, 1.0, np.asarray(params["range"]))
        scale = (hi - lo) / rng
        shift = lo - np.asarray(params["min"]) * scale
    else:
        s = np.where(np.asarray(params["scale"]) == 0, 1.0, np.asarray(params["scale"]))
        scale = 1.0 / s
        shift = -np.asarray(params["mean"]) * scale
    return (X - shift) / scale if inverse else X * scale + shift


def scaler_affine(params: dict | None, n: int, inverse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``a``, ``c`` with ``scaled = raw * a + c`` for a model's scaler of ``n`` columns (both scalers are
    affine); with ``inverse``, ``raw = scaled * a + c``. Without a scaler: 1 and 0."""
    c = _apply_scaler(params, np.zeros((1, n)), inverse)[0]
    return _apply_scaler(params, np.ones((1, n)), inverse)[0] - c, c


def kept_inputs(spec: MLPSpec, keep_mask: np.ndarray) -> np.ndarray:
    """The input features with at least one kept weight (the others no longer reach the network)."""
    w, _ = spec.layer_slices[0]
    return np.flatnonzero(keep_mask[w].reshape(spec.n_inputs, spec.widths[1]).any(axis=1))


def compact_spec(spec: MLPSpec, keep_mask: np.ndarray) -> tuple[MLPSpec, np.ndarray, np.ndarray] | None:
    """The network without the hidden units that keep no parameter (removed by structured pruning, or dead and
    emptied by the mask repair) and without the input features that keep no weight: the narrower spec, for each
    of its parameters the index in the full vector, and the kept input features. ``None`` when a layer would be
    left empty or a kept parameter would be lost."""
    alive = {}
    for layer, _, idx in hidden_unit_groups(spec):
        alive.setdefault(layer, []).append(bool(keep_mask[idx].any()))
    hidden = tuple(int(sum(alive[layer])) for layer in range(len(spec.hidden)))
    inputs = kept_inputs(spec, keep_mask)
    if any(h == 0 for h in hidden) or inputs.size == 0:
        return None
    new = MLPSpec(int(inputs.size), hidden, spec.n_outputs, spec.activation, spec.output)
    index = hidden_unit_index(spec, [np.flatnonzero(alive[layer]) for layer in range(len(spec.hidden))], inputs)
    if np.count_nonzero(keep_mask[index]) != np.count_nonzero(keep_mask):
        return None
    return new, index, inputs


def _thin(draws: np.ndarray, n_draws: int, chain_weights: np.ndarray | None = None) -> np.ndarray:
    """``n_draws`` of the draws ``(chain, draw, dim)``: evenly spaced over all chains, or, with chain weights,
    as many from each chain as its weight's share (largest remainders), evenly spaced within it, so the file's
    equally weighted draws carry the chains' weights."""
    flat = draws.reshape(-1, draws.shape[-1])
    if chain_weights is None:
        return flat if n_draws >= flat.shape[0] else flat[evenly_spaced(flat.shape[0], n_draws)]
    w = np.asarray(chain_weights, np.float64)
    total = min(n_draws, flat.shape[0])
    share = w / w.sum() * total
    counts = np.floor(share).astype(int)
    counts[np.argsort(-(share - counts), kind="stable")[: total - counts.sum()]] += 1
    counts = np.minimum(counts, draws.shape[1])
    return np.concatenate([draws[c][evenly_spaced(draws.shape[1], k)] for c, k in enumerate(counts) if k > 0])


def _pack_arrays(ps, ds, n_draws: int) -> tuple[dict, dict[str, np.ndarray]]:
    """The header and the arrays of the compact model of a :class:`~bayesprune.api.PosteriorSample`."""
    post: BNNPosterior = ps.posterior
    spec = post.spec
    z = _thin(np.asarray(ps.result.draws, np.float32), n_draws, ps.chain_weights)
    theta = np.asarray(post.theta(z, None if ps.kept_idx is None else np.asarray(ps.kept_idx)), np.float32)
    keep = ps.keep_mask
    arrays: dict[str, np.ndarray] = {}
    layout_spec = spec
    inputs = None  # all input features
    packed = None if keep.all() else compact_spec(spec, keep)
    if keep.all():
        arrays["draws"] = theta
        layout = "dense"
    elif packed is not None and packed[0].n_params == int(keep.sum()):  # whole units removed: narrower layers
        layout_spec, index, inputs = packed
        arrays["draws"] = theta[:, index]
        layout = "dense"
    elif packed is not None:  # the kept parameters of the narrower network (units without any are gone)
        layout_spec, index, inputs = packed
        kept_idx = np.flatnonzero(keep[index]).astype(np.int32)
        arrays["kept_idx"] = kept_idx
        arrays["draws"] = theta[:, index][:, kept_idx]
        layout = "sparse"
    else:
        kept_idx = np.flatnonzero(keep).astype(np.int32)
        arrays["kept_idx"] = kept_idx
        arrays["draws"] = theta[:, kept_idx]
        layout = "sparse"
    if post.task == "regression":
        arrays["noise_var"] = np.exp(np.asarray(post.log_noise_var(z), np.float32))
    header = {
        "format": FORMAT, "version": VERSION, "layout": layout, "task": post.task,
        "architecture": layout_spec.to_dict(), "full_architecture": spec.to_dict(),
        "n_params_full": int(spec.n_params), "n_params_kept": int(keep.sum()), "n_draws": int(z.shape[0]),
        "feature_names": list(ds.feature_names), "class_names": ds.class_names,
        "x_scaler": _scaler_params(ds.x_scaler), "y_scaler": _scaler_params(ds.y_scaler),
        "dataset": ds.name, "sha256": {k: hashlib.sha256(v.tobytes()).hexdigest() for k, v in arrays.items()},
    }
    if ds.x_range is not None:  # inputs clipped to the clip range (scaled units): predict clips too
        header["x_range"] = {"low": [float(v) for v in ds.x_range[0]], "high": [float(v) for v in ds.x_range[1]]}
    if ds.target_transform != "none":  # the network models the target's logarithm: predict maps back
        header["target_transform"] = ds.target_transform
    if ds.meta.get("categories"):  # text columns encoded one-hot: how predict encodes new rows
        header["categories"] = ds.meta["categories"]
    if ds.meta.get("fills"):  # numeric columns whose missing cells were filled (and flagged): with what
        header["fills"] = ds.meta["fills"]
    if "raw_features" in ds.meta:
        header["raw_features"] = ds.meta["raw_features"]
    if inputs is not None and inputs.size < spec.n_inputs:  # the network reads only these features
        header["inputs"] = [int(i) for i in inputs]
    return header, arrays


def _npz_bytes(compressed: bool = False, **arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def pack_compact(ps, ds, *, n_draws: int = MODEL_DRAWS) -> tuple[bytes, CompactInfo]:
    """The compact model file's bytes, and what compaction bought (bytes against the same draws stored densely,
    plain and zipped; parameters and hidden widths)."""
    header, arrays = _pack_arrays(ps, ds, n_draws)
    blob = _npz_bytes(header=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)
    z = _thin(np.asarray(ps.result.draws, np.float32), n_draws, ps.chain_weights)
    dense = np.asarray(ps.posterior.theta(z, None if ps.kept_idx is None else np.asarray(ps.kept_idx)), np.float32)
    info = CompactInfo(
        layout=header["layout"], n_draws=header["n_draws"], n_params=int(ps.spec.n_params),
        n_params_kept=header["n_params_kept"], hidden_full=list(ps.spec.hidden),
        hidden_compact=list(header["architecture"]["hidden"]), inputs_full=int(ps.spec.n_inputs),
        inputs_compact=int(header["architecture"]["n_inputs"]), bytes_dense=len(_npz_bytes(draws=dense)),
        bytes_compact=len(blob), bytes_dense_compressed=len(_npz_bytes(True, draws=dense)),
    )
    return blob, info


def save_compact(ps, ds, path, *, n_draws: int = MODEL_DRAWS) -> Path:
    """Write a :class:`~bayesprune.api.PosteriorSample` as a compact model file; returns the path."""
    return write_compact(pack_compact(ps, ds, n_draws=n_draws)[0], path)


def write_compact(blob: bytes, path) -> Path:
    """Write the bytes of :func:`pack_compact` to ``path`` (atomically)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(blob)
    return path


@dataclass
class CompactModel:
    """A loaded compact model: predicts from raw (unscaled) inputs."""

    header: dict
    spec: MLPSpec
    draws: np.ndarray
    kept_idx: np.ndarray | None
    noise_var: np.ndarray | None

    @property
    def task(self) -> str:
        return self.header["task"]

    @property
    def feature_names(self) -> list[str]:
        return self.header["feature_names"]

    @property
    def target_transform(self) -> str:
        """``"log"`` when the network models the target's logarithm (``--target-transform log``), else
        ``"none"``; :meth:`predict` answers in the target's own units either way."""
        return self.header.get("target_transform", "none")

    @property
    def class_names(self) -> list[str] | None:
        return self.header["class_names"]

    @property
    def categories(self) -> dict[str, list[str]]:
        """The text columns of the training file and their categories, each one input per category (named
        ``column=value`` in :attr:`feature_names`); empty when every column was numeric."""
        return self.header.get("categories", {})

    @property
    def fills(self) -> dict[str, float]:
        """The numeric columns of the training file that had missing cells, each with the value (its training
        median) a missing cell of new rows takes, flagged by the 0/1 input ``column=(missing)``."""
        return self.header.get("fills", {})

    @property
    def raw_features(self) -> list[str]:
        """The columns of the training file the model reads, before text columns were encoded one-hot (and
        filled columns flagged)."""
        return self.header.get("raw_features", self.feature_names)

    def thetas(self) -> np.ndarray:
        if self.kept_idx is None:
            return self.draws
        full = np.zeros((self.draws.shape[0], self.spec.n_params), np.float32)
        full[:, self.kept_idx] = self.draws
        return full

    def inputs(self, frame) -> np.ndarray:
        """A pandas DataFrame holding the columns of :attr:`raw_features` (by name, in your units; text columns
        as text) as the network's inputs, text columns encoded one-hot and missing cells filled as in training."""
        missing = [c for c in self.raw_features if c not in frame.columns]
        if missing:
            raise InputError(f"the data have no column(s) {', '.join(map(str, missing))}; the model reads "
                             f"{', '.join(self.raw_features)}")
        table = frame[self.raw_features].astype(object).reset_index(drop=True)
        table.attrs = {"path": "the data", "row_offset": 1}
        return encode(table, self.raw_features, self.categories, self.fills)

    def outside_range(self, X) -> np.ndarray:
        """Per row of ``X`` (as :meth:`predictive` takes it), whether an input lies beyond the clip range (the
        training rows' range widened by half of it on each side) and is clipped to it (a model trained with
        ``--clip-inputs``; all ``False`` otherwise)."""
        X = np.asarray(self.inputs(X) if hasattr(X, "columns") else X, np.float64)
        if "x_range" not in self.header:
            return np.zeros(len(X), bool)
        Xs = _apply_scaler(self.header["x_scaler"], X)
        low, high = (np.asarray(self.header["x_range"][k]) for k in ("low", "high"))
        return np.any((Xs < low) | (Xs > high), axis=1)

    def predictive(self, X):
        """The posterior predictive (a :class:`~bayesprune.predictive.Predictive`) on raw inputs ``X``: an array
        of :attr:`feature_names` columns, or a pandas DataFrame read by :meth:`inputs`."""
        from bayesprune.predictive import Predictive, network_outputs

        if hasattr(X, "columns"):  # a DataFrame: its columns by name
            X = self.inputs(X)
        X = np.asarray(X, np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.feature_names):
            raise InputError(f"the model expects {len(self.feature_names)} features "
                             f"({', '.join(self.feature_names)}), got {X.shape[-1] if X.ndim else 0}")
        Xs = _apply_scaler(self.header["x_scaler"], X)
        if "x_range" in self.header:  # clipped to the clip range, as the test rows were
            Xs = np.clip(Xs, self.header["x_range"]["low"], self.header["x_range"]["high"])
        Xs = Xs.astype(np.float32)
        if "inputs" in self.header:  # features that pruning removed are not read
            Xs = Xs[:, self.header["inputs"]]
        post = BNNPosterior(self.spec, self.task)
        out = network_outputs(post, self.thetas()[None], Xs)
        noise = None if self.noise_var is None else self.noise_var[None]
        return Predictive(self.task, out, noise)

    def predict(self, X, *, interval: float = 0.9) -> dict[str, np.ndarray]:
        """``X`` as :meth:`predictive` takes it. Regression: mean, sd, lower, upper in original units (the
        interval is the exact central interval of the predictive mixture,
        :func:`~bayesprune.predictive.mixture_interval`; for a model of the target's logarithm also the median,
        its point prediction, then the mean and sd of the log-normal mixture and the interval's ends, all through
        the exponential). Classification: probabilities, class, sd."""
        from bayesprune.predictive import mixture_interval, mixture_quantile

        pred = self.predictive(X)
        if self.task == "regression":
            lo, hi = mixture_interval(pred.flat_outputs(), pred.noise_var, interval)
            inv = lambda v: _apply_scaler(self.header["y_scaler"], np.asarray(v)[:, None], inverse=True)[:, 0]  # noqa: E731
            a, c = (float(v[0]) for v in scaler_affine(self.header["y_scaler"], 1, inverse=True))
            if self.target_transform == "log":  # the median first: the point prediction (evaluation.stage)
                mean, sd = pred.exp_moments(a, c)
                median = mixture_quantile(pred.flat_outputs(), pred.noise_var, 0.5)
                return {"median": np.exp(inv(median)), "mean": mean, "sd": sd, "lower": np.exp(inv(lo)),
                        "upper": np.exp(inv(hi))}
            return {"mean": inv(pred.mean()), "sd": pred.std() * abs(a), "lower": inv(lo), "upper": inv(hi)}
        proba = pred.mean()
        top = proba.argmax(axis=1)
        return {"probabilities": proba, "class_index": top,
                "class": np.asarray(self.class_names, dtype=object)[top],
                "sd": pred.std()[np.arange(len(top)), top]}


def load_model(path) -> CompactModel:
    """Read and validate a compact model file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: model file not found; write one with 'bayesprune run --out DIR'") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError, zlib.error) as exc:
        raise InputError(f"{path}: not a bayesprune model file or it is truncated/corrupted ({exc})") from None
    if "header" not in arrays:
        raise InputError(f"{path}: no header; not a bayesprune model file")
    try:
        header = json.loads(arrays.pop("header").tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(f"{path}: the header is not valid JSON; the file is corrupted") from None
    if header.get("format") != FORMAT:
        raise InputError(f"{path}: not a bayesprune model file (format {header.get('format')!r})")
    if header.get("version") != VERSION:
        raise InputError(f"{path}: model format version {header.get('version')} is not supported (this bayesprune "
                         f"reads version {VERSION}); re-export it with a matching bayesprune")
    for name, digest in header.get("sha256", {}).items():
        if name not in arrays or hashlib.sha256(arrays[name].tobytes()).hexdigest() != digest:
            raise InputError(f"{path}: array '{name}' does not match its checksum; the file is corrupted")
    try:
        spec, draws, kept, noise = _checked_arrays(header, arrays)
    except _Inconsistent as exc:
        raise InputError(f"{path}: inconsistent model file: {exc}; re-export it with 'bayesprune run --out DIR'"
                         ) from None
    return CompactModel(header, spec, draws, kept, noise)


def _encodes(header: dict) -> bool:
    """Whether a header's text columns, encoded one-hot, and its filled columns, flagged, give exactly its
    feature names."""
    cats, fills, raw = header.get("categories", {}), header.get("fills", {}), header.get("raw_features")
    if not (isinstance(cats, dict) and isinstance(fills, dict) and isinstance(raw, list)
            and set(cats) | set(fills) <= set(raw) and not set(cats) & set(fills)
            and all(isinstance(v, list) and v and all(isinstance(c, str) for c in v) for v in cats.values())
            and all(isinstance(v, (int, float)) and np.isfinite(v) for v in fills.values())):
        return False
    return encoded_names(raw, cats, fills) == header["feature_names"]


def _valid_range(x_range, n_features: int) -> bool:
    if not (isinstance(x_range, dict) and set(x_range) == {"low", "high"}
            and all(isinstance(v, list) and len(v) == n_features for v in x_range.values())
            and all(isinstance(b, (int, float)) and not isinstance(b, bool) for v in x_range.values() for b in v)):
        return False
    low, high = np.asarray(x_range["low"], float), np.asarray(x_range["high"], float)
    return bool(np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and np.all(low <= high))


class _Inconsistent(Exception):
    """What is wrong inside a model file whose checksums match."""


def _checked_arrays(header: dict, arrays: dict[str, np.ndarray]):
    """The architecture and arrays of a model file, each checked against the header and the others."""
    try:
        spec = MLPSpec.from_dict(header["architecture"])
        layout, task, n_draws = header["layout"], header["task"], header["n_draws"]
        n_features, classes = len(header["feature_names"]), header["class_names"]
    except (KeyError, TypeError, ValueError, BayesPruneError) as exc:
        raise _Inconsistent(f"header entry missing or malformed ({exc})") from None
    if layout not in ("dense", "sparse"):
        raise _Inconsistent(f"unknown layout {layout!r}")
    if ("categories" in header or "fills" in header) and not _encodes(header):
        raise _Inconsistent("the categories of its text columns and its filled columns do not give its feature "
                            "names")
    if task not in ("regression", "classification"):
        raise _Inconsistent(f"unknown task {task!r}")
    if header.get("target_transform", "none") not in ("none", "log") or (
            task == "classification" and "target_transform" in header):
        raise _Inconsistent(f"unknown target transform {header.get('target_transform')!r}")
    if "x_range" in header and not _valid_range(header["x_range"], n_features):
        raise _Inconsistent(f"x_range must hold 'low' and 'high', {n_features} finite numbers each, low <= high")
    inputs = header.get("inputs", list(range(n_features)))
    if (not isinstance(inputs, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in inputs)
            or len(set(inputs)) != len(inputs) or any(i < 0 or i >= n_features for i in inputs)):
        raise _Inconsistent(f"inputs {inputs!r} must be distinct feature indices below {n_features}")
    if len(inputs) != spec.n_inputs:
        raise _Inconsistent(f"{len(inputs)} input features for {spec.n_inputs} network inputs")
    if task == "classification" and (not isinstance(classes, list) or len(classes) != spec.n_outputs):
        raise _Inconsistent(f"class names {classes!r} do not match the {spec.n_outputs} network outputs")
    if "draws" not in arrays:
        raise _Inconsistent("no draws")
    draws = arrays["draws"]
    if draws.dtype.kind != "f" or draws.ndim != 2 or draws.shape[0] != n_draws or draws.shape[0] == 0:
        raise _Inconsistent(f"draws of shape {draws.shape} and type {draws.dtype}, expected {n_draws} rows of floats")
    if not np.all(np.isfinite(draws)):
        raise _Inconsistent("non-finite values in the draws")
    kept = arrays.get("kept_idx")
    if layout == "dense":
        if kept is not None:
            raise _Inconsistent("a dense model with kept indices")
        width = spec.n_params
    else:
        if kept is None:
            raise _Inconsistent("a sparse model without kept indices")
        if kept.dtype.kind not in "iu" or kept.ndim != 1:
            raise _Inconsistent(f"kept indices must be a list of integers, got {kept.dtype} of shape {kept.shape}")
        if kept.size and (kept.min() < 0 or kept.max() >= spec.n_params):
            raise _Inconsistent(f"kept indices outside 0..{spec.n_params - 1}")
        if np.unique(kept).size != kept.size:
            raise _Inconsistent("duplicate kept indices")
        width = kept.size
    if draws.shape[1] != width:
        raise _Inconsistent(f"draws have {draws.shape[1]} columns for {width} parameters")
    noise = arrays.get("noise_var")
    if task == "regression":
        if noise is None:
            raise _Inconsistent("a regression model without noise variances")
        if noise.dtype.kind != "f" or noise.shape != (n_draws,):
            raise _Inconsistent(f"noise variances of shape {noise.shape}, expected ({n_draws},)")
        if not np.all(np.isfinite(noise) & (noise > 0)):
            raise _Inconsistent("noise variances must be finite and > 0")
    elif noise is not None:
        raise _Inconsistent("a classification model with noise variances")
    return spec, draws.astype(np.float32), None if kept is None else kept.astype(np.int64), noise
