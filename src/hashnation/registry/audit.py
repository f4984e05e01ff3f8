"""The registry audit log: an append-only, hash-chained record of every change.

Every decision and change the registry service makes (a firm registered, an
application moved, a return filed, an enforcement action, a sandbox decision, a
token issued or revoked) appends one entry in the same transaction as the change:
when (UTC), who, what (``action``), to what (``subject``, e.g. ``application:12``),
the details as a JSON object, and the hash of the previous entry. The entry's own
hash is SHA-256 over the canonical JSON of all of these (:func:`entry_hash`, built on
:mod:`hashnation.store.hashchain`), so editing any column of any entry, deleting an
entry or reordering entries breaks the chain there and :func:`verify` names the first
entry that no longer verifies. Deleting the *last* entries is detected against a head
hash published earlier (``expected_head``).

Writers are serialized so that concurrent requests never read the same head:
:func:`lock` takes a transaction-scoped advisory lock on PostgreSQL
(``pg_advisory_xact_lock``) and SQLite's write lock on SQLite; :func:`append` calls
it before reading the head. ``prev_hash`` is unique as well, so a chain can never
fork even without the lock.

Every function takes a session and leaves the transaction to the caller.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Mapping
from dataclasses import is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from hashnation.errors import AuditLogError, InputError
from hashnation.registry.views import AuditCheck, AuditEntryView
from hashnation.store.hashchain import (
    GENESIS_HASH,
    ChainLink,
    canonical_hash,
    entry_time,
    utc_timestamp,
    verify_chain,
)
from hashnation.store.registry_models import AuditEntry

__all__ = [
    "GENESIS_HASH",
    "append",
    "count",
    "entries",
    "entry_hash",
    "head",
    "jsonable",
    "lock",
    "verify",
]

_LOCK_KEY: Final[int] = int.from_bytes(
    hashlib.sha256(b"hashnation.registry_audit").digest()[:8], "big", signed=True
)
"""Key of the PostgreSQL advisory lock that serializes writers (64-bit signed)."""

_MAX_ACTOR: Final = 200
_MAX_ACTION: Final = 50
_MAX_SUBJECT: Final = 100
_HEX = frozenset("0123456789abcdef")


def jsonable(value: Any, field: str = "payload") -> Any:
    """Convert a value to plain JSON types, the form payloads are stored and hashed in.

    Decimals become strings (exact), dates ISO strings, times ISO 8601 UTC with
    microseconds, enumerations their values, tuples and dataclasses lists and
    objects; strings, integers, finite floats, booleans and None stay as they are.

    Parameters
    ----------
    value
        The value.
    field
        Dotted name used in error messages.

    Returns
    -------
    Any
        A value made of dicts (string keys), lists, strings, numbers, booleans, None.

    Raises
    ------
    InputError
        For a value of another type, a non-string key or a non-finite float.
    """
    if isinstance(value, Enum):
        return jsonable(value.value, field)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(field, value, "a finite number")
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise InputError(field, value.isoformat(), "a timezone-aware time")
        return utc_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputError(field, key, "string keys")
            out[key] = jsonable(item, f"{field}.{key}")
        return out
    if isinstance(value, list | tuple | frozenset | set):
        items = sorted(value) if isinstance(value, frozenset | set) else value
        return [jsonable(item, f"{field}.{n}") for n, item in enumerate(items)]
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable({name: getattr(value, name) for name in value.__dataclass_fields__}, field)
    raise InputError(field, type(value).__name__, "JSON-able values")


def entry_hash(
    *,
    recorded_at: datetime,
    actor: str,
    action: str,
    subject: str,
    payload: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """Hash of an entry: SHA-256 over its canonical serialization.

    The serialization is JSON with sorted keys (nested ones too), no whitespace,
    UTF-8, and ``recorded_at`` as ISO 8601 UTC with microseconds, so that anyone can
    recompute it from an export of the log.

    Parameters
    ----------
    recorded_at, actor, action, subject, payload, prev_hash
        The entry's fields (``recorded_at`` timezone-aware; ``payload`` plain JSON,
        see :func:`jsonable`).

    Returns
    -------
    str
        64 lowercase hex digits.
    """
    return canonical_hash(
        {
            "action": action,
            "actor": actor,
            "payload": payload,
            "prev_hash": prev_hash,
            "recorded_at": utc_timestamp(recorded_at),
            "subject": subject,
        }
    )


def lock(session: Session) -> None:
    """Serialize writers of the log until the end of the session's transaction.

    On PostgreSQL a transaction-scoped advisory lock (``pg_advisory_xact_lock``,
    released at commit or rollback); on SQLite a write that changes nothing, which
    takes the database's write lock (waiting for it up to the driver's timeout).
    Calling it again in the same transaction is harmless.

    Parameters
    ----------
    session
        Open session.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    elif dialect == "sqlite":
        session.execute(text("UPDATE registry_audit SET id = id WHERE 0 = 1"))


def head(session: Session) -> str:
    """Hash of the last entry (:data:`GENESIS_HASH` for an empty log).

    Parameters
    ----------
    session
        Open session.

    Returns
    -------
    str
        64 lowercase hex digits.
    """
    last = session.scalar(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1))
    return last if last is not None else GENESIS_HASH


def _check_text(name: str, value: object, maximum: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > maximum:
        shown = value if isinstance(value, str) else type(value).__name__
        raise InputError(name, shown, f"a non-empty string of at most {maximum} characters")
    return value


def _view(row: AuditEntry) -> AuditEntryView:
    return AuditEntryView(
        id=row.id,
        recorded_at=row.recorded_at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        payload=row.payload,
        prev_hash=row.prev_hash,
        entry_hash=row.entry_hash,
    )


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    payload: Mapping[str, Any] | None = None,
    recorded_at: datetime | None = None,
) -> AuditEntryView:
    """Append an entry, chained to the current last entry.

    Parameters
    ----------
    session
        Open session; the caller commits (the entry is flushed here, so a
        concurrent append on the same head fails here with ``IntegrityError``).
    actor
        Who made the change (1-200 characters).
    action
        What happened (1-50 characters, ``application.approve``).
    subject
        What it happened to (1-100 characters, ``application:12``).
    payload
        Details; converted with :func:`jsonable`. Empty by default.
    recorded_at
        Time of the entry, timezone-aware; now (UTC) by default.

    Returns
    -------
    AuditEntryView
        The entry written.

    Raises
    ------
    InputError
        If a field is empty, too long, or not JSON-able.
    sqlalchemy.exc.IntegrityError
        If another writer appended on the same head (only possible without
        :func:`lock`); retry the whole transaction.
    """
    actor = _check_text("actor", actor, _MAX_ACTOR)
    action = _check_text("action", action, _MAX_ACTION)
    subject = _check_text("subject", subject, _MAX_SUBJECT)
    body = jsonable(dict(payload or {}))
    when = entry_time(recorded_at)  # stored and hashed: UTC, to the microsecond
    lock(session)
    prev_hash = head(session)
    row = AuditEntry(
        recorded_at=when,
        actor=actor,
        action=action,
        subject=subject,
        payload=body,
        prev_hash=prev_hash,
        entry_hash=entry_hash(
            recorded_at=when,
            actor=actor,
            action=action,
            subject=subject,
            payload=body,
            prev_hash=prev_hash,
        ),
    )
    session.add(row)
    session.flush()
    return _view(row)


def count(session: Session, *, subject: str | None = None) -> int:
    """Count the entries, of one subject or in all.

    Parameters
    ----------
    session
        Open session.
    subject
        Only entries about this subject (``application:12``); all when None.

    Returns
    -------
    int
        Entries [count].
    """
    query = select(func.count()).select_from(AuditEntry)
    if subject is not None:
        query = query.where(AuditEntry.subject == subject)
    return int(session.scalar(query) or 0)


def entries(
    session: Session, *, subject: str | None = None, limit: int = 100, offset: int = 0
) -> list[AuditEntryView]:
    """Entries of the log, newest first.

    Parameters
    ----------
    session
        Open session.
    subject
        Only entries about this subject (``application:12``); all when None.
    limit
        Entries at most (1-1000).
    offset
        Entries skipped (>= 0).

    Returns
    -------
    list of AuditEntryView
        Newest first.

    Raises
    ------
    InputError
        If ``limit`` or ``offset`` is out of range.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InputError("limit", limit, "an integer from 1 to 1000")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InputError("offset", offset, "an integer >= 0")
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if subject is not None:
        query = query.where(AuditEntry.subject == subject)
    return [_view(row) for row in session.scalars(query)]


def _links(session: Session) -> Iterator[ChainLink]:
    columns = (
        AuditEntry.id,
        AuditEntry.recorded_at,
        AuditEntry.actor,
        AuditEntry.action,
        AuditEntry.subject,
        AuditEntry.payload,
        AuditEntry.prev_hash,
        AuditEntry.entry_hash,
    )
    result = session.execute(
        select(*columns).order_by(AuditEntry.id).execution_options(yield_per=1000)
    )
    for row in result:
        payload = row.payload if isinstance(row.payload, Mapping) else {"": row.payload}
        yield ChainLink(
            id=row.id,
            prev_hash=row.prev_hash,
            entry_hash=row.entry_hash,
            recomputed_hash=entry_hash(
                recorded_at=row.recorded_at,
                actor=row.actor,
                action=row.action,
                subject=row.subject,
                payload=payload,
                prev_hash=row.prev_hash,
            ),
        )


def verify(session: Session, expected_head: str | None = None) -> AuditCheck:
    """Recompute the whole chain; raise at the first entry that does not verify.

    Each entry's ``prev_hash`` must be the previous entry's ``entry_hash`` (a
    deleted or reordered entry breaks this at the entry after it), and its
    ``entry_hash`` must be the hash of its fields (an edited entry breaks this at
    that entry).

    Parameters
    ----------
    session
        Open session.
    expected_head
        A head hash published earlier (64 hex digits): it must be the hash of some
        entry of the chain, otherwise entries were removed from its end or the log
        was replaced.

    Returns
    -------
    AuditCheck
        Entry count and head hash.

    Raises
    ------
    AuditLogError
        Naming the first entry (by id) that does not verify, and why.
    InputError
        If ``expected_head`` is not 64 lowercase hex digits.
    """
    if expected_head is not None and (
        not isinstance(expected_head, str)
        or len(expected_head) != 64
        or not set(expected_head) <= _HEX
    ):
        raise InputError("expected_head", expected_head, "64 lowercase hex digits")
    total, last = verify_chain(_links(session), expected_head=expected_head, error=AuditLogError)
    return AuditCheck(entries=total, head_hash=last)
