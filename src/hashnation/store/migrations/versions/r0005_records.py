"""Create the public records registry: append-only record versions and anchoring batches.

Tables: ``record_anchor_batches`` (one Merkle root per anchoring batch) and
``record_versions`` (one row per version of a land title, tax filing receipt,
identity attestation or licence decision; a correction is a new row pointing to
the previous one).

Triggers make ``record_versions`` append-only in the database itself, on SQLite and
PostgreSQL alike: every ``DELETE`` is refused, and an ``UPDATE`` is refused unless it
leaves every column unchanged except proof columns (``batch_id``, ``ots_proof``,
``upgraded_ots_proof``, ``attested_height``) that were still NULL. ``TRUNCATE`` and
``DROP`` are schema administration and are not covered. The downgrade drops the
triggers, then the tables.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD_TYPES = "'land_title', 'tax_filing_receipt', 'identity_attestation', 'licence_decision'"
FIXED_COLUMNS = (
    "id",
    "reference",
    "record_type",
    "version",
    "previous_id",
    "reason",
    "content_json",
    "content_sha256",
    "document_sha256",
    "digest",
    "recorded_at",
    "recorded_by",
)
"""Columns that never change once a version is stored."""
PROOF_COLUMNS = ("batch_id", "ots_proof", "upgraded_ots_proof", "attested_height")
"""Columns that may be set once, from NULL."""

UPDATE_REFUSED = "record_versions are append-only: UPDATE refused (correct with a new version)"
DELETE_REFUSED = "record_versions are append-only: DELETE refused"


def _id() -> sa.types.TypeEngine[int]:
    # BIGINT keys on PostgreSQL; SQLite only auto-numbers an INTEGER PRIMARY KEY.
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _allowed_update(same: str, unset: str) -> str:
    """Return the SQL condition under which an UPDATE is allowed (templates per column)."""
    fixed = [same.format(c=c) for c in FIXED_COLUMNS]
    proofs = [f"({unset.format(c=c)} OR {same.format(c=c)})" for c in PROOF_COLUMNS]
    return " AND ".join(fixed + proofs)


def _sqlite_triggers() -> list[str]:
    allowed = _allowed_update("NEW.{c} IS OLD.{c}", "OLD.{c} IS NULL")
    return [
        f"""CREATE TRIGGER record_versions_no_update BEFORE UPDATE ON record_versions
        FOR EACH ROW WHEN NOT ({allowed})
        BEGIN SELECT RAISE(ABORT, '{UPDATE_REFUSED}'); END""",
        f"""CREATE TRIGGER record_versions_no_delete BEFORE DELETE ON record_versions
        FOR EACH ROW BEGIN SELECT RAISE(ABORT, '{DELETE_REFUSED}'); END""",
    ]


def _postgres_triggers() -> list[str]:
    allowed = _allowed_update("NEW.{c} IS NOT DISTINCT FROM OLD.{c}", "OLD.{c} IS NULL")
    return [
        f"""CREATE FUNCTION record_versions_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION '{DELETE_REFUSED} (version id %)', OLD.id
                    USING ERRCODE = 'restrict_violation';
            END IF;
            IF NOT ({allowed}) THEN
                RAISE EXCEPTION '{UPDATE_REFUSED} (version id %)', OLD.id
                    USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END
        $$""",
        """CREATE TRIGGER record_versions_append_only
        BEFORE UPDATE OR DELETE ON record_versions
        FOR EACH ROW EXECUTE FUNCTION record_versions_append_only()""",
    ]


def upgrade() -> None:
    """Create the records tables, their indexes and the append-only triggers."""
    op.create_table(
        "record_anchor_batches",
        sa.Column("id", _id(), nullable=False),
        sa.Column("merkle_root", sa.String(length=64), nullable=False),
        sa.Column("leaf_count", sa.BigInteger(), nullable=False),
        sa.Column("stamped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stamped_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "leaf_count > 0", name=op.f("ck_record_anchor_batches_leaf_count_positive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_anchor_batches")),
    )
    op.create_table(
        "record_versions",
        sa.Column("id", _id(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("record_type", sa.String(length=30), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("previous_id", _id(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("content_json", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("batch_id", _id(), nullable=True),
        sa.Column("ots_proof", sa.LargeBinary(), nullable=True),
        sa.Column("upgraded_ots_proof", sa.LargeBinary(), nullable=True),
        sa.Column("attested_height", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            f"record_type IN ({RECORD_TYPES})", name=op.f("ck_record_versions_record_type")
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_record_versions_version_positive")),
        sa.CheckConstraint(
            "(version = 1) = (previous_id IS NULL)",
            name=op.f("ck_record_versions_previous_iff_correction"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["record_anchor_batches.id"],
            name=op.f("fk_record_versions_batch_id_record_anchor_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"],
            ["record_versions.id"],
            name=op.f("fk_record_versions_previous_id_record_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_versions")),
        sa.UniqueConstraint("previous_id", name=op.f("uq_record_versions_previous_id")),
        sa.UniqueConstraint("reference", "version", name="uq_record_versions_reference_version"),
    )
    op.create_index(op.f("ix_record_versions_batch_id"), "record_versions", ["batch_id"])
    op.create_index(op.f("ix_record_versions_digest"), "record_versions", ["digest"])
    dialect = op.get_bind().dialect.name
    statements = _postgres_triggers() if dialect == "postgresql" else _sqlite_triggers()
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    """Drop the append-only triggers, then the records tables."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS record_versions_append_only ON record_versions")
        op.execute("DROP FUNCTION IF EXISTS record_versions_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS record_versions_no_update")
        op.execute("DROP TRIGGER IF EXISTS record_versions_no_delete")
    op.drop_index(op.f("ix_record_versions_digest"), table_name="record_versions")
    op.drop_index(op.f("ix_record_versions_batch_id"), table_name="record_versions")
    op.drop_table("record_versions")
    op.drop_table("record_anchor_batches")
