"""The compact model file: a pruned, resampled posterior that really is smaller.

Format (``.bpz``, an uncompressed NumPy ``.npz`` archive read with ``allow_pickle=False``):

- ``header``: UTF-8 JSON as a uint8 array: ``format`` ("bayesprune-compact"), ``version``, the architecture,
  the task, feature and class names, the preprocessing (scaler parameters), the layout, the number of draws, and
  the SHA-256 of every other array (checked on load);
- ``layout = "dense"`` (structured pruning): dead hidden units are removed, so ``draws`` holds the parameters
  of a physically narrower network, shape ``(n_draws, n_params_compact)``;
- ``layout = "sparse"`` (unstructured pruning): ``kept_idx`` (int32) lists the kept positions of the full
  parameter vector and ``draws`` holds only their values, shape ``(n_draws, n_kept)``;
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

from bayesprune.errors import InputError
from bayesprune.io.atomic import atomic_path
from bayesprune.model.mlp import MLPSpec, hidden_unit_groups, hidden_unit_index
from bayesprune.posterior.logdensity import BNNPosterior

FORMAT = "bayesprune-compact"
VERSION = 1
EXTENSION = ".bpz"


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


def compact_spec(spec: MLPSpec, keep_mask: np.ndarray) -> tuple[MLPSpec, np.ndarray] | None:
    """For a mask that removes whole hidden units only: the narrower spec and, for each of its parameters, the
    index in the full vector. ``None`` when the mask is not unit-structured (some kept parameter would be lost)."""
    alive = {}
    for layer, _, idx in hidden_unit_groups(spec):
        alive.setdefault(layer, []).append(bool(keep_mask[idx[spec.widths[layer]]]))  # its bias
    hidden = tuple(int(sum(alive[layer])) for layer in range(len(spec.hidden)))
    if any(h == 0 for h in hidden):
        return None
    new = MLPSpec(spec.n_inputs, hidden, spec.n_outputs, spec.activation, spec.output)
    index = hidden_unit_index(spec, [np.flatnonzero(alive[layer]) for layer in range(len(spec.hidden))])
    if np.count_nonzero(keep_mask[index]) != np.count_nonzero(keep_mask):
        return None
    return new, index


def _thin(draws: np.ndarray, n_draws: int) -> np.ndarray:
    flat = draws.reshape(-1, draws.shape[-1])
    if n_draws >= flat.shape[0]:
        return flat
    return flat[np.linspace(0, flat.shape[0] - 1, n_draws).round().astype(int)]


def save_compact(ps, ds, path, *, n_draws: int = 200) -> Path:
    """Write a :class:`~bayesprune.api.PosteriorSample` as a compact model file; returns the path."""
    post: BNNPosterior = ps.posterior
    spec = post.spec
    z = _thin(np.asarray(ps.result.draws, np.float32), n_draws)
    theta = np.asarray(post.theta(z, None if ps.kept_idx is None else np.asarray(ps.kept_idx)), np.float32)
    keep = ps.keep_mask
    arrays: dict[str, np.ndarray] = {}
    layout_spec = spec
    packed = None if keep.all() else compact_spec(spec, keep)
    if keep.all():
        arrays["draws"] = theta
        layout = "dense"
    elif packed is not None and packed[0].n_params == int(keep.sum()):  # whole units removed: narrower layers
        layout_spec, index = packed
        arrays["draws"] = theta[:, index]
        layout = "dense"
    else:
        kept_idx = np.flatnonzero(keep).astype(np.int32)
        arrays["kept_idx"] = kept_idx
        arrays["draws"] = theta[:, kept_idx]
        layout = "sparse"
    if post.has_eta or post.task == "regression":
        arrays["noise_var"] = np.exp(np.asarray(post.log_noise_var(z), np.float32))
    header = {
        "format": FORMAT, "version": VERSION, "layout": layout, "task": post.task,
        "architecture": layout_spec.to_dict(), "full_architecture": spec.to_dict(),
        "n_params_full": int(spec.n_params), "n_params_kept": int(keep.sum()), "n_draws": int(z.shape[0]),
        "feature_names": list(ds.feature_names), "class_names": ds.class_names,
        "x_scaler": _scaler_params(ds.x_scaler), "y_scaler": _scaler_params(ds.y_scaler),
        "dataset": ds.name, "sha256": {k: hashlib.sha256(v.tobytes()).hexdigest() for k, v in arrays.items()},
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, header=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)
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
    def class_names(self) -> list[str] | None:
        return self.header["class_names"]

    def thetas(self) -> np.ndarray:
        if self.kept_idx is None:
            return self.draws
        full = np.zeros((self.draws.shape[0], self.spec.n_params), np.float32)
        full[:, self.kept_idx] = self.draws
        return full

    def predictive(self, X: np.ndarray):
        """The posterior predictive (a :class:`~bayesprune.predict.Predictive`) on raw inputs ``X``."""
        from bayesprune.predict import Predictive, network_outputs

        X = np.asarray(X, np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.feature_names):
            raise InputError(f"the model expects {len(self.feature_names)} features "
                             f"({', '.join(self.feature_names)}), got {X.shape[-1] if X.ndim else 0}")
        Xs = _apply_scaler(self.header["x_scaler"], X).astype(np.float32)
        post = BNNPosterior(self.spec, self.task)
        out = network_outputs(post, self.thetas()[None], Xs)
        noise = None if self.noise_var is None else self.noise_var[None]
        return Predictive(self.task, out, noise)

    def predict(self, X: np.ndarray, *, interval: float = 0.9, seed: int = 0) -> dict[str, np.ndarray]:
        """Regression: mean, sd, lower, upper in original units. Classification: probabilities, class, sd."""
        import jax

        pred = self.predictive(X)
        if self.task == "regression":
            lo, hi = pred.interval(jax.random.key(seed), interval)
            inv = lambda v: _apply_scaler(self.header["y_scaler"], np.asarray(v)[:, None], inverse=True)[:, 0]  # noqa: E731
            scale = 1.0
            ys = self.header["y_scaler"]
            if ys is not None:
                scale = float(np.abs(inv(np.ones(1)) - inv(np.zeros(1)))[0])
            return {"mean": inv(pred.mean()), "sd": pred.std() * scale, "lower": inv(lo), "upper": inv(hi)}
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
        spec = MLPSpec.from_dict(header["architecture"])
        draws = arrays["draws"].astype(np.float32)
        kept = arrays.get("kept_idx")
        width = spec.n_params if kept is None else len(kept)
        if draws.ndim != 2 or draws.shape[1] != width or header["layout"] not in ("dense", "sparse"):
            raise ValueError("draws do not fit the architecture")
        if kept is not None and (kept.min() < 0 or kept.max() >= spec.n_params):
            raise ValueError("kept indices out of range")
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(f"{path}: inconsistent model file ({exc})") from None
    return CompactModel(header, spec, draws, kept, arrays.get("noise_var"))


def dense_size_bytes(ps, n_draws: int = 200, *, compressed: bool = False) -> int:
    """Bytes of the same draws stored densely (every parameter, pruned ones as zeros) in the same format.

    ``compressed=True`` zips them instead (``np.savez_compressed``), which shrinks the runs of zeros.
    """
    z = _thin(np.asarray(ps.result.draws, np.float32), n_draws)
    theta = np.asarray(ps.posterior.theta(z, None if ps.kept_idx is None else np.asarray(ps.kept_idx)), np.float32)
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, draws=theta)
    return buf.getbuffer().nbytes


def compaction_report(ps, ds, model_path, *, repeats: int = 5) -> dict:
    """What compaction bought: parameters, bytes on disk and prediction time, compact against dense."""
    import time

    from bayesprune.predict import network_outputs

    model = load_model(model_path)
    dense_bytes = dense_size_bytes(ps, model.header["n_draws"])
    dense_zip_bytes = dense_size_bytes(ps, model.header["n_draws"], compressed=True)
    compact_bytes = Path(model_path).stat().st_size
    X = np.asarray(ds.X_test if len(ds.X_test) else ds.X_train, np.float32)
    dense_thetas = np.zeros((model.draws.shape[0], ps.spec.n_params), np.float32)
    full_post = BNNPosterior(ps.spec, ps.posterior.task)
    compact_post = BNNPosterior(model.spec, ps.posterior.task)
    compact_thetas = model.thetas()

    def best_time(fn) -> float:
        fn()  # compile
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    t_dense = best_time(lambda: network_outputs(full_post, dense_thetas[None], X))
    t_compact = best_time(lambda: network_outputs(compact_post, compact_thetas[None], X))
    rows = X.shape[0] * model.draws.shape[0]
    return {
        "layout": model.header["layout"], "n_draws": model.header["n_draws"],
        "n_params": int(ps.spec.n_params), "n_params_kept": model.header["n_params_kept"],
        "hidden_full": list(ps.spec.hidden), "hidden_compact": list(model.spec.hidden),
        "bytes_dense": int(dense_bytes), "bytes_compact": int(compact_bytes),
        "bytes_ratio": compact_bytes / dense_bytes, "bytes_dense_compressed": int(dense_zip_bytes),
        "predict_seconds_dense": t_dense, "predict_seconds_compact": t_compact,
        "predict_rows_per_s_dense": rows / t_dense, "predict_rows_per_s_compact": rows / t_compact,
    }
