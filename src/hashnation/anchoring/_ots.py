"""Small typed functions over the untyped ``opentimestamps`` library.

Everything else in :mod:`hashnation.anchoring` reaches the library through
here. Timestamps stay the library's own objects (typed :data:`OtsTimestamp`,
i.e. ``Any``), so that every proof is read and written by the reference code.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from opentimestamps.core.notary import (
    BitcoinBlockHeaderAttestation,
    PendingAttestation,
    UnknownAttestation,
)
from opentimestamps.core.op import CryptOp, OpAppend, OpPrepend, OpSHA256
from opentimestamps.core.serialize import (
    BytesDeserializationContext,
    BytesSerializationContext,
)
from opentimestamps.core.timestamp import DetachedTimestampFile, Timestamp, make_merkle_tree

from hashnation.anchoring.errors import AnchorInputError

__all__ = [
    "HEADER_MAGIC",
    "MAJOR_VERSION",
    "RECURSION_LIMIT",
    "Attestation",
    "OtsTimestamp",
    "add_append",
    "add_bitcoin_attestation",
    "add_pending_attestation",
    "add_prepend",
    "add_sha256",
    "all_attestations",
    "merge",
    "merkle_tree",
    "message",
    "new_timestamp",
    "parse_proof",
    "parse_timestamp",
    "pending_stamps",
    "serialize_proof",
    "serialize_timestamp",
    "str_tree",
]

OtsTimestamp = Any
"""An ``opentimestamps.core.timestamp.Timestamp`` (the library has no type hints)."""

HEADER_MAGIC: bytes = bytes(DetachedTimestampFile.HEADER_MAGIC)
"""First 31 bytes of every detached ``.ots`` file."""

MAJOR_VERSION: int = int(DetachedTimestampFile.MAJOR_VERSION)
"""The only ``.ots`` major version the library reads (1)."""

RECURSION_LIMIT: int = 256
"""Deepest chain of operations the library deserializes (``Timestamp.deserialize``)."""


@dataclass(frozen=True, slots=True)
class Attestation:
    """One attestation of a timestamp, library-independent.

    Attributes
    ----------
    kind
        ``"bitcoin"``, ``"pending"``, ``"litecoin"``, ``"ethereum"`` or ``"unknown"``.
    height
        Block height for block-header attestations, else None.
    uri
        Calendar URI for a pending attestation, else None.
    tag_hex
        The 8-byte attestation tag, hex.
    """

    kind: str
    height: int | None
    uri: str | None
    tag_hex: str


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _op_name(op: Any) -> str:
    return str(getattr(op, "HASHLIB_NAME", None) or getattr(op, "TAG_NAME", "unknown"))


def parse_proof(data: bytes, field: str = "proof") -> tuple[str, bytes, OtsTimestamp]:
    """Parse a detached ``.ots`` file with the library.

    Parameters
    ----------
    data
        The file's bytes.
    field
        Name of the proof in error messages.

    Returns
    -------
    tuple
        ``(file hash op name, file digest, timestamp)``; the op name is
        hashlib's (``"sha256"``, ``"sha1"``, ...).

    Raises
    ------
    AnchorInputError
        If the bytes are not a valid detached timestamp (bad magic, unknown
        major version or hash op, truncated, over a length limit, trailing bytes).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise AnchorInputError(field, type(data).__name__, "the bytes of a .ots file")
    try:
        detached = DetachedTimestampFile.deserialize(BytesDeserializationContext(bytes(data)))
    except Exception as exc:  # the library raises many unrelated types
        raise AnchorInputError(
            field, f"{len(data)} bytes", f"a valid OpenTimestamps proof ({_one_line(exc)})"
        ) from None
    return _op_name(detached.file_hash_op), bytes(detached.file_digest), detached.timestamp


def serialize_proof(file_hash_op: str, timestamp: OtsTimestamp) -> bytes:
    """Serialize a detached ``.ots`` file.

    Parameters
    ----------
    file_hash_op
        hashlib name of the file hash (``"sha256"``).
    timestamp
        Timestamp whose message is the file digest.

    Returns
    -------
    bytes
        The file's bytes.
    """
    op_cls = {_op_name(cls): cls for cls in CryptOp.SUBCLS_BY_TAG.values()}[file_hash_op]
    ctx = BytesSerializationContext()
    DetachedTimestampFile(op_cls(), timestamp).serialize(ctx)
    return bytes(ctx.getbytes())


def parse_timestamp(
    data: bytes, msg: bytes, field: str = "timestamp", depth_used: int = 0
) -> OtsTimestamp:
    """Parse a serialized timestamp (no file header) for message ``msg``.

    Parameters
    ----------
    data
        Serialized timestamp; must be consumed entirely.
    msg
        The message it starts from.
    field
        Name used in error messages.
    depth_used
        Operations already applied above ``msg`` (counts against the
        library's limit of :data:`RECURSION_LIMIT`).

    Returns
    -------
    OtsTimestamp
        The timestamp.

    Raises
    ------
    AnchorInputError
        If the bytes are not a valid timestamp for ``msg``.
    """
    try:
        ctx = BytesDeserializationContext(bytes(data))
        stamp = Timestamp.deserialize(
            ctx, bytes(msg), _recursion_limit=RECURSION_LIMIT - depth_used
        )
        ctx.assert_eof()
    except Exception as exc:
        raise AnchorInputError(
            field, f"{len(data)} bytes", f"a valid serialized timestamp ({_one_line(exc)})"
        ) from None
    return stamp


def serialize_timestamp(timestamp: OtsTimestamp) -> bytes:
    """Serialize a timestamp without the file header.

    Raises
    ------
    AnchorInputError
        If the timestamp is empty (no operation and no attestation).
    """
    ctx = BytesSerializationContext()
    try:
        timestamp.serialize(ctx)
    except ValueError as exc:
        raise AnchorInputError("timestamp", "empty", f"an attestation ({exc})") from None
    return bytes(ctx.getbytes())


def new_timestamp(msg: bytes) -> OtsTimestamp:
    """Return an empty timestamp for ``msg``."""
    return Timestamp(bytes(msg))


def add_append(stamp: OtsTimestamp, suffix: bytes) -> OtsTimestamp:
    """Add ``append(suffix)`` to ``stamp``; return the resulting timestamp."""
    return stamp.ops.add(OpAppend(bytes(suffix)))


def add_prepend(stamp: OtsTimestamp, prefix: bytes) -> OtsTimestamp:
    """Add ``prepend(prefix)`` to ``stamp``; return the resulting timestamp."""
    return stamp.ops.add(OpPrepend(bytes(prefix)))


def add_sha256(stamp: OtsTimestamp) -> OtsTimestamp:
    """Add ``sha256`` to ``stamp``; return the resulting timestamp."""
    return stamp.ops.add(OpSHA256())


def add_bitcoin_attestation(stamp: OtsTimestamp, height: int) -> None:
    """Attest that ``stamp``'s message is the merkle root of the block at ``height``."""
    stamp.attestations.add(BitcoinBlockHeaderAttestation(int(height)))


def add_pending_attestation(stamp: OtsTimestamp, uri: str) -> None:
    """Mark ``stamp``'s message as pending at the calendar ``uri``."""
    stamp.attestations.add(PendingAttestation(str(uri)))


def merkle_tree(stamps: Sequence[OtsTimestamp]) -> OtsTimestamp:
    """Join ``stamps`` with the library's ``make_merkle_tree`` (``cat_sha256``); return the tip."""
    return make_merkle_tree(list(stamps))


def merge(stamp: OtsTimestamp, other: OtsTimestamp) -> None:
    """Merge ``other`` (same message) into ``stamp``."""
    stamp.merge(other)


def message(stamp: OtsTimestamp) -> bytes:
    """Return the message a timestamp node commits to."""
    return bytes(stamp.msg)


def _describe(attestation: Any) -> Attestation:
    tag_hex = bytes(getattr(attestation, "TAG", b"") or b"").hex()
    if isinstance(attestation, BitcoinBlockHeaderAttestation):
        return Attestation("bitcoin", int(attestation.height), None, tag_hex)
    if isinstance(attestation, PendingAttestation):
        return Attestation("pending", None, str(attestation.uri), tag_hex)
    if isinstance(attestation, UnknownAttestation):
        return Attestation("unknown", None, None, bytes(attestation.TAG).hex())
    name = type(attestation).__name__.lower()
    kind = next((k for k in ("litecoin", "ethereum") if k in name), "unknown")
    height = getattr(attestation, "height", None)
    return Attestation(kind, int(height) if isinstance(height, int) else None, None, tag_hex)


def all_attestations(stamp: OtsTimestamp) -> Iterator[tuple[bytes, Attestation]]:
    """Yield ``(message, attestation)`` for every attestation under ``stamp``, in tree order."""
    for msg, attestation in stamp.all_attestations():
        yield bytes(msg), _describe(attestation)


def pending_stamps(stamp: OtsTimestamp) -> Iterator[tuple[OtsTimestamp, str]]:
    """Yield ``(node, calendar uri)`` for every pending attestation under ``stamp``."""
    todo = [stamp]
    while todo:
        node = todo.pop()
        for attestation in sorted(node.attestations):
            if isinstance(attestation, PendingAttestation):
                yield node, str(attestation.uri)
        todo.extend(node.ops.values())


def str_tree(stamp: OtsTimestamp) -> str:
    """Return the library's text tree of a timestamp, as ``ots info`` prints it."""
    return str(stamp.str_tree(verbosity=0))
