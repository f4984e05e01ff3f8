"""Sensitivity of the mining programme's NPV: one-at-a-time tornado and Sobol indices.

A *factor* is one input of the model with a plausible low and high value: a
scenario setting (tariff, price drift, start price, network growth, fees, ASIC
price, discount rate, uptime) or a parameter of the stochastic drivers
(price volatility, hashrate elasticity, grid-surplus volatility, ASIC failure
rate). :data:`FACTORS` is the registry; :meth:`Factor.apply` returns a new,
validated ``(Scenario, DriverParams)`` pair with the factor set to a value.

:func:`tornado` moves one factor at a time to its low and high value and
records the Monte Carlo NPV statistic. :func:`sobol` samples every factor at
once (Saltelli's scheme via SALib) and splits the variance of the mean NPV
into first-order (``S1``, the factor alone) and total (``ST``, the factor with
all its interactions) shares.

Every Monte Carlo run uses the same seed (*common random numbers*): path ``i``
sees the same price, fee, block-luck, failure and surplus draws whatever the
factor values, so a difference between two runs is the factor's effect and
not sampling noise.

Runs are independent tasks, executed in-process (``"synchronous"``), on
Dask's local threads or processes, or on a Dask cluster (``tcp://`` address or
``distributed.Client``), like :meth:`MonteCarlo.run`.
"""

from __future__ import annotations

import json
import math
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from hashnation.errors import InputError
from hashnation.mining.drivers import DriverParams
from hashnation.mining.montecarlo import MonteCarlo, RiskResult
from hashnation.mining.program import (
    MiningProgram,
    last_bundled_price,
    median_fees_btc_per_block,
)
from hashnation.mining.scenario import (
    MAX_PKR_PER_KWH,
    MAX_USD_PER_KWH,
    Scenario,
    parse_scenario,
)
from hashnation.mining.tasks import map_tasks

__all__ = [
    "DEFAULT_SEED",
    "FACTORS",
    "Factor",
    "Progress",
    "factor",
    "resolve_factors",
    "run_designs",
    "sobol",
    "sobol_cost_points",
    "tornado",
]

DEFAULT_SEED = 20260101
"""Root seed used when none is given (logged in every result)."""

Progress = Callable[[int, int], None]
"""Progress callback, called with (runs done, runs in total)."""

Statistic = Literal["mean", "p50"]
TARIFF = "tariff"
_DRIVERS_PREFIX = "drivers."
_GRID_CACHE_SIZE = 16
_MIN_ADDER_SPREAD_PKR_PER_KWH = 2.0


# --------------------------------------------------------------------------- factors


@dataclass(frozen=True)
class Factor:
    """One uncertain input, its default range and where it is applied.

    The default range is ``base ± spread`` (``relative``: ``base × (1 ± spread)``),
    where ``base`` is the value in the scenario or driver parameters, clipped to
    the field's valid range. ``low`` and ``high``, when given, replace it.

    Parameters
    ----------
    name
        Registry key and dotted field: ``price.drift_pu_per_year`` for a
        scenario field, ``drivers.price_volatility_pu`` for a
        :class:`~hashnation.mining.drivers.DriverParams` field, or ``tariff``
        (whichever of ``tariff.pkr_per_kwh``, ``tariff.usd_per_kwh`` or, for a
        marginal-cost tariff, ``tariff.adder_pkr_per_kwh`` the scenario uses;
        the adder's default range is at least ± 2 PKR/kWh, as it is often 0).
    unit
        Unit of the values (``pu/yr``); for ``tariff`` the scenario's.
    description
        What the factor is, in words.
    spread
        Half-width of the default range: [pu] of the base if ``relative``,
        otherwise in ``unit``.
    relative
        Whether ``spread`` is relative to the base value.
    valid_low, valid_high
        Valid range of the field (from the scenario model or ``DriverParams``).
    low_open, high_open
        Whether ``valid_low`` / ``valid_high`` themselves are excluded.
    low, high
        Explicit range, replacing the default one [unit].
    """

    name: str
    unit: str
    description: str
    spread: float
    relative: bool
    valid_low: float
    valid_high: float
    low_open: bool = False
    high_open: bool = False
    low: float | None = None
    high: float | None = None

    @property
    def target(self) -> Literal["scenario", "drivers"]:
        """Whether the factor sets a scenario field or a driver parameter."""
        return "drivers" if self.name.startswith(_DRIVERS_PREFIX) else "scenario"

    def with_range(self, low: float, high: float) -> Factor:
        """Return a copy with an explicit range ``[low, high]`` [unit].

        Raises
        ------
        InputError
            ``low`` > ``high`` or a bound that is not a finite number.
        """
        for bound in (low, high):
            if not isinstance(bound, int | float) or not math.isfinite(bound):
                raise InputError(f"factors.{self.name}", bound, "a finite number")
        if low > high:
            raise InputError(f"factors.{self.name}", (low, high), "a range with low <= high")
        return replace(self, low=float(low), high=float(high))

    # ------------------------------------------------------------ resolution

    def field(self, scenario: Scenario) -> str:
        """Dotted field the factor sets in this scenario (``tariff.pkr_per_kwh``)."""
        if self.name != TARIFF:
            return self.name
        t = scenario.tariff
        if t.kind == "marginal_cost":
            return "tariff.adder_pkr_per_kwh"
        return "tariff.pkr_per_kwh" if t.pkr_per_kwh is not None else "tariff.usd_per_kwh"

    def unit_for(self, scenario: Scenario) -> str:
        """Return the unit of the factor's values in this scenario."""
        if self.name != TARIFF:
            return self.unit
        return "USD/kWh" if self.field(scenario) == "tariff.usd_per_kwh" else "PKR/kWh"

    def valid_range(self, scenario: Scenario) -> tuple[float, float, bool, bool]:
        """Return the valid range of the field: ``(low, high, low_open, high_open)``."""
        if self.name == TARIFF:
            top = (
                MAX_USD_PER_KWH if self.field(scenario) == "tariff.usd_per_kwh" else MAX_PKR_PER_KWH
            )
            return 0.0, top, False, False
        return self.valid_low, self.valid_high, self.low_open, self.high_open

    def base_value(self, scenario: Scenario, drivers: DriverParams) -> float:
        """Value of the factor in the scenario or (resolved) drivers [unit].

        Scenario fields left open take the value the programme uses: the last
        bundled price for ``price.start_usd_per_btc``, the median bundled fees
        for ``network.fees_btc_per_block``.
        """
        if self.target == "drivers":
            value = getattr(drivers.resolved(), self.name.removeprefix(_DRIVERS_PREFIX))
            return float(value)
        if self.name == "price.start_usd_per_btc" and scenario.price.start_usd_per_btc is None:
            return last_bundled_price()[0]
        if (
            self.name == "network.fees_btc_per_block"
            and scenario.network.fees_btc_per_block is None
        ):
            return median_fees_btc_per_block()
        obj: Any = scenario
        for part in self.field(scenario).split("."):
            obj = getattr(obj, part)
        if obj is None:
            raise InputError(self.field(scenario), None, "a value in the scenario")
        return float(obj)

    def bounds(self, scenario: Scenario, drivers: DriverParams) -> tuple[float, float]:
        """Low and high values used for this scenario [unit].

        The default ``base ± spread`` is clipped into the field's valid range
        (an excluded bound is approached to within 1e-6 of the range); an
        explicit range (:meth:`with_range`) must lie inside it.

        Raises
        ------
        InputError
            An explicit bound outside the valid range.
        """
        lo_ok, hi_ok, lo_open, hi_open = self.valid_range(scenario)
        if self.low is not None and self.high is not None:
            for bound in (self.low, self.high):
                self._check(scenario, bound)
            return self.low, self.high
        base = self.base_value(scenario, drivers)
        half = abs(base) * self.spread if self.relative else self.spread
        if self.field(scenario) == "tariff.adder_pkr_per_kwh":
            half = max(half, _MIN_ADDER_SPREAD_PKR_PER_KWH)
        eps = 1e-6 * max(1.0, hi_ok - lo_ok if math.isfinite(hi_ok - lo_ok) else 1.0)
        floor = lo_ok + eps if lo_open else lo_ok
        ceiling = hi_ok - eps if hi_open else hi_ok
        low = min(max(base - half, floor), ceiling)
        high = max(min(base + half, ceiling), floor)
        return float(low), float(high)

    def _check(self, scenario: Scenario, value: float) -> None:
        lo, hi, lo_open, hi_open = self.valid_range(scenario)
        below = value <= lo if lo_open else value < lo
        above = value >= hi if hi_open else value > hi
        if not math.isfinite(value) or below or above:
            left = "(" if lo_open else "["
            right = ")" if hi_open else "]"
            raise InputError(
                self.field(scenario),
                value,
                f"a value in {left}{lo:g}, {hi:g}{right} [{self.unit_for(scenario)}]",
            )

    def apply(
        self, scenario: Scenario, drivers: DriverParams, value: float
    ) -> tuple[Scenario, DriverParams]:
        """Set the factor to ``value``; return a new, validated pair.

        Parameters
        ----------
        scenario
            Scenario to start from (not modified).
        drivers
            Driver parameters to start from (not modified).
        value
            New value [unit].

        Returns
        -------
        tuple[Scenario, DriverParams]
            Copies with the factor's field replaced.

        Raises
        ------
        InputError
            ``value`` outside the field's valid range (the message names the field).
        """
        value = float(value)
        self._check(scenario, value)
        if self.target == "drivers":
            attr = self.name.removeprefix(_DRIVERS_PREFIX)
            update: dict[str, Any] = {attr: value}
            return scenario, replace(drivers, **update)
        return _set_fields(scenario, {self.field(scenario): value}), drivers


def _set_fields(scenario: Scenario, updates: dict[str, Any]) -> Scenario:
    """Scenario with dotted fields replaced, validated again (raises ScenarioError)."""
    data = scenario.model_dump()
    for dotted, value in updates.items():
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
    return parse_scenario(data)


FACTORS: dict[str, Factor] = {
    f.name: f
    for f in (
        Factor(
            TARIFF,
            "PKR/kWh or USD/kWh",
            "tariff the miners pay, in the scenario's unit (adder of a marginal-cost tariff)",
            spread=0.20,
            relative=True,
            valid_low=0.0,
            valid_high=MAX_PKR_PER_KWH,
        ),
        Factor(
            "price.start_usd_per_btc",
            "USD/BTC",
            "BTC price at the start (default: the programme's start price)",
            spread=0.30,
            relative=True,
            valid_low=0.0,
            valid_high=math.inf,
            low_open=True,
        ),
        Factor(
            "price.drift_pu_per_year",
            "pu/yr",
            "expected yearly growth of the BTC price",
            spread=0.10,
            relative=False,
            valid_low=-1.0,
            valid_high=10.0,
            low_open=True,
        ),
        Factor(
            "network.hashrate_growth_pu_per_year",
            "pu/yr",
            "yearly growth of the network hashrate (difficulty)",
            spread=0.15,
            relative=False,
            valid_low=-1.0,
            valid_high=10.0,
            low_open=True,
        ),
        Factor(
            "network.fees_btc_per_block",
            "BTC/block",
            "transaction fees per block (default: the programme's value)",
            spread=0.50,
            relative=True,
            valid_low=0.0,
            valid_high=50.0,
        ),
        Factor(
            "economics.asic_price_usd_per_th",
            "USD/(TH/s)",
            "price of new ASICs per TH/s",
            spread=0.30,
            relative=True,
            valid_low=0.0,
            valid_high=1000.0,
        ),
        Factor(
            "economics.discount_rate_pu",
            "pu/yr",
            "discount rate of the NPV",
            spread=0.04,
            relative=False,
            valid_low=-1.0,
            valid_high=1.0,
            low_open=True,
            high_open=True,
        ),
        Factor(
            "fleet.uptime_pu",
            "pu",
            "share of scheduled hours a machine hashes",
            spread=0.05,
            relative=False,
            valid_low=0.0,
            valid_high=1.0,
            low_open=True,
        ),
        Factor(
            "drivers.price_volatility_pu",
            "pu/sqrt(yr)",
            "annualised volatility of the BTC price",
            spread=0.50,
            relative=True,
            valid_low=0.0,
            valid_high=5.0,
        ),
        Factor(
            "drivers.hashrate_elasticity",
            "1/yr",
            "how fast network hashrate follows a hashprice surprise",
            spread=1.0,
            relative=True,
            valid_low=0.0,
            valid_high=50.0,
        ),
        Factor(
            "drivers.surplus_volatility_pu",
            "-",
            "spread of the yearly grid-surplus multiplier (wet/dry years)",
            spread=1.0,
            relative=True,
            valid_low=0.0,
            valid_high=2.0,
        ),
        Factor(
            "drivers.failure_rate_pu_per_year",
            "pu/yr",
            "mean yearly share of ASICs failing for good",
            spread=1.0,
            relative=True,
            valid_low=0.0,
            valid_high=0.5,
        ),
    )
}
"""Registry of factors by name.

Default ranges: tariff ± 20 %, start price ± 30 %, price drift ± 0.10 pu/yr,
hashrate growth ± 0.15 pu/yr, fees ± 50 %, ASIC price ± 30 %, discount rate
± 0.04 pu/yr, uptime ± 0.05 pu; driver parameters from zero to twice their
value, except price volatility ± 50 %. All are clipped to valid values.
"""


def factor(name: str) -> Factor:
    """Look up a factor of :data:`FACTORS` by name.

    Raises
    ------
    InputError
        Unknown name (the message lists the known ones).
    """
    try:
        return FACTORS[name]
    except KeyError:
        raise InputError("factors", name, f"one of: {', '.join(FACTORS)}") from None


def resolve_factors(factors: Sequence[str | Factor] | None) -> list[Factor]:
    """Factors from names or :class:`Factor` objects (None: the whole registry).

    Raises
    ------
    InputError
        Empty list, unknown name or a factor given twice.
    """
    if factors is None:
        return list(FACTORS.values())
    if isinstance(factors, str):
        factors = [factors]
    out = [f if isinstance(f, Factor) else factor(f) for f in factors]
    if not out:
        raise InputError("factors", [], "at least one factor (or None for all)")
    names = [f.name for f in out]
    for name in names:
        if names.count(name) > 1:
            raise InputError("factors", name, "each factor at most once")
    return out


# --------------------------------------------------------------------------- running


_grid_cache: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
_grid_lock = threading.Lock()


def _grid_key(scenario: Scenario) -> str:
    """Everything the hourly grid profile depends on (start, horizon, site, fleet mix, FX)."""
    return json.dumps(
        {
            "start": scenario.scenario.start.isoformat(),
            "years": scenario.scenario.years,
            "site": scenario.site.model_dump(mode="json"),
            "mix": [m.model_dump(mode="json") for m in scenario.fleet.mix],
            "cooling": scenario.fleet.cooling_overhead_pu,
            "fx": scenario.tariff.fx_pkr_per_usd,
        },
        sort_keys=True,
    )


def _program(scenario: Scenario) -> MiningProgram:
    """Build a program, sharing the grid profile of earlier identical grids.

    The hourly grid profile (the costliest deterministic step) does not depend
    on any factor of the registry, so runs that differ only in those reuse it.
    """
    program = MiningProgram(scenario)
    program.build()
    key = _grid_key(scenario)
    with _grid_lock:
        cached = _grid_cache.get(key)
        if cached is not None:
            _grid_cache.move_to_end(key)
    if cached is None:
        program.grid_profile()
        with _grid_lock:
            _grid_cache[key] = (program.grid_hourly, program.demand_fit)
            while len(_grid_cache) > _GRID_CACHE_SIZE:
                _grid_cache.popitem(last=False)
    else:
        program.use_grid_profile(*cached)
    return program


def _run_design(
    scenario: Scenario,
    drivers: DriverParams,
    paths: int,
    seed: int,
    chunk_paths: int,
    deterministic: bool,
) -> RiskResult:
    """Monte Carlo of one design, in-process (one task)."""
    program = _program(scenario)
    if deterministic:
        for step in ("project_network", "project_price", "tariff", "dispatch", "economics"):
            getattr(program, step)()
    engine = MonteCarlo(program, drivers)
    return engine.run(paths, seed, chunk_paths=chunk_paths, scheduler="synchronous")


def _check_run_args(paths: int, seed: int, chunk_paths: int) -> None:
    if isinstance(paths, bool) or not isinstance(paths, int) or paths < 1:
        raise InputError("paths", paths, "an integer >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError("seed", seed, "an integer >= 0")
    if isinstance(chunk_paths, bool) or not isinstance(chunk_paths, int) or chunk_paths < 1:
        raise InputError("chunk_paths", chunk_paths, "an integer >= 1")


def run_designs(
    designs: Sequence[tuple[Scenario, DriverParams]],
    *,
    paths: int,
    seed: int = DEFAULT_SEED,
    deterministic: bool = False,
    chunk_paths: int = 50,
    scheduler: str | Any | None = "threads",
    progress: Progress | None = None,
) -> list[RiskResult]:
    """Run a Monte Carlo for each design, all with the same seed.

    Each design is one task (its paths run in-process, ``chunk_paths`` at a
    time); tasks run in parallel on the scheduler.

    Parameters
    ----------
    designs
        ``(scenario, drivers)`` pairs; drivers should be resolved
        (:meth:`DriverParams.resolved`) to avoid refitting them in each task.
    paths
        Paths per design (>= 1).
    seed
        Root seed, the same for every design (common random numbers).
    deterministic
        Also run the deterministic model, so that each result's
        ``deterministic_npv_usd`` is filled (otherwise NaN).
    chunk_paths
        Paths computed at once within a task; bounds memory.
    scheduler
        ``"threads"`` (Dask local threads, default), ``"synchronous"``,
        ``"processes"``, a ``tcp://host:port`` address or a ``distributed.Client``.
    progress
        Called with (designs done, designs) as designs finish.

    Returns
    -------
    list[RiskResult]
        One result per design, in the order given.
    """
    _check_run_args(paths, seed, chunk_paths)
    args = [(sc, dr, paths, seed, chunk_paths, deterministic) for sc, dr in designs]
    return _map(_run_design, args, scheduler, progress)


def _map(
    func: Callable[..., RiskResult],
    args: list[tuple[Any, ...]],
    scheduler: str | Any | None,
    progress: Progress | None,
) -> list[RiskResult]:
    return map_tasks(func, args, scheduler=scheduler, progress=progress)


def _statistic(result: RiskResult, statistic: str) -> float:
    npv = result.paths["npv_usd"].to_numpy(dtype=np.float64)
    return float(np.median(npv)) if statistic == "p50" else float(npv.mean())


# --------------------------------------------------------------------------- tornado


def tornado(
    scenario: Scenario,
    drivers: DriverParams | None = None,
    factors: Sequence[str | Factor] | None = None,
    *,
    paths: int = 200,
    seed: int = DEFAULT_SEED,
    statistic: Statistic = "mean",
    chunk_paths: int = 50,
    scheduler: str | Any | None = "threads",
    progress: Progress | None = None,
) -> pd.DataFrame:
    """One-at-a-time sensitivity of the Monte Carlo NPV (a tornado table).

    Each factor is set to its low and then its high value, all others at
    their base; every run uses the same seed, so the swing is the factor's
    effect, not noise. Cost: ``(2 × factors + 1) × paths`` Monte Carlo paths.

    Parameters
    ----------
    scenario
        Base scenario.
    drivers
        Base driver parameters (default :class:`DriverParams`).
    factors
        Names in :data:`FACTORS` or :class:`Factor` objects; None for all.
    paths
        Paths per run (>= 1).
    seed
        Root seed of every run.
    statistic
        ``"mean"`` or ``"p50"`` (median) of NPV across paths.
    chunk_paths
        Paths computed at once within a run; bounds memory.
    scheduler
        See :func:`run_designs`.
    progress
        Called with (runs done, runs).

    Returns
    -------
    pandas.DataFrame
        One row per factor, largest swing first: ``factor``, ``unit``,
        ``low``, ``high`` [unit], ``npv_low_usd``, ``npv_high_usd``,
        ``swing_usd`` (``|npv_high_usd - npv_low_usd|``), ``base_npv_usd``
        [USD], then ``base`` (the factor's base value [unit]) and ``field``
        (the field set). ``attrs`` holds ``paths``, ``seed``, ``statistic``
        and ``wall_s``.

    Raises
    ------
    InputError
        Unknown factor or statistic, bad ``paths`` or ``seed``.
    """
    if statistic not in ("mean", "p50"):
        raise InputError("statistic", statistic, "'mean' or 'p50'")
    _check_run_args(paths, seed, chunk_paths)
    t0 = time.perf_counter()
    base_drivers = (drivers or DriverParams()).resolved()
    chosen = resolve_factors(factors)
    designs: list[tuple[Scenario, DriverParams]] = [(scenario, base_drivers)]
    ranges: list[tuple[float, float]] = []
    for f in chosen:
        low, high = f.bounds(scenario, base_drivers)
        ranges.append((low, high))
        designs.append(f.apply(scenario, base_drivers, low))
        designs.append(f.apply(scenario, base_drivers, high))
    results = run_designs(
        designs,
        paths=paths,
        seed=seed,
        chunk_paths=chunk_paths,
        scheduler=scheduler,
        progress=progress,
    )
    values = [_statistic(r, statistic) for r in results]
    base_npv = values[0]
    rows = []
    for k, (f, (low, high)) in enumerate(zip(chosen, ranges, strict=True)):
        npv_low, npv_high = values[1 + 2 * k], values[2 + 2 * k]
        rows.append(
            {
                "factor": f.name,
                "unit": f.unit_for(scenario),
                "low": low,
                "high": high,
                "npv_low_usd": npv_low,
                "npv_high_usd": npv_high,
                "swing_usd": abs(npv_high - npv_low),
                "base_npv_usd": base_npv,
                "base": f.base_value(scenario, base_drivers),
                "field": f.field(scenario),
            }
        )
    table = pd.DataFrame(rows)
    table = table.sort_values("swing_usd", ascending=False, kind="stable").reset_index(drop=True)
    table.attrs.update(
        {
            "paths": paths,
            "seed": seed,
            "statistic": statistic,
            "runs": len(designs),
            "wall_s": time.perf_counter() - t0,
        }
    )
    return table


# --------------------------------------------------------------------------- Sobol


def sobol_cost_points(n_base: int, factors: int) -> int:
    """Model runs of :func:`sobol`: ``n_base × (factors + 2)`` [-]."""
    return n_base * (factors + 2)


def sobol(
    scenario: Scenario,
    drivers: DriverParams | None = None,
    factors: Sequence[str | Factor] | None = None,
    *,
    n_base: int = 64,
    paths_per_point: int = 8,
    seed: int = DEFAULT_SEED,
    num_resamples: int = 100,
    conf_level: float = 0.95,
    scheduler: str | Any | None = "threads",
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Global (Sobol) sensitivity indices of the mean NPV.

    Every factor is drawn uniformly in its ``[low, high]`` range with Saltelli's
    scheme on a scrambled Sobol sequence (``SALib.sample.sobol``, without
    second-order terms). Each sample point is one Monte Carlo of
    ``paths_per_point`` paths, all with the same seed, and its mean NPV is the
    model output. ``SALib.analyze.sobol`` then returns, per factor, the
    first-order index ``S1`` (share of the variance of the mean NPV explained
    by the factor alone) and the total index ``ST`` (the factor with all its
    interactions), with bootstrap confidence intervals.

    Cost: ``n_base × (k + 2)`` points for ``k`` factors (second-order
    indices are not computed; they would take ``n_base × (2k + 2)``), each
    ``paths_per_point`` paths (:func:`sobol_cost_points`). With the defaults
    and the 12 registry factors that is 896 points, 7,168 paths: on the
    10-year Pakistan example about 65 s on 2 cores with ``"threads"`` and
    45 s with ``"processes"``. Halve ``n_base`` to halve the cost (wider
    confidence intervals).

    Parameters
    ----------
    scenario
        Base scenario.
    drivers
        Base driver parameters (default :class:`DriverParams`).
    factors
        Names in :data:`FACTORS` or :class:`Factor` objects; None for all.
    n_base
        Base sample size; a power of two >= 2.
    paths_per_point
        Monte Carlo paths per sample point (>= 1).
    seed
        Root seed of every Monte Carlo and of the sampling and bootstrap.
    num_resamples
        Bootstrap resamples for the confidence intervals.
    conf_level
        Confidence level of the intervals, in (0, 1).
    scheduler
        See :func:`run_designs`.
    progress
        Called with (points done, points).

    Returns
    -------
    pandas.DataFrame
        One row per factor, largest ``st`` first: ``factor``, ``unit``,
        ``low``, ``high`` [unit], ``s1``, ``s1_conf``, ``st``, ``st_conf``
        [-] (``*_conf`` is the half-width of the confidence interval).
        ``attrs`` holds ``n_base``, ``paths_per_point``, ``points``, ``seed``,
        ``conf_level``, ``npv_mean_usd``, ``npv_std_usd`` (across points) and
        ``wall_s``.

    Raises
    ------
    InputError
        Bad ``n_base``, ``paths_per_point``, ``seed`` or ``conf_level``, an
        unknown factor, or a factor whose range is empty.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    if isinstance(n_base, bool) or not isinstance(n_base, int) or n_base < 2:
        raise InputError("n_base", n_base, "a power of two >= 2")
    if n_base & (n_base - 1):
        raise InputError("n_base", n_base, "a power of two >= 2 (Sobol sequence balance)")
    if (
        isinstance(paths_per_point, bool)
        or not isinstance(paths_per_point, int)
        or paths_per_point < 1
    ):
        raise InputError("paths_per_point", paths_per_point, "an integer >= 1")
    _check_run_args(paths_per_point, seed, paths_per_point)
    if not 0.0 < conf_level < 1.0:
        raise InputError("conf_level", conf_level, "a number in (0, 1)")
    if isinstance(num_resamples, bool) or not isinstance(num_resamples, int) or num_resamples < 1:
        raise InputError("num_resamples", num_resamples, "an integer >= 1")
    t0 = time.perf_counter()
    base_drivers = (drivers or DriverParams()).resolved()
    chosen = resolve_factors(factors)
    bounds = [f.bounds(scenario, base_drivers) for f in chosen]
    for f, (low, high) in zip(chosen, bounds, strict=True):
        if not high > low:
            raise InputError(
                f"factors.{f.name}", (low, high), "a range with low < high (see Factor.with_range)"
            )
    problem = {
        "num_vars": len(chosen),
        "names": [f.name for f in chosen],
        "bounds": [[low, high] for low, high in bounds],
    }
    sample = sobol_sample.sample(problem, n_base, calc_second_order=False, seed=seed)
    designs = [_apply_all(scenario, base_drivers, chosen, row) for row in sample]
    results = run_designs(
        designs,
        paths=paths_per_point,
        seed=seed,
        chunk_paths=paths_per_point,
        scheduler=scheduler,
        progress=progress,
    )
    y = np.array([_statistic(r, "mean") for r in results], dtype=np.float64)
    k = len(chosen)
    if float(np.var(y)) > 0.0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            si = sobol_analyze.analyze(
                problem,
                y,
                calc_second_order=False,
                num_resamples=num_resamples,
                conf_level=conf_level,
                seed=seed,
            )
        s1, s1c = np.asarray(si["S1"]), np.asarray(si["S1_conf"])
        st, stc = np.asarray(si["ST"]), np.asarray(si["ST_conf"])
    else:  # no factor moves the NPV: nothing to apportion
        s1 = s1c = st = stc = np.zeros(k)
    table = pd.DataFrame(
        {
            "factor": [f.name for f in chosen],
            "unit": [f.unit_for(scenario) for f in chosen],
            "low": [b[0] for b in bounds],
            "high": [b[1] for b in bounds],
            "s1": s1.astype(np.float64),
            "s1_conf": s1c.astype(np.float64),
            "st": st.astype(np.float64),
            "st_conf": stc.astype(np.float64),
        }
    )
    table = table.sort_values("st", ascending=False, kind="stable").reset_index(drop=True)
    table.attrs.update(
        {
            "n_base": n_base,
            "paths_per_point": paths_per_point,
            "points": len(designs),
            "seed": seed,
            "conf_level": conf_level,
            "npv_mean_usd": float(y.mean()),
            "npv_std_usd": float(y.std()),
            "wall_s": time.perf_counter() - t0,
        }
    )
    return table


def _apply_all(
    scenario: Scenario,
    drivers: DriverParams,
    factors: Sequence[Factor],
    values: Sequence[float],
) -> tuple[Scenario, DriverParams]:
    """Set every factor at once: one validation of the scenario, one of the drivers."""
    updates: dict[str, Any] = {}
    driver_updates: dict[str, Any] = {}
    for f, value in zip(factors, values, strict=True):
        v = float(value)
        f._check(scenario, v)
        if f.target == "drivers":
            driver_updates[f.name.removeprefix(_DRIVERS_PREFIX)] = v
        else:
            updates[f.field(scenario)] = v
    new_scenario = _set_fields(scenario, updates) if updates else scenario
    new_drivers = replace(drivers, **driver_updates) if driver_updates else drivers
    return new_scenario, new_drivers
