"""Files: posterior draws (NetCDF via ArviZ), the compact model, its ONNX export, prediction CSVs, the grid's folder
layout and atomic writes.

The names below are imported when first used (:mod:`bayesprune._lazy`), so reading a compact model
(``bayesprune predict``) does not import ArviZ.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bayesprune._lazy import lazy_names

_EXPORTS = dict.fromkeys(("load_posterior", "save_posterior", "to_inference_data"), "bayesprune.io.posterior")

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_names(__name__, _EXPORTS)

if TYPE_CHECKING:  # what type checkers and editors see
    from bayesprune.io.posterior import load_posterior, save_posterior, to_inference_data
