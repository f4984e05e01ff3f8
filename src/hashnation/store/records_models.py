"""ORM schema of the public records registry (SQLAlchemy 2 typed mapping).

``record_versions``
    One row per version of a public record (land title, tax filing receipt, identity
    attestation, licence decision). A correction is a new row whose ``previous_id``
    points to the version it corrects; rows are never edited nor deleted. The
    database enforces it: triggers (created by migration ``0005``) refuse every
    ``DELETE`` and every ``UPDATE`` except one that sets a still-empty proof column
    (``batch_id``, ``ots_proof``, ``upgraded_ots_proof``, ``attested_height``) and
    leaves all others unchanged.
``record_anchor_batches``
    One row per anchoring batch: the Merkle root of the batch's digests and the
    number of versions stamped under it.

Defined on the shared :class:`~hashnation.store.models.Base`, imported at the end of
:mod:`hashnation.store.models`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hashnation.store.models import Base, BigId, _in_list
from hashnation.store.types import UTCDateTime

__all__ = ["PROOF_COLUMNS", "RECORD_TYPES", "RecordAnchorBatch", "RecordVersion"]

RECORD_TYPES = (
    "land_title",
    "tax_filing_receipt",
    "identity_attestation",
    "licence_decision",
)
"""Record types (:class:`hashnation.records.types.RecordType` values)."""

PROOF_COLUMNS = ("batch_id", "ots_proof", "upgraded_ots_proof", "attested_height")
"""Columns of ``record_versions`` that may be set once, from NULL; all others never change."""


class RecordAnchorBatch(Base):
    """An anchoring batch: the Merkle root over many versions' digests."""

    __tablename__ = "record_anchor_batches"
    __table_args__ = (CheckConstraint("leaf_count > 0", name="leaf_count_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merkle_root: Mapped[str] = mapped_column(String(64))
    """Root of the batch's Merkle tree, 64 lowercase hex digits."""
    leaf_count: Mapped[int] = mapped_column(BigInteger)
    """Versions stamped in the batch [count]."""
    stamped_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the batch was stamped, timezone-aware UTC."""
    stamped_by: Mapped[str] = mapped_column(String(200))

    def __repr__(self) -> str:
        return f"RecordAnchorBatch(id={self.id!r}, merkle_root={self.merkle_root!r})"


class RecordVersion(Base):
    """One version of a public record (append-only)."""

    __tablename__ = "record_versions"
    __table_args__ = (
        UniqueConstraint("reference", "version", name="uq_record_versions_reference_version"),
        CheckConstraint(_in_list("record_type", RECORD_TYPES), name="record_type"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("(version = 1) = (previous_id IS NULL)", name="previous_iff_correction"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64))
    """Public reference of the record (same for all its versions)."""
    record_type: Mapped[str] = mapped_column(String(30))
    """One of :data:`RECORD_TYPES`."""
    version: Mapped[int] = mapped_column(Integer)
    """1 for the original, then one more per correction."""
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("record_versions.id"), unique=True)
    """The version this one corrects; unique: a version is corrected at most once."""
    reason: Mapped[str] = mapped_column(Text)
    """Why the record was corrected ('' for version 1)."""
    content_json: Mapped[str] = mapped_column(Text)
    """Canonical JSON envelope of the version (type, reference, version, previous
    digest, fields, document hash), exactly the text hashed into ``content_sha256``."""
    content_sha256: Mapped[str] = mapped_column(String(64))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of the attached document, if any."""
    digest: Mapped[str] = mapped_column(String(64), index=True)
    """What is anchored: ``document_sha256`` if any, else ``content_sha256``."""
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the version was stored, timezone-aware UTC."""
    recorded_by: Mapped[str] = mapped_column(String(200))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("record_anchor_batches.id"), index=True)
    """Anchoring batch (set once, when stamped)."""
    ots_proof: Mapped[bytes | None] = mapped_column(LargeBinary)
    """OpenTimestamps proof (.ots file) of ``digest`` from its batch (set once)."""
    upgraded_ots_proof: Mapped[bytes | None] = mapped_column(LargeBinary)
    """The proof upgraded to a Bitcoin block attestation (set once)."""
    attested_height: Mapped[int | None] = mapped_column(Integer)
    """Height of the block the upgraded proof attests to [block] (set once)."""

    def __repr__(self) -> str:
        return (
            f"RecordVersion(id={self.id!r}, reference={self.reference!r}, version={self.version!r})"
        )
