"""Where chains start: a draw of the prior-scaled initialiser, or an optimised network per chain (a deep ensemble).

``optimise`` runs Adam (optax) on the negative log posterior from each chain's own random start, all chains at
once (``vmap``) in one compiled loop (``lax.scan``). Each chain ends near its own mode, so the chains start
spread over several modes, as the members of a deep ensemble are, instead of in the transient of a random
network: this is the warm start of MILE (Sommer et al., "Microcanonical Langevin ensembles", ICLR 2025), which
then samples from the optimised members. Sampling still runs its own warm-up (adaptation) from there.

With ``holdout`` rows the optimisation stops early where it overfits, as deep networks are trained
(scikit-learn's ``MLPRegressor(early_stopping=True)`` sets aside a ``validation_fraction`` of 0.1 the same way):
a first run trains on the other rows and checks the held-out ones :data:`CHECKS` times; when the chains' ensemble
at the end predicts them clearly worse than at its best (:data:`OVERFIT_NATS`), every chain is trained on all rows
for the best step count. The stochastic-gradient samplers start so (their ``default_init_holdout``): their
bias-bounded steps move little from where they start, so a start that has fitted the noise of few rows stays
overfitted (on 2,000 rows, a 1,153-parameter network trained for 10,000 steps gave SGHMC 90% intervals that
covered 77% of test points; docs/BENCHMARKS.md).
"""

from __future__ import annotations

import math
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
CHECKS = 100  # held-out checks over an early-stopped run (every steps / CHECKS steps)
# an early stop is taken only when the ensemble at the end predicts the held-out rows worse than at its best by
# more than this, in nats per row: log 1.05, the rate guard's tolerance (an RMSE 5% larger). On MNIST stopping at
# the held-out best cost test error and NLL (below); on the overparametrised cells the gap was 0.74 nats per row
# and more (docs/BENCHMARKS.md)
OVERFIT_NATS = math.log(1.05)


@lru_cache(maxsize=16)
def _compiled(posterior: BNNPosterior, steps: int, learning_rate: float, batch_size: int | None, masked: bool,
              check_every: int):
    """Adam for ``steps`` steps, every chain at once (each on its own minibatches): the positions reached and
    their losses. With ``check_every``, a check of the step count instead: of the count after the first ``steps %
    check_every`` steps and every ``check_every`` steps after it, the one at which the chains' ensemble (the
    mixture of their predictive densities) has the highest log-likelihood on the held-out rows, and how many nats
    per held-out row the ensemble at the end is below that best."""
    optimiser = optax.adam(learning_rate)

    def run(positions, keys, X, y, X_held, y_held, kept_idx):
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

        def advance(carry, step_keys):  # every chain through its own keys (chains, steps)
            return jax.vmap(lambda c, ks: jax.lax.scan(step, c, ks)[0])(carry, step_keys)

        def score(z):
            logliks = jax.vmap(lambda q: posterior.pointwise_loglik(q, X_held, y_held, kept))(z)  # (chains, rows)
            value = jnp.sum(jax.nn.logsumexp(logliks, axis=0) - jnp.log(z.shape[0]))
            return jnp.where(jnp.isfinite(value), value, -jnp.inf)

        def block(state, block_keys):  # check_every steps, then the check (nested scans: no per-step branch)
            carry, best_value, best_step, done = state
            carry = advance(carry, block_keys)
            done = done + check_every
            value = score(carry[0])
            better = value > best_value
            return (carry, jnp.where(better, value, best_value), jnp.where(better, done, best_step), done), None

        step_keys = jax.vmap(lambda k: jax.random.split(k, steps))(keys)  # (chains, steps)
        carry = jax.vmap(lambda p: (p, optimiser.init(p), p))(positions)
        n_blocks = steps // check_every if check_every else 0
        head = steps - n_blocks * check_every  # the steps before the first check (all of them without checks)
        carry = advance(carry, step_keys[:, :head])
        if check_every:
            blocks = jnp.swapaxes(step_keys[:, head:].reshape(len(keys), n_blocks, check_every), 0, 1)
            done = jnp.asarray(head, jnp.int32)
            state = (carry, score(carry[0]), done, done)
            (carry, best_value, best_step, _), _ = jax.lax.scan(block, state, blocks)
            return best_step, (best_value - score(carry[0])) / X_held.shape[0]

        def checked(z, good, key):
            last = jax.random.fold_in(key, steps)
            # the last step's own loss was never evaluated: a finite step can still land where the loss
            # overflows (a huge eta, a saturated sigmoid), and a chain must not start there
            final = loss(z, last)
            return (jnp.where(jnp.isfinite(final), z, good),
                    jnp.where(jnp.isfinite(final), final, loss(good, last)))

        return jax.vmap(checked)(carry[0], carry[2], keys)

    return jax.jit(run)


def optimise(posterior: BNNPosterior, X: np.ndarray, y: np.ndarray, positions: np.ndarray, *, steps: int,
             learning_rate: float = LEARNING_RATE, batch_size: int | None = None,
             key: jax.Array | None = None, kept_idx: np.ndarray | None = None,
             holdout: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``steps`` Adam steps on ``-log p(z | data)`` from every row of ``positions`` ``(chains, dim)``.

    With ``batch_size`` smaller than the rows, each step is on a minibatch estimate (``batch_size`` rows drawn
    with ``key``, the log-likelihood scaled to all rows): stochastic-gradient samplers start from networks
    trained as usual for large data, at a fraction of full-batch cost. With ``kept_idx`` the positions are
    those of a pruned network (its kept parameters) and the pruned ones stay 0. With ``holdout`` (a share of the
    rows, drawn with ``key``) the optimisation stops early where it overfits: a first run trains on the other
    rows and checks the held-out ones every ``steps / CHECKS`` steps with the chains' ensemble (the mixture of
    their predictive densities); if the ensemble at the end is more than :data:`OVERFIT_NATS` per held-out row
    below its best, the chains are trained on all rows for the best step count, else for ``steps``, the same run
    as without ``holdout`` (:func:`optimise_early_stopped` also says how many steps). The ensemble, not each
    chain, is judged, with a tolerance: on MNIST each LeNet-300-100 alone predicted the held-out rows best after
    800-4,400 of 10,000 steps and the ensemble after 4,500, yet starts stopped there gave a worse posterior on
    the test rows than starts trained to the end (docs/METHOD.md). Returns the optimised positions and each
    chain's final (estimated) negative log posterior.
    """
    z, loss, _ = optimise_early_stopped(posterior, X, y, positions, steps=steps, learning_rate=learning_rate,
                                        batch_size=batch_size, key=key, kept_idx=kept_idx, holdout=holdout)
    return z, loss


def optimise_early_stopped(posterior: BNNPosterior, X: np.ndarray, y: np.ndarray, positions: np.ndarray, *,
                           steps: int, learning_rate: float = LEARNING_RATE, batch_size: int | None = None,
                           key: jax.Array | None = None, kept_idx: np.ndarray | None = None,
                           holdout: float = 0.0) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`optimise`, and the number of steps the chains were trained for (``steps`` unless stopped early)."""
    if holdout and not 0.0 < holdout < 1.0:
        raise ValueError(f"holdout must be a share of the rows between 0 and 1, got {holdout}")
    if steps == 0:
        return np.asarray(positions), np.full(len(positions), np.nan), 0
    key = jax.random.key(0) if key is None else key
    n_held = int(round(holdout * len(X)))
    if n_held >= 1 and len(X) - n_held >= 2:
        # first on the other rows, the held-out ones telling the best number of steps for the chains' ensemble;
        # then on all rows for that many (early stopping's refit: the start is fitted to every row it samples)
        split_key, held_key = jax.random.split(jax.random.fold_in(key, 1))
        order = np.asarray(jax.random.permutation(split_key, len(X)))
        check_every = max(1, steps // CHECKS)
        best, gap = _run(posterior, X[order[n_held:]], y[order[n_held:]], positions, steps, learning_rate,
                         batch_size, held_key, kept_idx, check_every, held=(X[order[:n_held]], y[order[:n_held]]))
        if gap > OVERFIT_NATS:  # overfitted by the end: stop early
            if best == 0:
                return np.asarray(positions), np.full(len(positions), np.nan), 0
            steps = best
    # the full run (the same as without a holdout) or the refit, on all rows with the key given
    z, loss = _run(posterior, X, y, positions, steps, learning_rate, batch_size, key, kept_idx)
    return z, loss, steps


def _run(posterior, X, y, positions, steps, learning_rate, batch_size, key, kept_idx, check_every=0, held=None):
    """One compiled Adam run (:func:`_compiled`): the positions and their losses, or with ``check_every`` the
    best step count on the ``held`` rows (``X``, ``y``) and the gap to it at the end."""
    batch = None if batch_size is None or batch_size >= len(X) else int(batch_size)
    fn = _compiled(posterior, int(steps), float(learning_rate), batch, kept_idx is not None, check_every)
    keys = jax.random.split(key, len(positions))
    kept = jnp.asarray(np.zeros(0, np.int32) if kept_idx is None else kept_idx, jnp.int32)
    X_held, y_held = (X[:1], y[:1]) if held is None else held  # unused without a check on held-out rows
    a, b = fn(jnp.asarray(positions, jnp.float32), keys, jnp.asarray(X, jnp.float32), jnp.asarray(y),
              jnp.asarray(X_held, jnp.float32), jnp.asarray(y_held), kept)
    return (int(a), float(b)) if check_every else (np.asarray(a), np.asarray(b))
