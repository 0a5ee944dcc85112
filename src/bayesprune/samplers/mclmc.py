"""BlackJAX's microcanonical Langevin Monte Carlo (Robnik et al. 2023): unadjusted (``mclmc``) and adjusted with a
Metropolis-Hastings step and random trajectory lengths (``amclmc``), both tuned automatically in warm-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import blackjax
import jax
import jax.numpy as jnp
import numpy as np
from blackjax.adaptation.mclmc_adaptation import MCLMCAdaptationState
from blackjax.mcmc import adjusted_mclmc_dynamic, mclmc

from bayesprune import options
from bayesprune.options import option
from bayesprune.samplers.base import Advice, SamplerDef, SamplerSettings

__all__ = ["SAMPLERS", "AdjustedMCLMCSettings", "MCLMCSettings"]

GRADS_PER_STEP_MCLMC = 2  # the isokinetic McLachlan integrator evaluates the gradient twice per step
DESIRED_ENERGY_VAR = 5e-4  # BlackJAX's MCLMC default; adjusted MCLMC's unadjusted tuning phase uses it too


@dataclass(frozen=True, kw_only=True)
class MicrocanonicalSettings(SamplerSettings):
    adapt: bool = option(True, "tune the step size and the momentum decoherence length L (and a diagonal "
                         "preconditioner) in warm-up, BlackJAX's MCLMC tuning", check=options.one_of((True, False)))
    step_size: float | None = option(None, "initial step size (default sqrt(dim) / 4, BlackJAX's)",
                                     check=options.optional(options.positive))
    decoherence_length: float | None = option(None, "initial momentum decoherence length L (default sqrt(dim))",
                                              check=options.optional(options.positive))
    diagonal_preconditioning: bool = option(True, "tune a diagonal preconditioner in warm-up",
                                            check=options.one_of((True, False)))


@dataclass(frozen=True, kw_only=True)
class MCLMCSettings(MicrocanonicalSettings):
    """BlackJAX's unadjusted microcanonical Langevin MC (Robnik et al. 2023), tuned automatically. No
    Metropolis step: its bias is controlled by the energy error the tuning aims at (``desired_energy_var``)."""

    sampler: ClassVar[str] = "mclmc"
    default_samples: ClassVar[int] = 40000  # chosen by benchmarks/default_sampler.py (docs/BENCHMARKS.md)
    # as long as the full sample: chosen by benchmarks/pipeline.py (variant resample-long: 20,000 left a compact
    # model's chains unsettled, fn R-hat 2.2, and 1.10x the full model's RMSE with no warning)
    default_resample_samples: ClassVar[int] = 40000
    default_init: ClassVar[str] = "optimised"  # MILE's recipe (Sommer et al. 2025): an ensemble of optimised nets

    desired_energy_var: float = option(DESIRED_ENERGY_VAR, "energy error variance per dimension the step size is "
                                       "tuned to (smaller: less bias, smaller steps)", check=options.positive)

    def grads_per_step(self) -> float:
        return float(GRADS_PER_STEP_MCLMC)


@dataclass(frozen=True, kw_only=True)
class AdjustedMCLMCSettings(MicrocanonicalSettings):
    """BlackJAX's adjusted microcanonical Langevin MC: MCLMC trajectories with a Metropolis-Hastings step (exact
    in the limit), random trajectory lengths; tuned from an unadjusted MCLMC tuning, then to ``target_accept``."""

    sampler: ClassVar[str] = "amclmc"
    default_samples: ClassVar[int] = 4000
    default_resample_samples: ClassVar[int] = 2000
    default_init: ClassVar[str] = "optimised"

    target_accept: float = option(0.9, "acceptance rate the warm-up adaptation aims at",
                                  check=options.open_probability)

    def grads_per_step(self) -> float:
        return 32.0  # about 16 integration steps of two gradients, typical after tuning


# --- MCLMC, unadjusted and adjusted ----------------------------------------------------------------------

MCLMC_TUNING = (0.1, 0.1, 0.1)  # BlackJAX's three tuning phases, as shares of its nominal run length
# BlackJAX's third phase keeps every position it visits and takes their FFT-based ESS to set L: at 20,000 warm-up
# steps of a 17,226-parameter network that was 6,667 x 17,226 floats per chain, about 10 GB at the FFT's peak for
# 4 chains. The phase keeps at most this many values per chain (64 MiB of float32), at least TUNE3_MIN_STEPS steps
TUNE3_VALUES = 2**24
TUNE3_MIN_STEPS = 64
MAX_AVERAGE_STEPS = 64.0  # adjusted MCLMC's average integration steps per transition, at most
STEP_SEARCH_XI = 100.0  # the initial step size's energy error, at most this many times the tuning's target
STEP_SEARCH_HALVINGS = 40  # 2**-40: a step size that is still too large after that is left to the tuning


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


def tuning_phases(num_steps: int, dim: int) -> tuple[int, tuple[float, float, float]]:
    """BlackJAX's nominal length and the three phases' shares of it, so that the tuning takes ``num_steps``
    steps: ``MCLMC_TUNING`` unless the third phase would keep more than ``TUNE3_VALUES`` position values; then
    that phase is cut to ``TUNE3_VALUES // dim`` steps (at least ``TUNE3_MIN_STEPS``) and the first two phases
    take the rest. L is set from the ESS of fewer steps, which the phase's ~10 effective samples still allow."""
    nominal = max(int(round(num_steps / sum(MCLMC_TUNING))), 1)
    steps3 = round(nominal * MCLMC_TUNING[2])
    cap = max(TUNE3_VALUES // max(dim, 1), TUNE3_MIN_STEPS)
    if steps3 <= cap:
        return nominal, MCLMC_TUNING
    nominal = max(int(round((num_steps - cap) / (MCLMC_TUNING[0] + MCLMC_TUNING[1]))), 1)
    return nominal, (MCLMC_TUNING[0], MCLMC_TUNING[1], cap / nominal)


def _centred(logdensity_fn, origin):
    """``logdensity_fn`` in coordinates centred on ``origin``: ``z -> logdensity_fn(origin + z)``.

    BlackJAX's tunings estimate the diagonal preconditioner as ``E[x^2] - E[x]^2`` in float32, which cancels to 0
    or below for a parameter whose posterior sd is small against its mean: on UCI naval one chain of four tuned
    a negative inverse mass and a step size of 0, and every one of its transitions was non-finite. Tuning in
    coordinates centred on the chain's start (an optimised network: near the posterior's bulk) keeps the moments
    small; MCLMC is translation-equivariant, so nothing else changes."""
    return lambda z: logdensity_fn(origin + z)


def _uncentred(state, origin):
    """A state of the centred log density (:func:`_centred`) as a state of the original one: the position moves
    back; log density, gradient and momentum are the same."""
    return state._replace(position=state.position + origin)


def _mclmc_tune(key, position, logdensity_fn, params, num_steps, settings, desired_energy_var=DESIRED_ENERGY_VAR):
    """BlackJAX's MCLMC tuning (step size for the energy error, L from the autocorrelation, preconditioner),
    sized so that its three phases take ``num_steps`` steps, from a step size that one step finds reasonable.

    The first phase (the step size) runs in coordinates centred on ``position``, the other two in coordinates
    centred where the first ended (:func:`_centred`): the second phase's draws give the preconditioner's
    moments, and a chain still travelling from its start to the posterior's bulk in the first phase would
    otherwise put them far from the origin (UCI naval: centring on the start alone still left one chain of four
    with a negative inverse mass)."""
    origin, centred = position, _centred(logdensity_fn, position)
    init_key, search_key, key1, key2 = jax.random.split(key, 4)
    state = mclmc.init(jnp.zeros_like(position), centred, init_key)
    kernel = mclmc.build_kernel(desired_energy_var=desired_energy_var)
    params = {**params, "step_size": _reasonable_step_size(search_key, state, centred, params, kernel,
                                                           desired_energy_var)}
    nominal, fracs = tuning_phases(num_steps, position.shape[-1])
    common = dict(desired_energy_var=desired_energy_var, diagonal_preconditioning=settings.diagonal_preconditioning)
    state, tuned, _ = blackjax.mclmc_find_L_and_step_size(
        kernel, nominal, state, key1, logdensity_fn=centred, frac_tune1=fracs[0], frac_tune2=0.0, frac_tune3=0.0,
        params=_adaptation_state(params), **common)
    origin = origin + state.position  # the log density and its gradient are the same at the moved origin
    centred = _centred(logdensity_fn, origin)
    state, tuned, _ = blackjax.mclmc_find_L_and_step_size(
        kernel, nominal, state._replace(position=jnp.zeros_like(origin)), key2, logdensity_fn=centred,
        frac_tune1=0.0, frac_tune2=fracs[1], frac_tune3=fracs[2], params=tuned, **common)
    return _uncentred(state, origin), _as_params(tuned)


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
    origin, logdensity_fn = state.position, _centred(logdensity_fn, state.position)  # its preconditioner too
    state = adjusted_mclmc_dynamic.init(jnp.zeros_like(origin), logdensity_fn, k_init)
    # the adjusted tuning's phases (step size and preconditioner, then L from the autocorrelation, then the
    # step size again) take about 0.1 + 0.1 + 0.1 + 0.1 of its nominal length
    nominal = max(int(round((num_steps - first) / 0.2)), 1)
    # the trajectory (L / step size integration steps on average) keeps the unadjusted tuning's length
    steps = jnp.clip(params["L"] / params["step_size"], 2.0, MAX_AVERAGE_STEPS)
    state, tuned, _ = blackjax.adjusted_mclmc_find_L_and_step_size(
        _amclmc_tuning_kernel, logdensity_fn, nominal, state, k_adjusted, settings.target_accept, frac_tune1=0.1,
        frac_tune2=0.1, frac_tune3=0.0, diagonal_preconditioning=settings.diagonal_preconditioning,
        params=_adaptation_state(params), target_num_integration_steps=steps)
    return _uncentred(state, origin), _as_params(tuned)


def _amclmc_summary(info):
    return (info.acceptance_rate, info.is_divergent,
            (info.num_integration_steps * GRADS_PER_STEP_MCLMC).astype(jnp.int32))


SAMPLERS = (
    SamplerDef(
        name="mclmc", description="BlackJAX unadjusted microcanonical Langevin MC, step size and L tuned in "
        "warm-up", settings=MCLMCSettings, initial_params=_microcanonical_params, init=mclmc.init,
        step=_mclmc_step, summarise=_mclmc_summary, warmup=_mclmc_warmup,
        advice=Advice(divergent="; lower --desired-energy-var (e.g. 1e-4) for smaller steps"),
    ),
    SamplerDef(
        name="amclmc", description="BlackJAX adjusted (Metropolis-Hastings) microcanonical Langevin MC, tuned in "
        "warm-up", settings=AdjustedMCLMCSettings, initial_params=_microcanonical_params,
        init=adjusted_mclmc_dynamic.init, step=_amclmc_step, summarise=_amclmc_summary, warmup=_amclmc_warmup,
        advice=Advice(divergent="; raise --target-accept (e.g. 0.95) for smaller steps"),
    ),
)
