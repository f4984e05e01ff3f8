"""Hash chains for append-only logs: canonical hashing and the verification walk.

An entry's hash is SHA-256 over the canonical JSON serialization of its fields, its
previous entry's hash among them (:func:`canonical_hash`); the first entry's previous
hash is :data:`GENESIS_HASH`. Editing a field of any entry breaks that entry's hash;
deleting or reordering entries breaks the link at the entry after the gap
(:func:`verify_chain`). Deleting the *last* entries leaves a shorter chain that still
verifies: publish the head hash elsewhere and pass it back as ``expected_head``.

Pure functions (no database): :mod:`hashnation.reserve.approvals` and
:mod:`hashnation.registry.audit` read their rows and hand them here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from hashnation.errors import InputError

__all__ = [
    "GENESIS_HASH",
    "ChainLink",
    "canonical_hash",
    "canonical_json",
    "entry_time",
    "utc_timestamp",
    "verify_chain",
]

GENESIS_HASH: Final[str] = "0" * 64
"""``prev_hash`` of the first entry of a chain."""


def utc_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds: the form times are hashed in.

    Parameters
    ----------
    moment
        Timezone-aware time.

    Returns
    -------
    str
        ``2026-11-24T09:30:00.123456+00:00``.
    """
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def entry_time(recorded_at: object) -> datetime:
    """Return the time an entry is stored and hashed with: now or ``recorded_at``, in UTC.

    Parameters
    ----------
    recorded_at
        A timezone-aware datetime, or None for the current time.

    Returns
    -------
    datetime
        Timezone-aware, UTC.

    Raises
    ------
    InputError
        Field ``recorded_at``, if it is not a timezone-aware datetime.
    """
    when = datetime.now(UTC) if recorded_at is None else recorded_at
    if not isinstance(when, datetime) or when.utcoffset() is None:
        raise InputError("recorded_at", recorded_at, "a timezone-aware datetime")
    return when.astimezone(UTC)


def canonical_json(fields: Mapping[str, Any]) -> str:
    """Canonical JSON of an entry: sorted keys, no whitespace, non-ASCII kept as is.

    Parameters
    ----------
    fields
        JSON-able mapping (strings, numbers, booleans, None, lists, mappings).

    Returns
    -------
    str
        The serialization that is hashed (UTF-8 encoded).
    """
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 of :func:`canonical_json` of ``fields``, UTF-8 encoded.

    Parameters
    ----------
    fields
        The entry's fields, its previous entry's hash included.

    Returns
    -------
    str
        64 lowercase hex digits.
    """
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainLink:
    """What the walk needs of one stored entry.

    Attributes
    ----------
    id
        Row id; entries are chained in id order.
    prev_hash
        Stored hash of the previous entry.
    entry_hash
        Stored hash of this entry.
    recomputed_hash
        Hash recomputed from the stored fields (and the stored ``prev_hash``).
    """

    id: int
    prev_hash: str
    entry_hash: str
    recomputed_hash: str


def verify_chain(
    links: Iterable[ChainLink],
    *,
    expected_head: str | None,
    error: Callable[[int | None, str], Exception],
) -> tuple[int, str]:
    """Walk a chain in id order; raise at the first entry that does not verify.

    Parameters
    ----------
    links
        The entries, oldest first.
    expected_head
        A head hash published earlier, which must be the hash of some entry (or
        :data:`GENESIS_HASH`); None to skip that check.
    error
        Builds the exception raised: called with the id of the first bad entry (None
        when the chain as a whole is at fault) and the reason in words.

    Returns
    -------
    tuple of (int, str)
        Number of entries [count] and the head hash (:data:`GENESIS_HASH` when empty).
    """
    prev = GENESIS_HASH
    count = 0
    seen_expected = expected_head is None or expected_head == GENESIS_HASH
    for link in links:
        if link.prev_hash != prev:
            raise error(
                link.id,
                "its previous-entry hash does not match the entry before it "
                "(an entry before it was deleted, edited or reordered)",
            )
        if link.recomputed_hash != link.entry_hash:
            raise error(link.id, "its fields do not hash to its entry hash (edited)")
        prev = link.entry_hash
        count += 1
        if link.entry_hash == expected_head:
            seen_expected = True
    if not seen_expected:
        raise error(
            None,
            f"the published head {expected_head} is not in the chain "
            "(entries were removed from its end, or the log was replaced)",
        )
    return count, prev
