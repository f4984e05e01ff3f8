"""``hashnation reserve``: the strategic bitcoin reserve (policies, risk)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from hashnation.cli.console import out_console
from hashnation.cli.errors import HashNationGroup
from hashnation.errors import InputError

__all__ = ["app"]

app = typer.Typer(
    name="reserve",
    cls=HashNationGroup,
    help="Strategic bitcoin reserve: accumulation policies and reserve risk.",
    no_args_is_help=True,
)


def _day(text: str, option: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise InputError(option, text, "a day as YYYY-MM-DD") from None


@app.command("backtest")
def backtest_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.", show_default=False)],
    policy: Annotated[
        str, typer.Option("--policy", help="fixed_btc, fixed_usd, value_averaging or mining.")
    ] = "fixed_btc",
    start: Annotated[str, typer.Option("--start", help="First day, YYYY-MM-DD.")] = "2022-11-17",
    end: Annotated[str, typer.Option("--end", help="Last day, YYYY-MM-DD.")] = "2025-12-31",
    btc_per_day: Annotated[float, typer.Option("--btc-per-day", help="[BTC/day]")] = 1.0,
    usd_per_day: Annotated[float, typer.Option("--usd-per-day", help="[USD/day]")] = 0.0,
    no_purchases_from: Annotated[
        str | None,
        typer.Option("--no-purchases-from", help="IMF-style stop on purchases, YYYY-MM-DD."),
    ] = None,
    financing_need_usd: Annotated[
        float,
        typer.Option("--financing-need-usd", help="External financing need to compare with."),
    ] = 100e9,
) -> None:
    """Backtest an accumulation policy on bundled prices; write report.html and CSV/JSON."""
    import plotly.offline

    from hashnation.mining.outputs import check_out_dir, publish_atomically
    from hashnation.reserve.policy import Policy, backtest
    from hashnation.reserve.report import backtest_html
    from hashnation.reserve.risk import reserve_risk

    first, last = _day(start, "--start"), _day(end, "--end")
    stop = _day(no_purchases_from, "--no-purchases-from") if no_purchases_from else None
    spec = Policy(
        policy,  # type: ignore[arg-type]  # validated by Policy
        btc_per_day=btc_per_day,
        usd_per_day=usd_per_day,
        no_purchases_from=stop,
    )
    check_out_dir(out)
    table = backtest(spec, first, last)
    final = table.iloc[-1]
    risk = reserve_risk(
        float(final["holdings_sat"]) / 1e8,
        float(final["price_usd_per_btc"]),
        financing_need_usd=financing_need_usd,
    )
    text = f"{policy} ({btc_per_day:g} BTC/day, {usd_per_day:g} USD/day)"
    if stop:
        text += f", no purchases from {stop}"
    html = backtest_html(table, f"Reserve backtest: {policy}", text, risk)
    held_sat = int(final["holdings_sat"])
    summary: dict[str, object] = {
        "policy": policy,
        "start": str(first),
        "end": str(last),
        "holdings_sat": held_sat,
        "cost_basis_usd": float(final["cost_basis_usd"]),
        "value_usd": float(final["value_usd"]),
        "var_usd": risk.var_usd,
        "share_of_financing_need_pu": risk.share_of_financing_need_pu,
    }
    names = ["report.html", "plotly.min.js", "backtest.csv", "summary.json"]

    def fill(tmp: Path) -> None:
        (tmp / "report.html").write_text(html, encoding="utf-8")
        (tmp / "plotly.min.js").write_text(plotly.offline.get_plotlyjs(), encoding="utf-8")
        table.to_csv(tmp / "backtest.csv", lineterminator="\n")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")

    written = publish_atomically(out, fill, names, tuple(names))
    console = out_console()
    console.print(
        Text(
            f"{held_sat / 1e8:,.2f} BTC on {last}: value USD "
            f"{float(final['value_usd']):,.0f}, cost USD {float(final['cost_basis_usd']):,.0f}, "
            f"30-day VaR 95 % USD {risk.var_usd:,.0f}"
        ),
        soft_wrap=True,
    )
    console.print(Text(f"report: {written[0]}"), soft_wrap=True)
