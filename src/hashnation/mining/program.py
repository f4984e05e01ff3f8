"""MiningProgram: one object that runs a mining scenario from end to end.

Shaped like pvlib's ``ModelChain``: configuration (a validated
:class:`~hashnation.mining.scenario.Scenario`), then public steps that each
fill part of :class:`MiningResults`, then :meth:`MiningProgram.run` that calls
them in order and returns ``self``. Every step is a thin call into the pure
modules (``grid``, ``network``, ``price``, ``dispatch``, ``economics``,
``subsidy``).

Steps::

    build()             index, fleet, grid, network and price scenarios
    grid_profile()      hourly demand, surplus, fuel mix of the fleet's slice
    project_network()   difficulty, height, subsidy, fees, hashprice
    project_price()     price path
    tariff()            what the fleet pays each hour
    dispatch()          when it runs, energy, BTC, curtailment, emissions
    economics()         yearly table, NPV, IRR, payback, cost per BTC
    subsidy_test()      IMF full-cost-of-supply test
    breakevens()        price, difficulty, tariff and hashprice at NPV = 0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import brentq

from hashnation.bitcoin.difficulty import RETARGET_INTERVAL_BLOCKS, TARGET_SPACING_S
from hashnation.bitcoin.subsidy import next_halving_height
from hashnation.data.loaders import (
    asic_spec,
    load_difficulty_epochs,
    load_fees_daily,
    load_price_daily,
)
from hashnation.errors import MiningError
from hashnation.mining import economics as econ
from hashnation.mining.dispatch import DispatchInputs, DispatchResult, dispatch
from hashnation.mining.fleet import DEFAULT_COOLING_OVERHEAD_PU, Fleet, FleetGroup, build_fleet
from hashnation.mining.grid import (
    DemandFit,
    GridParams,
    fit_seasonal_demand,
    hourly_index,
    load_supply,
    surplus_profile,
)
from hashnation.mining.network import (
    HOURS_PER_YEAR,
    NetworkScenario,
    hashprice_btc_per_th_day,
    project_network,
)
from hashnation.mining.presets import (
    baseload_grid,
    pakistan_cost_of_supply,
    pakistan_grid,
)
from hashnation.mining.price import PriceScenario, price_path
from hashnation.mining.profile import load_grid_profile
from hashnation.mining.scenario import Scenario, load_scenario
from hashnation.mining.subsidy import CostOfSupply, SubsidyTest
from hashnation.mining.subsidy import subsidy_test as run_subsidy_test

FloatArray = NDArray[np.float64]
HOURS_PER_PROGRAM_YEAR = 8760
Progress = Callable[[str], None]


@dataclass
class NetworkStart:
    """Network state at the scenario start, from the bundled epochs.

    Attributes
    ----------
    height
        Estimated block height [block].
    difficulty
        Estimated difficulty in force [-].
    blocks_into_epoch
        Blocks mined in the current retarget period [block].
    basis
        How the figures were obtained (observed or extrapolated).
    """

    height: int
    difficulty: float
    blocks_into_epoch: int
    basis: str


def network_start(start: pd.Timestamp, hashrate_growth_pu_per_year: float) -> NetworkStart:
    """Network state at ``start`` from the bundled difficulty epochs.

    Inside the data the epoch in force is used, and the height is interpolated
    in time between its first block and the next epoch's first block. After the
    data ends the last epoch is carried forward: 600 s blocks, and at each
    2,016 blocks the difficulty grows by what ``hashrate_growth_pu_per_year``
    implies over two weeks.

    Parameters
    ----------
    start
        Scenario start (tz-aware).
    hashrate_growth_pu_per_year
        Yearly hashrate growth used beyond the data [pu/yr].
    """
    epochs = load_difficulty_epochs()
    last_time = pd.Timestamp(epochs.index[-1])
    if start < pd.Timestamp(epochs.index[0]):
        raise MiningError(f"scenario.start: got {start}, expected a time after the genesis block")
    if start < last_time:
        pos = int(pd.DatetimeIndex(epochs.index).searchsorted(start, side="right")) - 1
        base_height = int(epochs["height"].iloc[pos])
        t0 = pd.Timestamp(epochs.index[pos])
        t1 = pd.Timestamp(epochs.index[pos + 1])
        # Both ends of the epoch are known: interpolate the height in time.
        share = (start - t0).total_seconds() / (t1 - t0).total_seconds()
        blocks = min(int(share * RETARGET_INTERVAL_BLOCKS), RETARGET_INTERVAL_BLOCKS - 1)
        return NetworkStart(
            height=base_height + blocks,
            difficulty=float(epochs["difficulty"].iloc[pos]),
            blocks_into_epoch=blocks,
            basis=f"epoch {base_height} of the bundled difficulty history",
        )
    base_height = int(epochs["height"].iloc[-1])
    base_diff = float(epochs["difficulty"].iloc[-1])
    blocks = int((start - last_time).total_seconds() // TARGET_SPACING_S)
    periods = blocks // RETARGET_INTERVAL_BLOCKS
    years_per_period = RETARGET_INTERVAL_BLOCKS * TARGET_SPACING_S / (HOURS_PER_YEAR * 3600.0)
    difficulty = base_diff * (1.0 + hashrate_growth_pu_per_year) ** (periods * years_per_period)
    basis = (
        f"extrapolated from the last bundled epoch (height {base_height}, "
        f"{last_time.date()}) at 600 s blocks and the scenario's hashrate growth"
    )
    return NetworkStart(
        height=base_height + blocks,
        difficulty=difficulty,
        blocks_into_epoch=blocks % RETARGET_INTERVAL_BLOCKS,
        basis=basis,
    )


def median_fees_btc_per_block() -> float:
    """Median daily fees of the bundled year divided by 144 blocks [BTC/block]."""
    return float(load_fees_daily().median()) / 144.0


def last_bundled_price() -> tuple[float, pd.Timestamp]:
    """Last price in the bundled history [USD/BTC] and its day."""
    prices = load_price_daily()
    return float(prices.iloc[-1]), pd.Timestamp(prices.index[-1])


@dataclass
class MiningSummary:
    """Headline figures of a run (units in the names).

    ``None`` marks a figure that does not exist (no IRR, never pays back,
    no breakeven in range).
    """

    scenario: str
    start: str
    years: int
    site_power_mw: float
    fleet_hashrate_ths: float
    fleet_efficiency_j_per_th: float
    asic_units: int
    btc_mined: float
    revenue_usd: float
    demand_response_revenue_usd: float
    energy_mwh: float
    curtailed_mwh: float
    curtailed_share_pu: float
    emissions_tco2: float
    coal_share_pu: float
    capex_usd: float
    opex_usd: float
    npv_usd: float
    irr_pu: float | None
    payback_years: float | None
    payback: str
    cost_usd_per_btc: float
    cash_cost_usd_per_btc: float
    tariff_usd_per_mwh: float
    tariff_pkr_per_kwh: float
    breakeven_price_usd_per_btc: float | None = None
    breakeven_difficulty: float | None = None
    breakeven_tariff_usd_per_kwh: float | None = None
    breakeven_tariff_pkr_per_kwh: float | None = None
    breakeven_hashprice_usd_per_th_day: float | None = None
    start_price_usd_per_btc: float = 0.0
    start_difficulty: float = 0.0
    start_height: int = 0
    next_retarget_height: int = 0
    next_retarget_at: str | None = None
    next_halving_height: int = 0
    next_halving_at: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping for JSON output."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class MiningResults:
    """Everything a run produces.

    Attributes
    ----------
    hourly
        One row per hour (units in column names).
    annual
        One row per programme year.
    summary
        Headline figures.
    subsidy
        The IMF subsidy test, when enabled.
    demand_fit
        How the seasonal demand curve reproduces the published facts.
    """

    hourly: pd.DataFrame
    annual: pd.DataFrame
    summary: MiningSummary
    subsidy: SubsidyTest | None
    demand_fit: DemandFit


class MiningProgram:
    """Run a mining scenario: build, project, dispatch, value, test.

    Parameters
    ----------
    scenario
        Validated scenario.
    progress
        Called with a short message as each step starts (for progress bars).

    Examples
    --------
    >>> program = MiningProgram.from_toml("examples/pakistan-2000mw.toml")  # doctest: +SKIP
    >>> program.run().results.summary.btc_mined  # doctest: +SKIP
    """

    STEPS: tuple[str, ...] = (
        "build",
        "grid_profile",
        "project_network",
        "project_price",
        "tariff",
        "dispatch",
        "economics",
        "subsidy_test",
        "breakevens",
    )

    def __init__(self, scenario: Scenario, progress: Progress | None = None) -> None:
        self.scenario = scenario
        self._progress = progress
        self.index: pd.DatetimeIndex | None = None
        self.fleet: Fleet | None = None
        self.grid: GridParams | None = None
        self.network_scenario: NetworkScenario | None = None
        self.price_scenario: PriceScenario | None = None
        self.cost_params: econ.CostParams | None = None
        self.start_state: NetworkStart | None = None
        self.demand_fit: DemandFit | None = None
        self.grid_hourly: pd.DataFrame | None = None
        self.network: pd.DataFrame | None = None
        self.price_usd_per_btc: FloatArray | None = None
        self.tariff_usd_per_mwh: FloatArray | None = None
        self.dispatch_result: DispatchResult | None = None
        self.hourly: pd.DataFrame | None = None
        self.annual: pd.DataFrame | None = None
        self.summary: MiningSummary | None = None
        self.subsidy: SubsidyTest | None = None
        self.notes: list[str] = []

    @classmethod
    def from_toml(cls, path: str | Path, progress: Progress | None = None) -> MiningProgram:
        """Load a scenario file and return a program ready to run."""
        return cls(load_scenario(path), progress=progress)

    # ------------------------------------------------------------------ helpers

    def _say(self, message: str) -> None:
        if self._progress is not None:
            self._progress(message)

    def _need(self, value: Any, step: str) -> Any:
        if value is None:
            raise MiningError(f"step {step!r} has not run yet; call run() or the steps in order")
        return value

    @property
    def results(self) -> MiningResults:
        """Results of the last :meth:`run`."""
        return MiningResults(
            hourly=self._need(self.hourly, "dispatch"),
            annual=self._need(self.annual, "economics"),
            summary=self._need(self.summary, "economics"),
            subsidy=self.subsidy,
            demand_fit=self._need(self.demand_fit, "grid_profile"),
        )

    # ------------------------------------------------------------------ steps

    def build(self) -> MiningProgram:
        """Set up the hourly index, fleet, grid, network and price scenarios."""
        self._say("building fleet, grid and scenarios")
        sc = self.scenario
        start = pd.Timestamp(sc.scenario.start)
        self.index = hourly_index(start, sc.scenario.years * HOURS_PER_PROGRAM_YEAR)
        self.fleet = self._build_fleet()
        self.grid = self._build_grid()
        net = sc.network
        state = network_start(self.index[0], net.hashrate_growth_pu_per_year)
        self.start_state = state
        fees = net.fees_btc_per_block
        if fees is None:
            fees = median_fees_btc_per_block()
            self.notes.append(
                f"fees: {fees:.4f} BTC/block, median of the bundled daily fees / 144 blocks"
            )
        added = 0.0
        if net.include_fleet_hashrate:
            added = self.fleet.hashrate_ths * self.fleet.uptime_pu / 1e6
            self.notes.append(
                f"the fleet's {added:,.1f} EH/s (nameplate x uptime) is added to network hashrate"
            )
        self.network_scenario = NetworkScenario(
            start_height=net.start_height if net.start_height is not None else state.height,
            start_difficulty=(
                net.start_difficulty if net.start_difficulty is not None else state.difficulty
            ),
            blocks_into_epoch=(
                state.blocks_into_epoch
                if net.start_height is None
                else net.start_height % RETARGET_INTERVAL_BLOCKS
            ),
            hashrate_growth_pu_per_year=net.hashrate_growth_pu_per_year,
            fees_btc_per_block=fees,
            fees_growth_pu_per_year=net.fees_growth_pu_per_year,
            added_hashrate_ehs=added,
        )
        if net.start_difficulty is None:
            self.notes.append(f"start difficulty and height: {state.basis}")
        start_price = sc.price.start_usd_per_btc
        if start_price is None:
            start_price, day = last_bundled_price()
            self.notes.append(
                f"start price {start_price:,.0f} USD/BTC: last bundled daily price ({day.date()})"
            )
        self.price_scenario = PriceScenario(start_price, sc.price.drift_pu_per_year)
        e = sc.economics
        self.cost_params = econ.CostParams(
            asic_price_usd_per_th=e.asic_price_usd_per_th,
            asic_price_decline_pu_per_year=e.asic_price_decline_pu_per_year,
            infrastructure_usd_per_mw=e.infrastructure_usd_per_mw,
            fixed_om_usd_per_mw_year=e.fixed_om_usd_per_mw_year,
            variable_om_usd_per_mwh=e.variable_om_usd_per_mwh,
            pool_fee_pu=e.pool_fee_pu,
            discount_rate_pu=e.discount_rate_pu,
        )
        return self

    def _build_fleet(self) -> Fleet:
        f = self.scenario.fleet
        site_mw = self.scenario.site.power_mw
        catalogue = [(m.model, m.share) for m in f.mix if m.hashrate_ths is None]
        custom = [m for m in f.mix if m.hashrate_ths is not None]
        kwargs: dict[str, Any] = {
            "uptime_pu": f.uptime_pu,
            "degradation_pu_per_year": f.degradation_pu_per_year,
            "replacement_years": f.replacement_years,
            "cooling_overhead_pu": f.cooling_overhead_pu,
        }
        if not custom:
            return build_fleet(site_mw, catalogue, **kwargs)
        overhead = f.cooling_overhead_pu
        if overhead is None:
            coolings = [
                m.cooling if m.hashrate_ths is not None else asic_spec(m.model).cooling
                for m in f.mix
            ]
            overhead = sum(
                m.share * DEFAULT_COOLING_OVERHEAD_PU.get(c, 0.08)
                for m, c in zip(f.mix, coolings, strict=True)
            )
        it_mw = site_mw / (1.0 + overhead)
        groups: list[FleetGroup] = []
        if catalogue:
            share_cat = sum(s for _, s in catalogue)
            sub = build_fleet(
                site_mw * share_cat,
                [(m, s / share_cat) for m, s in catalogue],
                **{**kwargs, "cooling_overhead_pu": overhead},
            )
            groups.extend(sub.groups)
        for m in custom:
            assert m.hashrate_ths is not None and m.power_w is not None
            units = math.floor(it_mw * m.share * 1e6 / m.power_w + 1e-9)
            groups.append(FleetGroup(m.model, units, m.hashrate_ths, m.power_w, m.cooling))
        groups.sort(key=lambda g: g.efficiency_j_per_th)
        return Fleet(
            groups=tuple(groups),
            site_power_mw=site_mw,
            cooling_overhead_pu=overhead,
            uptime_pu=f.uptime_pu,
            degradation_pu_per_year=f.degradation_pu_per_year,
            replacement_years=f.replacement_years,
        )

    def _build_grid(self) -> GridParams | None:
        site = self.scenario.site
        if site.grid == "csv":
            return None
        if site.grid == "pakistan":
            return pakistan_grid(self.scenario.tariff.fx_pkr_per_usd, site.reserve_margin_pu)
        return baseload_grid(
            site.power_mw,
            site.baseload_availability_pu,
            site.baseload_emission_tco2_per_mwh,
            fuel=site.baseload_fuel,
        )

    def grid_profile(self) -> MiningProgram:
        """Hourly demand and surplus, and the fuel slice the fleet would draw."""
        self._say("building the hourly grid-surplus profile")
        index = self._need(self.index, "build")
        fleet: Fleet = self._need(self.fleet, "build")
        site = self.scenario.site
        if site.grid == "csv":
            assert site.profile_csv is not None
            profile = load_grid_profile(site.profile_csv, index)
            profile["allowed_mw"] = np.minimum(
                profile["surplus_mw"].to_numpy(), float(fleet.group_site_power_mw().sum())
            )
            self.demand_fit = DemandFit(0.0, 0.0, {}, {})
            self.notes.append(f"grid: hourly profile read from {Path(site.profile_csv).name}")
            self.grid_hourly = profile
            return self
        grid: GridParams = self._need(self.grid, "build")
        self.demand_fit = fit_seasonal_demand(grid, year=int(index[0].year))
        profile = surplus_profile(index, grid, self.demand_fit)
        site_mw = float(fleet.group_site_power_mw().sum())
        supply = load_supply(index, grid, profile["demand_mw"].to_numpy(), site_mw)
        profile["allowed_mw"] = np.minimum(profile["surplus_mw"].to_numpy(), site_mw)
        profile["marginal_fuel"] = supply.marginal_fuel
        profile["marginal_cost_usd_per_mwh"] = supply.marginal_cost_usd_per_mwh
        profile["emission_tco2_per_mwh"] = supply.emission_tco2_per_mwh
        profile["coal_share_pu"] = supply.coal_share_pu
        self.grid_hourly = profile
        return self

    def use_grid_profile(self, grid_hourly: pd.DataFrame, demand_fit: DemandFit) -> MiningProgram:
        """Take the result of :meth:`grid_profile` from an identical earlier run.

        The grid profile depends only on the start, horizon, site, fleet and
        exchange rate; sweeps and sensitivity runs that vary other inputs reuse
        it instead of rebuilding it. The caller vouches that it matches.
        """
        index = self._need(self.index, "build")
        if len(grid_hourly) != len(index) or not grid_hourly.index.equals(index):
            raise MiningError("use_grid_profile: the profile's hours differ from this scenario's")
        self.grid_hourly = grid_hourly
        self.demand_fit = demand_fit
        return self

    def project_network(self) -> MiningProgram:
        """Difficulty, height, subsidy, fees and hashprice hour by hour."""
        self._say("projecting difficulty, halvings and fees")
        index = self._need(self.index, "build")
        self.network = project_network(index, self._need(self.network_scenario, "build"))
        return self

    def project_price(self) -> MiningProgram:
        """Hourly BTC price path."""
        self._say("projecting the price path")
        index = self._need(self.index, "build")
        self.price_usd_per_btc = price_path(index, self._need(self.price_scenario, "build"))
        return self

    def tariff(self) -> MiningProgram:
        """Set what the site pays for power, hour by hour [USD/MWh]."""
        self._say("setting the hourly tariff")
        t = self.scenario.tariff
        index = self._need(self.index, "build")
        if t.kind == "flat":
            self.tariff_usd_per_mwh = np.full(len(index), t.flat_usd_per_mwh())
        else:
            grid = self._need(self.grid_hourly, "grid_profile")
            adder = t.adder_pkr_per_kwh * 1000.0 / t.fx_pkr_per_usd
            self.tariff_usd_per_mwh = grid["marginal_cost_usd_per_mwh"].to_numpy() + adder
        return self

    def dispatch_inputs(
        self,
        network: pd.DataFrame,
        price: FloatArray,
        tariff: FloatArray,
    ) -> DispatchInputs:
        """Hourly dispatch inputs for given network, price [USD/BTC] and tariff [USD/MWh] paths.

        Public so that callers (benchmarks, Monte Carlo) can dispatch other paths
        on the same fleet and grid.
        """
        fleet: Fleet = self._need(self.fleet, "build")
        grid = self._need(self.grid_hourly, "grid_profile")
        hp_btc = hashprice_btc_per_th_day(network)
        years = np.arange(len(price), dtype=np.float64) / HOURS_PER_PROGRAM_YEAR
        return DispatchInputs(
            allowed_mw=grid["allowed_mw"].to_numpy(),
            tariff_usd_per_mwh=tariff,
            hashprice_usd_per_th_day=hp_btc * price,
            hashprice_btc_per_th_day=hp_btc,
            degradation_pu=fleet.degradation_factor(np.floor(years)),
        )

    def _dispatch(self, inputs: DispatchInputs) -> DispatchResult:
        costs: econ.CostParams = self._need(self.cost_params, "build")
        return dispatch(
            self._need(self.fleet, "build"),
            inputs,
            pool_fee_pu=costs.pool_fee_pu,
            variable_om_usd_per_mwh=costs.variable_om_usd_per_mwh,
        )

    def _hourly_table(
        self, network: pd.DataFrame, price: FloatArray, tariff: FloatArray
    ) -> tuple[pd.DataFrame, DispatchResult]:
        """Dispatch on the given paths and tabulate every hour."""
        grid = self._need(self.grid_hourly, "grid_profile")
        costs: econ.CostParams = self._need(self.cost_params, "build")
        inputs = self.dispatch_inputs(network, price, tariff)
        res = self._dispatch(inputs)
        dr = self.scenario.demand_response
        dr_rate = dr.payment_usd_per_mwh if dr.enabled else 0.0
        revenue_gross = res.btc_mined * price
        hourly = pd.DataFrame(
            {
                "demand_mw": grid["demand_mw"].to_numpy(),
                "surplus_mw": grid["surplus_mw"].to_numpy(),
                "allowed_mw": grid["allowed_mw"].to_numpy(),
                "power_mw": res.power_mw.sum(axis=1),
                "energy_mwh": res.energy_mwh,
                "curtailed_mwh": res.curtailed_mwh,
                "curtailed_economic_mwh": res.economic_curtailed_mwh,
                "curtailed_grid_mwh": res.grid_curtailed_mwh,
                "hashrate_ths": res.hashrate_ths,
                "btc_mined": res.btc_mined,
                "price_usd_per_btc": price,
                "revenue_usd": revenue_gross,
                "pool_fee_usd": revenue_gross * costs.pool_fee_pu,
                "demand_response_revenue_usd": res.grid_curtailed_mwh * dr_rate,
                "tariff_usd_per_mwh": tariff,
                "energy_cost_usd": res.energy_mwh * (tariff + costs.variable_om_usd_per_mwh),
                "hashprice_usd_per_th_day": inputs.hashprice_usd_per_th_day,
                "hashprice_btc_per_th_day": inputs.hashprice_btc_per_th_day,
                "difficulty": network["difficulty"].to_numpy(),
                "height": network["height"].to_numpy(),
                "subsidy_btc_per_block": network["subsidy_btc_per_block"].to_numpy(),
                "fees_btc_per_block": network["fees_btc_per_block"].to_numpy(),
                "network_hashrate_ehs": network["hashrate_ehs"].to_numpy(),
                "marginal_fuel": grid["marginal_fuel"].to_numpy(),
                "marginal_cost_usd_per_mwh": grid["marginal_cost_usd_per_mwh"].to_numpy(),
                "emission_tco2_per_mwh": grid["emission_tco2_per_mwh"].to_numpy(),
                "emissions_tco2": res.energy_mwh * grid["emission_tco2_per_mwh"].to_numpy(),
                "coal_energy_mwh": res.energy_mwh * grid["coal_share_pu"].to_numpy(),
                "running_pu": res.running_pu,
            },
            index=self._need(self.index, "build"),
        )
        hourly["program_year"] = (np.arange(len(hourly)) // HOURS_PER_PROGRAM_YEAR) + 1
        return hourly, res

    def dispatch(self) -> MiningProgram:
        """Run the hourly dispatch and assemble the hourly table."""
        self._say("dispatching 8,760 hours a year")
        self.hourly, self.dispatch_result = self._hourly_table(
            self._need(self.network, "project_network"),
            self._need(self.price_usd_per_btc, "project_price"),
            self._need(self.tariff_usd_per_mwh, "tariff"),
        )
        return self

    # -------------------------------------------------------------- economics

    def capital_plan(self) -> econ.CapitalPlan:
        """Capital spending and fixed O&M of this fleet over the horizon."""
        fleet: Fleet = self._need(self.fleet, "build")
        return econ.capital_plan(
            self._need(self.cost_params, "build"),
            hashrate_ths=fleet.hashrate_ths,
            site_power_mw=fleet.site_power_mw,
            years=self.scenario.scenario.years,
            replacement_years=fleet.replacement_years,
        )

    def _annual(self, hourly: pd.DataFrame) -> pd.DataFrame:
        fleet: Fleet = self._need(self.fleet, "build")
        sums = hourly.groupby("program_year").agg(
            start=("price_usd_per_btc", lambda s: s.index[0]),
            btc_mined=("btc_mined", "sum"),
            revenue_usd=("revenue_usd", "sum"),
            pool_fee_usd=("pool_fee_usd", "sum"),
            demand_response_revenue_usd=("demand_response_revenue_usd", "sum"),
            energy_mwh=("energy_mwh", "sum"),
            curtailed_mwh=("curtailed_mwh", "sum"),
            curtailed_economic_mwh=("curtailed_economic_mwh", "sum"),
            curtailed_grid_mwh=("curtailed_grid_mwh", "sum"),
            energy_cost_usd=("energy_cost_usd", "sum"),
            emissions_tco2=("emissions_tco2", "sum"),
            coal_energy_mwh=("coal_energy_mwh", "sum"),
            price_usd_per_btc=("price_usd_per_btc", "mean"),
            hashprice_usd_per_th_day=("hashprice_usd_per_th_day", "mean"),
            difficulty=("difficulty", "mean"),
            hours_running=("running_pu", lambda s: float((s > 0).sum())),
        )
        years = len(sums)
        plan = self.capital_plan()
        sums["fixed_om_usd"] = plan.fixed_om_usd_per_year
        sums["capex_usd"] = plan.replacements_usd
        sums["opex_usd"], _, sums["cashflow_usd"] = econ.yearly_cashflow_usd(
            sums["revenue_usd"],
            sums["demand_response_revenue_usd"],
            sums["energy_cost_usd"],
            sums["pool_fee_usd"],
            plan.fixed_om_usd_per_year,
            sums["capex_usd"],
        )
        sums["cumulative_cashflow_usd"] = sums["cashflow_usd"].cumsum() - plan.initial_usd
        with np.errstate(divide="ignore", invalid="ignore"):
            sums["cash_cost_usd_per_btc"] = sums["opex_usd"] / sums["btc_mined"]
            sums["cost_usd_per_btc"] = (
                sums["opex_usd"] + sums["capex_usd"] + plan.initial_usd / years
            ) / sums["btc_mined"]
            sums["coal_share_pu"] = sums["coal_energy_mwh"] / sums["energy_mwh"]
            sums["emissions_tco2_per_btc"] = sums["emissions_tco2"] / sums["btc_mined"]
        sums["capacity_factor_pu"] = sums["energy_mwh"] / (
            fleet.site_power_mw * HOURS_PER_PROGRAM_YEAR
        )
        return sums.replace([np.inf, -np.inf], np.nan)

    def _npv_of(self, hourly: pd.DataFrame) -> float:
        costs: econ.CostParams = self._need(self.cost_params, "build")
        annual = self._annual(hourly)
        flows = econ.cashflow_vector(annual, self.capital_plan().initial_usd)
        return econ.npv(flows, costs.discount_rate_pu)

    def economics(self) -> MiningProgram:
        """Yearly table and headline figures."""
        self._say("valuing cash flows")
        hourly = self._need(self.hourly, "dispatch")
        costs: econ.CostParams = self._need(self.cost_params, "build")
        fleet: Fleet = self._need(self.fleet, "build")
        net: NetworkScenario = self._need(self.network_scenario, "build")
        annual = self._annual(hourly)
        self.annual = annual
        capex0 = self.capital_plan().initial_usd
        flows = econ.cashflow_vector(annual, capex0)
        pay = econ.payback_years(flows)
        btc = float(annual["btc_mined"].sum())
        energy = float(annual["energy_mwh"].sum())
        opex = float(annual["opex_usd"].sum())
        capex = capex0 + float(annual["capex_usd"].sum())
        site_energy = fleet.site_power_mw * len(hourly)
        tariff_mean = float(
            np.average(
                hourly["tariff_usd_per_mwh"],
                weights=np.where(energy > 0, hourly["energy_mwh"], 1.0),
            )
        )
        fx = self.scenario.tariff.fx_pkr_per_usd
        nan = float("nan")
        self.summary = MiningSummary(
            scenario=self.scenario.scenario.name,
            start=pd.Timestamp(hourly.index[0]).isoformat(),
            years=self.scenario.scenario.years,
            site_power_mw=fleet.site_power_mw,
            fleet_hashrate_ths=fleet.hashrate_ths,
            fleet_efficiency_j_per_th=fleet.efficiency_j_per_th,
            asic_units=sum(g.units for g in fleet.groups),
            btc_mined=btc,
            revenue_usd=float(annual["revenue_usd"].sum()),
            demand_response_revenue_usd=float(annual["demand_response_revenue_usd"].sum()),
            energy_mwh=energy,
            curtailed_mwh=float(annual["curtailed_mwh"].sum()),
            curtailed_share_pu=float(annual["curtailed_mwh"].sum()) / site_energy,
            emissions_tco2=float(annual["emissions_tco2"].sum()),
            coal_share_pu=float(annual["coal_energy_mwh"].sum()) / energy if energy else 0.0,
            capex_usd=capex,
            opex_usd=opex,
            npv_usd=econ.npv(flows, costs.discount_rate_pu),
            irr_pu=econ.irr(flows),
            payback_years=pay,
            payback=econ.payback_label(pay),
            cost_usd_per_btc=(opex + capex) / btc if btc > 0 else nan,
            cash_cost_usd_per_btc=opex / btc if btc > 0 else nan,
            tariff_usd_per_mwh=tariff_mean,
            tariff_pkr_per_kwh=tariff_mean * fx / 1000.0,
            start_price_usd_per_btc=float(hourly["price_usd_per_btc"].iloc[0]),
            start_difficulty=net.start_difficulty,
            start_height=net.start_height,
            notes=list(self.notes),
        )
        self._next_events()
        return self

    def _next_events(self) -> None:
        summary: MiningSummary = self._need(self.summary, "economics")
        network = self._need(self.network, "project_network")
        height0 = summary.start_height
        retarget_h = (height0 // RETARGET_INTERVAL_BLOCKS + 1) * RETARGET_INTERVAL_BLOCKS
        halving_h = next_halving_height(height0)
        heights = network["height"].to_numpy()
        summary.next_retarget_height = retarget_h
        summary.next_halving_height = halving_h
        summary.next_retarget_at = _time_at_height(network.index, heights, retarget_h)
        summary.next_halving_at = _time_at_height(network.index, heights, halving_h)
        if summary.next_halving_at is None:
            blocks_per_hour = float(network["blocks"].iloc[-24 * 30 :].mean())
            hours = (halving_h - heights[-1]) / blocks_per_hour
            at = network.index[-1] + pd.Timedelta(hours=float(hours))
            summary.next_halving_at = f"{at.isoformat()} (extrapolated beyond the horizon)"

    def subsidy_test(self) -> MiningProgram:
        """IMF test of the tariff against the full cost of supply."""
        spec = self.scenario.subsidy_test
        summary: MiningSummary = self._need(self.summary, "economics")
        self._say("testing the tariff against the full cost of supply")
        if not spec.enabled:
            self.subsidy = None
            return self
        cos = self._cost_of_supply()
        years = self.scenario.scenario.years
        self.subsidy = run_subsidy_test(
            summary.tariff_pkr_per_kwh,
            summary.energy_mwh / years,
            cos,
            self.scenario.tariff.fx_pkr_per_usd,
        )
        return self

    def _cost_of_supply(self) -> CostOfSupply:
        spec = self.scenario.subsidy_test
        given = (spec.energy_pkr_per_kwh, spec.capacity_pkr_per_kwh, spec.full_pkr_per_kwh)
        if all(v is not None for v in given):
            assert spec.energy_pkr_per_kwh is not None
            assert spec.capacity_pkr_per_kwh is not None
            assert spec.full_pkr_per_kwh is not None
            return CostOfSupply(
                spec.energy_pkr_per_kwh,
                spec.capacity_pkr_per_kwh,
                spec.full_pkr_per_kwh,
                basis="scenario file",
            )
        base = pakistan_cost_of_supply()
        return CostOfSupply(
            spec.energy_pkr_per_kwh
            if spec.energy_pkr_per_kwh is not None
            else base.energy_pkr_per_kwh,
            (
                spec.capacity_pkr_per_kwh
                if spec.capacity_pkr_per_kwh is not None
                else base.capacity_pkr_per_kwh
            ),
            spec.full_pkr_per_kwh if spec.full_pkr_per_kwh is not None else base.full_pkr_per_kwh,
            basis=base.basis,
        )

    # -------------------------------------------------------------- breakevens

    def npv_with(
        self,
        *,
        price_scale: float = 1.0,
        difficulty_scale: float = 1.0,
        flat_tariff_usd_per_mwh: float | None = None,
    ) -> float:
        """NPV with the price path, difficulty path or tariff changed [USD].

        Parameters
        ----------
        price_scale
            Multiplier on the whole price path [-].
        difficulty_scale
            Multiplier on the start difficulty and network hashrate [-].
        flat_tariff_usd_per_mwh
            Replace the tariff by this flat value [USD/MWh].
        """
        net: NetworkScenario = self._need(self.network_scenario, "build")
        network = self._need(self.network, "project_network")
        if difficulty_scale != 1.0:
            network = project_network(self._need(self.index, "build"), net.scaled(difficulty_scale))
        price = self._need(self.price_usd_per_btc, "project_price") * price_scale
        tariff = self._need(self.tariff_usd_per_mwh, "tariff")
        if flat_tariff_usd_per_mwh is not None:
            tariff = np.full_like(tariff, flat_tariff_usd_per_mwh)
        hourly, _ = self._hourly_table(network, price, tariff)
        return self._npv_of(hourly)

    def breakevens(self) -> MiningProgram:
        """Price, difficulty, tariff and hashprice at which NPV is zero."""
        self._say("solving breakevens (price, difficulty, tariff)")
        summary: MiningSummary = self._need(self.summary, "economics")
        fx = self.scenario.tariff.fx_pkr_per_usd
        k_price = _root(lambda k: self.npv_with(price_scale=k), 1e-3, 1e3)
        if k_price is not None:
            summary.breakeven_price_usd_per_btc = k_price * summary.start_price_usd_per_btc
        k_diff = _root(lambda k: self.npv_with(difficulty_scale=k), 1e-2, 1e2)
        if k_diff is not None:
            summary.breakeven_difficulty = k_diff * summary.start_difficulty
        t = _root(lambda usd: self.npv_with(flat_tariff_usd_per_mwh=usd), 0.0, 2000.0)
        if t is not None:
            summary.breakeven_tariff_usd_per_kwh = t / 1000.0
            summary.breakeven_tariff_pkr_per_kwh = t / 1000.0 * fx
        summary.breakeven_hashprice_usd_per_th_day = self._breakeven_hashprice()
        return self

    def _breakeven_hashprice(self) -> float | None:
        """Levelised cost per TH/s-day online: PV(all costs) / PV(TH/s-days x (1 - fee))."""
        hourly = self._need(self.hourly, "dispatch")
        annual = self._need(self.annual, "economics")
        costs: econ.CostParams = self._need(self.cost_params, "build")
        th_days = hourly.groupby("program_year")["hashrate_ths"].sum().to_numpy() / 24.0
        spend = (
            annual["energy_cost_usd"] + annual["fixed_om_usd"] + annual["capex_usd"]
        ).to_numpy()
        years = np.arange(1, len(spend) + 1, dtype=np.float64)
        disc = (1.0 + costs.discount_rate_pu) ** years
        pv_cost = self.capital_plan().initial_usd + float((spend / disc).sum())
        pv_th_days = float((th_days * (1.0 - costs.pool_fee_pu) / disc).sum())
        return pv_cost / pv_th_days if pv_th_days > 0 else None

    # ------------------------------------------------------------------ run

    def run(self) -> MiningProgram:
        """Run every step in order and return ``self``."""
        for step in self.STEPS:
            getattr(self, step)()
        return self


def _root(func: Callable[[float], float], lo: float, hi: float) -> float | None:
    """Root of a monotone function in [lo, hi], or None when it has no sign change."""
    f_lo, f_hi = func(lo), func(hi)
    if f_lo == 0.0:
        return lo
    if f_lo * f_hi > 0:
        return None
    return float(brentq(func, lo, hi, xtol=1e-6, rtol=1e-6, maxiter=100))


def _time_at_height(index: pd.DatetimeIndex, heights: FloatArray, target: int) -> str | None:
    pos = int(np.searchsorted(heights, target, side="left"))
    if pos >= len(heights):
        return None
    return pd.Timestamp(index[pos]).isoformat()
