"""HTML report and Plotly figures of a mining run.

Pure functions: :class:`~hashnation.mining.program.MiningResults` in, Plotly
figures or one HTML string out; nothing is read from or written to disk here
(:func:`hashnation.mining.outputs.write_outputs` writes the page and the
``plotly.min.js`` it loads, so the report opens offline).

The page is written for a reader outside the programme (an economist at a
ministry or the IMF): every figure states its unit, every table keeps the
key of the machine-readable outputs (``btc_mined``, ``cost_usd_per_btc``),
whose suffix is the unit, and a method section explains the model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from numpy.typing import NDArray
from plotly.subplots import make_subplots

import hashnation
from hashnation.data.provenance import DatasetProvenance
from hashnation.mining.htmlkit import (
    BTC_COLOUR,
    GREY,
    PLOTLY_JS_FILE,
    USD_COLOUR,
    apply_layout,
    figure_html,
    fmt_num,
    fmt_share,
    fmt_usd,
    html_page,
    html_table,
)
from hashnation.mining.htmlkit import escape as _e
from hashnation.mining.subsidy import SubsidyTest

FloatArray = NDArray[np.float64]

if TYPE_CHECKING:
    from hashnation.mining.program import MiningResults, MiningSummary

__all__ = [
    "COUNTRY_TIMEZONES",
    "PLOTLY_JS_FILE",
    "SummaryRow",
    "build_report",
    "cost_per_btc_figure",
    "cumulative_btc_figure",
    "dispatch_heatmap",
    "figures",
    "hashprice_figure",
    "headline_rows",
    "monthly_btc_figure",
    "subsidy_verdict",
    "timezone_for",
]

COUNTRY_TIMEZONES: Mapping[str, str] = {
    "pakistan": "Asia/Karachi",
    "el_salvador": "America/El_Salvador",
}
"""IANA time zone used for hour-of-day axes, by scenario ``country``."""

_HOURS_PER_YEAR = 8760


def timezone_for(country: str) -> str:
    """IANA time zone of a scenario's ``country`` (``"UTC"`` when unknown).

    Parameters
    ----------
    country
        ``scenario.country`` of a scenario file (``"pakistan"``).

    Returns
    -------
    str
        Zone name for :func:`dispatch_heatmap` (``"Asia/Karachi"``).
    """
    return COUNTRY_TIMEZONES.get(country.strip().lower(), "UTC")


# --------------------------------------------------------------------------- formatting


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _sci(value: float | None, *, none: str = "none") -> str:
    """Scientific notation with four significant digits (``1.519e+14``)."""
    if value is None:
        return none
    if not math.isfinite(value):
        return "n/a"
    return f"{value:.4g}" if 1e-3 <= abs(value) < 1e6 else f"{value:.3e}"


def _when(text: str | None) -> str:
    """Format an ISO time as ``YYYY-MM-DD HH:MM UTC``; other text is kept."""
    if not text:
        return "not within the horizon"
    head, sep, tail = text.partition(" ")
    try:
        stamp = pd.Timestamp(head)
    except ValueError:
        return text
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    return f"{stamp:%Y-%m-%d %H:%M} UTC" + (f" {tail}" if sep else "")


def _per_btc(value: float) -> str:
    """USD per BTC, or why there is none."""
    return f"USD {fmt_num(value)}/BTC" if _finite(value) else "n/a (no BTC mined)"


def _none_reason(summary: MiningSummary, searched: str) -> str:
    """Why a breakeven is missing: the NPV keeps one sign over the whole search."""
    if summary.npv_usd < 0:
        return f"none in range (loses money at every {searched} searched)"
    return f"none in range (makes money at every {searched} searched)"


@dataclass(frozen=True)
class SummaryRow:
    """One line of the headline table.

    Attributes
    ----------
    label
        What the figure is, in words.
    key
        Key(s) in ``summary.json`` (the suffix is the unit).
    value
        Formatted value with its unit.
    """

    label: str
    key: str
    value: str


def headline_rows(results: MiningResults) -> list[SummaryRow]:
    """Headline figures of a run, formatted with their units.

    Shared by the HTML report and the command line summary.

    Parameters
    ----------
    results
        Results of :meth:`MiningProgram.run`.

    Returns
    -------
    list[SummaryRow]
        Label, ``summary.json`` key and formatted value of each figure.
    """
    s = results.summary
    hourly = results.hourly
    start_hashprice = (
        float(hourly["hashprice_usd_per_th_day"].iloc[0])
        if "hashprice_usd_per_th_day" in hourly.columns and len(hourly)
        else float("nan")
    )
    if s.breakeven_tariff_usd_per_kwh is None:
        tariff = (
            "none in range (loses money even with free power)"
            if s.npv_usd < 0
            else "none in range (makes money at every tariff searched)"
        )
    else:
        tariff = (
            f"USD {s.breakeven_tariff_usd_per_kwh:,.4f}/kWh"
            f" = Rs {fmt_num(s.breakeven_tariff_pkr_per_kwh, 2, none='none')}/kWh"
        )
    irr = (
        "none (the cash flows have no internal rate of return)"
        if s.irr_pu is None
        else fmt_share(s.irr_pu, unit="pu")
    )
    halving = f"height {s.next_halving_height:,}, about {_when(s.next_halving_at)}"
    retarget = f"height {s.next_retarget_height:,}, about {_when(s.next_retarget_at)}"
    return [
        SummaryRow("BTC mined over the horizon", "btc_mined", f"{fmt_num(s.btc_mined, 2)} BTC"),
        SummaryRow("Mining revenue (before pool fee)", "revenue_usd", fmt_usd(s.revenue_usd)),
        SummaryRow(
            "Demand-response revenue",
            "demand_response_revenue_usd",
            fmt_usd(s.demand_response_revenue_usd),
        ),
        SummaryRow(
            "Capital spending (initial + ASIC replacements)", "capex_usd", fmt_usd(s.capex_usd)
        ),
        SummaryRow("Operating spending (power, O&M, pool fee)", "opex_usd", fmt_usd(s.opex_usd)),
        SummaryRow("Net present value", "npv_usd", fmt_usd(s.npv_usd)),
        SummaryRow("Internal rate of return", "irr_pu", irr),
        SummaryRow("Payback", "payback, payback_years", s.payback),
        SummaryRow(
            "All-in cost per BTC (all spending / BTC)",
            "cost_usd_per_btc",
            _per_btc(s.cost_usd_per_btc),
        ),
        SummaryRow(
            "Cash cost per BTC (operating spending / BTC)",
            "cash_cost_usd_per_btc",
            _per_btc(s.cash_cost_usd_per_btc),
        ),
        SummaryRow(
            "BTC price at the start",
            "start_price_usd_per_btc",
            f"USD {fmt_num(s.start_price_usd_per_btc)}/BTC",
        ),
        SummaryRow(
            "Tariff paid (energy-weighted)",
            "tariff_usd_per_mwh, tariff_pkr_per_kwh",
            f"USD {fmt_num(s.tariff_usd_per_mwh, 2)}/MWh"
            f" = Rs {fmt_num(s.tariff_pkr_per_kwh, 2)}/kWh",
        ),
        SummaryRow("Energy drawn", "energy_mwh", f"{fmt_num(s.energy_mwh)} MWh"),
        SummaryRow("Site energy curtailed", "curtailed_mwh", f"{fmt_num(s.curtailed_mwh)} MWh"),
        SummaryRow(
            "Curtailed share of site energy",
            "curtailed_share_pu",
            fmt_share(s.curtailed_share_pu, unit="pu"),
        ),
        SummaryRow(
            "CO2 emissions of the power drawn",
            "emissions_tco2",
            f"{fmt_num(s.emissions_tco2)} tCO2",
        ),
        SummaryRow(
            "Coal share of the power drawn", "coal_share_pu", fmt_share(s.coal_share_pu, unit="pu")
        ),
        SummaryRow(
            "Breakeven BTC price (NPV = 0)",
            "breakeven_price_usd_per_btc",
            (
                f"USD {fmt_num(s.breakeven_price_usd_per_btc)}/BTC"
                if s.breakeven_price_usd_per_btc is not None
                else _none_reason(s, "price")
            ),
        ),
        SummaryRow(
            "Breakeven difficulty (NPV = 0)",
            "breakeven_difficulty",
            (
                f"{_sci(s.breakeven_difficulty)} (start {_sci(s.start_difficulty)})"
                if s.breakeven_difficulty is not None
                else _none_reason(s, "difficulty")
            ),
        ),
        SummaryRow(
            "Breakeven flat tariff (NPV = 0)",
            "breakeven_tariff_usd_per_kwh, breakeven_tariff_pkr_per_kwh",
            tariff,
        ),
        SummaryRow(
            "Breakeven hashprice (levelised cost per TH/s-day online)",
            "breakeven_hashprice_usd_per_th_day",
            (
                f"USD {s.breakeven_hashprice_usd_per_th_day:,.4f}/TH/s/day"
                f" (start hashprice USD {fmt_num(start_hashprice, 4)}/TH/s/day)"
                if s.breakeven_hashprice_usd_per_th_day is not None
                else "none (the fleet is never online)"
            ),
        ),
        SummaryRow("Next difficulty retarget", "next_retarget_height, next_retarget_at", retarget),
        SummaryRow("Next halving", "next_halving_height, next_halving_at", halving),
    ]


def _scenario_rows(results: MiningResults) -> list[SummaryRow]:
    s = results.summary
    return [
        SummaryRow("Scenario", "scenario", s.scenario),
        SummaryRow("First hour", "start", _when(str(pd.Timestamp(s.start).isoformat()))),
        SummaryRow("Horizon", "years", f"{s.years} years of 8,760 hours"),
        SummaryRow("Site grid connection", "site_power_mw", f"{fmt_num(s.site_power_mw, 1)} MW"),
        SummaryRow(
            "Fleet hashrate (nameplate)",
            "fleet_hashrate_ths",
            f"{fmt_num(s.fleet_hashrate_ths)} TH/s = {s.fleet_hashrate_ths / 1e6:,.2f} EH/s",
        ),
        SummaryRow(
            "Fleet efficiency",
            "fleet_efficiency_j_per_th",
            f"{fmt_num(s.fleet_efficiency_j_per_th, 2)} J/TH",
        ),
        SummaryRow("ASIC units", "asic_units", f"{s.asic_units:,}"),
        SummaryRow("Block height at the start", "start_height", f"{s.start_height:,}"),
        SummaryRow("Difficulty at the start", "start_difficulty", _sci(s.start_difficulty)),
    ]


def subsidy_verdict(test: SubsidyTest | None) -> str:
    """One line with the IMF subsidy test verdict.

    Parameters
    ----------
    test
        The run's subsidy test, or None when it was disabled.

    Returns
    -------
    str
        ``"IMF subsidy test: subsidy-free NO - ..."`` or a line saying it did not run.
    """
    if test is None:
        return "IMF subsidy test: not run (disabled in the scenario's [subsidy_test])"
    cos = test.cost_of_supply
    head = f"IMF subsidy test: subsidy-free {'YES' if test.subsidy_free else 'NO'}"
    body = (
        f"tariff Rs {test.tariff_pkr_per_kwh:.2f}/kWh vs full cost of supply "
        f"Rs {cos.full_pkr_per_kwh:.2f}/kWh"
    )
    if test.subsidy_free:
        return f"{head} - {body}"
    return (
        f"{head} - {body}; implied subsidy Rs {test.implied_subsidy_pkr_per_year / 1e9:,.2f} bn "
        f"(USD {test.implied_subsidy_usd_per_year / 1e6:,.1f} m) a year"
    )


# --------------------------------------------------------------------------- figures


def _layout(fig: Any, title: str) -> Any:
    return apply_layout(fig, title, right_margin=70, hovermode="x unified")


def _empty(fig: Any, text: str) -> Any:
    fig.add_annotation(
        text=text, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False, font={"size": 14}
    )
    return fig


def dispatch_heatmap(
    hourly: pd.DataFrame,
    *,
    timezone: str = "UTC",
    year: int = 1,
    column: str = "running_pu",
) -> go.Figure:
    """Heatmap of hour of day x day of one programme year.

    Parameters
    ----------
    hourly
        Hourly results (tz-aware index, ``program_year`` and ``column``).
    timezone
        IANA zone for the hour-of-day axis (``"Asia/Karachi"``).
    year
        Programme year to show (1 = the first 8,760 hours).
    column
        Hourly column to colour by: ``running_pu`` (share of the site
        running) or ``power_mw``.

    Returns
    -------
    plotly.graph_objects.Figure
        Days on x, local hour of day on y.
    """
    rows = hourly.loc[hourly["program_year"] == year, column]
    index = pd.DatetimeIndex(rows.index)
    local = index.tz_convert(timezone) if index.tz is not None else index
    frame = pd.DataFrame(
        {
            "day": local.strftime("%Y-%m-%d"),
            "hour": local.hour,
            "value": rows.to_numpy(dtype=np.float64),
        }
    )
    grid = frame.pivot_table(index="hour", columns="day", values="value", aggfunc="mean")
    grid = grid.reindex(range(24))
    is_pu = column.endswith("_pu")
    unit = "pu" if is_pu else column.rsplit("_", 1)[-1].upper()
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=list(grid.columns),
            y=list(grid.index),
            zmin=0.0,
            zmax=1.0 if is_pu else None,
            colorscale="Viridis",
            colorbar={"title": {"text": f"{column}<br>[{unit}]"}},
            hovertemplate=f"%{{x}} %{{y:02d}}:00<br>{column} = %{{z:.3f}}<extra></extra>",
        )
    )
    what = "share of the site running" if is_pu else column
    _layout(fig, f"Dispatch in programme year {year}: {what} [{unit}], hour by hour")
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(title_text="day", type="date")
    fig.update_yaxes(title_text=f"hour of day ({timezone})", dtick=3, range=[-0.5, 23.5])
    if grid.isna().all().all():
        _empty(fig, f"no hours in programme year {year}")
    return fig


def monthly_btc_figure(hourly: pd.DataFrame) -> go.Figure:
    """Monthly BTC mined (bars) and mining revenue (line, right axis).

    Parameters
    ----------
    hourly
        Hourly results with ``btc_mined`` and ``revenue_usd``.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar and one point per calendar month (UTC).
    """
    monthly = hourly[["btc_mined", "revenue_usd"]].resample("MS").sum()
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=monthly.index,
            y=monthly["btc_mined"],
            name="btc_mined [BTC/month]",
            marker_color=BTC_COLOUR,
            hovertemplate="%{y:,.3f} BTC",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=monthly.index,
            y=monthly["revenue_usd"],
            name="revenue_usd [USD/month]",
            mode="lines+markers",
            line={"color": USD_COLOUR},
            hovertemplate="USD %{y:,.0f}",
        ),
        secondary_y=True,
    )
    _layout(fig, "BTC mined and mining revenue per month")
    fig.update_xaxes(title_text="month (UTC)")
    fig.update_yaxes(title_text="BTC mined [BTC/month]", secondary_y=False, rangemode="tozero")
    fig.update_yaxes(
        title_text="revenue before pool fee [USD/month]",
        secondary_y=True,
        rangemode="tozero",
        showgrid=False,
    )
    return fig


def _halvings(hourly: pd.DataFrame) -> list[tuple[pd.Timestamp, float, float]]:
    """Hours where the block subsidy drops: (time, subsidy before, after) [BTC/block]."""
    if "subsidy_btc_per_block" not in hourly.columns or len(hourly) < 2:
        return []
    subsidy = hourly["subsidy_btc_per_block"].to_numpy(dtype=np.float64)
    drops = (np.flatnonzero(np.diff(subsidy) < 0) + 1).tolist()
    return [
        (pd.Timestamp(hourly.index[i]), float(subsidy[i - 1]), float(subsidy[i])) for i in drops
    ]


def _add_halving_lines(fig: Any, hourly: pd.DataFrame) -> None:
    for when, before, after in _halvings(hourly):
        fig.add_shape(
            type="line",
            x0=when,
            x1=when,
            xref="x",
            y0=0.0,
            y1=1.0,
            yref="paper",
            line={"color": GREY, "dash": "dash", "width": 1},
        )
        fig.add_annotation(
            x=when,
            y=1.0,
            xref="x",
            yref="paper",
            text=f"halving: {before:g} → {after:g} BTC/block",
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font={"size": 11, "color": GREY},
        )


def cumulative_btc_figure(hourly: pd.DataFrame) -> go.Figure:
    """Cumulative BTC mined, with each halving marked.

    Parameters
    ----------
    hourly
        Hourly results with ``btc_mined`` and ``subsidy_btc_per_block``.

    Returns
    -------
    plotly.graph_objects.Figure
        Daily cumulative sum; dashed vertical lines where the block subsidy
        halves.
    """
    daily = hourly["btc_mined"].resample("D").sum().cumsum()
    fig = go.Figure(
        go.Scatter(
            x=daily.index,
            y=daily.to_numpy(),
            name="cumulative btc_mined [BTC]",
            mode="lines",
            line={"color": BTC_COLOUR, "width": 2},
            fill="tozeroy",
            hovertemplate="%{y:,.2f} BTC",
        )
    )
    _add_halving_lines(fig, hourly)
    _layout(fig, "Cumulative BTC mined (dashed lines: halvings of the block subsidy)")
    fig.update_xaxes(title_text="date (UTC)")
    fig.update_yaxes(title_text="BTC mined since the start [BTC]", rangemode="tozero")
    return fig


def cost_per_btc_figure(annual: pd.DataFrame) -> go.Figure:
    """All-in and cash cost per BTC by programme year, against the BTC price.

    Parameters
    ----------
    annual
        Yearly table with ``cost_usd_per_btc``, ``cash_cost_usd_per_btc`` and
        ``price_usd_per_btc`` (index: programme year).

    Returns
    -------
    plotly.graph_objects.Figure
        Three lines; years without BTC mined leave gaps in the cost lines.
    """
    years = [int(y) for y in annual.index]
    fig = go.Figure()
    series = (
        ("cost_usd_per_btc", "all-in cost_usd_per_btc", "#c0392b", "solid"),
        ("cash_cost_usd_per_btc", "cash_cost_usd_per_btc", "#e67e22", "dot"),
        ("price_usd_per_btc", "price_usd_per_btc (yearly mean)", USD_COLOUR, "solid"),
    )
    for column, name, colour, dash in series:
        fig.add_trace(
            go.Scatter(
                x=years,
                y=annual[column].to_numpy(dtype=np.float64),
                name=name,
                mode="lines+markers",
                line={"color": colour, "dash": dash},
                hovertemplate="USD %{y:,.0f}/BTC",
            )
        )
    _layout(fig, "Cost per BTC mined vs BTC price, by programme year [USD/BTC]")
    fig.update_xaxes(title_text="programme year", dtick=1)
    fig.update_yaxes(title_text="USD per BTC", rangemode="tozero")
    idle = [y for y, btc in zip(years, annual["btc_mined"], strict=True) if not btc > 0]
    if idle:
        fig.add_annotation(
            text=f"no BTC mined in year(s) {_ranges(idle)}: cost per BTC undefined",
            xref="paper",
            yref="paper",
            x=0.0,
            y=-0.16,
            xanchor="left",
            showarrow=False,
            font={"size": 11, "color": GREY},
        )
        fig.update_layout(margin={"b": 80})
    return fig


def _ranges(values: Sequence[int]) -> str:
    """``[2, 3, 4, 7]`` -> ``"2-4, 7"``."""
    parts: list[str] = []
    start = prev = values[0]
    for v in [*values[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
        if v is not None:
            start = prev = v
    return ", ".join(parts)


def hashprice_figure(hourly: pd.DataFrame, breakeven_usd_per_th_day: float | None) -> go.Figure:
    """Daily hashprice against the breakeven hashprice (log scale).

    Parameters
    ----------
    hourly
        Hourly results with ``hashprice_usd_per_th_day``.
    breakeven_usd_per_th_day
        Levelised cost per TH/s-day online [USD/TH/s/day], or None.

    Returns
    -------
    plotly.graph_objects.Figure
        Gross hashprice (daily mean) and a horizontal breakeven line.
    """
    daily = hourly["hashprice_usd_per_th_day"].resample("D").mean()
    fig = go.Figure(
        go.Scatter(
            x=daily.index,
            y=daily.to_numpy(),
            name="hashprice_usd_per_th_day (daily mean)",
            mode="lines",
            line={"color": USD_COLOUR},
            hovertemplate="USD %{y:.4f}/TH/s/day",
        )
    )
    if _finite(breakeven_usd_per_th_day):
        fig.add_trace(
            go.Scatter(
                x=[daily.index[0], daily.index[-1]],
                y=[breakeven_usd_per_th_day, breakeven_usd_per_th_day],
                name="breakeven_hashprice_usd_per_th_day",
                mode="lines",
                line={"color": "#c0392b", "dash": "dash"},
                hovertemplate="USD %{y:.4f}/TH/s/day",
            )
        )
    _add_halving_lines(fig, hourly)
    _layout(fig, "Hashprice vs breakeven hashprice [USD per TH/s per day, log scale]")
    fig.update_xaxes(title_text="date (UTC)")
    values = daily.to_numpy(dtype=np.float64)
    if breakeven_usd_per_th_day is not None and math.isfinite(breakeven_usd_per_th_day):
        values = np.append(values, breakeven_usd_per_th_day)
    ticks = _log_ticks(values)
    fig.update_yaxes(
        title_text="USD per TH/s per day",
        type="log",
        tickvals=ticks or None,
        ticktext=[f"{t:g}" for t in ticks] or None,
    )
    return fig


def _log_ticks(values: FloatArray) -> list[float]:
    """Ticks 1, 2, 5 x 10^k covering the positive finite ``values`` (empty if none)."""
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size == 0:
        return []
    lo = math.floor(math.log10(float(positive.min())))
    hi = math.ceil(math.log10(float(positive.max())))
    ticks = [float(f"{m}e{k}") for k in range(lo, hi + 1) for m in (1, 2, 5)]
    inside = [t for t in ticks if positive.min() / 2.0 <= t <= positive.max() * 2.0]
    return inside


def figures(results: MiningResults, *, timezone: str = "UTC") -> dict[str, go.Figure]:
    """All figures of the report, keyed by a short id.

    Parameters
    ----------
    results
        Results of a run.
    timezone
        IANA zone for the dispatch heatmap's hour-of-day axis.

    Returns
    -------
    dict[str, plotly.graph_objects.Figure]
        ``dispatch``, ``monthly``, ``cumulative``, ``cost``, ``hashprice``.
    """
    hourly = results.hourly
    return {
        "dispatch": dispatch_heatmap(hourly, timezone=timezone),
        "monthly": monthly_btc_figure(hourly),
        "cumulative": cumulative_btc_figure(hourly),
        "cost": cost_per_btc_figure(results.annual),
        "hashprice": hashprice_figure(hourly, results.summary.breakeven_hashprice_usd_per_th_day),
    }


# --------------------------------------------------------------------------- HTML


def _annual_cell(column: str, value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    if not isinstance(value, int | float | np.integer | np.floating):
        return str(value)
    x = float(value)
    if not math.isfinite(x):
        return "n/a"
    if column == "difficulty":
        return f"{x:.3e}"
    if column.endswith("_pu"):
        return f"{x:.3f}"
    if column == "btc_mined" or column.endswith("_per_th_day"):
        return f"{x:,.4f}"
    if column.endswith("_per_btc") and abs(x) < 100:
        return f"{x:,.2f}"
    return f"{x:,.0f}"


def _annual_table(annual: pd.DataFrame) -> str:
    frame = annual.reset_index()
    headers = [str(c) for c in frame.columns]
    rows = [
        [_annual_cell(col, val) for col, val in zip(headers, record, strict=True)]
        for record in frame.itertuples(index=False, name=None)
    ]
    totals: list[str] = []
    summed = {
        "btc_mined",
        "revenue_usd",
        "pool_fee_usd",
        "demand_response_revenue_usd",
        "energy_mwh",
        "curtailed_mwh",
        "curtailed_economic_mwh",
        "curtailed_grid_mwh",
        "energy_cost_usd",
        "emissions_tco2",
        "coal_energy_mwh",
        "hours_running",
        "fixed_om_usd",
        "capex_usd",
        "opex_usd",
        "cashflow_usd",
    }
    for i, col in enumerate(headers):
        if i == 0:
            totals.append("total")
        elif col in summed:
            totals.append(_annual_cell(col, float(frame[col].sum())))
        else:
            totals.append("")
    rows.append(totals)
    return html_table(headers, rows, cls="annual", numeric_from=1)


def _subsidy_section(test: SubsidyTest | None) -> str:
    if test is None:
        return (
            '<p class="verdict na">Not run for this scenario.</p>'
            "<p>The test compares the miners' tariff with Pakistan's full cost of supply "
            "(NEPRA determination); the scenario's <code>[subsidy_test]</code> section "
            "disables it (for example for a site outside Pakistan's grid).</p>"
        )
    cos = test.cost_of_supply
    yes = test.subsidy_free
    verdict = (
        f'<p class="verdict {"yes" if yes else "no"}">Subsidy-free: '
        f"<strong>{'YES' if yes else 'NO'}</strong></p>"
    )
    rows = [
        ("Energy (fuel) component", "energy_pkr_per_kwh", f"{cos.energy_pkr_per_kwh:.2f}"),
        ("Capacity component", "capacity_pkr_per_kwh", f"{cos.capacity_pkr_per_kwh:.2f}"),
        (
            "Power purchase price (energy + capacity)",
            "power_purchase_pkr_per_kwh",
            f"{cos.power_purchase_pkr_per_kwh:.2f}",
        ),
        (
            "Losses, network costs and margins",
            "network_and_losses_pkr_per_kwh",
            f"{cos.network_and_losses_pkr_per_kwh:.2f}",
        ),
        ("Full cost of supply", "full_pkr_per_kwh", f"{cos.full_pkr_per_kwh:.2f}"),
        (
            "Tariff the miners pay (energy-weighted)",
            "tariff_pkr_per_kwh",
            f"{test.tariff_pkr_per_kwh:.2f}",
        ),
        ("Gap: full cost minus tariff", "gap_pkr_per_kwh", f"{test.gap_pkr_per_kwh:.2f}"),
        (
            "Contribution toward capacity payments",
            "contribution_to_capacity_pkr_per_kwh",
            f"{test.contribution_to_capacity_pkr_per_kwh:.2f}",
        ),
    ]
    table = html_table(["component", "key", "PKR/kWh"], rows, cls="compact keyed", numeric_from=2)
    totals = html_table(
        ["figure", "key", "value"],
        [
            (
                "Energy drawn per year",
                "energy_mwh_per_year",
                f"{fmt_num(test.energy_mwh_per_year)} MWh/yr",
            ),
            (
                "Implied subsidy per year",
                "implied_subsidy_pkr_per_year",
                f"Rs {fmt_num(test.implied_subsidy_pkr_per_year)}/yr",
            ),
            (
                "Implied subsidy per year",
                "implied_subsidy_usd_per_year",
                f"{fmt_usd(test.implied_subsidy_usd_per_year)}/yr",
            ),
            (
                "Tariff covers the energy (fuel) component",
                "covers_energy_component",
                "yes" if test.covers_energy_component else "no",
            ),
        ],
        cls="compact keyed",
    )
    basis = f'<p class="small">Cost of supply: {_e(cos.basis)}</p>' if cos.basis else ""
    return f"{verdict}<p>{_e(test.explanation)}</p>{table}{totals}{basis}"


def _demand_fit_section(results: MiningResults) -> str:
    fit = results.demand_fit
    if max(fit.published.values(), default=0.0) <= 0.0:
        return (
            "<p>No grid demand is modelled for this site: it draws on a dedicated plant "
            '(<code>grid = "baseload"</code>), so there is nothing to fit.</p>'
        )
    residuals = fit.relative_residuals()
    rows = [
        (
            key,
            fmt_num(fit.published[key]),
            fmt_num(fit.modelled.get(key, float("nan"))),
            f"{residuals[key] * 100:+.1f} %",
        )
        for key in fit.published
    ]
    table = html_table(
        ["fact (unit in name)", "published", "modelled", "modelled / published - 1"],
        rows,
        cls="compact",
        numeric_from=1,
    )
    return (
        "<p>The hourly demand curve is a seasonal cosine times a daily cosine. Its mean "
        f"({fmt_num(fit.mean_mw)} MW) and seasonal half-swing "
        f"({fmt_num(fit.seasonal_amplitude_mw)} MW) "
        "are fitted by least squares to three published facts, each weighted by its relative "
        "error. Large residuals mean the surplus, and so the hours the fleet can run, are less "
        "certain.</p>"
        f"{table}"
    )


def _sources_section(sources: Sequence[DatasetProvenance] | None) -> str:
    if not sources:
        return (
            "<p>The bundled datasets and their provenance are listed by "
            "<code>hashnation data list</code> and "
            "<code>hashnation data provenance FILE</code>.</p>"
        )
    rows = [(s.file, s.title, s.source, s.licence, s.retrieved) for s in sources]
    return (
        "<p>Bundled datasets (full records, column units and conversions: "
        "<code>hashnation data provenance FILE</code>):</p>"
        + html_table(["file", "title", "source", "licence", "retrieved"], rows, cls="sources")
    )


_METHOD = """
<h3>What is modelled</h3>
<p>The horizon is cut into hours (8,760 per programme year). For each hour the model
computes how much power the grid can spare for the site, what one unit of hashing earns,
and whether the fleet should run.</p>
<ul>
<li><b>Grid.</b> For a national grid, hourly demand is a seasonal cosine fitted to published
peaks and energy (see the fit above) times a daily cosine in local time. Surplus is the
available capacity of the plants (with monthly availability, e.g. less hydro in winter)
minus demand minus an operating reserve, never below zero; the site may draw up to its
connection, capped by that surplus. The plants that would serve the extra load
come from the merit order (cheapest fuel first), which gives the marginal fuel, its cost,
CO2 per MWh and the coal share. For a dedicated plant (<code>grid = "baseload"</code>) the
site gets the plant's available output.</li>
<li><b>Network.</b> Difficulty starts from the bundled retarget history and grows with the
scenario's network hashrate growth (plus the fleet's own hashrate when the scenario sets
<code>include_fleet_hashrate</code>), retargeting every 2,016 blocks. The block subsidy
halves every 210,000 blocks; fees per block follow the scenario. Together they give the
<i>hashprice</i>: expected revenue of 1 TH/s for one day, in BTC and in USD at the price path.</li>
<li><b>Price.</b> The BTC price starts from the last bundled daily price (unless the
scenario sets one) and drifts at a fixed yearly rate. It is an assumption, not a
forecast; the breakeven price shows how much it matters.</li>
</ul>
<h3>When the fleet runs: the curtailment rule</h3>
<p>Each group of identical machines runs in an hour only if two things hold. First, the
grid must have surplus power to give it. Second, running must pay: the bitcoin that one
MWh of electricity produces must be worth at least what that MWh costs. The value of one
MWh spent hashing is</p>
<pre>value_usd_per_mwh = hashprice_usd_per_th_day × (1 − pool_fee_pu) × degradation_pu
                    ÷ (efficiency_j_per_th × (1 + cooling_overhead_pu) × 2.4e-5)</pre>
<p>where 2.4e-5 MWh is the energy 1 TH/s uses in one day at 1 J/TH (86,400 s ÷ 3.6e9 J
per MWh). The group runs when <code>value_usd_per_mwh ≥ tariff_usd_per_mwh +
variable_om_usd_per_mwh</code>. Said plainly: switch off when the price of power, in USD
per MWh, is higher than the hashprice divided by the machines' joules per terahash. When
surplus is short, the most efficient machines get the power first. Site energy not drawn
is <i>curtailed</i>: <code>curtailed_grid_mwh</code> when the grid had no surplus,
<code>curtailed_economic_mwh</code> when hashing would have lost money.</p>
<h3>Money</h3>
<ul>
<li>Initial spending (ASICs at USD per TH/s, plus infrastructure per MW) falls at the
start; ASICs are replaced every <code>replacement_years</code> at a price falling each
year. Yearly cash flow = mining revenue + demand-response payments − operating spending
(power, fixed O&amp;M, pool fee) − replacements. NPV discounts yearly flows at the
scenario's discount rate; IRR and payback use the same flows.</li>
<li><b>All-in cost per BTC</b> (<code>cost_usd_per_btc</code>) divides all spending,
capital included, by the BTC mined; <b>cash cost per BTC</b>
(<code>cash_cost_usd_per_btc</code>) divides operating spending only. In the yearly table
the initial spending is spread evenly over the years.</li>
<li><b>Breakevens</b> are the BTC price (whole price path scaled), difficulty (whole path
scaled) and flat tariff at which NPV is zero, each found by re-running the hourly model.
"None in range" means NPV keeps one sign over the whole range searched.
The <b>breakeven hashprice</b> is the levelised cost of one TH/s-day online: present value
of all spending divided by the present value of TH/s-days online (net of the pool fee).</li>
</ul>
<h3>The IMF subsidy test</h3>
<p>Pakistan's IMF programme rules out subsidised power for crypto mining. The test
compares the tariff the miners pay (weighted by the energy they draw) with the full cost
of supply from NEPRA's determination: the power purchase price (fuel plus capacity
payments owed to plants whether they run or not) plus losses, network costs and margins.
A tariff below it implies a subsidy of the gap times the energy drawn. The table also
shows the marginal view: a tariff above the fuel cost still contributes to capacity
payments owed anyway. The verdict follows the full-cost test.</p>
"""

_CSS = """table.headline td:nth-child(2),table.keyed td:nth-child(2){font-family:monospace;
font-size:0.9em;color:#444}
table.annual{font-size:0.8em}
table.annual th{font-family:monospace;font-weight:normal;white-space:nowrap}
table.annual tr:last-child td{font-weight:bold;background:#f7f7f7}
table.sources{font-size:0.82em}
.verdict{font-size:1.6em;padding:10px 16px;display:inline-block;border-radius:6px;margin:8px 0}
.verdict.yes{background:#e3f4e6;color:#17612a;border:2px solid #2e8b47}
.verdict.no{background:#fbe4e2;color:#8e1b12;border:2px solid #c0392b}
.verdict.na{background:#eee;color:#555;border:2px solid #aaa;font-size:1.2em}
pre{background:#f4f4f4;padding:8px 12px;overflow-x:auto}
"""
"""Style rules of the mining report, after :data:`~hashnation.mining.htmlkit.BASE_CSS`."""

_CAPTIONS = {
    "dispatch": (
        "Each column is a day of the first programme year and each row an hour of the day; "
        "colour is the share of the site's power that is running (1 = all machines on). "
        "Dark cells are hours the fleet is off: no surplus on the grid, or power dearer "
        "than what hashing earns."
    ),
    "monthly": (
        "Bars: BTC mined each month (left axis). Line: its value in USD at the modelled "
        "price, before the pool fee (right axis)."
    ),
    "cumulative": (
        "BTC mined since the start. Each halving of the block subsidy (every 210,000 "
        "blocks) cuts the BTC earned per unit of hashing roughly in half."
    ),
    "cost": (
        "Cost of mining one BTC each programme year against the BTC price. Where the "
        "all-in cost is above the price, each BTC is mined at a loss; buying it would be "
        "cheaper. The initial spending is spread evenly over the years."
    ),
    "hashprice": (
        "Hashprice is what 1 TH/s of hashing earns in a day. The dashed line is the "
        "breakeven: the levelised cost of one TH/s-day online. Below it the fleet does not "
        "recover its costs. Log scale."
    ),
}


def _lead(results: MiningResults) -> str:
    s = results.summary
    parts = [
        f"Over {s.years} years a {fmt_num(s.site_power_mw)} MW site mines "
        f"{fmt_num(s.btc_mined, 2)} BTC "
        f"at an all-in cost of USD {fmt_num(s.cost_usd_per_btc)} per BTC "
        f"(start price USD {fmt_num(s.start_price_usd_per_btc)}).",
        f"Net present value: {fmt_usd(s.npv_usd)}; payback: {s.payback}.",
        f"{fmt_num(s.curtailed_share_pu * 100, 1)} % of the site's energy is curtailed.",
    ]
    if results.subsidy is not None:
        verdict = "YES" if results.subsidy.subsidy_free else "NO"
        parts.append(f"Subsidy-free under the IMF full-cost test: {verdict}.")
    return " ".join(parts)


def build_report(
    results: MiningResults,
    *,
    timezone: str = "UTC",
    sources: Sequence[DatasetProvenance] | None = None,
    scenario_file: str | None = None,
) -> str:
    """Render the HTML report of a run.

    The page loads Plotly from ``plotly.min.js`` in its own folder (one
    ``<script>`` in the head) and embeds one ``<div>`` per figure.

    Parameters
    ----------
    results
        Results of :meth:`MiningProgram.run`.
    timezone
        IANA zone of the dispatch heatmap's hour axis (see :func:`timezone_for`).
    sources
        Provenance records of the bundled datasets to cite (e.g.
        :func:`hashnation.data.provenance.load_provenance`); None to refer the
        reader to ``hashnation data list``.
    scenario_file
        Name of the scenario file, shown in the header.

    Returns
    -------
    str
        A complete HTML document (UTF-8).
    """
    s = results.summary
    title = f"HashNation mining report: {s.scenario}"
    figs = "".join(
        figure_html(k, f, _CAPTIONS.get(k, ""))
        for k, f in figures(results, timezone=timezone).items()
    )
    headline = html_table(
        ["figure", "key in summary.json (unit in name)", "value"],
        [(r.label, r.key, r.value) for r in headline_rows(results)],
        cls="headline",
    )
    setup = html_table(
        ["figure", "key in summary.json (unit in name)", "value"],
        [(r.label, r.key, r.value) for r in _scenario_rows(results)],
        cls="headline",
    )
    notes = (
        "<ul>" + "".join(f"<li>{_e(n)}</li>" for n in s.notes) + "</ul>"
        if s.notes
        else "<p>No notes.</p>"
    )
    origin = f" from <code>{_e(scenario_file)}</code>" if scenario_file else ""
    subtitle = f"""Scenario <b>{_e(s.scenario)}</b>{origin};
first hour {_e(_when(pd.Timestamp(s.start).isoformat()))}; {s.years} programme years.
Produced by HashNation {_e(hashnation.__version__)}."""
    nav = """<a href="#summary">Summary</a><a href="#subsidy">IMF subsidy test</a>
<a href="#charts">Charts</a><a href="#annual">Yearly table</a><a href="#notes">Notes</a>
<a href="#grid">Grid fit</a><a href="#method">Method and data</a>"""
    body = f"""
<h2 id="summary">Headline figures</h2>
<p>Money is in US dollars of the year it is spent or earned (no inflation adjustment);
NPV and IRR use the scenario's discount rate. The middle column is the key of the same
figure in <code>summary.json</code>; its suffix is the unit (<code>_usd</code> US dollars,
<code>_mwh</code> megawatt-hours, <code>_pu</code> per unit, 1 = 100 %, <code>_tco2</code>
tonnes of CO2).</p>
{headline}
<h3>Scenario and fleet</h3>
{setup}

<h2 id="subsidy">IMF subsidy test</h2>
{_subsidy_section(results.subsidy)}

<h2 id="charts">Charts</h2>
{figs}

<h2 id="annual">Yearly table</h2>
<p>One row per programme year of 8,760 hours (<code>start</code> is its first hour, UTC).
Column suffixes are units: <code>_usd</code> US dollars, <code>_mwh</code> MWh,
<code>_tco2</code> tonnes of CO2, <code>_pu</code> per unit, <code>_usd_per_btc</code> USD
per BTC, <code>_usd_per_th_day</code> USD per TH/s per day; <code>difficulty</code> is
dimensionless; <code>price_usd_per_btc</code>, <code>hashprice_usd_per_th_day</code> and
<code>difficulty</code> are yearly means. The same table is in <code>annual.csv</code> and
<code>annual.json</code>; hour-by-hour values in <code>hourly.csv</code> and
<code>hourly.json</code>.</p>
<div class="scroll">{_annual_table(results.annual)}</div>

<h2 id="notes">Notes on this run</h2>
<p>Where the model filled in a value the scenario left open, it says so here.</p>
{notes}

<h2 id="grid">Grid demand fit</h2>
{_demand_fit_section(results)}

<h2 id="method">Method and data</h2>
{_METHOD}
<h3>Where the data come from</h3>
<p>Every input is either in the scenario file (values marked as assumptions there are the
scenario author's choices) or in a dataset bundled with HashNation, copied with its
source, licence and retrieval date; nothing is fetched over the network when the model
runs.</p>
{_sources_section(sources)}"""
    return html_page(title, subtitle, nav, _lead(results), body, extra_css=_CSS)
