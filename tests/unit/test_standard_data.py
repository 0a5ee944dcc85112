"""The field's standard data sets, on small generated files in their layouts: UCI regression folders on fixed
splits (`--dataset uci/<folder> --split K`) and MNIST's IDX files; bad or truncated files get one clear line."""

from __future__ import annotations

import gzip
import json
import struct

import numpy as np
import pytest

from bayesprune.cli import main
from bayesprune.data import fetch, load_dataset
from bayesprune.errors import InputError, OptionError
from bayesprune.settings import RunConfig


def _uci(root, name: str = "toy", n: int = 40, seed: int = 0):
    """A UCI folder: 3 features and the target in column 2 (between features), 2 fixed splits, 7 hidden."""
    rng = np.random.default_rng(seed)
    folder = root / "uci" / name
    folder.mkdir(parents=True)
    X = rng.normal(5.0, 2.0, (n, 3))
    y = 10 + 3 * X[:, 0] - X[:, 2] + rng.normal(0, 0.5, n)
    data = np.column_stack([X[:, :2], y, X[:, 2]])
    np.savetxt(folder / "data.txt", data)
    np.savetxt(folder / "index_features.txt", [0, 1, 3], fmt="%d")
    np.savetxt(folder / "index_target.txt", [2], fmt="%d")
    (folder / "n_splits.txt").write_text("2\n")
    (folder / "n_hidden.txt").write_text("7\n")
    for k in range(2):
        perm = np.random.default_rng(k).permutation(n)
        np.savetxt(folder / f"index_train_{k}.txt", perm[: n - 8], fmt="%d")
        np.savetxt(folder / f"index_test_{k}.txt", perm[n - 8:], fmt="%d")
    return folder, data


def _idx(path, array: np.ndarray) -> None:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def _mnist(root, n_train: int = 12, n_test: int = 5):
    folder = root / "mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    imgs = {p: rng.integers(0, 256, (n, 28, 28)) for p, n in (("train", n_train), ("t10k", n_test))}
    _idx(folder / "train-images-idx3-ubyte.gz", imgs["train"])
    _idx(folder / "train-labels-idx1-ubyte.gz", np.arange(n_train) % 10)
    _idx(folder / "t10k-images-idx3-ubyte.gz", imgs["t10k"])
    _idx(folder / "t10k-labels-idx1-ubyte.gz", np.arange(n_test) % 10)
    return folder, imgs


def test_uci_folder_on_its_fixed_split_standardised_on_the_training_rows(tmp_path):
    folder, data = _uci(tmp_path)
    ds = load_dataset("uci/toy", data_dir=tmp_path, split=1)
    train = np.loadtxt(folder / "index_train_1.txt", dtype=int)
    test = np.loadtxt(folder / "index_test_1.txt", dtype=int)
    assert ds.task == "regression" and ds.hidden == (7,) and ds.meta == {"split": 1, "n_splits": 2}
    assert ds.X_train.shape == (32, 3) and ds.X_test.shape == (8, 3)
    np.testing.assert_allclose(ds.X_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.X_train.std(0), 1, atol=1e-5)
    # the target in its own units comes back exactly, for the split's own rows
    np.testing.assert_allclose(ds.inverse_y(ds.y_test), data[test, 2], rtol=1e-5)
    np.testing.assert_allclose(ds.inverse_y(ds.y_train), data[train, 2], rtol=1e-5)
    other = load_dataset("uci/toy", data_dir=tmp_path, split=0)
    assert not np.allclose(other.y_test, ds.y_test)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda f: (f / "data.txt").write_text("1 2 3 4\n1 2 x 4\n"), "data.txt: row 2"),
    (lambda f: (f / "data.txt").write_text("1 2 3 4\n1 2 3\n"), "data.txt: row 2 has 3 values"),
    (lambda f: (f / "index_test_1.txt").write_text("0\n99\n"), "index_test_1.txt: row 2: row 99 is outside"),
    (lambda f: (f / "index_test_1.txt").write_text(open(f / "index_train_1.txt").read()), "also in index_train"),
    (lambda f: (f / "index_target.txt").write_text("1\n"), "index_target.txt: must name one column"),
    (lambda f: (f / "index_train_1.txt").unlink(), "index_train_1.txt: file not found"),
])
def test_bad_uci_files_get_one_line_naming_the_file(tmp_path, edit, message):
    folder, _ = _uci(tmp_path)
    edit(folder)
    with pytest.raises(InputError, match=message) as err:
        load_dataset("uci/toy", data_dir=tmp_path, split=1)
    assert "\n" not in str(err.value) and str(folder) in str(err.value)


def test_uci_split_out_of_range_and_unknown_folder(tmp_path):
    _uci(tmp_path)
    with pytest.raises(InputError, match=r"--split 0\.\.1"):
        load_dataset("uci/toy", data_dir=tmp_path, split=2)
    with pytest.raises(InputError, match="uci/nope"):
        load_dataset("uci/nope", data_dir=tmp_path)
    with pytest.raises(OptionError, match="split"):  # --split means nothing for other data sets
        RunConfig(dataset="iris", split=1).validate()


def test_mnist_from_idx_files(tmp_path):
    _, imgs = _mnist(tmp_path)
    ds = load_dataset("mnist", data_dir=tmp_path)
    assert ds.X_train.shape == (12, 784) and ds.X_test.shape == (5, 784) and ds.hidden == (300, 100)
    np.testing.assert_allclose(ds.X_train, imgs["train"].reshape(12, -1) / 255.0, rtol=1e-6)
    assert ds.X_train.dtype == np.float32 and ds.x_scaler is None
    assert ds.class_names == [str(d) for d in range(10)] and ds.y_test.tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("damage", ["truncate", "magic", "labels"])
def test_bad_mnist_files_get_one_line_naming_the_file(tmp_path, damage):
    folder, _ = _mnist(tmp_path)
    path = folder / "train-images-idx3-ubyte.gz"
    if damage == "truncate":
        raw = gzip.decompress(path.read_bytes())
        path.write_bytes(gzip.compress(raw[:-100]))
        message = "truncated"
    elif damage == "magic":
        raw = bytearray(gzip.decompress(path.read_bytes()))
        raw[2] = 0x0D  # float data, not unsigned bytes
        path.write_bytes(gzip.compress(bytes(raw)))
        message = "not an IDX file"
    else:
        path = folder / "train-labels-idx1-ubyte.gz"
        _idx(path, np.arange(11) % 10)
        message = "11 labels for 12 images"
    with pytest.raises(InputError, match=message) as err:
        load_dataset("mnist", data_dir=tmp_path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_fetch_mnist_checks_every_file(tmp_path, data_dir):
    """From a mirror folder (a file:// URL): the published files are copied after their checksums match; files
    that are not the published ones are refused and nothing is written."""
    got = fetch("mnist", url=(data_dir / "mnist").as_uri(), dest=tmp_path / "cache")
    assert load_dataset("mnist", data_dir=got).X_train.shape == (60000, 784)
    fake, _ = _mnist(tmp_path / "fake")
    with pytest.raises(InputError, match="SHA-256"):
        fetch("mnist", url=fake.as_uri(), dest=tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_cli_runs_a_uci_split_and_lists_the_sets(tmp_path, capsys):
    _uci(tmp_path)
    _mnist(tmp_path)
    assert main(["data", "list", "--data-dir", str(tmp_path)]) == 0
    listing = capsys.readouterr().out
    assert "uci/toy" in listing and "mnist" in listing
    out = tmp_path / "run"
    assert main(["run", "--dataset", "uci/toy", "--split", "1", "--data-dir", str(tmp_path), "--sampler", "hmc",
                 "--samples", "200", "--resample-samples", "100", "--quiet", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["split"] == 1 and metrics["architecture"]["hidden"] == [7]
    assert main(["run", "--split", "1", "--quiet"]) == 2
    assert "--split" in capsys.readouterr().err


def test_posterior_file_leaves_out_a_large_pointwise_log_likelihood(tmp_path, fake_sample, monkeypatch):
    """Draws x rows beyond the limit are not stored (MNIST would write 960 MB of them); the file says so."""
    from bayesprune.io import posterior as post_io

    ds = load_dataset("iris", seed=0)
    ps = fake_sample()  # 4 chains x 20 draws on 90 training rows: 7,200 values
    post_io.save_posterior(ps, ds, tmp_path / "small.nc")
    small = post_io.load_posterior(tmp_path / "small.nc")
    assert "log_likelihood" in small.groups() and small.attrs["log_likelihood"] == "stored"
    monkeypatch.setattr(post_io, "LOGLIK_MAX_VALUES", 7_199)
    post_io.save_posterior(ps, ds, tmp_path / "large.nc")
    large = post_io.load_posterior(tmp_path / "large.nc")
    assert "log_likelihood" not in large.groups()
    assert large.attrs["log_likelihood"].startswith("not stored (7,200 values")
    post_io.save_posterior(ps, ds, tmp_path / "asked.nc", log_likelihood=True)  # on request, whatever the size
    assert "log_likelihood" in post_io.load_posterior(tmp_path / "asked.nc").groups()


def test_posterior_file_thins_the_draws_of_a_large_network(tmp_path, fake_sample):
    """Beyond the limit the file keeps evenly spaced draws of every chain (LeNet-300-100 would write 1.1 GB), its
    sample stats aligned with them; at least 4 per chain; None keeps them all."""
    from bayesprune.io import posterior as post_io

    ds = load_dataset("iris", seed=0)
    ps = fake_sample()  # 4 chains x 20 draws
    dim = ps.result.draws.shape[-1]
    post_io.save_posterior(ps, ds, tmp_path / "thin.nc", max_values=4 * 5 * dim)
    thin = post_io.load_posterior(tmp_path / "thin.nc")
    assert thin.posterior.sizes["draw"] == 5 and thin.attrs["draws_stored"] == "5 of the 20 kept per chain"
    keep = post_io.stored_draws(4, 20, dim, 4 * 5 * dim)
    np.testing.assert_array_equal(keep, [0, 5, 10, 14, 19])
    np.testing.assert_allclose(thin.posterior["theta"].values, ps.result.draws[:, keep, :ps.n_params_kept])
    np.testing.assert_allclose(thin.sample_stats["lp"].values, ps.result.logdensity[:, keep])
    names = list(thin.posterior["param"].values)  # stored as characters, read back as the names
    assert names == [ps.posterior.spec.param_names[i] for i in range(ps.n_params_kept)]
    assert post_io.stored_draws(4, 20, dim, 1).size == post_io.STORED_MIN_DRAWS
    post_io.save_posterior(ps, ds, tmp_path / "all.nc", max_values=None)
    assert post_io.load_posterior(tmp_path / "all.nc").posterior.sizes["draw"] == 20
