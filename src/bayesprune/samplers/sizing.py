"""How long a run will take, from rows x parameters, before it starts; and what ``--sampler auto`` picks.

A gradient of the log posterior costs about ``rows * (ROW_SECONDS + params * ROW_PARAM_SECONDS)`` per chain: a
per-row part (activations, the likelihood) and a matrix-product part that grows with the parameters. The two
constants were fitted to the gradient timings of ``benchmarks/size.py`` on the project's reference machine (2 CPU
cores, JAX on CPU; benchmarks/results/size.md). A sampler's steps cost ``grads_per_step`` gradients each, on all
rows for full-batch samplers and on ``batch_size`` rows for the stochastic-gradient ones: that is the *sampling*
estimate.

A whole ``bayesprune run`` does more: it compiles and scores every sampled stage (the full sample and each
resampling), and evaluates every kept draw on the training rows (PSIS-LOO, the rate guard, stacking) and the test
rows. The *run* estimate is therefore

    stages * STAGE_SECONDS + SAMPLING_SCALE * sampling + EVALUATION_GRADIENTS * evaluation

with ``evaluation`` the cost of one gradient's rows for every kept draw of every stage, the last two scaled by
``speed`` (below). The three constants were fitted by ``benchmarks/size_guide.py`` to default runs measured alone
on the reference machine, each with the machine's speed probed beside it (benchmarks/results/size_guide.md):
within 0.91-1.08x of all eleven there, and 0.88-1.04x of six UCI runs of six stages it did not fit; a guide, not
a promise.

Machines differ (another CPU, a loaded one, a GPU; the reference machine itself ran the same code about twice as
fast on one day as on another), and the gradient formula misses some shapes (1.6x slow on iris' tiny network,
3.1x on 41,157 rows x 1,101 parameters), so an estimate near the limit is checked on the machine the run is on:
:func:`machine_speed` times the run's own log-posterior gradient on all training rows and the estimate is scaled
by how much slower or faster it is than the formula's (``speed``). Only estimates from a quarter
of ``LONG_SECONDS`` to 16 times it are checked (:func:`worth_probing`): the probe costs a compilation and about a
second, which a run that is clearly short, or too long even for a GPU, does not need.

``--sampler auto`` (the default) takes the default full-batch sampler (MCLMC) when its whole run, with the most
resamplings the default pipeline makes (``RESAMPLINGS``: the rate given, then the rate guard's 50%), is estimated
at most ``LONG_SECONDS``, or when it fits with its lengths cut to no less than ``SHORTEST_SHARE`` of its defaults
(then it runs so shortened), else SGHMC on minibatches; ``bayesprune run`` with a named full-batch sampler estimated to
take longer says so before it starts and names the stochastic-gradient option.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from bayesprune.posterior.logdensity import BNNPosterior
from bayesprune.samplers.base import SamplerSettings
from bayesprune.samplers.registry import DEFAULT_SAMPLER, get_sampler, settings_class
from bayesprune.samplers.warmstart import CHECKS, WARM_START_BATCH, held_rows

ROW_SECONDS = 5.3e-8  # per row and gradient, fixed part (benchmarks/size.py, 2-core reference machine)
ROW_PARAM_SECONDS = 6.0e-11  # per row, parameter and gradient
# whole runs (benchmarks/size_guide.py, fitted to whole runs measured alone on the 2-core reference machine, each
# with the machine's speed probed beside it)
STAGE_SECONDS = 6.4  # per sampled stage (the full sample, each resampling): compiling it, scoring it
SAMPLING_SCALE = 1.45  # the sampling measured in whole runs / its estimate from the gradient timings
EVALUATION_GRADIENTS = 0.5  # evaluating a kept draw on the training rows costs this many gradients on them
# a default run estimated to take longer than this on the reference machine takes the minibatch path: a user
# should not wait more than a quarter of an hour for a default run when a faster path exists
LONG_SECONDS = 900.0
# estimates from LONG_SECONDS / PROBE_BELOW to LONG_SECONDS * PROBE_ABOVE are checked on the machine itself (the
# reference machine's own whole runs were about 2x apart between two days: benchmarks/results/size_guide.md); the
# band reaches further up because a GPU can be tens of times faster than the reference CPU
PROBE_BELOW, PROBE_ABOVE = 4.0, 16.0
PROBE_SECONDS = 0.2  # each timed call of the probe takes about this long on the reference machine
PROBE_CALLS = 5  # timed calls; the fastest counts (interference only slows: 5 of 41 single calls ran 1.9-4x slow)
DEFAULT_KEPT = 1000  # kept draws per chain of 4 (bayesprune.stages.sample.kept_per_chain says for other sizes)
# near the limit the full-batch default runs shortened, down to this share of its default lengths (the full sample
# and the resampling alike), before the minibatch path is taken: on UCI naval, where the default run took 17
# minutes here, MCLMC at half its lengths gave test LL 8.03 per row (8.4-8.6 at its full lengths) against SGHMC's
# 6.06, and a compact model that matched its full network with the rate guard on (benchmarks/results/size_guide.md)
SHORTEST_SHARE = 0.5
# the estimate --sampler auto decides on counts this many resamplings: the most the default pipeline makes (the rate
# given, then the rate guard's 50%; the full network kept needs none). UCI naval's default run shortened to fit one
# resampling took 23 minutes when the guard stepped down twice (benchmarks/results/size_guide.md)
RESAMPLINGS = 2
LENGTH_STEP = 1000  # shortened lengths are whole thousands of steps
FULL_BATCH_DEFAULT = DEFAULT_SAMPLER
STOCHASTIC_DEFAULT = "sghmc"


def gradient_seconds(rows: int, params: int) -> float:
    """Estimated seconds of one log-posterior gradient on ``rows`` rows for one chain."""
    return rows * (ROW_SECONDS + params * ROW_PARAM_SECONDS)


@dataclass(frozen=True)
class CostEstimate:
    sampler: str
    seconds: float  # the whole run (module docstring)
    rows: int
    params: int
    rows_per_gradient: int
    gradients: float  # per chain
    sampling_seconds: float = 0.0  # the sampling alone, as the gradient timings predict it
    evaluation_seconds: float = 0.0  # one gradient's rows for every kept draw of every stage (before scaling)
    speed: float | None = None  # this machine's gradient time / the reference machine's (None: not measured)
    samples: int = 0  # the lengths estimated: the full sample's steps per chain
    resample_samples: int = 0  # and each resampling's steps per chain
    stages: int = 2  # sampled stages: the full sample and stages - 1 resamplings

    def describe(self) -> str:
        where, timed = (("on a 2-core CPU like the reference machine", "") if self.speed is None else
                        ("on this machine", f"; a gradient here timed at {self.speed:.2g}x the reference 2-core CPU's"))
        runs = "" if self.stages <= 2 else f" with {self.stages - 1} resamplings"
        return (f"{self.sampler} on {self.rows:,} rows x {self.params:,} parameters: about "
                f"{_duration(self.seconds)} for the whole run{runs} {where} ({self.gradients:,.0f} gradients per chain "
                f"on {self.rows_per_gradient:,} rows each{timed})")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def estimate(settings: SamplerSettings, *, rows: int, params: int, chains: int, samples: int | None = None,
             resample_samples: int | None = None, init_steps: int | None = None, stages: int = 2,
             kept: int = DEFAULT_KEPT, speed: float | None = None) -> CostEstimate:
    """Estimated seconds of a whole run (module docstring): ``chains`` chains of ``samples`` steps, resamplings
    of ``resample_samples`` steps in all (at the same cost per step: an upper bound, the pruned network is
    smaller), an optimised start of ``init_steps`` Adam steps (on minibatches for the stochastic-gradient
    samplers), ``stages`` sampled stages (the full sample and each resampling) each keeping ``kept`` draws per
    chain; ``None``: the sampler's default lengths (one resampling). ``speed``: this machine's gradient time over
    the reference machine's (:func:`machine_speed`), which scales the sampling and the evaluation; ``None``: the
    reference machine's."""
    cls = type(settings)
    samples = cls.default_samples if samples is None else samples
    resample = cls.default_resample_samples if resample_samples is None else resample_samples
    init_steps = cls.default_init_steps if init_steps is None else init_steps
    sdef = get_sampler(settings.sampler)
    stochastic = sdef.stochastic is not None
    per_grad = sdef.rows_per_gradient(settings, rows)
    per_init = min(WARM_START_BATCH, rows) if stochastic else rows
    grads = (samples + resample) * settings.grads_per_step()
    init = init_steps * gradient_seconds(per_init, params)
    n_held = held_rows(cls.default_init_holdout, rows, init_steps, WARM_START_BATCH if stochastic else None)
    if n_held:  # a checked run on the other rows, then the run on all rows (at most as long)
        init = 2 * init + CHECKS * gradient_seconds(n_held, params)
    sampling = chains * (grads * gradient_seconds(per_grad, params) + init)
    evaluation = stages * chains * kept * gradient_seconds(rows, params)
    scale = 1.0 if speed is None else speed
    seconds = stages * STAGE_SECONDS + scale * (SAMPLING_SCALE * sampling + EVALUATION_GRADIENTS * evaluation)
    return CostEstimate(settings.sampler, seconds, rows, params, per_grad, grads + init_steps, sampling, evaluation,
                        speed, samples, resample // max(1, stages - 1), stages)


def choose_sampler(*, rows: int, params: int, chains: int, kept: int = DEFAULT_KEPT,
                   speed: float | None = None) -> tuple[str, CostEstimate]:
    """The sampler ``--sampler auto`` takes for this size, and the full-batch estimate it was chosen on (a default
    run: its default start, ``RESAMPLINGS`` resamplings, ``kept`` draws kept per chain; ``speed`` as in
    :func:`estimate`: :func:`default_run`).

    MCLMC at its default lengths when that run fits ``LONG_SECONDS``; else MCLMC shortened (:func:`fitting_run`:
    the estimate returned is the shortened run's, its ``samples`` and ``resample_samples`` the lengths to run);
    else SGHMC, with the estimate of MCLMC at its default lengths."""
    size = dict(rows=rows, params=params, chains=chains, kept=kept, speed=speed)
    full = default_run(**size)
    if full.seconds <= LONG_SECONDS:
        return FULL_BATCH_DEFAULT, full
    shortened = fitting_run(full, **size)
    return (FULL_BATCH_DEFAULT, shortened) if shortened is not None else (STOCHASTIC_DEFAULT, full)


def default_run(*, samples: int | None = None, resample_samples: int | None = None, **size) -> CostEstimate:
    """The estimate ``--sampler auto`` decides on: the full-batch default's run with ``RESAMPLINGS``
    resamplings (the most the default pipeline makes), at its default lengths or at ``samples`` steps and
    ``resample_samples`` steps per resampling. ``size``: :func:`estimate`'s other keyword arguments."""
    cls = settings_class(FULL_BATCH_DEFAULT)
    each = cls.default_resample_samples if resample_samples is None else resample_samples
    return estimate(cls(), samples=samples, resample_samples=RESAMPLINGS * each, stages=1 + RESAMPLINGS, **size)


def fitting_run(full: CostEstimate, **size) -> CostEstimate | None:
    """The :func:`default_run` ``full`` shortened to fit ``LONG_SECONDS``: its full sample and resamplings cut by
    one share, the largest from ``SHORTEST_SHARE`` to 1 that fits (whole ``LENGTH_STEP`` steps), or ``None`` when
    even the shortest does not. The estimate is linear in the lengths (the stage and evaluation parts do not
    change: the same number of draws is kept, thinned less), so the share is solved from two estimates. ``size``:
    the keyword arguments ``full`` was estimated with."""
    empty = default_run(samples=0, resample_samples=0, **size)
    share = (LONG_SECONDS - empty.seconds) / (full.seconds - empty.seconds)
    if share < SHORTEST_SHARE:
        return None
    samples, each = (max(LENGTH_STEP, int(share * n // LENGTH_STEP) * LENGTH_STEP)
                     for n in (full.samples, full.resample_samples))
    return default_run(samples=samples, resample_samples=each, **size)


def worth_probing(seconds: float) -> bool:
    """Whether an estimate on the reference machine is near enough ``LONG_SECONDS`` (from ``1 / PROBE_BELOW`` to
    ``PROBE_ABOVE`` times it) that this machine's speed could change what it decides."""
    return LONG_SECONDS / PROBE_BELOW <= seconds <= LONG_SECONDS * PROBE_ABOVE


def machine_speed(posterior: BNNPosterior, X, y, chains: int) -> float:
    """This machine's time for the run's log-posterior gradient over the reference machine's
    (:func:`gradient_seconds`): ``chains`` random networks' gradients on all rows of ``X``, ``y``, vectorised over
    the chains as the samplers run them, repeated inside one compiled loop (about ``PROBE_SECONDS`` on the
    reference machine) and timed on ``PROBE_CALLS`` calls after the first, so neither compilation nor dispatch
    counts; the fastest call counts. Below 1 the machine is faster (a GPU: far below). Written here because no
    library times a model's gradient for a run-time estimate."""
    rows, params = len(X), posterior.spec.n_params
    reference = chains * gradient_seconds(rows, params)
    repeats = int(np.clip(round(PROBE_SECONDS / max(reference, 1e-9)), 1, 200))
    keys = jax.random.split(jax.random.key(0), chains)
    z = jnp.stack([posterior.init_position(k, np.asarray(y)) for k in keys])
    X, y = jax.device_put(jnp.asarray(X, z.dtype)), jax.device_put(jnp.asarray(y))
    grads = jax.vmap(jax.grad(posterior.logdensity), in_axes=(0, None, None))

    @jax.jit
    def probe(z, X, y):  # a tiny move per gradient, so that no repeat can be left out
        return jax.lax.fori_loop(0, repeats, lambda _, w: w + 1e-12 * grads(w, X, y), z)

    probe(z, X, y).block_until_ready()
    times = []
    for _ in range(PROBE_CALLS):
        t0 = time.perf_counter()
        probe(z, X, y).block_until_ready()
        times.append(time.perf_counter() - t0)
    return min(times) / (repeats * reference)
