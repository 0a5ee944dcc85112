"""Priors: Gaussian on the network parameters, inverse-gamma on the noise variance (sampled as its log)."""

from __future__ import annotations

import jax.numpy as jnp

PRIOR_VAR = 25.0  # the paper's sigma^2 of the Gaussian prior on every weight and bias
# --noise-prior auto: the nu2 of InvGamma(0, nu2) on tau^2 (of the scaled target, variance 1 on the training rows)
# where the flat prior would leave the posterior improper. log p(eta) = -nu2 exp(-eta) is flat above tau^2 of about
# nu2 (-0.1 at tau = 0.1, -1 at tau = 0.03) and a wall below it (-10 at tau = 0.01), which bounds the likelihood's
# tau^-n and so makes the posterior proper: a floor at a few percent of the target's sd, not a guess of the noise
NOISE_FLOOR_NU2 = 1e-3


def gaussian_logprior(theta: jnp.ndarray, prior_var: float) -> jnp.ndarray:
    """log N(theta | 0, sigma^2 I) = -0.5 * (|theta|^2 / sigma^2 + k log(2 pi sigma^2)), k = len(theta)."""
    k = theta.shape[-1]
    return -0.5 * (jnp.sum(theta**2, axis=-1) / prior_var + k * jnp.log(2.0 * jnp.pi * prior_var))


def log_noise_prior(eta: jnp.ndarray, nu1: float, nu2: float) -> jnp.ndarray:
    """Log density of eta = log tau^2 when tau^2 ~ InvGamma(nu1, nu2), up to a constant.

    p(tau^2) ∝ (tau^2)^(-nu1-1) exp(-nu2 / tau^2); with the Jacobian d tau^2 / d eta = tau^2 this gives
    log p(eta) = -nu1 * eta - nu2 * exp(-eta). The paper's nu1 = nu2 = 0 is the flat prior on eta
    (p(tau^2) ∝ 1/tau^2), which is improper. The posterior is then proper only while no parameter vector fits
    the training targets exactly: near such a theta the likelihood grows like tau^-n as tau^2 -> 0 and the
    flat prior does not stop it, so the integral over eta diverges. A network with at least as many parameters
    as training rows can usually interpolate them; :func:`bayesprune.api.build_posterior` warns then (use
    nu1, nu2 > 0, or fewer parameters).
    """
    return -nu1 * eta - nu2 * jnp.exp(-eta)
