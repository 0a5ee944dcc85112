"""Where chains start: a draw of the prior-scaled initialiser, or an optimised network per chain (a deep ensemble).

``optimise`` runs Adam (optax) on the negative log posterior from each chain's own random start, all chains at
once (``vmap``) in one compiled loop (``lax.scan``). Each chain ends near its own mode, so the chains start
spread over several modes, as the members of a deep ensemble are, instead of in the transient of a random
network: this is the warm start of MILE (Sommer et al., "Microcanonical Langevin ensembles", ICLR 2025), which
then samples from the optimised members. Sampling still runs its own warm-up (adaptation) from there.
"""

from __future__ import annotations

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
import optax

from bayesprune.posterior.logdensity import BNNPosterior

INITS = ("prior", "optimised")
LEARNING_RATE = 0.01  # Adam's step on the (scaled) inputs and targets the data layer provides


@lru_cache(maxsize=16)
def _compiled(posterior: BNNPosterior, steps: int, learning_rate: float):
    optimiser = optax.adam(learning_rate)

    def one_chain(position, X, y):
        loss = lambda z: -posterior.logdensity(z, X, y)  # noqa: E731

        def step(carry, _):
            z, opt_state = carry
            value, grad = jax.value_and_grad(loss)(z)
            updates, opt_state = optimiser.update(grad, opt_state, z)
            z_new = optax.apply_updates(z, updates)
            # a step that leaves the finite region (an overflowing sigmoid, eta -> -inf) is not taken
            ok = jnp.all(jnp.isfinite(z_new)) & jnp.isfinite(value)
            return (jnp.where(ok, z_new, z), opt_state), value

        (z, _), losses = jax.lax.scan(step, (position, optimiser.init(position)), None, length=steps)
        return z, losses[-1]

    return jax.jit(jax.vmap(one_chain, in_axes=(0, None, None)))


def optimise(posterior: BNNPosterior, X: np.ndarray, y: np.ndarray, positions: np.ndarray, *, steps: int,
             learning_rate: float = LEARNING_RATE) -> tuple[np.ndarray, np.ndarray]:
    """``steps`` Adam steps on ``-log p(z | data)`` from every row of ``positions`` ``(chains, dim)``.

    Returns the optimised positions and each chain's final negative log posterior.
    """
    if steps == 0:
        return np.asarray(positions), np.full(len(positions), np.nan)
    fn = _compiled(posterior, int(steps), float(learning_rate))
    z, loss = fn(jnp.asarray(positions, jnp.float32), jnp.asarray(X, jnp.float32), jnp.asarray(y))
    return np.asarray(z), np.asarray(loss)
