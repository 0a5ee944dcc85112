"""The evaluation of a stage: its posterior predictive and the metrics of ``metrics.json`` on the test rows."""

from __future__ import annotations

import dataclasses

import numpy as np

from bayesprune.data.datasets import Dataset
from bayesprune.evaluation.diagnostics import nested_function_space, weight_space
from bayesprune.evaluation.records import StageMetrics
from bayesprune.evaluation.stage import PredictiveScore, score_predictive
from bayesprune.predictive import Predictive, posterior_predictive
from bayesprune.seeds import stream_key
from bayesprune.settings import RunConfig
from bayesprune.stages.posterior_sample import PosteriorSample


def predict(ps: PosteriorSample, X: np.ndarray) -> Predictive:
    """Posterior predictive on (already preprocessed) inputs ``X``, the chains weighted as ``ps`` weighs them."""
    pred = posterior_predictive(ps.posterior, ps.result.draws, X, ps.kept_idx)
    return pred if ps.chain_weights is None else dataclasses.replace(pred, chain_weights=ps.chain_weights)


def evaluate(ps: PosteriorSample, ds: Dataset, *, seed: int = RunConfig.seed) -> StageMetrics:
    """The metrics of a stage on the test set of ``ds``: the block ``M`` of metrics.json, typed."""
    return evaluate_stage(ps, ds, seed=seed)[0]


def evaluate_stage(ps: PosteriorSample, ds: Dataset, *, seed: int = RunConfig.seed
                   ) -> tuple[StageMetrics, PredictiveScore]:
    """:func:`evaluate`, and the scored predictive (for figures, and for R-hat across runs: the paper computes
    R-hat with every run as a chain, which needs each run's test-point predictions)."""
    scored = score_predictive(
        ps.posterior, ps.result.draws, ds.X_test, ds.y_test, kept_idx=ps.kept_idx,
        theta_mean=ps.theta_mean(), key=stream_key(seed, "evaluate"), y_affine=ds.y_affine,
        target_transform=ds.target_transform, chain_weights=ps.chain_weights,
    )
    superchains = ps.info.get("superchains")
    metrics = StageMetrics(
        task=ds.task, **scored.values, **weight_space(np.asarray(ps.result.draws)[..., : ps.n_params_kept]),
        acceptance_rate=ps.result.acceptance_rate, n_divergent=int(np.sum(ps.result.n_divergent)),
        seconds=float(ps.seconds), steps=int(ps.result.n_steps),
        nrhat_fn_max=nested_function_space(scored.predictive.outputs, superchains) if superchains else None,
        chain_weights=None if ps.chain_weights is None else [float(w) for w in ps.chain_weights],
    )
    return metrics, scored
