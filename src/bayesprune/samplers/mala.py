"""Metropolis-adjusted gradient proposals from BlackJAX, their step size tuned by dual averaging in warm-up: MALA
(Langevin: a Gaussian step along the gradient) and Barker's proposal (Livingstone & Zanella 2022: each
coordinate's step flips its sign towards the gradient with a logistic probability, which keeps the acceptance
stable over a much wider range of step sizes than MALA's, so a step size tuned on one region does not fail in
another)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import blackjax
import jax
import jax.numpy as jnp
from blackjax.adaptation.step_size import dual_averaging_adaptation

from bayesprune import options
from bayesprune.options import option
from bayesprune.samplers.base import AdaptiveSettings, SamplerDef, no_key

__all__ = ["SAMPLERS", "BarkerSettings", "MALASettings"]


@dataclass(frozen=True, kw_only=True)
class MALASettings(AdaptiveSettings):
    """BlackJAX's MALA; step size tuned by dual averaging in warm-up."""

    sampler: ClassVar[str] = "mala"
    default_samples: ClassVar[int] = 40000
    default_resample_samples: ClassVar[int] = 20000

    target_accept: float = option(0.574, "acceptance rate the warm-up adaptation aims at",
                                  check=options.open_probability)


@dataclass(frozen=True, kw_only=True)
class BarkerSettings(AdaptiveSettings):
    """BlackJAX's Barker proposal; step size tuned by dual averaging in warm-up."""

    sampler: ClassVar[str] = "barker"
    default_samples: ClassVar[int] = 40000
    default_resample_samples: ClassVar[int] = 20000

    # 0.40: the asymptotically optimal acceptance rate of the Barker proposal in high dimension (Vogrinc,
    # Livingstone & Zanella 2023, "Optimal design of the Barker proposal and other locally balanced
    # Metropolis-Hastings algorithms"), as 0.574 is MALA's (Roberts & Rosenthal 1998)
    target_accept: float = option(0.40, "acceptance rate the warm-up adaptation aims at",
                                  check=options.open_probability)


_FAMILY = {"mala": blackjax.mala, "barker": blackjax.barker}


def step_size_params(settings, dim, has_eta):
    return {"step_size": jnp.asarray(settings.step_size, jnp.float32)}


def _step(key, state, logdensity_fn, params, settings):
    return _FAMILY[settings.sampler].build_kernel()(key, state, logdensity_fn, params["step_size"])


def _warmup(key, position, logdensity_fn, params, num_steps, settings: MALASettings):
    """Dual averaging of the step size towards ``settings.target_accept``."""
    da_init, da_update, da_final = dual_averaging_adaptation(settings.target_accept)

    def body(carry, k):
        s, da = carry
        s, info = _step(k, s, logdensity_fn, {"step_size": jnp.exp(da.log_step_size)}, settings)
        rate = jnp.where(jnp.isfinite(info.acceptance_rate), info.acceptance_rate, 0.0)
        return (s, da_update(da, rate)), None

    state = _FAMILY[settings.sampler].init(position, logdensity_fn)
    (state, da), _ = jax.lax.scan(body, (state, da_init(params["step_size"])), jax.random.split(key, num_steps))
    return state, {"step_size": da_final(da).astype(jnp.float32)}


def _summary(info):
    rate = info.acceptance_rate
    return jnp.where(jnp.isfinite(rate), rate, 0.0), ~jnp.isfinite(rate), jnp.ones((), jnp.int32)


SAMPLERS = (
    SamplerDef(
        name="mala", description="BlackJAX MALA, step size tuned by dual averaging in warm-up",
        settings=MALASettings, initial_params=step_size_params, init=no_key(blackjax.mala.init), step=_step,
        summarise=_summary, warmup=_warmup,
    ),
    SamplerDef(
        name="barker", description="BlackJAX Barker proposal (robust to its step size), tuned by dual averaging",
        settings=BarkerSettings, initial_params=step_size_params, init=no_key(blackjax.barker.init), step=_step,
        summarise=_summary, warmup=_warmup,
    ),
)
