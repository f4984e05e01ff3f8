"""The registry audit log on SQLite and PostgreSQL: chaining, tamper detection, concurrency."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hashnation.errors import AuditLogError, InputError
from hashnation.registry import audit
from hashnation.registry.views import AuditCheck, AuditEntryView
from hashnation.registry.workflow import Status
from hashnation.store.db import make_engine, session_scope
from hashnation.store.hashchain import GENESIS_HASH, canonical_hash

T0 = datetime(2026, 11, 25, 9, 30, 0, 123456, tzinfo=UTC)


def _fill(db_url: str, count: int = 6) -> list[AuditEntryView]:
    written = []
    with session_scope(db_url) as session:
        for n in range(count):
            written.append(
                audit.append(
                    session,
                    actor=f"officer-{n % 2}",
                    action="application.approve",
                    subject=f"application:{n}",
                    payload={"n": n, "capital_usd": Decimal("1000000.50"), "note": "Zoë ✓"},
                    recorded_at=T0 + timedelta(minutes=n),
                )
            )
    return written


def _execute(db_url: str, *statements: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def _verify(db_url: str, expected_head: str | None = None) -> AuditCheck:
    with session_scope(db_url) as session:
        return audit.verify(session, expected_head=expected_head)


def test_entries_chain_and_verify(db_url: str) -> None:
    written = _fill(db_url)
    assert written[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(written):
        assert after.prev_hash == before.entry_hash
    check = _verify(db_url)
    assert check.entries == 6
    assert check.head_hash == written[-1].entry_hash
    assert _verify(db_url, written[-1].entry_hash).entries == 6
    assert _verify(db_url, written[2].entry_hash).entries == 6  # an older head is in the chain


def test_hash_is_recomputable_from_an_export(db_url: str) -> None:
    entry = _fill(db_url, 1)[0]
    assert entry.payload == {"n": 0, "capital_usd": "1000000.50", "note": "Zoë ✓"}
    assert entry.recorded_at == T0
    expected = canonical_hash(
        {
            "action": entry.action,
            "actor": entry.actor,
            "payload": entry.payload,
            "prev_hash": entry.prev_hash,
            "recorded_at": "2026-11-25T09:30:00.123456+00:00",
            "subject": entry.subject,
        }
    )
    assert entry.entry_hash == expected
    with session_scope(db_url) as session:
        (stored,) = audit.entries(session)
    assert stored == entry


def test_empty_log_verifies(db_url: str) -> None:
    check = _verify(db_url)
    assert check == AuditCheck(entries=0, head_hash=GENESIS_HASH)
    assert _verify(db_url, GENESIS_HASH).entries == 0


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor", "'mallory'"),
        ("action", "'application.refuse'"),
        ("subject", "'application:99'"),
        ("payload", "'{\"n\": 99}'"),
        ("recorded_at", "'2020-01-01 00:00:00'"),
        ("entry_hash", f"'{'1' * 64}'"),
    ],
)
def test_editing_any_column_is_detected_at_that_entry(db_url: str, column: str, value: str) -> None:
    _fill(db_url)
    _execute(db_url, f"UPDATE registry_audit SET {column} = {value} WHERE id = 3")
    with pytest.raises(AuditLogError) as caught:
        _verify(db_url)
    assert caught.value.entry_id == 3
    assert "audit log entry 3" in str(caught.value)


def test_editing_prev_hash_is_detected(db_url: str) -> None:
    _fill(db_url)
    _execute(db_url, f"UPDATE registry_audit SET prev_hash = '{'2' * 64}' WHERE id = 4")
    with pytest.raises(AuditLogError, match="previous-entry hash") as caught:
        _verify(db_url)
    assert caught.value.entry_id == 4


def test_edit_and_rehash_is_detected_at_the_next_entry(db_url: str) -> None:
    written = _fill(db_url)
    third = written[2]
    forged = audit.entry_hash(
        recorded_at=third.recorded_at,
        actor="mallory",
        action=third.action,
        subject=third.subject,
        payload=third.payload,
        prev_hash=third.prev_hash,
    )
    _execute(
        db_url,
        f"UPDATE registry_audit SET actor = 'mallory', entry_hash = '{forged}' WHERE id = 3",
    )
    with pytest.raises(AuditLogError) as caught:
        _verify(db_url)
    assert caught.value.entry_id == 4


def test_deleting_a_middle_entry_is_detected(db_url: str) -> None:
    _fill(db_url)
    _execute(db_url, "DELETE FROM registry_audit WHERE id = 3")
    with pytest.raises(AuditLogError) as caught:
        _verify(db_url)
    assert caught.value.entry_id == 4


def test_reordering_entries_is_detected(db_url: str) -> None:
    _fill(db_url)
    _execute(
        db_url,
        "UPDATE registry_audit SET id = 1000 WHERE id = 2",
        "UPDATE registry_audit SET id = 2 WHERE id = 4",
        "UPDATE registry_audit SET id = 4 WHERE id = 1000",
    )
    with pytest.raises(AuditLogError) as caught:
        _verify(db_url)
    assert caught.value.entry_id == 2


def test_deleting_the_last_entry_is_detected_against_the_published_head(db_url: str) -> None:
    written = _fill(db_url)
    head = _verify(db_url).head_hash
    _execute(db_url, "DELETE FROM registry_audit WHERE id = 6")
    assert _verify(db_url).entries == 5  # a shorter chain still verifies on its own
    with pytest.raises(AuditLogError, match="not in the chain") as caught:
        _verify(db_url, head)
    assert caught.value.entry_id is None
    assert head == written[-1].entry_hash


def test_expected_head_must_be_hex(db_url: str) -> None:
    with pytest.raises(InputError, match="expected_head"):
        _verify(db_url, "not-a-hash")


def test_the_chain_cannot_fork(db_url: str) -> None:
    written = _fill(db_url, 2)
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn, pytest.raises(IntegrityError):
            conn.execute(
                sa.text(
                    "INSERT INTO registry_audit (recorded_at, actor, action, subject, payload, "
                    "prev_hash, entry_hash) VALUES (:t, 'x', 'y', 'z', '{}', :prev, :h)"
                ),
                {"t": T0, "prev": written[0].entry_hash, "h": "3" * 64},
            )
    finally:
        engine.dispose()


def test_append_refuses_bad_fields(db_url: str) -> None:
    with session_scope(db_url) as session:
        with pytest.raises(InputError, match="actor"):
            audit.append(session, actor=" ", action="a", subject="s")
        with pytest.raises(InputError, match="subject"):
            audit.append(session, actor="a", action="a", subject="s" * 101)
        with pytest.raises(InputError, match=r"payload\.bad"):
            audit.append(session, actor="a", action="a", subject="s", payload={"bad": object()})
        with pytest.raises(InputError, match="recorded_at"):
            audit.append(
                session, actor="a", action="a", subject="s", recorded_at=datetime(2026, 1, 1)
            )
    assert _verify(db_url).entries == 0


def test_jsonable_converts_domain_values() -> None:
    converted = audit.jsonable(
        {
            "status": Status.LICENSED,
            "day": date(2026, 1, 2),
            "when": datetime(2026, 1, 2, 8, tzinfo=timezone(timedelta(hours=5))),
            "usd": Decimal("1.10"),
            "codes": ("a", "b"),
            "none": None,
        }
    )
    assert converted == {
        "status": "licensed",
        "day": "2026-01-02",
        "when": "2026-01-02T03:00:00.000000+00:00",
        "usd": "1.10",
        "codes": ["a", "b"],
        "none": None,
    }
    with pytest.raises(InputError):
        audit.jsonable({"x": float("nan")})


def test_appends_are_transactional(db_url: str) -> None:
    with pytest.raises(RuntimeError), session_scope(db_url) as session:
        audit.append(session, actor="a", action="b", subject="c")
        raise RuntimeError("rolled back")
    assert _verify(db_url).entries == 0


def test_concurrent_appenders_never_collide(db_url: str) -> None:
    engine = make_engine(db_url)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for n in range(8):
                with Session(engine) as session, session.begin():
                    audit.append(
                        session, actor=f"w{number}", action="test.append", subject=f"n:{n}"
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        engine.dispose()
    assert errors == []
    check = _verify(db_url)
    assert check.entries == 32
    with session_scope(db_url) as session:
        assert audit.count(session) == 32
        assert audit.count(session, subject="n:0") == 4
