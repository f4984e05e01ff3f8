"""Tests of the HTML report and its figures (pure functions, one real model run)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from hashnation.mining.grid import DemandFit
from hashnation.mining.program import MiningProgram, MiningResults
from hashnation.mining.report import (
    PLOTLY_JS_FILE,
    build_report,
    cost_per_btc_figure,
    cumulative_btc_figure,
    dispatch_heatmap,
    figures,
    hashprice_figure,
    headline_rows,
    monthly_btc_figure,
    subsidy_verdict,
    timezone_for,
)
from hashnation.mining.subsidy import CostOfSupply, subsidy_test

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "el-salvador-geothermal.toml"
NEPRA = CostOfSupply(9.67, 16.67, 34.01, basis="NEPRA FY2026 (test)")


@pytest.fixture(scope="module")
def results() -> MiningResults:
    return MiningProgram.from_toml(EXAMPLE).run().results


def with_summary(results: MiningResults, **changes: object) -> MiningResults:
    return dataclasses.replace(results, summary=dataclasses.replace(results.summary, **changes))


def row_value(results: MiningResults, key: str) -> str:
    return next(r.value for r in headline_rows(results) if r.key.startswith(key))


# --------------------------------------------------------------------------- figures


def test_figures_are_all_built(results: MiningResults) -> None:
    figs = figures(results)
    assert list(figs) == ["dispatch", "monthly", "cumulative", "cost", "hashprice"]
    for fig in figs.values():
        assert len(fig.data) >= 1
        assert fig.layout.title.text


def test_dispatch_heatmap_is_hour_by_day_of_year_one(results: MiningResults) -> None:
    fig = dispatch_heatmap(results.hourly)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z.shape == (24, 365)
    assert np.nanmin(z) >= 0.0 and np.nanmax(z) <= 1.0
    year1 = results.hourly.loc[results.hourly["program_year"] == 1, "running_pu"]
    assert np.nanmean(z) == pytest.approx(year1.mean(), rel=1e-9)


def test_dispatch_heatmap_uses_local_time(results: MiningResults) -> None:
    fig = dispatch_heatmap(results.hourly, timezone="Asia/Karachi")
    z = np.asarray(fig.data[0].z, dtype=float)
    # UTC midnight is 05:00 in Karachi: the first local day starts at hour 5.
    assert np.isnan(z[:5, 0]).all()
    assert not np.isnan(z[5:, 0]).any()
    assert "Asia/Karachi" in fig.layout.yaxis.title.text


def test_monthly_bars_add_up_to_the_total(results: MiningResults) -> None:
    fig = monthly_btc_figure(results.hourly)
    bars, line = fig.data
    assert math.isclose(float(np.sum(bars.y)), results.summary.btc_mined, rel_tol=1e-9)
    assert math.isclose(float(np.sum(line.y)), results.summary.revenue_usd, rel_tol=1e-9)
    assert line.yaxis == "y2"


def test_cumulative_marks_each_halving(results: MiningResults) -> None:
    fig = cumulative_btc_figure(results.hourly)
    assert float(fig.data[0].y[-1]) == pytest.approx(results.summary.btc_mined, rel=1e-9)
    subsidy = results.hourly["subsidy_btc_per_block"].to_numpy()
    drops = int((np.diff(subsidy) < 0).sum())
    assert drops == 2  # 2028 and 2032 within the eight-year horizon
    assert len(fig.layout.shapes) == drops
    assert "3.125 → 1.5625" in fig.layout.annotations[0].text


def test_cost_per_btc_follows_the_annual_table(results: MiningResults) -> None:
    fig = cost_per_btc_figure(results.annual)
    names = [t.name for t in fig.data]
    assert any("cost_usd_per_btc" in n for n in names)
    assert any("cash_cost_usd_per_btc" in n for n in names)
    assert any("price_usd_per_btc" in n for n in names)
    np.testing.assert_array_equal(
        np.asarray(fig.data[0].y, dtype=float), results.annual["cost_usd_per_btc"].to_numpy()
    )
    # Years without BTC have no cost per BTC; the figure says so.
    assert "no BTC mined" in fig.layout.annotations[0].text


def test_hashprice_figure_has_breakeven_line(results: MiningResults) -> None:
    fig = hashprice_figure(results.hourly, 0.07)
    assert fig.layout.yaxis.type == "log"
    assert list(fig.data[1].y) == [0.07, 0.07]
    assert len(hashprice_figure(results.hourly, None).data) == 1


# --------------------------------------------------------------------------- HTML


def test_report_structure(results: MiningResults) -> None:
    html = build_report(results, timezone="America/El_Salvador")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count(f'<script src="{PLOTLY_JS_FILE}"></script>') == 1
    assert html.count('class="plotly-graph-div"') == 5
    assert "cdn.plot.ly" not in html
    assert results.summary.scenario in html
    for section in (
        "Headline figures",
        "IMF subsidy test",
        "Yearly table",
        "Notes on this run",
        "Grid demand fit",
        "curtailment rule",
        "Where the data come from",
    ):
        assert section in html
    for key in ("btc_mined", "cost_usd_per_btc", "cash_cost_usd_per_btc", "emissions_tco2"):
        assert key in html
    assert "does not pay back" in html
    assert "loses money even with free power" in html  # breakeven tariff is None
    assert "Not run for this scenario" in html
    for note in results.summary.notes:
        assert note.replace("'", "&#x27;") in html


def test_report_escapes_text(results: MiningResults) -> None:
    evil = with_summary(results, scenario="<script>alert('x')</script> & co", notes=["<b>bold</b>"])
    html = build_report(evil, scenario_file="<x>.toml")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;x&gt;.toml" in html


@pytest.mark.parametrize(("tariff", "verdict"), [(23.0, "NO"), (40.0, "YES")])
def test_subsidy_section(results: MiningResults, tariff: float, verdict: str) -> None:
    test = subsidy_test(tariff, 724_277.0, NEPRA, 280.0)
    html = build_report(dataclasses.replace(results, subsidy=test))
    assert f"Subsidy-free: <strong>{verdict}</strong>" in html
    assert f"subsidy-free: {verdict}" in html  # the explanation paragraph
    for value in ("9.67", "16.67", "26.34", "7.67", "34.01", f"{tariff:.2f}"):
        assert f">{value}<" in html
    line = subsidy_verdict(test)
    assert line.startswith(f"IMF subsidy test: subsidy-free {verdict}")
    assert ("implied subsidy" in line) == (verdict == "NO")


def test_subsidy_verdict_when_disabled() -> None:
    assert "not run" in subsidy_verdict(None)


def test_demand_fit_residuals(results: MiningResults) -> None:
    fit = DemandFit(
        mean_mw=16_805.0,
        seasonal_amplitude_mw=7_085.0,
        modelled={"summer_peak_mw": 26_732.0, "winter_peak_mw": 11_648.0, "energy_gwh": 100_339.0},
        published={"summer_peak_mw": 29_187.0, "winter_peak_mw": 12_280.0, "energy_gwh": 90_145.0},
    )
    html = build_report(dataclasses.replace(results, demand_fit=fit))
    assert "+11.3 %" in html
    assert "-8.4 %" in html
    assert "29,187" in html and "26,732" in html
    baseload = build_report(results)
    assert "nothing to fit" in baseload


def test_headline_rows_format_missing_and_present_values(results: MiningResults) -> None:
    assert row_value(results, "irr_pu").startswith("none")
    assert row_value(results, "breakeven_tariff").startswith("none in range")
    assert row_value(results, "payback") == "does not pay back"
    found = with_summary(
        results,
        irr_pu=0.125,
        breakeven_tariff_usd_per_kwh=0.031,
        breakeven_tariff_pkr_per_kwh=8.68,
        breakeven_price_usd_per_btc=None,
        npv_usd=1e6,
    )
    assert row_value(found, "irr_pu") == "0.125 pu (12.5 %)"
    assert row_value(found, "breakeven_tariff") == "USD 0.0310/kWh = Rs 8.68/kWh"
    assert "makes money" in row_value(found, "breakeven_price")
    nan = with_summary(results, cost_usd_per_btc=float("nan"))
    assert row_value(nan, "cost_usd_per_btc") == "n/a (no BTC mined)"


def test_timezone_for() -> None:
    assert timezone_for("pakistan") == "Asia/Karachi"
    assert timezone_for("El_Salvador") == "America/El_Salvador"
    assert timezone_for("atlantis") == "UTC"
