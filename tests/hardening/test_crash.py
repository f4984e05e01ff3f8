"""Crash trials: workers killed with SIGKILL lose nothing; the checker does catch losses."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hashnation.errors import InputError
from hashnation.hardening.crash import (
    KINDS,
    check_database,
    main,
    parse_messages,
    prepare_database,
    run_trial,
    run_worker,
)
from hashnation.store.db import make_engine
from hashnation.store.models import Account, JournalEntry, Lot, Posting
from hashnation.store.registry_models import AuditEntry, Firm


def _write(url: str, kind: str, writes: int, seed: int = 3) -> list[dict[str, Any]]:
    """Run a worker in this process to ``writes`` acknowledged writes; return its messages."""
    prepare_database(url, kind)
    messages: list[dict[str, Any]] = []
    assert run_worker(url, kind, seed, max_writes=writes, emit=messages.append) == writes
    return messages


def _sql(url: str, *statements: Any) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(statement)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- trials


@pytest.mark.parametrize("kind", KINDS)
def test_killed_workers_lose_nothing(db_factory: Callable[[], str], kind: str) -> None:
    for seed in range(2):
        result = run_trial(db_factory(), kind, seed, rounds=2)
        problems = [p for r in result.rounds for p in r.check.problems()]
        assert result.ok, problems
        assert [r.exit_code for r in result.rounds] == [-9, -9]
        assert all(r.acked >= 1 for r in result.rounds)
        # The second round's check covers the first round's writes too.
        assert result.rounds[1].check.acked == result.acked_writes
        assert all(r.in_flight in ("none", "absent", "committed") for r in result.rounds)


def test_a_worker_started_as_a_command_is_killed_and_checked(db_url: str) -> None:
    result = run_trial(db_url, "ledger", 11, rounds=1, spawn="exec", max_acks=2)
    assert result.ok, result.rounds[0].check.problems()
    assert result.rounds[0].exit_code == -9
    assert result.acked_writes >= result.rounds[0].kill_after


def test_worker_and_check_commands(db_url: str, tmp_path: Path) -> None:
    prepare_database(db_url, "registry")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hashnation.hardening.crash",
            "worker",
            "--db",
            db_url,
            "--kind",
            "registry",
            "--seed",
            "5",
            "--max-writes",
            "12",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    messages = parse_messages(done.stdout.splitlines(keepends=True))
    assert [m["op"] for m in messages].count("ack") == 12
    assert [m["n"] for m in messages if m["op"] == "ack"] == list(range(12))
    lines = tmp_path / "messages.jsonl"
    lines.write_text(done.stdout, encoding="utf-8")
    assert main(["check", "--db", db_url, "--kind", "registry", str(lines)]) == 0


def test_trial_arguments_are_checked(db_url: str) -> None:
    with pytest.raises(InputError, match="kind"):
        run_trial(db_url, "ledgers", 1)
    with pytest.raises(InputError, match="rounds"):
        run_trial(db_url, "ledger", 1, rounds=0)


# --------------------------------------------------------------------------- messages


def test_a_line_cut_short_by_the_kill_is_not_an_acknowledgement() -> None:
    lines = [
        '{"op":"begin","batch":"r0b0"}\n',
        '{"op":"ack","batch":"r0b0"}\n',
        '{"op":"begin","batch":"r0b1"}\n',
        '{"op":"ack","bat',
    ]
    assert [m["op"] for m in parse_messages(lines)] == ["begin", "ack", "begin"]
    assert parse_messages([b'{"op":"ready"}\n', b"not json\n", b'{"op":"ack"}\n']) == [
        {"op": "ready"}
    ]


# --------------------------------------------------------------------------- the checker fails


def test_ledger_check_passes_and_tells_a_rolled_back_batch(db_url: str) -> None:
    messages = _write(db_url, "ledger", 3)
    result = check_database(db_url, "ledger", messages)
    assert result.ok, result.problems()
    assert (result.acked, result.present, result.in_flight) == (3, 3, "none")
    flying = [*messages, {"op": "begin", "round": 0, "batch": "r0b3", "entries": 9}]
    assert check_database(db_url, "ledger", flying).in_flight == "absent"
    # A batch that committed before its acknowledgement counts as committed.
    unacked = [m for m in messages if not (m["op"] == "ack" and m["batch"] == "r0b2")]
    result = check_database(db_url, "ledger", unacked)
    assert result.ok and result.in_flight == "committed"


def test_ledger_check_reports_a_deleted_row_of_an_acknowledged_batch(db_url: str) -> None:
    messages = _write(db_url, "ledger", 3)
    entry = sa.select(JournalEntry.id).where(JournalEntry.memo == "crash r0b1 0/" + _total(db_url))
    _sql(
        db_url,
        sa.delete(Lot).where(Lot.entry_id.in_(entry)),
        sa.delete(Posting).where(Posting.entry_id.in_(entry)),
        sa.delete(JournalEntry).where(JournalEntry.id.in_(entry)),
    )
    result = check_database(db_url, "ledger", messages)
    assert len(result.lost) == 1 and "batch r0b1" in result.lost[0], result.problems()
    assert not result.partial


def _total(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            memo = connection.scalar(
                sa.select(JournalEntry.memo).where(JournalEntry.memo.like("crash r0b1 0/%"))
            )
    finally:
        engine.dispose()
    assert memo is not None
    return str(memo).rsplit("/", 1)[1]


def test_ledger_check_reports_a_half_written_batch(db_url: str) -> None:
    messages = _write(db_url, "ledger", 2)
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            ids = {name: i for name, i in connection.execute(sa.select(Account.name, Account.id))}
    finally:
        engine.dispose()
    at = datetime(2030, 1, 1, tzinfo=UTC)
    rows = [
        {"id": 900_000 + i, "occurred_at": at, "kind": "transfer", "memo": f"crash r0b2 {i}/4"}
        for i in range(2)
    ]
    _sql(
        db_url,
        sa.insert(JournalEntry).values([{**r, "evidence": {"txid": "ab" * 32}} for r in rows]),
        sa.insert(Posting).values(
            [
                {"entry_id": r["id"], "account_id": ids[name], "amount_sat": amount}
                for r in rows
                for name, amount in (("crash-cold", -10), ("crash-hot", 10))
            ]
        ),
    )
    begun = [*messages, {"op": "begin", "round": 0, "batch": "r0b2", "entries": 4}]
    result = check_database(db_url, "ledger", begun)
    assert result.partial == ("batch r0b2: 2 of 4 entries, 4 postings, 0 lots",)
    assert not result.lost


def test_registry_check_passes_on_a_clean_log(db_url: str) -> None:
    messages = _write(db_url, "registry", 40)
    result = check_database(db_url, "registry", messages)
    assert result.ok, result.problems()
    assert (result.acked, result.present) == (40, 40)


def test_registry_check_reports_a_lost_acknowledged_write(db_url: str) -> None:
    messages = _write(db_url, "registry", 20)
    last = sa.select(sa.func.max(AuditEntry.id)).scalar_subquery()
    _sql(db_url, sa.delete(AuditEntry).where(AuditEntry.id == last))
    result = check_database(db_url, "registry", messages)
    assert any(line.startswith("write 19 ") for line in result.lost), result.problems()
    assert not result.audit_failures  # removing the last entry leaves a valid chain


def test_registry_check_reports_rows_without_their_audit_entry(db_url: str) -> None:
    messages = _write(db_url, "registry", 10)
    _sql(
        db_url,
        sa.insert(Firm).values(
            name="Ghost Ltd",
            registration_number="GHOST-1",
            commercial_name="",
            address="",
            website="",
            home_country="PK",
            created_at=datetime(2030, 1, 1, tzinfo=UTC),
        ),
    )
    result = check_database(db_url, "registry", messages)
    assert any("firms in their table" in line for line in result.partial), result.problems()
    assert not result.lost and not result.audit_failures


def test_registry_check_reports_an_edited_audit_entry(db_url: str) -> None:
    messages = _write(db_url, "registry", 10)
    second = sa.select(AuditEntry.id).order_by(AuditEntry.id).offset(1).limit(1).scalar_subquery()
    _sql(db_url, sa.update(AuditEntry).where(AuditEntry.id == second).values(actor="intruder"))
    result = check_database(db_url, "registry", messages)
    assert len(result.audit_failures) == 1, result.problems()
