"""bayesprune: compact Bayesian neural networks by pruned MCMC sampling.

The pipeline as functions (:func:`sample`, :func:`prune`, :func:`resample`, :func:`compress`, :func:`predict`,
:func:`evaluate`), as scikit-learn estimators, and the building blocks they are made of.
"""

__version__ = "0.1.0"

from bayesprune.api import (
    CompressionSpec,
    PosteriorSample,
    PruneResult,
    PruningSpec,
    ResamplingSpec,
    SamplingSpec,
    build_posterior,
    compress,
    evaluate,
    predict,
    prune,
    pruned,
    resample,
    sample,
    weigh_chains,
)
from bayesprune.data import Dataset, load_csv, load_dataset, log_target
from bayesprune.errors import BayesPruneError, InputError, OptionError
from bayesprune.estimators import BayesianMLPClassifier, BayesianMLPRegressor
from bayesprune.io.compact import CompactModel, load_model, save_compact
from bayesprune.io.onnx_export import export_onnx
from bayesprune.model import MLPSpec
from bayesprune.posterior import BNNPosterior
from bayesprune.samplers import (
    AdjustedMCLMCSettings,
    BarkerSettings,
    HMCSettings,
    LGMHSettings,
    MALASettings,
    MCLMCSettings,
    NUTSSettings,
    SGHMCSettings,
    SGLDSettings,
    run_chains,
)
from bayesprune.settings import RunConfig

__all__ = [
    "AdjustedMCLMCSettings",
    "BarkerSettings",
    "BNNPosterior",
    "BayesPruneError",
    "BayesianMLPClassifier",
    "BayesianMLPRegressor",
    "CompactModel",
    "CompressionSpec",
    "PruningSpec",
    "ResamplingSpec",
    "SamplingSpec",
    "Dataset",
    "InputError",
    "MLPSpec",
    "OptionError",
    "PosteriorSample",
    "HMCSettings",
    "SGHMCSettings",
    "SGLDSettings",
    "LGMHSettings",
    "MALASettings",
    "MCLMCSettings",
    "NUTSSettings",
    "PruneResult",
    "RunConfig",
    "__version__",
    "build_posterior",
    "compress",
    "evaluate",
    "export_onnx",
    "load_csv",
    "load_dataset",
    "load_model",
    "log_target",
    "predict",
    "prune",
    "pruned",
    "resample",
    "run_chains",
    "sample",
    "save_compact",
    "weigh_chains",
]
