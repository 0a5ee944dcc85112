"""MCMC samplers, one module per family: the paper's LG-MH kernel (``langevin_mh``), BlackJAX's MALA and Barker
(``mala``), HMC and NUTS (``hmc``), MCLMC and adjusted MCLMC (``mclmc``), SGLD and SGHMC (``stochastic``); the
registry that lists them, the chain driver, optimised starts and the size guide."""

from bayesprune.samplers.base import SamplerDef, SamplerSettings
from bayesprune.samplers.driver import ChainResult, run_chains
from bayesprune.samplers.hmc import HMCSettings, NUTSSettings
from bayesprune.samplers.langevin_mh import LGMHInfo, LGMHSettings, LGMHState, lgmh
from bayesprune.samplers.mala import BarkerSettings, MALASettings
from bayesprune.samplers.mclmc import AdjustedMCLMCSettings, MCLMCSettings
from bayesprune.samplers.registry import SAMPLERS, get_sampler, settings_for
from bayesprune.samplers.stochastic import SGHMCSettings, SGLDSettings

__all__ = [
    "SAMPLERS",
    "AdjustedMCLMCSettings",
    "BarkerSettings",
    "ChainResult",
    "HMCSettings",
    "LGMHInfo",
    "LGMHSettings",
    "LGMHState",
    "MALASettings",
    "MCLMCSettings",
    "NUTSSettings",
    "SamplerDef",
    "SamplerSettings",
    "SGHMCSettings",
    "SGLDSettings",
    "get_sampler",
    "lgmh",
    "run_chains",
    "settings_for",
]
