"""Sampler definitions behind one typed interface: the paper's LG-MH and BlackJAX's MALA, HMC and NUTS.

A :class:`SamplerDef` is built by keyword from pure functions over **one** chain, shaped like BlackJAX's kernels;
the driver (:mod:`bayesprune.samplers.driver`) vmaps them over chains and jits once per definition, settings and
shape:

- ``initial_params(settings, dim, has_eta)``: tuning parameters before warm-up (a pytree of arrays);
- ``init(position, logdensity_fn) -> state`` and ``step(key, state, logdensity_fn, params, settings) -> (state,
  info)``: BlackJAX's ``init``/``step`` with the tuning parameters and settings passed in;
- ``summarise(info) -> (acceptance_rate, is_divergent, n_grad_evals)``;
- ``warmup(key, position, logdensity_fn, params, num_steps, settings) -> (state, params)``, optional: warm-up
  *with adaptation* (step size, mass matrix). Without it, or when the settings turn adaptation off, or the
  warm-up is too short to adapt, the driver burns in with plain steps;
- ``randomness``, optional (:class:`BlockRandomness`): ``step`` split into its random numbers and a deterministic
  ``transition``, declared as data, so that the driver can generate the numbers of many steps in one batched
  call (the same numbers ``step`` would generate from the same keys). LG-MH declares it; BlackJAX's kernels
  generate inside ``step``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import blackjax
import jax
import jax.numpy as jnp
from blackjax.adaptation.base import get_filter_adapt_info_fn
from blackjax.adaptation.step_size import dual_averaging_adaptation

from bayesprune.samplers import langevin_mh
from bayesprune.samplers.settings import (
    SAMPLERS,
    HMCSettings,
    LGMHSettings,
    MALASettings,
    NUTSSettings,
    SamplerSettings,
    settings_class,
)

MIN_ADAPT_STEPS = 50  # a shorter warm-up burns in with the initial step size instead of adapting it

LogDensityFn = Callable[[jax.Array], jax.Array]
Params = Any  # a pytree of arrays
State = Any
Info = Any


class ParamsFn(Protocol):
    def __call__(self, settings: Any, dim: int, has_eta: bool) -> Params: ...


class InitFn(Protocol):
    def __call__(self, position: jax.Array, logdensity_fn: LogDensityFn) -> State: ...


class StepFn(Protocol):
    def __call__(self, key: jax.Array, state: State, logdensity_fn: LogDensityFn, params: Params,
                 settings: Any) -> tuple[State, Info]: ...


class TransitionFn(Protocol):
    def __call__(self, numbers: Any, state: State, logdensity_fn: LogDensityFn, params: Params,
                 settings: Any) -> tuple[State, Info]: ...


class WarmupFn(Protocol):
    def __call__(self, key: jax.Array, position: jax.Array, logdensity_fn: LogDensityFn, params: Params,
                 num_steps: int, settings: Any) -> tuple[State, Params]: ...


class SummaryFn(Protocol):
    def __call__(self, info: Info) -> tuple[jax.Array, jax.Array, jax.Array]: ...


@dataclass(frozen=True)
class BlockRandomness:
    """A step as ``transition(generate(key, dim), state, ...)``: its random numbers apart from the rest.

    ``generate(key, dim)`` gives one step's random numbers (a pytree); ``transition`` the next state from them.
    ``step(key, ...)`` must equal ``transition(generate(key, dim), ...)``.
    """

    generate: Callable[[jax.Array, int], Any]
    transition: TransitionFn


@dataclass(frozen=True, kw_only=True)
class SamplerDef:
    """One sampler: its settings class and its pure single-chain functions (see the module docstring)."""

    name: str
    description: str
    settings: type[SamplerSettings]
    initial_params: ParamsFn
    init: InitFn
    step: StepFn
    summarise: SummaryFn
    warmup: WarmupFn | None = None
    randomness: BlockRandomness | None = None

    def adapts(self, settings: SamplerSettings, num_steps: int) -> bool:
        """Whether warm-up runs the adaptation (else it burns in with plain steps)."""
        return self.warmup is not None and getattr(settings, "adapt", False) and num_steps >= MIN_ADAPT_STEPS

    def random_numbers(self, keys: jax.Array, dim: int) -> Any:
        """The random numbers of one step per key (a key array of any shape), generated in one batched call;
        the keys themselves for samplers that generate inside ``step``."""
        if self.randomness is None:
            return keys
        flat = jax.vmap(lambda k: self.randomness.generate(k, dim))(keys.reshape(-1))
        return jax.tree.map(lambda a: a.reshape(*keys.shape, *a.shape[1:]), flat)

    def apply(self, numbers: Any, state: State, logdensity_fn: LogDensityFn, params: Params,
              settings: SamplerSettings) -> tuple[State, Info]:
        """One step from what :meth:`random_numbers` returned for its key."""
        if self.randomness is None:
            return self.step(numbers, state, logdensity_fn, params, settings)
        return self.randomness.transition(numbers, state, logdensity_fn, params, settings)


def steps_per_block(numbers_per_step: int) -> int:
    """Steps whose random numbers are generated in one batch: up to 256, at most 2**19 numbers (2 MiB) in all
    chains together (larger blocks fall out of the CPU's cache and cost more than they save)."""
    return max(1, min(256, 2**19 // max(int(numbers_per_step), 1)))


def units_per_block(n_units: int, steps_per_unit: int, numbers_per_step: int) -> int:
    """How many of ``n_units`` units of ``steps_per_unit`` steps (a kept draw and its thinned steps, or one
    warm-up step) share a block of random numbers: the largest divisor of ``n_units`` whose steps fit
    :func:`steps_per_block`, so blocks tile the units exactly and one loop body is compiled."""
    limit = max(1, min(steps_per_block(numbers_per_step) // steps_per_unit, n_units))
    return max(d for d in range(1, limit + 1) if n_units % d == 0)


# --- LG-MH --------------------------------------------------------------------------------------------


def _lgmh_params(settings: LGMHSettings, dim: int, has_eta: bool):
    lr = jnp.full((dim,), settings.lr)
    step = jnp.full((dim,), settings.step_w)
    if has_eta:
        lr = lr.at[-1].set(0.0)
        step = step.at[-1].set(settings.step_eta)
    return {"lr": lr, "step_size": step}


_lgmh_kernel = langevin_mh.build_kernel()
_lgmh_transition_fn = langevin_mh.build_transition()


def _lgmh_step(key, state, logdensity_fn, params, settings: LGMHSettings):
    return _lgmh_kernel(key, state, logdensity_fn, params["lr"], params["step_size"], settings.l_prob)


def _lgmh_generate(key, dim):
    return langevin_mh.random_numbers(key, (dim,))


def _lgmh_transition(numbers, state, logdensity_fn, params, settings: LGMHSettings):
    return _lgmh_transition_fn(numbers, state, logdensity_fn, params["lr"], params["step_size"], settings.l_prob)


def _lgmh_summary(info):
    return info.acceptance_rate, info.is_divergent, jnp.ones((), jnp.int32)


# --- MALA ---------------------------------------------------------------------------------------------


def _step_size_params(settings, dim, has_eta):
    return {"step_size": jnp.asarray(settings.step_size, jnp.float32)}


def _mala_step(key, state, logdensity_fn, params, settings):
    return blackjax.mala.build_kernel()(key, state, logdensity_fn, params["step_size"])


def _mala_warmup(key, position, logdensity_fn, params, num_steps, settings: MALASettings):
    """Dual averaging of the step size towards ``settings.target_accept``."""
    da_init, da_update, da_final = dual_averaging_adaptation(settings.target_accept)

    def body(carry, k):
        s, da = carry
        s, info = _mala_step(k, s, logdensity_fn, {"step_size": jnp.exp(da.log_step_size)}, settings)
        rate = jnp.where(jnp.isfinite(info.acceptance_rate), info.acceptance_rate, 0.0)
        return (s, da_update(da, rate)), None

    state = blackjax.mala.init(position, logdensity_fn)
    (state, da), _ = jax.lax.scan(body, (state, da_init(params["step_size"])), jax.random.split(key, num_steps))
    return state, {"step_size": da_final(da).astype(jnp.float32)}


def _mala_summary(info):
    rate = info.acceptance_rate
    return jnp.where(jnp.isfinite(rate), rate, 0.0), ~jnp.isfinite(rate), jnp.ones((), jnp.int32)


# --- HMC / NUTS ---------------------------------------------------------------------------------------


def _mass_matrix_params(settings, dim, has_eta):
    return {
        "step_size": jnp.asarray(settings.step_size, jnp.float32),
        "inverse_mass_matrix": jnp.ones((dim,), jnp.float32),
    }


def _hmc_algorithm(logdensity_fn, params, settings: HMCSettings):
    return blackjax.hmc(logdensity_fn, params["step_size"], params["inverse_mass_matrix"],
                        settings.num_integration_steps)


def _nuts_algorithm(logdensity_fn, params, settings: NUTSSettings):
    return blackjax.nuts(logdensity_fn, params["step_size"], params["inverse_mass_matrix"],
                         max_num_doublings=settings.max_num_doublings)


def _window_adapted(algorithm_builder, blackjax_algo, extra: Callable[[Any], dict]):
    """``step``, ``warmup`` (BlackJAX's Stan-style window adaptation) and ``summarise`` of an HMC-family kernel."""

    def step(key, state, logdensity_fn, params, settings):
        return algorithm_builder(logdensity_fn, params, settings).step(key, state)

    def warmup(key, position, logdensity_fn, params, num_steps, settings):
        adaptation = blackjax.window_adaptation(
            blackjax_algo, logdensity_fn, initial_step_size=settings.step_size,
            target_acceptance_rate=settings.target_accept, adaptation_info_fn=get_filter_adapt_info_fn(),
            **extra(settings),
        )
        (state, tuned), _ = adaptation.run(key, position, num_steps)
        return state, {
            "step_size": jnp.asarray(tuned["step_size"], jnp.float32),
            "inverse_mass_matrix": jnp.asarray(tuned["inverse_mass_matrix"], jnp.float32),
        }

    def summarise(info):
        return info.acceptance_rate, info.is_divergent, info.num_integration_steps.astype(jnp.int32)

    return step, warmup, summarise


_hmc_step, _hmc_warmup, _hmc_summary = _window_adapted(
    _hmc_algorithm, blackjax.hmc, lambda s: {"num_integration_steps": s.num_integration_steps})
_nuts_step, _nuts_warmup, _nuts_summary = _window_adapted(
    _nuts_algorithm, blackjax.nuts, lambda s: {"max_num_doublings": s.max_num_doublings})

_SAMPLERS = {
    "lgmh": SamplerDef(
        name="lgmh", description="the paper's Langevin-gradient Metropolis-Hastings (lr 0.01, step 0.025, "
        "l_prob 0.5)", settings=LGMHSettings, initial_params=_lgmh_params, init=langevin_mh.init,
        step=_lgmh_step, summarise=_lgmh_summary,
        randomness=BlockRandomness(generate=_lgmh_generate, transition=_lgmh_transition),
    ),
    "mala": SamplerDef(
        name="mala", description="BlackJAX MALA, step size tuned by dual averaging in warm-up",
        settings=MALASettings, initial_params=_step_size_params, init=blackjax.mala.init, step=_mala_step,
        summarise=_mala_summary, warmup=_mala_warmup,
    ),
    "hmc": SamplerDef(
        name="hmc", description="BlackJAX HMC, Stan-style window adaptation of step size and diagonal mass matrix",
        settings=HMCSettings, initial_params=_mass_matrix_params, init=blackjax.hmc.init, step=_hmc_step,
        summarise=_hmc_summary, warmup=_hmc_warmup,
    ),
    "nuts": SamplerDef(
        name="nuts", description="BlackJAX NUTS, Stan-style window adaptation of step size and diagonal mass "
        "matrix", settings=NUTSSettings, initial_params=_mass_matrix_params, init=blackjax.nuts.init,
        step=_nuts_step, summarise=_nuts_summary, warmup=_nuts_warmup,
    ),
}
assert tuple(_SAMPLERS) == SAMPLERS


def get_sampler(name: str) -> SamplerDef:
    """Look a sampler up by name (``lgmh``, ``mala``, ``hmc``, ``nuts``)."""
    settings_class(name)  # unknown names raise OptionError
    return _SAMPLERS[name]
