"""The custody approvals log: an append-only, hash-chained record of every spend's steps.

Each step of a multisig spend (the PSBT created, a cosigner's copy imported, a cosigner's
signatures verified, copies combined, the spend finalized, the transaction extracted) is one
entry: the spend's id, the action, the actor, the UTC time, the SHA-256 of the PSBT, a note,
and the hash of the previous entry. The entry's own hash is SHA-256 over a canonical JSON
serialization of all of these (:func:`entry_hash`), so that editing any field of any entry,
deleting an entry or reordering entries breaks the chain at that point, and
:func:`verify_log` names the first entry that no longer verifies.

Deleting the *last* entries leaves a shorter chain that still verifies. To detect that,
publish the head hash (:attr:`LogCheck.head_hash`) somewhere else (a report, a signed
message, a Bitcoin anchor) and pass it back as ``expected_head``.

``prev_hash`` is unique in the table: two writers that read the same head cannot both
append, so the chain never forks (the second gets :class:`~hashnation.errors.ApprovalLogError`
and may retry).

Every function takes a session and leaves the transaction to the caller
(:func:`hashnation.store.db.session_scope`); rows are returned as :class:`ApprovalEntry`
dataclasses, never as table rows.

Typical use::

    from hashnation.store.db import session_scope

    with session_scope(url) as session:
        record(session, spend_id=sid, action="created", actor="treasury-ops",
               psbt_sha256=digest)
    with session_scope(url) as session:
        check = verify_log(session)          # raises ApprovalLogError if altered
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hashnation.errors import ApprovalLogError, InputError
from hashnation.reserve.descriptors import _refuse_secrets
from hashnation.store.hashchain import (
    GENESIS_HASH,
    ChainLink,
    canonical_hash,
    entry_time,
    utc_timestamp,
    verify_chain,
)
from hashnation.store.models import APPROVAL_ACTIONS, CustodyApproval

__all__ = [
    "ACTIONS",
    "GENESIS_HASH",
    "ApprovalEntry",
    "LogCheck",
    "entry_hash",
    "list_entries",
    "record",
    "verify_log",
]

ACTIONS: Final[tuple[str, ...]] = APPROVAL_ACTIONS
"""Actions an entry may record: created, imported, signed-by, combined, finalized, extracted."""

_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX64_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{64}(?![0-9A-Za-z])")
_MAX_ACTOR_CHARS: Final = 200
_MAX_NOTE_CHARS: Final = 2_000


@dataclass(frozen=True)
class ApprovalEntry:
    """One entry of the log.

    Attributes
    ----------
    id
        Row id; entries are chained in id order.
    spend_id
        Id of the spend's unsigned transaction (64 hex digits).
    action
        One of :data:`ACTIONS`.
    actor
        Who acted (an operator, or a cosigner's master fingerprint for ``signed-by``).
    recorded_at
        When the entry was recorded, timezone-aware UTC.
    psbt_sha256
        SHA-256 of the PSBT the action produced or received (64 hex digits).
    note
        Free text.
    prev_hash
        ``entry_hash`` of the previous entry, :data:`GENESIS_HASH` for the first.
    entry_hash
        SHA-256 of this entry's canonical serialization (see :func:`entry_hash`).
    """

    id: int
    spend_id: str
    action: str
    actor: str
    recorded_at: datetime
    psbt_sha256: str
    note: str
    prev_hash: str
    entry_hash: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``recorded_at`` as ISO 8601 UTC)."""
        doc = asdict(self)
        doc["recorded_at"] = utc_timestamp(self.recorded_at)
        return doc


@dataclass(frozen=True)
class LogCheck:
    """Result of :func:`verify_log` on a log that verifies.

    Attributes
    ----------
    entries
        Entries checked [count].
    head_hash
        ``entry_hash`` of the last entry (:data:`GENESIS_HASH` for an empty log): publish it
        to detect a later truncation.
    """

    entries: int
    head_hash: str


def entry_hash(
    *,
    spend_id: str,
    action: str,
    actor: str,
    recorded_at: datetime,
    psbt_sha256: str,
    note: str,
    prev_hash: str,
) -> str:
    """Hash of an entry: SHA-256 over its canonical serialization.

    The serialization is JSON with sorted keys, no whitespace, UTF-8, and ``recorded_at``
    as ISO 8601 UTC with microseconds, so that anyone can recompute it from an export.

    Parameters
    ----------
    spend_id, action, actor, recorded_at, psbt_sha256, note, prev_hash
        The entry's fields (``recorded_at`` timezone-aware).

    Returns
    -------
    str
        64 lowercase hex digits.
    """
    return canonical_hash(
        {
            "action": action,
            "actor": actor,
            "note": note,
            "prev_hash": prev_hash,
            "psbt_sha256": psbt_sha256,
            "recorded_at": utc_timestamp(recorded_at),
            "spend_id": spend_id,
        }
    )


def _entry(row: CustodyApproval) -> ApprovalEntry:
    return ApprovalEntry(
        id=row.id,
        spend_id=row.spend_id,
        action=row.action,
        actor=row.actor,
        recorded_at=row.recorded_at,
        psbt_sha256=row.psbt_sha256,
        note=row.note,
        prev_hash=row.prev_hash,
        entry_hash=row.entry_hash,
    )


def _check_hex64(name: str, value: object) -> str:
    if not isinstance(value, str) or _HEX64.fullmatch(value) is None:
        raise InputError(name, value, "64 lowercase hex digits")
    return value


def _check_text(name: str, value: object, maximum: int, *, empty_ok: bool) -> str:
    expected = f"a string of at most {maximum} characters" + ("" if empty_ok else ", not empty")
    if not isinstance(value, str) or len(value) > maximum or (not empty_ok and not value.strip()):
        raise InputError(name, value if isinstance(value, str) else type(value).__name__, expected)
    # txids and digests (64 hex digits) are what notes are for; every other kind of private
    # key material (xprv, WIF, seed words) is refused
    _refuse_secrets(_HEX64_RUN.sub(" ", value), name)
    return value


def record(
    session: Session,
    *,
    spend_id: str,
    action: str,
    actor: str,
    psbt_sha256: str,
    note: str = "",
    recorded_at: datetime | None = None,
) -> ApprovalEntry:
    """Append an entry to the log, chained to the current last entry.

    Parameters
    ----------
    session
        Open session; the caller commits (the entry is flushed here).
    spend_id
        Id of the spend's unsigned transaction (64 hex digits).
    action
        One of :data:`ACTIONS`.
    actor
        Who acted (1-200 characters).
    psbt_sha256
        SHA-256 of the PSBT (64 hex digits).
    note
        Free text (at most 2,000 characters).
    recorded_at
        Time of the entry, timezone-aware; now (UTC) by default.

    Returns
    -------
    ApprovalEntry
        The entry written.

    Raises
    ------
    InputError
        If a field is malformed (private key material in a text field included).
    ApprovalLogError
        If another entry was appended concurrently on the same head (retry).
    """
    spend_id = _check_hex64("spend_id", spend_id)
    psbt_sha256 = _check_hex64("psbt_sha256", psbt_sha256)
    if action not in ACTIONS:
        raise InputError("action", action, f"one of {', '.join(ACTIONS)}")
    actor = _check_text("actor", actor, _MAX_ACTOR_CHARS, empty_ok=False)
    note = _check_text("note", note, _MAX_NOTE_CHARS, empty_ok=True)
    when = entry_time(recorded_at)
    head = session.scalar(
        select(CustodyApproval.entry_hash).order_by(CustodyApproval.id.desc()).limit(1)
    )
    prev_hash = head if head is not None else GENESIS_HASH
    row = CustodyApproval(
        spend_id=spend_id,
        action=action,
        actor=actor,
        recorded_at=when,
        psbt_sha256=psbt_sha256,
        note=note,
        prev_hash=prev_hash,
        entry_hash=entry_hash(
            spend_id=spend_id,
            action=action,
            actor=actor,
            recorded_at=when,
            psbt_sha256=psbt_sha256,
            note=note,
            prev_hash=prev_hash,
        ),
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise ApprovalLogError(
            None, "another entry was appended on the same head at the same time; record again"
        ) from None
    return _entry(row)


def list_entries(session: Session, spend_id: str) -> list[ApprovalEntry]:
    """Return the entries of one spend, oldest first.

    Parameters
    ----------
    session
        Open session.
    spend_id
        Id of the spend (64 hex digits).

    Returns
    -------
    list of ApprovalEntry
        In id order (may be empty).
    """
    spend_id = _check_hex64("spend_id", spend_id)
    rows = session.scalars(
        select(CustodyApproval)
        .where(CustodyApproval.spend_id == spend_id)
        .order_by(CustodyApproval.id)
    )
    return [_entry(row) for row in rows]


def verify_log(session: Session, *, expected_head: str | None = None) -> LogCheck:
    """Recompute the whole chain; raise at the first entry that does not verify.

    Each entry's ``prev_hash`` must be the previous entry's ``entry_hash`` (a deleted or
    reordered entry breaks this at the entry after it), and its ``entry_hash`` must be the
    hash of its fields (an edited entry breaks this at that entry).

    Parameters
    ----------
    session
        Open session.
    expected_head
        A head hash published earlier: it must be the hash of some entry of the chain
        (otherwise entries were removed from the end, or the log was replaced).

    Returns
    -------
    LogCheck
        Entry count and head hash.

    Raises
    ------
    ApprovalLogError
        Naming the first entry (by id) that does not verify, and why.
    """
    if expected_head is not None:
        expected_head = _check_hex64("expected_head", expected_head)
    links = (
        ChainLink(
            id=row.id,
            prev_hash=row.prev_hash,
            entry_hash=row.entry_hash,
            recomputed_hash=entry_hash(
                spend_id=row.spend_id,
                action=row.action,
                actor=row.actor,
                recorded_at=row.recorded_at,
                psbt_sha256=row.psbt_sha256,
                note=row.note,
                prev_hash=row.prev_hash,
            ),
        )
        for row in session.scalars(select(CustodyApproval).order_by(CustodyApproval.id))
    )
    count, head = verify_chain(links, expected_head=expected_head, error=ApprovalLogError)
    return LogCheck(entries=count, head_hash=head)
