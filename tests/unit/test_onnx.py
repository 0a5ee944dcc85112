"""ONNX export of compact models: ONNX Runtime's predictive equals `bayesprune predict`'s (classification and
regression, dense and sparse layouts, with and without dropped input features), the graph passes onnx.checker,
carries its metadata, runs in a process that never imports JAX, and bad model files get the usual one-line error."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import onnx  # noqa: E402

from bayesprune.cli import main  # noqa: E402
from bayesprune.errors import InputError  # noqa: E402
from bayesprune.indices import evenly_spaced  # noqa: E402
from bayesprune.io import compact  # noqa: E402
from bayesprune.io.onnx_export import export_onnx  # noqa: E402
from bayesprune.model import MLPSpec  # noqa: E402
from bayesprune.predictive import mixture_interval, mixture_quantile  # noqa: E402

N_FEATURES = 5


def _write_model(path, *, task: str, layout: str, drop_inputs: bool, seed: int = 0, n_draws: int = 40,
                 categories: bool = False, log: bool | str = False, x_range: dict | None = None):
    """A compact model file in bayesprune's format with random draws (ONNX must reproduce any draws, so these
    need not come from a posterior): features scaled like a real run's, the target too for regression."""
    rng = np.random.default_rng(seed)
    inputs = [0, 2, 3, 4] if drop_inputs else list(range(N_FEATURES))
    cls = task == "classification"
    spec = MLPSpec(len(inputs), (6, 4), 3 if cls else 1, "tanh" if cls else "sigmoid",
                   "softmax" if cls else "identity")
    theta = rng.normal(0, 1.0, (n_draws, spec.n_params)).astype(np.float32)
    arrays = {}
    if layout == "sparse":
        kept = np.sort(rng.choice(spec.n_params, spec.n_params // 3, replace=False)).astype(np.int32)
        arrays["kept_idx"], arrays["draws"] = kept, theta[:, kept]
    else:
        kept, arrays["draws"] = None, theta
    if not cls:
        arrays["noise_var"] = rng.uniform(0.01, 0.2, n_draws).astype(np.float32)
    x_scaler = ({"kind": "minmax", "min": [-1.0, 0, 2, 3, 10], "range": [2.0, 5, 1, 0, 4], "feature_range": [0, 1]}
                if cls else {"kind": "zscore", "mean": [1.0, -2, 0, 5, 3], "scale": [2.0, 0.5, 1, 3, 0]})
    full = MLPSpec(N_FEATURES, (8, 4), spec.n_outputs, spec.activation, spec.output)
    header = {
        "format": compact.FORMAT, "version": compact.VERSION, "layout": layout, "task": task,
        "architecture": spec.to_dict(), "full_architecture": full.to_dict(), "n_params_full": full.n_params,
        "n_params_kept": int(spec.n_params if kept is None else kept.size), "n_draws": n_draws,
        "feature_names": [f"x{i}" for i in range(N_FEATURES)], "class_names": ["a", "b", "c"] if cls else None,
        "x_scaler": x_scaler, "y_scaler": None if cls else {"kind": "zscore", "mean": [20.0], "scale": [4.0]},
        "dataset": "synthetic", "sha256": {k: hashlib.sha256(v.tobytes()).hexdigest() for k, v in arrays.items()},
    }
    if drop_inputs:
        header["inputs"] = inputs
    if x_range is not None:  # inputs clipped to the training rows' range (--clip-inputs)
        header["x_range"] = x_range
    if log:  # a model of the target's logarithm (--target-transform log), about e^2 on average; a text: that one
        header.update(target_transform="log" if log is True else log,
                      y_scaler={"kind": "zscore", "mean": [2.0], "scale": [0.5]})
    if categories:  # a numeric column with missing cells, filled and flagged, then a text column, one-hot
        header.update(feature_names=["x0", "x0=(missing)", "c=p", "c=q", "c=(missing)"],
                      categories={"c": ["p", "q", "(missing)"]}, fills={"x0": 2.5}, raw_features=["x0", "c"])
    with open(path, "wb") as fh:
        np.savez(fh, header=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)
    return compact.load_model(path)


def _rows(n: int = 64, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(2.0, 3.0, (n, N_FEATURES))


def _run(path, X) -> dict[str, np.ndarray]:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {"X": X.astype(np.float32)}), strict=True))


CASES = [(task, layout, drop) for task in ("classification", "regression") for layout in ("dense", "sparse")
         for drop in (False, True)]


@pytest.mark.parametrize(("task", "layout", "drop_inputs"), CASES)
def test_onnx_runtime_equals_predict(tmp_path, task, layout, drop_inputs):
    model = _write_model(tmp_path / "m.bpz", task=task, layout=layout, drop_inputs=drop_inputs)
    path = export_onnx(model, tmp_path / "m.onnx", include_draws=True)
    onnx.checker.check_model(str(path))
    X = _rows()
    got, want = _run(path, X), model.predict(X)
    if task == "classification":
        np.testing.assert_allclose(got["probabilities"], want["probabilities"], rtol=1e-5, atol=1e-7)
        assert got["draws"].shape == (40, len(X), 3)
        return
    np.testing.assert_allclose(got["mean"], want["mean"], rtol=1e-5)
    np.testing.assert_allclose(got["sd"], want["sd"], rtol=1e-5)
    # The interval: a float32 bisection in the graph against float64 in predict; the mixture's CDF in float32 is
    # good to ~1e-6, which moves a quantile by ~1e-6 / density ~ 1e-5 of the predictive sd.
    for end in ("lower", "upper"):
        np.testing.assert_allclose(got[end], want[end], rtol=1e-5, atol=1e-5 * float(want["sd"].min()))
    assert got["draws"].shape == (40, len(X), 1)


def test_a_model_of_the_targets_logarithm(tmp_path):
    """--target-transform log: predict's interval and median are the exponential of the logarithm's (the same
    file read as a model of the target itself), its mean and sd the log-normal mixture's (against 200,000 values
    drawn from the mixture: a sampling error of about 0.3% of the sd, asserted at 3%); ONNX Runtime gives the
    same, the median among its outputs."""
    plain = _write_model(tmp_path / "plain.bpz", task="regression", layout="sparse", drop_inputs=False)
    model = _write_model(tmp_path / "log.bpz", task="regression", layout="sparse", drop_inputs=False, log=True)
    X = _rows(8)
    want, logs = model.predict(X), plain.predict(X)
    assert model.target_transform == "log" and plain.target_transform == "none"
    a, c = 0.5, 2.0  # the log model's target scaler; the plain file's maps by 4 and 20
    logs["median"] = 4.0 * mixture_quantile(plain.predictive(X).flat_outputs(), plain.noise_var, 0.5) + 20.0
    for end in ("lower", "median", "upper"):
        np.testing.assert_allclose(want[end], np.exp(a * (logs[end] - 20.0) / 4.0 + c), rtol=1e-6)
    pred = model.predictive(X)
    rng = np.random.default_rng(5)
    pick = rng.integers(0, pred.flat_outputs().shape[0], 200_000)
    z = pred.flat_outputs()[pick] + rng.normal(size=(200_000, len(X))) * np.sqrt(pred.noise_var.reshape(-1))[pick, None]
    values = np.exp(a * z + c)
    np.testing.assert_allclose(want["mean"], values.mean(axis=0), atol=0.03 * float(want["sd"].min()))
    np.testing.assert_allclose(want["sd"], values.std(axis=0), rtol=0.03)
    path = export_onnx(model, tmp_path / "log.onnx", include_draws=True)
    got = _run(path, X)
    for key in ("median", "mean", "sd", "lower", "upper"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5)
    assert (got["lower"] > 0).all()
    with pytest.raises(InputError, match="unknown target transform 'sqrt'"):
        _write_model(tmp_path / "bad.bpz", task="regression", layout="sparse", drop_inputs=False, log="sqrt")


def test_interval_is_the_mixture_quantile():
    """The bisection's ends have mixture CDF 0.05 and 0.95 (checked with SciPy's normal CDF), and for one draw
    they are the Gaussian's own quantiles."""
    from scipy.stats import norm

    rng = np.random.default_rng(3)
    f, tau2 = rng.normal(0, 1, (30, 7)), rng.uniform(0.05, 0.5, 30)
    lo, hi = mixture_interval(f, tau2, 0.9)
    cdf = lambda x: norm.cdf((x[None] - f) / np.sqrt(tau2)[:, None]).mean(0)  # noqa: E731
    np.testing.assert_allclose(cdf(lo), 0.05, atol=1e-12)
    np.testing.assert_allclose(cdf(hi), 0.95, atol=1e-12)
    lo1, hi1 = mixture_interval(f[:1], tau2[:1], 0.8)
    np.testing.assert_allclose(lo1, f[0] + norm.ppf(0.1) * np.sqrt(tau2[0]), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hi1, f[0] + norm.ppf(0.9) * np.sqrt(tau2[0]), rtol=1e-12, atol=1e-12)


def test_metadata_draw_subset_and_size(tmp_path):
    model = _write_model(tmp_path / "m.bpz", task="regression", layout="sparse", drop_inputs=True)
    path = export_onnx(model, tmp_path / "m.onnx", draws=10)
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(meta["features"]) == model.feature_names
    assert meta["n_draws"] == "10" and meta["dataset"] == "synthetic" and meta["task"] == "regression"
    assert json.loads(meta["architecture"])["hidden"] == [6, 4]
    assert float(meta["share_removed"]) == pytest.approx(1 - model.header["n_params_kept"] / model.header[
        "n_params_full"])
    # the 10 draws are the model's evenly spaced ones: the mean equals predict's over those draws
    pick = evenly_spaced(40, 10)
    sub = compact.CompactModel(dict(model.header, n_draws=10), model.spec, model.draws[pick], model.kept_idx,
                               model.noise_var[pick])
    X = _rows(8)
    np.testing.assert_allclose(_run(path, X)["mean"], sub.predict(X)["mean"], rtol=1e-5)
    full = export_onnx(model, tmp_path / "all.onnx")  # the sparse file holds what the .bpz holds
    assert full.stat().st_size <= 1.2 * (tmp_path / "m.bpz").stat().st_size + 4096  # + the graph itself


def test_exported_model_runs_without_jax(tmp_path):
    model = _write_model(tmp_path / "m.bpz", task="classification", layout="sparse", drop_inputs=True)
    path = export_onnx(model, tmp_path / "m.onnx")
    X = _rows(5)
    np.save(tmp_path / "X.npy", X)
    code = ("import sys, numpy as np, onnxruntime as ort\n"
            f"s = ort.InferenceSession({str(path)!r})\n"
            f"p = s.run(['probabilities'], {{'X': np.load({str(tmp_path / 'X.npy')!r}).astype(np.float32)}})[0]\n"
            "assert not any(m == 'jax' or m.startswith(('jax.', 'bayesprune')) for m in sys.modules), 'jax loaded'\n"
            "print(repr(p.tolist()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    np.testing.assert_allclose(np.array(eval(out.stdout)), model.predict(X)["probabilities"], rtol=1e-5, atol=1e-7)


def test_cli_export_and_bad_files(tmp_path, capsys):
    _write_model(tmp_path / "m.bpz", task="regression", layout="dense", drop_inputs=False)
    assert main(["export", str(tmp_path / "m.bpz"), "--format", "onnx", "-o", str(tmp_path / "m.onnx"),
                 "--draws", "12"]) == 0
    assert "m.onnx" in capsys.readouterr().err
    assert {p.key: p.value for p in onnx.load(str(tmp_path / "m.onnx")).metadata_props}["n_draws"] == "12"
    foreign = tmp_path / "foreign.bpz"
    np.savez(open(foreign, "wb"), a=np.zeros(3))
    truncated = tmp_path / "truncated.bpz"
    truncated.write_bytes((tmp_path / "m.bpz").read_bytes()[:100])
    for bad in (foreign, truncated, tmp_path / "missing.bpz"):
        assert main(["export", str(bad), "-o", str(tmp_path / "x.onnx")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and str(bad) in err
        assert not (tmp_path / "x.onnx").exists()
    assert main(["export", str(tmp_path / "m.bpz"), "-o", str(tmp_path / "x.onnx"), "--draws", "0"]) == 2
    assert "--draws" in capsys.readouterr().err


def test_the_categories_of_text_columns_and_the_fills_travel_in_the_metadata(tmp_path):
    model = _write_model(tmp_path / "m.bpz", task="regression", layout="dense", drop_inputs=False, categories=True)
    assert model.raw_features == ["x0", "c"] and model.categories == {"c": ["p", "q", "(missing)"]}
    frame = pd.DataFrame({"c": ["q", "p", "NA"], "x0": ["2.0", "", "3.0"], "other": [1, 2, 3]})
    np.testing.assert_array_equal(model.inputs(frame), [[2.0, 0, 0, 1, 0], [2.5, 1, 1, 0, 0], [3.0, 0, 0, 0, 1]])
    assert model.predict(frame)["mean"].tolist() == model.predict(model.inputs(frame))["mean"].tolist()
    with pytest.raises(InputError, match="the data: row 2, column 2 \\('c'\\): 's' is not a category the model "
                       "knows \\(p, q\\); use one of them, or leave the cell empty"):
        model.inputs(frame.assign(c=["p", "s", "q"]))
    with pytest.raises(InputError, match="no column\\(s\\) x0"):
        model.inputs(frame.drop(columns="x0"))
    meta = {p.key: p.value for p in onnx.load(export_onnx(model, tmp_path / "m.onnx")).metadata_props}
    assert json.loads(meta["categories"]) == {"c": ["p", "q", "(missing)"]} and json.loads(meta["fills"]) == {"x0": 2.5}
    assert json.loads(meta["features"]) == ["x0", "x0=(missing)", "c=p", "c=q", "c=(missing)"]


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_inputs_clipped_to_the_training_range_in_the_graph_as_in_predict(tmp_path, task):
    """--clip-inputs: the graph clips the scaled inputs to the model's x_range as predict does, so rows far
    outside the range get the predictions of the nearest point inside it."""
    bounds = {"low": [-0.5, 0.0, -1.0, 0.2, 0.0], "high": [0.5, 1.0, 1.0, 0.2, 2.0]}
    model = _write_model(tmp_path / "m.bpz", task=task, layout="sparse", drop_inputs=True, x_range=bounds)
    path = export_onnx(model, tmp_path / "m.onnx")
    X = _rows(seed=3) * 10.0  # most cells far outside the range
    got, want = _run(path, X), model.predict(X)
    key = "probabilities" if task == "classification" else "mean"
    np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-7)
    unclipped = _write_model(tmp_path / "u.bpz", task=task, layout="sparse", drop_inputs=True)
    assert not np.allclose(unclipped.predict(X)[key], want[key])  # the clip changed these rows' predictions
    meta = {p.key: p.value for p in onnx.load(path).metadata_props}
    ends = json.loads(meta["input_range"])  # in X's own units: rows clipped to them predict the same
    inside = np.clip(X, ends["low"], ends["high"])
    np.testing.assert_allclose(_run(path, inside)[key], got[key], rtol=1e-5, atol=1e-6)
    assert "input_range" not in {p.key for p in onnx.load(export_onnx(unclipped, tmp_path / "u.onnx")).metadata_props}
