"""MiningProgram end to end on the bundled examples."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hashnation.errors import MiningError
from hashnation.mining.program import MiningProgram, network_start
from hashnation.mining.scenario import parse_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def pakistan() -> MiningProgram:
    return MiningProgram.from_toml(EXAMPLES / "pakistan-2000mw.toml").run()


def test_annual_table_adds_up_the_hours(pakistan: MiningProgram) -> None:
    r = pakistan.results
    assert len(r.hourly) == 10 * 8760
    assert r.hourly.index.tz is not None
    for col in ("btc_mined", "revenue_usd", "energy_mwh", "curtailed_mwh", "emissions_tco2"):
        assert r.annual[col].sum() == pytest.approx(r.hourly[col].sum(), rel=1e-12)
        assert r.annual[col].sum() >= 0
    assert r.summary.btc_mined == pytest.approx(r.hourly["btc_mined"].sum(), rel=1e-12)
    # Energy drawn + curtailed = site power x hours x uptime-adjusted share.
    site = pakistan.fleet.group_site_power_mw().sum() if pakistan.fleet else 0
    drawn = r.hourly["power_mw"] + r.hourly["curtailed_mwh"]
    np.testing.assert_allclose(drawn, site, rtol=1e-9)


def test_emissions_follow_the_marginal_slice(pakistan: MiningProgram) -> None:
    h = pakistan.results.hourly
    np.testing.assert_allclose(h["emissions_tco2"], h["energy_mwh"] * h["emission_tco2_per_mwh"])
    s = pakistan.results.summary
    assert 0.0 <= s.coal_share_pu <= 1.0
    assert s.emissions_tco2 > 0


def test_halving_shows_in_the_projection(pakistan: MiningProgram) -> None:
    h = pakistan.results.hourly
    drop = h.index[np.argmax(h["subsidy_btc_per_block"].to_numpy() < 3.125)]
    assert pd.Timestamp("2027-06-01", tz="UTC") < drop < pd.Timestamp("2028-12-31", tz="UTC")
    assert h["height"].iloc[h.index.get_loc(drop)] >= 1_050_000
    assert pakistan.results.summary.next_halving_height == 1_050_000


def test_breakevens_zero_the_npv(pakistan: MiningProgram) -> None:
    s = pakistan.results.summary
    assert s.breakeven_price_usd_per_btc is not None
    k = s.breakeven_price_usd_per_btc / s.start_price_usd_per_btc
    assert abs(pakistan.npv_with(price_scale=k)) < 1e-4 * s.capex_usd
    assert pakistan.npv_with(price_scale=k * 1.05) > 0 > pakistan.npv_with(price_scale=k * 0.95)
    assert s.breakeven_difficulty is not None
    kd = s.breakeven_difficulty / s.start_difficulty
    assert abs(pakistan.npv_with(difficulty_scale=kd)) < 1e-4 * s.capex_usd


def test_subsidy_verdict_for_rs_23(pakistan: MiningProgram) -> None:
    sub = pakistan.results.subsidy
    assert sub is not None
    assert not sub.subsidy_free
    assert sub.tariff_pkr_per_kwh == pytest.approx(23.0)
    years = pakistan.scenario.scenario.years
    assert sub.energy_mwh_per_year == pytest.approx(pakistan.results.summary.energy_mwh / years)


def test_steps_must_run_in_order() -> None:
    program = MiningProgram.from_toml(EXAMPLES / "el-salvador-geothermal.toml")
    with pytest.raises(MiningError, match="has not run yet"):
        program.dispatch()


def test_program_reproduces_the_hand_case(one_mw_scenario) -> None:
    """Same as the dispatch hand case: 0.0314321369 BTC in the first day."""
    program = MiningProgram(parse_scenario(one_mw_scenario())).run()
    first_day = program.results.hourly["btc_mined"].iloc[:24].sum()
    assert first_day == pytest.approx(0.0314321369, rel=1e-8)


def test_halving_shock_lowers_btc_by_the_subsidy_ratio(one_mw_scenario) -> None:
    """Starting 1,000 blocks before the 2028 halving, year-2 BTC is half of year-1's rate."""
    program = MiningProgram(parse_scenario(one_mw_scenario(network__start_height=1_049_000))).run()
    h = program.results.hourly
    before = h["btc_mined"].iloc[:100].mean()
    after = h["btc_mined"].iloc[170:220].mean()  # before the next retarget (hour 223)
    assert after / before == pytest.approx(0.5, rel=1e-9)


def test_network_start_inside_and_after_the_data() -> None:
    inside = network_start(pd.Timestamp("2024-07-04T10:00Z"), 0.25)
    assert inside.difficulty == pytest.approx(83_675_262_295_059.9)
    assert 848_736 <= inside.height < 848_736 + 2016
    after = network_start(pd.Timestamp("2026-06-01T00:00Z"), 0.25)
    assert after.height > 925_344
    assert after.difficulty > 1.49e14
    assert "extrapolated" in after.basis


def test_el_salvador_runs_without_emissions() -> None:
    r = MiningProgram.from_toml(EXAMPLES / "el-salvador-geothermal.toml").run().results
    assert r.summary.emissions_tco2 == 0.0
    assert r.subsidy is None
    assert r.summary.btc_mined > 0
    assert set(r.hourly["marginal_fuel"]) == {"geothermal"}
