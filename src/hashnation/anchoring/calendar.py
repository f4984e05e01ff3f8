"""Client for OpenTimestamps calendar servers (optional; the only network code here).

The protocol, as the reference calendars and ``ots`` speak it:

``POST <calendar>/digest``
    Body: the digest (at most 64 bytes). Reply 200: a serialized timestamp of
    that digest, ending in a ``PendingAttestation`` for the calendar.
``GET <calendar>/timestamp/<commitment hex>``
    Reply 200: a serialized timestamp of the commitment, down to a Bitcoin
    block-header attestation once the calendar's transaction is mined; 404
    while pending or unknown.

Both send ``Accept: application/vnd.opentimestamps.v1``. Replies are capped
at :data:`MAX_REPLY_BYTES` and every failure is one :class:`CalendarError` line.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Sequence

from hashnation.anchoring import _ots
from hashnation.anchoring.batch import Batch
from hashnation.anchoring.errors import AnchorInputError, CalendarError

__all__ = [
    "DEFAULT_CALENDARS",
    "MAX_REPLY_BYTES",
    "fetch_timestamp",
    "submit",
    "submit_batch",
    "upgrade_proof",
]

DEFAULT_CALENDARS: tuple[str, ...] = (
    "https://a.pool.opentimestamps.org",
    "https://b.pool.opentimestamps.org",
    "https://a.pool.eternitywall.com",
    "https://ots.btc.catallaxy.com",
)
"""Public aggregators the ``ots`` client submits to by default."""

MAX_REPLY_BYTES: int = 10_000
"""Largest calendar reply read [bytes] (the ``ots`` client's limit)."""

_HEADERS = {"Accept": "application/vnd.opentimestamps.v1", "User-Agent": "hashnation"}


def _check_url(url: str) -> str:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise AnchorInputError("calendar", url, "an http:// or https:// URL")
    return url.rstrip("/")


def _request(url: str, data: bytes | None, timeout_s: float) -> bytes | None:
    request = urllib.request.Request(url, data=data, headers=_HEADERS)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = bytes(response.read(MAX_REPLY_BYTES + 1))
    except urllib.error.HTTPError as exc:
        if exc.code == 404 and data is None:
            return None
        raise CalendarError(f"calendar {url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CalendarError(f"calendar {url}: {' '.join(str(reason).split())}") from None
    if len(body) > MAX_REPLY_BYTES:
        raise CalendarError(f"calendar {url}: reply over {MAX_REPLY_BYTES} bytes")
    return body


def submit(calendar: str, digest: bytes, timeout_s: float = 10.0) -> bytes:
    """Submit ``digest`` to a calendar; return its serialized (pending) timestamp.

    Parameters
    ----------
    calendar
        Base URL of the calendar.
    digest
        What to timestamp (e.g. a :attr:`~hashnation.anchoring.batch.Batch.root`), 1 to 64 bytes.
    timeout_s
        Network timeout [s].

    Returns
    -------
    bytes
        A serialized timestamp of ``digest`` (checked to parse).

    Raises
    ------
    CalendarError
        If the calendar cannot be reached, times out or answers badly.
    """
    base = _check_url(calendar)
    if not isinstance(digest, bytes) or not 1 <= len(digest) <= 64:
        raise AnchorInputError("digest", digest, "1 to 64 bytes")
    body = _request(f"{base}/digest", digest, timeout_s)
    assert body is not None
    try:
        _ots.parse_timestamp(body, digest, f"reply of {base}")
    except AnchorInputError as exc:
        raise CalendarError(str(exc)) from None
    return body


def fetch_timestamp(calendar: str, commitment: bytes, timeout_s: float = 10.0) -> bytes | None:
    """Ask a calendar for the timestamp of ``commitment``.

    Parameters
    ----------
    calendar
        Base URL of the calendar.
    commitment
        The message a pending attestation sits on.
    timeout_s
        Network timeout [s].

    Returns
    -------
    bytes or None
        The serialized timestamp, or None while the calendar has none (HTTP 404).

    Raises
    ------
    CalendarError
        On any other failure.
    """
    base = _check_url(calendar)
    body = _request(f"{base}/timestamp/{bytes(commitment).hex()}", None, timeout_s)
    if body is None:
        return None
    try:
        _ots.parse_timestamp(body, commitment, f"reply of {base}")
    except AnchorInputError as exc:
        raise CalendarError(str(exc)) from None
    return body


def submit_batch(batch: Batch, calendars: Sequence[str], timeout_s: float = 10.0) -> list[str]:
    """Submit a batch's root to each calendar and merge the replies into it.

    Parameters
    ----------
    batch
        The stamped batch.
    calendars
        Calendar base URLs.
    timeout_s
        Network timeout per calendar [s].

    Returns
    -------
    list of str
        One line per calendar that failed (empty when all answered).

    Raises
    ------
    CalendarError
        If no calendar answered.
    """
    failures: list[str] = []
    for url in calendars:
        try:
            batch.merge_root(submit(url, batch.root, timeout_s))
        except CalendarError as exc:
            failures.append(str(exc))
    if len(failures) == len(calendars):
        raise CalendarError(
            "no calendar accepted the batch root: " + ("; ".join(failures) or "none given")
        )
    return failures


def upgrade_proof(
    proof: bytes, calendars: Sequence[str] | None = None, timeout_s: float = 10.0
) -> tuple[bytes, int]:
    """Ask calendars to complete a proof's pending attestations.

    Parameters
    ----------
    proof
        The ``.ots`` file's bytes.
    calendars
        Calendars that may be contacted (a pending attestation naming another
        URL is skipped, as the ``ots`` client's whitelist does);
        :data:`DEFAULT_CALENDARS` when None.
    timeout_s
        Network timeout per request [s].

    Returns
    -------
    tuple
        ``(proof bytes, number of attestations merged)``; the bytes are
        unchanged when nothing new came back. Pending attestations are kept.

    Raises
    ------
    AnchorInputError
        If the proof does not parse.
    CalendarError
        If an allowed calendar fails.
    """
    allowed = {_check_url(u) for u in (DEFAULT_CALENDARS if calendars is None else calendars)}
    file_hash_op, _digest, stamp = _ots.parse_proof(proof)
    merged = 0
    for node, uri in list(_ots.pending_stamps(stamp)):
        base = uri.rstrip("/")
        if base not in allowed:
            continue
        reply = fetch_timestamp(base, _ots.message(node), timeout_s)
        if reply is None:
            continue
        before = {a for _, a in _ots.all_attestations(node)}
        _ots.merge(node, _ots.parse_timestamp(reply, _ots.message(node)))
        after = {a for _, a in _ots.all_attestations(node)}
        merged += len(after - before)
    if not merged:
        return bytes(proof), 0
    return _ots.serialize_proof(file_hash_op, stamp), merged
