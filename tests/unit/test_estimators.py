"""The scikit-learn estimators: fit/predict/prune, and scikit-learn's own estimator checks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_regression
from sklearn.utils.estimator_checks import parametrize_with_checks

from bayesprune import BayesianMLPClassifier, BayesianMLPRegressor

# scikit-learn's checks test the estimator contract, not a sampler: MALA compiles fastest of the four (about
# 2 s a shape against LG-MH's 3), and the checks fit on many shapes
FAST = {"hidden": (3,), "chains": 1, "samples": 3000, "sampler": "mala"}


def test_classifier_fit_predict_prune():
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    clf = BayesianMLPClassifier(hidden=(8,), chains=2, samples=4000, sampler="hmc").fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert clf.score(X, y) > 0.8
    labels, sd = clf.predict(X[:5], return_std=True)
    assert labels.shape == sd.shape == (5,)
    # the rate as given (the guard's choice depends on the chains, which floating-point rounding moves: with XLA's
    # other CPU emitters it kept all 67 parameters here)
    with pytest.raises(ValueError, match="rate_guard must be"):
        clf.prune("stn", 0.5, rate_guard=-1)
    small = clf.prune("stn", 0.5, resample_samples=2000, rate_guard=0)
    assert small.n_params_kept_ == clf.n_params_ - round(0.5 * clf.n_params_ + 1e-9)
    assert small is not clf and clf.n_params_kept_ == clf.n_params_
    theta = small.sample_.theta_draws()
    assert np.all(theta[..., ~small.keep_mask_] == 0.0)


def test_regressor_return_std():
    X, y = make_regression(n_samples=80, n_features=3, noise=5.0, random_state=0)
    y = (y - y.mean()) / y.std()
    reg = BayesianMLPRegressor(hidden=(5,), chains=2, samples=4000, sampler="hmc").fit(X, y)
    mean, std = reg.predict(X, return_std=True)
    assert mean.shape == std.shape == (80,)
    assert np.all(std > 0)
    assert reg.score(X, y) > 0.5
    # inputs far beyond the training rows' range are clipped half a range past it (as `bayesprune run` does),
    # unless asked not to
    far = X[:4] + np.array([100.0, -100.0, 0.0])
    width = X.max(axis=0) - X.min(axis=0)
    edge = np.clip(far, X.min(axis=0) - width / 2, X.max(axis=0) + width / 2)
    np.testing.assert_allclose(np.stack(reg.x_range_), np.stack([X.min(axis=0) - width / 2,
                                                                 X.max(axis=0) + width / 2]))
    np.testing.assert_array_equal(reg.predict(far), reg.predict(edge))
    reg.set_params(clip_inputs=False)
    assert not np.allclose(reg.predict(far), reg.predict(edge))


@pytest.mark.slow
@parametrize_with_checks([BayesianMLPRegressor(**FAST), BayesianMLPClassifier(**FAST)])
def test_sklearn_checks(estimator, check):
    check(estimator)


def test_the_default_sampler_is_chosen_by_size_and_takes_no_settings():
    X, y = make_regression(n_samples=60, n_features=2, noise=5.0, random_state=0)
    y = (y - y.mean()) / y.std()
    reg = BayesianMLPRegressor(hidden=(3,), chains=1, samples=200)
    assert reg.sampler == "auto"
    with pytest.raises(ValueError, match="sampler_settings need a named sampler"):
        BayesianMLPRegressor(hidden=(3,), sampler_settings={"desired_energy_var": 1e-4}).fit(X, y)
    assert reg.fit(X, y).sampler_ == "mclmc"  # 60 rows: full batch
