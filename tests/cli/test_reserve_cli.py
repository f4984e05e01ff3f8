"""``hashnation reserve backtest`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import typer.testing

from hashnation.cli.main import app

runner = typer.testing.CliRunner(env={"COLUMNS": "200"})


def test_backtest_one_btc_a_day(tmp_path: Path) -> None:
    out = tmp_path / "bt"
    args = ["reserve", "backtest", "--out", str(out), "--start", "2022-11-17"]
    result = runner.invoke(app, [*args, "--end", "2022-11-21"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["holdings_sat"] == 5 * 100_000_000
    table = pd.read_csv(out / "backtest.csv")
    assert summary["cost_basis_usd"] == table["price_usd_per_btc"].sum()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "plotly.min.js" in html and "Cost basis vs market value" in html


def test_backtest_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "bt"
    for extra, message in (
        (["--start", "2022-13-01"], "--start: got '2022-13-01'"),
        (["--policy", "lottery"], "policy.kind: got 'lottery'"),
        (["--start", "2001-01-01"], "backtest window"),
    ):
        result = runner.invoke(app, ["reserve", "backtest", "--out", str(out), *extra])
        assert result.exit_code == 2, extra
        assert message in result.stderr
        assert not out.exists()
