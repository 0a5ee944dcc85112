"""The peers bayesprune is compared with, on exactly the same log posterior.

- NumPyro NUTS (``numpyro.infer.NUTS`` with ``potential_fn`` = minus bayesprune's log posterior, default
  warm-up adaptation of step size and diagonal mass matrix, chains vectorised);
- plain BlackJAX driven the way its documentation shows: ``blackjax.window_adaptation`` then a ``lax.scan``
  inference loop, ``vmap`` over chains (NUTS), and ``blackjax.mala`` with a fixed step size (MALA).

Each returns draws ``(chain, draw, dim)``, the number of gradient evaluations, and compile and run seconds
measured apart: BlackJAX's loops are lowered and compiled explicitly; for NumPyro, which compiles inside
``MCMC.run``, compile time is the first call's wall time minus that of an identical second call.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np


def _logdensity(posterior, ds):
    X = jnp.asarray(ds.X_train, jnp.float32)
    y = jnp.asarray(ds.y_train)
    return lambda z: posterior.logdensity(z, X, y, None)


def _init(posterior, ds, chains, seed):
    from bayesprune.seeds import stream_key

    keys = jax.random.split(stream_key(seed, "init"), chains)
    return jnp.stack([posterior.init_position(k, ds.y_train) for k in keys]).astype(jnp.float32)


def numpyro_nuts(posterior, ds, *, chains: int, warmup: int, draws: int, seed: int = 0, max_depth: int = 10) -> dict:
    """NumPyro's NUTS on bayesprune's log posterior (potential_fn), chains vectorised."""
    from numpyro.infer import MCMC, NUTS

    logdensity = _logdensity(posterior, ds)
    init = _init(posterior, ds, chains, seed)

    kernel = NUTS(potential_fn=lambda z: -logdensity(z), max_tree_depth=max_depth)
    mcmc = MCMC(kernel, num_warmup=warmup, num_samples=draws, num_chains=chains, chain_method="vectorized",
                progress_bar=False)

    def one_run():  # the same MCMC object: NumPyro reuses its compiled sampler on the second call
        t0 = time.perf_counter()
        mcmc.run(jax.random.key(seed), init_params=init if chains > 1 else init[0],
                 extra_fields=("num_steps",))
        jax.block_until_ready(mcmc.get_samples(group_by_chain=True))
        return time.perf_counter() - t0

    first = one_run()
    second = one_run()
    samples = np.asarray(mcmc.get_samples(group_by_chain=True))
    steps = np.asarray(mcmc.get_extra_fields(group_by_chain=True)["num_steps"])
    # warm-up steps are not reported by NumPyro; count them at the sampling phase's mean tree size
    grads = float(steps.sum()) * (warmup + draws) / max(draws, 1)
    return {"draws": samples.reshape(chains, draws, -1), "grad_evals": grads, "run_s": second,
            "compile_s": max(first - second, 0.0), "steps": (warmup + draws) * chains}


def blackjax_nuts(posterior, ds, *, chains: int, warmup: int, draws: int, seed: int = 0,
                  max_depth: int = 10) -> dict:
    """BlackJAX NUTS as its documentation drives it: window adaptation, then a scan loop, vmap over chains."""
    import blackjax

    logdensity = _logdensity(posterior, ds)
    init = _init(posterior, ds, chains, seed)

    @jax.jit
    def run(key):
        k_warm, k_sample = jax.random.split(key)

        def warm_one(k, pos):
            adapt = blackjax.window_adaptation(blackjax.nuts, logdensity, max_num_doublings=max_depth)
            (state, params), info = adapt.run(k, pos, num_steps=warmup)
            params = {"step_size": params["step_size"], "inverse_mass_matrix": params["inverse_mass_matrix"]}
            return state, params, jnp.sum(info.info.num_integration_steps)

        states, params, warm_grads = jax.vmap(warm_one)(jax.random.split(k_warm, chains), init)

        def step(carry, key):
            states = carry
            keys = jax.random.split(key, chains)

            def one(k, s, p):
                return blackjax.nuts(logdensity, **p, max_num_doublings=max_depth).step(k, s)

            states, info = jax.vmap(one)(keys, states, params)
            return states, (states.position, info.num_integration_steps)

        _, (positions, n_steps) = jax.lax.scan(step, states, jax.random.split(k_sample, draws))
        return positions, jnp.sum(n_steps) + jnp.sum(warm_grads)

    return _timed(run, seed, chains, draws, warmup)


def blackjax_mala(posterior, ds, *, chains: int, warmup: int, draws: int, seed: int = 0,
                  step_size: float = 1e-4) -> dict:
    """BlackJAX MALA with a fixed step size, a scan loop and vmap over chains (as its documentation shows)."""
    import blackjax

    logdensity = _logdensity(posterior, ds)
    init = _init(posterior, ds, chains, seed)
    mala = blackjax.mala(logdensity, step_size)

    @jax.jit
    def run(key):
        states = jax.vmap(mala.init)(init)

        def step(states, key):
            states, info = jax.vmap(mala.step)(jax.random.split(key, chains), states)
            return states, (states.position, info.acceptance_rate)

        _, (positions, _) = jax.lax.scan(step, states, jax.random.split(key, warmup + draws))
        return positions[warmup:], jnp.asarray((warmup + draws) * chains, jnp.float32)

    return _timed(run, seed, chains, draws, warmup)


def _timed(run, seed, chains, draws, warmup) -> dict:
    key = jax.random.key(seed)
    t0 = time.perf_counter()
    compiled = run.lower(key).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    positions, grads = compiled(key)
    jax.block_until_ready(positions)
    run_s = time.perf_counter() - t0
    positions = np.swapaxes(np.asarray(positions), 0, 1)  # (chain, draw, dim)
    return {"draws": positions, "grad_evals": float(grads), "run_s": run_s, "compile_s": compile_s,
            "steps": (warmup + draws) * chains}
