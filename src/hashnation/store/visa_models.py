"""ORM schema of the investor-residency visa programme (SQLAlchemy 2 typed mapping).

The tables live on :class:`hashnation.store.models.Base`; migration ``0004``
(``r0004_visa.py``) creates exactly this schema.

``visa_programme``
    One row: the programme's watch-only descriptor, its terms
    (:class:`hashnation.visa.rules.VisaRules`), the ledger accounts the fees go to,
    and the next unused receive and change indices of the descriptor.
``visa_applications``
    One row per application: a public reference, the applicant, an optional refund
    address, the KYC status and the application status.
``visa_invoices``
    One row per invoice: its descriptor index and address (both unique, never
    reused), the amount due and the terms it was issued under, its validity, its
    settlement and the ledger entry of the fee.
``visa_payments``
    One row per output seen paying an invoice's address: amount, confirming block,
    the payer's address, its outcome (:class:`hashnation.visa.rules.Outcome`), the
    parts kept and owed back, and the refund PSBT once built.

Amounts are integer satoshis (``BIGINT``); money is ``Decimal`` USD.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hashnation.store.models import Base, BigId
from hashnation.store.types import Money, UTCDateTime

__all__ = [
    "APPLICATION_STATUSES",
    "INVOICE_STATUSES",
    "KYC_STATUSES",
    "PAYMENT_OUTCOMES",
    "VisaApplication",
    "VisaInvoice",
    "VisaPayment",
    "VisaProgrammeRow",
]

KYC_STATUSES = ("pending", "cleared", "rejected")
"""KYC statuses (as :data:`hashnation.visa.rules.KYC_STATUSES`)."""

APPLICATION_STATUSES = ("applied", "awaiting_payment", "paid", "approved", "refused")
"""Application statuses."""

INVOICE_STATUSES = ("awaiting_payment", "paid", "expired")
"""Invoice states (as :class:`hashnation.visa.rules.InvoiceState`)."""

PAYMENT_OUTCOMES = (
    "pending",
    "partial",
    "accepted",
    "overpaid",
    "refund_duplicate",
    "refund_late",
    "refund_expired",
)
"""Payment outcomes (as :class:`hashnation.visa.rules.Outcome`)."""


def _in_list(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class VisaProgrammeRow(Base):
    """The programme's descriptor, terms and index counters (one row, id 1)."""

    __tablename__ = "visa_programme"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    descriptor: Mapped[str] = mapped_column(Text)
    """Watch-only descriptor (public keys only), ``/<0;1>/*``."""
    network: Mapped[str] = mapped_column(String(4))
    """``main`` or ``test``."""
    amount_sat: Mapped[int | None] = mapped_column(BigInteger)
    """Fee per visa [sat], when stated in sat."""
    amount_usd: Mapped[Decimal | None] = mapped_column(Money())
    """Fee per visa [USD], when stated in USD."""
    price_usd_per_btc: Mapped[Decimal] = mapped_column(Money())
    """Stated price [USD/BTC]."""
    invoice_validity_hours: Mapped[int] = mapped_column(Integer)
    confirmations_required: Mapped[int] = mapped_column(Integer)
    yearly_quota: Mapped[int] = mapped_column(Integer)
    tolerance_sat: Mapped[int] = mapped_column(BigInteger)
    custody_account: Mapped[str] = mapped_column(String(100))
    """Ledger custody account receiving the fees."""
    income_account: Mapped[str] = mapped_column(String(100))
    """Ledger income account the fees are credited to."""
    next_index: Mapped[int] = mapped_column(BigInteger)
    """Next unused receive index."""
    next_change_index: Mapped[int] = mapped_column(BigInteger)
    """Next unused change index (refund change)."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VisaApplication(Base):
    """An application for an investor-residency visa."""

    __tablename__ = "visa_applications"
    __table_args__ = (
        CheckConstraint(_in_list("kyc_status", KYC_STATUSES), name="kyc_status"),
        CheckConstraint(_in_list("status", APPLICATION_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    """Public reference the applicant looks the application up by."""
    applicant_name: Mapped[str] = mapped_column(String(200))
    nationality: Mapped[str] = mapped_column(String(2))
    """ISO 3166-1 alpha-2 code."""
    refund_address: Mapped[str | None] = mapped_column(String(100))
    """Where refunds go; the payer's address when None."""
    kyc_status: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_since: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_year: Mapped[int | None] = mapped_column(Integer, index=True)
    """Calendar year (UTC) of the approval: the quota it counts against."""


class VisaInvoice(Base):
    """A BTC invoice of an application."""

    __tablename__ = "visa_invoices"
    __table_args__ = (CheckConstraint(_in_list("status", INVOICE_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("visa_applications.id"), index=True)
    derivation_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    address: Mapped[str] = mapped_column(String(100), unique=True)
    script_pubkey_hex: Mapped[str] = mapped_column(String(140))
    amount_sat: Mapped[int] = mapped_column(BigInteger)
    """Amount due [sat]."""
    price_usd_per_btc: Mapped[Decimal] = mapped_column(Money())
    tolerance_sat: Mapped[int] = mapped_column(BigInteger)
    confirmations_required: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))
    received_sat: Mapped[int] = mapped_column(BigInteger)
    """Sum counted towards the fee [sat]."""
    shortfall_sat: Mapped[int] = mapped_column(BigInteger)
    scanned_height: Mapped[int | None] = mapped_column(Integer)
    """Height of the latest scan that settled it."""
    paid_txid: Mapped[str | None] = mapped_column(String(64))
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))


class VisaPayment(Base):
    """An output seen paying an invoice's address."""

    __tablename__ = "visa_payments"
    __table_args__ = (
        UniqueConstraint("txid", "vout", name="uq_visa_payments_txid_vout"),
        CheckConstraint(_in_list("outcome", PAYMENT_OUTCOMES), name="outcome"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("visa_invoices.id"), index=True)
    txid: Mapped[str] = mapped_column(String(64))
    vout: Mapped[int] = mapped_column(Integer)
    value_sat: Mapped[int] = mapped_column(BigInteger)
    height: Mapped[int] = mapped_column(Integer)
    block_time: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmations: Mapped[int] = mapped_column(Integer)
    payer_address: Mapped[str | None] = mapped_column(String(100))
    funding_tx_hex: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(20))
    kept_sat: Mapped[int] = mapped_column(BigInteger)
    refund_sat: Mapped[int] = mapped_column(BigInteger)
    refund_psbt: Mapped[str | None] = mapped_column(Text)
    """Unsigned refund PSBT, base64."""
    refund_spend_id: Mapped[str | None] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
