"""The custody approvals log on SQLite and PostgreSQL: chaining, tamper detection, schema."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError

from hashnation.errors import ApprovalLogError, InputError, PrivateKeyError
from hashnation.reserve.approvals import (
    ACTIONS,
    GENESIS_HASH,
    entry_hash,
    list_entries,
    record,
    verify_log,
)
from hashnation.store.db import alembic_config, make_engine, session_scope, upgrade
from hashnation.store.models import CustodyApproval

SPEND_A = "a" * 64
SPEND_B = "b" * 64
T0 = datetime(2026, 11, 24, 9, 30, 0, 123456, tzinfo=UTC)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _fill(db_url: str) -> None:
    steps = [
        (SPEND_A, "created", "ops-alice"),
        (SPEND_A, "imported", "ops-alice"),
        (SPEND_A, "signed-by", "8f3c7eb1"),
        (SPEND_B, "created", "ops-bob"),
        (SPEND_A, "combined", "ops-alice"),
        (SPEND_A, "finalized", "ops-alice"),
        (SPEND_A, "extracted", "ops-alice"),
    ]
    with session_scope(db_url) as session:
        for n, (spend, action, actor) in enumerate(steps):
            record(
                session,
                spend_id=spend,
                action=action,
                actor=actor,
                psbt_sha256=_digest(f"psbt {n}"),
                note=f"step {n}",
                recorded_at=T0 + timedelta(minutes=n),
            )


def _execute(db_url: str, statement: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def test_entries_are_chained_and_verify(db_url: str) -> None:
    _fill(db_url)
    with session_scope(db_url) as session:
        entries = list_entries(session, SPEND_A)
        check = verify_log(session)
        others = list_entries(session, SPEND_B)
    assert [e.action for e in entries] == [
        "created",
        "imported",
        "signed-by",
        "combined",
        "finalized",
        "extracted",
    ]
    assert [e.action for e in others] == ["created"]
    assert check.entries == 7
    assert entries[0].prev_hash == GENESIS_HASH
    assert entries[1].prev_hash == entries[0].entry_hash
    assert others[0].prev_hash == entries[2].entry_hash  # one chain across spends
    assert check.head_hash == entries[-1].entry_hash
    first = entries[0]
    assert first.recorded_at == T0 and first.recorded_at.tzinfo is not None
    assert first.entry_hash == entry_hash(
        spend_id=first.spend_id,
        action=first.action,
        actor=first.actor,
        recorded_at=first.recorded_at,
        psbt_sha256=first.psbt_sha256,
        note=first.note,
        prev_hash=first.prev_hash,
    )
    assert first.to_dict()["recorded_at"] == "2026-11-24T09:30:00.123456+00:00"
    with session_scope(db_url) as session:
        assert verify_log(session, expected_head=check.head_hash).entries == 7
        assert verify_log(session, expected_head=entries[2].entry_hash).entries == 7


@pytest.mark.parametrize(
    ("statement", "bad_id"),
    [
        (f"UPDATE custody_approvals SET psbt_sha256 = '{'0' * 64}' WHERE id = 3", 3),
        ("UPDATE custody_approvals SET actor = 'mallory' WHERE id = 2", 2),
        ("UPDATE custody_approvals SET note = 'step 99' WHERE id = 7", 7),
        ("UPDATE custody_approvals SET action = 'created' WHERE id = 5", 5),
        ("DELETE FROM custody_approvals WHERE id = 4", 5),
        ("DELETE FROM custody_approvals WHERE id = 1", 2),
    ],
)
def test_edited_or_deleted_rows_are_detected(db_url: str, statement: str, bad_id: int) -> None:
    _fill(db_url)
    _execute(db_url, statement)
    with session_scope(db_url) as session, pytest.raises(ApprovalLogError) as caught:
        verify_log(session)
    assert caught.value.entry_id == bad_id
    assert str(caught.value).startswith(f"approvals log entry {bad_id}: ")
    assert "\n" not in str(caught.value)


def test_edited_time_and_rehashed_rows_are_detected(db_url: str) -> None:
    _fill(db_url)
    with session_scope(db_url) as session:
        row = session.get(CustodyApproval, 4)
        assert row is not None
        row.recorded_at = row.recorded_at + timedelta(seconds=1)
    with session_scope(db_url) as session, pytest.raises(ApprovalLogError) as caught:
        verify_log(session)
    assert caught.value.entry_id == 4
    # a forger who also recomputes the edited row's hash breaks the next row's link
    with session_scope(db_url) as session:
        row = session.get(CustodyApproval, 4)
        assert row is not None
        row.entry_hash = entry_hash(
            spend_id=row.spend_id,
            action=row.action,
            actor=row.actor,
            recorded_at=row.recorded_at,
            psbt_sha256=row.psbt_sha256,
            note=row.note,
            prev_hash=row.prev_hash,
        )
    with session_scope(db_url) as session, pytest.raises(ApprovalLogError) as caught:
        verify_log(session)
    assert caught.value.entry_id == 5


def test_truncation_is_detected_against_a_published_head(db_url: str) -> None:
    _fill(db_url)
    with session_scope(db_url) as session:
        head = verify_log(session).head_hash
    _execute(db_url, "DELETE FROM custody_approvals WHERE id = 7")
    with session_scope(db_url) as session:
        assert verify_log(session).entries == 6  # still a valid chain...
        with pytest.raises(ApprovalLogError, match=f"published head {head} is not in"):
            verify_log(session, expected_head=head)  # ...but not the one published


def test_the_chain_cannot_fork(db_url: str) -> None:
    _fill(db_url)
    with session_scope(db_url) as session:
        last = list_entries(session, SPEND_A)[-1]
    engine = make_engine(db_url)
    try:
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(
                sa.insert(CustodyApproval.__table__).values(
                    spend_id=SPEND_B,
                    action="imported",
                    actor="ops-eve",
                    recorded_at=T0,
                    psbt_sha256=_digest("fork"),
                    note="",
                    prev_hash=last.prev_hash,  # the same parent as an existing entry
                    entry_hash=_digest("fork entry"),
                )
            )
    finally:
        engine.dispose()


def test_record_is_transactional(db_url: str) -> None:
    with pytest.raises(RuntimeError), session_scope(db_url) as session:
        record(session, spend_id=SPEND_A, action="created", actor="ops", psbt_sha256=SPEND_B)
        raise RuntimeError("the PSBT file could not be written")
    with session_scope(db_url) as session:
        assert list_entries(session, SPEND_A) == []
        assert verify_log(session).head_hash == GENESIS_HASH


def test_record_refuses_bad_fields(db_url: str) -> None:
    good = {
        "spend_id": SPEND_A,
        "action": "created",
        "actor": "ops",
        "psbt_sha256": SPEND_B,
    }
    with session_scope(db_url) as session:
        for changes, pattern in (
            ({"action": "approved"}, r"^action: got 'approved', expected one of created"),
            ({"spend_id": "xyz"}, r"^spend_id: got 'xyz', expected 64 lowercase hex"),
            ({"psbt_sha256": SPEND_A.upper()}, r"^psbt_sha256: "),
            ({"actor": " "}, r"^actor: got ' '"),
            ({"actor": "x" * 201}, r"^actor: "),
            ({"recorded_at": datetime(2026, 1, 1)}, r"^recorded_at: "),
        ):
            with pytest.raises(InputError, match=pattern):
                record(session, **{**good, **changes})  # type: ignore[arg-type]
        with pytest.raises(PrivateKeyError):
            record(session, **good, note="abandon " * 11 + "about")
        entry = record(
            session,
            **good,
            recorded_at=datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=5))),
        )
        assert entry.recorded_at == datetime(2026, 1, 1, 7, tzinfo=UTC)
        assert set(ACTIONS) == {
            "created",
            "imported",
            "signed-by",
            "combined",
            "finalized",
            "extracted",
        }


def test_migration_downgrades_and_upgrades(db_factory: Callable[[], str]) -> None:
    db_url = db_factory()
    command.downgrade(alembic_config(db_url), "0001")
    engine = make_engine(db_url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
        assert "custody_approvals" not in tables and "postings" in tables
    finally:
        engine.dispose()
    upgrade(db_url, "0002")
    engine = make_engine(db_url)
    try:
        assert "custody_approvals" in sa.inspect(engine).get_table_names()
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == "0002"
    finally:
        engine.dispose()
    _fill(db_url)
    with session_scope(db_url) as session:
        assert verify_log(session).entries == 7
