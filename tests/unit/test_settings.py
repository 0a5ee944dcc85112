"""One settings model: every setting reaches the CLI, config files and the Python API, with one default and one
check each. These tests fail when an entry point drifts from the declarations."""

from __future__ import annotations

import dataclasses
import inspect
import typing

import numpy as np
import pytest

from bayesprune import BayesianMLPClassifier, BayesianMLPRegressor, api
from bayesprune.cli import build_parser, command_parser, flags, run_config
from bayesprune.data.datasets import DEFAULT_HIDDEN
from bayesprune.errors import OptionError
from bayesprune.experiments.config import TOP_KEYS, parse_config
from bayesprune.options import base_type, declared, flag_of
from bayesprune.samplers.registry import SETTINGS, settings_for
from bayesprune.settings import GridSpec, RunConfig
from bayesprune.stage_settings import CompressionSpec, PruningSpec, ResamplingSpec, SamplingSpec

CLI_ONLY = {"out", "no_figures", "quiet", "help"}
SAMPLER_FIELDS = {f.name: (cls, f) for cls in SETTINGS.values() for f, _ in declared(cls)}


def _other_value(cls, f):
    """A valid value of a sampler setting that differs from its default."""
    hint = base_type(typing.get_type_hints(cls)[f.name])
    choices = f.metadata["option"].choices
    if choices:
        return next(c for c in choices if c != f.default)
    if hint is bool:
        return not f.default
    if hint is int:
        return f.default + 1
    return round(f.default * 0.5, 6) if f.default else 0.1


def _parse(argv):
    return build_parser().parse_args(["run", *argv])


def test_every_run_option_is_a_declared_setting_and_back():
    run = command_parser("run")
    dests = {a.dest for a in run._actions} - CLI_ONLY
    declared_run = {f.name for f, opt in declared(RunConfig) if opt.flag is not None}
    assert dests == declared_run | set(SAMPLER_FIELDS)


def test_no_options_give_the_declared_defaults():
    assert run_config(_parse([])) == RunConfig()
    # the default sampler is chosen by the data's size, so its settings are filled in once it is chosen
    assert RunConfig().sampler == "auto" and RunConfig().sampler_settings is None
    assert RunConfig(sampler="mclmc").sampler_settings == settings_for("mclmc")


@pytest.mark.parametrize("sampler", sorted(SETTINGS))
def test_length_and_start_default_to_the_samplers_own(sampler):
    cls = SETTINGS[sampler]
    cfg = run_config(_parse(["--sampler", sampler]))
    assert (cfg.samples, cfg.resample_samples, cfg.init, cfg.init_steps, cfg.resample_start) == (
        cls.default_samples, cls.default_resample_samples, cls.default_init, cls.default_init_steps,
        cls.default_resample_start)
    other = "prior" if cls.default_init == "optimised" else "optimised"
    assert run_config(_parse(["--sampler", sampler, "--init", other])).init == other


@pytest.mark.parametrize("name", sorted(SAMPLER_FIELDS))
def test_every_sampler_setting_reaches_run_config_files_and_the_api(name, tmp_path):
    cls, f = SAMPLER_FIELDS[name]
    value = _other_value(cls, f)
    flag = flag_of(name)
    # the command line
    if isinstance(value, bool):
        argv = [flag if value else "--no-" + flag[2:]]
    else:
        argv = [flag, str(value)]
    cfg = run_config(_parse(["--sampler", cls.sampler, *argv]))
    assert getattr(cfg.sampler_settings, name) == value
    # an experiment config file
    table = "true" if value is True else "false" if value is False else value
    toml = parse_config({"dataset": "iris", cls.sampler: {name: value}}, "x.toml")
    assert getattr(toml.sampler_settings(cls.sampler), name) == value, table
    # the Python API and the estimators take the same names
    assert getattr(settings_for(cls.sampler, {name: value}), name) == value
    est = BayesianMLPRegressor(sampler=cls.sampler, sampler_settings={name: value})
    assert est.get_params()["sampler_settings"] == {name: value}


def test_a_setting_of_another_sampler_is_refused_with_its_flag(capsys):
    from bayesprune.cli import main

    assert main(["run", "--sampler", "hmc", "--lr", "0.1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--lr is not a setting of sampler 'hmc' (it is a setting of lgmh)" in err
    with pytest.raises(OptionError, match="lr is not a setting of sampler 'hmc'"):
        settings_for("hmc", {"lr": 0.1})


def test_config_file_keys_are_derived_from_the_declarations():
    toml_run = {f.name for f, opt in declared(RunConfig) if opt.toml}
    assert set(TOP_KEYS) == {"name"} | toml_run | set(SETTINGS)


def test_api_and_estimator_defaults_are_the_declared_ones():
    """The API's defaults are the run settings' declared ones: in the settings groups the stages take (their
    fields are the run settings, stage_settings._of_run) and in the stage functions' own parameters."""
    defaults = {f.name: f.default for f in dataclasses.fields(RunConfig)}
    for group in (SamplingSpec, PruningSpec, CompressionSpec, ResamplingSpec):
        for f in dataclasses.fields(group):
            if "run_setting" in f.metadata:
                assert f.default == defaults[f.metadata["run_setting"]], (group.__name__, f.name)
    assert SamplingSpec().sampler == defaults["sampler"] and SamplingSpec().chains == defaults["chains"]
    assert SamplingSpec().burnin == defaults["burnin"]
    assert (PruningSpec().structured, PruningSpec().per_layer, PruningSpec().score_from) == (
        defaults["structured"], defaults["per_layer"], defaults["score_from"])
    assert ResamplingSpec().burnin == defaults["resample_burnin"]
    assert ResamplingSpec().start == defaults["resample_start"]
    assert PruningSpec().criterion == defaults["criteria"][0]
    for fn in (api.sample, api.resample, api.prune, api.compress):
        assert inspect.signature(fn).parameters["seed"].default == defaults["seed"], fn.__name__
    assert inspect.signature(api.prune).parameters["rate"].default == defaults["rates"][0]
    for est in (BayesianMLPRegressor(), BayesianMLPClassifier()):
        params = est.get_params()
        for name in set(params) & set(defaults) - {"hidden"}:
            assert params[name] == defaults[name], name
        assert params["hidden"] == DEFAULT_HIDDEN  # an estimator's data is a user's table, as a CSV run's
        assert params["sampler_settings"] is None


def test_grid_settings_share_the_run_checks():
    shared = {f.name for f, _ in declared(GridSpec)} & {f.name for f, _ in declared(RunConfig)}
    run_opts = {f.name: opt for f, opt in declared(RunConfig)}
    for f, opt in declared(GridSpec):
        if f.name == "sampler":  # a grid names its sampler: 'auto' is chosen per run from the data's size
            assert opt.choices == tuple(c for c in run_opts[f.name].choices if c != "auto")
        elif f.name == "resample_start":  # a grid's default is the paper's, not the sampler's
            assert opt.choices == tuple(c for c in run_opts[f.name].choices if c is not None)
        elif f.name in shared:
            assert opt.check is run_opts[f.name].check and opt.choices == run_opts[f.name].choices, f.name
    with pytest.raises(OptionError, match="runs must be >= 1"):
        GridSpec(runs=0)
    with pytest.raises(OptionError, match="rates"):
        GridSpec(rates=("best",))
    GridSpec(rates=(0.5, 0.9, "auto"))


@pytest.mark.parametrize(("call", "message"), [
    (lambda ds: api.sample(ds, samples=1), "samples must be >= 2, got 1"),
    (lambda ds: api.sample(ds, chains=0), "chains must be >= 1, got 0"),
    (lambda ds: api.sample(ds, burnin=1.0), "burnin 1.0 must be in [0, 1)"),
    (lambda ds: api.sample(ds, sampler="gibbs"), "sampler 'gibbs' is unknown"),
    (lambda ds: api.sample(ds, thin=0), "thin must be >= 1, got 0"),
    (lambda ds: api.sample(ds, samples=10, thin=8), "thin 8 must be between 1 and the post-burn-in draws (5)"),
    (lambda ds: api.sample(ds, sampler="hmc", sampler_settings={"num_integration_steps": 0}),
     "num_integration_steps must be"),
    (lambda ds: api.build_posterior(ds, prior_var=-1.0), "prior_var must be a finite number > 0, got -1.0"),
    (lambda ds: api.build_posterior(ds, hidden=(0,)), "hidden must list widths >= 1"),
])
def test_api_errors_are_value_errors_named_after_the_parameter(call, message):
    from bayesprune.data import load_dataset

    with pytest.raises(ValueError) as err:
        call(load_dataset("sklearn:iris", seed=0))
    assert isinstance(err.value, OptionError) and message in str(err.value)
    assert "--" not in str(err.value)


def test_resample_checks_its_lengths_like_sample(fake_sample):
    ps = fake_sample(chains=2)
    pr = api.prune(ps, criterion="stn", rate=0.5)
    ds = type("D", (), {"X_train": np.zeros((5, 4), np.float32), "y_train": np.zeros(5, np.int32)})()
    for kwargs, message in (({"samples": 100, "thin": 60}, "thin 60 must be between 1 and the post-burn-in"),
                            ({"samples": 1}, "samples must be >= 2"), ({"burnin": -0.1}, "burnin -0.1 must be"),
                            ({"start": "middle"}, "start 'middle' is unknown")):
        with pytest.raises(OptionError, match=message.replace("(", r"\(")):
            api.resample(ps, ds, pr, **kwargs)


def test_cli_shows_flags_for_python_names():
    f = flags("run")
    assert f["samples"] == "--samples" and f["criteria"] == "--criterion" and f["rate"] == "--rate"
    assert f["num_integration_steps"] == "--num-integration-steps"
    g = flags("reproduce")
    assert g["criteria"] == "--criteria" and g["runs"] == "--runs" and g["datasets"] == "--datasets"
