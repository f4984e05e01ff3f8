"""Grid-surplus profile and merit order."""

import numpy as np
import pandas as pd
import pytest

from hashnation.data.loaders import fact_value
from hashnation.errors import InputError
from hashnation.mining.grid import (
    DemandFacts,
    FuelBlock,
    GridParams,
    available_by_block_mw,
    demand_mw,
    fit_seasonal_demand,
    hourly_index,
    load_supply,
    slice_fuel_mix,
    surplus_profile,
)
from hashnation.mining.presets import emission_tco2_per_mwh, pakistan_grid

YEAR = hourly_index(pd.Timestamp("2025-01-01", tz="UTC"), 8760)


@pytest.fixture(scope="module")
def pakistan() -> GridParams:
    return pakistan_grid(fx_pkr_per_usd=280.0)


def test_fit_recovers_parameters_from_consistent_facts(pakistan: GridParams) -> None:
    """Facts generated from known (a, b) must give back (a, b)."""
    from dataclasses import replace

    from hashnation.mining.grid import DemandFit

    truth = DemandFit(15_000.0, 6_000.0, {}, {})
    demand = demand_mw(YEAR, pakistan, truth)
    local = YEAR.tz_convert(pakistan.timezone)
    window = (local.month >= 7) | (local.month <= 3)
    facts = DemandFacts(
        summer_peak_mw=float(demand.max()),
        winter_peak_mw=float(
            demand[np.argmax(np.where(np.isin(local.day_of_year, [362, 363]), demand, 0))]
        ),
        energy_gwh=float(demand[window].sum() / 1000.0),
    )
    fit = fit_seasonal_demand(replace(pakistan, demand=facts), year=2025)
    assert fit.mean_mw == pytest.approx(15_000.0, rel=2e-3)
    assert fit.seasonal_amplitude_mw == pytest.approx(6_000.0, rel=5e-3)


def test_pakistan_fit_reproduces_each_published_fact_within_15_percent(
    pakistan: GridParams,
) -> None:
    fit = fit_seasonal_demand(pakistan)
    assert fit.published["summer_peak_mw"] == fact_value(
        "pakistan", "peak_demand_summer_2022-06-29"
    )
    for name, residual in fit.relative_residuals().items():
        assert abs(residual) < 0.15, (name, residual)


def test_pakistan_capacity_adds_up_to_installed_total(pakistan: GridParams) -> None:
    total = fact_value("pakistan", "installed_capacity_total")
    # Published shares sum to 100.4 %, so allow 1 %.
    assert pakistan.installed_capacity_mw == pytest.approx(total, rel=0.01)
    names = {f.name for f in pakistan.fuels}
    assert {"hydro", "nuclear", "local_coal", "imported_coal", "rlng", "rfo", "gas"} <= names


def test_winter_has_more_surplus_than_summer(pakistan: GridParams) -> None:
    prof = surplus_profile(YEAR, pakistan)
    month = prof.index.tz_convert("Asia/Karachi").month
    assert (prof["surplus_mw"] >= 0).all()
    winter = prof["surplus_mw"][np.isin(month, [12, 1])].mean()
    summer = prof["surplus_mw"][np.isin(month, [6, 7])].mean()
    assert winter > 1.5 * summer
    # Demand peaks in the local evening.
    hourly_mean = prof["demand_mw"].groupby(prof.index.tz_convert("Asia/Karachi").hour).mean()
    assert 18 <= int(hourly_mean.idxmax()) <= 22


def test_slice_fuel_mix_by_hand() -> None:
    # Stack 1000 | 2000 | 500 MW; demand 2500 MW; extra load 1000 MW.
    # Block 1 covers 0-1000, block 2 1000-3000, block 3 3000-3500:
    # the slice 2500-3500 takes 500 MW from block 2 and 500 MW from block 3.
    stack = np.array([[1000.0, 2000.0, 500.0]])
    mix = slice_fuel_mix(stack, np.array([2500.0]), np.array([1000.0]))
    np.testing.assert_allclose(mix, [[0.0, 500.0, 500.0]])
    short = slice_fuel_mix(stack, np.array([3200.0]), np.array([1000.0]))
    np.testing.assert_allclose(short, [[0.0, 0.0, 300.0]])


def test_load_supply_costs_and_coal_share() -> None:
    params = GridParams(
        fuels=(
            FuelBlock("coal", 1000.0, (1.0,), 30.0, 1.0, is_coal=True),
            FuelBlock("hydro", 1000.0, (1.0,), 0.0, 0.0),
            FuelBlock("oil", 1000.0, (1.0,), 100.0, 0.8),
        ),
        demand=DemandFacts(0.0, 0.0, 0.0),
    )
    idx = hourly_index(pd.Timestamp("2025-01-01", tz="UTC"), 3)
    demand = np.array([500.0, 1500.0, 1900.0])
    out = load_supply(idx, params, demand, 200.0)
    # Hour 0: slice 500-700 in hydro; hour 1: in coal; hour 2: 100 coal + 100 oil.
    np.testing.assert_allclose(out.marginal_cost_usd_per_mwh, [0.0, 30.0, 65.0])
    np.testing.assert_allclose(out.emission_tco2_per_mwh, [0.0, 1.0, 0.9])
    np.testing.assert_allclose(out.coal_share_pu, [0.0, 1.0, 0.5])
    assert list(out.marginal_fuel) == ["hydro", "coal", "oil"]


def test_solar_bell_keeps_daily_energy() -> None:
    params = GridParams(
        fuels=(FuelBlock("solar", 100.0, (0.25,), 0.0, 0.0, solar=True),),
        demand=DemandFacts(0.0, 0.0, 0.0),
    )
    stack = available_by_block_mw(YEAR, params)
    daily = stack[:, 0].reshape(-1, 24).sum(axis=1)
    np.testing.assert_allclose(daily, 100.0 * 0.25 * 24, rtol=0.01)
    assert stack[:, 0].min() == 0.0


def test_emission_factor_gem_worked_example() -> None:
    # emission_factors.csv: 8863 Btu/kWh x 1.055056e-3 MJ/Btu x 96.1 kg/GJ = 0.899
    assert emission_tco2_per_mwh(8863, 96.1) == pytest.approx(0.899, abs=5e-4)


def test_bad_fuel_block_names_field() -> None:
    with pytest.raises(InputError, match=r"grid\.fuels\.coal\.availability_pu.*1\.5"):
        FuelBlock("coal", 10.0, (1.5,), 1.0, 1.0)
    with pytest.raises(InputError, match="capacity_mw"):
        FuelBlock("coal", -1.0, (1.0,), 1.0, 1.0)


def test_naive_start_is_refused() -> None:
    with pytest.raises(InputError, match="tz-aware"):
        hourly_index(pd.Timestamp("2025-01-01"), 10)
