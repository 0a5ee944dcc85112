"""The settings of a run and of a grid, declared once: :class:`RunConfig`, :class:`GridSpec` and where a
grid's runs execute, :class:`ExecutorSpec`.

Every field is declared with :func:`bayesprune.options.option` (default, help, check, group, whether an
experiment config file may set it); ``bayesprune run``'s options, the keys of an experiment config file and the
validation are derived from these declarations, and the API functions run the same checks through
:func:`check`. The sampler's own settings are one typed object nested in the run configuration
(``sampler_settings``, a class of its sampler module in :mod:`bayesprune.samplers`).

Where a new setting goes: a field here (run-level) or in its sampler's settings class (sampler-level); the CLI
flag, the TOML key and the check follow from the declaration. See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bayesprune import options
from bayesprune.devices import DEVICES
from bayesprune.errors import OptionError
from bayesprune.model.mlp import ACTIVATIONS, check_hidden
from bayesprune.options import option
from bayesprune.posterior.prior import NOISE_FLOOR_NU2, PRIOR_VAR
from bayesprune.pruning.criteria import CRITERIA
from bayesprune.pruning.criteria import describe as criteria_help
from bayesprune.pruning.schedule import DEFAULT_STEPS, SCHEDULES
from bayesprune.samplers.base import SamplerSettings
from bayesprune.samplers.registry import (
    SAMPLERS,
    as_settings,
    get_sampler,
    per_sampler,
    samplers_where,
    settings_class,
)
from bayesprune.samplers.sizing import FULL_BATCH_DEFAULT, LONG_SECONDS, STOCHASTIC_DEFAULT
from bayesprune.samplers.warmstart import INITS

AUTO_SE, AUTO_TOLERANCE = 0.0, 0.0  # --rate auto's rule (benchmarks/rate_auto.py)
# --rate-guard: the largest PSIS-LOO ELPD loss per training row a compact model at a given rate may have. log 1.05:
# for a Gaussian predictive, the loss of an sd 5% larger (an RMSE 1.05x the full model's, the end-to-end
# benchmark's "within"); written down before benchmarks/pipeline.py measured it (variant "guard")
RATE_GUARD = 0.0488
# --rate-guard-accuracy: for classification, the largest drop of PSIS-LOO accuracy on the training rows a compact
# model at a given rate may have besides: 0.01, the end-to-end benchmark's "within" (1 point). The ELPD cap alone
# let through compact models that classify worse at an equal log density (benchmarks/pipeline.py, variant
# "accuracy-guard")
RATE_GUARD_ACCURACY = 0.01
CHAIN_WEIGHTS = ("auto", "stacking", "equal")  # how a stage's chains are weighted (bayesprune.stages.weights)

TASKS = ("regression", "classification")
NOISE_PRIORS = ("flat", "auto")  # --noise-prior (bayesprune.stages.sample.noise_prior)
# how a regression target is modelled (--target-transform): the data layer's datasets.TARGET_TRANSFORMS,
# repeated because the settings do not import the data layer (tests/unit/test_data.py checks they agree)
TARGET_TRANSFORMS = ("none", "log")
MISSING_MODES = ("fill", "drop", "error")  # --missing: datasets.MISSING_MODES, repeated as TARGET_TRANSFORMS is
SCORE_FROM = ("best-chain", "aligned", "pooled")
RESAMPLE_STARTS = ("draws", "mean", "last", "optimised")
RESAMPLE_FROM = ("scoring-chains", "all-chains")


AUTO = "auto"  # --sampler auto: chosen by the data's size (bayesprune.samplers.sizing)


def _sampler_help() -> str:
    """The help of ``--sampler``, from the samplers' declarations."""
    return ("; ".join(f"{name}: {get_sampler(name).description}" for name in SAMPLERS)
            + f"; auto (the default): {FULL_BATCH_DEFAULT} unless a run with it is estimated, from rows x "
            f"parameters, to take over {LONG_SECONDS / 60:.0f} minutes (bayesprune.samplers.sizing), then "
            f"{STOCHASTIC_DEFAULT} on minibatches")


def _where(attribute: str, value: str) -> str:
    return " and ".join(samplers_where(lambda sdef: getattr(sdef.settings, attribute) == value))


def _each(attribute: str) -> str:
    """A per-sampler default that is a word, for help texts: 'optimised for every sampler' when they agree."""
    values = {name: getattr(settings_class(name), attribute) for name in SAMPLERS}
    if len(set(values.values())) == 1:
        return f"{next(iter(values.values()))} for every sampler"
    return ", ".join(f"{name} {value}" for name, value in values.items())


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run: sample -> prune -> resample -> evaluate on one data set.

    Defaults: the embedded iris set, MCLMC from optimised starts (chosen by benchmarks/default_sampler.py;
    ``sampler="lgmh"`` is the paper's), the paper's STN criterion at 75% with the mask repaired, one-shot.
    ``samples`` and ``resample_samples`` default to the sampler's own lengths, ``sampler_settings`` to its own
    defaults (they must be the chosen sampler's: to switch samplers with ``dataclasses.replace``, pass
    ``sampler_settings=None`` too).
    """

    # data
    dataset: str = option("iris", "named data set (see 'bayesprune data list'): the paper's, scikit-learn's, "
                          "mnist, or uci/<folder> on its fixed --split", group="data", toml=True)
    data_dir: str | None = option(None, "folder holding the paper's data files (or set BAYESPRUNE_DATA)",
                                  group="data")
    csv: str | None = option(None, "your own CSV file instead of a named data set", group="data", toml=True)
    target: str | None = option(None, "column to predict in --csv (header name, or 0-based number)", group="data",
                                toml=True)
    features: tuple[str, ...] | None = option(None, "feature columns of --csv, comma-separated (default: every "
                                              "other column but a text column with a different value in every "
                                              "row, a name or an identifier, or of more than 50 categories, "
                                              "which is left out and said so)",
                                              group="data", toml=True)
    task: str | None = option(None, "regression or classification (inferred when not given: classes for a text "
                              "target, two integer values, or at most 20 integer values of which at most half "
                              "occur in one row only)", group="data",
                              choices=(None, *TASKS), toml=True)
    stratify: bool = option(False, "stratified 60/40 split (classification)", group="data")
    missing: str = option("error", "what a missing cell of --csv (empty, NA, NaN, ?) becomes. error: stop at the "
                          "first, naming it and what each choice would cost. fill: a row without a target is left "
                          "out; a text column's missing cells are one more category, '(missing)'; a numeric "
                          "column's take its training-row median and one more 0/1 input, 'column=(missing)', "
                          "flags them (bayesprune predict fills new rows the same way). drop: drop every row with a "
                          "missing cell", choices=MISSING_MODES, group="data", toml=True)
    clip_inputs: bool = option(True, "clip an input lying more than half the training rows' range beyond that range "
                               "back to that distance, on the test rows and in the compact model: a network has "
                               "no data far beyond it, and near it the network still carries a smooth target on "
                               "(default: on; --no-clip-inputs: the inputs as they are, the network "
                               "extrapolating)",
                               group="data")
    target_transform: str = option("none", "log: model the logarithm of a regression target whose every value is "
                                   "above 0 (a price, a duration): its intervals then stay above 0; metrics and "
                                   "predictions are in the target's own units either way", choices=TARGET_TRANSFORMS,
                                   group="data", toml=True)
    test_fraction: float = option(0.4, "share of rows held out for testing", check=options.open_probability,
                                  flag=None)
    split_seed: int | None = option(None, "seed of the train/test split (default: the run's seed)",
                                    check=options.optional(options.integer(0)), flag=None)
    split: int = option(0, "the fixed train/test split of a uci/<folder> data set (0 .. its n_splits - 1)",
                        check=options.integer(0), group="data", toml=True)
    # model
    hidden: tuple[int, ...] | None = option(None, "hidden widths, e.g. 12 or 32,16 (default: the paper's for the "
                                            "data set, 12 for a CSV)", check=options.optional(check_hidden),
                                            group="model", toml=True)
    activation: str = option("sigmoid", "hidden-unit activation", choices=ACTIVATIONS, group="model", toml=True)
    prior_var: float = option(PRIOR_VAR, "prior variance sigma^2 of every weight and bias", check=options.positive,
                              group="model", toml=True)
    noise_prior: str = option("flat", "prior on a regression's noise variance tau^2: flat (the paper's, flat on "
                              "log tau^2; improper where the network has at least as many parameters as training "
                              "rows, which it can then fit exactly) or auto (flat, and where it would be improper "
                              f"InvGamma(0, {NOISE_FLOOR_NU2:g}) on the scaled target's tau^2: flat above a few "
                              "percent of the target's sd, a wall below, a proper posterior)",
                              choices=NOISE_PRIORS, group="model", toml=True)
    # sampling
    sampler: str = option(AUTO, _sampler_help(), choices=(*SAMPLERS, AUTO), group="sampling")
    chains: int = option(4, "independent chains", check=options.integer(1), group="sampling")
    superchains: int | None = option(None, "start the chains in this many groups, each from one shared point "
                                     "(Margossian et al. 2022), and report nested R-hat, which many short "
                                     "chains need (e.g. --chains 1024 --superchains 16); it must divide --chains",
                                     check=options.optional(options.integer(2)), group="sampling")
    samples: int | None = option(None, "steps per chain incl. burn-in (default: the sampler's, "
                                 + per_sampler("default_samples") + ")",
                                 check=options.optional(options.integer(2)), group="sampling")
    burnin: float = option(0.5, "share of samples discarded", check=options.share_discarded, group="sampling")
    thin: int | None = option(None, "keep every K-th draw (default: at most 1,000 kept per chain; with more than "
                              "4 chains 4,000 over all chains, at least 4 each; at most 2^28 values in all, so "
                              "networks over 67,108 parameters keep fewer)",
                              check=options.optional(options.integer(1)), group="sampling")
    init: str | None = option(None, "where chains start: a random network (prior) or each chain's own optimised "
                              "network (optimised: Adam on the log posterior, a deep ensemble); default: the "
                              f"sampler's (optimised for {_where('default_init', 'optimised')}, prior for the "
                              "others)",
                              choices=(None, *INITS), group="sampling")
    init_steps: int | None = option(None, "Adam steps of --init optimised (default: the sampler's, "
                                    + per_sampler("default_init_steps") + "; on minibatches for "
                                    + " and ".join(samplers_where(lambda sdef: sdef.stochastic)) + ")",
                                    check=options.optional(options.integer(0)), group="sampling")
    until_converged: float | None = option(None, "keep sampling (and resampling) in doubling extensions until "
                                           "function-space R-hat <= 1.01 (nested R-hat with --superchains) and ESS "
                                           ">= 400; an extension estimated to end after this many seconds is not "
                                           "started", check=options.optional(options.positive), group="sampling")
    chain_weights: str = option("equal", "how the chains of a stage are weighted in the predictive, the compact "
                                "model and every metric: stacking (Yao, Vehtari & Gelman 2022: a chain in a "
                                "poor mode, by its leave-one-out fit to the training rows, gets little weight), "
                                "auto (stacking only where a chain's fit trails the best's by more than log 1.05 "
                                "nats per row and than the PSIS-LOO correction itself) or equal",
                                choices=CHAIN_WEIGHTS, group="sampling")
    seed: int = option(0, "seed of every random stream of the run", check=options.integer(0), group="sampling")
    device: str = option("auto", "where JAX computes: auto (a GPU when JAX's CUDA build finds one, else the CPU), "
                         "cpu or gpu; the device used is recorded in metrics.json", choices=DEVICES,
                         group="sampling")
    sampler_settings: SamplerSettings | None = option(None, "the sampler's own settings (default: its defaults)",
                                                      flag=None)
    # pruning and resampling
    criteria: tuple[str, ...] = option(("stn",), criteria_help() + "; comma-separated to compare",
                                       check=options.each(options.one_of(CRITERIA)), flag="--criterion",
                                       group="pruning and resampling")
    rates: tuple[float | str, ...] = option((0.75,), "share of parameters removed, e.g. 0.75 or 0.25,0.5,0.75; "
                                            "auto: the largest of --auto-rates that keeps the full model's "
                                            "PSIS-LOO ELPD on the training rows (see --auto-tolerance)",
                                            check=options.each(options.rate_or_auto), flag="--rate",
                                            group="pruning and resampling")
    auto_rates: tuple[float, ...] = option((0.5, 0.75, 0.9, 0.95), "candidate rates of --rate auto, each pruned and "
                                           "resampled", check=options.each(options.pruning_rate),
                                           group="pruning and resampling")
    # chosen by benchmarks/rate_auto.py over 15 data sets: projpred's defaults (1 SE, 5%) broke 4 of 15 compact
    # models; with resampling from every chain (rate_auto_all_chains.md) no standard error and no loss allowed
    # (0, 0) broke none, (0, 0.5%) one
    auto_se: float = option(AUTO_SE, "--rate auto: standard errors of the paired ELPD difference given to a "
                            "candidate (projpred uses 1, which broke 4 of 15 compact models in the benchmark)",
                            check=options.non_negative, group="pruning and resampling")
    auto_tolerance: float = option(AUTO_TOLERANCE, "--rate auto: ELPD loss allowed, as a share of the full "
                                   "model's gain over a model without inputs (projpred's pct; 0.005 or 0.01 "
                                   "removes more, 0.05 more still, at a risk)", check=options.probability,
                                   group="pruning and resampling")
    rate_guard: float = option(RATE_GUARD, "nats per training row: a compact model whose PSIS-LOO ELPD on the "
                               "training rows falls further below the full model's is replaced by the next lower "
                               "of --auto-rates, then by the full network (log 1.05: an RMSE 5% larger; "
                               "0: keep the rate given whatever it costs; one-shot only)",
                               check=options.non_negative, group="pruning and resampling")
    rate_guard_accuracy: float = option(RATE_GUARD_ACCURACY, "classification: the rate guard also replaces a compact "
                                        "model whose PSIS-LOO accuracy on the training rows is more than this share "
                                        "below the full model's (0.01: 1 point; 0: judge by --rate-guard alone)",
                                        check=options.probability, group="pruning and resampling")
    schedule: str = option("oneshot", "oneshot: prune once to the rate (the paper); gradual: several prune -> "
                           "resample steps on Zhu & Gupta's cubic schedule, scores recomputed at each",
                           choices=SCHEDULES, group="pruning and resampling")
    schedule_steps: int = option(DEFAULT_STEPS, "prune -> resample steps of --schedule gradual",
                                 check=options.integer(1), group="pruning and resampling")
    repair: bool = option(True, "after an unstructured selection, remove weights of dead hidden units, give every "
                          "output a path from the inputs and spend the freed budget on live parameters (default: "
                          "on; --no-repair: the paper's masks)",
                          group="pruning and resampling")
    structured: bool = option(False, "remove whole hidden units instead of weights", group="pruning and resampling")
    per_layer: bool = option(False, "rank within each layer instead of globally", group="pruning and resampling")
    layer_rates: tuple[float, ...] | None = option(None, "a rate per layer instead of --rate: one per weight layer, "
                                                   "or with --structured one per hidden layer (after one for the "
                                                   "input features with --prune-inputs), e.g. 0.5,0.9,0.5",
                                                   check=options.optional(options.each(options.pruning_rate)),
                                                   group="pruning and resampling")
    prune_inputs: bool = option(False, "with --structured, remove the same share of input features (their outgoing "
                                "weights), so the compact model reads fewer columns", group="pruning and resampling")
    score_from: str = option("best-chain", "moments for the scores: the best chain, all chains after aligning "
                             "their hidden units to it, or all chains as they are", choices=SCORE_FROM,
                             group="pruning and resampling")
    resample_samples: int | None = option(None, "resampling steps per chain (default: the sampler's, "
                                          + per_sampler("default_resample_samples") + ")",
                                          check=options.optional(options.integer(2)),
                                          group="pruning and resampling")
    resample_burnin: float = option(0.5, "share of resampling steps discarded", check=options.share_discarded,
                                    group="pruning and resampling")
    resample_start: str | None = option(None, "where resampling chains start: different draws of the posterior "
                                        "the mask was scored on, pruned (dispersed, so R-hat can see "
                                        "disagreement), its pruned mean (the paper: every chain from one point), "
                                        "its chains' last states, or the draws, pruned and then optimised on the "
                                        "kept parameters (Adam, as --init optimised: fine-tuning after pruning; "
                                        "for regression the noise variance first set to fit the pruned network); "
                                        f"default: the sampler's ({_each('default_resample_start')}; chosen by "
                                        "benchmarks/pipeline.py)",
                                        choices=(None, *RESAMPLE_STARTS), group="pruning and resampling")
    resample_from: str = option("all-chains", "the chains of the full sample the resampling starts come from: "
                                "all of them, hidden units relabelled to match the scoring chain, so the compact "
                                "model keeps the full sample's modes, or only the chains the mask was scored on "
                                "(by default the best one); chosen by benchmarks/pipeline.py",
                                choices=RESAMPLE_FROM, group="pruning and resampling")

    def __post_init__(self) -> None:
        for name in ("features", "hidden", "criteria", "rates", "auto_rates", "layer_rates"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        if self.sampler == AUTO:  # chosen with the data's size (bayesprune.experiments.runner.resolve_sampler)
            if self.sampler_settings is not None:
                raise OptionError.about("sampler_settings", "need a named sampler, not sampler='auto' (the "
                                        "settings belong to one sampler)")
            return
        options.one_of(SAMPLERS)("sampler", self.sampler)
        cls = settings_class(self.sampler)
        if self.samples is None:
            object.__setattr__(self, "samples", cls.default_samples)
        if self.resample_samples is None:
            object.__setattr__(self, "resample_samples", cls.default_resample_samples)
        if self.init is None:
            object.__setattr__(self, "init", cls.default_init)
        if self.init_steps is None:
            object.__setattr__(self, "init_steps", cls.default_init_steps)
        if self.resample_start is None:
            object.__setattr__(self, "resample_start", cls.default_resample_start)
        object.__setattr__(self, "sampler_settings", as_settings(cls, self.sampler_settings))

    def validate(self) -> RunConfig:
        """Check every setting (the first problem raises :class:`OptionError`); returns ``self``."""
        # sampler="auto": the settings that depend on the sampler are checked as the full-batch default's
        options.check_all(dataclasses.replace(self, sampler=FULL_BATCH_DEFAULT) if self.sampler == AUTO else self)
        if self.csv and not self.target:
            raise OptionError.about("csv", "needs a target: the column to predict")
        if self.missing != RunConfig.missing and not self.csv:
            raise OptionError.about("missing", "applies to a --csv file; the named data sets have no missing "
                                    "cells")
        check_superchains(self.superchains, self.chains)
        if self.layer_rates is not None and (self.rates != RunConfig.rates or self.schedule != "oneshot"):
            raise OptionError.about("layer_rates", "replace --rate (one cell, labelled 'layers') and prune in one "
                                    "step: give either --layer-rates or --rate, and no --schedule gradual")
        check_prune_inputs(self.prune_inputs, self.structured)
        if self.split and (self.csv or not self.dataset.startswith("uci/")):
            raise OptionError.about("split", "chooses one of the fixed splits of a uci/<folder> data set; other "
                                    "data sets are split by --seed")
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (tuples as lists, the sampler settings as a dict); ``dataset`` is null when ``csv``
        names the data, so that no record names a data set the run did not use."""
        d = asdict(self)
        if self.csv:
            d["dataset"] = None
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RunConfig:
        """The inverse of :meth:`to_dict` (unknown keys are refused; a null ``dataset`` is the default's)."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise OptionError.about(unknown[0], "is not a setting of a run")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()
                      if not (k == "dataset" and v is None)})


_DECLARED = {f.name: opt for f, opt in options.declared(RunConfig)}


def check_prune_inputs(prune_inputs: bool, structured: bool) -> None:
    """``prune_inputs`` needs structured pruning."""
    if prune_inputs and not structured:
        raise OptionError.about("prune_inputs", "needs structured pruning (structured=True, --structured): "
                                "unstructured pruning drops a feature by itself when it removes all of its weights")


def check_superchains(superchains: int | None, chains: int) -> None:
    """``superchains`` (when given) must be >= 2 and divide ``chains``."""
    check("superchains", superchains)
    if superchains is not None and chains % superchains:
        raise OptionError.about("superchains", f"{superchains} must divide the {chains} chains (e.g. "
                                f"--chains {superchains * max(2, chains // superchains)})")


def check(name: str, value: Any, *, param: str | None = None) -> Any:
    """Run the declared check of run setting ``name`` on ``value`` (errors name ``param``, default ``name``)."""
    opt = _DECLARED[name]
    param = param or name
    if opt.choices is not None:
        options.one_of(opt.choices)(param, value)
    if opt.check is not None:
        opt.check(param, value)
    return value


def _like(name: str, default: Any, help: str | None = None, **kw):
    """A grid setting that is the run setting ``name`` with the grid's own default (and help)."""
    opt = _DECLARED[name]
    return option(default, help or opt.help, check=opt.check, **{"choices": opt.choices, **kw})


@dataclass(frozen=True)
class GridSpec:
    """The grid of ``bayesprune reproduce``: data sets x runs, each pruned at every criterion x rate.

    Defaults are the paper's protocol. Settings shared with a run carry the run setting's declared check.
    ``configs`` are :class:`~bayesprune.experiments.config.ExperimentConfig` objects, one per data set.
    """

    configs: tuple[Any, ...] = option((), "the data sets' configs", flag=None)
    criteria: tuple[str, ...] = _like("criteria", ("stn", "spn", "random"), ", ".join(CRITERIA))
    rates: tuple[float | str, ...] = _like("rates", (0.25, 0.5, 0.75), "shares of parameters removed; auto: each "
                                           "run chooses its own from --auto-rates by PSIS-LOO on its training "
                                           "rows (reported as a cell 'auto' beside the fixed rates)")
    auto_rates: tuple[float, ...] = _like("auto_rates", (0.5, 0.75, 0.9, 0.95))
    auto_se: float = _like("auto_se", AUTO_SE)
    auto_tolerance: float = _like("auto_tolerance", AUTO_TOLERANCE)
    rate_guard: float = _like("rate_guard", 0.0, "--rate-guard of every run (the paper's grid: 0, every rate "
                              "as given)")
    rate_guard_accuracy: float = _like("rate_guard_accuracy", RATE_GUARD_ACCURACY)
    runs: int = option(5, "independent runs per data set", check=options.integer(1))
    samples: int = _like("samples", 50000, "steps per run incl. burn-in")
    burnin: float = _like("burnin", 0.5)
    resample_samples: int = _like("resample_samples", 1000, "resampling steps per chain")
    resample_burnin: float = _like("resample_burnin", 0.5)
    sampler: str = _like("sampler", "lgmh", "the sampler of every run (the paper's lgmh by default; its settings "
                         "come from the configs' sampler tables)", choices=SAMPLERS)
    chains: int = _like("chains", 1, "chains per run (the paper: 1)")
    init: str = _like("init", "prior", "where each run's chains start (the paper: prior, a random network)")
    seed: int = _like("seed", 0, "data split seed; run k samples with seed + k")
    device: str = _like("device", "auto")
    data_dir: str | None = _like("data_dir", None)
    score_from: str = _like("score_from", "best-chain")
    structured: bool = _like("structured", False, "remove whole hidden units")
    schedule: str = _like("schedule", "oneshot")
    repair: bool = _like("repair", False, "repair masks (remove dead units' weights, respend the budget); the "
                         "paper does not")
    resample_start: str = _like("resample_start", "mean", "where resampling chains start (the paper: mean)",
                                choices=RESAMPLE_STARTS)
    resample_from: str = _like("resample_from", "scoring-chains")
    clip_inputs: bool = _like("clip_inputs", False, "clip test inputs far beyond the training rows' range (the "
                              "paper does not)")
    batch_runs: bool = option(False, "sample the runs of a data set as the chains of one compiled call (for a "
                              "GPU, where they cost about what one run does); each run keeps its folder and its "
                              "seed for pruning, resampling and evaluation; equal in distribution to separate "
                              "runs, not the same numbers")

    def __post_init__(self) -> None:
        for name in ("criteria", "rates", "auto_rates", "configs"):
            if isinstance(getattr(self, name), list):
                object.__setattr__(self, name, tuple(getattr(self, name)))
        options.check_all(self)

    def run_config(self, cfg: Any, k: int) -> RunConfig:
        """Configuration of run ``k`` (0-based) of data set ``cfg`` (an experiment config): every setting the
        grid shares with a run, the config's data and sampler settings, seed ``seed + k`` (the split keeps
        ``seed``)."""
        shared = {name: getattr(self, name) for name in _SHARED_WITH_RUN}
        return RunConfig(**cfg.run_fields(), **shared, seed=self.seed + k, split_seed=self.seed,
                         sampler_settings=cfg.sampler_settings(self.sampler)).validate()

    def plan(self) -> Iterator[tuple[Any, int, RunConfig]]:
        """``(config, k, run configuration)`` of every run, data set by data set."""
        for cfg in self.configs:
            for k in range(self.runs):
                yield cfg, k, self.run_config(cfg, k)


# the grid settings a run has too (same name, same check), passed on to every run's configuration as they are
_SHARED_WITH_RUN = tuple(f.name for f in dataclasses.fields(GridSpec)
                         if f.name in {g.name for g in dataclasses.fields(RunConfig)} and f.name != "seed")

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class ExecutorSpec:
    """Where the runs of a grid execute (:mod:`bayesprune.experiments.executors`). No setting here changes a
    number in the results: a run is a pure function of its :class:`RunConfig`, wherever it runs."""

    executor: str = option("local", "local: one run after another in this process; ray: every run a Ray task, "
                           "on a local Ray instance or the cluster at --ray-address (pip install "
                           "'bayesprune[ray]')", choices=EXECUTORS, group="execution")
    ray_address: str | None = option(None, "a running Ray cluster to submit the runs to ('auto', "
                                     "'ray://HEAD:10001'); default: start a local Ray instance on this machine",
                                     group="execution")
    ray_cpus: float = option(1.0, "CPUs each run declares to Ray (Ray runs as many at once as the CPUs allow)",
                             check=options.positive, group="execution")
    ray_gpus: float = option(0.0, "GPUs each run declares to Ray, a share such as 0.25 puts 4 runs on one GPU",
                             check=options.non_negative, group="execution")
    ray_retries: int = option(3, "times Ray reruns a run whose worker process died", check=options.integer(0),
                              group="execution")

    def __post_init__(self) -> None:
        options.check_all(self)
