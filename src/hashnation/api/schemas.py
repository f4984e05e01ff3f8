"""Request and response bodies of the registry API (pydantic v2).

One model per direction, as in the FastAPI project template: ``...In`` models are
request bodies (unknown fields refused), ``...Out`` models mirror the frozen views of
:mod:`hashnation.registry.views` and are built from them with
``Model.model_validate(view)`` (attributes are read, so a view is never copied by
hand). In JSON, money (:class:`~decimal.Decimal`, USD) is a decimal string, days are
``YYYY-MM-DD`` and times ISO 8601 with their UTC offset.

A periodic return has no request model here on purpose: its body is taken as plain
JSON and validated by :func:`hashnation.registry.returns.parse_return`, so that a
bad return is refused with the one-line message naming the field, the value and
what was expected (:func:`periodic_return_schema` documents the body instead).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from hashnation.registry.enforcement import EnforcementKind
from hashnation.registry.licences import LicenceType
from hashnation.registry.returns import PeriodicReturn
from hashnation.registry.sandbox import ExitDecision
from hashnation.registry.workflow import Action, Status

__all__ = [
    "ActionIn",
    "AdmitIn",
    "ApplicationIn",
    "ApplicationOut",
    "AuditBrokenOut",
    "AuditCheckOut",
    "AuditEntryOut",
    "AuditPage",
    "BreachOut",
    "CohortIn",
    "CohortOut",
    "DecisionOut",
    "EnforcementIn",
    "EnforcementOut",
    "ErrorOut",
    "ExitIn",
    "FirmIn",
    "FirmOut",
    "FirmRecordOut",
    "IssuedTokenOut",
    "LateFilingOut",
    "ParticipantOut",
    "RegisterEntryOut",
    "RegisterExportOut",
    "RegisterPage",
    "RegisterRowOut",
    "ReturnOut",
    "TokenIn",
    "TokenOut",
    "UsageIn",
    "ValidationErrorOut",
    "periodic_return_schema",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# ---------------------------------------------------------------- errors


class ErrorOut(BaseModel):
    """An error: one line naming the field, the value and what was expected.

    Attributes
    ----------
    detail
        The message (``capital_usd: got '10', expected at least 1000000 [USD]``).
    """

    detail: str


class ValidationErrorOut(BaseModel):
    """A request of the wrong shape, refused before any rule is checked (FastAPI's 422).

    Attributes
    ----------
    detail
        One object per error: ``loc`` (where: ``["path", "application_id"]``), ``msg``,
        ``type`` and the ``input`` received (a private key is never repeated).
    """

    detail: list[dict[str, Any]]


class AuditBrokenOut(ErrorOut):
    """The audit log does not verify.

    Attributes
    ----------
    entry_id
        Id of the first entry that does not verify (None when the log as a whole is
        at fault, e.g. a published head hash is not in it).
    """

    entry_id: int | None


# ---------------------------------------------------------------- shared parts


class BreachOut(_Out):
    """A rule not met.

    Attributes
    ----------
    code
        Kind of breach (``capital_below_minimum``, ``late_return``, ...).
    field
        The field at fault.
    detail
        One line in words, with the figures.
    severity
        ``minor`` or ``major``.
    """

    code: str
    field: str
    detail: str
    severity: Literal["minor", "major"]


# ---------------------------------------------------------------- firms


class FirmIn(_In):
    """A firm to register.

    Attributes
    ----------
    name
        Legal name (1-200 characters).
    registration_number
        Company registration number (1-50 characters, unique).
    commercial_name
        Trading name, if different.
    lei
        ISO 17442 Legal Entity Identifier (20 characters), if any.
    address
        Registered address.
    website
        Website address.
    """

    name: str
    registration_number: str
    commercial_name: str = ""
    lei: str | None = None
    address: str = ""
    website: str = ""


class FirmOut(_Out):
    """A firm known to the regulator.

    Attributes
    ----------
    id
        The firm's id.
    name
        Legal name.
    registration_number
        Company registration number.
    commercial_name
        Trading name ("" when none).
    lei
        Legal Entity Identifier, if any.
    address
        Registered address.
    website
        Website address.
    home_country
        ISO 3166-1 alpha-2 code.
    created_at
        When registered, UTC.
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


# ---------------------------------------------------------------- applications


class ApplicationIn(_In):
    """A licence application to open (in ``draft``).

    Attributes
    ----------
    firm_id
        The applying firm; a firm's token may leave it out (its own firm), staff
        must name it.
    licence_type
        Licence type applied for.
    documents
        Names of the documents provided; every required one must be there.
    capital_usd
        Capital held, at least the licence type's minimum [USD].
    """

    firm_id: int | None = None
    licence_type: LicenceType
    documents: list[str]
    capital_usd: Decimal


class ApplicationOut(_Out):
    """A licence application, or the licence it became.

    Attributes
    ----------
    id
        The application's id.
    firm_id, firm_name
        The firm.
    licence_type
        Licence type.
    status
        Current workflow status.
    licence_number
        Licence number (``VA-EXC-0007``) once granted.
    conditions
        Conditions attached on approval.
    documents
        Documents provided.
    capital_usd
        Capital declared [USD].
    submitted_at
        When first submitted, UTC.
    status_since
        When the current status began, UTC.
    allowed_actions
        Actions the workflow allows now (whoever may take them).
    created_at
        When opened, UTC.
    authorised_on
        Day the licence was granted.
    """

    id: int
    firm_id: int
    firm_name: str
    licence_type: LicenceType
    status: Status
    licence_number: str | None
    conditions: list[str]
    documents: list[str]
    capital_usd: Decimal
    submitted_at: datetime | None
    status_since: datetime
    allowed_actions: list[Action]
    created_at: datetime
    authorised_on: date | None


class ActionIn(_In):
    """A workflow action on an application or licence.

    Attributes
    ----------
    action
        The action; firms take submit, withdraw, provide_information, appeal and
        surrender on their own applications, staff the others.
    reason
        Why; required for request_information, refuse, suspend, reinstate, revoke,
        allow_appeal and dismiss_appeal.
    conditions
        Conditions attached to an approval (approve only).
    """

    action: Action
    reason: str = ""
    conditions: list[str] = Field(default_factory=list)


class DecisionOut(_Out):
    """One workflow step of an application.

    Attributes
    ----------
    id
        The decision's id.
    application_id
        The application.
    action
        Action taken.
    from_status, to_status
        Status before and after.
    reason
        Why ("" when none was needed).
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
    conditions: list[str]
    actor: str
    decided_at: datetime


# ---------------------------------------------------------------- returns


class ReturnOut(_Out):
    """One version of a periodic return.

    Attributes
    ----------
    id
        The return's id.
    application_id
        The licence it was filed under.
    firm_id
        The firm.
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
        The validated return (amounts as decimal strings).
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
    breaches: list[BreachOut]


class LateFilingOut(_Out):
    """A return due and not filed, or filed after its due day.

    Attributes
    ----------
    application_id
        The licence.
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
    breach: BreachOut


_RETURN_ADAPTER: TypeAdapter[Any] = TypeAdapter(PeriodicReturn)


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline(value, defs) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    return node


def periodic_return_schema() -> dict[str, Any]:
    """JSON Schema of a periodic return of any licence type, without references.

    The schema pydantic writes for :data:`~hashnation.registry.returns.PeriodicReturn`
    (one alternative per licence type), with its ``$defs`` written in place so it can
    sit inside an OpenAPI operation; the discriminator mapping, which needs
    references, is dropped (``licence_type`` still tells the alternatives apart).

    Returns
    -------
    dict
        A JSON Schema object.
    """
    schema = _RETURN_ADAPTER.json_schema(mode="validation")
    defs = schema.get("$defs", {})
    inlined: dict[str, Any] = _inline(schema, defs)
    inlined.pop("discriminator", None)
    inlined["title"] = "PeriodicReturn"
    return inlined


# ---------------------------------------------------------------- enforcement


class EnforcementIn(_In):
    """An enforcement action to take against a licence.

    Attributes
    ----------
    kind
        ``warning``, ``fine``, ``suspension`` (also suspends the licence) or
        ``revocation`` (also revokes it).
    reason
        Why, in words (required).
    fine_usd
        The fine, > 0, for ``fine`` only [USD].
    breach_codes
        Breaches cited (``late_return``, ...).
    """

    kind: EnforcementKind
    reason: str
    fine_usd: Decimal | None = None
    breach_codes: list[str] = Field(default_factory=list)


class EnforcementOut(_Out):
    """A warning, fine, suspension or revocation.

    Attributes
    ----------
    id
        The action's id.
    application_id
        The licence it concerns.
    firm_id
        The firm.
    kind
        Kind of action.
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
    breach_codes: list[str]
    actor: str
    recorded_at: datetime


# ---------------------------------------------------------------- sandbox


class CohortIn(_In):
    """A sandbox cohort to open.

    Attributes
    ----------
    code
        Short identifier (letters, digits, ``-``, ``_``; unique; at most 30).
    name
        Name in words.
    opens_on
        First day participants may operate.
    max_customers
        Cap on customers per participant [customers].
    max_volume_usd
        Cap on volume per participant [USD].
    max_duration_days
        Testing period [days].
    """

    code: str
    name: str
    opens_on: date
    max_customers: int
    max_volume_usd: Decimal
    max_duration_days: int


class CohortOut(_Out):
    """A sandbox cohort.

    Attributes
    ----------
    id
        The cohort's id.
    code
        Short identifier.
    name
        Name in words.
    opens_on
        First day participants may operate.
    closes_on
        Last day of the cohort.
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


class AdmitIn(_In):
    """A firm to admit to a cohort.

    Attributes
    ----------
    firm_id
        The firm (once per cohort).
    product
        What the firm will test, in words.
    admitted_on
        Day of admission (inside the cohort's dates); today when left out.
    """

    firm_id: int
    product: str
    admitted_on: date | None = None


class UsageIn(_In):
    """A participant's usage report.

    Attributes
    ----------
    customers
        Customers served so far [customers].
    volume_usd
        Cumulative volume so far [USD].
    as_of
        Day of the figures; today when left out.
    """

    customers: int
    volume_usd: Decimal
    as_of: date | None = None


class ExitIn(_In):
    """How a participant leaves (or stays longer in) the sandbox.

    Attributes
    ----------
    decision
        ``graduate`` (refused while a cap is breached), ``extend`` or ``exit``.
    reason
        Why (required).
    extend_days
        For ``extend``: extra days [days].
    """

    decision: ExitDecision
    reason: str
    extend_days: int | None = None


class ParticipantOut(_Out):
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
        Its last day of testing.
    status
        ``active``, ``graduated`` or ``exited``.
    usage_as_of
        Day of the latest usage report.
    customers
        Customers at that report [customers].
    volume_usd
        Cumulative volume at that report [USD].
    breaches
        Caps the latest usage exceeds.
    exit_decision
        Latest exit decision.
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
    breaches: list[BreachOut]
    exit_decision: ExitDecision | None
    exit_reason: str
    decided_on: date | None


# ---------------------------------------------------------------- register


class RegisterRowOut(_Out):
    """One entry of the public register.

    Attributes
    ----------
    licence_number
        The licence's number.
    entity_name
        Legal name of the firm.
    commercial_name
        Trading name.
    registration_number
        Number in the company registry.
    lei
        Legal Entity Identifier, if any.
    home_country
        ISO 3166-1 alpha-2 code.
    competent_authority
        The regulator that granted the licence.
    licence_type
        Licence type.
    services
        Services the licence covers, in words.
    status
        Status on the register.
    authorisation_date
        Day the licence was granted.
    status_date
        Day the current status began.
    conditions
        Conditions attached to the licence.
    address
        Registered address.
    website
        Website address.
    last_updated
        Day the entry last changed.
    firm_id
        The firm's id (its record: ``/api/v1/register/{firm_id}``).
    application_id
        The licence's id.
    """

    licence_number: str
    entity_name: str
    commercial_name: str
    registration_number: str
    lei: str | None
    home_country: str
    competent_authority: str
    licence_type: LicenceType
    services: list[str]
    status: Status
    authorisation_date: date | None
    status_date: date | None
    conditions: list[str]
    address: str
    website: str
    last_updated: date | None
    firm_id: int
    application_id: int


class RegisterPage(BaseModel):
    """A page of the public register.

    Attributes
    ----------
    total
        Entries matching the filters, all pages [count].
    limit, offset
        The page: entries at most, entries skipped.
    rows
        The entries of this page, by entity name then licence.
    """

    total: int
    limit: int
    offset: int
    rows: list[RegisterRowOut]


class RegisterEntryOut(RegisterRowOut):
    """An entry of the JSON export (the register's columns, then the two ids)."""


class RegisterExportOut(BaseModel):
    """The whole register as one JSON document (stable, versioned).

    Attributes
    ----------
    schema_name
        ``hashnation.register`` (written as ``schema``).
    version
        Format version (1).
    columns
        The register's columns, in export order (also the CSV header).
    entries
        Every entry.
    """

    model_config = ConfigDict(populate_by_name=True)

    schema_name: str = Field(alias="schema")
    version: int
    columns: list[str]
    entries: list[RegisterEntryOut]


class FirmRecordOut(_Out):
    """The public record of one firm.

    Attributes
    ----------
    firm
        The firm.
    licences
        Its licences on the register (public statuses only), oldest first.
    decisions
        The workflow steps of those licences, oldest first.
    enforcement
        Enforcement actions against those licences, oldest first.
    """

    firm: FirmOut
    licences: list[ApplicationOut]
    decisions: list[DecisionOut]
    enforcement: list[EnforcementOut]


# ---------------------------------------------------------------- tokens


class TokenIn(_In):
    """An API token to issue.

    Attributes
    ----------
    role
        ``staff`` or ``firm``.
    firm_id
        The firm a ``firm`` token acts for (None for ``staff``).
    label
        Who holds it (1-200 characters); the actor named in the audit log.
    """

    role: Literal["staff", "firm"]
    firm_id: int | None = None
    label: str


class IssuedTokenOut(BaseModel):
    """A token just issued: its text is shown this once and never stored.

    Attributes
    ----------
    token
        The bearer token (``hn_`` + 43 characters); send it as
        ``Authorization: Bearer <token>``.
    role
        ``staff`` or ``firm``.
    firm_id
        The firm it acts for.
    label
        Who holds it.
    """

    token: str
    role: Literal["staff", "firm"]
    firm_id: int | None
    label: str


class TokenOut(_Out):
    """An API token's record (never its text).

    Attributes
    ----------
    id
        The token's id.
    role
        ``staff`` or ``firm``.
    firm_id
        The firm (firm tokens only).
    label
        Who holds it.
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


# ---------------------------------------------------------------- audit


class AuditCheckOut(_Out):
    """The audit log verifies.

    Attributes
    ----------
    entries
        Entries checked [count].
    head_hash
        Hash of the last entry (64 zeros for an empty log); publish it, and pass it
        back as ``expected_head`` later to detect entries removed from the end.
    """

    entries: int
    head_hash: str


class AuditEntryOut(_Out):
    """One entry of the audit log.

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
        Details.
    prev_hash
        Hash of the previous entry.
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


class AuditPage(BaseModel):
    """A page of the audit log, newest first.

    Attributes
    ----------
    limit, offset
        The page: entries at most, entries skipped.
    entries
        The entries.
    """

    limit: int
    offset: int
    entries: list[AuditEntryOut]
