"""Stamp a batch of records: one Merkle root, one standard ``.ots`` proof per record.

The tree is the one the reference ``ots stamp`` client builds for several
files: each record digest gets a random 16-byte nonce appended and is hashed
(``append(nonce) sha256``), which hides its siblings' digests from anyone
shown one proof; the leaves are then joined pairwise with
``opentimestamps.core.timestamp.make_merkle_tree`` (``cat_sha256``: ``append``
or ``prepend`` the sibling, then ``sha256``; an odd node at the end of a level
moves up unchanged). Every proof is a ``DetachedTimestampFile`` with the
``sha256`` file hash op that ``ots verify`` / ``ots upgrade`` read.

For large batches the tree is hashed level by level with :mod:`hashlib` and
each proof's bytes are assembled directly: a record's path to the root is a
straight line of ``append``/``prepend``/``sha256`` operations, whose
serialization is those operations in order, followed by the root's own
serialization (calendar replies, block commitments), which is computed once by
the library. :meth:`Batch.reference_proof` builds the same proof through the
library's objects; tests check that both give the same bytes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence

from hashnation.anchoring import _ots
from hashnation.anchoring.errors import AnchorError, AnchorInputError

__all__ = [
    "DIGEST_SIZE_BYTES",
    "NONCE_SIZE_BYTES",
    "Batch",
    "block_timestamp",
    "stamp_digests",
]

DIGEST_SIZE_BYTES: int = 32
"""Size of a record digest (SHA-256) [bytes]."""

NONCE_SIZE_BYTES: int = 16
"""Size of the per-record nonce the ``ots`` client appends [bytes]."""

_TAG_SHA256 = b"\x08"
_TAG_APPEND = b"\xf0"
_TAG_PREPEND = b"\xf1"
_PROOF_HEAD = _ots.HEADER_MAGIC + bytes([_ots.MAJOR_VERSION]) + _TAG_SHA256
_APPEND_32 = _TAG_APPEND + bytes([DIGEST_SIZE_BYTES])
_PREPEND_32 = _TAG_PREPEND + bytes([DIGEST_SIZE_BYTES])
_APPEND_NONCE = _TAG_APPEND + bytes([NONCE_SIZE_BYTES])


def _check_digests(digests: Sequence[bytes]) -> list[bytes]:
    if isinstance(digests, bytes | str) or not isinstance(digests, Sequence):
        raise AnchorInputError("digests", type(digests).__name__, "a sequence of 32-byte digests")
    if not digests:
        raise AnchorInputError("digests", "[]", "at least one 32-byte digest")
    out = [bytes(d) for d in digests] if not isinstance(digests, list) else digests
    for index, digest in enumerate(out):
        if not isinstance(digest, bytes) or len(digest) != DIGEST_SIZE_BYTES:
            shown = digest.hex() if isinstance(digest, bytes) else type(digest).__name__
            raise AnchorInputError(f"digests[{index}]", shown, "a 32-byte SHA-256 digest")
    return out


class Batch:
    """A batch of record digests joined into one Merkle root.

    Build one with :func:`stamp_digests`. The root starts with no attestation;
    add a calendar's reply (:func:`~hashnation.anchoring.calendar.submit`) or
    a block commitment (:func:`block_timestamp`) with :meth:`merge_root`, then
    take each record's proof with :meth:`proof`.

    Parameters
    ----------
    digests
        Record digests (SHA-256, 32 bytes each), in record order.
    nonces
        ``16 * len(digests)`` bytes: record ``i``'s nonce is
        ``nonces[16 * i : 16 * i + 16]``.
    """

    def __init__(self, digests: Sequence[bytes], nonces: bytes) -> None:
        self._digests = _check_digests(digests)
        count = len(self._digests)
        if not isinstance(nonces, bytes) or len(nonces) != NONCE_SIZE_BYTES * count:
            raise AnchorInputError(
                "nonces",
                f"{len(nonces) if isinstance(nonces, bytes) else type(nonces).__name__} bytes",
                f"{NONCE_SIZE_BYTES} bytes per digest ({NONCE_SIZE_BYTES * count})",
            )
        self._nonces = nonces
        sha256 = hashlib.sha256
        level = [
            sha256(d + nonces[NONCE_SIZE_BYTES * i : NONCE_SIZE_BYTES * (i + 1)]).digest()
            for i, d in enumerate(self._digests)
        ]
        levels = [level]
        while len(level) > 1:
            pairs = len(level) // 2
            nxt = [sha256(level[2 * j] + level[2 * j + 1]).digest() for j in range(pairs)]
            if len(level) % 2:
                nxt.append(level[-1])
            levels.append(nxt)
            level = nxt
        self._levels = levels
        self._root_stamp = _ots.new_timestamp(level[0])
        self._root_suffix: bytes | None = None

    def __len__(self) -> int:
        """Return the number of records."""
        return len(self._digests)

    @property
    def root(self) -> bytes:
        """The Merkle root all proofs lead to (32 bytes): the commitment to submit."""
        return bytes(self._levels[-1][0])

    @property
    def digests(self) -> Sequence[bytes]:
        """Record digests, in record order."""
        return tuple(self._digests)

    def merge_root(self, timestamp: bytes) -> None:
        """Add a serialized timestamp of :attr:`root` (a calendar reply, a block commitment).

        Parameters
        ----------
        timestamp
            Serialized timestamp whose message is :attr:`root`.

        Raises
        ------
        AnchorInputError
            If the bytes are not a valid timestamp.
        """
        stamp = _ots.parse_timestamp(timestamp, self.root, "root timestamp")
        _ots.merge(self._root_stamp, stamp)
        self._root_suffix = None

    @property
    def root_timestamp(self) -> bytes:
        """Serialized timestamp of :attr:`root` (what every proof ends with).

        Raises
        ------
        AnchorError
            If the root has no attestation yet.
        """
        if self._root_suffix is None:
            if not any(True for _ in _ots.all_attestations(self._root_stamp)):
                raise AnchorError(
                    f"batch root {self.root.hex()}: no attestation yet, expected a calendar "
                    "reply or a block commitment merged with merge_root()"
                )
            self._root_suffix = _ots.serialize_timestamp(self._root_stamp)
        return self._root_suffix

    def path_ops(self, index: int) -> bytes:
        """Return the serialized operations from record ``index``'s digest to the root.

        Parameters
        ----------
        index
            Record position, from 0.

        Returns
        -------
        bytes
            ``append(nonce) sha256`` then, level by level, ``append(right
            sibling) sha256`` or ``prepend(left sibling) sha256``.
        """
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self):
            raise AnchorInputError("index", index, f"an int from 0 to {len(self) - 1}")
        start = NONCE_SIZE_BYTES * index
        parts = [_APPEND_NONCE, self._nonces[start : start + NONCE_SIZE_BYTES], _TAG_SHA256]
        i = index
        for level in self._levels[:-1]:
            if i & 1:
                parts += (_PREPEND_32, level[i - 1], _TAG_SHA256)
            elif i + 1 < len(level):
                parts += (_APPEND_32, level[i + 1], _TAG_SHA256)
            i >>= 1
        return b"".join(parts)

    def proof(self, index: int) -> bytes:
        """Return the ``.ots`` file of record ``index``.

        Parameters
        ----------
        index
            Record position, from 0.

        Returns
        -------
        bytes
            A detached timestamp file (``sha256`` file hash op).

        Raises
        ------
        AnchorError
            If the root has no attestation yet.
        """
        suffix = self.root_timestamp
        return b"".join((_PROOF_HEAD, self._digests[index], self.path_ops(index), suffix))

    def proofs(self) -> Iterator[bytes]:
        """Yield every record's ``.ots`` file, in record order."""
        suffix = self.root_timestamp
        head = _PROOF_HEAD
        for index, digest in enumerate(self._digests):
            yield b"".join((head, digest, self.path_ops(index), suffix))

    def reference_proof(self, index: int) -> bytes:
        """Build record ``index``'s proof with the library's own objects (slow; for checks).

        The whole batch goes through ``make_merkle_tree`` exactly as ``ots
        stamp`` does for several files, and the result is serialized by
        ``DetachedTimestampFile``.
        """
        suffix = self.root_timestamp
        leaves = []
        record_stamp = None
        for i, digest in enumerate(self._digests):
            stamp = _ots.new_timestamp(digest)
            nonce = self._nonces[NONCE_SIZE_BYTES * i : NONCE_SIZE_BYTES * (i + 1)]
            leaves.append(_ots.add_sha256(_ots.add_append(stamp, nonce)))
            if i == index:
                record_stamp = stamp
        tip = _ots.merkle_tree(leaves)
        if _ots.message(tip) != self.root:  # pragma: no cover - same algorithm
            raise AnchorError("library merkle tree disagrees with the batch root")
        _ots.merge(tip, _ots.parse_timestamp(suffix, self.root))
        return _ots.serialize_proof("sha256", record_stamp)


def stamp_digests(
    digests: Sequence[bytes], *, random_bytes: Callable[[int], bytes] = os.urandom
) -> Batch:
    """Aggregate record digests into one :class:`Batch` (a Merkle root to anchor).

    Parameters
    ----------
    digests
        SHA-256 digests of the records (32 bytes each), e.g. of documents,
        registry decisions, audit-log heads, reserve reports.
    random_bytes
        Source of the nonces, ``os.urandom`` by default; pass a seeded one
        only in tests.

    Returns
    -------
    Batch
        The batch; its :attr:`Batch.root` is what gets submitted or committed.

    Raises
    ------
    AnchorInputError
        If there is no digest or one is not 32 bytes.
    """
    checked = _check_digests(digests)
    return Batch(checked, random_bytes(NONCE_SIZE_BYTES * len(checked)))


def block_timestamp(
    commitment: bytes, raw_tx: bytes, branch: Sequence[bytes], index: int, height: int
) -> bytes:
    """Timestamp ``commitment`` to the block holding ``raw_tx`` (as a calendar does).

    The operations go from the commitment to the transaction id (``prepend``
    the bytes before it in the transaction, ``append`` those after it,
    ``sha256`` twice), then up the block's merkle branch (``append`` or
    ``prepend`` each sibling, ``sha256`` twice), and end in a
    ``BitcoinBlockHeaderAttestation(height)`` on the block's merkle root.

    Parameters
    ----------
    commitment
        Bytes found verbatim in the transaction (e.g. in an ``OP_RETURN`` output).
    raw_tx
        The transaction, serialized without witness.
    branch
        Its merkle branch: sibling hashes, leaf level first, internal byte
        order (a :class:`~hashnation.chain.base.MerkleProof`'s ``branch``).
    index
        The transaction's position in the block.
    height
        The block's height.

    Returns
    -------
    bytes
        The serialized timestamp of ``commitment``. Whether it reaches the
        block's real merkle root is checked at verification, against headers.

    Raises
    ------
    AnchorInputError
        If the transaction does not contain the commitment or the index is negative.
    """
    raw = bytes(raw_tx)
    at = raw.find(bytes(commitment)) if commitment else -1
    if at < 0:
        raise AnchorInputError(
            "raw_tx", f"{len(raw)} bytes", "a transaction holding the commitment"
        )
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise AnchorInputError("index", index, "an int >= 0")
    start = _ots.new_timestamp(commitment)
    node = start
    if at:
        node = _ots.add_prepend(node, raw[:at])
    if at + len(commitment) < len(raw):
        node = _ots.add_append(node, raw[at + len(commitment) :])
    node = _ots.add_sha256(_ots.add_sha256(node))
    for sibling in branch:
        node = _ots.add_prepend(node, sibling) if index & 1 else _ots.add_append(node, sibling)
        node = _ots.add_sha256(_ots.add_sha256(node))
        index >>= 1
    _ots.add_bitcoin_attestation(node, height)
    return _ots.serialize_timestamp(start)
