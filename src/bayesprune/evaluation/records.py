"""Typed metrics records: one stage, one pruned cell (a ``metrics.json``), one run of a grid (``run.json``).

A record is built once, by the code that measured it, and turned into JSON by one function, :func:`to_json`
(the inverse is each record's ``from_json``). The keys are those of the ``metrics.json`` schema in
docs/OUTPUTS.md; every reader (the report, the CLI, results.csv) goes through these classes instead of string
keys. :func:`main_metric` is the one place that knows a task's main metric.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # imported where used: the settings load the samplers (BlackJAX), and reading a compact model
    # file (bayesprune predict) needs CompactInfo alone
    from bayesprune.settings import RunConfig

MAIN_METRIC = {"regression": "rmse", "classification": "accuracy"}
# metrics where a smaller value is better (every other metric: larger is better, or it is a diagnostic)
LOWER_IS_BETTER = frozenset({"rmse", "nll", "crps", "mpiw90", "ece", "brier", "point_rmse", "rmse_original",
                             "nll_original", "crps_original", "mpiw90_original"})
STAGES = ("full", "pruned", "resampled")
# also recorded when the mask was scored on some chains only: the full model on those chains, so the pruned
# stage (the same chains, pruned) can be compared like with like
FULL_SCORED = "full_scored"


def main_metric(task: str) -> str:
    """``rmse`` for regression, ``accuracy`` for classification."""
    return MAIN_METRIC[task]


def uncertainty_metrics(task: str) -> tuple[str, ...]:
    """The uncertainty metrics shown next to the main one: PICP90/MPIW90/CRPS or ECE/Brier."""
    return ("picp90", "mpiw90", "crps") if task == "regression" else ("ece", "brier")


@dataclass(frozen=True, kw_only=True)
class StageMetrics:
    """The metrics block ``M`` of one stage (full, pruned or resampled) on the test set.

    Regression metrics are for the min-max scaled target (the paper's convention); ``*_original`` are the same
    in the target's own units (NLL shifted by the log of the scale). Classification leaves them ``None``, and
    regression leaves the classification metrics ``None``.
    """

    task: str
    nll: float
    point_estimate: float  # the main metric at the posterior-mean parameters (the paper's scoring)
    rhat_fn_max: float
    ess_fn_min: float
    n_nonfinite_draws: int
    rhat_w_median: float
    share_rhat_w_ok: float
    ess_w_median: float
    acceptance_rate: float
    n_divergent: int
    seconds: float
    steps: int | None = None  # post-burn-in steps per chain (more than asked for after --until-converged)
    nrhat_fn_max: float | None = None  # nested R-hat of the predictions, for chains started in --superchains
    chain_weights: list[float] | None = None  # each chain's weight in the predictive (None: equal), --chain-weights
    # each chain alone and the chains against each other (evaluation.diagnostics.chain_agreement)
    rhat_fn_within_max: float | None = None
    ess_fn_within_min: float | None = None
    modes_apart: float | None = None
    n_modes: int | None = None
    # Monte Carlo error of the predictive mean in outcome sds, RMS over test points
    # (evaluation.diagnostics.monte_carlo_error): e^2 / 2 nats is what it costs the test NLL on average
    mc_error: float | None = None
    accuracy: float | None = None
    ece: float | None = None
    brier: float | None = None
    rmse: float | None = None
    picp90: float | None = None
    mpiw90: float | None = None
    crps: float | None = None
    rmse_original: float | None = None
    nll_original: float | None = None
    mpiw90_original: float | None = None
    crps_original: float | None = None

    @property
    def main(self) -> float:
        """The task's main metric (:func:`main_metric`)."""
        return getattr(self, main_metric(self.task))

    def value(self, metric: str) -> float:
        """A metric by name (``point_<main>`` for the point estimate), NaN when the task does not have it."""
        if metric == f"point_{main_metric(self.task)}":
            return float(self.point_estimate)
        v = getattr(self, metric, None)
        return float("nan") if v is None else float(v)

    def flat(self) -> Iterator[tuple[str, float]]:
        """``(metric, value)`` for every number of the block, the point estimate as ``point_<main>``."""
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "task" or v is None:
                continue
            name = f"point_{main_metric(self.task)}" if f.name == "point_estimate" else f.name
            yield name, float(v)

    @classmethod
    def from_json(cls, d: Mapping[str, Any], task: str) -> StageMetrics:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in d.items() if k in known and k != "point_estimate"}
        return cls(task=task, point_estimate=d["point_estimate"][main_metric(task)], **values)


@dataclass(frozen=True, kw_only=True)
class CompactInfo:
    """What the compact model file bought: parameters, input and hidden widths, bytes against the same draws
    dense."""

    layout: str
    n_draws: int
    n_params: int
    n_params_kept: int
    hidden_full: list[int]
    hidden_compact: list[int]
    bytes_dense: int
    bytes_compact: int
    bytes_dense_compressed: int
    inputs_full: int | None = None  # input features of the full network and of the compact one (None: not recorded)
    inputs_compact: int | None = None

    @property
    def bytes_ratio(self) -> float:
        return self.bytes_compact / self.bytes_dense

    def describe_widths(self) -> str:
        """``inputs 64 -> 41, hidden [128, 64] -> [90, 12]`` (inputs only when some were removed)."""
        inputs = (f"inputs {self.inputs_full} -> {self.inputs_compact}, "
                  if self.inputs_compact is not None and self.inputs_compact != self.inputs_full else "")
        return f"{inputs}hidden {self.hidden_full} -> {self.hidden_compact}"


def cell_rate(rate: float | str) -> str:
    """A pruning rate as asked, as text: ``0.75 -> "0.75"``, ``"auto" -> "auto"``."""
    return rate if isinstance(rate, str) else f"{rate:g}"


def cell_name(criterion: str, requested: float | str) -> str:
    """The folder / key of a (criterion, rate as asked): ``stn-0.75``, ``stn-auto``."""
    return f"{criterion}-{cell_rate(requested)}"


@dataclass(frozen=True, kw_only=True)
class CellRecord:
    """One ``metrics.json``: a (criterion, rate) of a run, with its three stages."""

    dataset: str
    task: str
    sampler: str
    criterion: str
    rate: float
    seed: int
    n_params: int
    n_params_kept: int
    stages: dict[str, StageMetrics]
    structured: bool
    per_layer: bool
    chain_agreement_jaccard: float
    score_chains: list[int]
    architecture: dict[str, Any]
    config: RunConfig
    provenance: dict[str, Any]
    compact: CompactInfo | None = None
    run: int | None = None  # the run's number in a grid
    requested_rate: float | str | None = None  # what was asked: the rate, or "auto" (then ``rate`` is the chosen)
    schedule: list[dict[str, Any]] | None = None  # the prune -> resample steps: rate, n_params_kept, seconds
    rate_selection: dict[str, Any] | None = None  # rate "auto": every candidate and the rule (selection.py)
    mask_repair: dict[str, Any] | None = None  # what the mask repair changed (pruning/paths.py)
    dropped_features: list[str] | None = None  # input features no kept path uses
    warnings: list[str] | None = None  # about the sampled stages, with remedies (experiments/advice.py)
    extrapolation: dict[str, Any] | None = None  # test rows outside the training range (evaluation/extrapolation.py)
    versus_full: dict[str, Any] | None = None  # the compact model against the full one, paired (evaluation/paired.py)
    # the samplers' scalar parameters after warm-up, per chain, by stage: {"full": {"step_size": [...]}, ...}
    tuned: dict[str, dict[str, list[float]]] | None = None

    @property
    def rate_lowered(self) -> bool:
        """Whether the rate guard kept a lower rate than the one given (the full network at rate 0)."""
        return isinstance(self.requested_rate, float) and self.rate != self.requested_rate

    @property
    def kept_share(self) -> float:
        return self.n_params_kept / self.n_params

    @property
    def requested(self) -> str:
        """The rate as asked, as text: ``"0.75"`` or ``"auto"`` (then :attr:`rate` is the one chosen)."""
        return cell_rate(self.requested_rate if self.requested_rate is not None else self.rate)

    @property
    def name(self) -> str:
        """The cell's name in folders and files: ``CRITERION-RATE`` with the rate as asked (``stn-0.75``,
        ``stn-auto``), so a chosen rate never collides with the same rate asked for."""
        return cell_name(self.criterion, self.requested)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> CellRecord:
        task = d["task"]
        values = dict(d)
        values["stages"] = {s: StageMetrics.from_json(m, task) for s, m in d["stages"].items()}
        from bayesprune.settings import RunConfig

        values["config"] = RunConfig.from_dict(d["config"])
        compact = d.get("compact")
        if compact is not None:
            names = {f.name for f in dataclasses.fields(CompactInfo)}
            values["compact"] = CompactInfo(**{k: v for k, v in compact.items() if k in names})
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """``run.json`` of a grid run: the full model's metrics, timings and provenance."""

    dataset: str
    run: int
    seed: int
    split_seed: int | None
    sampler: str
    task: str
    n_params: int
    n_train: int
    n_test: int
    full: StageMetrics
    seconds_total: float
    seconds_full: dict[str, float]
    provenance: dict[str, Any]

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> RunRecord:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in d.items() if k in known}
        values["full"] = StageMetrics.from_json(d["full"], d["task"])
        return cls(**values)


def to_json(record: Any) -> Any:
    """The JSON form of a record (and of anything inside one): the one serialiser of ``metrics.json`` and
    ``run.json``. ``None`` fields are left out; a stage's point estimate becomes ``{"<main>": value}``."""
    if isinstance(record, StageMetrics):
        out = {}
        for f in dataclasses.fields(record):
            v = getattr(record, f.name)
            if f.name == "task" or v is None:
                continue
            out[f.name] = {main_metric(record.task): float(v)} if f.name == "point_estimate" else to_json(v)
        return out
    if isinstance(record, CompactInfo):
        return {**{f.name: to_json(getattr(record, f.name)) for f in dataclasses.fields(record)},
                "bytes_ratio": record.bytes_ratio}
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        from bayesprune.settings import RunConfig  # only a dataclass can be one: the values inside skip the import

        if isinstance(record, RunConfig):
            return record.to_dict()
        return {f.name: to_json(getattr(record, f.name)) for f in dataclasses.fields(record)
                if getattr(record, f.name) is not None}
    if isinstance(record, Mapping):
        return {k: to_json(v) for k, v in record.items()}
    if isinstance(record, (list, tuple)):
        return [to_json(v) for v in record]
    if isinstance(record, (np.integer, np.bool_)):
        return record.item()
    if isinstance(record, np.floating):
        return float(record)
    return record


@dataclass(frozen=True)
class PredictiveSummary:
    """The test-set predictive a report draws: class probabilities (n, K), or the regression mean, 90%
    interval and median (n,) each, in the scaled target's units."""

    mean: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    median: np.ndarray | None = None


@dataclass(frozen=True)
class CellView:
    """What a report shows of one (criterion, rate): its record, scores, cut and resampled predictive."""

    record: CellRecord
    scores: np.ndarray
    threshold: float
    resampled: PredictiveSummary


@dataclass(frozen=True)
class RunView:
    """Everything the report of a run renders; built by the runner, so the report computes nothing."""

    dataset_summary: str
    source: str
    task: str
    y_test: np.ndarray
    full: PredictiveSummary
    cells: list[CellView] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # known before sampling, each with its remedy
    notes: list[str] = field(default_factory=list)  # choices the run made for the user (the sampler on large data)
    # what the run saw that a setting changes, known after the work (intervals of a positive target below 0)
    findings: list[str] = field(default_factory=list)
