"""MCMC samplers: the paper's LG-MH kernel, BlackJAX's MALA/HMC/NUTS/MCLMC, their settings, and the chain driver."""

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
    "get_sampler",
    "lgmh",
    "run_chains",
    "settings_for",
]
