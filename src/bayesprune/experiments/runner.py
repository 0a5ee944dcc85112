"""One data set end to end: sample -> prune -> (pruned) -> resample -> evaluate, and the run's output files.

A run is a pure function of its :class:`~bayesprune.settings.RunConfig`: the same configuration and seed give
the same numbers. :func:`run` builds every metrics record once (:mod:`bayesprune.evaluation.records`) and what a
report shows (:class:`~bayesprune.evaluation.records.RunView`); :func:`write_outputs` only writes them.
"""

from __future__ import annotations

import platform
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jax
import numpy as np

from bayesprune import __version__, api
from bayesprune.data.datasets import DEFAULT_HIDDEN, Dataset, clip_inputs, load_csv, load_dataset, log_target
from bayesprune.devices import describe
from bayesprune.devices import on as on_device
from bayesprune.evaluation.extrapolation import extrapolation
from bayesprune.evaluation.paired import versus_full
from bayesprune.evaluation.records import (
    FULL_SCORED,
    CellRecord,
    CellView,
    PredictiveSummary,
    RunView,
    StageMetrics,
    to_json,
)
from bayesprune.experiments.advice import (
    cell_warnings,
    fit_warnings,
    interval_notes,
    resampling_warnings,
    selection_warnings,
)
from bayesprune.io.atomic import write_json
from bayesprune.io.compact import EXTENSION, pack_compact, write_compact
from bayesprune.io.posterior import save_posterior
from bayesprune.pruning import masks
from bayesprune.samplers import sizing
from bayesprune.samplers.registry import get_sampler, settings_class
from bayesprune.seeds import stream_int
from bayesprune.settings import AUTO, RunConfig
from bayesprune.stage_settings import CompressionSpec, PruningSpec, ResamplingSpec, SamplingSpec
from bayesprune.stages.compress import most_resamplings

__all__ = ["CellResult", "RunConfig", "RunOutcome", "load_data", "run", "write_outputs"]


def load_data(cfg: RunConfig) -> Dataset:
    """The data set of a run, split with the ``split`` stream of ``split_seed`` (default: the run's seed)."""
    cfg.validate()
    split_seed = stream_int(cfg.seed if cfg.split_seed is None else cfg.split_seed, "split")
    if cfg.csv:
        ds = load_csv(
            cfg.csv, target=cfg.target, features=list(cfg.features) if cfg.features else None,
            task=cfg.task, hidden=cfg.hidden or DEFAULT_HIDDEN, seed=split_seed,
            test_fraction=cfg.test_fraction, stratify=cfg.stratify, missing=cfg.missing,
            target_transform=cfg.target_transform,
        )
    else:
        ds = load_dataset(cfg.dataset, data_dir=cfg.data_dir, seed=split_seed,
                          test_fraction=cfg.test_fraction, stratify=cfg.stratify, split=cfg.split)
        if cfg.target_transform == "log":
            ds = log_target(ds, where=f"data set '{cfg.dataset}'")
    return clip_inputs(ds) if cfg.clip_inputs else ds


@dataclass(frozen=True)
class CellResult:
    """The outcome of one (criterion, rate) after the shared full-model sampling.

    ``fn_outputs``: the test-point outputs per stage (``pruned``, ``resampled``), kept for R-hat across runs;
    ``model``: the compact model file's bytes (written by :func:`write_outputs`).
    """

    criterion: str
    rate: float
    prune: api.PruneResult
    pruned: api.PosteriorSample
    resampled: api.PosteriorSample
    record: CellRecord
    fn_outputs: dict[str, np.ndarray] = field(default_factory=dict)
    model: bytes = b""


@dataclass(frozen=True)
class RunOutcome:
    """Everything a run produced, built once at its end."""

    config: RunConfig
    dataset: Dataset
    full: api.PosteriorSample
    full_metrics: StageMetrics
    view: RunView
    cells: tuple[CellResult, ...] = ()
    full_fn_outputs: np.ndarray | None = None
    seconds: float = 0.0


def provenance(ds: Dataset, device: jax.Device | None = None) -> dict[str, Any]:
    """Library versions, platform, the device computed on (default: JAX's) and the data's source and SHA-256."""
    import blackjax

    from bayesprune._arviz import az as arviz

    return {
        "bayesprune": __version__, "jax": jax.__version__, "blackjax": blackjax.__version__,
        "arviz": arviz.__version__, "numpy": np.__version__, "python": platform.python_version(),
        "platform": platform.platform(), "device": describe(device or jax.devices()[0]),
        "data_source": ds.source, "data_sha256": ds.sha256,
    }


def run(cfg: RunConfig, *, reporter=None, label: str | None = None, run_index: int | None = None,
        data: Dataset | None = None) -> RunOutcome:
    """Run the pipeline for every (criterion, rate) of ``cfg``, sharing one full-model sample, on ``cfg.device``.

    ``label`` names the data set in the records (default: its own name); ``run_index`` is the run's number in
    a grid; ``data``: an already loaded and split data set to run on instead of ``cfg``'s (``cfg.dataset`` and
    its split settings are then not read).
    """
    with on_device(cfg.device) as device:
        cfg, ds, posterior, warned, notes = _data_and_posterior(cfg, data)
        for note in warned + notes:
            if reporter is not None:
                reporter.note(note)
        return _run(cfg, device, ds, posterior, warned, notes, reporter=reporter, label=label, run_index=run_index)


def run_batch(cfgs: list[RunConfig], *, labels: list[str | None], run_indices: list[int | None]
              ) -> Iterator[RunOutcome]:
    """Runs that differ only in their seed, their full posteriors sampled as the chains of one compiled call.

    Run i takes chains ``i*C .. (i+1)*C - 1`` of one ``api.sample`` with ``len(cfgs) * C`` chains and the first
    run's seed; its pruning, resampling and evaluation use its own seed, as in :func:`run`. Each run's chains are
    independent draws of the same sampler from the same posterior as in a separate run (equal in distribution),
    not the same numbers. Its provenance says so (``batch``). Made for GPUs, where C chains cost about what one
    does.
    """
    base = cfgs[0]
    if any(replace(c, seed=base.seed) != base for c in cfgs):
        raise ValueError("cfgs of a batch must differ only in their seed")
    n, c = len(cfgs), base.chains
    with on_device(base.device) as device:
        base, ds, posterior, warned, notes = _data_and_posterior(base)
        cfgs = [replace(base, seed=c.seed) for c in cfgs]
        full = _sample_full(base, ds, posterior, copies=n)
        batch = {"runs": list(run_indices), "chains": n * c, "sampling_seed": base.seed,
                 "seconds": full.seconds, "note": "full posteriors sampled as chains of one call"}
        for i, cfg in enumerate(cfgs):
            # whole groups: run i holds groups i*K .. (i+1)*K - 1
            part = full.select_chains(list(range(i * c, (i + 1) * c)), superchains=cfg.superchains)
            part = api.weigh_chains(part, ds, cfg.chain_weights)  # each run's chains weighed among themselves
            yield _run(cfg, device, ds, posterior, warned, notes, full=part, batch=batch, reporter=None,
                       label=labels[i], run_index=run_indices[i])


def _sample_full(cfg: RunConfig, ds: Dataset, posterior, *, copies: int = 1, progress=None) -> api.PosteriorSample:
    """The full posterior sample of ``cfg`` (``copies`` times its chains and superchains, for a batch of runs)."""
    # a batch's runs weigh their own chains (run_batch), so the pooled sample is not weighed as a whole
    sampling = SamplingSpec.from_run(cfg, chains=copies * cfg.chains,
                                     superchains=cfg.superchains and copies * cfg.superchains,
                                     chain_weights=cfg.chain_weights if copies == 1 else "equal")
    return api.sample(ds, sampling, posterior=posterior, seed=cfg.seed, progress=progress)


def resolve_sampler(cfg: RunConfig, ds: Dataset, posterior) -> tuple[RunConfig, str | None]:
    """``cfg`` with ``sampler="auto"`` (the default) replaced by the sampler
    :func:`~bayesprune.samplers.sizing.choose_sampler` takes for the data's size, and a note when that is the
    stochastic-gradient one (it says why and how to sample full batch anyway; the full-batch default needs no
    note); for a named full-batch sampler whose run is estimated to take longer than ``sizing.LONG_SECONDS``, a
    note that says so and names the stochastic-gradient option."""
    rows, params = len(ds.X_train), posterior.spec.n_params
    if cfg.sampler == AUTO:
        chosen, full = api.sized_sampler(ds, posterior, cfg.chains)
        if chosen == sizing.FULL_BATCH_DEFAULT:
            defaults = settings_class(chosen)
            if full.samples >= defaults.default_samples or (cfg.samples and cfg.resample_samples):
                return replace(cfg, sampler=chosen), None  # it fits, or the user set both lengths
            # shortened to fit the guide (sizing.fitting_run); a length the user gave is kept
            lengths = dict(samples=cfg.samples or full.samples,
                           resample_samples=cfg.resample_samples or full.resample_samples)
            note = (f"--sampler auto runs {chosen} at {lengths['samples']:,} + {lengths['resample_samples']:,} "
                    f"steps to fit the {sizing.LONG_SECONDS / 60:.0f}-minute guide (its default lengths, "
                    f"{defaults.default_samples:,} + {defaults.default_resample_samples:,}, would not): "
                    f"{full.describe()}; --samples and --resample-samples set the lengths")
            return replace(cfg, sampler=chosen, **lengths), note
        note = (f"--sampler auto chose {chosen} on minibatches: full-batch {full.describe()}, over "
                f"the {sizing.LONG_SECONDS / 60:.0f}-minute guide even at {sizing.SHORTEST_SHARE:.0%} of its "
                f"lengths; --sampler {sizing.FULL_BATCH_DEFAULT} samples full batch anyway")
        return replace(cfg, sampler=chosen), note
    if get_sampler(cfg.sampler).stochastic:
        return cfg, None
    init_steps = cfg.init_steps if cfg.init == "optimised" else 0
    # every resampling the run can make: each criterion x rate, and the rate guard's steps down (as --sampler auto
    # counts the default pipeline's: sizing.RESAMPLINGS)
    compression = CompressionSpec.from_run(cfg)
    resamplings = sum(most_resamplings(rate, compression, PruningSpec.from_run(cfg, criterion=criterion))
                      for criterion in cfg.criteria for rate in cfg.rates)
    run = dict(rows=rows, params=params, chains=cfg.chains, samples=cfg.samples,
               resample_samples=cfg.resample_samples * resamplings, init_steps=init_steps, stages=1 + resamplings,
               kept=api.kept_per_chain(cfg.chains, posterior.position_size()))
    cost = sizing.estimate(cfg.sampler_settings, **run)
    speed = api.speed_here(ds, posterior, cfg.chains, cost)
    if speed is not None:
        cost = sizing.estimate(cfg.sampler_settings, **run, speed=speed)
    if cost.seconds <= sizing.LONG_SECONDS:
        return cfg, None
    return cfg, (f"full-batch {cost.describe()}; --sampler {sizing.STOCHASTIC_DEFAULT} samples on "
                 f"minibatches (--batch-size) and --sampler auto (the default) chooses by size")


def _data_and_posterior(cfg: RunConfig, data: Dataset | None = None
                        ) -> tuple[RunConfig, Dataset, api.BNNPosterior, list[str], list[str]]:
    """The run's configuration with its sampler resolved, its data, its posterior, the warnings known before any
    sampling (an improper posterior; a named full-batch sampler over the size guide's limit: each names a remedy)
    and the notes (what ``--sampler auto`` chose on large data, and why: a choice made, not a problem)."""
    ds = load_data(cfg) if data is None else data
    with warnings.catch_warnings():  # its warning names the API's parameters: the run's names its options
        warnings.simplefilter("ignore", api.ImproperPosteriorWarning)
        posterior = api.build_posterior(ds, hidden=cfg.hidden, activation=cfg.activation, prior_var=cfg.prior_var)
    if posterior.has_eta:  # --noise-prior, which needs the network's size
        nu1, nu2 = api.noise_prior(cfg.noise_prior, posterior.spec.n_params, len(ds.y_train))
        posterior = replace(posterior, nu1=nu1, nu2=nu2)
    improper = api.improper_posterior_warning(posterior, len(ds.y_train), cli=True)
    warned = [improper] if improper else []
    chose = cfg.sampler == AUTO  # the size note is then the choice made, else a warning about the one named
    cfg, size_note = resolve_sampler(cfg, ds, posterior)
    size = [size_note] if size_note else []
    return cfg, ds, posterior, warned + ([] if chose else size), size if chose else []


def _kept(metrics: StageMetrics, scored) -> tuple[StageMetrics, PredictiveSummary, np.ndarray]:
    """What a run keeps of a stage's evaluation: its metrics, the report's summary of the predictive and the
    diagnosed test-point outputs; the predictive itself (draws x test rows: 640 MB at 4,000 draws of 40,000 rows)
    is let go before the next stage is evaluated."""
    return metrics, scored.summary, scored.fn_outputs


def compared_points(ds: Dataset, full: PredictiveSummary, compact: PredictiveSummary
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The test targets and the two models' point predictions that the compact-against-full line compares: the
    predictive means in the scaled target (an RMSE ratio is the same in the target's units), or, for a target
    modelled by its logarithm, the predictive medians in the target's units, as the table's ``rmse (y)`` scores
    them (a ratio of log-unit errors would not say how far apart the predicted prices are)."""
    if ds.task == "regression" and ds.target_transform == "log":
        return ds.inverse_y(ds.y_test), ds.inverse_y(full.median), ds.inverse_y(compact.median)
    return ds.y_test, full.mean, compact.mean


def _run(cfg: RunConfig, device, ds: Dataset, posterior, warned: list[str], notes: list[str], *, reporter,
         label: str | None, run_index: int | None, full: api.PosteriorSample | None = None,
         batch: dict | None = None) -> RunOutcome:
    t_start = time.perf_counter()
    progress = reporter.stage if reporter else None  # a bar (or lines) for each part of each stage
    if full is None:
        full = _sample_full(cfg, ds, posterior, progress=progress)
    full_metrics, full_summary, full_fn = _kept(*api.evaluate_stage(full, ds, seed=cfg.seed))
    cells: list[CellResult] = []
    views: list[CellView] = []
    prov = provenance(ds, device) | ({"batch": batch} if batch else {})
    on_scoring_chains: dict[tuple[int, ...], StageMetrics] = {}  # the full model on the chains scores came from
    # a rate per layer is one cell, labelled 'layers', at the share of the network those rates remove
    rates = cfg.rates if cfg.layer_rates is None else (masks.layer_rates_share(
        posterior.spec, cfg.layer_rates, structured=cfg.structured, prune_inputs=cfg.prune_inputs),)
    compression, resampling = CompressionSpec.from_run(cfg), ResamplingSpec.from_run(cfg)
    for criterion in cfg.criteria:
        for rate in rates:
            t0 = time.perf_counter()
            comp = api.compress(
                full, ds, rate=rate, seed=cfg.seed, pruning=PruningSpec.from_run(cfg, criterion=criterion),
                compression=compression, resampling=resampling, progress=progress)
            pr, res = comp.prune, comp.resampled
            pruned = comp.pruned.replace(seconds=time.perf_counter() - t0 - sum(s.resampled.seconds
                                                                                for s in comp.steps))
            pruned_metrics, _, pruned_fn = _kept(*api.evaluate_stage(pruned, ds, seed=cfg.seed))
            res_metrics, res_summary, res_fn = _kept(*api.evaluate_stage(res, ds, seed=cfg.seed))
            stages = {"full": full_metrics, "pruned": pruned_metrics, "resampled": res_metrics}
            if len(comp.steps) == 1 and pr.source_chains != list(range(full.result.num_chains)):
                # like with like: the full model on the chains the mask was scored on (the pruned stage's)
                chains = tuple(pr.source_chains)
                if chains not in on_scoring_chains:  # every cell of a sweep scores on the same best chain
                    on_scoring_chains[chains] = api.evaluate(full.select_chains(list(chains)), ds, seed=cfg.seed)
                stages[FULL_SCORED] = on_scoring_chains[chains]
            model, compact = pack_compact(res, ds)
            record = CellRecord(
                dataset=label or ds.name, task=ds.task, sampler=cfg.sampler, criterion=criterion,
                rate=float(comp.rate), seed=int(cfg.seed), n_params=int(posterior.spec.n_params),
                n_params_kept=int(pr.keep_mask.sum()), stages=stages, structured=cfg.structured,
                per_layer=cfg.per_layer, chain_agreement_jaccard=pr.chain_agreement, score_chains=pr.source_chains,
                architecture=posterior.spec.to_dict(), config=cfg, provenance=prov, compact=compact, run=run_index,
                requested_rate=rate if cfg.layer_rates is None else "layers",
                schedule=[s.summary() for s in comp.steps],
                rate_selection=to_json(comp.selection) if comp.selection else None,
                mask_repair=pr.repair.to_dict() if pr.repair else None,
                dropped_features=[ds.feature_names[i] for i in pr.dropped_inputs],
                extrapolation={**extrapolation(ds.task, ds.X_train, ds.X_test, ds.y_test,
                                               {"full": full_summary.mean, "resampled": res_summary.mean}),
                               # --clip-inputs: the test cells clipped to the range before any of this
                               **({"clipped_inputs": ds.meta.get("clipped_inputs", {})}
                                  if ds.x_range is not None else {})},
                # rate 0: the compact model is the full network, nothing to compare
                versus_full=(versus_full(ds.task, *compared_points(ds, full_summary, res_summary))
                             if comp.rate > 0 else None),
                tuned={"full": full.result.tuned(), **({"resampled": res.result.tuned()} if comp.rate > 0 else {})},
                # rate 0 (the rate guard or --rate auto kept the full network): nothing was resampled
                warnings=(cell_warnings(stages if comp.rate > 0 else {"full": full_metrics}, cfg)
                          + selection_warnings(comp.selection if rate == "auto" else None, len(ds.y_train))
                          + fit_warnings(comp.fit_check, len(ds.y_train), cfg)
                          + resampling_warnings(res.info.get("start_logpost"), res.result.logdensity,
                                                res.result.draws.shape[-1],
                                                bounded=api.improper_posterior_warning(
                                                    res.posterior, len(ds.y_train), res.n_params_kept) is None)),
            )
            cells.append(CellResult(criterion, float(comp.rate), pr, pruned, res, record,
                                    {"pruned": pruned_fn, "resampled": res_fn}, model))
            views.append(CellView(record, pr.scores, pr.threshold, res_summary))
    view = RunView(ds.summary(), ds.source, ds.task, np.asarray(ds.y_test), full_summary, cells=views,
                   warnings=warned, notes=notes, findings=interval_notes(ds, full_summary.lower))
    return RunOutcome(cfg, ds, full, full_metrics, view, tuple(cells), full_fn,
                      time.perf_counter() - t_start)


def cell_dir(out: Path, cell: CellResult, single: bool) -> Path:
    """Where a (criterion, rate)'s files go: ``out`` for a single one, else ``out/<criterion>-<rate>`` (the rate as
    asked: ``stn-auto`` for ``--rate auto``)."""
    return out if single else out / cell.record.name


def write_outputs(outcome: RunOutcome, out: str | Path) -> list[Path]:
    """Write the run's files into ``out``: metrics.json (one per criterion x rate), the posterior files, the
    compact models and, for a sweep, sweep.json. Returns the paths written (metrics.json files last)."""
    out = Path(out)
    written: list[Path] = []
    single = len(outcome.cells) == 1
    save_posterior(outcome.full, outcome.dataset, out / "posterior_full.nc")
    written.append(out / "posterior_full.nc")
    for cell in outcome.cells:
        d = cell_dir(out, cell, single)
        save_posterior(cell.resampled, outcome.dataset, d / "posterior_resampled.nc")
        written += [d / "posterior_resampled.nc", write_compact(cell.model, d / f"model{EXTENSION}")]
    if not single:
        write_json(out / "sweep.json", [to_json(c.record) for c in outcome.cells])
        written.append(out / "sweep.json")
    for cell in outcome.cells:
        path = cell_dir(out, cell, single) / "metrics.json"
        write_json(path, to_json(cell.record))
        written.append(path)
    return written
