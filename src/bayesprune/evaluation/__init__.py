"""Metrics of predictive accuracy and uncertainty, convergence diagnostics, and the typed metrics records."""

from bayesprune.evaluation.metrics import accuracy, brier, crps, ece, mpiw, picp, rmse
from bayesprune.evaluation.records import CellRecord, RunRecord, StageMetrics, main_metric, to_json
from bayesprune.evaluation.stage import score_predictive

__all__ = ["CellRecord", "RunRecord", "StageMetrics", "accuracy", "brier", "crps", "ece", "main_metric", "mpiw",
           "picp", "rmse", "score_predictive", "to_json"]
