"""BlackJAX's HMC and NUTS with Stan-style window adaptation of the step size and the mass matrix (diagonal or
dense).

HMC draws each transition's number of leapfrog steps (``jitter_trajectory``, on by default): BlackJAX's dynamic
HMC with its quasi-random Halton sequence of trajectory lengths, between 1 and about twice
``num_integration_steps``, whose mean is ``num_integration_steps``. A fixed trajectory resonates when its length
comes near a period of the posterior (on the nearly whitened Gaussian of the closed-form test, 8 fixed steps gave a
bulk ESS of 18-37 under two of six seeds, 3 fixed steps with a dense mass matrix an sd 5.2 MCSEs off under one:
benchmarks/results/sampler_seeds.md); a varied one cannot (Neal 2011, section 5.4.2.2; Mackenzie 1989). The
sequence is indexed by the transition's number, which every chain shares, so chains run in lockstep under ``vmap``
and a step costs what a fixed trajectory of the same mean length does. The warm-up adapts the step size and mass
matrix with the same varied trajectories.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import blackjax
import jax.numpy as jnp
from blackjax.adaptation.base import get_filter_adapt_info_fn
from blackjax.mcmc import dynamic_hmc, integrators

from bayesprune import options
from bayesprune.options import option
from bayesprune.samplers.base import AdaptiveSettings, Advice, SamplerDef, no_key

__all__ = ["SAMPLERS", "HMCSettings", "NUTSSettings", "JitteredHMC"]


@dataclass(frozen=True, kw_only=True)
class WindowAdaptedSettings(AdaptiveSettings):
    dense_mass: bool = option(False, "adapt a dense mass matrix (all covariances; dim^2 memory and work per "
                              "step) instead of a diagonal one", check=options.one_of((True, False)))


@dataclass(frozen=True, kw_only=True)
class HMCSettings(WindowAdaptedSettings):
    """BlackJAX's HMC with Stan-style window adaptation of step size and mass matrix (diagonal or dense)."""

    sampler: ClassVar[str] = "hmc"
    default_samples: ClassVar[int] = 4000
    default_resample_samples: ClassVar[int] = 2000

    num_integration_steps: int = option(16, "HMC leapfrog steps per transition (the mean, with "
                                        "--jitter-trajectory)", check=options.integer(1))
    jitter_trajectory: bool = option(True, "HMC: vary the leapfrog steps of each transition between 1 and about "
                                     "twice --num-integration-steps (BlackJAX's dynamic HMC, Halton sequence), so "
                                     "that no fixed trajectory resonates with the posterior; --no-jitter-trajectory: "
                                     "always --num-integration-steps", check=options.one_of((True, False)))

    def grads_per_step(self) -> float:
        return float(self.num_integration_steps)


@dataclass(frozen=True, kw_only=True)
class NUTSSettings(WindowAdaptedSettings):
    """BlackJAX's NUTS with Stan-style window adaptation of step size and mass matrix (diagonal or dense)."""

    sampler: ClassVar[str] = "nuts"
    default_samples: ClassVar[int] = 1000
    default_resample_samples: ClassVar[int] = 1000

    max_num_doublings: int = option(10, "NUTS tree depth limit", check=options.integer(1))

    def grads_per_step(self) -> float:
        return float(2 ** min(self.max_num_doublings, 5))  # trees of depth 5 are typical for these networks


class JitteredHMC:
    """BlackJAX's dynamic HMC as an algorithm that window adaptation can tune: ``init(position, logdensity_fn)``
    starts the transition counter at 0, ``build_kernel(integrator)`` draws the number of leapfrog steps of
    transition ``i`` from the Halton sequence with mean ``mean_steps`` (``dynamic_hmc.halton_trajectory_length``).
    """

    def __init__(self, mean_steps: int):
        self.mean_steps = float(mean_steps)

    @staticmethod
    def init(position, logdensity_fn):
        """BlackJAX's dynamic HMC state with the transition counter at 0 (the fixed trajectory of
        ``--no-jitter-trajectory`` keeps the same state, its counter unused)."""
        return dynamic_hmc.init(position, logdensity_fn, jnp.zeros((), jnp.int32))

    def build_kernel(self, integrator: Callable = integrators.velocity_verlet):
        return dynamic_hmc.build_kernel(
            integrator, next_random_arg_fn=lambda i: i + 1,
            integration_steps_fn=lambda i: dynamic_hmc.halton_trajectory_length(i, self.mean_steps))


def mass_matrix_params(settings, dim, has_eta):
    return {
        "step_size": jnp.asarray(settings.step_size, jnp.float32),
        "inverse_mass_matrix": jnp.eye(dim, dtype=jnp.float32) if settings.dense_mass else jnp.ones((dim,),
                                                                                                    jnp.float32),
    }


def _window_adaptation(algorithm: Callable[[Any], Any], extra: Callable[[Any], dict]):
    """The warm-up of an HMC-family sampler: BlackJAX's Stan-style window adaptation of ``algorithm(settings)``
    (a BlackJAX algorithm) with the keyword arguments ``extra(settings)``."""

    def warmup(key, position, logdensity_fn, params, num_steps, settings):
        adaptation = blackjax.window_adaptation(
            algorithm(settings), logdensity_fn, is_mass_matrix_diagonal=not settings.dense_mass,
            initial_step_size=settings.step_size, target_acceptance_rate=settings.target_accept,
            adaptation_info_fn=get_filter_adapt_info_fn(), **extra(settings),
        )
        (state, tuned), _ = adaptation.run(key, position, num_steps)
        return state, {
            "step_size": jnp.asarray(tuned["step_size"], jnp.float32),
            "inverse_mass_matrix": jnp.asarray(tuned["inverse_mass_matrix"], jnp.float32),
        }

    return warmup


def _summary(info):
    return info.acceptance_rate, info.is_divergent, info.num_integration_steps.astype(jnp.int32)


def _hmc_step(key, state, logdensity_fn, params, settings: HMCSettings):
    step_size, imm = params["step_size"], params["inverse_mass_matrix"]
    if settings.jitter_trajectory:
        return JitteredHMC(settings.num_integration_steps).build_kernel()(key, state, logdensity_fn, step_size, imm)
    fixed = blackjax.mcmc.hmc.HMCState(state.position, state.logdensity, state.logdensity_grad)
    new, info = blackjax.hmc(logdensity_fn, step_size, imm, settings.num_integration_steps).step(key, fixed)
    return dynamic_hmc.DynamicHMCState(*new, state.random_generator_arg + 1), info


_hmc_adapt = _window_adaptation(
    lambda s: JitteredHMC(s.num_integration_steps) if s.jitter_trajectory else blackjax.hmc,
    lambda s: {} if s.jitter_trajectory else {"num_integration_steps": s.num_integration_steps})


def _hmc_warmup(key, position, logdensity_fn, params, num_steps, settings: HMCSettings):
    state, tuned = _hmc_adapt(key, position, logdensity_fn, params, num_steps, settings)
    if not settings.jitter_trajectory:  # one state type for both: the counter goes on after the warm-up
        state = dynamic_hmc.DynamicHMCState(*state, jnp.asarray(num_steps, jnp.int32))
    return state, tuned


def _nuts_step(key, state, logdensity_fn, params, settings: NUTSSettings):
    return blackjax.nuts(logdensity_fn, params["step_size"], params["inverse_mass_matrix"],
                         max_num_doublings=settings.max_num_doublings).step(key, state)


_nuts_warmup = _window_adaptation(lambda s: blackjax.nuts, lambda s: {"max_num_doublings": s.max_num_doublings})

_ADVICE = Advice(divergent="; raise --target-accept (e.g. 0.95) for smaller steps")

SAMPLERS = (
    SamplerDef(
        name="hmc", description="BlackJAX HMC, Stan-style window adaptation of step size and diagonal mass matrix, "
        "trajectory lengths varied around --num-integration-steps",
        settings=HMCSettings, initial_params=mass_matrix_params, init=no_key(JitteredHMC.init), step=_hmc_step,
        summarise=_summary, warmup=_hmc_warmup, advice=_ADVICE,
    ),
    SamplerDef(
        name="nuts", description="BlackJAX NUTS, Stan-style window adaptation of step size and diagonal mass "
        "matrix", settings=NUTSSettings, initial_params=mass_matrix_params, init=no_key(blackjax.nuts.init),
        step=_nuts_step, summarise=_summary, warmup=_nuts_warmup, advice=_ADVICE,
    ),
)
