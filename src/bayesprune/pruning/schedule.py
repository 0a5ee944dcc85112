"""Pruning schedules: the rates of the prune -> resample steps that lead to a target rate.

- ``oneshot`` (the paper): one step at the target rate.
- ``gradual``: Zhu & Gupta (2017)'s cubic schedule, ``s_t = s (1 - (1 - t / n)^3)`` for ``t = 1 .. n``: large
  steps first, while many redundant parameters are left, and small ones near the target. Each step scores the
  parameters from the previous step's posterior (iterative pruning, Frankle & Carbin 2019), so a weight that
  becomes important once others are gone is kept.
"""

from __future__ import annotations

from bayesprune.options import integer, one_of, pruning_rate

SCHEDULES = ("oneshot", "gradual")
DEFAULT_STEPS = 3


def rates(schedule: str, rate: float, steps: int = DEFAULT_STEPS) -> tuple[float, ...]:
    """The increasing rates of the steps; the last is exactly ``rate``."""
    one_of(SCHEDULES)("schedule", schedule)
    pruning_rate("rate", rate)
    integer(1)("schedule_steps", steps)
    if schedule == "oneshot" or rate == 0:
        return (float(rate),)
    out = [float(rate) * (1.0 - (1.0 - t / steps) ** 3) for t in range(1, steps)]
    return (*out, float(rate))
