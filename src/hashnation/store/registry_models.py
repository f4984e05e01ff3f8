"""ORM schema of the virtual-asset regulator's registry (SQLAlchemy 2 typed mapping).

The tables live on :class:`hashnation.store.models.Base`, so that the Alembic
environment and the schema-vs-migration test see them; migration ``0003``
(``r0003_registry.py``) creates exactly this schema.

``firms``
    One row per legal entity known to the regulator: name, registration number
    (unique), commercial name, LEI (unique when given), address, website, home
    country.
``applications``
    One row per licence application, which becomes the licence once granted:
    licence type, workflow status (the values of
    :class:`hashnation.registry.workflow.Status`), the documents and capital the
    firm declared, conditions attached on approval, and the licence number and
    per-type sequence assigned when the licence is granted.
``decisions``
    Every workflow step of an application: action, status before and after,
    reason, conditions, who decided and when (UTC).
``returns``
    Periodic returns filed under a licence: the period, a version (an amendment of
    the same period is stored as the next version), the validated return as JSON
    and the breaches it showed when filed.
``enforcement_actions``
    Warnings, fines, suspensions and revocations against a licence.
``sandbox_cohorts`` / ``sandbox_participants``
    Regulatory sandbox cohorts with their caps, and the firms admitted to them,
    with their latest reported usage and exit decision.
``api_tokens``
    API tokens: only the SHA-256 of each token is stored, with its role
    (``staff`` or ``firm``), firm and label.
``registry_state``
    One row of counters: ``public_version`` goes up in the transaction of every
    change that can alter the public register, so that readers can cache register
    pages and firm records and know exactly when a cached copy is out of date.
``registry_audit``
    The append-only, hash-chained log of every change made through
    :class:`hashnation.registry.service.Registry`; ``prev_hash`` is unique, so the
    chain cannot fork (:mod:`hashnation.registry.audit` writes and verifies it).

The value lists below (:data:`LICENCE_TYPES`, :data:`APPLICATION_STATUSES`, ...)
repeat those of the domain modules, which this layer does not import; a test
checks that they agree.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
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
    "DECISION_ACTIONS",
    "ENFORCEMENT_KINDS",
    "LICENCE_TYPES",
    "PARTICIPANT_STATUSES",
    "TOKEN_ROLES",
    "ApiToken",
    "Application",
    "AuditEntry",
    "Decision",
    "EnforcementRecord",
    "Firm",
    "PeriodicReturnRecord",
    "RegistryState",
    "SandboxCohort",
    "SandboxParticipant",
]

LICENCE_TYPES = ("exchange", "custodial_wallet", "broker", "stablecoin_issuer", "advisor")
"""Licence types (values of :class:`hashnation.registry.licences.LicenceType`)."""

APPLICATION_STATUSES = (
    "draft",
    "submitted",
    "under_review",
    "information_requested",
    "approved",
    "refused",
    "refusal_appealed",
    "refusal_upheld",
    "licensed",
    "suspended",
    "revoked",
    "revocation_appealed",
    "revocation_upheld",
    "surrendered",
    "withdrawn",
)
"""Workflow statuses (values of :class:`hashnation.registry.workflow.Status`)."""

DECISION_ACTIONS = (
    "submit",
    "withdraw",
    "begin_review",
    "request_information",
    "provide_information",
    "approve",
    "refuse",
    "grant_licence",
    "suspend",
    "reinstate",
    "revoke",
    "surrender",
    "appeal",
    "allow_appeal",
    "dismiss_appeal",
)
"""Workflow actions (values of :class:`hashnation.registry.workflow.Action`)."""

ENFORCEMENT_KINDS = ("warning", "fine", "suspension", "revocation")
"""Enforcement kinds (values of :class:`hashnation.registry.enforcement.EnforcementKind`)."""

PARTICIPANT_STATUSES = ("active", "graduated", "exited")
"""Sandbox participant statuses: testing, left the sandbox for a licence, or made to exit."""

TOKEN_ROLES = ("staff", "firm")
"""Roles an API token can carry (the public needs no token)."""


def _in_list(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Firm(Base):
    """A legal entity known to the regulator."""

    __tablename__ = "firms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    """Legal name of the entity."""
    registration_number: Mapped[str] = mapped_column(String(50), unique=True)
    """Company registration number in the home country (unique)."""
    commercial_name: Mapped[str] = mapped_column(String(200), default="")
    """Trading name, if different from the legal name ("" otherwise)."""
    lei: Mapped[str | None] = mapped_column(String(20), unique=True)
    """ISO 17442 Legal Entity Identifier (20 characters), if the firm has one."""
    address: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    home_country: Mapped[str] = mapped_column(String(2))
    """ISO 3166-1 alpha-2 code of the home country."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the firm was registered, timezone-aware UTC."""

    def __repr__(self) -> str:
        return f"Firm(id={self.id!r}, name={self.name!r})"


class Application(Base):
    """A licence application, and the licence it becomes once granted."""

    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint(_in_list("licence_type", LICENCE_TYPES), name="licence_type"),
        CheckConstraint(_in_list("status", APPLICATION_STATUSES), name="status"),
        UniqueConstraint("licence_type", "licence_sequence", name="uq_applications_sequence"),
        Index("ix_applications_status_licence_type", "status", "licence_type"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), index=True)
    licence_type: Mapped[str] = mapped_column(String(30))
    """One of :data:`LICENCE_TYPES`."""
    status: Mapped[str] = mapped_column(String(30))
    """One of :data:`APPLICATION_STATUSES`."""
    documents: Mapped[list[str]] = mapped_column(JSON)
    """Names of the documents provided (``"business_plan"``, ...)."""
    capital_usd: Mapped[Decimal] = mapped_column(Money())
    """Capital the firm declared, USD."""
    conditions: Mapped[list[str]] = mapped_column(JSON)
    """Conditions attached when the application was approved."""
    licence_number: Mapped[str | None] = mapped_column(String(30), unique=True)
    """Licence number (``"VA-EXC-0007"``), assigned when the licence is granted."""
    licence_sequence: Mapped[int | None] = mapped_column(Integer)
    """Sequence of the licence number within its type (unique per type)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the application was opened, UTC."""
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the application was first submitted, UTC."""
    status_since: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the application entered its current status, UTC."""
    authorised_on: Mapped[date | None] = mapped_column(Date)
    """Day the licence was granted (UTC date), None before."""

    def __repr__(self) -> str:
        return (
            f"Application(id={self.id!r}, firm_id={self.firm_id!r}, "
            f"licence_type={self.licence_type!r}, status={self.status!r})"
        )


class Decision(Base):
    """One workflow step of an application."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint(_in_list("action", DECISION_ACTIONS), name="action"),
        CheckConstraint(_in_list("from_status", APPLICATION_STATUSES), name="from_status"),
        CheckConstraint(_in_list("to_status", APPLICATION_STATUSES), name="to_status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[list[str]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(200))
    """Who decided (the principal's name)."""
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """When, timezone-aware UTC."""

    def __repr__(self) -> str:
        return (
            f"Decision(id={self.id!r}, application_id={self.application_id!r}, "
            f"action={self.action!r})"
        )


class PeriodicReturnRecord(Base):
    """A periodic return filed under a licence (one row per version)."""

    __tablename__ = "returns"
    __table_args__ = (
        UniqueConstraint(
            "application_id", "period_start", "period_end", "version", name="uq_returns_version"
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_returns_application_id_period_end", "application_id", "period_end"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), index=True)
    licence_type: Mapped[str] = mapped_column(String(30))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    """1 for the first filing of the period, then one more per amendment."""
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """When it was filed, timezone-aware UTC."""
    filed_by: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The validated return, in its JSON form."""
    breaches: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    """Breaches the return showed when filed (code, field, detail, severity)."""

    def __repr__(self) -> str:
        return (
            f"PeriodicReturnRecord(id={self.id!r}, application_id={self.application_id!r}, "
            f"period_end={self.period_end!r}, version={self.version!r})"
        )


class EnforcementRecord(Base):
    """A warning, fine, suspension or revocation against a licence."""

    __tablename__ = "enforcement_actions"
    __table_args__ = (
        CheckConstraint(_in_list("kind", ENFORCEMENT_KINDS), name="kind"),
        CheckConstraint("fine_usd IS NULL OR fine_usd > 0", name="fine_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    decided_on: Mapped[date] = mapped_column(Date)
    fine_usd: Mapped[Decimal | None] = mapped_column(Money())
    """Fine imposed, USD (fines only)."""
    breach_codes: Mapped[list[str]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"EnforcementRecord(id={self.id!r}, kind={self.kind!r})"


class SandboxCohort(Base):
    """A regulatory sandbox cohort and its caps."""

    __tablename__ = "sandbox_cohorts"
    __table_args__ = (
        CheckConstraint("max_customers > 0", name="max_customers_positive"),
        CheckConstraint("max_duration_days > 0", name="max_duration_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    opens_on: Mapped[date] = mapped_column(Date)
    max_customers: Mapped[int] = mapped_column(Integer)
    max_volume_usd: Mapped[Decimal] = mapped_column(Money())
    """Cap on the volume a participant may handle, USD."""
    max_duration_days: Mapped[int] = mapped_column(Integer)
    """Days a participant may test for [d]."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"SandboxCohort(id={self.id!r}, code={self.code!r})"


class SandboxParticipant(Base):
    """A firm admitted to a sandbox cohort."""

    __tablename__ = "sandbox_participants"
    __table_args__ = (
        UniqueConstraint("cohort_id", "firm_id", name="uq_sandbox_participants_cohort_firm"),
        CheckConstraint(_in_list("status", PARTICIPANT_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("sandbox_cohorts.id"))
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), index=True)
    product: Mapped[str] = mapped_column(Text)
    """What the firm tests, in words."""
    admitted_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    """Last day of testing (moved by an extension)."""
    status: Mapped[str] = mapped_column(String(20))
    """One of :data:`PARTICIPANT_STATUSES`."""
    usage_as_of: Mapped[date | None] = mapped_column(Date)
    customers: Mapped[int | None] = mapped_column(Integer)
    """Customers at the latest usage report [count]."""
    volume_usd: Mapped[Decimal | None] = mapped_column(Money())
    """Volume at the latest usage report, USD."""
    exit_decision: Mapped[str | None] = mapped_column(String(20))
    """Latest exit decision (graduate, extend, exit)."""
    exit_reason: Mapped[str] = mapped_column(Text, default="")
    decided_on: Mapped[date | None] = mapped_column(Date)

    def __repr__(self) -> str:
        return f"SandboxParticipant(id={self.id!r}, cohort_id={self.cohort_id!r})"


class ApiToken(Base):
    """An API token; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint(_in_list("role", TOKEN_ROLES), name="role"),
        CheckConstraint("(role = 'firm') = (firm_id IS NOT NULL)", name="firm_role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the token text, 64 lowercase hex digits."""
    role: Mapped[str] = mapped_column(String(10))
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firms.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    """Who holds the token, in words; the actor named in the audit log."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"ApiToken(id={self.id!r}, role={self.role!r}, label={self.label!r})"


class AuditEntry(Base):
    """One entry of the registry audit log (append-only, hash-chained)."""

    __tablename__ = "registry_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the entry was recorded, timezone-aware UTC."""
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    """What happened (``"application.approve"``, ``"return.filed"``, ...)."""
    subject: Mapped[str] = mapped_column(String(100), index=True)
    """What it happened to (``"application:12"``)."""
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Details of the change (JSON object)."""
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """``entry_hash`` of the previous entry (64 zeros for the first); unique: no fork."""
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the canonical serialization of this entry's fields and ``prev_hash``."""

    def __repr__(self) -> str:
        return f"AuditEntry(id={self.id!r}, action={self.action!r}, subject={self.subject!r})"


class RegistryState(Base):
    """The registry's counters, in one row (``id`` = 1)."""

    __tablename__ = "registry_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_version: Mapped[int] = mapped_column(BigInteger, default=0)
    """Changes that can alter the public register so far [count]."""

    def __repr__(self) -> str:
        return f"RegistryState(public_version={self.public_version!r})"
