"""bayesprune: compact Bayesian neural networks by pruned MCMC sampling.

The pipeline as functions (:func:`sample`, :func:`prune`, :func:`resample`, :func:`compress`, :func:`predict`,
:func:`evaluate`), as scikit-learn estimators, and the building blocks they are made of.

Every public name is imported when first used (PEP 562), not with the package: ``import bayesprune`` and the
command line's ``--help`` then cost no JAX, BlackJAX, ArviZ or scikit-learn import (3.5 s on a 2-core
CPU), which only the work that needs them pays (``benchmarks/startup.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bayesprune._lazy import lazy_names

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("CompressionSpec", "PosteriorSample", "PruneResult", "PruningSpec", "ResamplingSpec",
                     "SamplingSpec", "build_posterior", "compress", "evaluate", "predict", "prune", "pruned",
                     "resample", "sample", "weigh_chains"), "bayesprune.api"),
    **dict.fromkeys(("Dataset", "load_csv", "load_dataset", "log_target"), "bayesprune.data"),
    **dict.fromkeys(("BayesPruneError", "InputError", "OptionError"), "bayesprune.errors"),
    **dict.fromkeys(("BayesianMLPClassifier", "BayesianMLPRegressor"), "bayesprune.estimators"),
    **dict.fromkeys(("CompactModel", "load_model", "save_compact"), "bayesprune.io.compact"),
    "export_onnx": "bayesprune.io.onnx_export",
    "MLPSpec": "bayesprune.model",
    "BNNPosterior": "bayesprune.posterior",
    **dict.fromkeys(("AdjustedMCLMCSettings", "BarkerSettings", "HMCSettings", "LGMHSettings", "MALASettings",
                     "MCLMCSettings", "NUTSSettings", "SGHMCSettings", "SGLDSettings", "run_chains"),
                    "bayesprune.samplers"),
    "RunConfig": "bayesprune.settings",
}

__all__ = sorted([*_EXPORTS, "__version__"], key=str.lower)


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS)


if TYPE_CHECKING:  # what type checkers and editors see: the same names, imported as usual
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
