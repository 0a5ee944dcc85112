"""Sampler definitions behind one typed interface: the paper's LG-MH and BlackJAX's MALA, HMC, NUTS, MCLMC,
adjusted MCLMC, SGLD and SGHMC.

A :class:`SamplerDef` is built by keyword from pure functions over **one** chain, shaped like BlackJAX's kernels;
the driver (:mod:`bayesprune.samplers.driver`) vmaps them over chains and jits once per definition, settings and
shape:

- ``initial_params(settings, dim, has_eta)``: tuning parameters before warm-up (a pytree of arrays);
- ``init(position, logdensity_fn, key) -> state`` and ``step(key, state, logdensity_fn, params, settings) ->
  (state, info)``: BlackJAX's ``init``/``step`` with the tuning parameters and settings passed in (``key`` for
  samplers whose state holds something random, such as MCLMC's momentum);
- ``summarise(info) -> (acceptance_rate, is_divergent, n_grad_evals)``;
- ``warmup(key, position, logdensity_fn, params, num_steps, settings) -> (state, params)``, optional: warm-up
  *with adaptation* (step size, mass matrix). Without it, or when the settings turn adaptation off, or the
  warm-up is too short to adapt, the driver burns in with plain steps;
- ``stochastic``: the sampler moves on minibatch estimates; its ``logdensity_fn`` is then a
  :class:`~bayesprune.samplers.stochastic.MinibatchLogDensity` (``estimate(position, key)``, ``n_rows``) instead
  of the full-batch log density;
- ``collects(info) -> bool``, optional: whether the step's draw counts (cyclical SG-MCMC keeps only the draws of
  each cycle's sampling stage); without it every draw counts;
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
import numpy as np
from blackjax.adaptation.base import get_filter_adapt_info_fn
from blackjax.adaptation.mclmc_adaptation import MCLMCAdaptationState
from blackjax.adaptation.step_size import dual_averaging_adaptation
from blackjax.mcmc import adjusted_mclmc_dynamic, mclmc

from bayesprune.samplers import langevin_mh, stochastic
from bayesprune.samplers.settings import (
    DESIRED_ENERGY_VAR,
    GRADS_PER_STEP_MCLMC,
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
    def __call__(self, position: jax.Array, logdensity_fn: LogDensityFn, key: jax.Array) -> State: ...


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
    stochastic: bool = False
    collects: Callable[[Info], jax.Array] | None = None

    def adapts(self, settings: SamplerSettings, num_steps: int) -> bool:
        """Whether warm-up runs the adaptation (else it burns in with plain steps)."""
        return self.warmup is not None and getattr(settings, "adapt", True) and num_steps >= MIN_ADAPT_STEPS

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
        "inverse_mass_matrix": jnp.eye(dim, dtype=jnp.float32) if settings.dense_mass else jnp.ones((dim,),
                                                                                                    jnp.float32),
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
            blackjax_algo, logdensity_fn, is_mass_matrix_diagonal=not settings.dense_mass,
            initial_step_size=settings.step_size, target_acceptance_rate=settings.target_accept,
            adaptation_info_fn=get_filter_adapt_info_fn(), **extra(settings),
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

# --- MCLMC, unadjusted and adjusted ----------------------------------------------------------------------

MCLMC_TUNING = (0.1, 0.1, 0.1)  # BlackJAX's three tuning phases, as shares of its nominal run length
MAX_AVERAGE_STEPS = 64.0  # adjusted MCLMC's average integration steps per transition, at most
STEP_SEARCH_XI = 100.0  # the initial step size's energy error, at most this many times the tuning's target
STEP_SEARCH_HALVINGS = 40  # 2**-40: a step size that is still too large after that is left to the tuning


def _no_key(init):
    """BlackJAX's ``init(position, logdensity_fn)`` in the protocol's shape (no randomness in the state)."""
    return lambda position, logdensity_fn, key: init(position, logdensity_fn)


def _microcanonical_params(settings, dim, has_eta):
    step = settings.step_size if settings.step_size is not None else float(np.sqrt(dim)) * 0.25
    length = settings.decoherence_length if settings.decoherence_length is not None else float(np.sqrt(dim))
    return {"L": jnp.asarray(length, jnp.float32), "step_size": jnp.asarray(step, jnp.float32),
            "inverse_mass_matrix": jnp.ones((dim,), jnp.float32)}


def _adaptation_state(params) -> MCLMCAdaptationState:
    return MCLMCAdaptationState(params["L"], params["step_size"], params["inverse_mass_matrix"])


def _as_params(tuned: MCLMCAdaptationState):
    return {"L": jnp.asarray(tuned.L, jnp.float32), "step_size": jnp.asarray(tuned.step_size, jnp.float32),
            "inverse_mass_matrix": jnp.asarray(tuned.inverse_mass_matrix, jnp.float32)}


def _mclmc_step(key, state, logdensity_fn, params, settings: MCLMCSettings):
    kernel = mclmc.build_kernel(desired_energy_var=settings.desired_energy_var)
    return kernel(key, state, logdensity_fn, params["inverse_mass_matrix"], params["L"], params["step_size"])


def _reasonable_step_size(key, state, logdensity_fn, params, kernel, desired_energy_var):
    """Halve the initial step size until one step's energy error is within reach of BlackJAX's tuning.

    The tuning predicts the step size from ``xi / step**6`` (the energy variance grows as step**6) in float32.
    From a step size far too large for the posterior (a sharp mode at an optimised start: ``xi`` ~ 1e60) the
    prediction underflows to 0, then ``xi / 0**6`` overflows, and the step size stays 0 for the whole run: seen
    on abalone, 2 of 4 chains frozen at their start. BlackJAX has no initial step-size search for MCLMC, so
    this is the halving heuristic of Hoffman & Gelman (2014, Algorithm 4) on MCLMC's energy error: the first
    step size whose ``xi = energy_change**2 / (dim * desired_energy_var)`` is finite and at most
    ``STEP_SEARCH_XI`` (the tuning then shrinks it by at most ``STEP_SEARCH_XI ** (1/6)``)."""
    dim = state.position.shape[0]

    def body(carry):
        step, k, _, i = carry
        k, probe = jax.random.split(k)
        _, info = kernel(probe, state, logdensity_fn, params["inverse_mass_matrix"], params["L"], step)
        xi = jnp.square(info.energy_change) / (dim * desired_energy_var)
        bad = ~(jnp.isfinite(xi) & info.nonans) | (xi > STEP_SEARCH_XI)
        return jnp.where(bad, step / 2, step), k, bad, i + 1

    def cond(carry):
        return carry[2] & (carry[3] < STEP_SEARCH_HALVINGS)

    step, _, _, _ = jax.lax.while_loop(cond, body, (params["step_size"], key, jnp.asarray(True), 0))
    return step


def _mclmc_tune(key, position, logdensity_fn, params, num_steps, settings, desired_energy_var=DESIRED_ENERGY_VAR):
    """BlackJAX's MCLMC tuning (step size for the energy error, L from the autocorrelation, preconditioner),
    sized so that its three phases take ``num_steps`` steps, from a step size that one step finds reasonable."""
    init_key, search_key, tune_key = jax.random.split(key, 3)
    state = mclmc.init(position, logdensity_fn, init_key)
    kernel = mclmc.build_kernel(desired_energy_var=desired_energy_var)
    params = {**params, "step_size": _reasonable_step_size(search_key, state, logdensity_fn, params, kernel,
                                                           desired_energy_var)}
    nominal = max(int(round(num_steps / sum(MCLMC_TUNING))), 1)
    state, tuned, _ = blackjax.mclmc_find_L_and_step_size(
        kernel, nominal, state, tune_key, logdensity_fn=logdensity_fn, frac_tune1=MCLMC_TUNING[0],
        frac_tune2=MCLMC_TUNING[1], frac_tune3=MCLMC_TUNING[2], desired_energy_var=desired_energy_var,
        diagonal_preconditioning=settings.diagonal_preconditioning, params=_adaptation_state(params))
    return state, _as_params(tuned)


def _mclmc_warmup(key, position, logdensity_fn, params, num_steps, settings: MCLMCSettings):
    return _mclmc_tune(key, position, logdensity_fn, params, num_steps, settings, settings.desired_energy_var)


def _mclmc_summary(info):
    # no Metropolis step, so no acceptance rate (NaN: nothing to warn about); a NaN step is undone and counted
    return jnp.full((), jnp.nan), ~info.nonans, jnp.full((), GRADS_PER_STEP_MCLMC, jnp.int32)


_amclmc_kernel = adjusted_mclmc_dynamic.build_kernel(
    integration_steps_fn=adjusted_mclmc_dynamic.make_random_trajectory_length_fn(True))


def _amclmc_tuning_kernel(rng_key, state, logdensity_fn, step_size, inverse_mass_matrix, integration_steps_params):
    return _amclmc_kernel(rng_key, state, logdensity_fn, step_size, jnp.inf, inverse_mass_matrix,
                          integration_steps_params)


def _amclmc_step(key, state, logdensity_fn, params, settings):
    return _amclmc_tuning_kernel(key, state, logdensity_fn, params["step_size"], params["inverse_mass_matrix"],
                                 (params["L"] / params["step_size"],))


def _amclmc_warmup(key, position, logdensity_fn, params, num_steps, settings: AdjustedMCLMCSettings):
    """BlackJAX's recipe: unadjusted MCLMC tuning on the first half of the warm-up, then the adjusted kernel's own
    tuning (step size to ``target_accept``, L) from there on the second half."""
    k_unadjusted, k_init, k_adjusted = jax.random.split(key, 3)
    first = num_steps // 2
    state, params = _mclmc_tune(k_unadjusted, position, logdensity_fn, params, first, settings)
    state = adjusted_mclmc_dynamic.init(state.position, logdensity_fn, k_init)
    # the adjusted tuning's phases (step size and preconditioner, then L from the autocorrelation, then the
    # step size again) take about 0.1 + 0.1 + 0.1 + 0.1 of its nominal length
    nominal = max(int(round((num_steps - first) / 0.4)), 1)
    # the trajectory (L / step size integration steps on average) keeps the unadjusted tuning's length
    steps = jnp.clip(params["L"] / params["step_size"], 2.0, MAX_AVERAGE_STEPS)
    state, tuned, _ = blackjax.adjusted_mclmc_find_L_and_step_size(
        _amclmc_tuning_kernel, logdensity_fn, nominal, state, k_adjusted, settings.target_accept, frac_tune1=0.1,
        frac_tune2=0.1, frac_tune3=0.1, diagonal_preconditioning=settings.diagonal_preconditioning,
        params=_adaptation_state(params), target_num_integration_steps=steps)
    return state, _as_params(tuned)


def _amclmc_summary(info):
    return (info.acceptance_rate, info.is_divergent,
            (info.num_integration_steps * GRADS_PER_STEP_MCLMC).astype(jnp.int32))


def _stochastic(name: str, description: str, settings: type[SamplerSettings], step: StepFn) -> SamplerDef:
    """A stochastic-gradient sampler: its step on minibatches, the shared warm-up (metric, learning rate)."""
    return SamplerDef(name=name, description=description, settings=settings, initial_params=stochastic.initial_params,
                      init=stochastic.init, step=step, summarise=stochastic.summarise,
                      warmup=stochastic.warmup_for(step), stochastic=True, collects=stochastic.collects)


_SAMPLERS = {
    "lgmh": SamplerDef(
        name="lgmh", description="the paper's Langevin-gradient Metropolis-Hastings (lr 0.01, step 0.025, "
        "l_prob 0.5)", settings=LGMHSettings, initial_params=_lgmh_params, init=_no_key(langevin_mh.init),
        step=_lgmh_step, summarise=_lgmh_summary,
        randomness=BlockRandomness(generate=_lgmh_generate, transition=_lgmh_transition),
    ),
    "mala": SamplerDef(
        name="mala", description="BlackJAX MALA, step size tuned by dual averaging in warm-up",
        settings=MALASettings, initial_params=_step_size_params, init=_no_key(blackjax.mala.init), step=_mala_step,
        summarise=_mala_summary, warmup=_mala_warmup,
    ),
    "hmc": SamplerDef(
        name="hmc", description="BlackJAX HMC, Stan-style window adaptation of step size and diagonal mass matrix",
        settings=HMCSettings, initial_params=_mass_matrix_params, init=_no_key(blackjax.hmc.init), step=_hmc_step,
        summarise=_hmc_summary, warmup=_hmc_warmup,
    ),
    "nuts": SamplerDef(
        name="nuts", description="BlackJAX NUTS, Stan-style window adaptation of step size and diagonal mass "
        "matrix", settings=NUTSSettings, initial_params=_mass_matrix_params, init=_no_key(blackjax.nuts.init),
        step=_nuts_step, summarise=_nuts_summary, warmup=_nuts_warmup,
    ),
    "mclmc": SamplerDef(
        name="mclmc", description="BlackJAX unadjusted microcanonical Langevin MC, step size and L tuned in "
        "warm-up", settings=MCLMCSettings, initial_params=_microcanonical_params, init=mclmc.init,
        step=_mclmc_step, summarise=_mclmc_summary, warmup=_mclmc_warmup,
    ),
    "amclmc": SamplerDef(
        name="amclmc", description="BlackJAX adjusted (Metropolis-Hastings) microcanonical Langevin MC, tuned in "
        "warm-up", settings=AdjustedMCLMCSettings, initial_params=_microcanonical_params,
        init=adjusted_mclmc_dynamic.init,
        step=_amclmc_step, summarise=_amclmc_summary, warmup=_amclmc_warmup,
    ),
    "sgld": _stochastic("sgld", "BlackJAX stochastic gradient Langevin dynamics on minibatches (no Metropolis step), "
                        "constant or cyclical step size", SGLDSettings, stochastic.sgld_step),
    "sghmc": _stochastic("sghmc", "BlackJAX stochastic gradient HMC on minibatches (persistent momentum, friction), "
                         "constant or cyclical step size", SGHMCSettings, stochastic.sghmc_step),
}
assert tuple(_SAMPLERS) == SAMPLERS


def get_sampler(name: str) -> SamplerDef:
    """Look a sampler up by name (``lgmh``, ``mala``, ``hmc``, ``nuts``)."""
    settings_class(name)  # unknown names raise OptionError
    return _SAMPLERS[name]
