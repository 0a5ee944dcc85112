"""Metrics of predictive accuracy and uncertainty, and convergence diagnostics."""

from bayesprune.evaluate.evaluate import evaluate_predictive
from bayesprune.evaluate.metrics import accuracy, brier, crps, ece, mpiw, picp, rmse

__all__ = ["accuracy", "brier", "crps", "ece", "evaluate_predictive", "mpiw", "picp", "rmse"]
