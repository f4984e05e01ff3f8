"""Stochastic drivers against their analytical distributions."""

import math

import numpy as np
import pytest
from scipy import stats

from hashnation.errors import InputError
from hashnation.mining.drivers import (
    DriverParams,
    draw_shocks,
    fit_fees_ar1,
    fit_price_gbm,
    hashrate_deviation,
    historical_log_returns,
)

DAYS = 400


def _draw(params: DriverParams, n: int = 2000, seed: int = 11):
    return draw_shocks(params.resolved(), range(n), seed, DAYS, 2, 40, 2016.0, 0.03)


def test_gbm_log_price_is_normal_with_the_analytical_moments() -> None:
    sigma = 0.6
    shocks = _draw(DriverParams(price_model="gbm", price_volatility_pu=sigma))
    t = DAYS / 365.25
    x = shocks.price_log[:, -1]
    # log(P_T / P_det_T) ~ N(-sigma^2 t / 2, sigma^2 t)
    mean, sd = -(sigma**2) * t / 2, sigma * math.sqrt(t)
    n = x.size
    assert abs(x.mean() - mean) < 4 * sd / math.sqrt(n)
    # chi-square interval for the variance at 99.99 %
    lo, hi = stats.chi2.ppf([5e-5, 1 - 5e-5], n - 1) / (n - 1)
    assert lo * sd**2 < x.var(ddof=1) < hi * sd**2
    assert stats.kstest((x - mean) / sd, "norm").pvalue > 1e-4
    # E[P_T] = P_det_T: mean of exp(x) inside its CI
    ex = np.exp(x)
    assert abs(ex.mean() - 1.0) < 4 * ex.std(ddof=1) / math.sqrt(n)


def test_bootstrap_keeps_the_requested_volatility_and_mean_one() -> None:
    sigma = 0.5
    shocks = _draw(DriverParams(price_model="bootstrap", price_volatility_pu=sigma))
    steps = np.diff(shocks.price_log, axis=1)
    assert steps.std() * math.sqrt(365.25) == pytest.approx(sigma, rel=0.05)
    ex = np.exp(shocks.price_log[:, 30])
    assert abs(ex.mean() - 1.0) < 4 * ex.std(ddof=1) / math.sqrt(ex.size)
    # Fat tails: historical returns have excess kurtosis, and so do the bootstrapped ones.
    assert stats.kurtosis(historical_log_returns("2021-01-01")) > 1.0
    assert stats.kurtosis(steps.ravel()) > 1.0


def test_fees_multiplier_has_mean_one() -> None:
    shocks = _draw(DriverParams(fees_volatility_pu=0.3, fees_autocorrelation=0.9))
    m = np.exp(shocks.fees_log[:, -1])
    assert abs(m.mean() - 1.0) < 4 * m.std(ddof=1) / math.sqrt(m.size)


def test_block_luck_is_gamma() -> None:
    shocks = _draw(DriverParams(block_time_variability=True))
    work = shocks.epoch_work_blocks
    assert work is not None
    w = work[:, 1:].ravel()
    # Gamma(2016, 1): mean 2016, sd sqrt(2016) = 44.9
    assert abs(w.mean() - 2016) < 4 * math.sqrt(2016) / math.sqrt(w.size)
    assert w.std() == pytest.approx(math.sqrt(2016), rel=0.03)


def test_draws_do_not_depend_on_the_block_of_paths() -> None:
    p = DriverParams().resolved()
    whole = draw_shocks(p, range(10), 5, 50, 1, 8, 100.0, 0.03)
    part = draw_shocks(p, range(6, 10), 5, 50, 1, 8, 100.0, 0.03)
    np.testing.assert_array_equal(whole.price_log[6:], part.price_log)
    np.testing.assert_array_equal(whole.surplus_log[6:], part.surplus_log)


def test_hashrate_follows_revenue_after_the_lag() -> None:
    days = 800
    revenue = np.zeros((1, days))
    revenue[0, 100:] = math.log(2.0)  # revenue per hash doubles on day 100
    x = hashrate_deviation(revenue, np.zeros((1, days)), elasticity=2.0, lag_days=90)
    assert x[0, 190] == 0.0  # nothing before the lag has passed
    assert x[0, 200] > 0.0
    # Miners keep joining until hashrate has doubled as well (revenue per hash back to normal).
    assert x[0, -1] == pytest.approx(math.log(2.0), rel=0.02)


def test_fits_to_bundled_history() -> None:
    drift, vol = fit_price_gbm("2021-01-01")
    assert -1.0 < drift < 10.0
    assert 0.3 < vol < 1.0
    phi, sigma = fit_fees_ar1()
    assert 0.5 < phi < 1.0 and 0.05 < sigma < 1.0


def test_bad_parameters() -> None:
    with pytest.raises(InputError, match=r"drivers\.price_volatility_pu: got -0\.1"):
        DriverParams(price_volatility_pu=-0.1)
    with pytest.raises(InputError, match="price_model"):
        DriverParams(price_model="garch")  # type: ignore[arg-type]


def test_bootstrap_price_stays_mean_one_over_years() -> None:
    """Circular blocks + block-sum correction: E[P_t / P_det_t] = 1 at long horizons too.

    (Drawing block starts only where a whole block fits under-samples both ends
    of the history and biased the mean by about 3 %/yr; this catches it.)
    """
    p = DriverParams(price_model="bootstrap", price_volatility_pu=0.5).resolved()
    days = 730
    shocks = draw_shocks(p, range(8000), 3, days, 2, 8, 2016.0, 0.03)
    m = np.exp(shocks.price_log[:, days - 1])
    assert abs(m.mean() - 1.0) < 4 * m.std(ddof=1) / math.sqrt(m.size)


def test_hashrate_noise_keeps_mean_one() -> None:
    p = DriverParams(hashrate_volatility_pu=0.4, hashrate_elasticity=0.0).resolved()
    days = 730
    shocks = draw_shocks(p, range(4000), 5, days, 2, 8, 2016.0, 0.03)
    x = hashrate_deviation(np.zeros((4000, days)), shocks.hashrate_noise, 0.0, 90)
    m = np.exp(x[:, -1])
    assert abs(m.mean() - 1.0) < 4 * m.std(ddof=1) / math.sqrt(m.size)
