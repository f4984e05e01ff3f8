"""Reserve pages: a policy backtest (holdings, cost basis vs value) as HTML + Plotly.

Pure: tables in, figures and an HTML string out. The page loads
``plotly.min.js`` from its own folder (written by the caller), so it works
offline.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

import hashnation
from hashnation.mining.htmlkit import (
    BTC_COLOUR,
    USD_COLOUR,
    apply_layout,
    escape,
    figure_html,
    fmt_num,
    fmt_usd,
    html_page,
    html_table,
)
from hashnation.reserve.risk import ReserveRisk


def holdings_figure(backtest: pd.DataFrame) -> go.Figure:
    """Plot holdings [BTC] over time."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=backtest.index,
            y=backtest["holdings_sat"] / 1e8,
            name="holdings [BTC]",
            line={"color": BTC_COLOUR},
            fill="tozeroy",
        )
    )
    fig.update_yaxes(title_text="holdings [BTC]")
    return apply_layout(fig, "Reserve holdings [BTC]")


def cost_vs_value_figure(backtest: pd.DataFrame) -> go.Figure:
    """Plot cost basis against market value [USD m] over time."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=backtest.index,
            y=backtest["cost_basis_usd"] / 1e6,
            name="cost_basis_usd [USD m]",
            line={"color": "#6b6b6b", "dash": "dash"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=backtest.index,
            y=backtest["value_usd"] / 1e6,
            name="value_usd [USD m]",
            line={"color": USD_COLOUR},
        )
    )
    fig.update_yaxes(title_text="USD million")
    return apply_layout(fig, "Cost basis vs market value [USD m]", hovermode="x unified")


def backtest_html(
    backtest: pd.DataFrame, title: str, policy_text: str, risk: ReserveRisk | None = None
) -> str:
    """Render a backtest page: headline table, two charts, optional risk table."""
    last = backtest.iloc[-1]
    held_btc = float(last["holdings_sat"]) / 1e8
    rows = [
        ("Policy", "policy", policy_text),
        ("Window", "start..end", f"{backtest.index[0].date()} .. {backtest.index[-1].date()}"),
        ("Holdings at the end [BTC]", "holdings_sat / 1e8", fmt_num(held_btc, 8)),
        ("Bought [BTC]", "bought_sat", fmt_num(float(backtest["bought_sat"].sum()) / 1e8, 8)),
        ("Mined [BTC]", "mined_sat", fmt_num(float(backtest["mined_sat"].sum()) / 1e8, 8)),
        ("Spent on purchases", "cost_basis_usd", fmt_usd(float(last["cost_basis_usd"]))),
        (
            "Average purchase cost [USD/BTC]",
            "avg_cost_usd_per_btc",
            fmt_num(float(last["avg_cost_usd_per_btc"]), 2),
        ),
        ("Market value at the end", "value_usd", fmt_usd(float(last["value_usd"]))),
        ("Unrealised P&L", "unrealised_pnl_usd", fmt_usd(float(last["unrealised_pnl_usd"]))),
    ]
    body = "<h2 id='summary'>Summary</h2>" + html_table(["figure", "key", "value"], rows)
    body += "<h2 id='charts'>Charts</h2>"
    body += figure_html(
        "holdings", holdings_figure(backtest), "Holdings in BTC, purchases and mining inflows."
    )
    body += figure_html(
        "value",
        cost_vs_value_figure(backtest),
        "Cumulative USD spent on purchases (dashed) against the market value of the holdings "
        "at the bundled daily price; the gap is the unrealised profit or loss.",
    )
    if risk is not None:
        risk_rows = [
            ("Market value", fmt_usd(risk.value_usd)),
            (
                f"Value at risk, {risk.horizon_days} days, {risk.confidence:.0%}",
                fmt_usd(risk.var_usd),
            ),
            ("Conditional value at risk (same)", fmt_usd(risk.cvar_usd)),
            *(
                (f"Loss if the price falls {s:.0%}", fmt_usd(loss))
                for s, loss in risk.stress_loss_usd.items()
            ),
            (
                f"Share of the external financing need ({fmt_usd(risk.financing_need_usd)})",
                f"{risk.share_of_financing_need_pu:.2%}",
            ),
        ]
        body += "<h2 id='risk'>Risk</h2>" + html_table(["figure", "value"], risk_rows)
    body += (
        "<h2 id='method'>Method</h2><p>Purchases are valued at the bundled CoinGecko daily "
        "price (00:00 UTC); holdings are integer satoshis; mining inflows carry no purchase "
        "cost. Value at risk is historical simulation over overlapping windows of the bundled "
        "price history.</p>"
    )
    subtitle = f"<p class='sub'>Produced by HashNation {escape(hashnation.__version__)}.</p>"
    nav = "<nav><a href='#summary'>Summary</a><a href='#charts'>Charts</a></nav>"
    lead = (
        f"{policy_text}: {held_btc:,.2f} BTC held on {backtest.index[-1].date()}, "
        f"worth {fmt_usd(float(last['value_usd']))} against "
        f"{fmt_usd(float(last['cost_basis_usd']))} spent."
    )
    return html_page(title, subtitle, nav, lead, body)
