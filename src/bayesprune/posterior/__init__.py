"""Prior, likelihood and log posterior of a Bayesian MLP."""

from bayesprune.posterior.logdensity import BNNPosterior, make_logdensity

__all__ = ["BNNPosterior", "make_logdensity"]
