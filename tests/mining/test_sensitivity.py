"""Tornado and Sobol sensitivity on the real model (El Salvador example, few paths)."""

from pathlib import Path

import numpy as np
import pytest

from hashnation.errors import InputError
from hashnation.mining.drivers import DriverParams
from hashnation.mining.montecarlo import MonteCarlo
from hashnation.mining.program import (
    MiningProgram,
    last_bundled_price,
    median_fees_btc_per_block,
)
from hashnation.mining.scenario import Scenario, load_scenario
from hashnation.mining.sensitivity import (
    FACTORS,
    factor,
    resolve_factors,
    sobol,
    sobol_cost_points,
    tornado,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED = 11
TORNADO_COLUMNS = [
    "factor",
    "unit",
    "low",
    "high",
    "npv_low_usd",
    "npv_high_usd",
    "swing_usd",
    "base_npv_usd",
]


@pytest.fixture(scope="module")
def salvador() -> Scenario:
    return load_scenario(EXAMPLES / "el-salvador-geothermal.toml")


@pytest.fixture(scope="module")
def pakistan() -> Scenario:
    return load_scenario(EXAMPLES / "pakistan-2000mw.toml")


# A hashrate response delayed beyond the 8-year horizon (2,922 days) never acts:
# the elasticity then has no effect at all.
NO_RESPONSE = DriverParams(hashrate_lag_days=3650)


@pytest.fixture(scope="module")
def table(salvador: Scenario):
    return tornado(
        salvador,
        NO_RESPONSE,
        [
            "tariff",
            "price.start_usd_per_btc",
            "economics.asic_price_usd_per_th",
            "drivers.hashrate_elasticity",
        ],
        paths=12,
        seed=SEED,
        scheduler="synchronous",
    )


def test_registry_defaults_bracket_the_base(salvador: Scenario, pakistan: Scenario) -> None:
    drivers = DriverParams().resolved()
    for sc in (salvador, pakistan):
        for f in FACTORS.values():
            low, high = f.bounds(sc, drivers)
            base = f.base_value(sc, drivers)
            assert low <= base <= high, f.name
            # The default range is itself valid: applying it raises nothing.
            f.apply(sc, drivers, low)
            f.apply(sc, drivers, high)
    tariff = factor("tariff")
    assert tariff.field(pakistan) == "tariff.pkr_per_kwh"
    assert tariff.unit_for(pakistan) == "PKR/kWh"
    assert tariff.bounds(pakistan, drivers) == pytest.approx((23.0 * 0.8, 23.0 * 1.2))
    assert tariff.field(salvador) == "tariff.usd_per_kwh"
    assert tariff.unit_for(salvador) == "USD/kWh"
    start = factor("price.start_usd_per_btc")
    price = last_bundled_price()[0]
    assert start.bounds(salvador, drivers) == pytest.approx((0.7 * price, 1.3 * price))
    fees = factor("network.fees_btc_per_block")
    assert fees.base_value(pakistan, drivers) == pytest.approx(median_fees_btc_per_block())


def test_apply_returns_a_new_validated_pair(salvador: Scenario) -> None:
    drivers = DriverParams().resolved()
    sc, dr = factor("tariff").apply(salvador, drivers, 0.07)
    assert sc.tariff.usd_per_kwh == 0.07
    assert salvador.tariff.usd_per_kwh == 0.05
    assert dr is drivers
    sc, dr = factor("drivers.failure_rate_pu_per_year").apply(salvador, drivers, 0.05)
    assert dr.failure_rate_pu_per_year == 0.05
    assert sc is salvador
    with pytest.raises(InputError, match=r"fleet\.uptime_pu: got 1\.5"):
        factor("fleet.uptime_pu").apply(salvador, drivers, 1.5)
    with pytest.raises(InputError, match=r"tariff\.usd_per_kwh: got 3\.0"):
        factor("tariff").apply(salvador, drivers, 3.0)
    with pytest.raises(InputError, match=r"drivers\.failure_rate_pu_per_year"):
        factor("drivers.failure_rate_pu_per_year").apply(salvador, drivers, 0.9)


def test_default_ranges_are_clipped_to_valid_values(salvador: Scenario) -> None:
    drivers = DriverParams().resolved()
    high_uptime = salvador.model_copy(
        update={"fleet": salvador.fleet.model_copy(update={"uptime_pu": 0.99})}
    )
    low, high = factor("fleet.uptime_pu").bounds(high_uptime, drivers)
    assert (low, high) == pytest.approx((0.94, 1.0))
    wide = factor("price.drift_pu_per_year").with_range(-0.5, 0.5)
    assert wide.bounds(salvador, drivers) == (-0.5, 0.5)
    with pytest.raises(InputError, match=r"price\.drift_pu_per_year: got -2"):
        factor("price.drift_pu_per_year").with_range(-2.0, 0.5).bounds(salvador, drivers)
    with pytest.raises(InputError, match="factors"):
        factor("tariff").with_range(0.06, 0.04)


def test_unknown_or_repeated_factor_is_refused() -> None:
    with pytest.raises(InputError, match=r"factors: got 'price\.nope'.*tariff"):
        resolve_factors(["price.nope"])
    with pytest.raises(InputError, match="each factor at most once"):
        resolve_factors(["tariff", "tariff"])
    assert len(resolve_factors(None)) == len(FACTORS) == 12


def test_tornado_sorted_by_swing_with_the_right_signs(table) -> None:
    assert list(table.columns[: len(TORNADO_COLUMNS)]) == TORNADO_COLUMNS
    assert len(table) == 4
    swings = table["swing_usd"].to_numpy()
    assert np.all(np.diff(swings) <= 0)
    np.testing.assert_allclose(swings, (table["npv_high_usd"] - table["npv_low_usd"]).abs())
    rows = table.set_index("factor")
    # Dearer power, dearer machines -> lower NPV; a higher start price -> higher NPV.
    assert rows.loc["tariff", "npv_high_usd"] < rows.loc["tariff", "npv_low_usd"]
    asic = rows.loc["economics.asic_price_usd_per_th"]
    assert asic["npv_high_usd"] < asic["npv_low_usd"]
    start = rows.loc["price.start_usd_per_btc"]
    assert start["npv_high_usd"] > start["npv_low_usd"]
    assert rows.loc["tariff", "unit"] == "USD/kWh"
    assert rows.loc["tariff", "low"] == pytest.approx(0.04)
    assert table.attrs["seed"] == SEED
    assert table.attrs["runs"] == 9


def test_factor_without_effect_has_zero_swing(table) -> None:
    row = table.set_index("factor").loc["drivers.hashrate_elasticity"]
    assert row["low"] == 0.0 and row["high"] == 2.0
    assert row["swing_usd"] <= 1e-9 * abs(row["base_npv_usd"])
    assert table["factor"].iloc[-1] == "drivers.hashrate_elasticity"


def test_tornado_base_is_the_plain_monte_carlo(salvador: Scenario, table) -> None:
    # Common random numbers: the base run is exactly MonteCarlo.run with the same seed.
    direct = MonteCarlo(MiningProgram(salvador), NO_RESPONSE).run(12, SEED, scheduler="synchronous")
    assert table["base_npv_usd"].iloc[0] == pytest.approx(
        float(direct.paths["npv_usd"].mean()), rel=1e-12
    )


def test_tornado_threads_equal_synchronous_and_report_progress(salvador: Scenario, table) -> None:
    calls: list[tuple[int, int]] = []
    threaded = tornado(
        salvador,
        NO_RESPONSE,
        ["tariff"],
        paths=12,
        seed=SEED,
        scheduler="threads",
        progress=lambda done, total: calls.append((done, total)),
    )
    ref = table.set_index("factor").loc["tariff"]
    got = threaded.iloc[0]
    assert got["npv_low_usd"] == pytest.approx(ref["npv_low_usd"], rel=1e-12)
    assert got["npv_high_usd"] == pytest.approx(ref["npv_high_usd"], rel=1e-12)
    assert calls[-1] == (3, 3)
    assert [d for d, _ in calls] == [1, 2, 3]


def test_tornado_median_statistic(salvador: Scenario) -> None:
    t = tornado(
        salvador,
        NO_RESPONSE,
        ["tariff"],
        paths=6,
        seed=SEED,
        statistic="p50",
        scheduler="synchronous",
    )
    assert t.attrs["statistic"] == "p50"
    assert t["npv_high_usd"].iloc[0] < t["npv_low_usd"].iloc[0]
    with pytest.raises(InputError, match="statistic"):
        tornado(salvador, factors=["tariff"], statistic="p90")  # type: ignore[arg-type]


def test_sobol_ranks_the_dominant_factor_first(salvador: Scenario) -> None:
    # Start price varied widely, the others barely: the price must dominate.
    factors = [
        factor("tariff").with_range(0.049, 0.051),
        factor("price.start_usd_per_btc").with_range(40_000.0, 160_000.0),
        factor("drivers.failure_rate_pu_per_year").with_range(0.019, 0.021),
    ]
    calls: list[tuple[int, int]] = []
    result = sobol(
        salvador,
        NO_RESPONSE,
        factors,
        n_base=16,
        paths_per_point=2,
        seed=SEED,
        scheduler="synchronous",
        progress=lambda done, total: calls.append((done, total)),
    )
    assert list(result.columns) == [
        "factor",
        "unit",
        "low",
        "high",
        "s1",
        "s1_conf",
        "st",
        "st_conf",
    ]
    assert set(result["factor"]) == {f.name for f in factors}
    assert result["factor"].iloc[0] == "price.start_usd_per_btc"
    top = result.iloc[0]
    assert top["s1"] > 0.5 and top["st"] > 0.5
    others = result.iloc[1:]
    assert (others["st"] < 0.1).all()
    ci = result["s1_conf"] + result["st_conf"]
    assert (result["st"] >= result["s1"] - ci).all()
    points = sobol_cost_points(16, 3)
    assert result.attrs["points"] == points == 80
    assert calls[-1] == (points, points)


def test_sobol_refuses_bad_settings(salvador: Scenario) -> None:
    with pytest.raises(InputError, match="n_base: got 10"):
        sobol(salvador, factors=["tariff"], n_base=10)
    with pytest.raises(InputError, match="paths_per_point"):
        sobol(salvador, factors=["tariff"], paths_per_point=0)
    with pytest.raises(InputError, match=r"factors\.tariff.*low < high"):
        sobol(salvador, factors=[factor("tariff").with_range(0.05, 0.05)], n_base=2)
