"""bayesprune: compact Bayesian neural networks by pruned MCMC sampling."""

__version__ = "0.1.0"
