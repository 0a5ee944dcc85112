"""Where the time of one sampler step goes, and how the cost scales with parameters, rows and chains.

Profile (one chain, compiled ``lax.scan`` loops of N steps, compile excluded, best of 3):

- forward: the network's outputs for all training rows;
- log posterior: forward + likelihood + prior;
- value and gradient: forward + backward pass, the floor for any gradient sampler;
- LG-MH kernel, per-step draws: one LG-MH step as a BlackJAX-style ``step(key, state)`` (one value-and-gradient
  at the proposal, its random numbers drawn inside the step, MH test);
- driver: the same steps inside bayesprune's driver, which draws the random numbers of up to 256 steps in one
  batched call, then adds running moments, thinning, acceptance bookkeeping and chunked transfer of kept draws
  to the host.

Usage: python benchmarks/profile_step.py [--quick] (run.py includes it)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from common import write_markdown  # noqa: E402

from bayesprune import api  # noqa: E402
from bayesprune.data import load_dataset  # noqa: E402
from bayesprune.model.mlp import forward  # noqa: E402
from bayesprune.samplers import LGMHSettings  # noqa: E402
from bayesprune.samplers.driver import run_chains  # noqa: E402
from bayesprune.samplers.registry import get_sampler  # noqa: E402


def _best_of(fn, *args, repeats: int = 3) -> float:
    jax.block_until_ready(fn(*args))  # compile + warm
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return min(times)


def step_profile(posterior, X, y, n_steps: int) -> dict[str, float]:
    """Microseconds per step of each component (one chain)."""
    X = jnp.asarray(X, jnp.float32)
    y = jnp.asarray(y)
    z0 = posterior.init_position(jax.random.key(0), np.asarray(y)).astype(jnp.float32)
    spec = posterior.spec
    eps = jnp.float32(1e-7)

    def loop(body):
        @jax.jit
        def run(z, X, y):
            def f(carry, _):
                z, acc = carry
                v = body(z, X, y)
                return (z + eps * v, acc + v), None  # depends on the result: nothing is hoisted

            return jax.lax.scan(f, (z, jnp.float32(0)), None, length=n_steps)[0][1]

        return run

    n = spec.n_params
    fwd = loop(lambda z, X, y: jnp.sum(forward(spec, z[:n], X)))
    logp = loop(lambda z, X, y: posterior.logdensity(z, X, y, None))
    grad = loop(lambda z, X, y: jnp.sum(jax.grad(lambda q: posterior.logdensity(q, X, y, None))(z)))
    sdef = get_sampler("lgmh")
    cfg = LGMHSettings()
    params = sdef.initial_params(cfg, z0.shape[0], posterior.has_eta)

    @jax.jit
    def kernel(z, X, y):
        logdensity_fn = lambda q: posterior.logdensity(q, X, y, None)  # noqa: E731
        state = sdef.init(z, logdensity_fn, jax.random.key(0))

        def f(s, k):
            s, _ = sdef.step(k, s, logdensity_fn, params, cfg)
            return s, None

        return jax.lax.scan(f, state, jax.random.split(jax.random.key(1), n_steps))[0].logdensity

    out = {name: _best_of(fn, z0, X, y) / n_steps * 1e6
           for name, fn in (("forward", fwd), ("log posterior", logp), ("value and gradient", grad),
                            ("LG-MH kernel", kernel))}
    times = []
    for _ in range(3):
        r = run_chains(posterior, X, y, np.asarray(z0)[None], jax.random.key(2), sampler="lgmh", num_warmup=0,
                       num_draws=n_steps, thin=max(1, n_steps // 1000))
        times.append(r.seconds["sampling"])
    out["driver (LG-MH, 1 chain)"] = min(times) / n_steps * 1e6
    return out


def driver_us_per_step(posterior, X, y, chains: int, n_steps: int) -> float:
    z0 = np.stack([np.asarray(posterior.init_position(jax.random.key(c), np.asarray(y))) for c in range(chains)])
    r = run_chains(posterior, X, y, z0, jax.random.key(3), sampler="lgmh", num_warmup=0, num_draws=n_steps,
                   thin=max(1, n_steps // 500))
    return r.seconds["sampling"] / n_steps * 1e6


def step_profile_floor(posterior, X, y, n_steps: int) -> float:
    X = jnp.asarray(X, jnp.float32)
    y = jnp.asarray(y)
    z0 = posterior.init_position(jax.random.key(0), np.asarray(y)).astype(jnp.float32)

    @jax.jit
    def run(z, X, y):
        def f(carry, _):
            z, acc = carry
            g = jax.grad(lambda q: posterior.logdensity(q, X, y, None))(z)
            return (z + 1e-7 * g, acc + jnp.sum(g)), None

        return jax.lax.scan(f, (z, jnp.float32(0)), None, length=n_steps)[0][1]

    return _best_of(run, z0, X, y) / n_steps * 1e6


def profile_section(data_dir: str, *, quick: bool, figure_dir: Path) -> list[str]:
    n_steps = 1000 if quick else 10000
    lines = ["## Where a step's time goes", "",
             f"One chain, µs per step, compiled scan of {n_steps:,} steps, compile excluded, best of 3. "
             "'value and gradient' (one forward + backward pass over the training rows) is the floor for a "
             "gradient sampler.", "",
             "| data set | rows | params | forward | log posterior | value and gradient | LG-MH kernel, per-step "
             "draws | driver (block draws) | driver / floor |", "|---|---|---|---|---|---|---|---|---|"]
    for name in ("ionosphere",) if quick else ("ionosphere", "abalone"):
        ds = load_dataset(name, data_dir=data_dir, seed=0)
        post = api.build_posterior(ds)
        prof = step_profile(post, ds.X_train, ds.y_train, n_steps)
        v = list(prof.values())
        lines.append(f"| {name} | {len(ds.y_train)} | {post.spec.n_params} | " + " | ".join(f"{x:.1f}" for x in v)
                     + f" | {v[-1] / v[2]:.2f} |")
        print(lines[-1], flush=True)
    lines.append("")
    if quick:  # scaling is measured by the full benchmark only (it compiles ~20 more programs)
        return lines + ["Scaling with parameters, rows and chains: `python benchmarks/run.py` (full mode).", ""]

    # scaling
    iono = load_dataset("ionosphere", data_dir=data_dir, seed=0)
    aba = load_dataset("abalone", data_dir=data_dir, seed=0)
    widths = (5, 12, 25, 50, 100, 200, 400)
    by_width = []
    for w in widths:
        post = api.build_posterior(iono, hidden=(w,))
        by_width.append((post.spec.n_params, driver_us_per_step(post, iono.X_train, iono.y_train, 1, n_steps),
                         step_profile_floor(post, iono.X_train, iono.y_train, n_steps)))
    rows_list = (250, 500, 1000, 2506, 5012, 10024, 20048)
    by_rows = []
    post = api.build_posterior(aba)
    for n in rows_list:
        reps = -(-n // len(aba.y_train))
        X = np.tile(aba.X_train, (reps, 1))[:n]
        y = np.tile(aba.y_train, reps)[:n]
        by_rows.append((n, driver_us_per_step(post, X, y, 1, n_steps), step_profile_floor(post, X, y, n_steps)))
    chains_list = (1, 2, 4, 8, 16, 32)
    by_chains = []
    post = api.build_posterior(iono)
    for c in chains_list:
        us = driver_us_per_step(post, iono.X_train, iono.y_train, c, n_steps // 2)
        by_chains.append((c, us, c / us * 1e6))
    lines += ["## Scaling", "", "LG-MH driver, µs per step (all chains), against the value-and-gradient floor.", "",
              "| ionosphere hidden width -> params | driver µs/step | floor µs/step |", "|---|---|---|"]
    lines += [f"| {w} -> {p} | {d:.1f} | {f:.1f} |" for w, (p, d, f) in zip(widths, by_width, strict=True)]
    lines += ["", "| abalone training rows (tiled) | driver µs/step | floor µs/step |", "|---|---|---|"]
    lines += [f"| {n:,} | {d:.1f} | {f:.1f} |" for n, d, f in by_rows]
    lines += ["", "| ionosphere chains | µs per step of all chains | chain-steps/s |", "|---|---|---|"]
    lines += [f"| {c} | {us:.1f} | {sps:,.0f} |" for c, us, sps in by_chains]
    fig = _scaling_figure(by_width, by_rows, by_chains, figure_dir / "scaling.png")
    lines += ["", f"![scaling]({fig.name})", ""]
    return lines


def _scaling_figure(by_width, by_rows, by_chains, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
    p, d, f = zip(*by_width, strict=True)
    ax[0].loglog(p, d, "o-", label="LG-MH driver")
    ax[0].loglog(p, f, "s--", label="value+gradient floor")
    ax[0].set(xlabel="parameters (ionosphere, 34-w-2)", ylabel="µs per step", title="cost vs parameters")
    n, d, f = zip(*by_rows, strict=True)
    ax[1].loglog(n, d, "o-", label="LG-MH driver")
    ax[1].loglog(n, f, "s--", label="value+gradient floor")
    ax[1].set(xlabel="training rows (abalone, tiled)", ylabel="µs per step", title="cost vs rows")
    c, _, sps = zip(*by_chains, strict=True)
    ax[2].semilogx(c, sps, "o-", base=2)
    ax[2].set(xlabel="chains (ionosphere)", ylabel="chain-steps per second", title="throughput vs chains")
    for a in ax[:2]:
        a.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--data-dir", default=os.environ.get("BAYESPRUNE_DATA", "../shared/data"))
    p.add_argument("--out", default="benchmarks/results/profile.md")
    args = p.parse_args()
    write_markdown(args.out, ["# Step profile and scaling", "",
                              *profile_section(args.data_dir, quick=args.quick, figure_dir=Path(args.out).parent)])


if __name__ == "__main__":
    main()
