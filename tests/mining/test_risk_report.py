"""Risk and sweep reports built from real (small) runs of the El Salvador example."""

from pathlib import Path

import numpy as np
import pytest

from hashnation.errors import InputError
from hashnation.mining.drivers import DriverParams
from hashnation.mining.montecarlo import MonteCarlo, RiskResult
from hashnation.mining.program import MiningProgram
from hashnation.mining.risk_report import (
    fan_chart,
    npv_histogram,
    p_loss_by_year_figure,
    risk_figures,
    risk_headline_rows,
    risk_report_html,
    sobol_figure,
    sweep_figures,
    sweep_report_html,
    tornado_figure,
)
from hashnation.mining.scenario import Scenario, load_scenario
from hashnation.mining.sensitivity import sobol, tornado
from hashnation.mining.sweep import sweep

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED = 4242
NASTY = 'Test <script>alert("x")</script> & co'


@pytest.fixture(scope="module")
def salvador() -> Scenario:
    return load_scenario(EXAMPLES / "el-salvador-geothermal.toml")


@pytest.fixture(scope="module")
def result(salvador: Scenario) -> RiskResult:
    program = MiningProgram(salvador).run()
    return MonteCarlo(program, DriverParams()).run(40, SEED, scheduler="synchronous")


@pytest.fixture(scope="module")
def tables(salvador: Scenario):
    factors = ["tariff", "price.start_usd_per_btc"]
    t = tornado(salvador, None, factors, paths=4, seed=SEED, scheduler="synchronous")
    s = sobol(
        salvador, None, factors, n_base=4, paths_per_point=2, seed=SEED, scheduler="synchronous"
    )
    return t, s


@pytest.fixture(scope="module")
def sweep_table(salvador: Scenario):
    return sweep(
        salvador,
        power_mw=[10.0, 20.0],
        tariffs=[0.03, 0.05],
        tariff_unit="usd_per_kwh",
        paths=4,
        seed=SEED,
        scheduler="synchronous",
    )


def test_risk_report_html(result: RiskResult, tables) -> None:
    t, s = tables
    page = risk_report_html(result, NASTY, tornado=t, sobol=s)
    head = page.split("</head>")[0]
    assert head.count('<script src="plotly.min.js"></script>') == 1
    assert page.count("<script src=") == 1
    for key in ("histogram", "fan_cash", "fan_btc", "p_loss_year", "tornado", "sobol"):
        assert f'id="fig-{key}"' in page
    assert "P(loss)" in page
    summary = result.summary()
    assert f"{summary['p_loss']:.3f}" in page
    assert str(SEED) in page
    assert "Value-at-risk at 95 %" in page
    assert "deterministic_npv_usd" in page
    assert "block bootstrap" in page
    assert "<script>alert" not in page
    assert "Test &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page


def test_risk_report_without_sensitivity(result: RiskResult) -> None:
    page = risk_report_html(result, "El Salvador")
    assert 'id="fig-tornado"' not in page and 'id="fig-sobol"' not in page
    assert "No sensitivity analysis" in page
    assert set(risk_figures(result)) == {"histogram", "fan_cash", "fan_btc", "p_loss_year"}


def test_headline_rows(result: RiskResult) -> None:
    rows = {key: value for _, key, value in risk_headline_rows(result)}
    assert rows["paths"] == "40"
    assert rows["seed"] == str(SEED)
    assert rows["p_loss"].startswith(f"{result.summary()['p_loss']:.3f}")
    for key in ("var_usd", "cvar_usd", "npv_p5_usd", "npv_p50_usd", "npv_p95_usd"):
        assert rows[key].startswith("USD")


def test_fan_chart_bands(result: RiskResult) -> None:
    fig = fan_chart(result, "cumulative_cashflow_usd")
    assert len(fig.data) == 5
    fan = result.fan("cumulative_cashflow_usd")
    np.testing.assert_allclose(fig.data[-1].y, fan[0.5].to_numpy() / 1e6)
    np.testing.assert_allclose(fig.data[0].y, fan[0.95].to_numpy() / 1e6)
    assert list(fig.data[-1].x) == list(range(1, 9))
    btc = fan_chart(result, "btc_mined")
    assert "BTC" in btc.layout.yaxis.title.text
    with pytest.raises(InputError, match="field"):
        fan_chart(result, "nope")


def test_histogram_marks_var_and_cvar(result: RiskResult) -> None:
    fig = npv_histogram(result)
    s = result.summary()
    xs = sorted(shape.x0 for shape in fig.layout.shapes)
    for value in (0.0, -s["var_usd"] / 1e6, -s["cvar_usd"] / 1e6):
        assert any(abs(x - value) < 1e-9 for x in xs)
    assert f"P(loss) = {s['p_loss']:.3f}" in fig.layout.title.text


def test_p_loss_by_year_bars(result: RiskResult) -> None:
    fig = p_loss_by_year_figure(result)
    y = np.asarray(fig.data[0].y)
    assert y.shape == (8,)
    assert ((y >= 0.0) & (y <= 1.0)).all()


def test_tornado_and_sobol_figures(tables) -> None:
    t, s = tables
    fig = tornado_figure(t)
    assert len(fig.data) == 2
    # Largest swing drawn on top: last category of the horizontal bars.
    assert fig.data[0].y[-1].startswith(t["factor"].iloc[0])
    base = t["base_npv_usd"].iloc[0] / 1e6
    np.testing.assert_allclose(fig.data[0].base, base)
    sfig = sobol_figure(s)
    assert [tr.name.split(":")[0] for tr in sfig.data] == ["S1", "ST"]
    with pytest.raises(InputError, match="tornado"):
        tornado_figure(s)


def test_sweep_report_html(sweep_table) -> None:
    page = sweep_report_html(sweep_table, NASTY)
    assert page.split("</head>")[0].count('<script src="plotly.min.js"></script>') == 1
    assert 'id="fig-npv"' in page and 'id="fig-p_loss"' in page
    assert "P(loss)" in page and "p_loss" in page
    assert str(SEED) in page
    assert "common random numbers" in page
    assert "<script>alert" not in page
    figs = sweep_figures(sweep_table)
    assert len(figs["npv"].data) == 2  # one line per tariff
    z = np.asarray(figs["p_loss"].data[0].z)
    assert z.shape == (2, 2)
    with pytest.raises(InputError, match="sweep"):
        sweep_report_html(sweep_table.iloc[0:0], "empty")
