"""Create the ledger schema: accounts, journal entries, postings, lots.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACCOUNT_TYPES = "'custody', 'government', 'counterparty', 'income', 'expense', 'equity'"
ENTRY_KINDS = (
    "'purchase', 'sale', 'consolidation', 'mining', 'visa_payment', 'donation', 'transfer', 'fee'"
)


def _id() -> sa.types.TypeEngine[int]:
    # BIGINT keys on PostgreSQL; SQLite only auto-numbers an INTEGER PRIMARY KEY.
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the four tables and their indexes."""
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("balance_sat", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("balance_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"type IN ({ACCOUNT_TYPES})", name=op.f("ck_accounts_type")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("name", name=op.f("uq_accounts_name")),
    )
    op.create_table(
        "journal_entries",
        sa.Column("id", _id(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.CheckConstraint(f"kind IN ({ENTRY_KINDS})", name=op.f("ck_journal_entries_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
    )
    op.create_index(
        "ix_journal_entries_kind_occurred_at", "journal_entries", ["kind", "occurred_at"]
    )
    op.create_index(op.f("ix_journal_entries_occurred_at"), "journal_entries", ["occurred_at"])
    op.create_table(
        "lots",
        sa.Column("id", _id(), nullable=False),
        sa.Column("entry_id", _id(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount_sat", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.CheckConstraint("amount_sat > 0", name=op.f("ck_lots_amount_positive")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_lots_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_lots_entry_id")),
    )
    op.create_index(op.f("ix_lots_acquired_at"), "lots", ["acquired_at"])
    op.create_table(
        "postings",
        sa.Column("id", _id(), nullable=False),
        sa.Column("entry_id", _id(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("amount_sat", sa.BigInteger(), nullable=False),
        sa.Column("value_usd", sa.Numeric(precision=20, scale=2), nullable=True),
        sa.CheckConstraint("amount_sat <> 0", name=op.f("ck_postings_amount_nonzero")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_postings_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_postings_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
    )
    op.create_index(op.f("ix_postings_account_id"), "postings", ["account_id"])
    op.create_index(op.f("ix_postings_entry_id"), "postings", ["entry_id"])


def downgrade() -> None:
    """Drop the four tables."""
    op.drop_index(op.f("ix_postings_entry_id"), table_name="postings")
    op.drop_index(op.f("ix_postings_account_id"), table_name="postings")
    op.drop_table("postings")
    op.drop_index(op.f("ix_lots_acquired_at"), table_name="lots")
    op.drop_table("lots")
    op.drop_index(op.f("ix_journal_entries_occurred_at"), table_name="journal_entries")
    op.drop_index("ix_journal_entries_kind_occurred_at", table_name="journal_entries")
    op.drop_table("journal_entries")
    op.drop_table("accounts")
