"""Chain weights by stacking (Yao, Vehtari & Gelman 2022, "Stacking for non-mixing Bayesian computations: the
curse and blessing of multimodal posteriors", JMLR 23).

The chains of a BNN settle in different modes and do not mix between them, so pooling their draws with equal
weight lets one chain in a poor mode drag the predictive down. Stacking treats each chain as a model: its
predictive density at every training row is estimated by Pareto-smoothed importance-sampling leave-one-out
(ArviZ's ``loo``, one chain at a time), and the weights are those of the mixture of chains whose summed log LOO
density over the rows is highest (ArviZ's ``compare(method="stacking")``). A chain whose mode predicts the
training rows worse, out of sample, gets little or no weight; chains in equally good modes share it. The test
rows are never read.
"""

from __future__ import annotations

import warnings

import numpy as np

from bayesprune._arviz import az
from bayesprune.errors import OptionError
from bayesprune.evaluation.selection import arviz_loo

CLUSTER_SE = 2.0  # chains within this many SEs of a better chain's LOO ELPD count as predicting alike
# --chain-weights auto stacks only when a chain's LOO ELPD per training row trails the best chain's by more than
# this: log 1.05, the loss of a Gaussian predictive whose sd is 5% too large (benchmarks/pipeline.py's "within")
POOR_MODE_GAP = float(np.log(1.05))


def clusters(pointwise: list[np.ndarray], n_se: float = CLUSTER_SE) -> list[list[int]]:
    """Chains grouped by how well they predict: taken from the best LOO ELPD down, a chain joins the first group
    whose best chain it trails by at most ``n_se`` standard errors of the paired difference
    (``sqrt(n var(d_i))``, Vehtari et al. 2017, Eq. 24), else starts a group."""
    order = np.argsort([-float(np.sum(p)) for p in pointwise], kind="stable")
    groups: list[list[int]] = []
    for c in order:
        for g in groups:
            d = pointwise[g[0]] - pointwise[c]
            if float(np.sum(d)) <= n_se * float(np.sqrt(len(d) * np.var(d))):
                g.append(int(c))
                break
        else:
            groups.append([int(c)])
    return groups


def clear_gap(gap: float, correction: float, min_gap: float = POOR_MODE_GAP) -> bool:
    """Whether chains ``gap`` nats of LOO ELPD per row apart, with a largest LOO correction ``p_loo / n`` of
    ``correction``, are stacked by ``--chain-weights auto`` (:func:`chain_weights` with ``min_gap``)."""
    return gap > max(min_gap, correction)


def chain_weights(loglik: np.ndarray, min_gap: float | None = None) -> np.ndarray:
    """Stacking weights (chain,) from pointwise log-likelihoods ``(chain, draw, row)`` on the training rows.

    With ``min_gap`` (nats per row; ``--chain-weights auto`` passes :data:`POOR_MODE_GAP`) the chains are stacked
    only when the worst chain's mean LOO ELPD per row trails the best's by more than ``min_gap`` *and* by more
    than the largest chain's LOO correction ``p_loo / n`` (in-sample log predictive density minus LOO ELPD, per
    row); they are weighted equally otherwise. Stacking then acts on a chain in a clearly poor mode (low-noise
    data, where chains end in fits 1.5-1.9 nats per row apart and the correction is 0.1) and leaves alone chains
    whose LOO ranking rests on the importance-sampling correction more than on their fits: on UCI Boston the
    chains were 0.13-0.29 nats apart, the correction 0.45-0.53 with 38-53% of rows at Pareto k > 0.7 (where PSIS
    estimates it poorly), and stacking made the test RMSE up to 10% worse (benchmarks/chain_weights.py). It is not
    the default: on UCI red wine (seed 2) the gap, 0.441, just exceeded the correction, 0.417, and stacking made
    the test RMSE 1.10x worse.

    Stacking chain by chain has no unique answer among chains that predict alike (any split of weight between
    two chains in the same mode is optimal, and the optimiser ends anywhere, often on one of them, which throws
    the others' draws away). So the chains are first grouped (:func:`clusters`: a chain within ``CLUSTER_SE``
    standard errors of a better one's LOO ELPD joins it), each group's pooled draws are stacked as one model,
    and a group's weight is shared equally by its chains. When every chain is in one group the weights are
    equal: pooling as before. A chain with a non-finite log-likelihood anywhere gets weight 0 (its LOO is
    undefined); one chain, or no chain with a finite LOO, gives equal weights. ArviZ has no grouping; the
    LOO estimates and the stacking optimisation are ArviZ's.
    """
    loglik = np.asarray(loglik, np.float64)
    if loglik.ndim != 3:
        raise OptionError.about("loglik", f"must have shape (chain, draw, row), got {loglik.shape}")
    n_chains = loglik.shape[0]
    finite = [c for c in range(n_chains) if np.all(np.isfinite(loglik[c]))]
    if n_chains == 1 or not finite:
        return np.full(n_chains, 1.0 / n_chains)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ArviZ compare's warnings: a LOO is used as a model's score here
        loos = [arviz_loo(loglik[c][None]) for c in finite]
        pointwise = [np.asarray(e["loo_i"], np.float64) for e in loos]
        if min_gap is not None and len(finite) == n_chains:
            correction = max(float(e["p_loo"]) for e in loos) / loglik.shape[2]
            if not clear_gap(float(np.ptp([p.mean() for p in pointwise])), correction, min_gap):
                return np.full(n_chains, 1.0 / n_chains)
        groups = [[finite[i] for i in g] for g in clusters(pointwise)]
        weights = np.zeros(n_chains)
        if len(groups) == 1:
            weights[groups[0]] = 1.0 / len(groups[0])
            return weights
        table = az.compare({str(i): arviz_loo(loglik[g]) for i, g in enumerate(groups)}, ic="loo",
                           method="stacking")
    for i, g in enumerate(groups):
        weights[g] = float(table.loc[str(i), "weight"]) / len(g)
    if not np.all(np.isfinite(weights)) or weights.sum() <= 0:
        return np.full(n_chains, 1.0 / n_chains)
    return weights / weights.sum()
