"""Stochastic-gradient MCMC (SGLD, SGHMC) on minibatches, with constant or cyclical step sizes.

Each step moves every chain with the gradient of an unbiased minibatch estimate of the log posterior
(BlackJAX's ``sgmcmc.gradients.logdensity_estimator``: the minibatch log-likelihood scaled to all rows, plus the
prior) through BlackJAX's integrators (``sgmcmc.diffusions``): the Euler step of the overdamped Langevin
diffusion (SGLD, Welling & Teh 2011) or of the underdamped one with friction (SGHMC, Chen et al. 2014).
There is no Metropolis correction, so the draws are biased by the step size and the gradient noise
(docs/METHOD.md states how much on a Gaussian).

Why this module does more than call ``blackjax.sgld``/``blackjax.sghmc``: their kernels take the minibatch
from the caller and, for SGHMC, draw a fresh momentum at every call and reuse one minibatch for all its
integration steps. Here the minibatch is drawn inside the compiled step (every chain its own rows, uniformly with
replacement), the momentum persists from step to step (SGHMC as Chen et al. wrote it), and the state keeps the
minibatch estimate and gradient at its position, as BlackJAX's MALA state does, so each step costs one
minibatch gradient.

Step sizes are set as an SGD learning rate ``lr`` on the mean log-likelihood per row: SGLD's Langevin step is
``h = lr / rows`` (BlackJAX's ``x + h * grad + sqrt(2h) * noise``), SGHMC's position step
``h = sqrt(lr * momentum_decay / rows)`` with friction ``alpha = momentum_decay / h`` (Chen et al.'s
``eta = h**2``, ``alpha * h`` = SGD's 1 - momentum; SGD with momentum ``m`` moves ``1 / (1 - m)`` times its
learning rate, so the same ``lr`` gives both samplers the same effective step and about the same bias).

Both samplers move in a fixed diagonal metric ``P`` set in warm-up (``precondition``, on by default): the
inverse of the diagonal empirical Fisher information per row at the chain's start, ``F_i = mean_rows(g_i**2) +
1 / (prior variance * rows)`` (Stochastic Gradient Fisher Scoring, Ahn, Korattikara & Welling 2012, diagonal).
SGLD then steps ``x + h P grad + sqrt(2 h P) noise``, the Langevin diffusion in that metric, which leaves the
posterior invariant because ``P`` is constant; SGHMC the same dynamics in coordinates scaled by ``sqrt(P)``. BlackJAX's
integrators take the per-coordinate step ``h P`` (or ``h sqrt(P)``) as their step size. Without it the noise
parameter eta (curvature about 1/2 per row) would move thousands of times slower than the weights of a network
fitted to data with little noise (curvature 1 / noise variance).

Unless given, ``lr`` is tuned in warm-up for each chain from the curvature where the chain starts, to bound the
bias. On a Gaussian with per-row curvature ``lambda`` (the largest eigenvalue of ``sqrt(P) H sqrt(P)``, ``H`` the
Hessian of the negative log posterior per row) and per-row gradient variance ``V``, SGLD's stationary variance
in that direction is the posterior's times ``(1 + a N V / (2 b lambda)) / (1 - a / 2)`` with ``a = lr * lambda``,
``N`` rows and batches of ``b`` (derived in tests/statistical/test_stochastic_law.py, which checks the chains
against the exact law): the Euler step's error and, for ``N >> b``, mostly the minibatch noise. At a mode
``V`` is about ``lambda`` (the Fisher information is the Hessian), so

    lr = 2 * INFLATION / (lambda * (N / b + 1 + INFLATION))

keeps that variance within ``1 + INFLATION`` (sd within 10%) in the stiffest direction, and the flatter ones
closer. SGHMC as BlackJAX integrates it (``x' = x + h p``, ``p' = (1 - d) p + h grad(x) + sqrt(2 d) noise``, the
gradient at the old position, ``d`` = ``momentum_decay``) has, with ``a = lr * lambda``, the stationary variance
the posterior's times ``(1 + a N V / (2 b lambda)) (1 - d/2 + a d/2) / (1 - d/2 - a + 3 a d/4 - a**2 d/4)``
(the same linear-Gaussian derivation; the gradient noise enters as SGLD's, the Euler error is about twice SGLD's
for small ``d``: SGLD's rule gave SGHMC 1.30x instead of 1.2x). Setting it to ``1 + INFLATION`` with ``V =
lambda`` is a quadratic in ``a``, whose positive root is the SGHMC rule (:func:`tuned_learning_rate` with the
momentum decay). ``lambda`` comes from power iteration on Hessian-vector products over a few minibatches. The
price is the one SG-MCMC always pays (Welling & Teh 2011): with many rows per batch the steps are small and the
chains move slowly; a given ``--learning-rate`` trades bias for speed. The rule uses no data set's numbers."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import jax
import jax.numpy as jnp
from blackjax.sgmcmc import diffusions
from blackjax.sgmcmc.gradients import logdensity_estimator

from bayesprune import options
from bayesprune.options import option
from bayesprune.samplers.base import Minibatching, SamplerDef, SamplerSettings

__all__ = ["SAMPLERS", "SGHMCSettings", "SGLDSettings", "MinibatchLogDensity", "posterior_minibatches"]

INFLATION = 0.2  # the tuned lr keeps the stationary variance within 1 + this of the posterior's (stiffest direction)
FALLBACK_LEARNING_RATE = 0.01  # lr when it is not given and the warm-up is too short to tune it
POWER_ITERATIONS = 20
METRIC_RANGE = 5.0  # an uninformed parameter's metric: at most this many times the informed median (fisher_metric)
CURVATURE_BATCHES = 4  # minibatches averaged in the metric and in each Hessian-vector product of the power iteration


STEP_SCHEDULES = ("constant", "cyclical")


@dataclass(frozen=True, kw_only=True)
class StochasticGradientSettings(SamplerSettings):
    """Stochastic-gradient MCMC: each step uses the gradient on a random minibatch of rows, scaled to all rows."""

    default_samples: ClassVar[int] = 20000
    default_resample_samples: ClassVar[int] = 10000
    default_init: ClassVar[str] = "optimised"  # SG-MCMC is run from trained networks in practice (Zhang et al.)
    # on minibatches of warmstart.WARM_START_BATCH rows: 10,000 steps cost a sixth of 1,000 full-batch ones on
    # 60,000 rows and train a network as far as scikit-learn's MLPRegressor does (benchmarks/size.py)
    default_init_steps: ClassVar[int] = 10000
    # the steps move little from the start, so it must not have fitted the rows' noise: stopped early on 10% of
    # the rows (scikit-learn's validation_fraction)
    default_init_holdout: ClassVar[float] = 0.1
    # the bias-bounded steps are too small to re-fit a network that pruning broke: fine-tune it first
    # (benchmarks/deep.py, 2026-11-28: digits 90% lost 5 points from the pruned draws, 0.7 fine-tuned)

    batch_size: int = option(128, "SGLD/SGHMC rows per minibatch gradient (all rows when the data set has fewer)",
                             check=options.integer(1))
    learning_rate: float | None = option(None, "SGLD/SGHMC step as an SGD learning rate on the mean "
                                         "log-likelihood per row (the Langevin step is learning_rate / rows); "
                                         "default: tuned in warm-up to keep the stationary variance within 20% "
                                         "of the posterior's (docs/METHOD.md)",
                                         check=options.optional(options.positive))
    step_schedule: str = option("constant", "SGLD/SGHMC step-size schedule: constant, or cyclical (cosine cycles "
                                "of --cycle-length steps, Zhang et al. 2020)", choices=STEP_SCHEDULES)
    cycle_length: int = option(1000, "SGLD/SGHMC steps per cycle of the cyclical schedule",
                               check=options.integer(2))
    precondition: bool = option(True, "SGLD/SGHMC: move in the metric of the inverse diagonal empirical Fisher "
                                "information, estimated in warm-up (SGFS, Ahn et al. 2012)",
                                check=options.one_of((True, False)))
    exploration: float = option(0.5, "SGLD/SGHMC share of each cycle spent exploring (noise-free steps, not "
                                "kept) before the sampling stage, cyclical schedule", check=options.share_below_one)


@dataclass(frozen=True, kw_only=True)
class SGLDSettings(StochasticGradientSettings):
    """BlackJAX's stochastic gradient Langevin dynamics (Welling & Teh 2011): an Euler step of the Langevin
    diffusion with a minibatch gradient and no Metropolis correction."""

    sampler: ClassVar[str] = "sgld"


@dataclass(frozen=True, kw_only=True)
class SGHMCSettings(StochasticGradientSettings):
    """BlackJAX's stochastic gradient HMC (Chen et al. 2014): underdamped Langevin dynamics with a minibatch
    gradient, momentum kept between steps and friction that absorbs the gradient noise."""

    sampler: ClassVar[str] = "sghmc"

    momentum_decay: float = option(0.1, "SGHMC share of the momentum lost to friction per step (SGD's 1 - "
                                   "momentum)", check=options.open_probability)


class SGState(NamedTuple):
    """A chain: position, the minibatch estimate of the log density and its gradient there, momentum (SGHMC),
    and the step counter that drives the schedule."""

    position: jax.Array
    logdensity: jax.Array
    logdensity_grad: jax.Array
    momentum: jax.Array
    step: jax.Array


class SGInfo(NamedTuple):
    is_divergent: jax.Array  # the step left the finite region and was undone
    collected: jax.Array  # the step is in a sampling stage (always, for the constant schedule)
    learning_rate: jax.Array  # the step's learning rate after the schedule


class MinibatchLogDensity(NamedTuple):
    """A posterior seen through minibatches: ``estimate(position, key)`` is the minibatch estimate of the log
    density on rows drawn with ``key``, ``row_logliks(position, key)`` those rows' own log-likelihoods,
    ``log_prior(position)`` the prior; ``n_rows`` is the number of training rows and ``batch`` the rows per
    minibatch (both static)."""

    estimate: Callable
    row_logliks: Callable
    log_prior: Callable
    n_rows: int
    batch: int


def minibatch_logdensity(log_prior, pointwise_loglik, X, y, batch_size: int) -> MinibatchLogDensity:
    """The minibatch estimator over the rows ``(X, y)``: ``batch_size`` rows drawn uniformly with replacement.

    ``log_prior(z)`` and ``pointwise_loglik(z, X, y)`` (shape (rows,)) are the posterior's."""
    n = X.shape[0]
    b = min(int(batch_size), n)
    one_row = lambda z, row: pointwise_loglik(z, row[0][None], row[1][None])[0]  # noqa: E731
    estimator = logdensity_estimator(log_prior, one_row, n)

    def batch(key):
        idx = jax.random.randint(key, (b,), 0, n)
        return X[idx], y[idx]

    return MinibatchLogDensity(lambda z, key: estimator(z, batch(key)),
                               lambda z, key: pointwise_loglik(z, *batch(key)), log_prior, n, b)


def posterior_minibatches(posterior, X, y, kept_idx, batch_size: int) -> MinibatchLogDensity:
    """:func:`minibatch_logdensity` of a :class:`~bayesprune.posterior.BNNPosterior` (pruned to ``kept_idx``, or
    whole when ``None``) on the rows ``(X, y)``."""
    return minibatch_logdensity(lambda z: posterior.log_prior(z, kept_idx),
                                lambda z, Xb, yb: posterior.pointwise_loglik(z, Xb, yb, kept_idx), X, y, batch_size)


def schedule(settings, step):
    """``(scale, collected)`` of the learning rate at ``step``: 1 and True for the constant schedule."""
    if settings.step_schedule == "constant":
        return jnp.ones(()), jnp.ones((), bool)
    within = jnp.mod(step, settings.cycle_length)
    # the first step at or past the exploration share, in exact arithmetic (0.07 * 100 is 7.000000000000001)
    first_sampling_step = math.ceil(round(settings.exploration * settings.cycle_length, 9))
    return 0.5 * (jnp.cos(jnp.pi * within / settings.cycle_length) + 1.0), within >= first_sampling_step


def init(position, logdensity_fn: MinibatchLogDensity, key):
    value, grad = jax.value_and_grad(logdensity_fn.estimate)(position, key)
    return SGState(position, value, grad, jnp.zeros_like(position), jnp.zeros((), jnp.int32))


def _finish(state: SGState, position, momentum, logdensity_fn: MinibatchLogDensity, key, collected, lr):
    """The new state at ``position`` (its estimate on a fresh minibatch), or the old one if it is not finite."""
    value, grad = jax.value_and_grad(logdensity_fn.estimate)(position, key)
    ok = jnp.isfinite(value) & jnp.all(jnp.isfinite(position)) & jnp.all(jnp.isfinite(grad))
    keep = lambda new, old: jnp.where(ok, new, old)  # noqa: E731
    new = SGState(keep(position, state.position), keep(value, state.logdensity),
                  keep(grad, state.logdensity_grad), keep(momentum, state.momentum), state.step + 1)
    return new, SGInfo(~ok, collected, lr)


def sgld_step(key, state: SGState, logdensity_fn: MinibatchLogDensity, params, settings: SGLDSettings):
    noise_key, batch_key = jax.random.split(key)
    scale, collected = schedule(settings, state.step)
    lr = params["learning_rate"] * scale
    h = lr / logdensity_fn.n_rows * params["metric"]  # per coordinate: the Langevin diffusion in the metric P
    temperature = collected.astype(state.position.dtype)  # exploration: plain (preconditioned) SGD steps
    position = diffusions.overdamped_langevin()(noise_key, state.position, state.logdensity_grad, h, temperature)
    return _finish(state, position, state.momentum, logdensity_fn, batch_key, collected, lr)


def sghmc_step(key, state: SGState, logdensity_fn: MinibatchLogDensity, params, settings: SGHMCSettings):
    noise_key, batch_key = jax.random.split(key)
    scale, collected = schedule(settings, state.step)
    lr = params["learning_rate"] * scale
    # per coordinate: SGHMC in coordinates scaled by sqrt(P), friction alpha * h = momentum_decay in each
    h = jnp.sqrt(lr * settings.momentum_decay / logdensity_fn.n_rows * params["metric"])
    temperature = collected.astype(state.position.dtype)
    integrator = diffusions.sghmc(alpha=settings.momentum_decay / h, beta=0.0)
    position, momentum = integrator(noise_key, state.position, state.momentum, state.logdensity_grad, h,
                                    temperature)
    return _finish(state, position, momentum, logdensity_fn, batch_key, collected, lr)


def initial_params(settings, dim, has_eta):
    lr = FALLBACK_LEARNING_RATE if settings.learning_rate is None else settings.learning_rate
    return {"learning_rate": jnp.asarray(lr, jnp.float32), "metric": jnp.ones((dim,), jnp.float32)}


def fisher_metric(key, position, logdensity_fn: MinibatchLogDensity):
    """``P = 1 / F``: the inverse diagonal empirical Fisher information per row at ``position`` (the mean square
    of the rows' own log-likelihood gradients over ``CURVATURE_BATCHES`` minibatches) plus the prior's precision
    per row. Where the prior outweighs the rows (a parameter no row informs where the chain starts: the weights of
    a dead ReLU or a saturated sigmoid unit) the entry is at most ``METRIC_RANGE`` times the median of the
    informed entries: the prior's scale would give such a weight steps ``rows`` times larger than an informed
    one's, and once its unit comes alive its curvature, taken with that step, breaks the integrator."""

    def squared_row_grads(k):
        jac = jax.jacrev(lambda z: logdensity_fn.row_logliks(z, k))(position)  # (batch, dim)
        return jnp.mean(jnp.square(jac), axis=0)

    fisher = jnp.mean(jax.vmap(squared_row_grads)(jax.random.split(key, CURVATURE_BATCHES)), axis=0)
    # the priors are independent per coordinate: their Hessian is diagonal, one Hessian-vector product gives it
    ones = jnp.ones_like(position)
    prior_curvature = -jax.jvp(jax.grad(logdensity_fn.log_prior), (position,), (ones,))[1]
    prior_share = jnp.maximum(prior_curvature, 0.0) / logdensity_fn.n_rows
    metric = 1.0 / (fisher + prior_share + 1e-12)
    informed = fisher > prior_share
    typical = jnp.nanmedian(jnp.where(informed, metric, jnp.nan))
    bound = jnp.where(jnp.any(informed), METRIC_RANGE * typical, jnp.inf)
    return jnp.where(informed, metric, jnp.minimum(metric, bound))


def tuned_learning_rate(curvature, n_rows: int, batch: int, momentum_decay: float | None = None):
    """The learning rate that keeps the stationary variance within ``1 + INFLATION`` of a Gaussian posterior's in
    the direction of per-row curvature ``curvature`` (module docstring): SGLD's, or SGHMC's with friction
    ``momentum_decay``. For SGHMC, ``a = lr * curvature`` is the positive root of ``A a**2 + B a = INFLATION (1 -
    d/2)`` with ``c = N / (2 b)``, ``A = d (c/2 + (1 + INFLATION)/4)``, ``B = d/2 + c (1 - d/2) + (1 + INFLATION)
    (1 - 3d/4)``, written in the form that stays exact as ``d`` goes to 0 (``a = INFLATION / (c + 1 + INFLATION)``,
    twice SGLD's Euler error)."""
    if momentum_decay is None:
        return 2.0 * INFLATION / (curvature * (n_rows / batch + 1.0 + INFLATION))
    c = n_rows / (2.0 * batch)
    d = float(momentum_decay)
    quad = d * (c / 2 + (1 + INFLATION) / 4)
    lin = d / 2 + c * (1 - d / 2) + (1 + INFLATION) * (1 - 0.75 * d)
    const = INFLATION * (1 - d / 2)
    return 2.0 * const / (curvature * (lin + math.sqrt(lin * lin + 4.0 * quad * const)))


def largest_curvature(key, position, logdensity_fn: MinibatchLogDensity, metric=None):
    """The largest eigenvalue of ``sqrt(P) H sqrt(P)``, ``H`` the Hessian of ``-log p / rows`` at ``position``
    (``P = metric``, identity when ``None``), by power iteration on Hessian-vector products averaged over
    ``CURVATURE_BATCHES`` minibatches."""
    start_key, batch_key = jax.random.split(key)
    keys = jax.random.split(batch_key, CURVATURE_BATCHES)
    root = jnp.ones_like(position) if metric is None else jnp.sqrt(metric)

    def hvp(v):
        def one(k):
            grad = jax.grad(lambda z: -logdensity_fn.estimate(z, k) / logdensity_fn.n_rows)
            return jax.jvp(grad, (position,), (root * v,))[1]
        return root * jnp.mean(jax.vmap(one)(keys), axis=0)

    def body(v, _):
        w = hvp(v)
        return w / (jnp.linalg.norm(w) + 1e-30), None

    v0 = jax.random.normal(start_key, position.shape, position.dtype)
    v, _ = jax.lax.scan(body, v0 / jnp.linalg.norm(v0), None, length=POWER_ITERATIONS)
    return jnp.abs(jnp.vdot(v, hvp(v)))


def warmup_for(step, momentum_decay):
    """Warm-up of a stochastic-gradient sampler: the metric (unless ``precondition`` is off) and the learning
    rate (unless given) from where the chain starts, then ``num_steps`` burn-in steps of the schedule.
    ``momentum_decay(settings)``: the friction the learning-rate rule assumes (``None``: SGLD's, no momentum)."""

    def warmup(key, position, logdensity_fn: MinibatchLogDensity, params, num_steps, settings):
        metric_key, curvature_key, init_key, steps_key = jax.random.split(key, 4)
        metric = params["metric"]
        if settings.precondition:
            metric = fisher_metric(metric_key, position, logdensity_fn)
        lr = params["learning_rate"]
        if settings.learning_rate is None:
            lam = largest_curvature(curvature_key, position, logdensity_fn, metric)
            lr = jnp.where(jnp.isfinite(lam) & (lam > 0),
                           tuned_learning_rate(lam, logdensity_fn.n_rows, logdensity_fn.batch,
                                               momentum_decay(settings)), FALLBACK_LEARNING_RATE)
        params = {"learning_rate": lr.astype(jnp.float32), "metric": metric.astype(jnp.float32)}
        state = init(position, logdensity_fn, init_key)

        def body(s, k):
            return step(k, s, logdensity_fn, params, settings)[0], None

        state, _ = jax.lax.scan(body, state, jax.random.split(steps_key, num_steps))
        return state, params

    return warmup


def summarise(info: SGInfo):
    # no Metropolis step, so no acceptance rate (NaN: nothing to warn about); one minibatch gradient per step
    return jnp.full((), jnp.nan), info.is_divergent, jnp.ones((), jnp.int32)


def collects(info: SGInfo):
    return info.collected


def _logdensity(posterior, X, y, kept_idx, settings: StochasticGradientSettings) -> MinibatchLogDensity:
    return posterior_minibatches(posterior, X, y, kept_idx, settings.batch_size)


def _rows(settings: StochasticGradientSettings, n_rows: int) -> int:
    return min(int(settings.batch_size), n_rows)


def _sampler(name: str, description: str, settings: type[SamplerSettings], step, momentum_decay) -> SamplerDef:
    """A stochastic-gradient sampler: its step on minibatches, the shared warm-up (metric, learning rate by the
    rule for its dynamics: ``momentum_decay(settings)``, ``None`` without momentum)."""
    return SamplerDef(name=name, description=description, settings=settings, initial_params=initial_params,
                      init=init, step=step, summarise=summarise, warmup=warmup_for(step, momentum_decay),
                      stochastic=Minibatching(logdensity=_logdensity, rows=_rows), collects=collects)


SAMPLERS = (
    _sampler("sgld", "BlackJAX stochastic gradient Langevin dynamics on minibatches (no Metropolis step), "
             "constant or cyclical step size", SGLDSettings, sgld_step, lambda s: None),
    _sampler("sghmc", "BlackJAX stochastic gradient HMC on minibatches (persistent momentum, friction), "
             "constant or cyclical step size", SGHMCSettings, sghmc_step,
             lambda s: s.momentum_decay),
)
