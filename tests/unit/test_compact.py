"""The compact model file: round trip, real shrinkage, and refusal of files it cannot trust."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from bayesprune import api
from bayesprune.cli import main
from bayesprune.data import clip_inputs, clip_range, load_dataset
from bayesprune.errors import InputError
from bayesprune.io import compact
from bayesprune.model.mlp import hidden_unit_groups
from bayesprune.predictive import posterior_predictive


@pytest.fixture(scope="module")
def wine_models(tmp_path_factory):
    ds = load_dataset("wine", seed=0)
    full = api.sample(ds, sampler="hmc", chains=2, samples=800, seed=0)
    out = {}
    for structured in (False, True, "inputs"):
        pr = api.prune(full, criterion="stn", rate=0.75, structured=bool(structured),
                       prune_inputs=structured == "inputs")
        rs = api.resample(full, ds, pr, samples=400)
        path = compact.save_compact(rs, ds, tmp_path_factory.mktemp("m") / "model.bpz", n_draws=50)
        out[structured] = (rs, path)
    return ds, full, out


def test_a_model_of_clipped_inputs_clips_new_rows_as_the_test_rows_were(wine_models, tmp_path, capsys):
    """--clip-inputs: the file keeps the clip range, and predict on the raw test rows (some far outside the
    training rows' range) gives the in-memory predictive on the clipped test rows."""
    ds, _, models = wine_models
    rs, _ = models[False]
    low, high = ds.X_train.min(axis=0), ds.X_train.max(axis=0)
    far = ds.X_test.copy()
    far[:5, :3] = high[:3] + 2 * (high[:3] - low[:3])  # five rows two ranges past the edge in three inputs
    ds = dataclasses.replace(ds, X_test=far)
    clipped = clip_inputs(ds)
    assert clipped.meta["clipped_inputs"] and not np.array_equal(clipped.X_test, ds.X_test)
    model = compact.load_model(compact.save_compact(rs, clipped, tmp_path / "model.bpz", n_draws=50))
    assert model.header["x_range"]["low"] == clip_range(ds.X_train)[0].tolist()
    got = model.predict(ds.x_scaler.inverse_transform(ds.X_test))["probabilities"]  # the rows as read
    z = compact._thin(np.asarray(rs.result.draws), 50)
    ref = posterior_predictive(rs.posterior, z[None], clipped.X_test, rs.kept_idx).mean()
    np.testing.assert_allclose(got, ref, atol=1e-4)
    raw = ds.x_scaler.inverse_transform(ds.X_test)
    outside = model.outside_range(raw)
    np.testing.assert_array_equal(outside, np.any(clipped.X_test != ds.X_test, axis=1))
    assert not compact.load_model(models[False][1]).outside_range(raw).any()  # a model without the clip
    rows = tmp_path / "rows.csv"
    rows.write_text(",".join(ds.feature_names) + "\n" + "\n".join(",".join(repr(float(v)) for v in r) for r in raw))
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "model.bpz"), "--csv", str(rows), "--out", str(tmp_path / "p.csv")]) == 0
    assert outside.sum() >= 5
    assert (f"{int(outside.sum())} of {len(raw)} rows have an input more than half the training rows' range past "
            f"it, clipped there") in capsys.readouterr().err


@pytest.mark.parametrize("structured", [False, True, "inputs"])
def test_round_trip_matches_in_memory_predictive(wine_models, structured):
    ds, _, models = wine_models
    rs, path = models[structured]
    model = compact.load_model(path)
    assert model.header["layout"] == ("dense" if structured else "sparse")
    raw = ds.x_scaler.inverse_transform(ds.X_test)
    got = model.predict(raw)["probabilities"]
    z = compact._thin(np.asarray(rs.result.draws), 50)
    ref = posterior_predictive(rs.posterior, z[None], ds.X_test, rs.kept_idx).mean()
    np.testing.assert_allclose(got, ref, atol=1e-4)
    if structured == "inputs":  # 75% of the 13 features removed: the file's network reads the other 3
        assert model.spec.n_inputs == 3 and len(model.header["inputs"]) == 3
        w, _ = rs.spec.layer_slices[0]
        kept = np.flatnonzero(rs.keep_mask[w].reshape(13, -1).any(axis=1))
        assert model.header["inputs"] == kept.tolist()
    if structured:
        assert sum(model.spec.hidden) < sum(rs.spec.hidden)
        assert model.spec.n_params == model.header["n_params_kept"]
    else:  # the repaired mask leaves dead units without any parameter: the file's network has fewer units
        dead = sum(1 for _, _, g in hidden_unit_groups(rs.spec) if not rs.keep_mask[g].any())
        assert sum(model.spec.hidden) == sum(rs.spec.hidden) - dead
        assert model.kept_idx.size == model.header["n_params_kept"] == rs.n_params_kept


def _onnx_outputs(model_path, onnx_path, X) -> dict[str, np.ndarray]:
    """ONNX Runtime's outputs for the ONNX export of a model file (skipped without the optional extra)."""
    ort = pytest.importorskip("onnxruntime")
    from bayesprune.io.onnx_export import export_onnx

    sess = ort.InferenceSession(str(export_onnx(model_path, onnx_path)), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {"X": np.asarray(X, np.float32)}), strict=True))


@pytest.mark.parametrize("structured", [False, True, "inputs"])
def test_onnx_export_of_sampled_models_equals_predict(wine_models, structured, tmp_path):
    """The real wine posteriors (sparse, structured, with features removed) through ONNX Runtime: the same class
    probabilities as the model's own predict."""
    ds, _, models = wine_models
    raw = ds.x_scaler.inverse_transform(ds.X_test)
    got = _onnx_outputs(models[structured][1], tmp_path / "m.onnx", raw)["probabilities"]
    np.testing.assert_allclose(got, compact.load_model(models[structured][1]).predict(raw)["probabilities"],
                               rtol=1e-5, atol=1e-7)


def test_regression_round_trip_in_original_units(tmp_path):
    ds = load_dataset("diabetes", seed=0)
    full = api.sample(ds, sampler="hmc", chains=2, samples=2000, seed=0)
    pr = api.prune(full, criterion="spn", rate=0.5, structured=True)
    rs = api.resample(full, ds, pr, samples=400)
    path = compact.save_compact(rs, ds, tmp_path / "m.bpz", n_draws=40)
    res = compact.load_model(path).predict(ds.x_scaler.inverse_transform(ds.X_test))
    z = compact._thin(np.asarray(rs.result.draws), 40)
    ref = posterior_predictive(rs.posterior, z[None], ds.X_test, rs.kept_idx).mean()
    np.testing.assert_allclose(res["mean"], ds.inverse_y(ref), rtol=1e-4, atol=1e-2)
    assert np.all(res["lower"] <= res["mean"]) and np.all(res["mean"] <= res["upper"])
    assert res["mean"].mean() > 10  # original units (disease progression ~ 25..346), not scaled [0, 1]
    got = _onnx_outputs(path, tmp_path / "m.onnx", ds.x_scaler.inverse_transform(ds.X_test))  # the same numbers
    for k in ("mean", "sd"):
        np.testing.assert_allclose(got[k], res[k], rtol=1e-5)
    for k in ("lower", "upper"):  # float32 bisection in the graph, float64 in predict
        np.testing.assert_allclose(got[k], res[k], rtol=1e-5, atol=1e-5 * res["sd"].min())


def _rewrite(path, tmp_path, **changes):
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(arrays.pop("header").tobytes())
    header.update(changes)
    out = tmp_path / "edited.bpz"
    with open(out, "wb") as fh:  # a file object: np.savez would append .npz to a bare name
        np.savez(fh, header=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)
    return out


def test_untrusted_files_refused(wine_models, tmp_path):
    _, _, models = wine_models
    path = models[True][1]
    data = path.read_bytes()
    cases = {
        "truncated": data[: len(data) // 2],
        "corrupted": data[:200] + bytes(b ^ 0xFF for b in data[200:260]) + data[260:],
        "not a model": b"hello",
    }
    for name, blob in cases.items():
        p = tmp_path / f"{name}.bpz"
        p.write_bytes(blob)
        with pytest.raises(InputError) as err:
            compact.load_model(p)
        assert "\n" not in str(err.value) and str(p) in str(err.value)
    with pytest.raises(InputError, match="version 99 is not supported"):
        compact.load_model(_rewrite(path, tmp_path, version=99))
    with pytest.raises(InputError, match="checksum"):
        bad = _rewrite(path, tmp_path, sha256={"draws": "0" * 64})
        compact.load_model(bad)
    inconsistent = "categories of its text columns and its filled columns do not give its feature names"
    with pytest.raises(InputError, match=inconsistent):
        compact.load_model(_rewrite(path, tmp_path, categories={"colour": ["red"]}, raw_features=["colour"]))
    names = compact.load_model(path).feature_names
    with pytest.raises(InputError, match=inconsistent):  # a fill without its flag input among the features
        compact.load_model(_rewrite(path, tmp_path, fills={names[0]: 0.5}, raw_features=names))
    with pytest.raises(InputError, match=inconsistent):  # a fill that is not a finite number
        compact.load_model(_rewrite(path, tmp_path, fills={names[0]: "x"}, raw_features=names))
    n = len(names)
    for bad in ({"low": [0.0] * n}, {"low": [0.0] * n, "high": [1.0] * (n - 1)},
                {"low": [1.0] * n, "high": [0.0] * n}, {"low": [0.0] * n, "high": ["1"] * n}):
        with pytest.raises(InputError, match="x_range must hold"):
            compact.load_model(_rewrite(path, tmp_path, x_range=bad))
    with pytest.raises(InputError, match="not found"):
        compact.load_model(tmp_path / "nope.bpz")


def test_predict_cli(wine_models, tmp_path, capsys):
    ds, _, models = wine_models
    path = models[False][1]
    raw = ds.x_scaler.inverse_transform(ds.X_test[:5])
    with_header = tmp_path / "h.csv"
    with_header.write_text(",".join(reversed(ds.feature_names)) + "\n" + "\n".join(
        ",".join(f"{v:.6f}" for v in row[::-1]) for row in raw))
    no_header = tmp_path / "n.csv"
    no_header.write_text("\n".join(",".join(f"{v:.6f}" for v in row) for row in raw))
    out_csv = tmp_path / "p.csv"
    assert main(["predict", str(path), "--csv", str(with_header), "--out", str(out_csv)]) == 0
    lines = out_csv.read_text().splitlines()
    assert lines[0].startswith("class,sd,p_class_0") and len(lines) == 6
    capsys.readouterr()
    assert main(["predict", str(path), "--csv", str(no_header)]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == lines[1:]
    wrong = tmp_path / "w.csv"
    wrong.write_text("1,2,3\n4,5,6\n")
    assert main(["predict", str(path), "--csv", str(wrong)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "13 features" in err
    named = tmp_path / "x.csv"
    named.write_text("alcohol,malic_acid\n1,2\n")
    assert main(["predict", str(path), "--csv", str(named)]) == 2
    assert "missing feature column" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "none.bpz"), "--csv", str(named)]) == 2


def test_prune_at_a_rate_per_layer(wine_models):
    ds, full, _ = wine_models
    # wine: 13-12-3, weight layers of 168 and 39 parameters; without the repair each layer's count is exact
    pr = api.prune(full, criterion="stn", layer_rates=(0.5, 0.9), repair=False)
    removed = [int((~pr.keep_mask[full.spec.param_layer == layer]).sum()) for layer in range(2)]
    assert removed == [84, 35]
    assert pr.rate == pytest.approx(119 / full.spec.n_params)
    # the repair (default) moves parameters of dead units between layers and keeps the total
    repaired = api.prune(full, criterion="stn", layer_rates=(0.5, 0.9))
    assert int((~repaired.keep_mask).sum()) == 119 and repaired.rate == pr.rate
    with pytest.raises(ValueError, match="layer_rates prune in one step"):
        api.compress(full, ds, layer_rates=(0.5, 0.9), schedule="gradual")
