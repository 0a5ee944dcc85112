"""Experiment configs: the seven built-in set-ups, user configs, and one-line errors for bad files."""

from __future__ import annotations

import pytest

from bayesprune.errors import InputError, OptionError
from bayesprune.experiments.config import PAPER_ORDER, builtin_configs, load_config, select_configs
from bayesprune.samplers import HMCSettings, LGMHSettings
from bayesprune.settings import GridSpec


def test_builtin_configs_are_the_papers_set_ups():
    cfgs = builtin_configs()
    assert tuple(cfgs) == PAPER_ORDER
    hidden = {name: c.settings["hidden"] for name, c in cfgs.items()}
    assert hidden == {"lazer": (5,), "sunspot": (5,), "abalone": (12,), "iris": (12,), "ionosphere": (50,),
                      "abalone_classification": (12,), "reef_325": (8,)}
    for c in cfgs.values():
        assert c.samplers["lgmh"] == {"lr": 0.01, "step_w": 0.025, "step_eta": 0.2, "l_prob": 0.5}
        assert c.sampler_settings("lgmh") == LGMHSettings()
        assert c.settings["prior_var"] == 25.0 and c.settings["activation"] == "sigmoid"


def test_grid_runs_share_the_split_and_differ_in_seed():
    spec = GridSpec(configs=(builtin_configs()["iris"],), runs=3, seed=7)
    plans = list(spec.plan())
    assert [p[2].seed for p in plans] == [7, 8, 9]
    assert {p[2].split_seed for p in plans} == {7}
    assert plans[0][2].samples == 50000 and plans[0][2].resample_samples == 1000 and plans[0][2].chains == 1


def test_user_config_with_csv(tmp_path):
    (tmp_path / "core.csv").write_text("Bulk,Porosity,Species\n1,2,a\n")
    f = tmp_path / "core.toml"
    f.write_text('name = "core_2"\ncsv = "core.csv"\ntarget = "Species"\nfeatures = ["Bulk", "Porosity"]\n'
                 'hidden = [8]\n[lgmh]\nlr = 0.001\n[hmc]\nnum_integration_steps = 32\nadapt = false\n')
    c = load_config(f)
    assert c.settings["csv"] == str(tmp_path / "core.csv") and c.settings["features"] == ("Bulk", "Porosity")
    assert c.settings["hidden"] == (8,)
    assert c.sampler_settings("lgmh") == LGMHSettings(lr=0.001)
    assert c.sampler_settings("hmc") == HMCSettings(num_integration_steps=32, adapt=False)
    run = GridSpec(configs=(c,), sampler="hmc").run_config(c, 0)
    assert run.sampler_settings == HMCSettings(num_integration_steps=32, adapt=False) and run.hidden == (8,)
    chosen = select_configs(None, [str(f)])
    assert [x.name for x in chosen] == ["core_2"]
    assert [x.name for x in select_configs(["iris", "core_2"], [str(f)])] == ["iris", "core_2"]


@pytest.mark.parametrize(("text", "expected"), [
    ('name = "x"\ndataset = "iris"\nhiden = [3]\n', "unknown key 'hiden'"),
    ('name = "x"\n', "exactly one of 'dataset'"),
    ('dataset = "iris"\ncsv = "a.csv"\n', "exactly one of 'dataset'"),
    ('csv = "a.csv"\n', "needs 'target'"),
    ('dataset = "iris"\nhidden = [0]\n', "widths >= 1"),
    ('dataset = "iris"\nhidden = 12\n', "'hidden' must be a list"),
    ('dataset = "iris"\nprior_var = -1\n', "'prior_var' must be a finite number > 0"),
    ('dataset = "iris"\n[hmc]\nnum_integration_steps = 0\n', "'hmc.num_integration_steps' must be >= 1"),
    ('dataset = "iris"\n[hmc]\nlr = 0.1\n', "unknown key 'hmc.lr'"),
    ('dataset = "iris"\n[nuts]\ntarget_accept = 1.5\n', "'nuts.target_accept' must be in (0, 1)"),
    ('dataset = "iris"\nactivation = "swish"\n', "'activation'"),
    ('dataset = "iris"\n[lgmh]\nstep = 0.1\n', "unknown key 'lgmh.step'"),
    ('dataset = "iris"\n[lgmh]\nlr = "fast"\n', "'lgmh.lr' must be a number"),
    ('dataset = "iris"\ntask = "ranking"\n', "'task'"),
    ('name = "a b"\ndataset = "iris"\n', "may only use letters"),
    ('dataset = "iris\n', "not valid TOML"),
])
def test_bad_config_names_file_and_key(tmp_path, text, expected):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(InputError) as err:
        load_config(f)
    msg = str(err.value)
    assert expected in msg and str(f) in msg and "\n" not in msg.strip()


def test_missing_or_binary_config(tmp_path):
    with pytest.raises(InputError, match="config file not found"):
        load_config(tmp_path / "nope.toml")
    f = tmp_path / "bin.toml"
    f.write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(InputError, match="UTF-8"):
        load_config(f)


def test_unknown_dataset_name():
    with pytest.raises(OptionError, match="datasets 'irsi' is unknown"):
        select_configs(["irsi"])


def test_a_grid_folder_written_before_a_setting_existed_resumes(tmp_path):
    """A run folder saved before a setting was added (no key) had that setting's default: it resumes."""
    import json

    from bayesprune.experiments.grid import _check_same_config
    from bayesprune.settings import RunConfig

    cfg = RunConfig(dataset="iris", sampler="lgmh")
    old = {k: v for k, v in cfg.to_dict().items() if k not in ("prune_inputs", "layer_rates")}
    (tmp_path / "config.json").write_text(json.dumps({"run_config": old}))
    _check_same_config(tmp_path, cfg)
    with pytest.raises(OptionError, match="prune_inputs"):
        _check_same_config(tmp_path, RunConfig(dataset="iris", sampler="lgmh", structured=True, prune_inputs=True))


def test_a_csv_run_records_no_named_dataset_and_reads_back():
    """With --csv the record's dataset is null (not the default 'iris', which the run never loaded); round trip."""
    from bayesprune.settings import RunConfig

    cfg = RunConfig(csv="core.csv", target="y", sampler="lgmh")
    d = cfg.to_dict()
    assert d["dataset"] is None and d["csv"] == "core.csv"
    assert RunConfig.from_dict(d) == cfg
    named = RunConfig(dataset="wine", sampler="lgmh")
    assert named.to_dict()["dataset"] == "wine" and RunConfig.from_dict(named.to_dict()) == named
