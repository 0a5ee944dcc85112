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
from bayesprune.samplers.stochastic import posterior_minibatches

INITS = ("prior", "optimised")
LEARNING_RATE = 0.01  # Adam's step on the (scaled) inputs and targets the data layer provides
WARM_START_BATCH = 1024  # rows per Adam step of a stochastic-gradient sampler's warm start (all, if fewer)


@lru_cache(maxsize=16)
def _compiled(posterior: BNNPosterior, steps: int, learning_rate: float, batch_size: int | None, masked: bool):
    optimiser = optax.adam(learning_rate)

    def one_chain(position, key, X, y, kept_idx):
        kept = kept_idx if masked else None
        if batch_size is None:
            loss = lambda z, k: -posterior.logdensity(z, X, y, kept)  # noqa: E731
        else:  # a minibatch estimate, scaled to all rows, as the stochastic-gradient samplers step on
            minibatches = posterior_minibatches(posterior, X, y, kept, batch_size)
            loss = lambda z, k: -minibatches.estimate(z, k)  # noqa: E731

        def step(carry, k):
            z, opt_state, good = carry
            value, grad = jax.value_and_grad(loss)(z, k)
            updates, opt_state = optimiser.update(grad, opt_state, z)
            z_new = optax.apply_updates(z, updates)
            # a step from a point whose loss is not finite, or to a point that is not, is not taken
            ok = jnp.all(jnp.isfinite(z_new)) & jnp.isfinite(value)
            good = jnp.where(jnp.isfinite(value), z, good)  # the last point seen with a finite loss
            return (jnp.where(ok, z_new, z), opt_state, good), value

        (z, _, good), _ = jax.lax.scan(step, (position, optimiser.init(position), position),
                                       jax.random.split(key, steps))
        last = jax.random.fold_in(key, steps)
        # the last step's own loss was never evaluated: a finite step can still land where the loss overflows
        # (a huge eta, a saturated sigmoid), and a chain must not start there
        final = loss(z, last)
        z = jnp.where(jnp.isfinite(final), z, good)
        return z, jnp.where(jnp.isfinite(final), final, loss(good, last))

    return jax.jit(jax.vmap(one_chain, in_axes=(0, 0, None, None, None)))


def optimise(posterior: BNNPosterior, X: np.ndarray, y: np.ndarray, positions: np.ndarray, *, steps: int,
             learning_rate: float = LEARNING_RATE, batch_size: int | None = None,
             key: jax.Array | None = None, kept_idx: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``steps`` Adam steps on ``-log p(z | data)`` from every row of ``positions`` ``(chains, dim)``.

    With ``batch_size`` smaller than the rows, each step is on a minibatch estimate (``batch_size`` rows drawn
    with ``key``, the log-likelihood scaled to all rows): stochastic-gradient samplers start from networks
    trained as usual for large data, at a fraction of full-batch cost. With ``kept_idx`` the positions are
    those of a pruned network (its kept parameters) and the pruned ones stay 0. Returns the optimised positions
    and each chain's final (estimated) negative log posterior.
    """
    if steps == 0:
        return np.asarray(positions), np.full(len(positions), np.nan)
    batch = None if batch_size is None or batch_size >= len(X) else int(batch_size)
    fn = _compiled(posterior, int(steps), float(learning_rate), batch, kept_idx is not None)
    keys = jax.random.split(jax.random.key(0) if key is None else key, len(positions))
    kept = jnp.asarray(np.zeros(0, np.int32) if kept_idx is None else kept_idx, jnp.int32)
    z, loss = fn(jnp.asarray(positions, jnp.float32), keys, jnp.asarray(X, jnp.float32), jnp.asarray(y), kept)
    return np.asarray(z), np.asarray(loss)
