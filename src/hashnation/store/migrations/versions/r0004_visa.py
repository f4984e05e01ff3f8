"""Create the investor-residency visa programme: programme, applications, invoices, payments.

Tables: ``visa_programme`` (one row: descriptor, terms, index counters),
``visa_applications``, ``visa_invoices`` (unique descriptor index and address) and
``visa_payments`` (unique ``txid``/``vout``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KYC_STATUSES = "'pending', 'cleared', 'rejected'"
APPLICATION_STATUSES = "'applied', 'awaiting_payment', 'paid', 'approved', 'refused'"
INVOICE_STATUSES = "'awaiting_payment', 'paid', 'expired'"
PAYMENT_OUTCOMES = (
    "'pending', 'partial', 'accepted', 'overpaid', 'refund_duplicate', 'refund_late', "
    "'refund_expired'"
)


def _id() -> sa.types.TypeEngine[int]:
    # BIGINT keys on PostgreSQL; SQLite only auto-numbers an INTEGER PRIMARY KEY.
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _money() -> sa.Numeric[Decimal]:
    return sa.Numeric(precision=20, scale=2)


def upgrade() -> None:
    """Create the visa programme's tables and their indexes."""
    op.create_table(
        "visa_programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("descriptor", sa.Text(), nullable=False),
        sa.Column("network", sa.String(length=4), nullable=False),
        sa.Column("amount_sat", sa.BigInteger(), nullable=True),
        sa.Column("amount_usd", _money(), nullable=True),
        sa.Column("price_usd_per_btc", _money(), nullable=False),
        sa.Column("invoice_validity_hours", sa.Integer(), nullable=False),
        sa.Column("confirmations_required", sa.Integer(), nullable=False),
        sa.Column("yearly_quota", sa.Integer(), nullable=False),
        sa.Column("tolerance_sat", sa.BigInteger(), nullable=False),
        sa.Column("custody_account", sa.String(length=100), nullable=False),
        sa.Column("income_account", sa.String(length=100), nullable=False),
        sa.Column("next_index", sa.BigInteger(), nullable=False),
        sa.Column("next_change_index", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visa_programme")),
    )
    op.create_table(
        "visa_applications",
        sa.Column("id", _id(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("applicant_name", sa.String(length=200), nullable=False),
        sa.Column("nationality", sa.String(length=2), nullable=False),
        sa.Column("refund_address", sa.String(length=100), nullable=True),
        sa.Column("kyc_status", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("status_since", _time(), nullable=False),
        sa.Column("approved_year", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            f"kyc_status IN ({KYC_STATUSES})", name=op.f("ck_visa_applications_kyc_status")
        ),
        sa.CheckConstraint(
            f"status IN ({APPLICATION_STATUSES})", name=op.f("ck_visa_applications_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visa_applications")),
        sa.UniqueConstraint("reference", name=op.f("uq_visa_applications_reference")),
    )
    op.create_index(op.f("ix_visa_applications_status"), "visa_applications", ["status"])
    op.create_index(
        op.f("ix_visa_applications_approved_year"), "visa_applications", ["approved_year"]
    )
    op.create_table(
        "visa_invoices",
        sa.Column("id", _id(), nullable=False),
        sa.Column("application_id", _id(), nullable=False),
        sa.Column("derivation_index", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(length=100), nullable=False),
        sa.Column("script_pubkey_hex", sa.String(length=140), nullable=False),
        sa.Column("amount_sat", sa.BigInteger(), nullable=False),
        sa.Column("price_usd_per_btc", _money(), nullable=False),
        sa.Column("tolerance_sat", sa.BigInteger(), nullable=False),
        sa.Column("confirmations_required", sa.Integer(), nullable=False),
        sa.Column("issued_at", _time(), nullable=False),
        sa.Column("expires_at", _time(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("received_sat", sa.BigInteger(), nullable=False),
        sa.Column("shortfall_sat", sa.BigInteger(), nullable=False),
        sa.Column("scanned_height", sa.Integer(), nullable=True),
        sa.Column("paid_txid", sa.String(length=64), nullable=True),
        sa.Column("ledger_entry_id", _id(), nullable=True),
        sa.CheckConstraint(f"status IN ({INVOICE_STATUSES})", name=op.f("ck_visa_invoices_status")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["visa_applications.id"],
            name=op.f("fk_visa_invoices_application_id_visa_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_visa_invoices_ledger_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visa_invoices")),
        sa.UniqueConstraint("address", name=op.f("uq_visa_invoices_address")),
        sa.UniqueConstraint("derivation_index", name=op.f("uq_visa_invoices_derivation_index")),
    )
    op.create_index(op.f("ix_visa_invoices_application_id"), "visa_invoices", ["application_id"])
    op.create_table(
        "visa_payments",
        sa.Column("id", _id(), nullable=False),
        sa.Column("invoice_id", _id(), nullable=False),
        sa.Column("txid", sa.String(length=64), nullable=False),
        sa.Column("vout", sa.Integer(), nullable=False),
        sa.Column("value_sat", sa.BigInteger(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("block_time", _time(), nullable=False),
        sa.Column("confirmations", sa.Integer(), nullable=False),
        sa.Column("payer_address", sa.String(length=100), nullable=True),
        sa.Column("funding_tx_hex", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("kept_sat", sa.BigInteger(), nullable=False),
        sa.Column("refund_sat", sa.BigInteger(), nullable=False),
        sa.Column("refund_psbt", sa.Text(), nullable=True),
        sa.Column("refund_spend_id", sa.String(length=64), nullable=True),
        sa.Column("first_seen_at", _time(), nullable=False),
        sa.CheckConstraint(
            f"outcome IN ({PAYMENT_OUTCOMES})", name=op.f("ck_visa_payments_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["visa_invoices.id"],
            name=op.f("fk_visa_payments_invoice_id_visa_invoices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visa_payments")),
        sa.UniqueConstraint("txid", "vout", name="uq_visa_payments_txid_vout"),
    )
    op.create_index(op.f("ix_visa_payments_invoice_id"), "visa_payments", ["invoice_id"])


def downgrade() -> None:
    """Drop the visa programme's tables."""
    op.drop_index(op.f("ix_visa_payments_invoice_id"), table_name="visa_payments")
    op.drop_table("visa_payments")
    op.drop_index(op.f("ix_visa_invoices_application_id"), table_name="visa_invoices")
    op.drop_table("visa_invoices")
    op.drop_index(op.f("ix_visa_applications_approved_year"), table_name="visa_applications")
    op.drop_index(op.f("ix_visa_applications_status"), table_name="visa_applications")
    op.drop_table("visa_applications")
    op.drop_table("visa_programme")
