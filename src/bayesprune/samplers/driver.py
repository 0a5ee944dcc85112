"""Run C chains of N draws: chains vectorised with ``vmap``, draws with ``lax.scan``, in chunks.

The driver jits each stage once per shape, with the data, the kept-parameter indices and the tuning parameters
passed as *arguments* (never closed over), so a grid of runs on one data set and pruning rate compiles once.
Draws come back to the host one chunk at a time (a progress bar advances per chunk); only thinned draws are
kept, optionally in a memory-mapped ``.npy`` file, while running means and variances of *every* post-burn-in
draw (Welford) are kept on the device for the pruning scores. Memory is therefore bounded by the thinned
draws, not by the number of steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from bayesprune.posterior.logdensity import BNNPosterior
from bayesprune.samplers.registry import SamplerConfig, get_sampler, steps_per_block, units_per_block


@dataclass
class ChainResult:
    """Everything a run of the driver produced (host numpy arrays).

    Attributes
    ----------
    draws
        Kept (thinned, post-burn-in) positions, shape ``(chains, draws, dim)``.
    logdensity, acceptance, diverging
        Per kept draw: log density, mean acceptance probability over the thinning interval, any divergence.
    mean, var
        Per chain, mean and variance of *all* post-burn-in positions (Welford), shape ``(chains, dim)``.
    last_position
        Final position of every chain, shape ``(chains, dim)``.
    n_divergent, n_grad_evals
        Per chain totals over the post-burn-in steps.
    params
        Tuned sampler parameters after warm-up (per chain).
    seconds
        Wall time by phase: ``compile``, ``warmup``, ``sampling``.
    """

    draws: np.ndarray
    logdensity: np.ndarray
    acceptance: np.ndarray
    diverging: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    last_position: np.ndarray
    n_steps: int
    n_warmup: int
    thin: int
    n_divergent: np.ndarray
    n_grad_evals: np.ndarray
    mean_acceptance: np.ndarray
    sampler: str
    params: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def num_chains(self) -> int:
        return int(self.draws.shape[0])

    @property
    def acceptance_rate(self) -> float:
        """Mean acceptance probability over all chains and post-burn-in steps."""
        return float(np.mean(self.mean_acceptance))

    @property
    def pooled_mean(self) -> np.ndarray:
        return self.mean.mean(axis=0)

    @property
    def pooled_var(self) -> np.ndarray:
        """Variance over all chains' draws (law of total variance over equally long chains)."""
        return self.var.mean(axis=0) + self.mean.var(axis=0)


@lru_cache(maxsize=64)
def _compiled(posterior: BNNPosterior, sampler: str, config: SamplerConfig, num_warmup: int,
              chunk_draws: int, thin: int, masked: bool):
    """Jitted warm-up and chunk functions for one static configuration."""
    sdef = get_sampler(sampler)

    def logdensity_for(X, y, kept_idx):
        return lambda z: posterior.logdensity(z, X, y, kept_idx if masked else None)

    def warmup_all(keys, positions, params, X, y, kept_idx):
        logdensity_fn = logdensity_for(X, y, kept_idx)
        extra = {"chains": positions.shape[0]} if sdef.draw is not None else {}
        return jax.vmap(lambda k, p, pr: sdef.warmup(k, p, logdensity_fn, pr, num_warmup, config, **extra))(
            keys, positions, params
        )

    def chunk(key, states, params, moments, X, y, kept_idx):
        logdensity_fn = logdensity_for(X, y, kept_idx)
        n_chains, dim = states.position.shape
        step_all = jax.vmap(lambda r, s, pr: sdef.apply(r, s, logdensity_fn, pr, config))
        # draw the random numbers of a block of steps in one batch, unless one kept draw spans too many steps
        predraw = sdef.draw is not None and thin <= steps_per_block(dim * n_chains)

        def one_step(carry, randomness):
            s, (count, mean, m2), stats = carry
            s, info = step_all(randomness if predraw else sdef.draws(randomness, dim), s, params)
            rate, divergent, n_grad = jax.vmap(sdef.summarise)(info)
            x = s.position
            count = count + 1.0
            delta = x - mean
            mean = mean + delta / count
            m2 = m2 + delta * (x - mean)
            acc_sum, div_any = stats
            return (s, (count, mean, m2), (acc_sum + rate, div_any | divergent)), (n_grad, divergent)

        def one_kept(carry, randomness):
            s, mom = carry
            zeros = (jnp.zeros(n_chains), jnp.zeros(n_chains, bool))
            (s, mom, (acc_sum, div_any)), (n_grad, divergent) = jax.lax.scan(
                one_step, (s, mom, zeros), randomness
            )
            out = (s.position, s.logdensity, acc_sum / thin, div_any,
                   jnp.sum(n_grad, axis=0), jnp.sum(divergent, axis=0))
            return (s, mom), out

        def one_block(carry, keys):
            return jax.lax.scan(one_kept, carry, sdef.draws(keys, dim) if predraw else keys)

        block = units_per_block(chunk_draws, thin, dim * n_chains) if predraw else 1
        keys = jax.random.split(key, (chunk_draws, thin, n_chains))
        keys = keys.reshape(chunk_draws // block, block, thin, n_chains)
        (states, moments), outs = jax.lax.scan(one_block, (states, moments), keys)
        return states, moments, jax.tree.map(lambda o: o.reshape(chunk_draws, *o.shape[2:]), outs)

    return jax.jit(warmup_all), jax.jit(chunk)


def _as_host(x) -> np.ndarray:
    return np.asarray(jax.device_get(x))


def run_chains(
    posterior: BNNPosterior,
    X: np.ndarray,
    y: np.ndarray,
    init_positions: np.ndarray,
    key: jax.Array,
    *,
    sampler: str = "lgmh",
    config: SamplerConfig | None = None,
    num_warmup: int = 1000,
    num_draws: int = 1000,
    thin: int = 1,
    kept_idx: np.ndarray | None = None,
    chunk_size: int = 5000,
    draws_file: str | Path | None = None,
    progress: Any = None,
    description: str = "sampling",
) -> ChainResult:
    """Sample ``C = len(init_positions)`` chains of the posterior.

    Parameters
    ----------
    posterior
        The BNN posterior (static).
    X, y
        Training data.
    init_positions
        Starting positions, shape ``(chains, dim)``; ``dim`` is the reduced size when ``kept_idx`` is given.
    key
        JAX PRNG key; the run is a pure function of it.
    sampler, config
        Sampler name (``lgmh``, ``mala``, ``hmc``, ``nuts``) and settings.
    num_warmup
        Burn-in steps (discarded; adaptation happens here for MALA/HMC/NUTS).
    num_draws
        Post-burn-in steps; ``num_draws // thin`` are kept.
    thin
        Keep every ``thin``-th draw (moments still use every draw).
    kept_idx
        Indices of the kept parameters (pruned ones are held at 0 and not sampled); ``None`` = all.
    chunk_size
        Steps per compiled chunk (draws move to the host after each).
    draws_file
        Write kept draws to this ``.npy`` file (memory-mapped) instead of RAM.
    progress
        A callable ``advance(n_steps)`` (e.g. from :mod:`bayesprune.progress`), or ``None``.
    """
    config = config or SamplerConfig()
    sdef = get_sampler(sampler)
    thin = max(1, int(thin))
    init_positions = jnp.asarray(init_positions, jnp.float32)
    n_chains, dim = init_positions.shape
    n_keep = num_draws // thin
    chunk_draws = max(1, min(n_keep, max(1, chunk_size // thin)))
    masked = kept_idx is not None
    kept = jnp.asarray(kept_idx if masked else np.zeros(0, np.int32), jnp.int32)
    X = jnp.asarray(X, jnp.float32)
    y = jnp.asarray(y)
    key_warm, key_sample = jax.random.split(key)

    params0 = sdef.initial_params(config, dim, posterior.has_eta)
    params0 = jax.tree.map(lambda a: jnp.broadcast_to(a, (n_chains, *jnp.shape(a))), params0)
    warm_fn, chunk_fn = _compiled(posterior, sampler, config, int(num_warmup), chunk_draws, thin, masked)

    t0 = time.perf_counter()
    lowered = warm_fn.lower(jax.random.split(key_warm, n_chains), init_positions, params0, X, y, kept)
    compiled_warm = lowered.compile()
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    states, params = compiled_warm(jax.random.split(key_warm, n_chains), init_positions, params0, X, y, kept)
    jax.block_until_ready(states)
    t_warm = time.perf_counter() - t0
    if progress is not None:
        progress(num_warmup)

    if draws_file is not None:
        draws = np.lib.format.open_memmap(str(draws_file), mode="w+", dtype=np.float32,
                                          shape=(n_chains, n_keep, dim))
    else:
        draws = np.empty((n_chains, n_keep, dim), np.float32)
    logdens = np.empty((n_chains, n_keep), np.float32)
    accept = np.empty((n_chains, n_keep), np.float32)
    diverg = np.empty((n_chains, n_keep), bool)
    n_grad = np.zeros(n_chains, np.int64)
    n_div = np.zeros(n_chains, np.int64)
    moments = (jnp.zeros(()), jnp.zeros((n_chains, dim)), jnp.zeros((n_chains, dim)))

    t_sample = 0.0
    done = 0
    chunk_index = 0
    while done < n_keep:
        size = min(chunk_draws, n_keep - done)
        fn = chunk_fn if size == chunk_draws else _compiled(
            posterior, sampler, config, int(num_warmup), size, thin, masked)[1]
        ck = jax.random.fold_in(key_sample, chunk_index)
        t0 = time.perf_counter()
        if chunk_index == 0 or size != chunk_draws:
            fn = fn.lower(ck, states, params, moments, X, y, kept).compile()
            t_compile += time.perf_counter() - t0
            t0 = time.perf_counter()
            if chunk_index == 0:
                compiled_chunk = fn
        else:
            fn = compiled_chunk
        states, moments, outs = fn(ck, states, params, moments, X, y, kept)
        pos, ld, acc, div, ngrad, ndiv = (_as_host(o) for o in outs)
        t_sample += time.perf_counter() - t0
        sl = slice(done, done + size)
        draws[:, sl] = np.swapaxes(pos, 0, 1)
        logdens[:, sl] = ld.T
        accept[:, sl] = acc.T
        diverg[:, sl] = div.T
        n_grad += ngrad.sum(axis=0)
        n_div += ndiv.sum(axis=0)
        done += size
        chunk_index += 1
        if progress is not None:
            progress(size * thin)

    count, mean, m2 = (_as_host(m) for m in moments)
    steps = max(float(count), 1.0)
    if isinstance(draws, np.memmap):
        draws.flush()
    return ChainResult(
        draws=draws, logdensity=logdens, acceptance=accept, diverging=diverg,
        mean=mean, var=m2 / steps, last_position=_as_host(states.position),
        n_steps=int(count), n_warmup=int(num_warmup), thin=thin,
        n_divergent=n_div, n_grad_evals=n_grad, mean_acceptance=accept.mean(axis=1) if n_keep else
        np.zeros(n_chains), sampler=sampler,
        params=jax.tree.map(_as_host, params),
        seconds={"compile": t_compile, "warmup": t_warm, "sampling": t_sample},
    )
