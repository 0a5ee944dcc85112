"""MCMC samplers: the paper's LG-MH kernel, BlackJAX's MALA, HMC, NUTS, MCLMC, SGLD and SGHMC, their settings, the chain
driver and the size guide."""

from bayesprune.samplers.driver import ChainResult, run_chains
from bayesprune.samplers.langevin_mh import LGMHInfo, LGMHState, lgmh
from bayesprune.samplers.registry import SamplerDef, get_sampler
from bayesprune.samplers.settings import (
    SAMPLERS,
    AdjustedMCLMCSettings,
    HMCSettings,
    LGMHSettings,
    MALASettings,
    MCLMCSettings,
    NUTSSettings,
    SamplerSettings,
    SGHMCSettings,
    SGLDSettings,
    settings_for,
)

__all__ = [
    "SAMPLERS",
    "AdjustedMCLMCSettings",
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
