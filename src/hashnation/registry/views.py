"""What the registry service returns: frozen dataclasses, never table rows.

Every method of :class:`hashnation.registry.service.Registry` answers with these
(or with :class:`~hashnation.registry.register.RegisterRow` for the public
register), built inside the method's transaction, so that callers (API, web pages,
CLI) never hold a database session. Times are timezone-aware UTC, days are
:class:`datetime.date`, money is :class:`~decimal.Decimal` USD.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from hashnation.registry.breaches import Breach
from hashnation.registry.enforcement import EnforcementKind
from hashnation.registry.licences import LicenceType
from hashnation.registry.sandbox import ExitDecision
from hashnation.registry.workflow import Action, Status

__all__ = [
    "ApplicationView",
    "AuditCheck",
    "AuditEntryView",
    "CohortView",
    "DecisionView",
    "EnforcementView",
    "FirmRecord",
    "FirmView",
    "LateFiling",
    "ParticipantView",
    "ReturnView",
    "TokenView",
]


@dataclass(frozen=True)
class FirmView:
    """A firm known to the regulator.

    Attributes
    ----------
    id
        The firm's id.
    name
        Legal name.
    registration_number
        Company registration number (unique).
    commercial_name
        Trading name ("" when none).
    lei
        Legal Entity Identifier (20 characters), if any.
    address
        Registered address.
    website
        Website address.
    home_country
        ISO 3166-1 alpha-2 code.
    created_at
        When the firm was registered, UTC.
    """

    id: int
    name: str
    registration_number: str
    commercial_name: str
    lei: str | None
    address: str
    website: str
    home_country: str
    created_at: datetime


@dataclass(frozen=True)
class ApplicationView:
    """A licence application, or the licence it became.

    Attributes
    ----------
    id
        The application's id.
    firm_id
        The firm's id.
    firm_name
        The firm's legal name.
    licence_type
        Licence type applied for.
    status
        Current workflow status.
    licence_number
        Licence number (``VA-EXC-0007``) once granted, else None.
    conditions
        Conditions attached on approval.
    documents
        Documents provided.
    capital_usd
        Capital declared [USD].
    submitted_at
        When first submitted, UTC (None for a draft).
    status_since
        When the current status began, UTC.
    allowed_actions
        Actions the workflow allows in the current status (whoever may take them).
    created_at
        When the application was opened, UTC.
    authorised_on
        Day the licence was granted, None before.
    """

    id: int
    firm_id: int
    firm_name: str
    licence_type: LicenceType
    status: Status
    licence_number: str | None
    conditions: tuple[str, ...]
    documents: tuple[str, ...]
    capital_usd: Decimal
    submitted_at: datetime | None
    status_since: datetime
    allowed_actions: tuple[Action, ...]
    created_at: datetime
    authorised_on: date | None


@dataclass(frozen=True)
class DecisionView:
    """One workflow step of an application.

    Attributes
    ----------
    id
        The decision's id.
    application_id
        The application's id.
    action
        Action taken.
    from_status, to_status
        Status before and after.
    reason
        Why ("" when the action needs no reason).
    conditions
        Conditions attached (approvals only).
    actor
        Who took it.
    decided_at
        When, UTC.
    """

    id: int
    application_id: int
    action: Action
    from_status: Status
    to_status: Status
    reason: str
    conditions: tuple[str, ...]
    actor: str
    decided_at: datetime


@dataclass(frozen=True)
class ReturnView:
    """One version of a periodic return.

    Attributes
    ----------
    id
        The return's id.
    application_id
        The licence (application) it was filed under.
    firm_id
        The firm's id.
    licence_type
        The licence's type.
    period_start, period_end
        First and last day of the period.
    version
        1 for the first filing of the period, one more per amendment.
    filed_at
        When filed, UTC.
    filed_by
        Who filed it.
    payload
        The validated return in its JSON form (amounts as decimal strings).
    breaches
        Breaches the return showed when filed.
    """

    id: int
    application_id: int
    firm_id: int
    licence_type: LicenceType
    period_start: date
    period_end: date
    version: int
    filed_at: datetime
    filed_by: str
    payload: dict[str, Any]
    breaches: list[Breach]


@dataclass(frozen=True)
class EnforcementView:
    """A warning, fine, suspension or revocation.

    Attributes
    ----------
    id
        The action's id.
    application_id
        The licence (application) it concerns.
    firm_id
        The firm's id.
    kind
        Warning, fine, suspension or revocation.
    reason
        Why, in words.
    decided_on
        Day of the decision.
    fine_usd
        Fine imposed [USD] (fines only).
    breach_codes
        Breaches cited.
    actor
        Who decided.
    recorded_at
        When recorded, UTC.
    """

    id: int
    application_id: int
    firm_id: int
    kind: EnforcementKind
    reason: str
    decided_on: date
    fine_usd: Decimal | None
    breach_codes: tuple[str, ...]
    actor: str
    recorded_at: datetime


@dataclass(frozen=True)
class CohortView:
    """A sandbox cohort.

    Attributes
    ----------
    id
        The cohort's id.
    code
        Short identifier (unique).
    name
        Name in words.
    opens_on
        First day participants may operate.
    closes_on
        Last day of the cohort (``opens_on + max_duration_days``).
    max_customers
        Cap on customers per participant [customers].
    max_volume_usd
        Cap on volume per participant [USD].
    max_duration_days
        Testing period [days].
    participants
        Firms admitted [count].
    """

    id: int
    code: str
    name: str
    opens_on: date
    closes_on: date
    max_customers: int
    max_volume_usd: Decimal
    max_duration_days: int
    participants: int


@dataclass(frozen=True)
class ParticipantView:
    """A firm in a sandbox cohort.

    Attributes
    ----------
    id
        The participant's id.
    cohort_id, cohort_code
        Its cohort.
    firm_id, firm_name
        The firm.
    product
        What the firm tests.
    admitted_on
        Day admitted.
    closes_on
        Its last day of testing (moved by an extension).
    status
        ``active``, ``graduated`` or ``exited``.
    usage_as_of
        Day of the latest usage report (None before the first).
    customers
        Customers at that report [customers].
    volume_usd
        Cumulative volume at that report [USD].
    breaches
        Caps the latest usage exceeds.
    exit_decision
        Latest exit decision (None before any).
    exit_reason
        Its reason ("" before any).
    decided_on
        Day of that decision.
    """

    id: int
    cohort_id: int
    cohort_code: str
    firm_id: int
    firm_name: str
    product: str
    admitted_on: date
    closes_on: date
    status: Literal["active", "graduated", "exited"]
    usage_as_of: date | None
    customers: int | None
    volume_usd: Decimal | None
    breaches: list[Breach]
    exit_decision: ExitDecision | None
    exit_reason: str
    decided_on: date | None


@dataclass(frozen=True)
class LateFiling:
    """A return filed after its due day, or due and not filed.

    Attributes
    ----------
    application_id
        The licence (application).
    firm_id, firm_name
        The firm.
    licence_number
        The licence's number.
    licence_type
        The licence's type.
    period_start, period_end
        The period.
    due_on
        Day the return was due.
    filed_on
        Day first filed (None when not filed).
    state
        ``late`` (not filed) or ``filed_late``.
    breach
        The breach it amounts to (``missing_return`` or ``late_return``).
    """

    application_id: int
    firm_id: int
    firm_name: str
    licence_number: str | None
    licence_type: LicenceType
    period_start: date
    period_end: date
    due_on: date
    filed_on: date | None
    state: Literal["late", "filed_late"]
    breach: Breach


@dataclass(frozen=True)
class FirmRecord:
    """The public record of one firm.

    Attributes
    ----------
    firm
        The firm.
    licences
        Its licences on the public register (public statuses only), oldest first.
    decisions
        The workflow steps of those licences, oldest first.
    enforcement
        Enforcement actions against those licences, oldest first.
    """

    firm: FirmView
    licences: list[ApplicationView]
    decisions: list[DecisionView]
    enforcement: list[EnforcementView]


@dataclass(frozen=True)
class TokenView:
    """An API token (never its text).

    Attributes
    ----------
    id
        The token's id.
    role
        ``staff`` or ``firm``.
    firm_id
        The firm (firm tokens only).
    label
        Who holds it; the actor named in the audit log.
    created_at
        When issued, UTC.
    revoked_at
        When revoked, UTC (None while valid).
    """

    id: int
    role: Literal["staff", "firm"]
    firm_id: int | None
    label: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class AuditEntryView:
    """One entry of the registry audit log.

    Attributes
    ----------
    id
        Row id; entries are chained in id order.
    recorded_at
        When recorded, UTC.
    actor
        Who made the change.
    action
        What happened (``application.approve``).
    subject
        What it happened to (``application:12``).
    payload
        Details (JSON object).
    prev_hash
        Hash of the previous entry (64 zeros for the first).
    entry_hash
        SHA-256 of this entry's canonical serialization.
    """

    id: int
    recorded_at: datetime
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    entry_hash: str


@dataclass(frozen=True)
class AuditCheck:
    """Result of verifying the audit log.

    Attributes
    ----------
    entries
        Entries checked [count].
    head_hash
        Hash of the last entry (64 zeros for an empty log): publish it to detect a
        later truncation.
    """

    entries: int
    head_hash: str
