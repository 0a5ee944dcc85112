"""Sampler definitions behind one interface: the paper's LG-MH and BlackJAX's MALA, HMC and NUTS.

Each :class:`SamplerDef` gives pure functions over one chain; the driver vmaps them over chains and jits once:

- ``initial_params(config, dim, has_eta)``: tuning parameters before warm-up (a pytree of arrays);
- ``warmup(key, position, logdensity_fn, params, num_steps, config) -> (state, params)``: burn-in, with step
  size (and mass matrix) adaptation for the gradient samplers;
- ``step(key, state, logdensity_fn, params, config) -> (state, info)``;
- ``summarise(info) -> (acceptance_rate, is_divergent, n_grad_evals)``;
- optionally ``draw(key, dim)`` and ``transition(draws, state, logdensity_fn, params, config)``: ``step`` split
  into its random numbers and a deterministic rest, so that the driver can draw the numbers of many steps in
  one batched call (the same numbers ``step`` would draw from the same keys); such a sampler's ``warmup`` takes
  ``chains=`` (the chains run side by side) to size its blocks. LG-MH has them; BlackJAX's kernels draw inside
  ``step``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import blackjax
import jax
import jax.numpy as jnp
from blackjax.adaptation.base import get_filter_adapt_info_fn
from blackjax.adaptation.step_size import dual_averaging_adaptation

from bayesprune.errors import OptionError
from bayesprune.samplers import langevin_mh

SAMPLERS = ("lgmh", "mala", "hmc", "nuts")
MIN_ADAPT_STEPS = 50


@dataclass(frozen=True)
class SamplerConfig:
    """Settings of every sampler (defaults: the paper's LG-MH, BlackJAX's usual targets for the others).

    Attributes
    ----------
    lr, step_w, step_eta, l_prob
        LG-MH: gradient step, proposal sd of network parameters, proposal sd of eta, share of gradient moves.
    step_size
        Initial step size of MALA/HMC/NUTS (adapted during warm-up).
    num_integration_steps
        HMC leapfrog steps per transition.
    max_num_doublings
        NUTS tree depth limit.
    target_accept
        Target acceptance rate for adaptation (``None``: 0.574 for MALA, 0.8 for HMC/NUTS).
    adapt
        Adapt step size (and a diagonal mass matrix for HMC/NUTS) during warm-up.
    """

    lr: float = 0.01
    step_w: float = 0.025
    step_eta: float = 0.2
    l_prob: float = 0.5
    step_size: float = 0.01
    num_integration_steps: int = 16
    max_num_doublings: int = 10
    target_accept: float | None = None
    adapt: bool = True


def steps_per_block(numbers_per_step: int) -> int:
    """Steps whose random numbers are drawn in one batch: up to 256, at most 2**19 numbers (2 MiB) in all
    chains together (larger blocks fall out of the CPU's cache and cost more than they save)."""
    return max(1, min(256, 2**19 // max(int(numbers_per_step), 1)))


def units_per_block(n_units: int, steps_per_unit: int, numbers_per_step: int) -> int:
    """How many of ``n_units`` units of ``steps_per_unit`` steps (a kept draw and its thinned steps, or one
    warm-up step) share a block of random numbers: the largest divisor of ``n_units`` whose steps fit
    :func:`steps_per_block`, so blocks tile the units exactly and one loop body is compiled."""
    limit = max(1, min(steps_per_block(numbers_per_step) // steps_per_unit, n_units))
    return max(d for d in range(1, limit + 1) if n_units % d == 0)


@dataclass(frozen=True)
class SamplerDef:
    name: str
    description: str
    initial_params: Callable[..., Any]
    warmup: Callable[..., Any]
    step: Callable[..., Any]
    init: Callable[..., Any]
    summarise: Callable[..., Any]
    draw: Callable[..., Any] | None = None
    transition: Callable[..., Any] | None = None

    def draws(self, keys: jax.Array, dim: int) -> Any:
        """The random numbers of one step per key (a key array of any shape), drawn in one batched call;
        the keys themselves for samplers that draw inside ``step``."""
        if self.draw is None:
            return keys
        flat = jax.vmap(lambda k: self.draw(k, dim))(keys.reshape(-1))
        return jax.tree.map(lambda a: a.reshape(*keys.shape, *a.shape[1:]), flat)

    def apply(self, randomness: Any, state: Any, logdensity_fn: Callable, params: Any, config: SamplerConfig):
        """One step from what :meth:`draws` returned for its key."""
        if self.transition is None:
            return self.step(randomness, state, logdensity_fn, params, config)
        return self.transition(randomness, state, logdensity_fn, params, config)


def _burn_in(step_fn, key, state, num_steps):
    def body(s, k):
        s, _ = step_fn(k, s)
        return s, None

    if num_steps == 0:
        return state
    state, _ = jax.lax.scan(body, state, jax.random.split(key, num_steps))
    return state


def _burn_in_blocked(draw_fn, transition_fn, key, state, num_steps: int, numbers_per_step: int):
    """``_burn_in`` with the random numbers of each block of steps drawn in one batch: the same keys, so the
    same chain; ``draw_fn(key)`` gives one step's numbers, ``transition_fn(numbers, state)`` the next state."""
    if num_steps == 0:
        return state
    block = units_per_block(num_steps, 1, numbers_per_step)

    def body(s, ks):
        s, _ = jax.lax.scan(lambda s_, r: (transition_fn(r, s_), None), s, jax.vmap(draw_fn)(ks))
        return s, None

    keys = jax.random.split(key, num_steps).reshape(num_steps // block, block)
    return jax.lax.scan(body, state, keys)[0]


# --- LG-MH --------------------------------------------------------------------------------------------


def _lgmh_params(config: SamplerConfig, dim: int, has_eta: bool):
    lr = jnp.full((dim,), config.lr)
    step = jnp.full((dim,), config.step_w)
    if has_eta:
        lr = lr.at[-1].set(0.0)
        step = step.at[-1].set(config.step_eta)
    return {"lr": lr, "step_size": step}


_lgmh_kernel = langevin_mh.build_kernel()
_lgmh_transition_fn = langevin_mh.build_transition()


def _lgmh_step(key, state, logdensity_fn, params, config):
    return _lgmh_kernel(key, state, logdensity_fn, params["lr"], params["step_size"], config.l_prob)


def _lgmh_draw(key, dim):
    return langevin_mh.draw(key, (dim,))


def _lgmh_transition(draws, state, logdensity_fn, params, config):
    return _lgmh_transition_fn(draws, state, logdensity_fn, params["lr"], params["step_size"], config.l_prob)


def _lgmh_warmup(key, position, logdensity_fn, params, num_steps, config, chains=1):
    """Burn-in; ``chains``: how many chains the caller runs side by side (sizes the blocks of random numbers)."""
    state = langevin_mh.init(position, logdensity_fn)
    dim = position.shape[-1]
    state = _burn_in_blocked(lambda k: _lgmh_draw(k, dim),
                             lambda r, s: _lgmh_transition(r, s, logdensity_fn, params, config)[0],
                             key, state, num_steps, dim * chains)
    return state, params


def _lgmh_summary(info):
    return info.acceptance_rate, info.is_divergent, jnp.ones((), jnp.int32)


# --- MALA ---------------------------------------------------------------------------------------------


def _mala_params(config, dim, has_eta):
    return {"step_size": jnp.asarray(config.step_size, jnp.float32)}


def _mala_step(key, state, logdensity_fn, params, config):
    return blackjax.mala.build_kernel()(key, state, logdensity_fn, params["step_size"])


def _mala_warmup(key, position, logdensity_fn, params, num_steps, config):
    state = blackjax.mala.init(position, logdensity_fn)
    if not config.adapt or num_steps < MIN_ADAPT_STEPS:
        state = _burn_in(lambda k, s: _mala_step(k, s, logdensity_fn, params, config), key, state, num_steps)
        return state, params
    target = config.target_accept or 0.574
    da_init, da_update, da_final = dual_averaging_adaptation(target)

    def body(carry, k):
        s, da = carry
        s, info = _mala_step(k, s, logdensity_fn, {"step_size": jnp.exp(da.log_step_size)}, config)
        rate = jnp.where(jnp.isfinite(info.acceptance_rate), info.acceptance_rate, 0.0)
        return (s, da_update(da, rate)), None

    (state, da), _ = jax.lax.scan(body, (state, da_init(params["step_size"])), jax.random.split(key, num_steps))
    return state, {"step_size": da_final(da).astype(jnp.float32)}


def _mala_summary(info):
    rate = info.acceptance_rate
    return jnp.where(jnp.isfinite(rate), rate, 0.0), ~jnp.isfinite(rate), jnp.ones((), jnp.int32)


# --- HMC / NUTS ---------------------------------------------------------------------------------------


def _hmc_family_params(config, dim, has_eta):
    return {
        "step_size": jnp.asarray(config.step_size, jnp.float32),
        "inverse_mass_matrix": jnp.ones((dim,), jnp.float32),
    }


def _hmc_algorithm(logdensity_fn, params, config):
    return blackjax.hmc(
        logdensity_fn, params["step_size"], params["inverse_mass_matrix"], config.num_integration_steps
    )


def _nuts_algorithm(logdensity_fn, params, config):
    return blackjax.nuts(
        logdensity_fn, params["step_size"], params["inverse_mass_matrix"],
        max_num_doublings=config.max_num_doublings,
    )


def _make_hmc_family(algorithm_builder, blackjax_algo, extra):
    def step(key, state, logdensity_fn, params, config):
        return algorithm_builder(logdensity_fn, params, config).step(key, state)

    def warmup(key, position, logdensity_fn, params, num_steps, config):
        if not config.adapt or num_steps < MIN_ADAPT_STEPS:
            state = blackjax_algo.init(position, logdensity_fn)
            state = _burn_in(lambda k, s: step(k, s, logdensity_fn, params, config), key, state, num_steps)
            return state, params
        adaptation = blackjax.window_adaptation(
            blackjax_algo,
            logdensity_fn,
            initial_step_size=config.step_size,
            target_acceptance_rate=config.target_accept or 0.8,
            adaptation_info_fn=get_filter_adapt_info_fn(),
            **extra(config),
        )
        (state, tuned), _ = adaptation.run(key, position, num_steps)
        return state, {
            "step_size": jnp.asarray(tuned["step_size"], jnp.float32),
            "inverse_mass_matrix": jnp.asarray(tuned["inverse_mass_matrix"], jnp.float32),
        }

    def summarise(info):
        return info.acceptance_rate, info.is_divergent, info.num_integration_steps.astype(jnp.int32)

    return step, warmup, summarise


_hmc_step, _hmc_warmup, _hmc_summary = _make_hmc_family(
    _hmc_algorithm, blackjax.hmc, lambda c: {"num_integration_steps": c.num_integration_steps}
)
_nuts_step, _nuts_warmup, _nuts_summary = _make_hmc_family(
    _nuts_algorithm, blackjax.nuts, lambda c: {"max_num_doublings": c.max_num_doublings}
)

_SAMPLERS = {
    "lgmh": SamplerDef(
        "lgmh", "the paper's Langevin-gradient Metropolis-Hastings (lr 0.01, step 0.025, l_prob 0.5)",
        _lgmh_params, _lgmh_warmup, _lgmh_step, langevin_mh.init, _lgmh_summary, _lgmh_draw, _lgmh_transition,
    ),
    "mala": SamplerDef(
        "mala", "BlackJAX MALA, step size tuned by dual averaging in warm-up",
        _mala_params, _mala_warmup, _mala_step, blackjax.mala.init, _mala_summary,
    ),
    "hmc": SamplerDef(
        "hmc", "BlackJAX HMC, Stan-style window adaptation of step size and diagonal mass matrix",
        _hmc_family_params, _hmc_warmup, _hmc_step, blackjax.hmc.init, _hmc_summary,
    ),
    "nuts": SamplerDef(
        "nuts", "BlackJAX NUTS, Stan-style window adaptation of step size and diagonal mass matrix",
        _hmc_family_params, _nuts_warmup, _nuts_step, blackjax.nuts.init, _nuts_summary,
    ),
}


def get_sampler(name: str) -> SamplerDef:
    """Look a sampler up by name (``lgmh``, ``mala``, ``hmc``, ``nuts``)."""
    try:
        return _SAMPLERS[name]
    except KeyError:
        raise OptionError(f"unknown sampler '{name}'; choose one of {', '.join(SAMPLERS)}") from None
