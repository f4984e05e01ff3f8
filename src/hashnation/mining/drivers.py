"""Stochastic drivers of the mining Monte Carlo, each fitted to bundled history.

Every driver is a *deviation* from the deterministic scenario path, built so
that price, fees and hashrate have that path as their expectation; with all
randomness off (:meth:`DriverParams.deterministic`) the Monte Carlo
reproduces :class:`~hashnation.mining.program.MiningProgram` exactly.

Price
    Two models. ``bootstrap`` (default) resamples circular blocks of de-meaned
    daily log-returns from the bundled CoinGecko history (since 2021 by default,
    ``price_fit_since``; the file covers 2013-2026): it keeps the fat
    tails and the volatility clustering of bitcoin that a normal model misses,
    and is rescaled to the requested annual volatility. ``gbm`` (geometric
    Brownian motion) is there for analytical checks. In both, a convexity
    correction makes ``E[price] = deterministic price``, so the scenario's drift
    is the expected growth; the historical drift is *not* used as a forecast.
Network hashrate
    Log-deviation ``x`` from the scenario path, daily:
    ``x[d+1] = x[d] + (elasticity / 365.25) * (h[d - lag] - x[d - lag]) + noise``
    where ``h`` is the log-deviation of revenue per hash (price and fees)
    from the scenario path: when hashprice surprises upward, miners join after
    ``lag`` days (ASIC delivery and build-out); when it falls, they leave.
Fees per block
    Log-AR(1) multiplier, mean one, parameters fitted to the bundled daily fees.
Halving dates and retargets
    Blocks follow a Poisson process: the work needed for each retarget period
    is a Gamma(blocks, 1) number of blocks of expected work, so luck moves every
    retarget and each halving.
ASICs
    Per path, a yearly failure rate (uniform in ``[0, 2 * failure_rate]``) and a
    degradation rate (uniform within ``± degradation_spread`` of the fleet's).
    Failures are a risk the deterministic model leaves out (it has none), so
    they lower the Monte Carlo's mean output below the deterministic run.
Grid surplus
    Per path and year, a lognormal multiplier (mean one) on the surplus, for
    wet or dry years and demand surprises.

All randomness comes from one :class:`numpy.random.Generator` per path,
seeded from ``SeedSequence(seed).spawn``-style keys ``(seed, path)``, so a
path's numbers do not depend on chunking, scheduler or backend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.signal import lfilter

from hashnation.data.loaders import load_fees_daily, load_price_daily
from hashnation.errors import InputError

FloatArray = NDArray[np.float64]
DAYS_PER_YEAR = 365.25


@lru_cache(maxsize=4)
def historical_log_returns(since: str = "2013-04-28") -> FloatArray:
    """Daily log-returns of the bundled BTC price since ``since`` [-]."""
    prices = load_price_daily()
    prices = prices[prices.index >= since].dropna()
    values = np.log(prices.to_numpy(dtype=np.float64))
    day_numbers = (
        pd.DatetimeIndex(prices.index).tz_localize(None).to_numpy().astype("datetime64[D]")
    ).astype(np.int64)
    returns = np.asarray(np.diff(values)[np.diff(day_numbers) == 1], dtype=np.float64)
    returns.setflags(write=False)
    return returns


def fit_price_gbm(since: str = "2021-01-01") -> tuple[float, float]:
    """Fit GBM drift and volatility to the bundled daily prices.

    Returns
    -------
    drift_pu_per_year, volatility_pu
        ``exp(mean log-return * 365.25 + vol^2 / 2) - 1`` [pu/yr] and the
        annualised standard deviation of daily log-returns [pu/sqrt(yr)].
    """
    r = historical_log_returns(since)
    mu = float(r.mean()) * DAYS_PER_YEAR
    vol = float(r.std(ddof=1)) * math.sqrt(DAYS_PER_YEAR)
    return math.expm1(mu + vol**2 / 2.0), vol


def fit_fees_ar1() -> tuple[float, float]:
    """Fit a log-AR(1) to the bundled daily fees.

    Returns
    -------
    phi, sigma
        Day-to-day autocorrelation of log fees [-] and innovation standard
        deviation [-].
    """
    fees = load_fees_daily().dropna()
    z = np.log(fees.to_numpy(dtype=np.float64))
    z = z - z.mean()
    phi = float(np.dot(z[1:], z[:-1]) / np.dot(z[:-1], z[:-1]))
    resid = z[1:] - phi * z[:-1]
    return phi, float(resid.std(ddof=1))


@dataclass(frozen=True)
class DriverParams:
    """Parameters of the stochastic drivers (units in the names).

    Parameters
    ----------
    price_model
        ``"bootstrap"`` (block bootstrap of history) or ``"gbm"``.
    price_volatility_pu
        Annualised volatility of log price [pu/sqrt(yr)]; ``None`` fits it to
        the bundled history since ``price_fit_since``.
    price_fit_since
        First day of history used for the fit and the bootstrap.
    bootstrap_block_days
        Length of resampled blocks [day].
    hashrate_elasticity
        Yearly response of log hashrate to a log hashprice surprise [1/yr].
    hashrate_lag_days
        Delay before miners respond [day].
    hashrate_volatility_pu
        Annualised noise on log hashrate [pu/sqrt(yr)].
    fees_volatility_pu
        Daily innovation of log fees [-]; ``None`` fits it to bundled fees.
    fees_autocorrelation
        Day-to-day autocorrelation of log fees [-]; ``None`` fits it.
    block_time_variability
        Whether block arrivals are random (Poisson) or exactly as expected.
    surplus_volatility_pu
        Standard deviation of the yearly log multiplier on grid surplus [-].
    failure_rate_pu_per_year
        Mean yearly share of ASICs failing for good [pu/yr].
    degradation_spread_pu_per_year
        Half-width of the uniform spread of the degradation rate [pu/yr].
    """

    price_model: Literal["bootstrap", "gbm"] = "bootstrap"
    price_volatility_pu: float | None = None
    price_fit_since: str = "2021-01-01"
    bootstrap_block_days: int = 30
    hashrate_elasticity: float = 1.0
    hashrate_lag_days: int = 90
    hashrate_volatility_pu: float = 0.10
    fees_volatility_pu: float | None = None
    fees_autocorrelation: float | None = None
    block_time_variability: bool = True
    surplus_volatility_pu: float = 0.10
    failure_rate_pu_per_year: float = 0.02
    degradation_spread_pu_per_year: float = 0.01

    def __post_init__(self) -> None:
        checks: list[tuple[str, float | None, float, float]] = [
            ("price_volatility_pu", self.price_volatility_pu, 0.0, 5.0),
            ("hashrate_elasticity", self.hashrate_elasticity, 0.0, 50.0),
            ("hashrate_volatility_pu", self.hashrate_volatility_pu, 0.0, 5.0),
            ("fees_volatility_pu", self.fees_volatility_pu, 0.0, 5.0),
            ("fees_autocorrelation", self.fees_autocorrelation, 0.0, 0.9999),
            ("surplus_volatility_pu", self.surplus_volatility_pu, 0.0, 2.0),
            ("failure_rate_pu_per_year", self.failure_rate_pu_per_year, 0.0, 0.5),
            ("degradation_spread_pu_per_year", self.degradation_spread_pu_per_year, 0.0, 0.5),
        ]
        for name, value, lo, hi in checks:
            if value is not None and not lo <= value <= hi:
                raise InputError(f"drivers.{name}", value, f"a number in [{lo:g}, {hi:g}]")
        if self.price_model not in ("bootstrap", "gbm"):
            raise InputError("drivers.price_model", self.price_model, "'bootstrap' or 'gbm'")
        if not 1 <= self.bootstrap_block_days <= 365:
            raise InputError(
                "drivers.bootstrap_block_days", self.bootstrap_block_days, "1..365 [day]"
            )
        if not 0 <= self.hashrate_lag_days <= 3650:
            raise InputError("drivers.hashrate_lag_days", self.hashrate_lag_days, "0..3650 [day]")

    @classmethod
    def deterministic(cls) -> DriverParams:
        """All randomness off: the Monte Carlo then equals the deterministic model."""
        return cls(
            price_model="gbm",
            price_volatility_pu=0.0,
            hashrate_volatility_pu=0.0,
            fees_volatility_pu=0.0,
            fees_autocorrelation=0.0,
            block_time_variability=False,
            surplus_volatility_pu=0.0,
            failure_rate_pu_per_year=0.0,
            degradation_spread_pu_per_year=0.0,
        )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> DriverParams:
        """Build from a mapping of field names (e.g. a scenario's ``[risk]`` table)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError("drivers", unknown[0], "one of: " + ", ".join(sorted(known)))
        return cls(**dict(values))

    def resolved(self) -> DriverParams:
        """Fill fitted values for parameters left as ``None``."""
        out = self
        if self.price_volatility_pu is None:
            out = replace(out, price_volatility_pu=fit_price_gbm(self.price_fit_since)[1])
        if self.fees_volatility_pu is None or self.fees_autocorrelation is None:
            phi, sigma = fit_fees_ar1()
            out = replace(
                out,
                fees_volatility_pu=(
                    sigma if self.fees_volatility_pu is None else self.fees_volatility_pu
                ),
                fees_autocorrelation=(
                    phi if self.fees_autocorrelation is None else self.fees_autocorrelation
                ),
            )
        return out


def path_generator(seed: int, path: int) -> np.random.Generator:
    """Independent generator of one path, the same whatever the chunking."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(path,))))


@dataclass(frozen=True)
class PathShocks:
    """Random draws of a block of paths (all deviations from the scenario path).

    Attributes
    ----------
    price_log
        Log-deviation of price, shape ``(paths, days)`` [-].
    fees_log
        Log multiplier of fees per block, ``(paths, days)`` [-].
    hashrate_noise
        Innovations of the log-hashrate deviation, ``(paths, days)`` [-].
    epoch_work_blocks
        Work per retarget period in blocks of expected work, ``(paths, periods)``.
    surplus_log
        Log multiplier of grid surplus per year, ``(paths, years)`` [-].
    failure_rate_pu_per_year, degradation_pu_per_year
        Per-path ASIC failure and degradation rates, ``(paths,)`` [pu/yr].
    """

    price_log: FloatArray
    fees_log: FloatArray
    hashrate_noise: FloatArray
    epoch_work_blocks: FloatArray | None
    surplus_log: FloatArray
    failure_rate_pu_per_year: FloatArray
    degradation_pu_per_year: FloatArray


def _bootstrap(rng: np.random.Generator, pool: FloatArray, days: int, block: int) -> FloatArray:
    """Circular block bootstrap: every day of ``pool`` is equally likely to be drawn."""
    out = np.empty(days, dtype=np.float64)
    wrapped = np.concatenate((pool, pool[:block]))
    filled = 0
    while filled < days:
        start = int(rng.integers(0, pool.size))
        take = min(block, days - filled)
        out[filled : filled + take] = wrapped[start : start + take]
        filled += take
    return out


def bootstrap_correction(pool: FloatArray, block: int) -> float:
    """Daily log-correction that makes a bootstrapped price path mean-one [-].

    With circular blocks drawn independently, ``E[exp(block sum)]`` is the mean
    of ``exp`` over the ``pool.size`` circular block sums; subtracting this
    constant's logarithm spread over the block's days gives ``E[exp(x)] = 1``
    at every block end (volatility clustering inside a block included).
    """
    wrapped = np.concatenate((pool, pool[:block]))
    sums = np.convolve(wrapped, np.ones(block), mode="valid")[: pool.size]
    return math.log(float(np.mean(np.exp(sums)))) / block


def draw_shocks(
    params: DriverParams,
    paths: range,
    seed: int,
    days: int,
    years: int,
    periods: int,
    first_period_blocks: float,
    fleet_degradation_pu_per_year: float,
) -> PathShocks:
    """Draw the random inputs of paths ``paths`` (each from its own generator).

    Parameters
    ----------
    params
        Resolved driver parameters (no ``None`` left).
    paths
        Global path numbers of this block.
    seed
        Root seed of the run.
    days, years
        Horizon [day], [yr].
    periods
        Retarget periods to draw work for (more than can occur).
    first_period_blocks
        Blocks left in the first retarget period [block].
    fleet_degradation_pu_per_year
        Scenario degradation rate, the centre of the per-path spread [pu/yr].
    """
    p = params
    assert p.price_volatility_pu is not None and p.fees_volatility_pu is not None
    assert p.fees_autocorrelation is not None
    n = len(paths)
    price = np.empty((n, days))
    fees = np.empty((n, days))
    hnoise = np.empty((n, days))
    work = np.empty((n, periods)) if p.block_time_variability else None
    surplus = np.empty((n, years))
    fail = np.empty(n)
    degr = np.empty(n)
    vol_d = p.price_volatility_pu / math.sqrt(DAYS_PER_YEAR)
    pool = None
    correction = 0.0
    if p.price_model == "bootstrap" and vol_d > 0:
        hist = historical_log_returns(p.price_fit_since)
        pool = (hist - hist.mean()) / hist.std(ddof=1) * vol_d
        correction = bootstrap_correction(pool, p.bootstrap_block_days)
    phi, sf = p.fees_autocorrelation, p.fees_volatility_pu
    t = np.arange(1, days + 1, dtype=np.float64)
    fee_var = sf**2 * (1.0 - phi ** (2 * t)) / (1.0 - phi**2) if sf > 0 else np.zeros(days)
    h_sd = p.hashrate_volatility_pu / math.sqrt(DAYS_PER_YEAR)
    s_sd = p.surplus_volatility_pu
    for row, path in enumerate(paths):
        rng = path_generator(seed, path)
        if vol_d == 0:
            price[row] = 0.0
        elif pool is not None:
            steps = _bootstrap(rng, pool, days, p.bootstrap_block_days) - correction
            price[row] = np.cumsum(steps)
        else:
            steps = rng.standard_normal(days) * vol_d - vol_d**2 / 2.0
            price[row] = np.cumsum(steps)
        if sf > 0:
            eps = rng.standard_normal(days) * sf
            z = lfilter([1.0], [1.0, -phi], eps)
            fees[row] = z - fee_var / 2.0
        else:
            fees[row] = 0.0
        # Drift -sd^2/2 keeps E[exp(x)] = 1: the mean hashrate follows the scenario path.
        hnoise[row] = rng.standard_normal(days) * h_sd - h_sd**2 / 2.0 if h_sd > 0 else 0.0
        if work is not None:
            shapes = np.full(periods, 2016.0)
            shapes[0] = max(first_period_blocks, 1e-9)
            work[row] = rng.gamma(shapes)
        surplus[row] = rng.standard_normal(years) * s_sd - s_sd**2 / 2.0 if s_sd > 0 else 0.0
        fail[row] = rng.uniform(0.0, 2.0 * p.failure_rate_pu_per_year)
        spread = p.degradation_spread_pu_per_year
        degr[row] = max(
            0.0,
            rng.uniform(
                fleet_degradation_pu_per_year - spread, fleet_degradation_pu_per_year + spread
            ),
        )
    return PathShocks(price, fees, hnoise, work, surplus, fail, degr)


def hashrate_deviation(
    revenue_log: FloatArray, noise: FloatArray, elasticity: float, lag_days: int
) -> FloatArray:
    """Log-deviation of network hashrate from the scenario path, day by day.

    ``x[d+1] = x[d] + elasticity / 365.25 * (revenue_log[d - lag] - x[d - lag]) + noise[d]``;
    before ``lag`` days have passed there is nothing to respond to.

    Parameters
    ----------
    revenue_log
        Log-deviation of revenue per block (price and fees), ``(paths, days)``.
    noise
        Daily innovations, ``(paths, days)``.
    elasticity
        Response rate [1/yr].
    lag_days
        Response delay [day].
    """
    n_paths, days = revenue_log.shape
    x = np.zeros((n_paths, days), dtype=np.float64)
    k = elasticity / DAYS_PER_YEAR
    for d in range(days - 1):
        response: FloatArray | float = 0.0
        if d >= lag_days and k > 0:
            lagged = d - lag_days
            response = k * (revenue_log[:, lagged] - x[:, lagged])
        x[:, d + 1] = x[:, d] + response + noise[:, d]
    return x
