"""Posterior draws in ArviZ's format (InferenceData), saved as NetCDF.

Groups: ``posterior`` (``theta`` over chain x draw x param with readable parameter names, only the kept
parameters; ``tau2`` for regression), ``sample_stats`` (``lp``, ``acceptance_rate``, ``diverging``),
``log_likelihood`` (pointwise, training rows, for LOO/WAIC) and ``observed_data``.

The pointwise log-likelihood is draws x rows numbers: 40 MB for 4 x 1,000 draws of 2,500 rows, but 960 MB for
60,000 rows (MNIST). By default it is stored only up to :data:`LOGLIK_MAX_VALUES` values; beyond that the file
says so in its attributes (``log_likelihood``) and ``arviz.loo`` needs it recomputed from the stored draws
(:func:`bayesprune.predictive.pointwise_loglik`), which a run's own rate selection and stacking do in memory.
"""

from __future__ import annotations

import warnings

import numpy as np

from bayesprune._arviz import az
from bayesprune.io.atomic import atomic_path
from bayesprune.predictive import pointwise_loglik

LOGLIK_MAX_VALUES = 10_000_000  # 40 MB of float32: kept draws x training rows stored by default


def to_inference_data(ps, ds, *, log_likelihood: bool | None = None) -> az.InferenceData:
    """Convert a :class:`~bayesprune.api.PosteriorSample` to ``arviz.InferenceData``; ``log_likelihood``: store
    the pointwise log-likelihood (``None``: when it has at most :data:`LOGLIK_MAX_VALUES` values)."""
    post = ps.posterior
    r = ps.result
    draws = np.asarray(r.draws, np.float32)
    n_values = int(np.prod(draws.shape[:-1])) * len(ds.y_train)
    if log_likelihood is None:
        log_likelihood = n_values <= LOGLIK_MAX_VALUES
    k = ps.n_params_kept
    kept = np.arange(post.spec.n_params) if ps.kept_idx is None else np.asarray(ps.kept_idx)
    names = [post.spec.param_names[i] for i in kept]
    posterior_vars = {"theta": draws[..., :k]}
    if post.has_eta:
        posterior_vars["tau2"] = np.exp(draws[..., -1])
    sample_stats = {
        "lp": r.logdensity,
        "acceptance_rate": r.acceptance,
        "diverging": r.diverging,
    }
    kwargs = {}
    if log_likelihood:
        ll = pointwise_loglik(post, draws, ds.X_train, ds.y_train, ps.kept_idx)
        kwargs["log_likelihood"] = {"y": ll.astype(np.float32)}
        kwargs["observed_data"] = {"y": np.asarray(ds.y_train)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = az.from_dict(
            posterior=posterior_vars,
            sample_stats=sample_stats,
            coords={"param": names, "obs": np.arange(len(ds.y_train))},
            dims={"theta": ["param"], "y": ["obs"]},
            attrs={
                "sampler": r.sampler,
                "n_params": int(post.spec.n_params),
                "n_params_kept": int(k),
                "architecture": str(post.spec.to_dict()),
                "task": post.task,
                "thin": int(r.thin),
                "n_warmup": int(r.n_warmup),
                "log_likelihood": "stored" if log_likelihood else (
                    f"not stored ({n_values:,} values: draws x training rows); recompute it from the draws with "
                    "bayesprune.predictive.pointwise_loglik"),
            },
            **kwargs,
        )
    return idata


def save_posterior(ps, ds, path, *, log_likelihood: bool | None = None) -> None:
    """Write the sample to a NetCDF file (atomically); ``log_likelihood`` as :func:`to_inference_data`."""
    idata = to_inference_data(ps, ds, log_likelihood=log_likelihood)
    with atomic_path(path) as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata.to_netcdf(str(tmp))


def load_posterior(path) -> az.InferenceData:
    """Read a posterior file written by :func:`save_posterior`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return az.from_netcdf(str(path))
