"""Anchoring pillar: OpenTimestamps proofs that public records existed at a Bitcoin block.

Public API (everything else is internal)::

    stamp_digests(digests) -> Batch          aggregate 32-byte record digests into one root
    Batch.root                               the commitment to submit / commit in a block
    Batch.merge_root(timestamp_bytes)        add a calendar reply or a block commitment
    Batch.proof(i) / Batch.proofs()          record i's standard .ots file (bytes)
    block_timestamp(root, raw_tx, branch, index, height)  a root committed in a mined tx
    submit_batch(batch, calendars)           calendar client (optional, network)
    upgrade_proof(proof, calendars)          complete pending attestations from calendars
    verify_proof(proof, store, data=|digest=) -> Verification   offline, against a HeaderStore
    verify_proofs(proofs, store)             the same for many proofs (fast for one batch)
    proof_info(proof) -> str                 ``ots info``-style dump

Typical use by a records registry::

    batch = stamp_digests([sha256(record).digest() for record in records])
    submit_batch(batch, calendars)           # or batch.merge_root(block_timestamp(...))
    for record, proof in zip(records, batch.proofs()):
        save(record, proof)                  # a .ots file `ots verify` also accepts
    ...
    result = verify_proof(proof, header_store, digest=record_digest)
    result.ok, result.height, result.message

Proofs are ``DetachedTimestampFile``s (file hash ``sha256``) built and read
through the ``opentimestamps`` library. Verification trusts only the
:class:`~hashnation.chain.headers.HeaderStore` the caller filled (links and
proof of work checked there); a proof whose block is not in the store reports
``missing-header`` ("header for height H not in the store"), never success.
Errors: :mod:`hashnation.anchoring.errors`.
"""

from __future__ import annotations

from hashnation.anchoring.batch import Batch, block_timestamp, stamp_digests
from hashnation.anchoring.calendar import submit_batch, upgrade_proof
from hashnation.anchoring.errors import AnchorError, AnchorInputError, CalendarError
from hashnation.anchoring.info import proof_info
from hashnation.anchoring.verify import (
    AttestationCheck,
    Verification,
    verify_proof,
    verify_proofs,
)

__all__ = [
    "AnchorError",
    "AnchorInputError",
    "AttestationCheck",
    "Batch",
    "CalendarError",
    "Verification",
    "block_timestamp",
    "proof_info",
    "stamp_digests",
    "submit_batch",
    "upgrade_proof",
    "verify_proof",
    "verify_proofs",
]
