"""The settings groups the stages take: derived from the run settings' declarations, validated once when built,
interchangeable with keyword arguments."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bayesprune import api
from bayesprune.errors import OptionError
from bayesprune.options import declared
from bayesprune.settings import RunConfig
from bayesprune.stage_settings import CompressionSpec, PruningSpec, ResamplingSpec, SamplingSpec

RUN = {f.name: (f, opt) for f, opt in declared(RunConfig)}


@pytest.mark.parametrize("group", [SamplingSpec, PruningSpec, CompressionSpec, ResamplingSpec])
def test_a_group_field_is_its_run_setting(group):
    """Same default, help, check and choices as the run setting it is declared from: one owner per setting."""
    for f, opt in declared(group):
        name = f.metadata.get("run_setting")
        if name is None:
            continue
        run_field, run_opt = RUN[name]
        assert f.default == run_field.default, f.name
        assert (opt.help, opt.check, opt.choices) == (run_opt.help, run_opt.check, run_opt.choices), f.name


def test_groups_of_a_run_carry_its_settings():
    cfg = RunConfig(structured=True, prune_inputs=True, schedule="gradual", resample_samples=300,
                    resample_start="mean", auto_se=2.0)
    assert PruningSpec.from_run(cfg, criterion="spn") == PruningSpec(criterion="spn", structured=True,
                                                                     prune_inputs=True)
    assert CompressionSpec.from_run(cfg) == CompressionSpec(schedule="gradual", auto_se=2.0)
    res = ResamplingSpec.from_run(cfg)
    assert (res.samples, res.start, res.sampler, res.chains) == (300, "mean", None, None)
    assert res.sampler_settings == cfg.sampler_settings
    sampling = SamplingSpec.from_run(cfg)
    assert (sampling.sampler, sampling.samples, sampling.init) == (cfg.sampler, cfg.samples, cfg.init)


def test_a_group_is_checked_when_built_with_the_parameter_named():
    with pytest.raises(OptionError, match="samples must be >= 2"):
        ResamplingSpec(samples=1)
    with pytest.raises(OptionError, match="criterion 'x' is unknown"):
        PruningSpec(criterion="x")
    with pytest.raises(OptionError, match="prune_inputs needs structured pruning"):
        PruningSpec(prune_inputs=True)
    with pytest.raises(OptionError, match="superchains 3 must divide the 4 chains"):
        SamplingSpec(superchains=3)
    with pytest.raises(OptionError, match="auto_tolerance"):
        CompressionSpec(auto_tolerance=2.0)
    assert CompressionSpec(auto_rates=[0.5, 0.9]).auto_rates == (0.5, 0.9)  # lists become tuples


def test_keyword_arguments_or_the_group_not_both(fake_sample):
    ps = fake_sample()
    by_group = api.prune(ps, PruningSpec(criterion="spn", repair=False), rate=0.5)
    by_keywords = api.prune(ps, criterion="spn", repair=False, rate=0.5)
    np.testing.assert_array_equal(by_group.keep_mask, by_keywords.keep_mask)
    with pytest.raises(OptionError, match="repair is set by pruning= already"):
        api.prune(ps, PruningSpec(), repair=False, rate=0.5)
    with pytest.raises(OptionError, match="pruning must be a PruningSpec"):
        api.prune(ps, CompressionSpec(), rate=0.5)
    with pytest.raises(OptionError, match="struct is not a pruning setting"):
        api.prune(ps, struct=True, rate=0.5)
    assert dataclasses.is_dataclass(by_group) and by_group.criterion == "spn"
