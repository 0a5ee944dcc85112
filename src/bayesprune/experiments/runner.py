"""One data set end to end: sample -> prune -> (pruned) -> resample -> evaluate -> write outputs.

A run is a pure function of its :class:`RunConfig`: the same configuration and seed give the same numbers.
"""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from bayesprune import __version__, api
from bayesprune.data.datasets import Dataset, load_csv, load_dataset
from bayesprune.errors import OptionError
from bayesprune.io.atomic import write_json
from bayesprune.pruning.criteria import CRITERIA
from bayesprune.pruning.masks import check_rate
from bayesprune.samplers.registry import SAMPLERS, SamplerConfig
from bayesprune.seeds import stream_int

# Steps per chain (full model, resampling) when not given: the samplers differ by orders of magnitude in what one
# step buys (benchmarks/results/benchmarks.md), so each gets a length that mixes on the embedded iris in seconds.
DEFAULT_LENGTHS = {"lgmh": (40000, 20000), "mala": (40000, 20000), "hmc": (4000, 2000), "nuts": (1000, 1000)}


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run.

    Defaults: the embedded iris set, HMC (the sampler with the best function-space ESS per second in the
    benchmark; ``sampler="lgmh"`` is the paper's), the paper's STN criterion at 75%.
    """

    dataset: str = "iris"
    csv: str | None = None
    target: str | None = None
    features: tuple[str, ...] | None = None
    task: str | None = None
    data_dir: str | None = None
    hidden: tuple[int, ...] | None = None
    activation: str = "sigmoid"
    prior_var: float = 25.0
    sampler: str = "hmc"
    chains: int = 4
    samples: int | None = None  # None: DEFAULT_LENGTHS[sampler]
    burnin: float = 0.5
    thin: int | None = None
    lr: float = 0.01
    step_w: float = 0.025
    step_eta: float = 0.2
    l_prob: float = 0.5
    criteria: tuple[str, ...] = ("stn",)
    rates: tuple[float, ...] = (0.75,)
    structured: bool = False
    per_layer: bool = False
    score_from: str = "best-chain"
    resample_samples: int | None = None
    resample_burnin: float = 0.5
    resample_start: str = "mean"
    seed: int = 0
    split_seed: int | None = None
    test_fraction: float = 0.4
    stratify: bool = False

    def __post_init__(self) -> None:
        full, resample = DEFAULT_LENGTHS.get(self.sampler, DEFAULT_LENGTHS["lgmh"])
        if self.samples is None:
            object.__setattr__(self, "samples", full)
        if self.resample_samples is None:
            object.__setattr__(self, "resample_samples", resample)

    def validate(self) -> RunConfig:
        if self.sampler not in SAMPLERS:
            raise OptionError(f"unknown sampler '{self.sampler}'; choose one of {', '.join(SAMPLERS)}")
        for c in self.criteria:
            if c not in CRITERIA:
                raise OptionError(f"unknown pruning criterion '{c}'; choose one of {', '.join(CRITERIA)}")
        for r in self.rates:
            check_rate(r)
        if not self.criteria or not self.rates:
            raise OptionError("give at least one criterion and one rate")
        for name, v in (("--lr", self.lr), ("--step-w", self.step_w), ("--step-eta", self.step_eta)):
            if not np.isfinite(v) or v < 0:
                raise OptionError(f"{name} must be a finite number >= 0, got {v}")
        if not (np.isfinite(self.prior_var) and self.prior_var > 0):
            raise OptionError(f"--prior-var must be a finite number > 0, got {self.prior_var}")
        if not 0.0 <= self.l_prob <= 1.0:
            raise OptionError(f"--l-prob must be in [0, 1], got {self.l_prob}")
        for name, v in (("--burnin", self.burnin), ("--resample-burnin", self.resample_burnin)):
            if not 0.0 <= v < 1.0:
                raise OptionError(f"{name} {v} must be in [0, 1): the share of samples discarded")
        if self.resample_samples < 2:
            raise OptionError(f"--resample-samples must be >= 2, got {self.resample_samples}")
        return self

    def sampler_config(self) -> SamplerConfig:
        return SamplerConfig(lr=self.lr, step_w=self.step_w, step_eta=self.step_eta, l_prob=self.l_prob)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        return d


def load_data(cfg: RunConfig) -> Dataset:
    """The data set of a run, split with the ``split`` stream of ``split_seed`` (default: the run's seed)."""
    split_seed = stream_int(cfg.seed if cfg.split_seed is None else cfg.split_seed, "split")
    if cfg.csv:
        if not cfg.target:
            raise OptionError("--csv needs --target COLUMN (the column to predict)")
        return load_csv(
            cfg.csv, target=cfg.target, features=list(cfg.features) if cfg.features else None,
            task=cfg.task, hidden=cfg.hidden or (12,), seed=split_seed,
            test_fraction=cfg.test_fraction, stratify=cfg.stratify,
        )
    return load_dataset(cfg.dataset, data_dir=cfg.data_dir, seed=split_seed,
                        test_fraction=cfg.test_fraction, stratify=cfg.stratify)


@dataclass
class CellResult:
    """The outcome of one (criterion, rate) after the shared full-model sampling."""

    criterion: str
    rate: float
    prune: api.PruneResult
    pruned: api.PosteriorSample
    resampled: api.PosteriorSample
    metrics: dict[str, Any]
    fn_summaries: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class RunOutcome:
    config: RunConfig
    dataset: Dataset
    full: api.PosteriorSample
    full_metrics: dict[str, Any]
    cells: list[CellResult] = field(default_factory=list)
    full_fn_summaries: np.ndarray | None = None
    seconds: float = 0.0


def _provenance(ds: Dataset) -> dict[str, Any]:
    import blackjax
    import jax

    from bayesprune._arviz import az as arviz

    return {
        "bayesprune": __version__, "jax": jax.__version__, "blackjax": blackjax.__version__,
        "arviz": arviz.__version__, "numpy": np.__version__, "python": platform.python_version(),
        "platform": platform.platform(), "device": str(jax.devices()[0]),
        "data_source": ds.source, "data_sha256": ds.sha256,
    }


def run(cfg: RunConfig, *, reporter=None) -> RunOutcome:
    """Run the pipeline for every (criterion, rate) of ``cfg``, sharing one full-model sample."""
    cfg.validate()
    t_start = time.perf_counter()
    ds = load_data(cfg)
    posterior = api.build_posterior(ds, hidden=cfg.hidden, activation=cfg.activation,
                                    prior_var=cfg.prior_var)
    scfg = cfg.sampler_config()
    adv = reporter.stage(f"sampling {cfg.chains}x{cfg.sampler}", cfg.samples) if reporter else None
    full = api.sample(ds, posterior=posterior, sampler=cfg.sampler, chains=cfg.chains,
                      samples=cfg.samples, burnin=cfg.burnin, thin=cfg.thin, seed=cfg.seed,
                      config=scfg, progress=adv)
    full_metrics, full_fn = api.evaluate_with_summaries(full, ds, seed=cfg.seed)
    outcome = RunOutcome(cfg, ds, full, full_metrics, full_fn_summaries=full_fn)
    for criterion in cfg.criteria:
        for rate in cfg.rates:
            t0 = time.perf_counter()
            pr = api.prune(full, criterion=criterion, rate=rate, structured=cfg.structured,
                           per_layer=cfg.per_layer, score_from=cfg.score_from, seed=cfg.seed)
            pruned = api.pruned(full, pr)
            pruned.seconds = time.perf_counter() - t0
            pruned_metrics, pruned_fn = api.evaluate_with_summaries(pruned, ds, seed=cfg.seed)
            adv = (reporter.stage(f"resampling {criterion} {rate:.0%}", cfg.resample_samples)
                   if reporter else None)
            res = api.resample(full, ds, pr, samples=cfg.resample_samples, burnin=cfg.resample_burnin,
                               start=cfg.resample_start, seed=cfg.seed, config=scfg, progress=adv)
            res_metrics, res_fn = api.evaluate_with_summaries(res, ds, seed=cfg.seed)
            metrics = {
                "dataset": ds.name,
                "task": ds.task,
                "sampler": cfg.sampler,
                "criterion": criterion,
                "rate": float(rate),
                "seed": int(cfg.seed),
                "n_params": int(posterior.spec.n_params),
                "n_params_kept": int(pr.keep_mask.sum()),
                "stages": {"full": full_metrics, "pruned": pruned_metrics, "resampled": res_metrics},
                "structured": cfg.structured,
                "per_layer": cfg.per_layer,
                "chain_agreement_jaccard": pr.chain_agreement,
                "score_chains": pr.source_chains,
                "architecture": posterior.spec.to_dict(),
                "config": cfg.to_dict(),
                "provenance": _provenance(ds),
            }
            outcome.cells.append(CellResult(criterion, float(rate), pr, pruned, res, metrics,
                                            {"pruned": pruned_fn, "resampled": res_fn}))
    outcome.seconds = time.perf_counter() - t_start
    return outcome


def cell_dir(out: Path, cell: CellResult, single: bool) -> Path:
    return out if single else out / f"{cell.criterion}-{cell.rate:g}"


def write_outputs(outcome: RunOutcome, out: str | Path, *, figures: bool = True, model_draws: int = 200) -> list[Path]:
    """Write metrics.json (one per criterion x rate), posterior files, the compact model, report.md, figures."""
    from bayesprune.io.compact import EXTENSION, compaction_report, save_compact
    from bayesprune.io.posterior import save_posterior
    from bayesprune.report.markdown import write_report

    final = Path(out)
    final.mkdir(parents=True, exist_ok=True)
    # Everything is written into a staging folder first and moved into place at the end (metrics.json files
    # last), so an interrupted write never leaves a set of outputs that looks complete but is not.
    out = Path(tempfile.mkdtemp(prefix=".staging-", dir=final))
    try:
        written: list[Path] = []
        single = len(outcome.cells) == 1
        save_posterior(outcome.full, outcome.dataset, out / "posterior_full.nc")
        written.append(out / "posterior_full.nc")
        for cell in outcome.cells:
            d = cell_dir(out, cell, single)
            save_posterior(cell.resampled, outcome.dataset, d / "posterior_resampled.nc")
            model_path = save_compact(cell.resampled, outcome.dataset, d / f"model{EXTENSION}",
                                      n_draws=model_draws)
            cell.metrics["compact"] = compaction_report(cell.resampled, outcome.dataset, model_path)
            write_json(d / "metrics.json", cell.metrics)
            written += [d / "posterior_resampled.nc", model_path, d / "metrics.json"]
        if not single:
            write_json(out / "sweep.json", [c.metrics for c in outcome.cells])
            written.append(out / "sweep.json")
        written += write_report(outcome, out, with_figures=figures)
        files = sorted((p for p in out.rglob("*") if p.is_file()), key=lambda p: (p.name == "metrics.json", str(p)))
        for f in files:
            target = final / f.relative_to(out)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, target)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return [final / p.relative_to(out) for p in written]


def with_overrides(cfg: RunConfig, **kw) -> RunConfig:
    return replace(cfg, **{k: v for k, v in kw.items() if v is not None})
