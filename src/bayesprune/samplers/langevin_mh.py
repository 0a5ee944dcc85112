"""The paper's Langevin-gradient Metropolis-Hastings kernel (LG-MH), in BlackJAX's init/step shape.

At each step, with probability ``l_prob`` the proposal is gradient-informed,

    theta_gd = theta + lr * grad log p(theta | data),   theta' ~ N(theta_gd, step^2 I),

otherwise it is a random walk theta' ~ N(theta, step^2 I). The acceptance probability is

    min(1, p(theta') q(theta | theta') / (p(theta) q(theta' | theta)))

where, for a gradient proposal, q's mean is the gradient step taken *from the other point* (so the ratio
corrects the asymmetry exactly) and for a random walk q is symmetric. Each of the two moves is a valid MH
kernel, so choosing one at random keeps the posterior invariant.

``lr`` and ``step_size`` may be vectors, one entry per coordinate: the pipeline uses lr = 0.01 and
step = 0.025 for network parameters and lr = 0, step = 0.2 for eta = log tau^2 (the paper's random walk
on eta). Differences from the authors' code are listed in docs/METHOD.md.

The module is the LG-MH sampler of the pipeline too: its settings (:class:`LGMHSettings`) and its definition
(``SAMPLERS``, :mod:`bayesprune.samplers.base`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import jax
import jax.numpy as jnp
from blackjax.base import SamplingAlgorithm

from bayesprune import options
from bayesprune.options import option
from bayesprune.samplers.base import Advice, BlockRandomness, SamplerDef, SamplerSettings, no_key

__all__ = ["LGMHInfo", "LGMHSettings", "LGMHState", "SAMPLERS", "as_top_level_api", "build_kernel",
           "build_transition", "init", "lgmh", "random_numbers"]


class LGMHState(NamedTuple):
    """Position, log density and its gradient (reused by the next step's proposal)."""

    position: jax.Array
    logdensity: jax.Array
    logdensity_grad: jax.Array


class LGMHInfo(NamedTuple):
    """What happened in one transition."""

    acceptance_rate: jax.Array
    is_accepted: jax.Array
    is_divergent: jax.Array
    used_gradient: jax.Array


def init(position: jax.Array, logdensity_fn: Callable) -> LGMHState:
    """Evaluate the log density and gradient at the starting position."""
    logdensity, grad = jax.value_and_grad(logdensity_fn)(position)
    return LGMHState(position, logdensity, grad)


def _log_q(to: jax.Array, mean: jax.Array, step_size: jax.Array) -> jax.Array:
    """log N(to | mean, diag(step^2)) up to a constant that cancels in the MH ratio."""
    return -0.5 * jnp.sum(((to - mean) / step_size) ** 2)


class LGMHRandomNumbers(NamedTuple):
    """The random numbers of one transition."""

    choice: jax.Array  # U(0, 1): a gradient move when below l_prob
    noise: jax.Array  # N(0, I), the shape of the position
    accept: jax.Array  # U(0, 1) for the MH test


def random_numbers(rng_key: jax.Array, position_shape: tuple[int, ...], dtype=jnp.float32) -> LGMHRandomNumbers:
    """The random numbers the transition from ``rng_key`` uses.

    Kept apart from :func:`build_transition` so that a driver can generate them for many steps and chains in one
    batched call (``jax.vmap`` over keys gives the same numbers): on a CPU, generating 1,852 normals inside each
    step of a loop costs about as much as the network's gradient.
    """
    key_choice, key_move, key_accept = jax.random.split(rng_key, 3)
    return LGMHRandomNumbers(jax.random.uniform(key_choice),
                             jax.random.normal(key_move, position_shape, dtype=dtype), jax.random.uniform(key_accept))


def build_transition() -> Callable:
    """The deterministic part of a step: ``transition(numbers, state, logdensity_fn, lr, step_size, l_prob)``."""

    def transition(
        numbers: LGMHRandomNumbers,
        state: LGMHState,
        logdensity_fn: Callable,
        lr: jax.Array | float = 0.01,
        step_size: jax.Array | float = 0.025,
        l_prob: float = 0.5,
    ) -> tuple[LGMHState, LGMHInfo]:
        x, g = state.position, state.logdensity_grad
        use_gradient = numbers.choice < l_prob
        eff_lr = jnp.where(use_gradient, lr, 0.0)
        forward_mean = x + eff_lr * g
        x_new = forward_mean + step_size * numbers.noise
        logdensity_new, g_new = jax.value_and_grad(logdensity_fn)(x_new)
        backward_mean = x_new + eff_lr * g_new
        log_ratio = (
            logdensity_new
            - state.logdensity
            + _log_q(x, backward_mean, step_size)
            - _log_q(x_new, forward_mean, step_size)
        )
        finite = jnp.isfinite(log_ratio) & jnp.all(jnp.isfinite(g_new))
        log_ratio = jnp.where(finite, log_ratio, -jnp.inf)
        acceptance_rate = jnp.exp(jnp.minimum(log_ratio, 0.0))
        do_accept = jnp.log(numbers.accept) < log_ratio
        new_state = LGMHState(
            jnp.where(do_accept, x_new, x),
            jnp.where(do_accept, logdensity_new, state.logdensity),
            jnp.where(do_accept, g_new, g),
        )
        return new_state, LGMHInfo(acceptance_rate, do_accept, ~finite, use_gradient)

    return transition


def build_kernel() -> Callable:
    """The LG-MH transition ``kernel(rng_key, state, logdensity_fn, lr, step_size, l_prob)``."""
    transition = build_transition()

    def kernel(
        rng_key: jax.Array,
        state: LGMHState,
        logdensity_fn: Callable,
        lr: jax.Array | float = 0.01,
        step_size: jax.Array | float = 0.025,
        l_prob: float = 0.5,
    ) -> tuple[LGMHState, LGMHInfo]:
        numbers = random_numbers(rng_key, state.position.shape, state.position.dtype)
        return transition(numbers, state, logdensity_fn, lr, step_size, l_prob)

    return kernel


def as_top_level_api(
    logdensity_fn: Callable,
    lr: jax.Array | float = 0.01,
    step_size: jax.Array | float = 0.025,
    l_prob: float = 0.5,
) -> SamplingAlgorithm:
    """LG-MH as a BlackJAX ``SamplingAlgorithm``: ``init(position)``, ``step(rng_key, state)``.

    Examples
    --------
    >>> algo = lgmh(logdensity_fn, lr=0.01, step_size=0.025, l_prob=0.5)
    >>> state = algo.init(position)
    >>> state, info = jax.jit(algo.step)(key, state)
    """
    kernel = build_kernel()

    def init_fn(position, rng_key=None):
        return init(position, logdensity_fn)

    def step_fn(rng_key, state):
        return kernel(rng_key, state, logdensity_fn, lr, step_size, l_prob)

    return SamplingAlgorithm(init_fn, step_fn)


lgmh = as_top_level_api


# --- the pipeline's sampler ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LGMHSettings(SamplerSettings):
    """The paper's Langevin-gradient Metropolis-Hastings (defaults: the paper's values)."""

    sampler: ClassVar[str] = "lgmh"
    default_samples: ClassVar[int] = 40000
    default_resample_samples: ClassVar[int] = 20000

    lr: float = option(0.01, "LG-MH gradient step of a Langevin proposal", check=options.non_negative)
    step_w: float = option(0.025, "LG-MH proposal sd of the network parameters", check=options.non_negative)
    step_eta: float = option(0.2, "LG-MH proposal sd of eta = log noise variance", check=options.non_negative)
    l_prob: float = option(0.5, "LG-MH share of Langevin (gradient) proposals", check=options.probability)


def _params(settings: LGMHSettings, dim: int, has_eta: bool):
    lr = jnp.full((dim,), settings.lr)
    step = jnp.full((dim,), settings.step_w)
    if has_eta:
        lr = lr.at[-1].set(0.0)
        step = step.at[-1].set(settings.step_eta)
    return {"lr": lr, "step_size": step}


_kernel = build_kernel()
_transition = build_transition()


def _step(key, state, logdensity_fn, params, settings: LGMHSettings):
    return _kernel(key, state, logdensity_fn, params["lr"], params["step_size"], settings.l_prob)


def _generate(key, dim):
    return random_numbers(key, (dim,))


def _transition_of(numbers, state, logdensity_fn, params, settings: LGMHSettings):
    return _transition(numbers, state, logdensity_fn, params["lr"], params["step_size"], settings.l_prob)


def _summary(info):
    return info.acceptance_rate, info.is_divergent, jnp.ones((), jnp.int32)


SAMPLERS = (
    SamplerDef(
        name="lgmh", description="the paper's Langevin-gradient Metropolis-Hastings (lr 0.01, step 0.025, "
        "l_prob 0.5)", settings=LGMHSettings, initial_params=_params, init=no_key(init), step=_step,
        summarise=_summary, randomness=BlockRandomness(generate=_generate, transition=_transition_of),
        advice=Advice(stuck="lower the step sizes (e.g. --lr 0.001 --step-w 0.005) or use --sampler "
                      "{default_sampler}", small_steps="raise --step-w",
                      imprecise="use --sampler {default_sampler} (LG-MH's fixed steps mix slowly)"),
    ),
)
