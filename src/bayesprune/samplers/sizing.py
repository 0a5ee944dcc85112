"""How long sampling will take, from rows x parameters, before it starts; and what ``--sampler auto`` picks.

A gradient of the log posterior costs about ``rows * (ROW_SECONDS + params * ROW_PARAM_SECONDS)`` per chain: a
per-row part (activations, the likelihood) and a matrix-product part that grows with the parameters. The two
constants were fitted to the gradient timings of ``benchmarks/size.py`` on the project's reference machine (2 CPU
cores, JAX on CPU; benchmarks/results/size.md): they are a guide to the order of magnitude there, not a promise
(a GPU is far faster on large products). A sampler's steps cost ``grads_per_step`` gradients each, on all rows for
full-batch samplers and on ``batch_size`` rows for the stochastic-gradient ones.

``--sampler auto`` takes the default full-batch sampler (MCLMC) when its estimated sampling time is at most
``LONG_SECONDS``, else SGHMC on minibatches; ``bayesprune run`` with a full-batch sampler estimated to take longer
says so before it starts and names the stochastic-gradient option.
"""

from __future__ import annotations

from dataclasses import dataclass

from bayesprune.samplers.base import SamplerSettings
from bayesprune.samplers.registry import DEFAULT_SAMPLER, get_sampler, settings_class
from bayesprune.samplers.warmstart import WARM_START_BATCH

ROW_SECONDS = 5.3e-8  # per row and gradient, fixed part (benchmarks/size.py, 2-core reference machine)
ROW_PARAM_SECONDS = 6.0e-11  # per row, parameter and gradient
LONG_SECONDS = 600.0  # a full-batch run estimated to take longer than this is worth a stochastic-gradient one
FULL_BATCH_DEFAULT = DEFAULT_SAMPLER
STOCHASTIC_DEFAULT = "sghmc"


def gradient_seconds(rows: int, params: int) -> float:
    """Estimated seconds of one log-posterior gradient on ``rows`` rows for one chain."""
    return rows * (ROW_SECONDS + params * ROW_PARAM_SECONDS)


@dataclass(frozen=True)
class CostEstimate:
    sampler: str
    seconds: float
    rows: int
    params: int
    rows_per_gradient: int
    gradients: float  # per chain

    def describe(self) -> str:
        return (f"{self.sampler} on {self.rows:,} rows x {self.params:,} parameters: about "
                f"{_duration(self.seconds)} ({self.gradients:,.0f} gradients per chain on "
                f"{self.rows_per_gradient:,} rows each)")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def estimate(settings: SamplerSettings, *, rows: int, params: int, chains: int, samples: int | None = None,
             resample_samples: int | None = None, init_steps: int | None = None) -> CostEstimate:
    """Estimated seconds to sample ``chains`` chains of ``samples`` steps (and a resampling of
    ``resample_samples``, at the same cost per step: an upper bound, the pruned network is smaller), plus an
    optimised start of ``init_steps`` Adam steps (on minibatches for the stochastic-gradient samplers; ``None``:
    the sampler's default lengths)."""
    cls = type(settings)
    samples = cls.default_samples if samples is None else samples
    resample = cls.default_resample_samples if resample_samples is None else resample_samples
    init_steps = cls.default_init_steps if init_steps is None else init_steps
    sdef = get_sampler(settings.sampler)
    stochastic = sdef.stochastic is not None
    per_grad = sdef.rows_per_gradient(settings, rows)
    per_init = min(WARM_START_BATCH, rows) if stochastic else rows
    grads = (samples + resample) * settings.grads_per_step()
    seconds = chains * (grads * gradient_seconds(per_grad, params) + init_steps * gradient_seconds(per_init, params))
    return CostEstimate(settings.sampler, seconds, rows, params, per_grad, grads + init_steps)


def choose_sampler(*, rows: int, params: int, chains: int) -> tuple[str, CostEstimate]:
    """The sampler ``--sampler auto`` takes for this size, and the full-batch estimate it was chosen on (its
    default lengths and start)."""
    full = estimate(settings_class(FULL_BATCH_DEFAULT)(), rows=rows, params=params, chains=chains)
    return (FULL_BATCH_DEFAULT if full.seconds <= LONG_SECONDS else STOCHASTIC_DEFAULT), full
