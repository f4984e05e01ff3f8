"""Create the custody approvals log: one hash-chained row per step of a multisig spend.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIONS = "'created', 'imported', 'signed-by', 'combined', 'finalized', 'extracted'"


def _id() -> sa.types.TypeEngine[int]:
    # BIGINT keys on PostgreSQL; SQLite only auto-numbers an INTEGER PRIMARY KEY.
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create ``custody_approvals`` and its index on ``spend_id``."""
    op.create_table(
        "custody_approvals",
        sa.Column("id", _id(), nullable=False),
        sa.Column("spend_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("psbt_sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(f"action IN ({ACTIONS})", name=op.f("ck_custody_approvals_action")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_approvals")),
        sa.UniqueConstraint("entry_hash", name=op.f("uq_custody_approvals_entry_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_custody_approvals_prev_hash")),
    )
    op.create_index(op.f("ix_custody_approvals_spend_id"), "custody_approvals", ["spend_id"])


def downgrade() -> None:
    """Drop ``custody_approvals``."""
    op.drop_index(op.f("ix_custody_approvals_spend_id"), table_name="custody_approvals")
    op.drop_table("custody_approvals")
