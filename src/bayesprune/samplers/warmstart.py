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
covered 77% of test points; docs/BENCHMARKS.md). The check runs only where the steps pass over the training rows
often enough to overfit (:data:`CHECK_PASSES`): on large data it found nothing and doubled the start's cost.
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
# the check runs where the Adam steps pass over the training rows at least this many times (with the default
# 10,000 steps of 1,024 rows: up to 10,240 rows). Overfitting needs many passes: on 2,000 rows (5,120 passes) the
# overparametrised cells' ensembles ended 0.74 and 22.8 nats per held-out row below their best, while on MNIST
# (171 passes) and UCI protein (250) they ended 0.008 and 0.0007 below it, under the tolerance; there the check's
# run cost as much as the start itself and changed nothing (docs/METHOD.md)
CHECK_PASSES = 1000


CHUNKS = 20  # compiled calls per run, each followed by a progress report (equal chunks: one compilation)


def chunks(n: int) -> int:
    """How many equal compiled chunks ``n`` steps (or held-out checks) run in: the largest count up to
    :data:`CHUNKS` that divides ``n``, so that every chunk has the same length and compiles once."""
    return next(k for k in range(min(CHUNKS, max(n, 1)), 0, -1) if n % k == 0) if n > 0 else 1


@lru_cache(maxsize=16)
def _compiled(posterior: BNNPosterior, learning_rate: float, batch_size: int | None, masked: bool):
    """Adam, every chain at once (each on its own minibatches and keys), as jitted pieces that a run calls in
    chunks (so a progress bar can advance between them; a chunk's steps are the same operations as in one
    loop): ``start`` (Adam's state), ``advance`` (steps through a chunk of keys), ``blocks`` (chunks of
    ``check_every`` steps, each followed by a check: the chains' ensemble, the mixture of their predictive
    densities, scored on the held-out rows, and the best score and step count so far), ``score`` and
    ``finish`` (the positions reached and their losses)."""
    optimiser = optax.adam(learning_rate)

    def loss_fn(X, y, kept_idx):
        kept = kept_idx if masked else None
        if batch_size is None:
            return lambda z, k: -posterior.logdensity(z, X, y, kept)
        # a minibatch estimate, scaled to all rows, as the stochastic-gradient samplers step on
        minibatches = posterior_minibatches(posterior, X, y, kept, batch_size)
        return lambda z, k: -minibatches.estimate(z, k)

    def advance(carry, step_keys, X, y, kept_idx):  # every chain through its own keys (chains, steps)
        loss = loss_fn(X, y, kept_idx)

        def step(carry, k):
            z, opt_state, good = carry
            value, grad = jax.value_and_grad(loss)(z, k)
            updates, opt_state = optimiser.update(grad, opt_state, z)
            z_new = optax.apply_updates(z, updates)
            # a step from a point whose loss is not finite, or to a point that is not, is not taken
            ok = jnp.all(jnp.isfinite(z_new)) & jnp.isfinite(value)
            good = jnp.where(jnp.isfinite(value), z, good)  # the last point seen with a finite loss
            return (jnp.where(ok, z_new, z), opt_state, good), value

        return jax.vmap(lambda c, ks: jax.lax.scan(step, c, ks)[0])(carry, step_keys)

    def score(z, X_held, y_held, kept_idx):
        kept = kept_idx if masked else None
        logliks = jax.vmap(lambda q: posterior.pointwise_loglik(q, X_held, y_held, kept))(z)  # (chains, rows)
        value = jnp.sum(jax.nn.logsumexp(logliks, axis=0) - jnp.log(z.shape[0]))
        return jnp.where(jnp.isfinite(value), value, -jnp.inf)

    def blocks(state, block_keys, X, y, X_held, y_held, kept_idx):  # block_keys: (blocks, chains, check_every)
        def block(state, keys):  # check_every steps, then the check (nested scans: no per-step branch)
            carry, best_value, best_step, done = state
            carry = advance(carry, keys, X, y, kept_idx)
            done = done + keys.shape[1]
            value = score(carry[0], X_held, y_held, kept_idx)
            better = value > best_value
            return (carry, jnp.where(better, value, best_value), jnp.where(better, done, best_step), done), None

        return jax.lax.scan(block, state, block_keys)[0]

    def finish(carry, keys, X, y, kept_idx, steps):
        loss = loss_fn(X, y, kept_idx)

        def checked(z, good, key):
            last = jax.random.fold_in(key, steps)
            # the last step's own loss was never evaluated: a finite step can still land where the loss
            # overflows (a huge eta, a saturated sigmoid), and a chain must not start there
            final = loss(z, last)
            return (jnp.where(jnp.isfinite(final), z, good),
                    jnp.where(jnp.isfinite(final), final, loss(good, last)))

        return jax.vmap(checked)(carry[0], carry[2], keys)

    start = jax.vmap(lambda p: (p, optimiser.init(p), p))
    return jax.jit(start), jax.jit(advance), jax.jit(blocks), jax.jit(score), jax.jit(finish)


def optimise(posterior: BNNPosterior, X: np.ndarray, y: np.ndarray, positions: np.ndarray, *, steps: int,
             learning_rate: float = LEARNING_RATE, batch_size: int | None = None,
             key: jax.Array | None = None, kept_idx: np.ndarray | None = None,
             holdout: float = 0.0, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """``steps`` Adam steps on ``-log p(z | data)`` from every row of ``positions`` ``(chains, dim)``.

    With ``batch_size`` smaller than the rows, each step is on a minibatch estimate (``batch_size`` rows drawn
    with ``key``, the log-likelihood scaled to all rows): stochastic-gradient samplers start from networks
    trained as usual for large data, at a fraction of full-batch cost. With ``kept_idx`` the positions are
    those of a pruned network (its kept parameters) and the pruned ones stay 0. With ``holdout`` (a share of the
    rows, drawn with ``key``) the optimisation stops early where it overfits, if its steps pass over the rows at
    least :data:`CHECK_PASSES` times (:func:`held_rows`; else it is the plain run): a first run trains on the other
    rows and checks the held-out ones every ``steps / CHECKS`` steps with the chains' ensemble (the mixture of
    their predictive densities); if the ensemble at the end is more than :data:`OVERFIT_NATS` per held-out row
    below its best, the chains are trained on all rows for the best step count, else for ``steps``, the same run
    as without ``holdout`` (:func:`optimise_early_stopped` also says how many steps). The ensemble, not each
    chain, is judged, with a tolerance: on MNIST each LeNet-300-100 alone predicted the held-out rows best after
    800-4,400 of 10,000 steps and the ensemble after 4,500, yet starts stopped there gave a worse posterior on
    the test rows than starts trained to the end (docs/METHOD.md). ``progress`` (a callable ``advance(n)``, or
    ``None``) is advanced by the steps taken, :func:`planned_steps` in all. Returns the optimised positions and
    each chain's final (estimated) negative log posterior.
    """
    z, loss, _ = optimise_early_stopped(posterior, X, y, positions, steps=steps, learning_rate=learning_rate,
                                        batch_size=batch_size, key=key, kept_idx=kept_idx, holdout=holdout,
                                        progress=progress)
    return z, loss


def passes(steps: int, batch_size: int | None, rows: int) -> float:
    """How many times ``steps`` Adam steps on minibatches of ``batch_size`` rows (``None``: all) pass over
    ``rows`` training rows."""
    return steps * (1.0 if batch_size is None else min(batch_size, rows) / max(rows, 1))


def held_rows(holdout: float, rows: int, steps: int, batch_size: int | None) -> int:
    """The rows an early-stopped run holds out: 0 (no check) without a ``holdout``, where the steps pass over
    the rows fewer than :data:`CHECK_PASSES` times, or where too few rows would be left to train on."""
    if not holdout or not steps or passes(steps, batch_size, rows) < CHECK_PASSES:
        return 0
    n_held = int(round(holdout * rows))
    return n_held if n_held >= 1 and rows - n_held >= 2 else 0


def planned_steps(steps: int, holdout: float, rows: int, batch_size: int | None) -> int:
    """The Adam steps :func:`optimise` takes at most: ``steps``, twice that where it runs the held-out check
    first (:func:`held_rows`; the refit on all rows is at most as long)."""
    return steps * (2 if held_rows(holdout, rows, steps, batch_size) else 1)


def optimise_early_stopped(posterior: BNNPosterior, X: np.ndarray, y: np.ndarray, positions: np.ndarray, *,
                           steps: int, learning_rate: float = LEARNING_RATE, batch_size: int | None = None,
                           key: jax.Array | None = None, kept_idx: np.ndarray | None = None,
                           holdout: float = 0.0, progress=None) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`optimise`, and the number of steps the chains were trained for (``steps`` unless stopped early)."""
    if holdout and not 0.0 < holdout < 1.0:
        raise ValueError(f"holdout must be a share of the rows between 0 and 1, got {holdout}")
    if steps == 0:
        return np.asarray(positions), np.full(len(positions), np.nan), 0
    key = jax.random.key(0) if key is None else key
    n_held = held_rows(holdout, len(X), steps, batch_size)
    if n_held:
        # first on the other rows, the held-out ones telling the best number of steps for the chains' ensemble;
        # then on all rows for that many (early stopping's refit: the start is fitted to every row it samples)
        split_key, held_key = jax.random.split(jax.random.fold_in(key, 1))
        order = np.asarray(jax.random.permutation(split_key, len(X)))
        check_every = max(1, steps // CHECKS)
        best, gap = _run(posterior, X[order[n_held:]], y[order[n_held:]], positions, steps, learning_rate,
                         batch_size, held_key, kept_idx, check_every, held=(X[order[:n_held]], y[order[:n_held]]),
                         progress=progress)
        if gap > OVERFIT_NATS:  # overfitted by the end: stop early
            if progress is not None:  # the refit is shorter than planned: the bar ends full all the same
                progress(steps - best)
            if best == 0:
                return np.asarray(positions), np.full(len(positions), np.nan), 0
            steps = best
    # the full run (the same as without a holdout) or the refit, on all rows with the key given
    z, loss = _run(posterior, X, y, positions, steps, learning_rate, batch_size, key, kept_idx, progress=progress)
    return z, loss, steps


def _run(posterior, X, y, positions, steps, learning_rate, batch_size, key, kept_idx, check_every=0, held=None,
         progress=None):
    """One Adam run (:func:`_compiled`, in :func:`chunks` compiled calls, ``progress(n)`` after each): the
    positions and their losses, or with ``check_every`` the best step count on the ``held`` rows (``X``, ``y``)
    and the gap to it at the end, in nats per held-out row."""
    batch = None if batch_size is None or batch_size >= len(X) else int(batch_size)
    start, advance, blocks, score, finish = _compiled(posterior, float(learning_rate), batch, kept_idx is not None)
    keys = jax.random.split(key, len(positions))
    kept = jnp.asarray(np.zeros(0, np.int32) if kept_idx is None else kept_idx, jnp.int32)
    X, y = jnp.asarray(X, jnp.float32), jnp.asarray(y)
    step_keys = jax.vmap(lambda k: jax.random.split(k, steps))(keys)  # (chains, steps)
    carry = start(jnp.asarray(positions, jnp.float32))
    n_blocks = steps // check_every if check_every else 0
    head = steps - n_blocks * check_every  # the steps before the first check (all of them without checks)
    n = chunks(head)
    for part in jnp.split(step_keys[:, :head], n, axis=1) if head else ():
        carry = advance(carry, part, X, y, kept)
        if progress is not None:
            progress(part.shape[1])
    if not check_every:
        z, loss = finish(carry, keys, X, y, kept, jnp.asarray(steps, jnp.int32))
        return np.asarray(z), np.asarray(loss)
    X_held, y_held = jnp.asarray(held[0], jnp.float32), jnp.asarray(held[1])
    block_keys = jnp.swapaxes(step_keys[:, head:].reshape(len(keys), n_blocks, check_every), 0, 1)
    done = jnp.asarray(head, jnp.int32)
    state = (carry, score(carry[0], X_held, y_held, kept), done, done)
    for part in jnp.split(block_keys, chunks(n_blocks), axis=0):
        state = blocks(state, part, X, y, X_held, y_held, kept)
        if progress is not None:
            progress(part.shape[0] * check_every)
    carry, best_value, best_step, _ = state
    return int(best_step), float((best_value - score(carry[0], X_held, y_held, kept)) / X_held.shape[0])
