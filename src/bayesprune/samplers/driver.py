"""Run C chains of N draws: chains vectorised with ``vmap``, draws with ``lax.scan``, in chunks.

The driver jits each stage once per shape, with the data, the kept-parameter indices and the tuning parameters
passed as *arguments* (never closed over), so a grid of runs on one data set and pruning rate compiles once.
Draws come back to the host one chunk at a time (a progress bar advances per chunk); only thinned draws are
kept, optionally in a memory-mapped ``.npy`` file, while running means and variances of *every* post-burn-in
draw (Welford) are kept on the device for the pruning scores. Memory is therefore bounded by the thinned
draws, not by the number of steps.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from bayesprune.errors import OptionError
from bayesprune.posterior.logdensity import BNNPosterior
from bayesprune.samplers.base import (
    MIN_ADAPT_STEPS,
    SamplerDef,
    SamplerSettings,
    ShortWarmupWarning,
    steps_per_block,
    units_per_block,
)
from bayesprune.samplers.registry import as_settings, get_sampler

CHAIN_AXIS = {"chain_axis": True}  # a field whose first axis is the chain (ChainResult.select_chains)
POSITION_AXIS = {"chain_axis": True, "position_axis": True}  # ... and whose last axis is the position


@dataclass(frozen=True)
class ChainResult:
    """Everything a run of the driver produced (host numpy arrays); built once, complete.

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
        Wall time by phase: ``compile``, ``warmup``, ``sampling`` (and ``init`` when the stage optimised the
        starts).

    Fields whose first axis is the chain are declared so (``CHAIN_AXIS``, ``POSITION_AXIS`` when the last axis
    is the position too): :meth:`select_chains` and :meth:`map_positions` follow the declarations, so a new
    per-chain field needs no other change.
    """

    draws: np.ndarray = field(metadata=POSITION_AXIS)
    logdensity: np.ndarray = field(metadata=CHAIN_AXIS)
    acceptance: np.ndarray = field(metadata=CHAIN_AXIS)
    diverging: np.ndarray = field(metadata=CHAIN_AXIS)
    mean: np.ndarray = field(metadata=POSITION_AXIS)
    var: np.ndarray = field(metadata=POSITION_AXIS)
    last_position: np.ndarray = field(metadata=POSITION_AXIS)
    n_steps: int
    n_warmup: int
    thin: int
    n_divergent: np.ndarray = field(metadata=CHAIN_AXIS)
    n_grad_evals: np.ndarray = field(metadata=CHAIN_AXIS)
    mean_acceptance: np.ndarray = field(metadata=CHAIN_AXIS)
    sampler: str
    params: dict[str, Any] = field(default_factory=dict, metadata=CHAIN_AXIS)  # a pytree, chains first
    seconds: dict[str, float] = field(default_factory=dict)

    def select_chains(self, chains: Any) -> ChainResult:
        """The same result restricted to some chains (indices, in the order given). Every chain in order shares
        the arrays (results are not changed in place): a copy of a large sample's draws is gigabytes."""
        idx = np.asarray(chains, int)
        every = np.array_equal(idx, np.arange(self.num_chains))
        take = lambda a: np.asarray(a) if every else np.asarray(a)[idx]  # noqa: E731
        return dataclasses.replace(self, seconds=dict(self.seconds), **{
            f.name: jax.tree.map(take, getattr(self, f.name))
            for f in dataclasses.fields(self) if f.metadata.get("chain_axis")})

    def map_positions(self, fn: Callable[[np.ndarray], np.ndarray]) -> ChainResult:
        """Every position-valued field (draws, moments, last positions) mapped by ``fn`` over its last axis
        (a pruning restriction, a relabelling of hidden units)."""
        return dataclasses.replace(self, seconds=dict(self.seconds), **{
            f.name: fn(getattr(self, f.name)) for f in dataclasses.fields(self) if f.metadata.get("position_axis")})

    def with_seconds(self, **seconds: float) -> ChainResult:
        return dataclasses.replace(self, seconds={**self.seconds, **seconds})

    @property
    def num_chains(self) -> int:
        return int(self.draws.shape[0])

    def tuned(self) -> dict[str, list[float]]:
        """The sampler's scalar parameters after warm-up, each chain's (``step_size``; MCLMC's ``L``; the
        Langevin MH's ``lr``), for the record and the report; a mass matrix is left out (one number per parameter)."""
        return {k: [float(x) for x in np.asarray(v)] for k, v in self.params.items()
                if np.ndim(v) == 1 and len(v) == self.num_chains}

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

    def thinned(self, factor: int) -> ChainResult:
        """Every ``factor``-th kept draw (moments and totals, which cover every step, are unchanged)."""
        every = lambda a: a[:, factor - 1::factor]  # noqa: E731
        n = (self.draws.shape[1] // factor) * factor
        acc = self.acceptance[:, :n].reshape(self.num_chains, -1, factor).mean(axis=-1)
        div = self.diverging[:, :n].reshape(self.num_chains, -1, factor).any(axis=-1)
        return dataclasses.replace(self, draws=every(self.draws[:, :n]), logdensity=every(self.logdensity[:, :n]),
                                   acceptance=acc, diverging=div, thin=self.thin * factor)

    def extended(self, more: ChainResult) -> ChainResult:
        """This run followed by ``more``, the same chains continued: draws appended, moments pooled (the
        running means and variances of both parts combined exactly), totals added."""
        n1, n2 = self.n_steps, more.n_steps
        n = max(n1 + n2, 1)
        mean = (n1 * self.mean + n2 * more.mean) / n
        var = (n1 * self.var + n2 * more.var) / n + n1 * n2 / n**2 * (self.mean - more.mean) ** 2
        seconds = {k: self.seconds.get(k, 0.0) + more.seconds.get(k, 0.0) for k in {*self.seconds, *more.seconds}}
        join = lambda a, b: np.concatenate([a, b], axis=1)  # noqa: E731
        return dataclasses.replace(
            self, draws=join(self.draws, more.draws), logdensity=join(self.logdensity, more.logdensity),
            acceptance=join(self.acceptance, more.acceptance), diverging=join(self.diverging, more.diverging),
            mean=mean, var=var, last_position=more.last_position, n_steps=n1 + n2,
            n_divergent=self.n_divergent + more.n_divergent, n_grad_evals=self.n_grad_evals + more.n_grad_evals,
            mean_acceptance=(n1 * self.mean_acceptance + n2 * more.mean_acceptance) / n, params=more.params,
            seconds=seconds)


@lru_cache(maxsize=64)
def _compiled(posterior: BNNPosterior, sdef: SamplerDef, settings: SamplerSettings, num_warmup: int,
              chunk_draws: int, thin: int, masked: bool):
    """Jitted warm-up and chunk functions for one static configuration (cached by the sampler definition)."""

    def logdensity_for(X, y, kept_idx):
        return sdef.logdensity(posterior, X, y, kept_idx if masked else None, settings)

    def scan_units(unit_fn, carry, keys, pregenerate: bool):
        """Run ``unit_fn(carry, numbers)`` over units of steps; ``keys`` is (units, steps per unit, chains).

        With ``pregenerate``, the random numbers of a block of units are generated in one batched call from the
        same per-step keys (:meth:`SamplerDef.random_numbers`); otherwise each step generates its own.
        """
        n_units, per_unit, n_chains = keys.shape
        dim = carry[0].position.shape[-1]
        block = units_per_block(n_units, per_unit, dim * n_chains) if pregenerate else 1

        def one_block(c, block_keys):
            return jax.lax.scan(unit_fn, c, sdef.random_numbers(block_keys, dim) if pregenerate else block_keys)

        carry, outs = jax.lax.scan(one_block, carry, keys.reshape(n_units // block, block, per_unit, n_chains))
        return carry, jax.tree.map(lambda o: o.reshape(n_units, *o.shape[2:]), outs)

    def steps_of(logdensity_fn, params, pregenerate: bool):
        """One step of every chain, from pregenerated random numbers or from the steps' keys."""

        def step_all(numbers, states):
            if not pregenerate:
                numbers = sdef.random_numbers(numbers, states.position.shape[-1])
            return jax.vmap(lambda r, s, pr: sdef.apply(r, s, logdensity_fn, pr, settings))(numbers, states, params)

        return step_all

    def warmup_all(keys, positions, params, X, y, kept_idx):
        logdensity_fn = logdensity_for(X, y, kept_idx)
        if sdef.adapts(settings, num_warmup):
            return jax.vmap(lambda k, p, pr: sdef.warmup(k, p, logdensity_fn, pr, num_warmup, settings))(
                keys, positions, params)
        # burn-in with plain steps, every chain on the keys split from its own warm-up key
        states = jax.vmap(lambda p, k: sdef.init(p, logdensity_fn, jax.random.fold_in(k, 0)))(positions, keys)
        if num_warmup == 0:
            return states, params
        step_keys = jnp.swapaxes(jax.vmap(lambda k: jax.random.split(k, num_warmup))(keys), 0, 1)
        step_all = steps_of(logdensity_fn, params, sdef.randomness is not None)

        def one_unit(carry, numbers):
            (s,) = carry
            s, _ = step_all(jax.tree.map(lambda a: a[0], numbers), s)
            return (s,), None

        (states,), _ = scan_units(one_unit, (states,), step_keys[:, None, :], sdef.randomness is not None)
        return states, params

    def chunk(key, states, params, moments, X, y, kept_idx):
        logdensity_fn = logdensity_for(X, y, kept_idx)
        n_chains, dim = states.position.shape
        # generate the random numbers of a block of steps in one batch, unless one kept draw spans too many steps
        pregenerate = sdef.randomness is not None and thin <= steps_per_block(dim * n_chains)
        step_all = steps_of(logdensity_fn, params, pregenerate)

        def one_step(carry, numbers):
            s, (count, mean, m2), stats = carry
            s, info = step_all(numbers, s)
            rate, divergent, n_grad = jax.vmap(sdef.summarise)(info)
            # weight 1 for a draw that counts; the chains step in lockstep, so they agree on it
            w = 1.0 if sdef.collects is None else jnp.mean(jax.vmap(sdef.collects)(info).astype(jnp.float32))
            x = s.position
            count = count + w
            delta = x - mean
            mean = mean + w * delta / jnp.maximum(count, 1.0)
            m2 = m2 + w * delta * (x - mean)
            acc_sum, div_any = stats
            return (s, (count, mean, m2), (acc_sum + rate, div_any | divergent)), (n_grad, divergent, w)

        def one_kept(carry, numbers):
            s, mom = carry
            zeros = (jnp.zeros(n_chains), jnp.zeros(n_chains, bool))
            (s, mom, (acc_sum, div_any)), (n_grad, divergent, w) = jax.lax.scan(one_step, (s, mom, zeros),
                                                                                 numbers)
            out = (s.position, s.logdensity, acc_sum / thin, div_any,
                   jnp.sum(n_grad, axis=0), jnp.sum(divergent, axis=0), w[-1] > 0)
            return (s, mom), out

        keys = jax.random.split(key, (chunk_draws, thin, n_chains))
        (states, moments), outs = scan_units(one_kept, (states, moments), keys, pregenerate)
        return states, moments, outs

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
    sampler: str | SamplerDef,
    settings: SamplerSettings | Mapping[str, Any] | None = None,
    num_warmup: int = 1000,
    num_draws: int = 1000,
    thin: int = 1,
    kept_idx: np.ndarray | None = None,
    chunk_size: int = 5000,
    draws_file: str | Path | None = None,
    progress: Any = None,
    description: str = "sampling",
    params: Any = None,
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
    sampler
        Sampler name (one of :data:`~bayesprune.samplers.registry.SAMPLERS`) or a
        :class:`~bayesprune.samplers.base.SamplerDef`.
    settings
        The sampler's settings (its settings class, a dict of some of them, or ``None`` for its defaults).
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
    params
        Tuned parameters per chain (``ChainResult.params`` of a previous run) to start from instead of the
        sampler's initial ones; with ``num_warmup=0`` a run continues another with its tuning.
    """
    sdef = get_sampler(sampler) if isinstance(sampler, str) else sampler
    settings = as_settings(sdef.settings, settings, param="settings")
    if params is None and 0 < num_warmup and not sdef.adapts(settings, num_warmup) \
            and sdef.adapts(settings, MIN_ADAPT_STEPS):
        warnings.warn(ShortWarmupWarning(
            f"{num_warmup} warm-up steps are too few to tune {sdef.name} (it needs at least {MIN_ADAPT_STEPS}): "
            f"the chains burn in with its untuned initial step size; sample longer (samples x burnin >= "
            f"{MIN_ADAPT_STEPS}, --samples / --burnin)"), stacklevel=2)
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

    if params is None:
        params0 = sdef.initial_params(settings, dim, posterior.has_eta)
        params0 = jax.tree.map(lambda a: jnp.broadcast_to(a, (n_chains, *jnp.shape(a))), params0)
    else:
        params0 = jax.tree.map(jnp.asarray, params)
    warm_fn, chunk_fn = _compiled(posterior, sdef, settings, int(num_warmup), chunk_draws, thin, masked)

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
    counted = np.empty(n_keep, bool)
    n_grad = np.zeros(n_chains, np.int64)
    n_div = np.zeros(n_chains, np.int64)
    moments = (jnp.zeros(()), jnp.zeros((n_chains, dim)), jnp.zeros((n_chains, dim)))

    t_sample = 0.0
    done = 0
    chunk_index = 0
    while done < n_keep:
        size = min(chunk_draws, n_keep - done)
        fn = chunk_fn if size == chunk_draws else _compiled(
            posterior, sdef, settings, int(num_warmup), size, thin, masked)[1]
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
        pos, ld, acc, div, ngrad, ndiv, kept_draw = (_as_host(o) for o in outs)
        t_sample += time.perf_counter() - t0
        sl = slice(done, done + size)
        draws[:, sl] = np.swapaxes(pos, 0, 1)
        logdens[:, sl] = ld.T
        accept[:, sl] = acc.T
        diverg[:, sl] = div.T
        counted[sl] = kept_draw
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
    if not counted.all():  # draws of exploration stages (cyclical SG-MCMC) do not count
        if not counted.any():
            raise OptionError.about("thin", f"keeps no draw of a sampling stage: every kept draw ({n_keep}, one "
                                    f"every {thin} steps) fell in an exploration stage; keep draws more often "
                                    "or lengthen the sampling stage of a cycle")
        draws, logdens, accept, diverg = (a[:, counted] for a in (draws, logdens, accept, diverg))
    return ChainResult(
        draws=draws, logdensity=logdens, acceptance=accept, diverging=diverg,
        mean=mean, var=m2 / steps, last_position=_as_host(states.position),
        n_steps=int(count), n_warmup=int(num_warmup), thin=thin,
        n_divergent=n_div, n_grad_evals=n_grad, mean_acceptance=accept.mean(axis=1) if n_keep else
        np.zeros(n_chains), sampler=sdef.name,
        params=jax.tree.map(_as_host, params),
        seconds={"compile": t_compile, "warmup": t_warm, "sampling": t_sample},
    )
