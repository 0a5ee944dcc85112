"""MCMC samplers: the paper's LG-MH kernel, BlackJAX's MALA/HMC/NUTS, and the chain driver."""

from bayesprune.samplers.driver import ChainResult, run_chains
from bayesprune.samplers.langevin_mh import LGMHInfo, LGMHState, lgmh
from bayesprune.samplers.registry import SAMPLERS, SamplerConfig, get_sampler

__all__ = [
    "SAMPLERS",
    "ChainResult",
    "LGMHInfo",
    "LGMHState",
    "SamplerConfig",
    "get_sampler",
    "lgmh",
    "run_chains",
]
