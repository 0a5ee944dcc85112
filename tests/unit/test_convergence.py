"""The vectorised R-hat, bulk ESS and ESS of the mean agree with ArviZ's, quantity by quantity."""

import warnings

import numpy as np
import pytest

from bayesprune._arviz import az
from bayesprune.evaluation import convergence


def _ar1(rng, chains, draws, m, phi):
    x = np.zeros((chains, draws, m))
    eps = rng.normal(size=(chains, draws, m))
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + eps[:, t]
    return x + 0.3 * rng.normal(size=(chains, 1, m))  # chains offset a little: R-hat > 1


def _arviz(values):
    ds = az.convert_to_dataset({"v": values})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return az.rhat(ds)["v"].values, az.ess(ds, method="bulk")["v"].values, az.ess(ds, method="mean")["v"].values


@pytest.mark.parametrize(("chains", "draws", "phi"), [(4, 1000, 0.9), (1, 500, 0.5), (2, 7, 0.0), (4, 101, 0.99),
                                                      (5, 5, 0.2), (3, 400, -0.5)])
def test_matches_arviz(chains, draws, phi):
    rng = np.random.default_rng(chains * 1000 + draws)
    x = _ar1(rng, chains, draws, 12, phi)
    x[..., 0] = 1.5  # a constant quantity
    x[0, 1, 1] = np.nan  # a quantity with a NaN
    want_rhat, want_ess, want_ess_mean = _arviz(x)
    got_rhat, got_ess, got_ess_mean = convergence.rhat(x), convergence.ess_bulk(x), convergence.ess_mean(x)
    for got, want in ((got_rhat, want_rhat), (got_ess, want_ess), (got_ess_mean, want_ess_mean)):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got, want, rtol=1e-10, equal_nan=True)


def test_too_few_draws_is_nan():
    x = np.random.default_rng(0).normal(size=(4, 3, 2))
    assert np.isnan(convergence.rhat(x)).all() and np.isnan(convergence.ess_bulk(x)).all()


def test_independent_draws_have_ess_near_their_number():
    x = np.random.default_rng(1).normal(size=(4, 1000, 50))
    ess = convergence.ess_bulk(x)
    assert 0.8 * 4000 < np.median(ess) < 1.2 * 4000
    assert np.max(convergence.rhat(x)) < 1.01


def test_nested_rhat_matches_its_formula():
    """Margossian et al. (2022), eq. for K superchains of M chains of N draws, computed by hand on one quantity."""
    rng = np.random.default_rng(3)
    k, m, n = 3, 4, 5
    v = rng.normal(size=(k * m, n)) + np.repeat(np.arange(k), m)[:, None] * 0.3
    g = v.reshape(k, m, n)
    chain_means = g.mean(axis=2)
    between = np.var(chain_means.mean(axis=1), ddof=1)
    within = np.mean(np.var(chain_means, axis=1, ddof=1) + np.var(g, axis=2, ddof=1).mean(axis=1))
    expected = np.sqrt(1 + between / within)
    assert convergence.nested_rhat(v[..., None], superchains=k)[0] == pytest.approx(expected, rel=1e-12)


def test_nested_rhat_of_many_short_chains():
    """1,024 chains of 2 draws in 16 groups: near 1 when every chain draws from one distribution, large when the
    groups sit in different modes, while split R-hat (4 draws needed) is undefined for such chains. Fixed seed:
    the first bound holds with probability > 0.999 (B / W ~ F-distributed around 1 / (M N) = 0.008)."""
    rng = np.random.default_rng(0)
    same = rng.normal(size=(1024, 2, 3))
    assert np.all(convergence.nested_rhat(same, superchains=16) < 1.01)
    assert np.all(np.isnan(convergence.rhat(same)))
    apart = same + np.repeat(rng.choice([-3.0, 3.0], size=16), 64)[:, None, None]
    assert np.all(convergence.nested_rhat(apart, superchains=16) > 1.5)
    with pytest.raises(ValueError, match="must be >= 2 and divide the 1024 chains"):
        convergence.nested_rhat(same, superchains=5)
