"""Import ArviZ quietly (its import-time FutureWarning and shape-validation log lines are not for our users), and
only a version whose API bayesprune is written for: ArviZ 0.x. ArviZ 1.0 (Python 3.12 and later only) is a new
library on xarray's DataTree: its ``from_dict`` no longer takes ``posterior=``, and a default run on Python 3.13
stopped there with a TypeError. The package requires ``arviz<1``; an environment that has 1.x anyway gets one line
that says how to fix it (:class:`~bayesprune.errors.DependencyError`), before any work."""

from __future__ import annotations

import logging
import warnings

from bayesprune.errors import DependencyError

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    import arviz as az

if int(az.__version__.split(".")[0]) >= 1:
    raise DependencyError(f"bayesprune needs ArviZ 0.x (0.23.4 or later), found {az.__version__}, whose data "
                          "API changed; install it with: pip install 'arviz>=0.23.4,<1'")

logging.getLogger("arviz").setLevel(logging.ERROR)
getattr(az, "_log", logging.getLogger("arviz")).setLevel(logging.ERROR)  # ArviZ 0.x's own logger object

__all__ = ["az"]
