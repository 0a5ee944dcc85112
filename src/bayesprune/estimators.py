"""scikit-learn-style estimators: ``BayesianMLPRegressor`` and ``BayesianMLPClassifier``.

They wrap the same pipeline as :mod:`bayesprune.api`: ``fit`` samples the posterior, ``predict`` and
``predict_proba`` average over posterior draws, and ``prune(criterion, rate)`` returns a new fitted estimator
whose posterior was resampled on the kept parameters only. Inputs are used as given (scale them first, e.g.
with a scikit-learn ``Pipeline``), except that, as in ``bayesprune run``, an input of a row to predict more than
half the training rows' range past it is clipped there (``clip_inputs=False`` turns it off; docs/DATA.md says
why).

Example
-------
>>> from sklearn.datasets import load_iris
>>> from bayesprune import BayesianMLPClassifier
>>> X, y = load_iris(return_X_y=True)
>>> clf = BayesianMLPClassifier(samples=10000).fit(X, y)   # MCLMC, 4 chains, prior N(0, 25)
>>> small = clf.prune("stn", 0.75)
>>> small.predict_proba(X[:3]), small.n_params_kept_
"""

from __future__ import annotations

import copy

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from bayesprune import api
from bayesprune.data.datasets import DEFAULT_HIDDEN, Dataset, clip_range
from bayesprune.settings import RunConfig


class _BayesianMLP(BaseEstimator):
    """Parameters are those of ``bayesprune run`` (:class:`~bayesprune.settings.RunConfig`), with its defaults:
    the sampler (``"auto"``: MCLMC from optimised starts unless the data are large, then SGHMC on minibatches, as
    :func:`~bayesprune.samplers.sizing.choose_sampler` says; ``sampler_`` is the one used), its length
    (``samples=None``: the sampler's default) and its own settings (``sampler_settings``: a dict such as
    ``{"desired_energy_var": 1e-4}`` for a named sampler, or ``None`` for its defaults). ``clip_inputs``
    (default on, as the run's ``--clip-inputs``): each input of a row to predict is clipped to the clip range
    (``x_range_``: per input, the training rows' minimum and maximum moved out by half their distance,
    :func:`~bayesprune.data.datasets.clip_range`): far beyond the training rows the network has no data."""

    _task = "regression"

    def __init__(self, hidden=DEFAULT_HIDDEN, activation=RunConfig.activation, sampler=RunConfig.sampler,
                 chains=RunConfig.chains, samples=RunConfig.samples, burnin=RunConfig.burnin,
                 prior_var=RunConfig.prior_var, seed=RunConfig.seed, sampler_settings=None, init=RunConfig.init,
                 clip_inputs=RunConfig.clip_inputs):
        self.hidden = hidden
        self.activation = activation
        self.sampler = sampler
        self.chains = chains
        self.samples = samples
        self.burnin = burnin
        self.prior_var = prior_var
        self.seed = seed
        self.sampler_settings = sampler_settings
        self.init = init
        self.clip_inputs = clip_inputs

    def _dataset(self, X, y) -> Dataset:
        hidden = (self.hidden,) if isinstance(self.hidden, int) else tuple(self.hidden)
        return Dataset(
            name="estimator", task=self._task, X_train=np.asarray(X, np.float32), y_train=y,
            X_test=np.asarray(X[:0], np.float32), y_test=y[:0],
            feature_names=[f"x{i}" for i in range(X.shape[1])],
            class_names=[str(c) for c in self.classes_] if self._task == "classification" else None,
            hidden=hidden,
        )

    def _fit(self, X, y):
        self.dataset_ = self._dataset(X, y)
        self.x_range_ = clip_range(X)  # X: float64, as fit validated it
        posterior = api.build_posterior(self.dataset_, activation=self.activation, prior_var=self.prior_var)
        self.sample_ = api.sample(self.dataset_, posterior=posterior, sampler=self.sampler, chains=self.chains,
                                  samples=self.samples, burnin=self.burnin, seed=self.seed,
                                  sampler_settings=self.sampler_settings, init=self.init)
        self.sampler_ = self.sample_.result.sampler  # the one "auto" chose
        self.n_params_ = posterior.spec.n_params
        self.n_params_kept_ = self.n_params_
        self.keep_mask_ = np.ones(self.n_params_, bool)
        return self

    def _predictive(self, X):
        check_is_fitted(self, "sample_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        if self.clip_inputs:
            X = np.clip(X, *self.x_range_)
        return api.predict(self.sample_, np.asarray(X, np.float32))

    def prune(self, criterion: str = RunConfig.criteria[0], rate: float | str = RunConfig.rates[0], *,
              structured: bool = RunConfig.structured, schedule: str = RunConfig.schedule,
              resample_samples: int | None = None, rate_guard: float = RunConfig.rate_guard):
        """A new fitted estimator: ``rate`` of the parameters removed by ``criterion`` (``rate="auto"``: chosen
        by PSIS-LOO on the training rows; ``schedule="gradual"``: in several prune -> resample steps), then
        resampled (``resample_samples=None``: the sampler's default resampling length). As in ``bayesprune
        run``, the rate guard (``rate_guard`` nats per training row of PSIS-LOO lost, at most) may keep more
        parameters than ``rate`` leaves, or all of them (``n_params_kept_`` says how many); ``rate_guard=0``
        takes the rate as given. See :func:`bayesprune.api.compress`."""
        check_is_fitted(self, "sample_")
        comp = api.compress(self.sample_, self.dataset_, criterion=criterion, rate=rate, structured=structured,
                            schedule=schedule, seed=self.seed, samples=resample_samples, burnin=self.burnin,
                            sampler_settings=self.sampler_settings, rate_guard=rate_guard)
        new = copy.copy(self)
        new.sample_ = comp.resampled
        new.keep_mask_ = comp.prune.keep_mask
        new.n_params_kept_ = int(comp.prune.keep_mask.sum())
        new.prune_result_ = comp.prune
        return new


class BayesianMLPRegressor(RegressorMixin, _BayesianMLP):
    """Bayesian MLP regression sampled by MCMC (default: MCLMC, or SGHMC on large data; 4 chains, prior N(0, 25);
    ``sampler="lgmh"`` is the paper's sampler)."""

    _task = "regression"

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        return self._fit(X, np.asarray(y, np.float32))

    def predict(self, X, return_std: bool = False):
        """Predictive mean; with ``return_std`` also the predictive sd (parameter and noise uncertainty)."""
        pred = self._predictive(X)
        return (pred.mean(), pred.std()) if return_std else pred.mean()


class BayesianMLPClassifier(ClassifierMixin, _BayesianMLP):
    """Bayesian MLP classification (softmax output) sampled by MCMC (default: MCLMC, or SGHMC on large data;
    4 chains, prior N(0, 25))."""

    _task = "classification"

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self._encoder = LabelEncoder().fit(y)
        self.classes_ = self._encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError("Classifier can't train when only one class is present.")
        return self._fit(X, self._encoder.transform(y).astype(np.int32))

    def predict_proba(self, X):
        """Class probabilities averaged over posterior draws, shape (n, n_classes), as float64 rows that sum to 1
        (the network computes in float32, whose rounding alone leaves sums 1e-6 away from 1)."""
        proba = self._predictive(X).mean().astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X, return_std: bool = False):
        """Most probable class; with ``return_std`` also the sd over draws of that class's probability."""
        pred = self._predictive(X)
        proba = pred.mean()
        top = proba.argmax(axis=1)
        labels = self.classes_[top]
        if return_std:
            return labels, pred.std()[np.arange(len(top)), top]
        return labels
