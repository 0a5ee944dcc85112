"""Posterior draws in ArviZ's format (InferenceData), saved as NetCDF.

Groups: ``posterior`` (``theta`` over chain x draw x param with readable parameter names, only the kept
parameters; ``tau2`` for regression), ``sample_stats`` (``lp``, ``acceptance_rate``, ``diverging``),
``log_likelihood`` (pointwise, training rows, for LOO/WAIC) and ``observed_data``.

The pointwise log-likelihood is draws x rows numbers: 40 MB for 4 x 1,000 draws of 2,500 rows, but 960 MB for
60,000 rows (MNIST). By default it is stored only up to :data:`LOGLIK_MAX_VALUES` values; beyond that the file
says so in its attributes (``log_likelihood``) and ``arviz.loo`` needs it recomputed from the stored draws
(:func:`bayesprune.predictive.pointwise_loglik`), which a run's own rate selection and stacking do in memory.

The draws themselves are stored up to :data:`POSTERIOR_MAX_VALUES` values (draws x parameters), evenly thinned
within each chain beyond that (at least 4 draws per chain, which split R-hat needs): LeNet-300-100's 4 x 251 kept
draws of 266,610 parameters would be 1.1 GB a file. The run's metrics, stacking and compact model use every kept
draw in memory; the file says how many it holds of how many (attributes ``draws_stored``, ``thin``).
"""

from __future__ import annotations

import warnings

import numpy as np

from bayesprune._arviz import az
from bayesprune.indices import evenly_spaced
from bayesprune.io.atomic import atomic_path
from bayesprune.predictive import pointwise_loglik

LOGLIK_MAX_VALUES = 10_000_000  # 40 MB of float32: kept draws x training rows stored by default
POSTERIOR_MAX_VALUES = 2**22  # 16 MiB of float32: kept draws x position values stored by default
STORED_MIN_DRAWS = 4  # per chain, however large the network: split R-hat needs two halves of two draws


def stored_draws(n_chains: int, n_draws: int, dim: int, max_values: int | None = POSTERIOR_MAX_VALUES
                 ) -> np.ndarray:
    """Which of each chain's ``n_draws`` kept draws a posterior file stores: all of them, or evenly spaced ones
    so that the file holds at most ``max_values`` values (``None``: no limit), at least :data:`STORED_MIN_DRAWS`
    per chain."""
    if max_values is None or n_chains * n_draws * dim <= max_values:
        return np.arange(n_draws)
    return evenly_spaced(n_draws, max(STORED_MIN_DRAWS, max_values // (n_chains * dim)))


def to_inference_data(ps, ds, *, log_likelihood: bool | None = None,
                      max_values: int | None = POSTERIOR_MAX_VALUES) -> az.InferenceData:
    """Convert a :class:`~bayesprune.api.PosteriorSample` to ``arviz.InferenceData``; ``log_likelihood``: store
    the pointwise log-likelihood (``None``: when it has at most :data:`LOGLIK_MAX_VALUES` values);
    ``max_values``: the draws stored (:func:`stored_draws`; ``None``: every kept draw)."""
    post = ps.posterior
    r = ps.result
    keep = stored_draws(r.num_chains, r.draws.shape[1], r.draws.shape[-1], max_values)
    draws = np.asarray(r.draws[:, keep], np.float32)
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
        "lp": np.asarray(r.logdensity)[:, keep],
        "acceptance_rate": np.asarray(r.acceptance)[:, keep],
        "diverging": np.asarray(r.diverging)[:, keep],
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
                # steps between stored draws when they are evenly thinned (exactly so when the spacing divides)
                "thin": int(r.thin * (keep[1] - keep[0] if len(keep) > 1 else 1)),
                "draws_stored": f"{len(keep)} of the {r.draws.shape[1]} kept per chain",
                "n_warmup": int(r.n_warmup),
                "log_likelihood": "stored" if log_likelihood else (
                    f"not stored ({n_values:,} values: draws x training rows); recompute it from the draws with "
                    "bayesprune.predictive.pointwise_loglik"),
            },
            **kwargs,
        )
    return idata


def save_posterior(ps, ds, path, *, log_likelihood: bool | None = None,
                   max_values: int | None = POSTERIOR_MAX_VALUES) -> None:
    """Write the sample to a NetCDF file (atomically); ``log_likelihood`` and ``max_values`` as
    :func:`to_inference_data`."""
    idata = to_inference_data(ps, ds, log_likelihood=log_likelihood, max_values=max_values)
    # parameter names as a fixed-width character array (read back as strings): stored as variable-length strings
    # they cost about 42 bytes each, 11 MB for LeNet-300-100's names, as much as 700,000 float32 draws' values
    idata.posterior["param"].encoding["dtype"] = "S1"
    with atomic_path(path) as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata.to_netcdf(str(tmp))


def load_posterior(path) -> az.InferenceData:
    """Read a posterior file written by :func:`save_posterior`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return az.from_netcdf(str(path))
