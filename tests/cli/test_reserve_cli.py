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


XPUB = (
    "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsef"
    "D265TMg7usUDFdp6W1EGMcet8"
)
XPRV = (
    "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kej"
    "MRNNU3TGtRBeJgk33yuGBxrMPHi"
)


def test_descriptor_add_list_and_addresses(tmp_path: Path) -> None:
    reserve = tmp_path / "reserve.json"
    result = runner.invoke(
        app, ["reserve", "descriptor", "add", str(reserve), "treasury", f"wpkh({XPUB}/0/*)"]
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["reserve", "descriptor", "list", str(reserve)])
    assert "treasury" in listed.stdout and "wpkh" in listed.stdout
    addrs = runner.invoke(
        app, ["reserve", "addresses", str(reserve), "--label", "treasury", "--count", "2"]
    )
    assert addrs.exit_code == 0, addrs.output
    lines = addrs.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[0].split("\t")[1].startswith("bc1q")


def test_private_keys_are_refused_and_never_stored_or_echoed(tmp_path: Path) -> None:
    reserve = tmp_path / "reserve.json"
    runner.invoke(app, ["reserve", "descriptor", "add", str(reserve), "a", f"wpkh({XPUB}/0/*)"])
    before = reserve.read_text(encoding="utf-8")
    result = runner.invoke(
        app, ["reserve", "descriptor", "add", str(reserve), "hot", f"wpkh({XPRV}/0/*)"]
    )
    assert result.exit_code == 2
    assert XPRV not in result.output and XPRV[:20] not in result.stderr
    assert "public keys only" in result.stderr
    assert reserve.read_text(encoding="utf-8") == before
    assert not list(tmp_path.glob(".reserve.json.*"))
