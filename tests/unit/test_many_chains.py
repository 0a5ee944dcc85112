"""Many chains: how many draws each keeps (host memory bounded), chains started in groups (superchains) and their
nested R-hat through the API, and the check that groups divide the chains."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bayesprune import api
from bayesprune.data import load_dataset
from bayesprune.errors import OptionError
from bayesprune.settings import RunConfig
from bayesprune.stages.sample import sampling_lengths


@pytest.fixture(scope="module")
def iris():
    return load_dataset("iris")


def test_kept_draws_per_chain_bound_the_total():
    assert [api.kept_per_chain(c) for c in (1, 4, 8, 256, 4096)] == [1000, 1000, 500, 15, 4]
    for chains in (1, 3, 4, 5, 100, 1000, 4096):
        kept = api.kept_per_chain(chains)
        assert api.MIN_KEPT_DRAWS <= kept <= api.DEFAULT_KEPT_DRAWS
        assert chains * kept <= max(api.KEPT_DRAWS_TOTAL, chains * api.MIN_KEPT_DRAWS)
    assert np.ceil(10_000 / api.auto_thin(10_000, api.kept_per_chain(4096))) <= api.MIN_KEPT_DRAWS


def test_kept_draws_of_a_large_network_bound_the_values():
    """Small networks keep their 1,000 draws per chain; LeNet-300-100 (266,610 parameters) keeps at most
    KEPT_VALUES_TOTAL values over its 4 chains; a huge one still keeps MIN_KEPT_DRAWS each."""
    assert api.kept_per_chain(4, 1_853) == api.kept_per_chain(4) == 1000
    kept = api.kept_per_chain(4, 266_611)
    assert kept == 251 and 4 * kept * 266_611 <= api.KEPT_VALUES_TOTAL
    assert api.kept_per_chain(4, 10**9) == api.MIN_KEPT_DRAWS
    num_warmup, num_draws, thin = sampling_lengths(4000, 0.5, None, chains=4, dim=266_611)
    assert -(-num_draws // thin) <= kept


def test_superchains_start_together_and_get_nested_rhat(iris):
    ps = api.sample(iris, sampler="lgmh", chains=4, superchains=2, samples=40, burnin=0.0, thin=1, seed=0)
    first = ps.result.draws[:, 0, :]  # one LG-MH step from the start: the groups' chains are still close
    within = np.abs(first[:2] - first[0]).max()
    between = np.abs(first[2] - first[0]).max()
    assert within < between
    m = api.evaluate(ps, iris)
    assert m.nrhat_fn_max is not None and np.isfinite(m.nrhat_fn_max)
    assert api.evaluate(ps.select_chains([0, 1, 2]), iris).nrhat_fn_max is None  # no longer in groups
    assert api.evaluate(dataclasses.replace(ps, info={}), iris).nrhat_fn_max is None  # chains not in groups


def test_superchains_must_divide_the_chains(iris):
    with pytest.raises(OptionError, match="superchains 4 must divide the 6 chains"):
        api.sample(iris, chains=6, superchains=4)
    with pytest.raises(OptionError, match="superchains must be >= 2"):
        RunConfig(chains=4, superchains=1).validate()
