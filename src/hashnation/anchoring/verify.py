"""Verify ``.ots`` proofs offline against a validated header store.

A proof is walked to each of its attestations. A Bitcoin block-header
attestation at height ``H`` holds when the message reached there equals the
merkle root of the header the store holds at ``H``; the store has checked
header links and proof of work itself, so no block explorer is trusted.

Outcome of one attestation (:attr:`AttestationCheck.status`):

``verified``        the commitment equals the header's merkle root
``mismatch``        it differs (a changed proof, file, or a wrong header)
``missing-header``  the store holds no header at that height ("not in the store")
``pending``         a calendar has it but no block yet (upgrade the proof)
``unknown-notary``  another chain or an unknown attestation tag

The proof's :attr:`Verification.status` is ``failed`` when the stamped file
does not match or any Bitcoin attestation mismatches, else the first of
``verified``, ``missing-header``, ``pending``, ``unknown-notary`` that any
attestation reached. Only ``verified`` is success.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from hashnation.anchoring import _ots
from hashnation.anchoring.errors import AnchorInputError
from hashnation.chain.headers import HeaderStore

__all__ = ["AttestationCheck", "Verification", "verify_proof", "verify_proofs"]

_MAX_MSG = 4096
_FAST_MAX_OPS = 128


@dataclass(frozen=True, slots=True)
class AttestationCheck:
    """One attestation of a proof and what the header store says of it.

    Attributes
    ----------
    kind
        ``"bitcoin"``, ``"pending"``, ``"litecoin"``, ``"ethereum"`` or ``"unknown"``.
    status
        ``verified``, ``mismatch``, ``missing-header``, ``pending`` or ``unknown-notary``.
    commitment
        Message the proof's operations reach at this attestation; for a
        Bitcoin attestation, the claimed merkle root in header (internal) byte order.
    height
        Claimed block height (block-header attestations), else None.
    uri
        Calendar URI (pending attestations), else None.
    block_hash_hex
        Hash of the verifying block, display order (verified only).
    time
        Header time of the verifying block [s since 1970 UTC] (verified only).
    message
        One line describing the outcome.
    """

    kind: str
    status: str
    commitment: bytes
    height: int | None = None
    uri: str | None = None
    block_hash_hex: str | None = None
    time: int | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class Verification:
    """Result of verifying one proof.

    Attributes
    ----------
    status
        ``verified``, ``failed``, ``missing-header``, ``pending`` or ``unknown-notary``.
    file_hash_op
        hashlib name of the proof's file hash (``"sha256"``).
    file_digest
        Digest the proof starts from.
    attestations
        Every attestation, in proof order.
    message
        One line: the outcome, with height, block hash and time when verified.
    """

    status: str
    file_hash_op: str
    file_digest: bytes
    attestations: tuple[AttestationCheck, ...]
    message: str

    @property
    def ok(self) -> bool:
        """True only when a Bitcoin attestation verified and nothing failed."""
        return self.status == "verified"

    @property
    def verified(self) -> AttestationCheck | None:
        """The verified attestation with the lowest height, if any."""
        done = [a for a in self.attestations if a.status == "verified"]
        return min(done, key=lambda a: a.height or 0) if done else None

    @property
    def height(self) -> int | None:
        """Height of the earliest verifying block, if any."""
        best = self.verified
        return best.height if best else None


def _check(commitment: bytes, att: _ots.Attestation, store: HeaderStore | None) -> AttestationCheck:
    if att.kind == "pending":
        return AttestationCheck(
            "pending", "pending", commitment, uri=att.uri, message=f"pending at {att.uri}"
        )
    if att.kind != "bitcoin" or att.height is None:
        label = att.kind if att.kind != "unknown" else f"unknown tag {att.tag_hex}"
        return AttestationCheck(
            att.kind,
            "unknown-notary",
            commitment,
            height=att.height,
            message=f"attestation by {label}: not a Bitcoin block header, cannot be verified",
        )
    height = att.height
    if store is None or height not in store:
        where = "no header store given" if store is None else f"{store.params.name} header store"
        return AttestationCheck(
            "bitcoin",
            "missing-header",
            commitment,
            height=height,
            message=f"header for height {height} not in the store ({where})",
        )
    header = store.header_at(height)
    if commitment != header.merkle_root:
        return AttestationCheck(
            "bitcoin",
            "mismatch",
            commitment,
            height=height,
            message=(
                f"Bitcoin block {height}: proof commits to merkle root "
                f"{commitment[::-1].hex()}, the stored header has {header.merkle_root[::-1].hex()}"
            ),
        )
    return AttestationCheck(
        "bitcoin",
        "verified",
        commitment,
        height=height,
        block_hash_hex=header.hash_hex(),
        time=header.time,
        message=f"{store.params.name} block {height} ({header.hash_hex()}) at time {header.time}",
    )


_ORDER = ("verified", "missing-header", "pending", "unknown-notary")


def _summarise(
    file_hash_op: str,
    digest: bytes,
    checks: tuple[AttestationCheck, ...],
    data_digest: bytes | None,
) -> Verification:
    if data_digest is not None and data_digest != digest:
        return Verification(
            "failed",
            file_hash_op,
            digest,
            checks,
            f"stamped file {file_hash_op} {data_digest.hex()} differs from the proof's "
            f"{digest.hex()}",
        )
    bad = [c for c in checks if c.status == "mismatch"]
    if bad:
        return Verification("failed", file_hash_op, digest, checks, bad[0].message)
    for status in _ORDER:
        hits = [c for c in checks if c.status == status]
        if not hits:
            continue
        if status == "verified":
            best = min(hits, key=lambda c: c.height or 0)
            return Verification(status, file_hash_op, digest, checks, f"verified: {best.message}")
        return Verification(status, file_hash_op, digest, checks, hits[0].message)
    return Verification(  # pragma: no cover - a parsed proof has an attestation
        "unknown-notary", file_hash_op, digest, checks, "no attestation"
    )


def _file_digest(file_hash_op: str, data: bytes | None) -> bytes | None:
    if data is None:
        return None
    return hashlib.new(file_hash_op, bytes(data)).digest()


def verify_proof(
    proof: bytes,
    store: HeaderStore | None,
    *,
    data: bytes | None = None,
    digest: bytes | None = None,
) -> Verification:
    """Verify one ``.ots`` proof against the headers in ``store``.

    Parameters
    ----------
    proof
        The ``.ots`` file's bytes.
    store
        Headers the caller filled and validated (links, proof of work); None
        checks nothing against blocks (every Bitcoin attestation is then
        ``missing-header``).
    data
        The stamped file's bytes, hashed with the proof's file hash op.
    digest
        Or the record's digest directly (ignored when ``data`` is given).

    Returns
    -------
    Verification
        The outcome; ``.ok`` only when a block header verified it.

    Raises
    ------
    AnchorInputError
        If the proof does not parse.
    """
    file_hash_op, file_digest, stamp = _ots.parse_proof(proof)
    checks = tuple(_check(msg, att, store) for msg, att in _ots.all_attestations(stamp))
    given = _file_digest(file_hash_op, data) if data is not None else digest
    return _summarise(file_hash_op, file_digest, checks, given)


def _linear_prefix(proof: bytes) -> tuple[bytes, bytes, int, int] | None:
    """Run a proof's leading ``append``/``prepend``/``sha256`` chain without the library.

    Returns ``(file digest, message reached, offset of the rest, operations run)``,
    or None when the proof is not the simple shape (the caller then uses the library).
    """
    head = len(_ots.HEADER_MAGIC)
    if not proof.startswith(_ots.HEADER_MAGIC) or proof[head : head + 2] != b"\x01\x08":
        return None
    pos = head + 2
    digest = proof[pos : pos + 32]
    if len(digest) != 32:
        return None
    pos += 32
    msg = digest
    ops = 0
    end = len(proof)
    sha256 = hashlib.sha256
    while pos < end and ops < _FAST_MAX_OPS:
        tag = proof[pos]
        if tag == 0x08:
            msg = sha256(msg).digest()
            pos += 1
        elif tag in (0xF0, 0xF1):
            if pos + 1 >= end:
                return None
            length = proof[pos + 1]
            if not 1 <= length < 0x80 or pos + 2 + length > end:
                return None
            arg = proof[pos + 2 : pos + 2 + length]
            msg = msg + arg if tag == 0xF0 else arg + msg
            if len(msg) > _MAX_MSG:
                return None
            pos += 2 + length
        else:
            break
        ops += 1
    if pos >= end or ops >= _FAST_MAX_OPS:
        return None
    return digest, msg, pos, ops


def verify_proofs(
    proofs: Iterable[bytes],
    store: HeaderStore | None,
    *,
    digests: Iterable[bytes] | None = None,
) -> Iterator[Verification]:
    """Verify many proofs; fast for the proofs of one batch.

    Each proof's leading chain of ``append``/``prepend``/``sha256``
    operations is run directly; the rest (the batch root's timestamp, the
    same bytes for every proof of a batch) is parsed by the library and
    checked against ``store`` once per distinct (message, bytes) pair. A proof
    of another shape is verified by :func:`verify_proof`. The outcomes equal
    :func:`verify_proof`'s.

    Parameters
    ----------
    proofs
        ``.ots`` files' bytes.
    store
        Validated headers (see :func:`verify_proof`).
    digests
        Record digests to compare with each proof's file digest, in the same
        order (optional).

    Yields
    ------
    Verification
        One per proof, in order.

    Raises
    ------
    AnchorInputError
        If a proof does not parse.
    """
    cache: dict[tuple[bytes, bytes], tuple[AttestationCheck, ...]] = {}
    expected = iter(digests) if digests is not None else None
    for number, proof in enumerate(proofs):
        given = next(expected, None) if expected is not None else None
        data = bytes(proof)
        quick = _linear_prefix(data)
        if quick is None:
            try:
                yield verify_proof(data, store, digest=given)
            except AnchorInputError as exc:
                raise AnchorInputError(f"proofs[{number}]", exc.value, exc.expected) from None
            continue
        file_digest, msg, offset, ops = quick
        key = (msg, data[offset:])
        checks = cache.get(key)
        if checks is None:
            try:
                stamp = _ots.parse_timestamp(key[1], msg, f"proofs[{number}]", depth_used=ops)
            except AnchorInputError:
                yield verify_proof(data, store, digest=given)  # the library's own message
                continue
            checks = tuple(_check(m, att, store) for m, att in _ots.all_attestations(stamp))
            if len(cache) > 1024:
                cache.clear()
            cache[key] = checks
        yield _summarise("sha256", file_digest, checks, given)
