"""Defects found in a review of the code, each pinned by a test that failed before its fix."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from bayesprune import api
from bayesprune.data import Dataset, load_dataset
from bayesprune.errors import InputError
from bayesprune.evaluation import metrics
from bayesprune.evaluation.diagnostics import outputs_at_points
from bayesprune.io import compact
from bayesprune.io.grid import FN_FILE, thin_outputs
from bayesprune.report.grid import across_run_rhat


def _run_outputs(favoured: int, rng, chains=2, draws=100, points=10) -> np.ndarray:
    """Class probabilities (chain, draw, point, 3) of a run whose chains all favour class ``favoured``."""
    p = np.full((chains, draws, points, 3), 0.15)
    p[..., favoured] = 0.7
    p = p + rng.normal(0.0, 0.01, p.shape)
    return p / p.sum(axis=-1, keepdims=True)


def test_across_run_rhat_sees_runs_that_favour_different_classes(tmp_path):
    """Two runs sure of different classes must not look converged: the saved test-point outputs keep every class
    (formerly each run saved the probability of its own favourite class, 0.7 in both runs: R-hat 1.00)."""
    rng = np.random.default_rng(0)
    for k, favoured in enumerate((0, 1)):
        folder = tmp_path / "runs" / "toy" / f"hmc-run{k + 1}"
        folder.mkdir(parents=True)
        saved = thin_outputs(outputs_at_points(_run_outputs(favoured, rng)))
        np.savez_compressed(folder / FN_FILE, full=saved)
    assert across_run_rhat(tmp_path, "toy", "full") > 1.5
    # runs that agree stay converged
    for k in range(2):
        np.savez_compressed(tmp_path / "runs" / "toy" / f"hmc-run{k + 1}" / FN_FILE,
                            full=thin_outputs(outputs_at_points(_run_outputs(2, rng))))
    assert across_run_rhat(tmp_path, "toy", "full") < 1.05


def test_random_pruning_gives_each_chain_its_own_mask(fake_sample):
    """Chain agreement of random masks is chance agreement, not 1.0 (one key was used for every chain)."""
    pr = api.prune(fake_sample(), criterion="random", rate=0.75, seed=0)
    # two random 25-of-99 kept sets share ~6.3 parameters: Jaccard ~ 6.3 / 43.7 = 0.14
    assert pr.chain_agreement < 0.4
    again = api.prune(fake_sample(), criterion="random", rate=0.75, seed=0)
    assert again.chain_agreement == pr.chain_agreement and np.array_equal(again.keep_mask, pr.keep_mask)


def test_classification_nll_is_not_capped_by_float32():
    """A true class given probability 1e-10 costs -log(1e-10) = 23.03 nats (float32 clipping capped it at 15.94)."""
    proba = np.array([[1e-10, 1 - 1e-10], [0.5, 0.5]], np.float32)
    nll = metrics.classification_nll(np.array([0, 0]), proba)
    assert nll == pytest.approx((-np.log(1e-10) - np.log(0.5)) / 2, rel=1e-6)


@pytest.fixture(scope="module")
def regression_models(tmp_path_factory):
    ds = load_dataset("diabetes", seed=0)
    full = api.sample(ds, sampler="hmc", chains=2, samples=300, seed=0)
    folder = tmp_path_factory.mktemp("models")
    out = {}
    for structured in (False, True):
        pr = api.prune(full, criterion="stn", rate=0.5, structured=structured)
        rs = api.resample(full, ds, pr, samples=200)
        out[structured] = (rs, compact.save_compact(rs, ds, folder / f"m{int(structured)}.bpz", n_draws=20))
    return ds, full, out


def _rewrite(path, tmp_path, name, **arrays):
    """A copy of a model file with some arrays replaced (or removed with ``None``), checksums recomputed."""
    import hashlib

    with np.load(path, allow_pickle=False) as npz:
        content = {k: npz[k] for k in npz.files}
    header = json.loads(content.pop("header").tobytes())
    for k, v in arrays.items():
        if v is None:
            content.pop(k, None)
        else:
            content[k] = v
    header["sha256"] = {k: hashlib.sha256(v.tobytes()).hexdigest() for k, v in content.items()}
    out = tmp_path / f"{name}.bpz"
    with open(out, "wb") as fh:
        np.savez(fh, header=np.frombuffer(json.dumps(header).encode(), np.uint8), **content)
    return out


def test_compact_loader_refuses_inconsistent_files(regression_models, tmp_path):
    """Files whose checksums match but whose contents cannot be trusted are refused with one line each
    (formerly loaded, or a traceback)."""
    _, _, models = regression_models
    sparse = models[False][1]
    with np.load(sparse) as npz:
        kept, draws, noise = npz["kept_idx"], npz["draws"], npz["noise_var"]
    nan_draws = draws.copy()
    nan_draws[0, 0] = np.nan
    cases = {
        "duplicate kept indices": dict(kept_idx=np.concatenate([kept[:1], kept[:-1]])),
        "kept indices must be a list of integers": dict(kept_idx=kept.astype(np.float64)),
        "without noise variances": dict(noise_var=None),
        "noise variances of shape": dict(noise_var=noise[:-1]),
        "finite and > 0": dict(noise_var=-noise),
        "non-finite values in the draws": dict(draws=nan_draws),
        "columns for": dict(draws=draws[:, :-1]),
    }
    for i, (message, change) in enumerate(cases.items()):
        bad = _rewrite(sparse, tmp_path, f"case{i}", **change)
        with pytest.raises(InputError) as err:
            compact.load_model(bad)
        text = str(err.value)
        assert message in text and str(bad) in text and "\n" not in text, (message, text)
    assert compact.load_model(sparse).noise_var.shape == noise.shape  # the untouched file loads


def test_regression_metrics_also_in_the_targets_units(regression_models):
    """RMSE, MPIW, CRPS and NLL are reported for the scaled target (the paper) and in the target's units."""
    ds, full, _ = regression_models
    m = api.evaluate(full, ds)
    pred_mean = api.predict(full, ds.X_test).mean()
    rmse_units = float(np.sqrt(np.mean((ds.inverse_y(pred_mean) - ds.inverse_y(ds.y_test)) ** 2)))
    assert ds.y_scale > 10  # diabetes progression spans ~300 units
    assert m.rmse_original == pytest.approx(rmse_units, rel=1e-4)
    assert m.mpiw90_original == pytest.approx(m.mpiw90 * ds.y_scale)
    assert m.crps_original == pytest.approx(m.crps * ds.y_scale)
    assert m.nll_original == pytest.approx(m.nll + np.log(ds.y_scale))


def test_a_log_transformed_target_is_scored_and_predicted_in_its_own_units(regression_models, tmp_path):
    """--target-transform log: the metrics in the target's units are the log-normal mixture's (its density with
    the Jacobian 1 / y, from SciPy's lognorm: exact), the RMSE is its median's (the exponential of the mixture's
    median, found exactly by bisection; the run estimates it from 4,000 predictive samples, good to about 2% of a
    row's predictive sd, asserted at 1% of the RMSE), the interval's coverage is the logarithm's (the map is
    increasing), and the compact model file predicts in the target's units, every interval above 0. The draws
    are diabetes's, read as a model of the log target: the arithmetic is what is checked, not the fit."""
    from scipy.stats import lognorm

    from bayesprune.data.datasets import log_target
    from bayesprune.evaluation import stage
    from bayesprune.predictive import mixture_quantile, posterior_predictive

    ds, full, _ = regression_models
    logged = log_target(ds)
    a, c = logged.y_affine
    y = ds.inverse_y(ds.y_test)
    np.testing.assert_allclose(logged.inverse_y(logged.y_test), y, rtol=1e-5)
    draws = np.asarray(full.result.draws)
    score = lambda **kw: stage.score_predictive(full.posterior, draws, logged.X_test, logged.y_test,  # noqa: E731
                                                y_affine=(a, c), **kw).values
    got, plain = score(target_transform="log"), score()
    pred = posterior_predictive(full.posterior, draws, logged.X_test)
    m = a * pred.flat_outputs().astype(np.float64) + c
    s = abs(a) * np.sqrt(pred.noise_var.reshape(-1).astype(np.float64))[:, None]
    y_log = np.exp(a * logged.y_test.astype(np.float64) + c)
    density = lognorm.pdf(y_log[None], s=s, scale=np.exp(m)).mean(axis=0)
    assert got["nll_original"] == pytest.approx(-np.mean(np.log(density)), rel=1e-6)
    assert full.chain_weights is None  # equal weights, as mixture_interval takes them
    median = np.exp(a * mixture_quantile(pred.flat_outputs(), pred.noise_var, 0.5) + c)
    assert got["rmse_original"] == pytest.approx(np.sqrt(np.mean((median - y_log) ** 2)), rel=0.01)
    assert got["picp90"] == plain["picp90"] and got["nll"] == plain["nll"] and got["rmse"] == plain["rmse"]
    model = compact.load_model(compact.save_compact(full, logged, tmp_path / "log.bpz", n_draws=20))
    assert model.target_transform == "log"
    out = model.predict(logged.x_scaler.inverse_transform(logged.X_test))
    assert (out["lower"] > 0).all() and (out["lower"] < out["median"]).all() and (out["median"] < out["upper"]).all()
    assert (out["median"] < out["mean"]).all()  # a log-normal's mean lies above its median
    from bayesprune.io.predictions import prediction_table

    header, rows = prediction_table(out, "regression", [], 0.9)
    assert header == ["median", "mean", "sd", "lower_90%", "upper_90%"] and len(rows) == len(logged.y_test)


def test_improper_posterior_is_warned_about():
    """A regression network with at least as many parameters as rows can interpolate them; with the paper's
    flat prior on the noise the posterior is then improper, and bayesprune says so."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2)).astype(np.float32)
    y = rng.normal(size=30).astype(np.float32)

    def dataset(hidden):
        return Dataset("toy", "regression", X[:20], y[:20], X[20:], y[20:], ["a", "b"], hidden=hidden)

    with pytest.warns(api.ImproperPosteriorWarning, match="21 network parameters for 20 training rows"):
        api.build_posterior(dataset((5,)))  # 2*5 + 5 + 5 + 1 = 21 parameters
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        api.build_posterior(dataset((4,)))  # 17 parameters: no warning
        api.build_posterior(dataset((5,)), nu1=1.0, nu2=1.0)  # a proper prior on the noise: no warning
    # the remedy in the words of who asked: the API's parameter here, bayesprune run's option in a run
    with pytest.warns(api.ImproperPosteriorWarning, match=r"hidden=\(4,\)"):
        api.build_posterior(dataset((5,)))
    from bayesprune.experiments import runner
    from bayesprune.settings import RunConfig

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the run says it once, in its own words, and does not warn in Python
        _, _, _, warned, _ = runner._data_and_posterior(RunConfig(sampler="hmc", hidden=(5,)).validate(),
                                                        dataset((5,)))
    assert len(warned) == 1 and "(--hidden 4: 17 parameters)" in warned[0] and "hidden=(" not in warned[0]


def test_noise_prior_auto_makes_an_improper_posterior_proper():
    """``--noise-prior auto`` keeps the paper's flat prior where the posterior is proper and puts InvGamma(0, nu2)
    on the noise variance where it would not be: at an interpolating network the flat prior's log posterior grows
    without bound as tau^2 -> 0, the floor's falls. Exact arithmetic on a linear network that fits 2 rows."""
    from bayesprune.experiments import runner
    from bayesprune.model import MLPSpec
    from bayesprune.posterior import BNNPosterior
    from bayesprune.posterior.prior import NOISE_FLOOR_NU2
    from bayesprune.settings import RunConfig

    assert api.noise_prior("flat", 21, 20) == (0.0, 0.0)
    assert api.noise_prior("auto", 19, 20) == (0.0, 0.0)  # fewer parameters than rows: the paper's prior
    assert api.noise_prior("auto", 20, 20) == (0.0, NOISE_FLOOR_NU2)
    with pytest.raises(ValueError, match="noise_prior"):
        api.noise_prior("weak", 20, 20)
    X, y = np.array([[0.0], [1.0]], np.float32), np.array([1.0, 3.0], np.float32)  # y = 2x + 1 exactly
    for nu2, rises in ((0.0, True), (NOISE_FLOOR_NU2, False)):
        post = BNNPosterior(MLPSpec(1, (), 1), "regression", nu2=nu2)
        lp = [float(post.logdensity(np.array([2.0, 1.0, eta], np.float32), X, y)) for eta in (-10.0, -20.0, -30.0)]
        assert (lp[0] < lp[1] < lp[2]) if rises else (lp[0] > lp[1] > lp[2]), (nu2, lp)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2)).astype(np.float32)
    y = rng.normal(size=30).astype(np.float32)
    ds = Dataset("toy", "regression", X[:20], y[:20], X[20:], y[20:], ["a", "b"], hidden=(5,))  # 21 parameters
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, _, post, warned, _ = runner._data_and_posterior(
            RunConfig(sampler="hmc", hidden=(5,), noise_prior="auto").validate(), ds)
        assert (post.nu1, post.nu2) == (0.0, NOISE_FLOOR_NU2) and warned == []  # proper: nothing to warn of
        _, _, post, warned, _ = runner._data_and_posterior(
            RunConfig(sampler="hmc", hidden=(4,), noise_prior="auto").validate(), ds)
        assert (post.nu1, post.nu2) == (0.0, 0.0) and warned == []  # 17 parameters: the paper's prior


def test_resampling_starts_from_the_pruned_networks_own_noise_variance():
    """A full model fitted to a nearly noise-free target has a tiny tau^2 (here 1e-8, against a noise variance of
    0.01); its pruned network fits far worse. The fine-tuned resampling start re-fits tau^2 to the pruned
    network's residuals in closed form. Before, Adam moved eta by about its learning rate per step and the MCLMC
    chains started (and here, as on UCI naval at 90% removed, stayed) with tau^2 orders of magnitude below the
    residuals: every draw's tau^2 7.8e-8 here; on naval a test NLL of 5,881 per row, PICP90 0.09."""
    from bayesprune.model import MLPSpec, forward
    from bayesprune.posterior import BNNPosterior
    from bayesprune.samplers.driver import ChainResult
    from bayesprune.stages.prune import prune
    from bayesprune.stages.resample import resample

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2)).astype(np.float32)
    y = (np.sin(2 * X[:, 0]) + rng.normal(0.0, 0.1, 60)).astype(np.float32)
    ds = Dataset("tiny", "regression", X, y, X[:10], y[:10], ["a", "b"])
    post = BNNPosterior(MLPSpec(2, (8,), 1), "regression")
    draws = rng.normal(0.0, 1.0, size=(2, 20, post.position_size())).astype(np.float32)
    draws[..., -1] = np.log(1e-8)  # the full model's noise variance: tiny
    zeros = np.zeros((2, 20), np.float32)
    result = ChainResult(
        draws=draws, logdensity=zeros, acceptance=zeros, diverging=zeros.astype(bool), mean=draws.mean(axis=1),
        var=draws.var(axis=1), last_position=draws[:, -1], n_steps=20, n_warmup=0, thin=1,
        n_divergent=np.zeros(2, int), n_grad_evals=np.zeros(2, int), mean_acceptance=np.zeros(2), sampler="hmc")
    full = api.PosteriorSample(post, result)
    pr = prune(full, rate=0.5, seed=0, data=ds)
    res = resample(full, ds, pr, sampler="mclmc", start="optimised", samples=400, seed=0)
    z = res.result.draws.reshape(-1, res.result.draws.shape[-1])
    outputs = np.stack([np.asarray(forward(post.spec, post.theta(v, pr.kept_idx), X))[:, 0] for v in z[::50]])
    residual_var = np.mean((y - outputs) ** 2, axis=1)
    tau2 = np.exp(z[::50, -1])
    # tau^2 | theta is InvGamma(30, S/2) here: outside a factor 2 of S/n with probability 4e-4 per exact posterior
    # draw (< 0.4% for the 8 checked); passed with data and sampling seeds 1-5 too
    assert np.all((tau2 > residual_var / 2) & (tau2 < residual_var * 2)), (tau2, residual_var)
