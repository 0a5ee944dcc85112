"""Metrics of predictive accuracy and uncertainty, convergence diagnostics, and the typed metrics records.

The names below are imported when first used (:mod:`bayesprune._lazy`), so a module that needs one record type
(the compact model file's ``CompactInfo``) does not import scikit-learn's metrics with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bayesprune._lazy import lazy_names

_EXPORTS = {
    **dict.fromkeys(("accuracy", "brier", "crps", "ece", "mpiw", "picp", "rmse"), "bayesprune.evaluation.metrics"),
    **dict.fromkeys(("CellRecord", "RunRecord", "StageMetrics", "main_metric", "to_json"),
                    "bayesprune.evaluation.records"),
    "score_predictive": "bayesprune.evaluation.stage",
}

__all__ = sorted(_EXPORTS, key=str.lower)
__getattr__, __dir__ = lazy_names(__name__, _EXPORTS)

if TYPE_CHECKING:  # what type checkers and editors see
    from bayesprune.evaluation.metrics import accuracy, brier, crps, ece, mpiw, picp, rmse
    from bayesprune.evaluation.records import CellRecord, RunRecord, StageMetrics, main_metric, to_json
    from bayesprune.evaluation.stage import score_predictive
