"""Experiments: the end-to-end runner (and the paper's grid)."""

from bayesprune.experiments.runner import RunConfig, RunOutcome, run, write_outputs

__all__ = ["RunConfig", "RunOutcome", "run", "write_outputs"]
