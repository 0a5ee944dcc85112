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

with ``evaluation`` the cost of one gradient's rows for every kept draw of every stage. The three constants were
fitted by ``benchmarks/size_guide.py`` to whole runs measured alone on the reference machine (the UCI runs of
``benchmarks/uci.py`` and the guide's own timing runs; benchmarks/results/size_guide.md): a guide to the order of
magnitude there, not a promise (a GPU is far faster on large products, and another CPU differs).

``--sampler auto`` (the default) takes the default full-batch sampler (MCLMC) when its whole run is estimated at
most ``LONG_SECONDS``, else SGHMC on minibatches; ``bayesprune run`` with a named full-batch sampler estimated to
take longer says so before it starts and names the stochastic-gradient option.
"""

from __future__ import annotations

from dataclasses import dataclass

from bayesprune.samplers.base import SamplerSettings
from bayesprune.samplers.registry import DEFAULT_SAMPLER, get_sampler, settings_class
from bayesprune.samplers.warmstart import WARM_START_BATCH

ROW_SECONDS = 5.3e-8  # per row and gradient, fixed part (benchmarks/size.py, 2-core reference machine)
ROW_PARAM_SECONDS = 6.0e-11  # per row, parameter and gradient
# whole runs (benchmarks/size_guide.py, fitted to whole runs measured alone on the 2-core reference machine)
STAGE_SECONDS = 23.0  # per sampled stage (the full sample, each resampling): compiling it, scoring it
SAMPLING_SCALE = 0.62  # the sampling measured in whole runs / its estimate from the gradient timings
EVALUATION_GRADIENTS = 2.0  # evaluating a kept draw on the training rows costs this many gradients on them
# a default run estimated to take longer than this on the reference machine takes the minibatch path: a user
# should not wait more than a quarter of an hour for a default run when a faster path exists
LONG_SECONDS = 900.0
DEFAULT_KEPT = 1000  # kept draws per chain of 4 (bayesprune.stages.sample.kept_per_chain says for other sizes)
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

    def describe(self) -> str:
        return (f"{self.sampler} on {self.rows:,} rows x {self.params:,} parameters: about "
                f"{_duration(self.seconds)} for the whole run ({self.gradients:,.0f} gradients per chain on "
                f"{self.rows_per_gradient:,} rows each)")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def estimate(settings: SamplerSettings, *, rows: int, params: int, chains: int, samples: int | None = None,
             resample_samples: int | None = None, init_steps: int | None = None, stages: int = 2,
             kept: int = DEFAULT_KEPT) -> CostEstimate:
    """Estimated seconds of a whole run (module docstring): ``chains`` chains of ``samples`` steps, resamplings
    of ``resample_samples`` steps in all (at the same cost per step: an upper bound, the pruned network is
    smaller), an optimised start of ``init_steps`` Adam steps (on minibatches for the stochastic-gradient
    samplers), ``stages`` sampled stages (the full sample and each resampling) each keeping ``kept`` draws per
    chain; ``None``: the sampler's default lengths (one resampling)."""
    cls = type(settings)
    samples = cls.default_samples if samples is None else samples
    resample = cls.default_resample_samples if resample_samples is None else resample_samples
    init_steps = cls.default_init_steps if init_steps is None else init_steps
    sdef = get_sampler(settings.sampler)
    stochastic = sdef.stochastic is not None
    per_grad = sdef.rows_per_gradient(settings, rows)
    per_init = min(WARM_START_BATCH, rows) if stochastic else rows
    grads = (samples + resample) * settings.grads_per_step()
    sampling = chains * (grads * gradient_seconds(per_grad, params) + init_steps * gradient_seconds(per_init, params))
    evaluation = stages * chains * kept * gradient_seconds(rows, params)
    seconds = stages * STAGE_SECONDS + SAMPLING_SCALE * sampling + EVALUATION_GRADIENTS * evaluation
    return CostEstimate(settings.sampler, seconds, rows, params, per_grad, grads + init_steps, sampling, evaluation)


def choose_sampler(*, rows: int, params: int, chains: int, kept: int = DEFAULT_KEPT) -> tuple[str, CostEstimate]:
    """The sampler ``--sampler auto`` takes for this size, and the full-batch estimate it was chosen on (a default
    run: its default lengths and start, one resampling, ``kept`` draws kept per chain)."""
    full = estimate(settings_class(FULL_BATCH_DEFAULT)(), rows=rows, params=params, chains=chains, kept=kept)
    return (FULL_BATCH_DEFAULT if full.seconds <= LONG_SECONDS else STOCHASTIC_DEFAULT), full
