"""``hashnation reserve ledger`` on a SQLite file: init, accounts, export, import, report."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import typer.testing

from hashnation.cli.main import app
from hashnation.reserve.ledger import record_consolidation, record_purchase
from hashnation.store.db import session_scope

runner = typer.testing.CliRunner(env={"COLUMNS": "200"})
TXID = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout


def _books(db: str) -> None:
    _ok(["reserve", "ledger", "init", "--db", db])
    for name, kind in (("cold", "custody"), ("exchange", "counterparty"), ("bcr", "government")):
        _ok(["reserve", "ledger", "account", name, "--type", kind, "--db", db])


def test_export_import_report_round_trip(tmp_path: Path) -> None:
    first = f"sqlite:///{tmp_path / 'a.db'}"
    _books(first)
    with session_scope(first) as session:
        record_purchase(
            session,
            occurred_at=datetime(2024, 3, 1, tzinfo=UTC),
            custody="cold",
            counterparty="exchange",
            amount_sat=100_000_000,
            price_usd_per_btc=Decimal("62000"),
            usd_paid=Decimal("62000.00"),
            trade_ref="T-1",
        )
        record_consolidation(
            session,
            occurred_at=datetime(2024, 3, 2, tzinfo=UTC),
            custody="cold",
            source="bcr",
            amount_sat=50_000_000,
            value_usd=Decimal("31000.00"),
            txid=TXID,
        )
    csv_file = tmp_path / "entries.csv"
    assert "exported 2 entries" in _ok(
        ["reserve", "ledger", "export", str(csv_file), "--db", first]
    )
    second = f"sqlite:///{tmp_path / 'b.db'}"
    _books(second)
    assert "imported 2 entries" in _ok(
        ["reserve", "ledger", "import", str(csv_file), "--db", second]
    )
    report = _ok(["reserve", "ledger", "report", "--at", "2024-06-01", "--db", second])
    assert "holdings\t150000000" in report
    # A consolidation is not a purchase: the two inflows are reported apart.
    assert "inflow\tpurchase\t1 entries\t100000000 sat" in report
    assert "inflow\tconsolidation\t1 entries\t50000000 sat" in report


def test_bad_import_writes_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    _books(db)
    bad = tmp_path / "bad.csv"
    bad.write_text("entry,occurred_at\n1,yesterday\n", encoding="utf-8")
    result = runner.invoke(app, ["reserve", "ledger", "import", str(bad), "--db", db])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "bad.csv" in result.stderr
    report = _ok(["reserve", "ledger", "report", "--at", "2024-06-01", "--db", db])
    assert "holdings\t0" in report
    missing = runner.invoke(app, ["reserve", "ledger", "import", str(tmp_path / "no.csv")])
    assert missing.exit_code == 2


def test_mining_output_lands_in_the_ledger_as_mining(tmp_path: Path) -> None:
    """The mining pillar's annual.csv becomes 'mining' inflows, never purchases."""
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "es"
    _ok(
        [
            "mining",
            "run",
            str(root / "examples" / "el-salvador-geothermal.toml"),
            "--out",
            str(out),
            "--no-hourly-csv",
        ]
    )
    import pandas as pd

    annual = pd.read_csv(out / "annual.csv")
    db = f"sqlite:///{tmp_path / 'm.db'}"
    _ok(["reserve", "ledger", "init", "--db", db])
    _ok(["reserve", "ledger", "account", "cold", "--type", "custody", "--db", db])
    _ok(["reserve", "ledger", "account", "lageo", "--type", "income", "--db", db])
    recorded = _ok(
        [
            "reserve",
            "ledger",
            "mining",
            str(out / "annual.csv"),
            "--custody",
            "cold",
            "--income",
            "lageo",
            "--site",
            "LaGeo Berlin",
            "--db",
            db,
        ]
    )
    years = int((annual["btc_mined"] > 0).sum())
    assert f"recorded {years} mining inflows" in recorded
    report = _ok(
        [
            "reserve",
            "ledger",
            "report",
            "--at",
            "2035-01-01",
            "--db",
            db,
            "--price-usd-per-btc",
            "100000",
        ]
    )
    total = sum(round(v * 100_000_000) for v in annual["btc_mined"] if v > 0)
    assert f"holdings\t{total}" in report
    assert f"inflow\tmining\t{years} entries\t{total} sat" in report
    assert "inflow\tpurchase\t0 entries\t0 sat" in report
