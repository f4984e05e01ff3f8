"""Plotly figures and HTML pages of the Monte Carlo risk analysis.

Pure functions: a :class:`~hashnation.mining.montecarlo.RiskResult` (and,
optionally, a tornado or Sobol table from
:mod:`hashnation.mining.sensitivity`, or a sweep table from
:mod:`hashnation.mining.sweep`) in, Plotly figures or one HTML string out;
nothing is read from or written to disk. Like the mining report, each page
loads Plotly from ``plotly.min.js`` in its own folder (one ``<script>`` in the
head), so the writer must copy that file next to it.

The pages are written for a reader outside the programme (an economist at a
ministry or the IMF): figures state their units, tables keep the keys of the
machine-readable outputs (``npv_p50_usd``, ``p_loss``), and a method section
explains, in plain words, what each random driver does.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from numpy.typing import NDArray

import hashnation
from hashnation.errors import InputError
from hashnation.mining.htmlkit import (
    BTC_COLOUR,
    FIG_HEIGHT_PX,
    GREY,
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
from hashnation.mining.montecarlo import RiskResult

__all__ = [
    "fan_chart",
    "npv_histogram",
    "p_loss_by_year_figure",
    "risk_figures",
    "risk_headline_rows",
    "risk_report_html",
    "sobol_figure",
    "sweep_figures",
    "sweep_npv_figure",
    "sweep_p_loss_heatmap",
    "sweep_report_html",
    "tornado_figure",
]

FloatArray = NDArray[np.float64]
_LOSS_COLOUR = "#c0392b"
_LOW_COLOUR = "#2e86c1"
_HIGH_COLOUR = "#e67e22"
_PALETTE = ("#1f4e79", "#f7931a", "#2e8b47", "#c0392b", "#7d3c98", "#17a589", "#6b6b6b")
_USD_M = 1e6
_ALPHA = 0.05


# --------------------------------------------------------------------------- formatting


def _g(value: float) -> str:
    """Compact number for factor ranges (``0.25``, ``88,728``)."""
    if not math.isfinite(value):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _need_columns(table: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(name, sorted(table.columns), f"a table with columns {missing}")


# --------------------------------------------------------------------------- figures


def fan_chart(result: RiskResult, field: str = "cumulative_cashflow_usd") -> go.Figure:
    """Fan chart of a per-year field: P5–P95 and P25–P75 bands and the median.

    Parameters
    ----------
    result
        Monte Carlo result.
    field
        Key of ``result.per_year``: ``cumulative_cashflow_usd`` (shown in USD
        million) or ``btc_mined`` [BTC per year], or any other per-year field.

    Returns
    -------
    plotly.graph_objects.Figure
        Programme year on x.

    Raises
    ------
    InputError
        ``field`` is not in ``result.per_year``.
    """
    if field not in result.per_year:
        raise InputError("field", field, f"one of: {', '.join(result.per_year)}")
    fan = result.fan(field, (0.05, 0.25, 0.5, 0.75, 0.95))
    money = field.endswith("_usd")
    scale = _USD_M if money else 1.0
    unit = "USD m" if money else _unit_of(field)
    years = [int(y) for y in fan.index]
    q: dict[float, FloatArray] = {
        float(p): fan[p].to_numpy(dtype=np.float64) / scale for p in fan.columns
    }
    colour = USD_COLOUR if money else BTC_COLOUR
    fig = go.Figure()
    for lo, hi, name, opacity in ((0.05, 0.95, "P5–P95", 0.18), (0.25, 0.75, "P25–P75", 0.35)):
        fig.add_trace(
            go.Scatter(
                x=years,
                y=q[hi],
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=years,
                y=q[lo],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=_rgba(colour, opacity),
                name=f"{name} of paths",
                hovertemplate=f"{name}: %{{y:,.2f}} {unit}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=years,
            y=q[0.5],
            mode="lines+markers",
            line={"color": colour, "width": 2},
            name="median (P50)",
            hovertemplate=f"median: %{{y:,.2f}} {unit}<extra></extra>",
        )
    )
    if money:
        fig.add_hline(y=0.0, line={"color": GREY, "dash": "dash", "width": 1})
    what = {
        "cumulative_cashflow_usd": "Cumulative cash flow incl. initial spending",
        "btc_mined": "BTC mined per programme year",
    }.get(field, field)
    apply_layout(fig, f"{what} [{unit}]: spread across Monte Carlo paths")
    fig.update_layout(hovermode="x unified")
    fig.update_xaxes(title_text="programme year", dtick=1)
    fig.update_yaxes(title_text=f"{field} [{unit}]")
    return fig


def _unit_of(field: str) -> str:
    if field.startswith("btc_"):
        return "BTC/yr"
    suffix = field.rsplit("_", 1)[-1]
    return {"mwh": "MWh/yr", "tco2": "tCO2/yr", "btc": "USD/BTC"}.get(suffix, suffix)


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def npv_histogram(result: RiskResult, alpha: float = _ALPHA) -> go.Figure:
    """Histogram of NPV across paths with P(loss), VaR and CVaR marked.

    Parameters
    ----------
    result
        Monte Carlo result.
    alpha
        Tail probability of VaR and CVaR (0.05: 95 % VaR) [-].

    Returns
    -------
    plotly.graph_objects.Figure
        NPV in USD million on x; vertical lines at zero, at minus VaR (the
        ``alpha`` quantile) and at minus CVaR (mean of the worst ``alpha`` tail).
    """
    s = result.summary(alpha=alpha)
    npv = result.paths["npv_usd"].to_numpy(dtype=np.float64) / _USD_M
    level = f"{(1 - alpha) * 100:g} %"
    fig = go.Figure(
        go.Histogram(
            x=npv,
            nbinsx=min(60, max(10, int(math.sqrt(npv.size)) * 2)),
            marker_color=USD_COLOUR,
            opacity=0.8,
            name="paths",
            hovertemplate="NPV %{x} USD m<br>%{y} paths<extra></extra>",
        )
    )
    marks = (
        (0.0, "NPV = 0", GREY, "dash"),
        (-s["var_usd"] / _USD_M, f"VaR {level}", _LOSS_COLOUR, "dot"),
        (-s["cvar_usd"] / _USD_M, f"CVaR {level}", _LOSS_COLOUR, "dash"),
        (s["deterministic_npv_usd"] / _USD_M, "deterministic NPV", BTC_COLOUR, "solid"),
    )
    for k, (x, label, colour, dash) in enumerate(marks):
        if not math.isfinite(x):
            continue
        fig.add_vline(x=x, line={"color": colour, "dash": dash, "width": 1.5})
        fig.add_annotation(
            x=x,
            y=1.0 - 0.07 * k,
            xref="x",
            yref="paper",
            text=label,
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font={"size": 11, "color": colour},
        )
    apply_layout(
        fig,
        f"NPV across {len(npv):,} paths [USD m]: P(loss) = {s['p_loss']:.3f}, "
        f"VaR {level} = {s['var_usd'] / _USD_M:,.1f}, CVaR {level} = {s['cvar_usd'] / _USD_M:,.1f}",
    )
    fig.update_layout(bargap=0.03, showlegend=False)
    fig.update_xaxes(title_text="npv_usd [USD m]")
    fig.update_yaxes(title_text="paths [-]")
    return fig


def p_loss_by_year_figure(result: RiskResult) -> go.Figure:
    """Share of paths still under water (cumulative cash < 0) at each year end.

    Parameters
    ----------
    result
        Monte Carlo result.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar per programme year, y in [0, 1].
    """
    share = result.p_loss_by_year()
    years = [int(y) for y in share.index]
    fig = go.Figure(
        go.Bar(
            x=years,
            y=share.to_numpy(dtype=np.float64),
            marker_color=_LOSS_COLOUR,
            name="share of paths",
            hovertemplate="year %{x}: %{y:.3f}<extra></extra>",
        )
    )
    apply_layout(fig, "Share of paths with cumulative cash below zero, by programme year [-]")
    fig.update_xaxes(title_text="programme year", dtick=1)
    fig.update_yaxes(title_text="P(cumulative cash < 0) [-]", range=[0.0, 1.05])
    return fig


def tornado_figure(table: pd.DataFrame) -> go.Figure:
    """Tornado: NPV at each factor's low and high value, as bars from the base NPV.

    Parameters
    ----------
    table
        Output of :func:`hashnation.mining.sensitivity.tornado`.

    Returns
    -------
    plotly.graph_objects.Figure
        Horizontal bars in USD million, largest swing on top.
    """
    _need_columns(
        table,
        ("factor", "unit", "low", "high", "npv_low_usd", "npv_high_usd", "base_npv_usd"),
        "tornado",
    )
    ordered = table.sort_values("swing_usd", ascending=True, kind="stable")
    base = float(ordered["base_npv_usd"].iloc[0]) / _USD_M if len(ordered) else 0.0
    labels = [
        f"{f} [{u}]: {_g(lo)} → {_g(hi)}"
        for f, u, lo, hi in zip(
            ordered["factor"], ordered["unit"], ordered["low"], ordered["high"], strict=True
        )
    ]
    fig = go.Figure()
    for column, name, colour, values in (
        ("npv_low_usd", "factor at its low value", _LOW_COLOUR, ordered["low"]),
        ("npv_high_usd", "factor at its high value", _HIGH_COLOUR, ordered["high"]),
    ):
        npv = ordered[column].to_numpy(dtype=np.float64) / _USD_M
        fig.add_trace(
            go.Bar(
                y=labels,
                x=npv - base,
                base=base,
                orientation="h",
                name=name,
                marker_color=colour,
                customdata=np.column_stack([npv, values.to_numpy(dtype=np.float64)]),
                hovertemplate="value %{customdata[1]:.4g}: NPV %{customdata[0]:,.1f} USD m"
                "<extra></extra>",
            )
        )
    fig.add_vline(x=base, line={"color": GREY, "width": 1.5})
    stat = str(table.attrs.get("statistic", "mean"))
    apply_layout(fig, f"Tornado: {stat} NPV with one factor at a time moved [USD m]")
    fig.update_layout(
        barmode="overlay",
        height=max(FIG_HEIGHT_PX, 140 + 34 * len(labels)),
        margin={"l": 330},
    )
    fig.update_xaxes(title_text=f"{stat} npv_usd [USD m] (line: base {base:,.1f})")
    return fig


def sobol_figure(table: pd.DataFrame) -> go.Figure:
    """First-order (S1) and total (ST) Sobol indices with confidence intervals.

    Parameters
    ----------
    table
        Output of :func:`hashnation.mining.sensitivity.sobol`.

    Returns
    -------
    plotly.graph_objects.Figure
        Grouped bars per factor, largest ``ST`` first.
    """
    _need_columns(table, ("factor", "s1", "s1_conf", "st", "st_conf"), "sobol")
    ordered = table.sort_values("st", ascending=False, kind="stable")
    factors = list(ordered["factor"].astype(str))
    fig = go.Figure()
    for column, name, colour in (
        ("s1", "S1: the factor alone", USD_COLOUR),
        ("st", "ST: with its interactions", BTC_COLOUR),
    ):
        fig.add_trace(
            go.Bar(
                x=factors,
                y=ordered[column].to_numpy(dtype=np.float64),
                error_y={
                    "type": "data",
                    "array": ordered[f"{column}_conf"].to_numpy(dtype=np.float64),
                    "visible": True,
                },
                name=name,
                marker_color=colour,
                hovertemplate="%{x}: %{y:.3f}<extra></extra>",
            )
        )
    level = table.attrs.get("conf_level", 0.95)
    apply_layout(
        fig,
        f"Sobol indices of the mean NPV (bars: {float(level) * 100:g} % confidence intervals) [-]",
    )
    fig.update_layout(barmode="group", margin={"b": 150})
    fig.update_xaxes(tickangle=-30)
    fig.update_yaxes(title_text="share of variance [-]")
    return fig


def _tariff_column(table: pd.DataFrame) -> str:
    for column in ("tariff_pkr_per_kwh", "tariff_usd_per_kwh"):
        if column in table.columns:
            return column
    raise InputError(
        "sweep", sorted(table.columns), "a table with tariff_pkr_per_kwh or tariff_usd_per_kwh"
    )


def _tariff_text(column: str, value: float) -> str:
    unit = "PKR/kWh" if column == "tariff_pkr_per_kwh" else "USD/kWh"
    return f"{value:g} {unit}"


def sweep_npv_figure(table: pd.DataFrame) -> go.Figure:
    """NPV P5, P50 and P95 against site power, one line per tariff (and mix).

    Parameters
    ----------
    table
        Output of :func:`hashnation.mining.sweep.sweep`.

    Returns
    -------
    plotly.graph_objects.Figure
        Median NPV (line) with P5–P95 bars, in USD million.
    """
    tcol = _tariff_column(table)
    _need_columns(
        table, ("power_mw", "asic_mix", "npv_p5_usd", "npv_p50_usd", "npv_p95_usd"), "sweep"
    )
    mixes = list(dict.fromkeys(table["asic_mix"]))
    fig = go.Figure()
    k = 0
    for mix in mixes:
        for tariff in dict.fromkeys(table[tcol]):
            rows = table[(table["asic_mix"] == mix) & (table[tcol] == tariff)]
            rows = rows.sort_values("power_mw")
            p50 = rows["npv_p50_usd"].to_numpy(dtype=np.float64) / _USD_M
            p5 = rows["npv_p5_usd"].to_numpy(dtype=np.float64) / _USD_M
            p95 = rows["npv_p95_usd"].to_numpy(dtype=np.float64) / _USD_M
            name = _tariff_text(tcol, float(tariff))
            if len(mixes) > 1:
                name += f", {mix}"
            fig.add_trace(
                go.Scatter(
                    x=rows["power_mw"].to_numpy(dtype=np.float64),
                    y=p50,
                    mode="lines+markers",
                    name=name,
                    line={"color": _PALETTE[k % len(_PALETTE)]},
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": p95 - p50,
                        "arrayminus": p50 - p5,
                        "visible": True,
                    },
                    customdata=np.column_stack([p5, p95]),
                    hovertemplate="%{x:,.0f} MW: P50 %{y:,.1f} (P5 %{customdata[0]:,.1f}, "
                    "P95 %{customdata[1]:,.1f}) USD m<extra></extra>",
                )
            )
            k += 1
    fig.add_hline(y=0.0, line={"color": GREY, "dash": "dash", "width": 1})
    apply_layout(fig, "NPV by site power and tariff: median, bars P5–P95 [USD m]")
    fig.update_xaxes(title_text="power_mw [MW]")
    fig.update_yaxes(title_text="npv_usd [USD m]")
    return fig


def sweep_p_loss_heatmap(table: pd.DataFrame, mix: str | None = None) -> go.Figure:
    """Heatmap of P(loss) over site power × tariff for one ASIC mix.

    Parameters
    ----------
    table
        Output of :func:`hashnation.mining.sweep.sweep`.
    mix
        ``asic_mix`` label to show; None for the first one in the table.

    Returns
    -------
    plotly.graph_objects.Figure
        Site power on x, tariff on y, colour P(NPV < 0) in [0, 1].
    """
    tcol = _tariff_column(table)
    _need_columns(table, ("power_mw", "asic_mix", "p_loss"), "sweep")
    labels = list(dict.fromkeys(table["asic_mix"]))
    chosen = labels[0] if mix is None and labels else mix
    if chosen not in labels:
        raise InputError("mix", mix, f"one of: {', '.join(map(str, labels))}")
    rows = table[table["asic_mix"] == chosen]
    grid = rows.pivot_table(index=tcol, columns="power_mw", values="p_loss", aggfunc="mean")
    grid = grid.sort_index().sort_index(axis=1)
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(dtype=np.float64),
            x=[f"{c:g}" for c in grid.columns],
            y=[f"{i:g}" for i in grid.index],
            zmin=0.0,
            zmax=1.0,
            colorscale="RdYlGn_r",
            colorbar={"title": {"text": "p_loss [-]"}},
            texttemplate="%{z:.2f}",
            hovertemplate="%{x} MW, %{y}: P(loss) %{z:.3f}<extra></extra>",
        )
    )
    unit = "PKR/kWh" if tcol == "tariff_pkr_per_kwh" else "USD/kWh"
    title = "P(NPV < 0) by site power and tariff [-]"
    if len(labels) > 1:
        title += f": {chosen}"
    apply_layout(fig, title)
    fig.update_xaxes(title_text="power_mw [MW]", type="category")
    fig.update_yaxes(title_text=f"{tcol} [{unit}]", type="category")
    return fig


def risk_figures(
    result: RiskResult,
    tornado: pd.DataFrame | None = None,
    sobol: pd.DataFrame | None = None,
) -> dict[str, go.Figure]:
    """All figures of the risk report, keyed by a short id.

    Parameters
    ----------
    result
        Monte Carlo result.
    tornado
        Optional tornado table.
    sobol
        Optional Sobol table.

    Returns
    -------
    dict[str, plotly.graph_objects.Figure]
        ``histogram``, ``fan_cash``, ``fan_btc``, ``p_loss_year``, then
        ``tornado`` and ``sobol`` when given.
    """
    figs = {
        "histogram": npv_histogram(result),
        "fan_cash": fan_chart(result, "cumulative_cashflow_usd"),
        "fan_btc": fan_chart(result, "btc_mined"),
        "p_loss_year": p_loss_by_year_figure(result),
    }
    if tornado is not None:
        figs["tornado"] = tornado_figure(tornado)
    if sobol is not None:
        figs["sobol"] = sobol_figure(sobol)
    return figs


def sweep_figures(table: pd.DataFrame) -> dict[str, go.Figure]:
    """Figures of the sweep report: ``npv`` and one ``p_loss`` heatmap per mix.

    Parameters
    ----------
    table
        Output of :func:`hashnation.mining.sweep.sweep`.

    Returns
    -------
    dict[str, plotly.graph_objects.Figure]
        ``npv``, then ``p_loss`` (one mix) or ``p_loss_1``, ``p_loss_2``, ...
    """
    figs = {"npv": sweep_npv_figure(table)}
    labels = list(dict.fromkeys(table["asic_mix"]))
    for k, label in enumerate(labels, start=1):
        key = "p_loss" if len(labels) == 1 else f"p_loss_{k}"
        figs[key] = sweep_p_loss_heatmap(table, label)
    return figs


# --------------------------------------------------------------------------- HTML


_CSS = """table.headline td:nth-child(2){font-family:monospace;font-size:0.9em;color:#444}
table.wide{font-size:0.8em}
table.wide th{font-family:monospace;font-weight:normal;white-space:nowrap}
table.wide td:first-child{white-space:nowrap}
"""
"""Style rules of the risk and sweep pages, after :data:`~hashnation.mining.htmlkit.BASE_CSS`."""

_CAPTIONS = {
    "histogram": (
        "How the net present value is spread across the simulated futures. Left of the "
        "grey dashed line the programme loses money; the share of paths there is P(loss). "
        "The dotted red line is the value-at-risk (VaR): in 95 % of paths the loss is "
        "smaller. The dashed red line is the conditional value-at-risk (CVaR): the average "
        "loss in the worst 5 % of paths. The orange line is the single deterministic run."
    ),
    "fan_cash": (
        "Cumulative cash flow, initial spending included, at the end of each programme "
        "year. The line is the median path; the dark band holds the middle half of the "
        "paths (P25–P75) and the light band 90 % of them (P5–P95). Where the band crosses "
        "zero, some futures have paid back and others have not."
    ),
    "fan_btc": (
        "BTC mined in each programme year across paths. The steps down are halvings of "
        "the block subsidy; the widening band is the uncertainty of network growth, block "
        "luck, machine failures and, through the curtailment rule, of the BTC price."
    ),
    "p_loss_year": (
        "Share of paths whose cumulative cash, initial spending included, is still below "
        "zero at the end of each year: the probability that the programme has not yet paid "
        "back by then (undiscounted)."
    ),
    "tornado": (
        "Each factor is moved alone to its low value (blue) and its high value (orange), "
        "all others at their base; the bar runs from the base NPV to the NPV obtained. "
        "Every run uses the same random draws, so the bars show the factor's effect, "
        "not sampling noise. The longest bars are the assumptions that matter most."
    ),
    "sobol": (
        "Share of the variance of the mean NPV due to each factor when all factors vary "
        "together over their ranges. S1 counts the factor alone; ST adds its interactions "
        "with the others. A factor with ST near zero can be fixed anywhere in its range "
        "without changing the answer. Whiskers are confidence intervals; small negative "
        "S1 values are estimation noise."
    ),
    "npv": (
        "Median NPV of each design against site power, one line per tariff; the bars run "
        "from P5 to P95 of the paths. All designs are valued on the same simulated futures."
    ),
    "p_loss": (
        "Probability that the NPV is negative for each site power (columns) and tariff "
        "(rows). Green: rarely loses money; red: nearly always."
    ),
}


def _figure_html(key: str, fig: Any) -> str:
    caption = _CAPTIONS.get(key.rstrip("_0123456789"), _CAPTIONS.get(key, ""))
    return figure_html(key, fig, caption)


def risk_headline_rows(result: RiskResult, alpha: float = _ALPHA) -> list[tuple[str, str, str]]:
    """Headline figures of a Monte Carlo run, formatted with their units.

    Parameters
    ----------
    result
        Monte Carlo result.
    alpha
        Tail probability of VaR and CVaR [-].

    Returns
    -------
    list[tuple[str, str, str]]
        ``(label, key, formatted value)``; the key is that of
        :meth:`RiskResult.summary` (its suffix is the unit).
    """
    s = result.summary(alpha=alpha)
    level = f"{(1 - alpha) * 100:g} %"
    var = s["var_usd"]
    var_text = fmt_usd(var)
    if var < 0:
        var_text += f" (even the worst {alpha * 100:g} % gain)"
    deterministic = fmt_usd(s["deterministic_npv_usd"])
    return [
        ("Monte Carlo paths", "paths", f"{int(s['paths']):,}"),
        ("Root seed (same seed, same result)", "seed", str(result.seed)),
        ("Probability of loss, P(NPV < 0)", "p_loss", fmt_share(s["p_loss"])),
        (f"Value-at-risk at {level}", "var_usd", var_text),
        (f"Conditional value-at-risk at {level}", "cvar_usd", fmt_usd(s["cvar_usd"])),
        ("NPV, 5th percentile", "npv_p5_usd", fmt_usd(s["npv_p5_usd"])),
        ("NPV, median", "npv_p50_usd", fmt_usd(s["npv_p50_usd"])),
        ("NPV, 95th percentile", "npv_p95_usd", fmt_usd(s["npv_p95_usd"])),
        ("NPV, mean", "npv_mean_usd", fmt_usd(s["npv_mean_usd"])),
        ("NPV of the deterministic run", "deterministic_npv_usd", deterministic),
        ("BTC mined, median", "btc_mined_p50", f"{fmt_num(s['btc_mined_p50'], 2)} BTC"),
        (
            "All-in cost per BTC, median",
            "cost_usd_per_btc_p50",
            f"USD {fmt_num(s['cost_usd_per_btc_p50'])}/BTC",
        ),
        ("CO2 emissions, median", "emissions_tco2_p50", f"{fmt_num(s['emissions_tco2_p50'])} tCO2"),
        (
            "Curtailed share of site energy, median",
            "curtailed_share_p50",
            fmt_share(s["curtailed_share_p50"]),
        ),
    ]


def _driver_rows(drivers: Any) -> list[tuple[str, str]]:
    if not dataclasses.is_dataclass(drivers):
        return []
    rows = []
    for f in dataclasses.fields(drivers):
        value = getattr(drivers, f.name)
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        rows.append((f.name, text))
    return rows


def _value(drivers: Any, name: str, fmt: str = ".3g") -> str:
    if drivers is None:
        return "(as set for the run)"
    value = getattr(drivers, name, None)
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float):
        return format(value, fmt)
    return str(value)


def _drivers_method(drivers: Any) -> str:
    """Plain-words description of each random driver, with the run's parameters."""
    d = drivers
    price = (
        "Blocks of "
        f"{_e(_value(d, 'bootstrap_block_days', 'd'))} consecutive days of real daily price "
        f"moves since {_e(_value(d, 'price_fit_since'))} are drawn at random and strung "
        "together (a <i>block bootstrap</i>). This keeps bitcoin's fat tails and its calm "
        "and stormy spells, which a textbook normal model misses"
        if getattr(d, "price_model", "bootstrap") == "bootstrap"
        else "Daily moves are drawn from a normal distribution (geometric Brownian motion), "
        "a textbook model kept for checks"
    )
    return f"""
<p>The Monte Carlo does not forecast. It takes the scenario's deterministic path (price,
network, grid) as the central case and asks how widely the result could spread around it.
Each random driver is built so that its average is the deterministic path: with all of
them switched off a path reproduces the deterministic run exactly.</p>
<ul>
<li><b>Bitcoin price.</b> {price}. The moves are rescaled to an annual volatility of
{_e(_value(d, "price_volatility_pu"))} (1 = 100 %), and their average is removed, so the
expected price is the scenario's price path: the historical trend is <i>not</i> used as a
forecast.</li>
<li><b>Network hashrate (difficulty).</b> The network grows as the scenario says, but
miners elsewhere react: when bitcoin pays better than expected (a higher price or fees),
more machines switch on after about {_e(_value(d, "hashrate_lag_days", "d"))} days, the
time to buy and install them, and they leave when it pays worse. The strength of that
response is the elasticity ({_e(_value(d, "hashrate_elasticity"))} per year), plus random
noise of {_e(_value(d, "hashrate_volatility_pu"))} a year. This is why a price rally helps
the programme less than one-for-one: competitors follow it.</li>
<li><b>Transaction fees.</b> Fees per block wander around the scenario's level with the
persistence seen in the bundled fee history (a log-AR(1) process: a fee spike fades over
days; day-to-day persistence {_e(_value(d, "fees_autocorrelation"))}).</li>
<li><b>Block luck, retargets and halvings.</b> Blocks are found at random (a Poisson
process), so each two-week difficulty period and each halving of the block subsidy
comes a little earlier or later than on average.</li>
<li><b>Machines.</b> In each path a share of the ASICs fails for good every year (drawn
uniformly between 0 and twice {_e(_value(d, "failure_rate_pu_per_year"))} a year), and the
wear of the survivors is drawn within ± {_e(_value(d, "degradation_spread_pu_per_year"))}
a year of the scenario's degradation rate.</li>
<li><b>Grid surplus.</b> Each year the power the grid can spare is multiplied by a random
factor with mean one (spread {_e(_value(d, "surplus_volatility_pu"))}), for wet or dry
years and demand surprises. Where the surplus is far above the site's connection this
changes nothing.</li>
</ul>
<p>Every path has its own random-number stream keyed by the seed and the path number, so
the same seed gives the same result on any computer, however the work is split.</p>
"""


_MEASURES = """
<h3>Risk measures</h3>
<ul>
<li><b>P(loss)</b> (<code>p_loss</code>): share of paths whose NPV at the scenario's
discount rate is negative.</li>
<li><b>Value-at-risk at 95 %</b> (<code>var_usd</code>): the loss that 95 % of paths do
not exceed (minus the 5th percentile of NPV). <b>Conditional value-at-risk</b>
(<code>cvar_usd</code>): the average loss of the worst 5 % of paths. Both are positive
numbers for losses.</li>
<li><b>Percentiles</b> (<code>npv_p5_usd</code>, <code>npv_p50_usd</code>,
<code>npv_p95_usd</code>): 5 %, 50 % (median) and 95 % of paths have a lower NPV.</li>
</ul>
"""

_SENSITIVITY = """
<h3>Sensitivity analysis</h3>
<p>Sensitivity runs use <i>common random numbers</i>: every run uses the same seed, so path
<i>i</i> sees the same price, fee, block-luck, failure and surplus draws whatever the
factor values. A difference between two runs is then the effect of the factor, not the
luck of the draw. The <b>tornado</b> moves one factor at a time to a low and a high value
and records the NPV. The <b>Sobol indices</b> vary all factors at once, uniformly over
their ranges, and split the variance of the mean NPV into the part each factor explains
alone (S1) and the part it explains with its interactions (ST); they use Saltelli's
sampling scheme and SALib's estimators, with bootstrap confidence intervals.</p>
"""


def _factor_table(
    table: pd.DataFrame, columns: Sequence[tuple[str, str]], numeric_from: int = 2
) -> str:
    rows = []
    for record in table.to_dict("records"):
        cells: list[str] = []
        for column, kind in columns:
            value = record.get(column)
            if kind == "usd":
                cells.append(fmt_usd(float(value)) if value is not None else "n/a")
            elif kind == "usdm":
                cells.append(fmt_num(float(value) / _USD_M, 1) if value is not None else "n/a")
            elif kind == "idx":
                cells.append(f"{float(value):.3f}" if value is not None else "n/a")
            elif kind == "num":
                cells.append(_g(float(value)) if value is not None else "n/a")
            else:
                cells.append(str(value))
        rows.append(cells)
    return html_table([c for c, _ in columns], rows, cls="wide", numeric_from=numeric_from)


def risk_report_html(
    result: RiskResult,
    scenario_name: str,
    tornado: pd.DataFrame | None = None,
    sobol: pd.DataFrame | None = None,
) -> str:
    """Render the HTML risk report of a Monte Carlo run.

    Parameters
    ----------
    result
        Monte Carlo result.
    scenario_name
        Name shown in the title (``scenario.scenario.name``).
    tornado
        Optional output of :func:`hashnation.mining.sensitivity.tornado`.
    sobol
        Optional output of :func:`hashnation.mining.sensitivity.sobol`.

    Returns
    -------
    str
        A complete HTML document (UTF-8) loading ``plotly.min.js`` from its folder.
    """
    s = result.summary(alpha=_ALPHA)
    title = f"HashNation risk report: {scenario_name}"
    figs = risk_figures(result, tornado, sobol)
    charts = "".join(
        _figure_html(k, f)
        for k, f in figs.items()
        if k in ("histogram", "fan_cash", "fan_btc", "p_loss_year")
    )
    headline = html_table(
        ["figure", "key (unit in name)", "value"],
        risk_headline_rows(result),
        cls="headline",
    )
    drivers = html_table(["parameter", "value"], _driver_rows(result.drivers), cls="compact")
    sensitivity = ""
    if tornado is not None:
        sensitivity += (
            "<h3>Tornado: one factor at a time</h3>"
            f"<p>{_e(_run_note(tornado.attrs, 'tornado'))}</p>"
            + _figure_html("tornado", figs["tornado"])
            + _factor_table(
                tornado,
                (
                    ("factor", "text"),
                    ("unit", "text"),
                    ("low", "num"),
                    ("high", "num"),
                    ("npv_low_usd", "usd"),
                    ("npv_high_usd", "usd"),
                    ("swing_usd", "usd"),
                ),
            )
        )
    if sobol is not None:
        sensitivity += (
            "<h3>Sobol indices: all factors at once</h3>"
            f"<p>{_e(_run_note(sobol.attrs, 'sobol'))}</p>"
            + _figure_html("sobol", figs["sobol"])
            + _factor_table(
                sobol,
                (
                    ("factor", "text"),
                    ("unit", "text"),
                    ("low", "num"),
                    ("high", "num"),
                    ("s1", "idx"),
                    ("s1_conf", "idx"),
                    ("st", "idx"),
                    ("st_conf", "idx"),
                ),
            )
        )
    if not sensitivity:
        sensitivity = "<p>No sensitivity analysis was run with this report.</p>"
    lead = (
        f"Across {int(s['paths']):,} simulated futures (seed {result.seed}), the programme "
        f"loses money in {s['p_loss'] * 100:.1f} % of them: P(loss) = {s['p_loss']:.3f}. "
        f"Median NPV {fmt_usd(s['npv_p50_usd'])}; 90 % of paths lie between "
        f"{fmt_usd(s['npv_p5_usd'])} and {fmt_usd(s['npv_p95_usd'])}. "
        f"The deterministic run gives {fmt_usd(s['deterministic_npv_usd'])}."
    )
    meta = ", ".join(f"{k} {v}" for k, v in result.meta.items())
    subtitle = (
        f"Monte Carlo of scenario <b>{_e(scenario_name)}</b>: {int(s['paths']):,} paths, "
        f"seed {_e(result.seed)}, {result.chunks} chunk(s), {result.wall_s:,.1f} s"
        f"{'; ' + _e(meta) if meta else ''}. Produced by HashNation {_e(hashnation.__version__)}."
    )
    nav = (
        '<a href="#summary">Summary</a><a href="#charts">Charts</a>'
        '<a href="#sensitivity">Sensitivity</a><a href="#method">Method</a>'
    )
    body = f"""
<h2 id="summary">Headline figures</h2>
<p>Money is in US dollars of the year it is spent or earned; NPV uses the scenario's
discount rate. The middle column is the key of the figure in the machine-readable
summary; its suffix is the unit (<code>_usd</code> US dollars, <code>_tco2</code> tonnes
of CO2, <code>_pu</code> per unit, 1 = 100 %).</p>
{headline}
<h2 id="charts">Charts</h2>
{charts}
<h2 id="sensitivity">Sensitivity</h2>
{sensitivity}
<h2 id="method">Method</h2>
<h3>The random drivers</h3>
{_drivers_method(result.drivers)}
<h3>Driver parameters of this run</h3>
{drivers}
{_MEASURES}
{_SENSITIVITY}
"""
    return html_page(title, subtitle, nav, lead, body, extra_css=_CSS)


def _run_note(attrs: Mapping[Any, Any], kind: str) -> str:
    if kind == "tornado":
        return (
            f"{attrs.get('runs', '?')} runs of {attrs.get('paths', '?')} paths, seed "
            f"{attrs.get('seed', '?')}, statistic: {attrs.get('statistic', 'mean')} NPV."
        )
    return (
        f"{attrs.get('points', '?')} sample points (base sample {attrs.get('n_base', '?')}) of "
        f"{attrs.get('paths_per_point', '?')} paths each, seed {attrs.get('seed', '?')}."
    )


def sweep_report_html(table: pd.DataFrame, scenario_name: str) -> str:
    """Render the HTML report of a design sweep.

    Parameters
    ----------
    table
        Output of :func:`hashnation.mining.sweep.sweep`.
    scenario_name
        Name of the base scenario, shown in the title.

    Returns
    -------
    str
        A complete HTML document (UTF-8) loading ``plotly.min.js`` from its folder.

    Raises
    ------
    InputError
        An empty table or one without the sweep's columns.
    """
    if len(table) == 0:
        raise InputError("sweep", "an empty table", "at least one design")
    tcol = _tariff_column(table)
    _need_columns(
        table,
        ("power_mw", "asic_mix", "npv_p5_usd", "npv_p50_usd", "npv_p95_usd", "p_loss"),
        "sweep",
    )
    paths = table.attrs.get("paths", table["paths"].iloc[0] if "paths" in table else "?")
    seed = table.attrs.get("seed", table["seed"].iloc[0] if "seed" in table else "?")
    title = f"HashNation design sweep: {scenario_name}"
    best = table.iloc[int(np.argmax(table["npv_p50_usd"].to_numpy(dtype=np.float64)))]
    safest = table.iloc[int(np.argmin(table["p_loss"].to_numpy(dtype=np.float64)))]

    def design(row: pd.Series) -> str:
        return (
            f"{row['power_mw']:g} MW at {_tariff_text(tcol, float(row[tcol]))} ({row['asic_mix']})"
        )

    headline = html_table(
        ["figure", "key (unit in name)", "value"],
        [
            ("Designs", "designs", f"{len(table):,}"),
            ("Monte Carlo paths per design", "paths", str(paths)),
            ("Root seed, the same for every design", "seed", str(seed)),
            (
                "Best median NPV",
                "npv_p50_usd",
                f"{fmt_usd(float(best['npv_p50_usd']))}: {design(best)}",
            ),
            (
                "Lowest probability of loss",
                "p_loss",
                f"{fmt_share(float(safest['p_loss']))}: {design(safest)}",
            ),
            (
                "Range of P(loss) over designs",
                "p_loss",
                f"{fmt_share(float(table['p_loss'].min()))} to "
                f"{fmt_share(float(table['p_loss'].max()))}",
            ),
        ],
        cls="headline",
    )
    columns: list[tuple[str, str]] = [
        ("asic_mix", "text"),
        ("power_mw", "num"),
        (tcol, "num"),
        ("p_loss", "idx"),
        ("var_usd", "usdm"),
        ("cvar_usd", "usdm"),
        ("npv_p5_usd", "usdm"),
        ("npv_p50_usd", "usdm"),
        ("npv_p95_usd", "usdm"),
        ("deterministic_npv_usd", "usdm"),
        ("btc_mined_p50", "num"),
        ("cost_usd_per_btc_p50", "num"),
        ("emissions_tco2_p50", "num"),
    ]
    present = [(c, k) for c, k in columns if c in table.columns]
    designs = _factor_table(table, present, numeric_from=1)
    charts = "".join(_figure_html(k, f) for k, f in sweep_figures(table).items())
    lead = (
        f"{len(table):,} designs, each valued on the same {paths} simulated futures "
        f"(seed {seed}). Best median NPV: {fmt_usd(float(best['npv_p50_usd']))} for "
        f"{design(best)}, with P(loss) = {float(best['p_loss']):.3f}."
    )
    subtitle = (
        f"Base scenario <b>{_e(scenario_name)}</b>; {len(table):,} designs of {_e(paths)} paths, "
        f"seed {_e(seed)}. Produced by HashNation {_e(hashnation.__version__)}."
    )
    nav = (
        '<a href="#summary">Summary</a><a href="#charts">Charts</a>'
        '<a href="#designs">All designs</a><a href="#method">Method</a>'
    )
    body = f"""
<h2 id="summary">Headline figures</h2>
{headline}
<h2 id="charts">Charts</h2>
{charts}
<h2 id="designs">All designs</h2>
<p>One row per design. Money columns are in millions of US dollars (USD m); VaR and CVaR
are at 95 % (positive numbers are losses); medians of BTC mined [BTC], cost per BTC
[USD/BTC] and emissions [tCO2] are across paths.</p>
<div class="scroll">{designs}</div>
<h2 id="method">Method</h2>
<p>Each design is the base scenario with its site power, a flat tariff and, when given,
its ASIC mix replaced; everything else is unchanged. Every design is valued by the same
Monte Carlo with the same seed (<i>common random numbers</i>): path <i>i</i> sees the same
price, fee, block-luck, failure and surplus draws in every design, so designs are compared
on the same futures and their differences are not sampling noise. The deterministic NPV is
the single run of the scenario's central path.</p>
<h3>The random drivers</h3>
{_drivers_method(table.attrs.get("drivers"))}
{_MEASURES}
"""
    return html_page(title, subtitle, nav, lead, body, extra_css=_CSS)
