"""Import ArviZ quietly (its import-time FutureWarning and shape-validation log lines are not for our users)."""

from __future__ import annotations

import logging
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    import arviz as az

logging.getLogger("arviz").setLevel(logging.ERROR)
getattr(az, "_log", logging.getLogger("arviz")).setLevel(logging.ERROR)  # ArviZ 0.x's own logger object

__all__ = ["az"]
