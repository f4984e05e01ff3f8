"""Accumulation policies and reserve risk on the bundled prices."""

import csv
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from hashnation.data.loaders import fact_value, load_facts
from hashnation.errors import InputError
from hashnation.reserve.policy import Policy, backtest
from hashnation.reserve.risk import reserve_risk

FILES = Path(__file__).resolve().parents[2] / "src" / "hashnation" / "data" / "files"


def _raw_prices() -> dict[str, float]:
    with (FILES / "btc_price_daily_coingecko_2013_2026.csv").open(newline="") as fh:
        return {r["date"]: float(r["price_usd_per_btc"]) for r in csv.DictReader(fh)}


def test_one_btc_a_day_from_2022_11_17_by_hand() -> None:
    """El Salvador's policy over its first five days, checked against the raw price rows."""
    raw = _raw_prices()
    days = ["2022-11-17", "2022-11-18", "2022-11-19", "2022-11-20", "2022-11-21"]
    result = backtest(Policy("fixed_btc", btc_per_day=1.0), date(2022, 11, 17), date(2022, 11, 21))
    # By hand: 5 BTC bought, cost = sum of the five daily prices, average = cost / 5.
    cost = sum(raw[d] for d in days)
    assert result["holdings_sat"].iloc[-1] == 5 * 100_000_000
    assert result["cost_basis_usd"].iloc[-1] == pytest.approx(cost, rel=1e-12)
    assert result["avg_cost_usd_per_btc"].iloc[-1] == pytest.approx(cost / 5, rel=1e-12)
    assert result["value_usd"].iloc[-1] == pytest.approx(5 * raw["2022-11-21"], rel=1e-12)


def test_fixed_usd_buys_more_when_cheap() -> None:
    r = backtest(Policy("fixed_usd", usd_per_day=1000.0), date(2022, 11, 1), date(2022, 12, 31))
    price = r["price_usd_per_btc"].to_numpy()
    bought = r["bought_sat"].to_numpy()
    assert bought[np.argmin(price)] == bought.max()
    assert r["usd_spent"].sum() == pytest.approx(61 * 1000.0, rel=1e-4)
    # Dollar-cost averaging: average cost <= mean price (harmonic <= arithmetic mean).
    assert r["avg_cost_usd_per_btc"].iloc[-1] <= price.mean()


def test_value_averaging_tracks_its_target_and_never_sells() -> None:
    r = backtest(Policy("value_averaging", usd_per_day=500.0), date(2023, 1, 1), date(2023, 6, 30))
    assert (r["bought_sat"] >= 0).all()
    target = 500.0 * np.arange(1, len(r) + 1)
    # On days it buys, value reaches the target (to the satoshi).
    buys = r["bought_sat"].to_numpy() > 0
    np.testing.assert_allclose(r["value_usd"].to_numpy()[buys], target[buys], rtol=1e-6)


def test_imf_constraint_stops_purchases_but_not_mining() -> None:
    stop = date(2025, 3, 1)
    buy = backtest(
        Policy("fixed_btc", btc_per_day=1.0, no_purchases_from=stop),
        date(2025, 2, 20),
        date(2025, 3, 10),
    )
    assert (buy.loc[:"2025-02-28", "bought_sat"] == 100_000_000).all()
    assert (buy.loc["2025-03-01":, "bought_sat"] == 0).all()
    mine = backtest(
        Policy("mining", btc_per_day=0.5, no_purchases_from=stop),
        date(2025, 2, 20),
        date(2025, 3, 10),
    )
    assert (mine["mined_sat"] == 50_000_000).all()
    assert mine["usd_spent"].sum() == 0.0


def test_compare_with_el_salvador_published_holdings() -> None:
    """Bundled facts (press snapshots of the public address): 5,693 BTC on 2024-03-19,
    5,871 on 2024-09-12. One BTC a day adds 177 BTC over those 177 days; the
    published change, 178 BTC, agrees to one day's purchase."""
    facts = load_facts("el_salvador")
    snaps = facts[facts["fact"] == "reserve_holdings"].set_index("as_of")["value"].astype(float)
    published = snaps["2024-09-12"] - snaps["2024-03-19"]
    r = backtest(Policy("fixed_btc", btc_per_day=1.0), date(2024, 3, 20), date(2024, 9, 12))
    ours = r["holdings_sat"].iloc[-1] / 1e8
    assert abs(ours - published) <= 1.0
    assert fact_value("el_salvador", "reserve_holdings", as_of="2024-09-12") == 5871


def test_reserve_risk_stress_and_share() -> None:
    risk = reserve_risk(6000.0, 100_000.0, horizon_days=30, confidence=0.95)
    assert risk.value_usd == 600e6
    assert risk.stress_loss_usd[0.8] == pytest.approx(480e6)
    assert risk.share_of_financing_need_pu == pytest.approx(0.006)
    assert 0 < risk.var_usd < risk.cvar_usd < risk.value_usd
    # 30-day VaR is larger than 1-day VaR.
    assert risk.var_usd > reserve_risk(6000.0, 100_000.0, horizon_days=1).var_usd


def test_bad_inputs() -> None:
    with pytest.raises(InputError, match=r"policy\.btc_per_day"):
        Policy("fixed_btc", btc_per_day=0.0)
    with pytest.raises(InputError, match="backtest window"):
        backtest(Policy("fixed_btc", btc_per_day=1.0), date(2010, 1, 1), date(2010, 2, 1))
    with pytest.raises(InputError, match="stresses"):
        reserve_risk(1.0, 1.0, stresses=(1.5,))
    with pytest.raises(InputError, match=r"policy\.kind: got 'lottery'"):
        Policy("lottery")  # type: ignore[arg-type]
