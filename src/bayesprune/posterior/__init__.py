"""Prior, likelihood and log posterior of a Bayesian MLP."""

from bayesprune.posterior.logdensity import BNNPosterior
from bayesprune.posterior.prior import PRIOR_VAR

__all__ = ["PRIOR_VAR", "BNNPosterior"]
