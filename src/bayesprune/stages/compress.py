"""Compression: prune and resample in one step (the paper) or several (a gradual schedule), at a rate given or
chosen by PSIS-LOO (``rate="auto"``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from bayesprune import settings
from bayesprune.data.datasets import Dataset
from bayesprune.errors import OptionError
from bayesprune.evaluation import selection
from bayesprune.indices import evenly_spaced
from bayesprune.predictive import network_outputs, pointwise_loglik
from bayesprune.pruning import schedule as schedules
from bayesprune.settings import RunConfig
from bayesprune.stage_settings import CompressionSpec, PruningSpec, ResamplingSpec
from bayesprune.stages.posterior_sample import PosteriorSample
from bayesprune.stages.prune import PruneResult, prune, pruned, reposition
from bayesprune.stages.resample import resample, starts_chains


@dataclass(frozen=True)
class Step:
    """One prune -> resample step of a schedule."""

    rate: float
    prune: PruneResult
    pruned: PosteriorSample  # the mask on the draws it was scored on, not resampled
    resampled: PosteriorSample

    def summary(self) -> dict[str, Any]:
        return {"rate": self.rate, "n_params_kept": int(self.prune.keep_mask.sum()),
                "seconds": float(self.resampled.seconds)}


@dataclass(frozen=True)
class Compression:
    """The outcome of :func:`compress`: the final mask, its pruned and resampled posteriors, every step taken
    (the candidates of ``rate="auto"`` included) and, for ``rate="auto"``, the rate selection."""

    prune: PruneResult
    pruned: PosteriorSample
    resampled: PosteriorSample
    steps: list[Step]
    selection: selection.RateSelection | None = None
    fit_check: selection.Candidate | None = None  # the guard's measure where the guard did not choose (fit_check)

    @property
    def rate(self) -> float:
        return self.prune.rate


def unpruned(ps: PosteriorSample, pr: PruneResult) -> Step:
    """Rate 0, when ``rate="auto"`` finds no candidate good enough: the full sample itself, every chain and its
    weights, as the compressed model (nothing removed, nothing resampled). Resampling all parameters from the
    scoring chain's draws instead gave a model worse than the full one it stands for (one chain's mode: UCI
    Boston split 0, test log-likelihood -2.20 against the full posterior's -2.08). ``pr``: the rate-0 mask."""
    whole = PosteriorSample(ps.posterior, ps.result.map_positions(lambda a: reposition(ps, a, pr.kept_idx)),
                            pr.kept_idx, 0.0, dict(ps.info), ps.chain_weights)
    return Step(0.0, pr, whole, whole)


def compress(
    ps: PosteriorSample,
    ds: Dataset,
    *,
    rate: float | str = RunConfig.rates[0],
    seed: int = RunConfig.seed,
    pruning: PruningSpec | None = None,
    compression: CompressionSpec | None = None,
    resampling: ResamplingSpec | None = None,
    progress=None,
    **settings_: Any,
) -> Compression:
    """Prune the full sample ``ps`` to ``rate`` and resample, in one step (``schedule="oneshot"``, the paper) or
    several (``gradual``: :mod:`bayesprune.pruning.schedule`, each step scored on the previous step's resampled
    posterior and resampled from its draws).

    A rate given is checked by the rate guard (``rate_guard`` > 0, one-shot, no ``layer_rates``:
    :func:`guarded`), which may lower it. ``rate="auto"`` tries every rate of ``auto_rates`` (each from the full
    sample when one-shot; in increasing order, each from the previous, when gradual) and keeps the largest whose
    PSIS-LOO ELPD loss on the training rows, less ``auto_se`` standard errors, is at most ``auto_tolerance`` of
    the full model's gain over a model without inputs (projpred's rule, :mod:`bayesprune.evaluation.selection`);
    the full model's rate 0 when none is. The full model is taken on the chains the candidates are resampled
    from. The test rows are never read.

    A compact model at a rate given that the guard did not choose (``rate_guard=0``, a gradual schedule, rates per
    layer) is still measured the guard's way (:func:`fit_check`: ``fit_check``), so a run can say when it lost
    more than the default guard allows.

    The settings come in three groups (:mod:`bayesprune.stage_settings`): ``pruning`` (how each mask is chosen,
    :func:`~bayesprune.stages.prune.prune`), ``compression`` (``schedule``, ``schedule_steps``, ``auto_rates``,
    ``auto_se``, ``auto_tolerance``, ``rate_guard``) and ``resampling``
    (:func:`~bayesprune.stages.resample.resample`: ``samples``, ``burnin``, ``start``, ``sampler_settings``
    ...); any of their settings may instead be given as a keyword argument. ``progress(label, total)`` (e.g.
    :meth:`bayesprune.progress.Reporter.stage`) may return an ``advance(n)`` callback for each part of each
    resampling (its starts' fine-tuning, its sampling), labelled with the criterion and rate.
    """
    if ps.kept_idx is not None:
        raise OptionError.about("ps", "is already pruned; compress the full posterior sample")
    given = dict(settings_)
    pruning = PruningSpec.given(pruning, PruningSpec.take(given))
    compression = CompressionSpec.given(compression, CompressionSpec.take(given))
    resampling = ResamplingSpec.given(resampling, ResamplingSpec.take(given))
    if given:
        raise OptionError.about(next(iter(given)), "is not a setting of compress (its groups: pruning, compression, "
                                "resampling)")
    settings.check("rates", (rate,), param="rate")
    if pruning.layer_rates is not None and (rate == "auto" or compression.schedule != "oneshot"):
        raise OptionError.about("layer_rates", "prune in one step at the rates given (not with rate='auto' or "
                                "schedule='gradual')")
    criterion, auto_se, auto_tolerance = pruning.criterion, compression.auto_se, compression.auto_tolerance

    def step(source: PosteriorSample, r: float) -> Step:
        pr = prune(source, pruning, rate=r, seed=seed, data=ds)
        stage = (lambda what, total: progress(f"{what} {criterion} {r:.0%}", total)) if progress else None  # noqa: E731
        return Step(r, pr, pruned(source, pr), resample(source, ds, pr, resampling, seed=seed, progress=stage))

    def ladder(rates: tuple[float, ...]) -> list[Step]:
        out: list[Step] = []
        source = ps
        for r in rates:
            out.append(step(source, r))
            source = out[-1].resampled
        return out

    if rate != "auto":
        steps = ladder(schedules.rates(compression.schedule, float(rate), compression.schedule_steps))
        if guard_off(compression.rate_guard, compression.schedule, pruning.layer_rates) is None and float(rate) > 0:
            return guarded(ps, ds, steps[0], lambda r: step(ps, r), compression, resampling, pruning, seed)
        return Compression(steps[-1].prune, steps[-1].pruned, steps[-1].resampled, steps,
                           fit_check=fit_check(ps, ds, steps, resampling) if float(rate) > 0 else None)
    candidates = sorted(set(float(r) for r in compression.auto_rates))
    steps = ladder(tuple(candidates)) if compression.schedule == "gradual" else [step(ps, r) for r in candidates]
    full_loo = _training_loo(_full_on_start_chains(ps, steps[0].prune, resampling), ds.X_train, ds.y_train)
    null = selection.null_elpd(ds.task, ds.y_train)
    found = [selection.candidate(full_loo, null, s.rate, int(s.prune.keep_mask.sum()),
                                 _training_loo(s.resampled, ds.X_train, ds.y_train), auto_se, auto_tolerance)
             for s in steps]
    return _selected(ps, ds, pruning, seed, steps, selection.choose(full_loo, null, found, auto_se, auto_tolerance))


def _full_on_start_chains(ps: PosteriorSample, pr: PruneResult, resampling: ResamplingSpec) -> PosteriorSample:
    """Like with like: the full model on the chains a compact model is resampled from, so its loss is the
    pruning's, not that of losing the other chains' modes."""
    return ps.select_chains(starts_chains(ps, pr, resampling.start_from))


def _training_loo(sample: PosteriorSample, X, y, max_draws: int | None = None,
                  accuracy: bool = False) -> selection.LOO:
    """PSIS-LOO of ``sample`` (a full sample or a compact model of it) on the rows ``X``, ``y``, from at most
    ``max_draws`` draws per chain (evenly spaced; all when ``None``); with ``accuracy`` (classification), its
    PSIS-LOO accuracy too."""
    draws = sample.result.draws
    if max_draws is not None:
        draws = draws[:, evenly_spaced(draws.shape[1], max_draws)]
    loglik = pointwise_loglik(sample.posterior, draws, X, y, sample.kept_idx)
    loo = selection.loo(loglik)
    if not accuracy or sample.posterior.task != "classification":
        return loo
    probs = network_outputs(sample.posterior, draws, X, sample.kept_idx)
    return dataclasses.replace(loo, accuracy=selection.loo_accuracy(loglik, probs, y))


def _selected(ps: PosteriorSample, ds: Dataset, pruning: PruningSpec, seed: int, steps: list[Step],
              chosen: selection.RateSelection) -> Compression:
    """The compression of the step whose rate the selection chose (the full sample itself at rate 0), with
    every step and the selection."""
    final = next((s for s in steps if s.rate == chosen.chosen), None)
    if final is None:
        final = unpruned(ps, prune(ps, pruning, rate=0.0, seed=seed, data=ds))
    return Compression(dataclasses.replace(final.prune, selection=chosen), final.pruned, final.resampled, steps,
                       chosen)


def most_resamplings(rate: float | str, compression: CompressionSpec, pruning: PruningSpec) -> int:
    """The most resamplings :func:`compress` makes at ``rate``: one per candidate of ``rate="auto"``, one per step
    of a gradual schedule, and where the rate guard checks the rate given (:func:`guard_off`), one more for each
    lower rate of ``auto_rates`` it may step down to (:func:`guarded`). What a run's time estimate counts."""
    if rate == "auto":
        return len(set(float(r) for r in compression.auto_rates))
    if float(rate) <= 0:
        return 0
    ladder = len(schedules.rates(compression.schedule, float(rate), compression.schedule_steps))
    if guard_off(compression.rate_guard, compression.schedule, pruning.layer_rates) is not None:
        return ladder
    return 1 + len(set(float(r) for r in compression.auto_rates if r < float(rate)))


def guard_off(rate_guard: float, schedule: str, layer_rates) -> str | None:
    """Why the rate guard does not check a rate given, the setting to change first: ``"layer_rates"`` (rates per
    layer), ``"schedule"`` (a gradual schedule) or ``"rate_guard"`` (it is 0); ``None`` when it does (one shot,
    one rate, a cap above 0)."""
    if layer_rates is not None:
        return "layer_rates"
    if schedule != "oneshot":
        return "schedule"
    return "rate_guard" if rate_guard <= 0 else None


def guarded(ps: PosteriorSample, ds: Dataset, first: Step, step, compression: CompressionSpec,
            resampling: ResamplingSpec, pruning: PruningSpec, seed: int) -> Compression:
    """The rate guard (``rate_guard``, nats per training row): keep the compact model at the rate given when its
    PSIS-LOO ELPD on the training rows is at most ``rate_guard`` per row below the full model's (on the chains it
    was resampled from) and, for classification with ``rate_guard_accuracy`` > 0, its PSIS-LOO accuracy at most
    that share below the full model's; else try the next lower rate of ``auto_rates``, and so on, then the full
    network.

    A network too small for its data at the rate given (a smooth, nearly noise-free target such as UCI energy
    at 75%: test RMSE 1.5x the full network's on three seeds) is then not returned as the compact model without
    a word: the training rows say so, and the test rows are never read. The estimate uses at most
    ``GUARD_ROWS`` training rows and ``GUARD_DRAWS`` draws per chain (a loss per row needs no more)."""
    cap, accuracy_cap = compression.rate_guard, compression.rate_guard_accuracy
    full_loo, null, X, y = _guard_reference(ps, ds, first.prune, resampling, accuracy_cap > 0)
    steps: list[Step] = []
    tried: list[selection.Candidate] = []
    lower = sorted((float(r) for r in compression.auto_rates if r < first.rate), reverse=True)
    for r in [first.rate, *lower]:  # highest first, stopping at the first that passes
        steps.append(first if not steps else step(r))
        loo = _training_loo(steps[-1].resampled, X, y, selection.GUARD_DRAWS, accuracy_cap > 0)
        tried.append(selection.guard_candidate(full_loo, null, r, int(steps[-1].prune.keep_mask.sum()), loo, cap,
                                               accuracy_cap))
        if tried[-1].within or full_loo.elpd <= null:
            break
    return _selected(ps, ds, pruning, seed, steps, selection.guard_selection(full_loo, null, tried, cap,
                                                                            accuracy_cap))


def _guard_reference(ps: PosteriorSample, ds: Dataset, pr: PruneResult, resampling: ResamplingSpec,
                     accuracy: bool = False):
    """What the guard measures a compact model against: the full model's PSIS-LOO (on the chains the compact
    model was resampled from; with its accuracy when ``accuracy``) and the model without inputs' exact LOO ELPD,
    on at most ``GUARD_ROWS`` training rows (``X``, ``y``, returned too) and ``GUARD_DRAWS`` draws per chain."""
    rows = evenly_spaced(len(ds.y_train), selection.guard_rows(len(ds.y_train)))
    X, y = ds.X_train[rows], ds.y_train[rows]
    full_loo = _training_loo(_full_on_start_chains(ps, pr, resampling), X, y, selection.GUARD_DRAWS, accuracy)
    return full_loo, selection.null_elpd(ds.task, y), X, y


def fit_check(ps: PosteriorSample, ds: Dataset, steps: list[Step], resampling: ResamplingSpec,
              cap: float = settings.RATE_GUARD,
              accuracy_cap: float = settings.RATE_GUARD_ACCURACY) -> selection.Candidate | None:
    """The last step's compact model measured as the rate guard measures one (:func:`guarded`, with the default
    ``cap``), where the guard did not choose it: ``within`` is False when it lost more than ``cap`` nats of PSIS-LOO
    ELPD per training row. ``None`` when the full model's LOO does not beat the model without inputs (it cannot
    judge then, as in the guard). Without the guard 11 of the 45 runs of benchmarks/pipeline.py had a broken
    compact model (variant ``all-chains``), with it 2 (``guard``): a model it would have refused deserves a word."""
    full_loo, null, X, y = _guard_reference(ps, ds, steps[0].prune, resampling, accuracy_cap > 0)
    if full_loo.elpd <= null:
        return None
    last = steps[-1]
    return selection.guard_candidate(full_loo, null, last.rate, int(last.prune.keep_mask.sum()),
                                     _training_loo(last.resampled, X, y, selection.GUARD_DRAWS, accuracy_cap > 0),
                                     cap, accuracy_cap)
