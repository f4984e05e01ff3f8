"""ORM schema of the reserve ledger (SQLAlchemy 2 typed mapping).

The ledger tables below, and the custody approvals log; the Alembic migrations in
``hashnation/store/migrations`` create exactly this schema (a test compares the two).
The registry tables of the regulator pillar (``firms``, ``applications``,
``decisions``, ``returns``, ``enforcement_actions``, ``sandbox_cohorts``,
``sandbox_participants``, ``api_tokens``, ``registry_audit``) are defined in
:mod:`hashnation.store.registry_models` on the same :class:`Base`, imported at the
end of this module so that the metadata is always complete.

``accounts``
    One row per account: a custody address or wallet of the reserve, another
    government wallet, an external counterparty, or an income, expense or equity
    account. ``type`` is one of :data:`ACCOUNT_TYPES`. ``balance_sat`` and
    ``balance_at`` cache the balance and the time of the latest entry, so that
    the no-negative-holdings rule costs O(1) for an entry recorded in time order.
``journal_entries``
    One row per double-entry journal entry: when it happened (UTC), its
    ``kind`` (one of :data:`ENTRY_KINDS`), a memo and its evidence (JSON object
    of text values: trade reference, txid, ...).
``postings``
    The lines of an entry: an account, a signed amount in satoshis (``> 0``
    received by the account) and, when the entry is valued, the USD value of
    the line (``NUMERIC(20, 2)``). The postings of an entry sum to zero.
``lots``
    One acquisition lot per entry that brings bitcoin into the reserve's
    custody from outside (purchase, consolidation, mining, visa payment,
    donation): satoshis received and their cost basis in USD. Cost basis
    methods (FIFO, average cost) consume these lots in time order.
``custody_approvals``
    The append-only, hash-chained log of what happened to each spend of the
    reserve's multisig custody (PSBT created, imported, signed by a cosigner,
    combined, finalized, extracted): who, when (UTC), the SHA-256 of the PSBT,
    and the hash of the previous entry. :mod:`hashnation.reserve.approvals`
    writes and verifies it; ``prev_hash`` is unique, so the chain cannot fork.

Amounts are integer satoshis (``BIGINT``); money is ``Decimal`` USD.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from hashnation.store.types import Money, UTCDateTime

__all__ = [
    "ACCOUNT_TYPES",
    "APPROVAL_ACTIONS",
    "ENTRY_KINDS",
    "Account",
    "Base",
    "CustodyApproval",
    "JournalEntry",
    "Lot",
    "Posting",
]

ACCOUNT_TYPES = ("custody", "government", "counterparty", "income", "expense", "equity")
"""Account types. ``custody``: an address or wallet held by the reserve;
``government``: a wallet of another part of the government (outside the reserve);
``counterparty``: an exchange, broker, donor or payer outside the government."""

ENTRY_KINDS = (
    "purchase",
    "sale",
    "consolidation",
    "mining",
    "visa_payment",
    "donation",
    "transfer",
    "fee",
)
"""Journal entry kinds; :mod:`hashnation.reserve.ledger` holds the rules of each."""

APPROVAL_ACTIONS = ("created", "imported", "signed-by", "combined", "finalized", "extracted")
"""Actions of the custody approvals log, in the order a spend usually goes through them."""

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT keys on PostgreSQL; SQLite only auto-numbers an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _in_list(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    """Declarative base of the ledger schema."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


class Account(Base):
    """An account of the ledger."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint(_in_list("type", ACCOUNT_TYPES), name="type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    """Unique name used in CSV files and in the API (``"cold-1"``)."""
    type: Mapped[str] = mapped_column(String(20))
    """One of :data:`ACCOUNT_TYPES`."""
    reference: Mapped[str | None] = mapped_column(String(200))
    """Address, wallet identifier or counterparty reference, if any."""
    description: Mapped[str] = mapped_column(Text, default="")
    balance_sat: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    """Balance after all postings [sat], kept by :mod:`hashnation.reserve.ledger`."""
    balance_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Time of the latest entry on the account (None before the first)."""

    postings: Mapped[list[Posting]] = relationship(back_populates="account")

    def __repr__(self) -> str:
        return f"Account(id={self.id!r}, name={self.name!r}, type={self.type!r})"


class JournalEntry(Base):
    """A double-entry journal entry."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        CheckConstraint(_in_list("kind", ENTRY_KINDS), name="kind"),
        Index("ix_journal_entries_kind_occurred_at", "kind", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    """When the entry happened, timezone-aware UTC."""
    kind: Mapped[str] = mapped_column(String(20))
    """One of :data:`ENTRY_KINDS`."""
    memo: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Evidence fields of the kind (text values)."""

    postings: Mapped[list[Posting]] = relationship(
        back_populates="entry", order_by="Posting.id", cascade="all, delete-orphan"
    )
    lot: Mapped[Lot | None] = relationship(back_populates="entry", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"JournalEntry(id={self.id!r}, kind={self.kind!r}, occurred_at={self.occurred_at!r})"


class Posting(Base):
    """One line of a journal entry."""

    __tablename__ = "postings"
    __table_args__ = (CheckConstraint("amount_sat <> 0", name="amount_nonzero"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount_sat: Mapped[int] = mapped_column(BigInteger)
    """Signed amount, sat: ``> 0`` received by the account, ``< 0`` sent."""
    value_usd: Mapped[Decimal | None] = mapped_column(Money())
    """USD value of the line (same sign as ``amount_sat``), or None if unvalued."""

    entry: Mapped[JournalEntry] = relationship(back_populates="postings")
    account: Mapped[Account] = relationship(back_populates="postings")

    def __repr__(self) -> str:
        return (
            f"Posting(entry_id={self.entry_id!r}, account_id={self.account_id!r}, "
            f"amount_sat={self.amount_sat!r}, value_usd={self.value_usd!r})"
        )


class Lot(Base):
    """An acquisition lot: bitcoin that entered the reserve's custody, at a cost."""

    __tablename__ = "lots"
    __table_args__ = (CheckConstraint("amount_sat > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    """Time of the entry, UTC."""
    amount_sat: Mapped[int] = mapped_column(BigInteger)
    """Satoshis received into custody."""
    cost_usd: Mapped[Decimal] = mapped_column(Money())
    """Cost basis of the lot, USD."""

    entry: Mapped[JournalEntry] = relationship(back_populates="lot")

    def __repr__(self) -> str:
        return (
            f"Lot(entry_id={self.entry_id!r}, amount_sat={self.amount_sat!r}, "
            f"cost_usd={self.cost_usd!r})"
        )


class CustodyApproval(Base):
    """One entry of the custody approvals log (append-only, hash-chained)."""

    __tablename__ = "custody_approvals"
    __table_args__ = (CheckConstraint(_in_list("action", APPROVAL_ACTIONS), name="action"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    spend_id: Mapped[str] = mapped_column(String(64), index=True)
    """Id of the spend's unsigned transaction (hex, display order)."""
    action: Mapped[str] = mapped_column(String(20))
    """One of :data:`APPROVAL_ACTIONS`."""
    actor: Mapped[str] = mapped_column(String(200))
    """Who acted: an operator's name, or a cosigner's master fingerprint for ``signed-by``."""
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the entry was recorded, timezone-aware UTC."""
    psbt_sha256: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the serialized PSBT the action produced or received, hex."""
    note: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    """Free text: signed inputs, files combined, the extracted txid."""
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """``entry_hash`` of the previous entry (64 zeros for the first); unique: no fork."""
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the canonical serialization of this entry's fields and ``prev_hash``."""

    def __repr__(self) -> str:
        return (
            f"CustodyApproval(id={self.id!r}, spend_id={self.spend_id!r}, "
            f"action={self.action!r}, actor={self.actor!r})"
        )


# The registry, visa and records tables share this Base; importing them here keeps
# Base.metadata complete for Alembic and for every caller that imports only this module.
from hashnation.store import records_models as records_models  # noqa: E402
from hashnation.store import registry_models as registry_models  # noqa: E402
from hashnation.store import visa_models as visa_models  # noqa: E402
