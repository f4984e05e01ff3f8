"""``hashnation registry``: the staff console on SQLite and PostgreSQL.

The workflow is driven end to end through the command line (firm, application,
every step to a licence); bad input prints one ``error:`` line, exits 2 and writes
nothing; the audit log verifies until a row is edited behind the service's back.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import typer.testing

from hashnation.cli.main import app
from hashnation.registry.licences import LICENCE_SPECS, LicenceType
from hashnation.registry.register import REGISTER_COLUMNS
from hashnation.registry.service import Principal, Registry
from hashnation.store.db import make_engine

runner = typer.testing.CliRunner(env={"COLUMNS": "200", "USER": "tester"})


def _run(args: list[str]) -> typer.testing.Result:
    return runner.invoke(app, ["registry", *args])


def _ok(args: list[str]) -> str:
    result = _run(args)
    assert result.exit_code == 0, result.output
    return result.stdout


def _fails(args: list[str], *words: str) -> str:
    """Run a command that must fail with one ``error:`` line naming ``words``; return it."""
    result = _run(args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path / 'registry.db'}"
    assert "registry schema at head" in _ok(["init", "--db", db])
    return db


def _last_month() -> tuple[date, date]:
    first_of_this = date.today().replace(day=1)
    end = first_of_this - timedelta(days=1)
    return end.replace(day=1), end


def _exchange_return(start: date, end: date, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "licence_type": "exchange",
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "customers": 12_000,
        "complaints_received": 4,
        "complaints_resolved": 4,
        "capital_usd": "2000000",
        "incidents": [],
        "customer_assets_btc_sat": 4_200_000_000,
        "customer_assets_fiat_usd": "2500000",
        "trading_volume_usd": "18000000",
    }
    body.update(changes)
    return body


def _audit_count(db: str) -> int:
    engine = make_engine(db)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(sa.text("SELECT count(*) FROM registry_audit")) or 0)
    finally:
        engine.dispose()


def _licence(db: str) -> int:
    """Take a new application through every step to a licence; return its id."""
    out = _ok(
        [
            "firm",
            "add",
            "Chenab Exchange Ltd",
            "--registration-number",
            "0990001",
            "--commercial-name",
            "Chenab",
            "--db",
            db,
        ]
    )
    assert out.startswith("firm 1: Chenab Exchange Ltd")
    assert "Chenab Exchange Ltd\t0990001" in _ok(["firm", "list", "--db", db])
    out = _ok(
        ["apply", "1", "exchange", "--all-documents", "--capital-usd", "2,500,000", "--db", db]
    )
    assert out.startswith("application 1: Chenab Exchange Ltd (exchange) is draft")
    assert "next: submit, withdraw" in out
    assert "is submitted" in _ok(["act", "1", "submit", "--as-firm", "1", "--db", db])
    assert "1 " in _ok(["queue", "--db", db]) and "review queue: 1 waiting" in _ok(
        ["queue", "--db", db]
    )
    assert "is under_review" in _ok(["act", "1", "begin_review", "--db", db])
    out = _ok(["act", "1", "approve", "--condition", "monthly proof of reserves", "--db", db])
    assert "is approved" in out and "conditions: monthly proof of reserves" in out
    out = _ok(["act", "1", "grant_licence", "--db", db])
    assert "is licensed, licence PVARA-EXC-0001" in out  # the default (Pakistan) pack's prefix
    assert "review queue: 0 waiting" in _ok(["queue", "--db", db])
    return 1


def test_workflow_to_licence_and_bad_input(sqlite_db: str) -> None:
    db = sqlite_db
    _licence(db)
    before = _audit_count(db)
    # A bad action, an action the status does not allow, a firm action taken by staff,
    # a staff action taken by a firm: one line each, exit 2, nothing written.
    _fails(["act", "1", "frobnicate", "--db", db], "action", "frobnicate")
    _fails(["act", "1", "approve", "--db", db], "approve", "licensed")
    _fails(["act", "1", "surrender", "--db", db], "staff may not", "surrender")
    _fails(["act", "1", "suspend", "--as-firm", "1", "--reason", "x", "--db", db], "suspend")
    _fails(["act", "1", "suspend", "--db", db], "reason")
    _fails(["act", "1", "submit", "--as-firm", "2", "--db", db], "application_id")
    _fails(["apply", "1", "exchange", "--capital-usd", "ten", "--db", db], "--capital-usd", "ten")
    _fails(["apply", "1", "exchange", "--capital-usd", "100", "--db", db], "documents")
    _fails(["apply", "1", "casino", "--capital-usd", "100", "--db", db], "licence_type", "casino")
    _fails(["firm", "add", "Dup Ltd", "--registration-number", "0990001", "--db", db], "0990001")
    _fails(["late", "--as-of", "31/12/2025", "--db", db], "--as-of", "YYYY-MM-DD")
    _fails(["enforce", "1", "fine", "--reason", "late", "--db", db], "fine_usd")
    _fails(
        ["enforce", "1", "fine", "--reason", "late", "--fine-usd", "-5", "--db", db], "--fine-usd"
    )
    _fails(["token", "issue", "--role", "king", "--label", "x", "--db", db], "--role", "king")
    assert _audit_count(db) == before

    out = _ok(
        ["enforce", "1", "fine", "--reason", "late return", "--fine-usd", "25000", "--db", db]
    )
    assert "fine against application 1, fine USD 25,000.00" in out
    out = _ok(["enforce", "1", "suspension", "--reason", "capital shortfall", "--db", db])
    assert "suspension" in out
    assert "suspended" in _ok(["applications", "--db", db])
    token = _ok(["token", "issue", "--role", "firm", "--firm", "1", "--label", "ops", "--db", db])
    assert token.strip().startswith("hn_")
    assert "1\tfirm\t1\tops" in _ok(["token", "list", "--db", db])
    assert "token 1 (ops) revoked" in _ok(["token", "revoke", "1", "--db", db])
    assert "tester" in _ok(["audit", "log", "--db", db])


def test_missing_or_unmigrated_database(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    _fails(["queue", "--db", f"sqlite:///{missing}"], "--db", "registry init")
    assert not missing.exists()
    empty = tmp_path / "empty.db"
    make_engine(f"sqlite:///{empty}").connect().close()
    _fails(["queue", "--db", f"sqlite:///{empty}"], "--db", "registry schema")
    _fails(["queue", "--db", "nonsense"], "--db")


def test_seed_returns_late_export(sqlite_db: str, tmp_path: Path) -> None:
    db = sqlite_db
    out = _ok(["seed", "--db", db])
    assert "seeded" in out and "\tstaff\thn_" in out.replace("  ", "\t")
    _fails(["seed", "--db", db], "--db", "empty registry")
    assert "review queue" in _ok(["queue", "--db", db])
    assert "sandbox participants" in _ok(["sandbox", "participants", "--db", db])
    assert "SBX-1" in _ok(["sandbox", "cohorts", "--db", db])

    # Filing: the seeded Indus exchange (firm 1, application 1) files last month again.
    start, end = _last_month()
    filed_before = _ok(["returns", "list", "--application", "1", "--db", db])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_exchange_return(start, end, capital_usd="-5")), encoding="utf-8")
    _fails(["returns", "file", "1", str(bad), "--as-firm", "1", "--db", db], "capital_usd")
    _fails(["returns", "file", "1", str(tmp_path / "no.json"), "--as-firm", "1", "--db", db])
    bad.write_text("[1, 2]", encoding="utf-8")
    _fails(["returns", "file", "1", str(bad), "--as-firm", "1", "--db", db], "JSON object")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_exchange_return(start, end)), encoding="utf-8")
    usage = _run(["returns", "file", "1", str(good), "--db", db])  # a usage error (click's)
    assert usage.exit_code == 2 and "--as-firm" in usage.stderr
    _fails(["returns", "file", "1", str(good), "--as-firm", "2", "--db", db], "application_id")
    assert _ok(["returns", "list", "--application", "1", "--db", db]) == filed_before
    out = _ok(["returns", "file", "1", str(good), "--as-firm", "1", "--db", db])
    assert f"application 1, {start} to {end}, version" in out
    assert f"{start} to {end}" in _ok(["returns", "list", "--application", "1", "--db", db])
    assert "late or missing returns" in _ok(
        ["late", "--as-of", date.today().isoformat(), "--db", db]
    )

    # The public register, CSV and JSON.
    csv_file = tmp_path / "out" / "register.csv"
    assert "register entries" in _ok(
        ["export", "--format", "csv", "--out", str(csv_file), "--db", db]
    )
    rows = list(csv.reader(io.StringIO(csv_file.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == REGISTER_COLUMNS and len(rows) > 1
    json_file = tmp_path / "register.json"
    _ok(["export", "--format", "json", "--out", str(json_file), "--db", db])
    doc = json.loads(json_file.read_text(encoding="utf-8"))
    assert doc["columns"] == list(REGISTER_COLUMNS) and len(doc["entries"]) == len(rows) - 1
    xml_file = tmp_path / "register.xml"
    _fails(["export", "--format", "xml", "--out", str(xml_file), "--db", db], "--format")
    _fails(["export", "--status", "draft", "--out", str(xml_file), "--db", db], "status")
    assert not xml_file.exists()


def test_sandbox_commands(sqlite_db: str) -> None:
    db = sqlite_db
    _ok(["firm", "add", "Tiny Pay Ltd", "--registration-number", "0770001", "--db", db])
    out = _ok(
        [
            "sandbox",
            "cohort-add",
            "SBX-9",
            "Payments pilot",
            "--opens-on",
            (date.today() - timedelta(days=30)).isoformat(),
            "--max-customers",
            "1000",
            "--max-volume-usd",
            "500000",
            "--max-duration-days",
            "180",
            "--db",
            db,
        ]
    )
    assert out.startswith("cohort 1: SBX-9")
    out = _ok(["sandbox", "admit", "1", "1", "--product", "QR payments", "--db", db])
    assert "participant 1: Tiny Pay Ltd in SBX-9" in out
    out = _ok(["sandbox", "usage", "1", "--customers", "1500", "--volume-usd", "10000", "--db", db])
    assert "breach sandbox_customers" in out
    _fails(["sandbox", "exit", "1", "graduate", "--reason", "done", "--db", db], "decision")
    out = _ok(["sandbox", "exit", "1", "exit", "--reason", "over the cap", "--db", db])
    assert "exited" in out


def _tamper(db: str, entry_id: int) -> None:
    engine = make_engine(db)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE registry_audit SET actor = 'mallory' WHERE id = :id"),
                {"id": entry_id},
            )
    finally:
        engine.dispose()


def test_init_seed_act_verify_on_both_backends(db_url: str) -> None:
    """``db_url`` is an empty, migrated database on SQLite and on PostgreSQL."""
    assert "registry schema at head" in _ok(["init", "--db", db_url])  # idempotent
    out = _ok(["seed", "--db", db_url])
    assert "demo API tokens" in out
    queue = _ok(["queue", "--db", db_url])
    assert "submitted" in queue
    with Registry(db_url) as registry:  # a seeded application waiting in 'submitted'
        waiting = registry.list_applications(Principal.staff("t"), status="submitted")[0].id
    out = _ok(["act", str(waiting), "begin_review", "--db", db_url, "--actor", "reviewer-7"])
    assert "is under_review" in out
    reason = ["--reason", "who is the reserve custodian?"]
    out = _ok(["act", str(waiting), "request_information", *reason, "--db", db_url])
    assert "is information_requested" in out

    result = _run(["audit", "verify", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("✓ ") and "entries verify" in result.stdout
    head = result.stdout.split("head ", 1)[1].strip()
    assert len(head) == 64
    assert _run(["audit", "verify", "--head", head, "--db", db_url]).exit_code == 0
    _fails(["audit", "verify", "--head", "xyz", "--db", db_url], "expected_head")

    _tamper(db_url, 5)
    broken = _run(["audit", "verify", "--db", db_url])
    assert broken.exit_code == 1, broken.output
    assert "✗ audit log entry 5" in broken.stdout


def test_spec_documents_are_declared_by_all_documents(sqlite_db: str) -> None:
    db = sqlite_db
    _ok(["firm", "add", "Advice Co", "--registration-number", "0550001", "--db", db])
    minimum = LICENCE_SPECS[LicenceType.ADVISOR].min_capital_usd
    out = _ok(
        ["apply", "1", "advisor", "--all-documents", "--capital-usd", str(minimum), "--db", db]
    )
    assert "is draft" in out
    docs = ",".join(LICENCE_SPECS[LicenceType.ADVISOR].required_documents)
    out = _ok(["apply", "1", "advisor", "-d", docs, "--capital-usd", str(minimum), "--db", db])
    assert out.startswith("application 2:")
