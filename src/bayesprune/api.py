"""The pipeline as functions: :func:`sample`, :func:`prune`, :func:`resample`, :func:`compress`, :func:`predict`,
:func:`evaluate`. A facade: each lives in the module of :mod:`bayesprune.stages` that owns its stage; the settings
groups they take (:class:`SamplingSpec`, :class:`PruningSpec`, :class:`CompressionSpec`,
:class:`ResamplingSpec`) in
:mod:`bayesprune.stage_settings`.

Example
-------
>>> import bayesprune as bp
>>> ds = bp.load_dataset("iris")
>>> full = bp.sample(ds, sampler="lgmh", chains=4, samples=4000, seed=0)
>>> pr = bp.prune(full, criterion="stn", rate=0.75, seed=0)
>>> compact = bp.resample(full, ds, pr, samples=2000, seed=0)
>>> bp.evaluate(compact, ds).accuracy
"""

from bayesprune.posterior.logdensity import BNNPosterior
from bayesprune.stage_settings import CompressionSpec, PruningSpec, ResamplingSpec, SamplingSpec
from bayesprune.stages.compress import Compression, Step, compress
from bayesprune.stages.evaluate import evaluate, evaluate_stage, predict
from bayesprune.stages.posterior_sample import PosteriorSample
from bayesprune.stages.prune import PruneResult, prune, pruned
from bayesprune.stages.resample import resample
from bayesprune.stages.sample import (
    CONVERGED_ESS,
    CONVERGED_RHAT,
    DEFAULT_KEPT_DRAWS,
    KEPT_DRAWS_TOTAL,
    KEPT_VALUES_TOTAL,
    MIN_KEPT_DRAWS,
    ImproperPosteriorWarning,
    auto_thin,
    build_posterior,
    converged,
    improper_posterior_warning,
    kept_per_chain,
    noise_prior,
    sample,
    sized_sampler,
    speed_here,
)
from bayesprune.stages.weights import weigh_chains

__all__ = [
    "CONVERGED_ESS", "CONVERGED_RHAT", "DEFAULT_KEPT_DRAWS", "KEPT_DRAWS_TOTAL", "KEPT_VALUES_TOTAL",
    "MIN_KEPT_DRAWS",
    "BNNPosterior", "Compression", "CompressionSpec", "PruningSpec", "ResamplingSpec", "SamplingSpec",
    "ImproperPosteriorWarning", "PosteriorSample", "PruneResult", "Step",
    "auto_thin", "build_posterior", "compress", "converged", "evaluate", "evaluate_stage",
    "improper_posterior_warning", "kept_per_chain", "noise_prior", "predict", "prune", "pruned", "resample", "sample",
    "sized_sampler", "speed_here", "weigh_chains",
]
