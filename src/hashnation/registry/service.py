"""The registry service: the regulator's firms, licences, returns, sandbox and register.

:class:`Registry` is the one orchestrating object of the pillar. It stores what the
pure domain modules decide (:mod:`~hashnation.registry.workflow`,
:mod:`~hashnation.registry.returns`, :mod:`~hashnation.registry.schedule`,
:mod:`~hashnation.registry.enforcement`, :mod:`~hashnation.registry.sandbox`,
:mod:`~hashnation.registry.register`) and checks who may do what, so that every
interface (API, web pages, CLI) gets the same rules:

- ``staff`` (the regulator) takes every staff action and reads everything;
- ``firm`` reads and acts on its own firm only: another firm's application,
  return or sandbox place answers :class:`~hashnation.errors.NotFoundError`, as
  if it did not exist; firm-only actions (submit, withdraw, provide information,
  appeal, surrender, file a return) are refused to staff;
- ``public`` reads the public register, a firm's public record and the audit
  log's verification, nothing else (:class:`~hashnation.errors.AccessError`).

Every public method runs in one transaction of its own. A method that changes
anything appends its entry to the hash-chained audit log
(:mod:`hashnation.registry.audit`) in the same transaction, so a change and its
audit entry are committed together or not at all. Writers are serialized
(:func:`hashnation.registry.audit.lock`); a transaction that still loses a race on
the chain's head is retried a few times. Methods return frozen dataclasses
(:mod:`hashnation.registry.views`), never table rows.

Typical use::

    from hashnation.registry.service import Principal, Registry

    registry = Registry("sqlite:///registry.db")     # schema made by store.db.upgrade
    staff = Principal.staff("licensing-officer")
    firm = registry.register_firm(staff, name="Indus Exchange Ltd",
                                  registration_number="0123456")
    rows = registry.register(query="indus")         # public register
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final, Literal, TypeVar, cast

from sqlalchemy import Engine, and_, func, or_, select, update
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from hashnation.errors import (
    AccessError,
    InputError,
    NotFoundError,
    ReturnError,
    TransitionError,
)
from hashnation.redaction import private_key_kind
from hashnation.registry import audit
from hashnation.registry import tokens as _tokens
from hashnation.registry.breaches import Breach, Severity
from hashnation.registry.cache import VersionedCache
from hashnation.registry.enforcement import EnforcementKind, enforcement_action, licence_action
from hashnation.registry.licences import (
    LICENCE_SPECS,
    LicenceSpec,
    LicenceType,
    Specs,
    check_application,
    licence_number,
    licence_spec,
    rules_for,
)
from hashnation.registry.register import SERVICES, RegisterRow
from hashnation.registry.returns import parse_return, return_breaches
from hashnation.registry.sandbox import (
    Cohort,
    ExitDecision,
    SandboxUsage,
    cap_breaches,
    cohort,
    decide_exit,
    usage,
)
from hashnation.registry.schedule import filing_breaches, filing_calendar, reporting_periods
from hashnation.registry.views import (
    ApplicationView,
    AuditCheck,
    AuditEntryView,
    CohortView,
    DecisionView,
    EnforcementView,
    FirmRecord,
    FirmView,
    LateFiling,
    ParticipantView,
    ReturnView,
    TokenView,
)
from hashnation.registry.workflow import (
    AUTHORISED,
    FIRM_ACTIONS,
    PUBLIC,
    Action,
    Status,
    allowed_actions,
    decide,
    parse_action,
    parse_status,
)
from hashnation.store.hashchain import canonical_hash
from hashnation.store.registry_models import (
    ApiToken,
    Application,
    EnforcementRecord,
    Firm,
    PeriodicReturnRecord,
    RegistryState,
    SandboxCohort,
    SandboxParticipant,
)
from hashnation.store.registry_models import Decision as DecisionRecord
from hashnation.store.service import StoreService

__all__ = [
    "DEFAULT_AUTHORITY",
    "PUBLIC_PRINCIPAL",
    "REVIEW_STATUSES",
    "Principal",
    "Registry",
    "clean_text",
    "require_role",
]

DEFAULT_AUTHORITY: Final = "Pakistan Virtual Assets Regulatory Authority"
"""Competent authority named on the register when none is given."""

REVIEW_STATUSES: Final[tuple[Status, ...]] = (
    Status.SUBMITTED,
    Status.UNDER_REVIEW,
    Status.APPROVED,
    Status.REFUSAL_APPEALED,
    Status.REVOCATION_APPEALED,
)
"""Statuses in which an application waits for staff (:meth:`Registry.review_queue`)."""

Role = Literal["staff", "firm", "public"]
T = TypeVar("T")

_RETRIES: Final = 5
_MAX_NAME: Final = 200
_MAX_REGISTRATION: Final = 50
_MAX_WEBSITE: Final = 300
_MAX_ADDRESS: Final = 2_000
_MAX_PRODUCT: Final = 2_000
_MAX_PAGE: Final = 1_000
_LEI = re.compile(r"[0-9A-Z]{18}[0-9]{2}")
_PUBLIC_VALUES: Final = tuple(sorted(s.value for s in PUBLIC))
_PRIVATE_ACTIONS: Final = frozenset(
    {
        "application.opened",
        "return.filed",
        "sandbox.admitted",
        "sandbox.usage",
        "token.issued",
        "token.revoked",
    }
)
"""Audit actions that cannot change the public register; every other one bumps
``registry_state.public_version``, so a new kind of change is safe by default."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the regulator's staff, a firm, or the public.

    Interfaces get principals from :meth:`Registry.authenticate`; local
    administration tools (the CLI) may build a staff principal directly.

    Attributes
    ----------
    role
        ``staff``, ``firm`` or ``public``.
    firm_id
        The firm a ``firm`` principal acts for (None for the others).
    name
        Who it is, in words; the actor named in decisions and the audit log.
    """

    role: Role
    firm_id: int | None
    name: str

    def __post_init__(self) -> None:
        if self.role not in ("staff", "firm", "public"):
            raise InputError("role", self.role, "staff, firm or public")
        if self.role == "firm" and (
            isinstance(self.firm_id, bool) or not isinstance(self.firm_id, int)
        ):
            raise InputError("firm_id", self.firm_id, "the firm's id for a firm principal")
        if self.role != "firm" and self.firm_id is not None:
            raise InputError("firm_id", self.firm_id, f"None for a {self.role} principal")
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError("name", self.name, "a non-empty name")

    @classmethod
    def staff(cls, name: str) -> Principal:
        """Make a staff principal named ``name``."""
        return cls("staff", None, name)

    @classmethod
    def firm(cls, firm_id: int, name: str) -> Principal:
        """Make a principal acting for firm ``firm_id``."""
        return cls("firm", firm_id, name)


PUBLIC_PRINCIPAL: Final = Principal("public", None, "public")
"""The anonymous caller: reads the public register only."""


# ---------------------------------------------------------------- checks


def require_role(principal: Principal, roles: tuple[Role, ...], doing: str) -> None:
    """Refuse a caller whose role is not among ``roles``.

    Parameters
    ----------
    principal
        The caller.
    roles
        Roles allowed.
    doing
        What the caller tries, for the message (``"file returns"``).

    Raises
    ------
    AccessError
        If ``principal`` is not a :class:`Principal` or its role is not allowed.
    """
    if not isinstance(principal, Principal):
        raise AccessError(f"principal: got {type(principal).__name__}, expected a Principal")
    if principal.role not in roles:
        raise AccessError(
            f"role: {principal.role!r} may not {doing}; expected {' or '.join(roles)}"
        )


def clean_text(field: str, value: object, maximum: int, *, empty_ok: bool = False) -> str:
    """Check a text field given by a caller and strip its surrounding spaces.

    Parameters
    ----------
    field
        Name of the field, for the message.
    value
        What was given.
    maximum
        Longest text accepted, after stripping [characters].
    empty_ok
        Whether empty (or all-space) text is accepted.

    Returns
    -------
    str
        The stripped text.

    Raises
    ------
    InputError
        If ``value`` is not text, is empty (unless allowed) or is too long.
    """
    if not isinstance(value, str):
        raise InputError(field, type(value).__name__, f"text of at most {maximum} characters")
    cleaned = value.strip()
    if (not cleaned and not empty_ok) or len(cleaned) > maximum:
        what = "text" if empty_ok else "non-empty text"
        raise InputError(field, value, f"{what} of at most {maximum} characters")
    check_storable_text(field, cleaned)
    return cleaned


def check_storable_text(field: str, value: str) -> None:
    """Refuse text that cannot be stored as given, or that must never be stored.

    Parameters
    ----------
    field
        Name of the field, for the message.
    value
        The text.

    Raises
    ------
    InputError
        If it holds a NUL character (PostgreSQL text cannot), a lone UTF-16 surrogate
        (not UTF-8 encodable), or private key material (an xprv, a WIF key, a seed
        phrase; the message does not repeat it).
    """
    if "\x00" in value:
        raise InputError(field, value, "text without NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(field, value, "text in UTF-8 (no lone surrogate)") from None
    if private_key_kind(value) is not None:
        raise InputError(field, value, "text without private key material (never paste a key)")


_MAX_USD: Final = Decimal("999999999999999999.99")
"""Largest amount stored (a ``NUMERIC(20, 2)`` column) [USD]."""

_MAX_AHEAD: Final = timedelta(days=366)
"""How far after today late filings may be drawn up."""

MAX_ID: Final = 2**31 - 1
"""Largest id a table holds (its INTEGER primary key: 32 bits on PostgreSQL)."""


def _id(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(field, value, "an id (integer >= 1)")
    if value > MAX_ID:
        raise InputError(field, value, f"an id (integer from 1 to {MAX_ID})")
    return value


def _page(limit: int | None, offset: int) -> None:
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _MAX_PAGE
    ):
        raise InputError("limit", limit, f"an integer from 1 to {_MAX_PAGE}, or None for all")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_ID:
        raise InputError("offset", offset, f"an integer from 0 to {MAX_ID}")


def _lei_valid(lei: str) -> bool:
    """ISO 17442: 18 characters and 2 check digits, ISO 7064 MOD 97-10."""
    if _LEI.fullmatch(lei) is None:
        return False
    digits = "".join(str(int(c, 36)) for c in lei)
    return int(digits) % 97 == 1


def _decimal(field: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise InputError(field, value, "a Decimal amount [USD]")
    try:
        amount = Decimal(value)
    except ArithmeticError:
        raise InputError(field, value, "a Decimal amount [USD]") from None
    if not amount.is_finite():
        raise InputError(field, value, "a finite Decimal amount [USD]")
    if abs(amount) > _MAX_USD:  # a NUMERIC(20, 2) column
        raise InputError(field, value, f"an amount up to {_MAX_USD} [USD]")
    return amount


def _breaches(stored: Sequence[Mapping[str, str]]) -> list[Breach]:
    return [
        Breach(
            code=item["code"],
            field=item["field"],
            detail=item["detail"],
            severity=cast(Severity, item["severity"]),
        )
        for item in stored
    ]


def _is_chain_race(exc: BaseException) -> bool:
    """Tell a lost race on the audit chain's head (retry) from a genuine constraint error."""
    if isinstance(exc, IntegrityError):
        return "registry_audit" in str(exc.orig)
    if isinstance(exc, OperationalError):
        return "database is locked" in str(exc.orig)
    return False


# ---------------------------------------------------------------- views


def _firm_view(row: Firm) -> FirmView:
    return FirmView(
        id=row.id,
        name=row.name,
        registration_number=row.registration_number,
        commercial_name=row.commercial_name,
        lei=row.lei,
        address=row.address,
        website=row.website,
        home_country=row.home_country,
        created_at=row.created_at,
    )


def _application_view(row: Application, firm_name: str) -> ApplicationView:
    status = Status(row.status)
    return ApplicationView(
        id=row.id,
        firm_id=row.firm_id,
        firm_name=firm_name,
        licence_type=LicenceType(row.licence_type),
        status=status,
        licence_number=row.licence_number,
        conditions=tuple(row.conditions),
        documents=tuple(row.documents),
        capital_usd=row.capital_usd,
        submitted_at=row.submitted_at,
        status_since=row.status_since,
        allowed_actions=tuple(allowed_actions(status)),
        created_at=row.created_at,
        authorised_on=row.authorised_on,
    )


def _decision_view(row: DecisionRecord) -> DecisionView:
    return DecisionView(
        id=row.id,
        application_id=row.application_id,
        action=Action(row.action),
        from_status=Status(row.from_status),
        to_status=Status(row.to_status),
        reason=row.reason,
        conditions=tuple(row.conditions),
        actor=row.actor,
        decided_at=row.decided_at,
    )


def _return_view(row: PeriodicReturnRecord) -> ReturnView:
    return ReturnView(
        id=row.id,
        application_id=row.application_id,
        firm_id=row.firm_id,
        licence_type=LicenceType(row.licence_type),
        period_start=row.period_start,
        period_end=row.period_end,
        version=row.version,
        filed_at=row.filed_at,
        filed_by=row.filed_by,
        payload=row.payload,
        breaches=_breaches(row.breaches),
    )


def _enforcement_view(row: EnforcementRecord) -> EnforcementView:
    return EnforcementView(
        id=row.id,
        application_id=row.application_id,
        firm_id=row.firm_id,
        kind=EnforcementKind(row.kind),
        reason=row.reason,
        decided_on=row.decided_on,
        fine_usd=row.fine_usd,
        breach_codes=tuple(row.breach_codes),
        actor=row.actor,
        recorded_at=row.recorded_at,
    )


def _cohort_domain(row: SandboxCohort) -> Cohort:
    return cohort(
        row.code,
        row.name,
        row.opens_on,
        max_customers=row.max_customers,
        max_volume_usd=row.max_volume_usd,
        max_duration_days=row.max_duration_days,
    )


def _cohort_view(row: SandboxCohort, participants: int) -> CohortView:
    return CohortView(
        id=row.id,
        code=row.code,
        name=row.name,
        opens_on=row.opens_on,
        closes_on=_cohort_domain(row).closes_on,
        max_customers=row.max_customers,
        max_volume_usd=row.max_volume_usd,
        max_duration_days=row.max_duration_days,
        participants=participants,
    )


def _participant_usage(row: SandboxParticipant) -> SandboxUsage | None:
    if row.usage_as_of is None or row.customers is None or row.volume_usd is None:
        return None
    return SandboxUsage(row.usage_as_of, row.customers, row.volume_usd)


def _participant_view(
    row: SandboxParticipant, cohort_row: SandboxCohort, firm_name: str
) -> ParticipantView:
    used = _participant_usage(row)
    found = (
        []
        if used is None
        else cap_breaches(_cohort_domain(cohort_row), used, closes_on=row.closes_on)
    )
    return ParticipantView(
        id=row.id,
        cohort_id=row.cohort_id,
        cohort_code=cohort_row.code,
        firm_id=row.firm_id,
        firm_name=firm_name,
        product=row.product,
        admitted_on=row.admitted_on,
        closes_on=row.closes_on,
        status=cast(Literal["active", "graduated", "exited"], row.status),
        usage_as_of=row.usage_as_of,
        customers=row.customers,
        volume_usd=row.volume_usd,
        breaches=found,
        exit_decision=None if row.exit_decision is None else ExitDecision(row.exit_decision),
        exit_reason=row.exit_reason,
        decided_on=row.decided_on,
    )


class Registry(StoreService):
    """The regulator's registry: one object for firms, licences, returns and the register.

    Parameters
    ----------
    bind
        An engine (kept open by :meth:`close`), or a database URL for an engine
        made here and disposed of by :meth:`close`; the default SQLite file when
        None. The schema must exist (:func:`hashnation.store.db.upgrade`).
    authority
        Competent authority named on the public register.
    country
        ISO 3166-1 alpha-2 code of the licensing country (firms' home country).
    clock
        Returns the current time (timezone-aware); ``datetime.now(UTC)`` by
        default. Decisions, filings and audit entries are stamped with it.
    licences
        The licence types this regulator grants and its rules for each (a country
        pack's); by default every type with the illustrative default rules.
    licence_prefix
        Prefix of the licence numbers granted (``VA`` gives ``VA-EXC-0001``).
    """

    def __init__(
        self,
        bind: Engine | str | URL | None = None,
        *,
        authority: str = DEFAULT_AUTHORITY,
        country: str = "PK",
        clock: Callable[[], datetime] | None = None,
        licences: Specs = LICENCE_SPECS,
        licence_prefix: str = "VA",
    ) -> None:
        if not isinstance(country, str) or re.fullmatch(r"[A-Z]{2}", country) is None:
            raise InputError("country", country, "an ISO 3166-1 alpha-2 code (PK)")
        if not licences:
            raise InputError("licences", dict(licences), "at least one licence type")
        if not licence_prefix or not (licence_prefix.isascii() and licence_prefix.isalnum()):
            raise InputError("licence_prefix", licence_prefix, "ASCII letters and digits")
        self.authority = clean_text("authority", authority, _MAX_NAME)
        self.country = country
        self.licences = licences
        self.licence_prefix = licence_prefix
        super().__init__(bind, clock=clock)
        self._public = VersionedCache()

    def spec_of(self, licence_type: LicenceType | str) -> LicenceSpec:
        """Look up the rules for a licence type held in the registry.

        A type the regulator no longer offers (a licence granted before the rules
        changed) keeps the default rules, so that it can still be read and supervised.

        Parameters
        ----------
        licence_type
            The type, as stored.

        Returns
        -------
        LicenceSpec
            The regulator's rules for it.
        """
        return rules_for(licence_type, self.licences)

    # ------------------------------------------------------------ plumbing

    def _write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction with the audit log locked; retry lost races.

        The lock is taken first, so writers run one after another: a status read at
        the start of ``act`` is still the status when the decision is stored, and
        numbers computed from the table (licence sequences, return versions) cannot
        be taken twice.
        """
        return self._transaction(work, first=audit.lock, retry_if=_is_chain_race, attempts=_RETRIES)

    def _audit(
        self,
        session: Session,
        principal: Principal,
        action: str,
        subject: str,
        payload: Mapping[str, Any],
        when: datetime,
    ) -> None:
        audit.append(
            session,
            actor=principal.name,
            action=action,
            subject=subject,
            payload=payload,
            recorded_at=when,
        )
        if action not in _PRIVATE_ACTIONS:  # under the audit lock: bumps are serialized
            bumped = session.execute(
                update(RegistryState)
                .where(RegistryState.id == 1)
                .values(public_version=RegistryState.public_version + 1)
            )
            if not bumped.rowcount:  # type: ignore[attr-defined]  # the row was emptied
                session.add(RegistryState(id=1, public_version=1))

    def public_version(self) -> int | None:
        """Read the public register's version (see :mod:`hashnation.registry.cache`).

        Returns
        -------
        int or None
            Changes that could alter the register so far [count]; None when the
            counter row is missing (nothing is then cached).
        """
        with self._engine.connect() as connection:
            value = connection.scalar(
                select(RegistryState.public_version).where(RegistryState.id == 1)
            )
        return None if value is None else int(value)

    def _cached(self, key: tuple[object, ...], read: Callable[[], T]) -> T:
        """Answer a public read from the cache while the register's version stands."""
        version = self.public_version()  # read before the data: never newer than it
        if version is None:
            return read()
        found = self._public.get(version, key)
        if not VersionedCache.missing(found):
            return found  # type: ignore[return-value]
        value = read()
        self._public.put(version, key, value)
        return value

    # ------------------------------------------------------------ loading

    @staticmethod
    def _firm_row(session: Session, principal: Principal, firm_id: int) -> Firm:
        firm_id = _id("firm_id", firm_id)
        row = session.get(Firm, firm_id)
        if row is None or (principal.role == "firm" and principal.firm_id != firm_id):
            raise NotFoundError(f"firm_id: no firm {firm_id}")
        return row

    @staticmethod
    def _application_row(
        session: Session, principal: Principal, application_id: int
    ) -> tuple[Application, str]:
        application_id = _id("application_id", application_id)
        found = session.execute(
            select(Application, Firm.name)
            .join(Firm, Application.firm_id == Firm.id)
            .where(Application.id == application_id)
        ).first()
        if found is None or (principal.role == "firm" and principal.firm_id != found[0].firm_id):
            raise NotFoundError(f"application_id: no application {application_id}")
        return found[0], found[1]

    @staticmethod
    def _participant_row(
        session: Session, principal: Principal, participant_id: int
    ) -> tuple[SandboxParticipant, SandboxCohort, str]:
        participant_id = _id("participant_id", participant_id)
        found = session.execute(
            select(SandboxParticipant, SandboxCohort, Firm.name)
            .join(SandboxCohort, SandboxParticipant.cohort_id == SandboxCohort.id)
            .join(Firm, SandboxParticipant.firm_id == Firm.id)
            .where(SandboxParticipant.id == participant_id)
        ).first()
        if found is None or (principal.role == "firm" and principal.firm_id != found[0].firm_id):
            raise NotFoundError(f"participant_id: no sandbox participant {participant_id}")
        return found[0], found[1], found[2]

    # ------------------------------------------------------------ firms

    def register_firm(
        self,
        principal: Principal,
        *,
        name: str,
        registration_number: str,
        commercial_name: str = "",
        lei: str | None = None,
        address: str = "",
        website: str = "",
    ) -> FirmView:
        """Register a firm (staff only).

        Parameters
        ----------
        principal
            The caller (staff).
        name
            Legal name (1-200 characters).
        registration_number
            Company registration number (1-50 characters, unique).
        commercial_name
            Trading name, if different.
        lei
            ISO 17442 Legal Entity Identifier (20 characters, check digits verified;
            unique), if the firm has one.
        address
            Registered address.
        website
            Website address.

        Returns
        -------
        FirmView
            The firm; its home country is the registry's country.

        Raises
        ------
        AccessError
            If the caller is not staff.
        InputError
            For a malformed field, or a registration number or LEI already taken.
        """
        require_role(principal, ("staff",), "register firms")
        name = clean_text("name", name, _MAX_NAME)
        registration_number = clean_text(
            "registration_number", registration_number, _MAX_REGISTRATION
        )
        commercial_name = clean_text("commercial_name", commercial_name, _MAX_NAME, empty_ok=True)
        address = clean_text("address", address, _MAX_ADDRESS, empty_ok=True)
        website = clean_text("website", website, _MAX_WEBSITE, empty_ok=True)
        if lei is not None:
            lei = clean_text("lei", lei, 20).upper()
            if not _lei_valid(lei):
                raise InputError("lei", lei, "an ISO 17442 LEI: 20 characters, valid check digits")

        def work(session: Session) -> FirmView:
            taken = session.scalar(
                select(Firm.id).where(Firm.registration_number == registration_number)
            )
            if taken is not None:
                raise InputError(
                    "registration_number",
                    registration_number,
                    f"a number not already registered (firm {taken} has it)",
                )
            if lei is not None and session.scalar(select(Firm.id).where(Firm.lei == lei)):
                raise InputError("lei", lei, "an LEI not already registered")
            now = self.now()
            row = Firm(
                name=name,
                registration_number=registration_number,
                commercial_name=commercial_name,
                lei=lei,
                address=address,
                website=website,
                home_country=self.country,
                created_at=now,
            )
            session.add(row)
            session.flush()
            view = _firm_view(row)
            payload = {k: v for k, v in vars(view).items() if k not in ("id", "created_at")}
            self._audit(session, principal, "firm.registered", f"firm:{row.id}", payload, now)
            return view

        return self._write(work)

    def get_firm(self, principal: Principal, firm_id: int) -> FirmView:
        """One firm (staff: any; a firm: itself).

        Raises
        ------
        AccessError
            For the public.
        NotFoundError
            If there is no such firm (or it is another firm).
        """
        require_role(principal, ("staff", "firm"), "read firms")
        with self._read() as session:
            return _firm_view(self._firm_row(session, principal, firm_id))

    def list_firms(
        self,
        principal: Principal,
        *,
        query: str | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[FirmView]:
        """Firms by name (staff: all; a firm: itself).

        Parameters
        ----------
        principal
            The caller (staff or firm).
        query
            Text found, ignoring case, in the name, commercial name or registration number.
        limit, offset
            Page: firms at most (1-1000, None for all) and firms skipped.

        Returns
        -------
        list of FirmView
            Ordered by name, then id.
        """
        require_role(principal, ("staff", "firm"), "list firms")
        _page(limit, offset)
        stmt = select(Firm).order_by(Firm.name, Firm.id).offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        if principal.role == "firm":
            stmt = stmt.where(Firm.id == principal.firm_id)
        needle = (query or "").strip().lower()
        if needle:
            stmt = stmt.where(
                or_(
                    func.lower(Firm.name).contains(needle, autoescape=True),
                    func.lower(Firm.commercial_name).contains(needle, autoescape=True),
                    func.lower(Firm.registration_number).contains(needle, autoescape=True),
                )
            )
        with self._read() as session:
            return [_firm_view(row) for row in session.scalars(stmt)]

    # ------------------------------------------------------------ applications

    def open_application(
        self,
        principal: Principal,
        firm_id: int,
        licence_type: LicenceType | str,
        *,
        documents: Sequence[str],
        capital_usd: Decimal,
    ) -> ApplicationView:
        """Open a licence application in ``draft`` (staff, or the firm itself).

        Parameters
        ----------
        principal
            The caller.
        firm_id
            The applying firm.
        licence_type
            Licence type applied for.
        documents
            Names of the documents provided; every required one must be there.
        capital_usd
            Capital the firm holds, at least the type's minimum [USD].

        Returns
        -------
        ApplicationView
            The draft (submit it with :meth:`act`).

        Raises
        ------
        AccessError
            For the public.
        NotFoundError
            If there is no such firm (or it is another firm).
        InputError
            Field ``licence_type``, ``documents`` (names the missing ones) or
            ``capital_usd`` (names the minimum).
        """
        require_role(principal, ("staff", "firm"), "open applications")
        if principal.role == "firm" and firm_id != principal.firm_id:
            raise NotFoundError(f"firm_id: no firm {firm_id}")
        spec = licence_spec(licence_type, self.licences)
        if isinstance(documents, str) or not all(isinstance(d, str) for d in documents):
            raise InputError("documents", documents, "a list of document names")
        provided = list(dict.fromkeys(d.strip() for d in documents if d.strip()))
        capital = _decimal("capital_usd", capital_usd)
        check_application(spec.type, provided, capital, self.licences)

        def work(session: Session) -> ApplicationView:
            firm = self._firm_row(session, principal, firm_id)
            now = self.now()
            row = Application(
                firm_id=firm.id,
                licence_type=spec.type.value,
                status=Status.DRAFT.value,
                documents=provided,
                capital_usd=capital,
                conditions=[],
                licence_number=None,
                licence_sequence=None,
                created_at=now,
                submitted_at=None,
                status_since=now,
                authorised_on=None,
            )
            session.add(row)
            session.flush()
            self._audit(
                session,
                principal,
                "application.opened",
                f"application:{row.id}",
                {
                    "firm_id": firm.id,
                    "licence_type": spec.type,
                    "documents": provided,
                    "capital_usd": capital,
                },
                now,
            )
            return _application_view(row, firm.name)

        return self._write(work)

    def _move(
        self,
        session: Session,
        row: Application,
        principal: Principal,
        action: Action,
        *,
        now: datetime,
        reason: str = "",
        conditions: Sequence[str] = (),
    ) -> DecisionRecord:
        """Apply a workflow decision to an application and store it."""
        decision = decide(
            row.status,
            action,
            actor=principal.name,
            decided_at=now,
            reason=reason,
            conditions=conditions,
        )
        row.status = decision.to_status.value
        row.status_since = now
        if action is Action.SUBMIT and row.submitted_at is None:
            row.submitted_at = now
        if action is Action.APPROVE:
            row.conditions = list(decision.conditions)
        if action is Action.GRANT_LICENCE and row.licence_number is None:
            last = session.scalar(
                select(func.max(Application.licence_sequence)).where(
                    Application.licence_type == row.licence_type
                )
            )
            sequence = (last or 0) + 1
            row.licence_sequence = sequence
            kind = LicenceType(row.licence_type)
            row.licence_number = licence_number(
                kind, sequence, self.licence_prefix, {kind: self.spec_of(kind)}
            )
            row.authorised_on = now.date()
        record = DecisionRecord(
            application_id=row.id,
            action=decision.action.value,
            from_status=decision.from_status.value,
            to_status=decision.to_status.value,
            reason=decision.reason,
            conditions=list(decision.conditions),
            actor=decision.actor,
            decided_at=now,
        )
        session.add(record)
        session.flush()
        return record

    def act(
        self,
        principal: Principal,
        application_id: int,
        action: Action | str,
        *,
        reason: str = "",
        conditions: Sequence[str] = (),
    ) -> ApplicationView:
        """Take a workflow action on an application or licence.

        Firms take :data:`~hashnation.registry.workflow.FIRM_ACTIONS` on their own
        applications (submit, withdraw, provide information, appeal, surrender);
        staff take all the others. Granting a licence assigns its number
        (``VA-EXC-0007``, the next in its type) and its authorisation date.

        Parameters
        ----------
        principal
            The caller.
        application_id
            The application.
        action
            The action (``approve``, ...).
        reason
            Why; required for request_information, refuse, suspend, reinstate,
            revoke, allow_appeal and dismiss_appeal.
        conditions
            Conditions attached to an approval (approve only).

        Returns
        -------
        ApplicationView
            The application after the action.

        Raises
        ------
        AccessError
            For the public, a firm taking a staff action, or staff taking a firm action.
        NotFoundError
            If there is no such application (or it is another firm's).
        TransitionError
            If the action is not allowed in the current status.
        InputError
            Field ``action``, ``reason`` or ``conditions``.
        """
        require_role(principal, ("staff", "firm"), "act on applications")
        chosen = parse_action(action)
        if principal.role == "firm" and chosen not in FIRM_ACTIONS:
            raise AccessError(
                f"action: a firm may not {chosen.value!r}; it is the regulator's staff action"
            )
        if principal.role == "staff" and chosen in FIRM_ACTIONS:
            raise AccessError(f"action: staff may not {chosen.value!r}; only the applying firm may")

        def work(session: Session) -> ApplicationView:
            row, firm_name = self._application_row(session, principal, application_id)
            now = self.now()
            record = self._move(
                session, row, principal, chosen, now=now, reason=reason, conditions=conditions
            )
            self._audit(
                session,
                principal,
                f"application.{chosen.value}",
                f"application:{row.id}",
                {
                    "decision_id": record.id,
                    "from_status": record.from_status,
                    "to_status": record.to_status,
                    "reason": record.reason,
                    "conditions": record.conditions,
                    "licence_number": row.licence_number,
                },
                now,
            )
            return _application_view(row, firm_name)

        return self._write(work)

    def get_application(self, principal: Principal, application_id: int) -> ApplicationView:
        """One application (staff: any; a firm: its own).

        Raises
        ------
        AccessError
            For the public.
        NotFoundError
            If there is no such application (or it is another firm's).
        """
        require_role(principal, ("staff", "firm"), "read applications")
        with self._read() as session:
            row, firm_name = self._application_row(session, principal, application_id)
            return _application_view(row, firm_name)

    def list_applications(
        self,
        principal: Principal,
        *,
        firm_id: int | None = None,
        status: Status | str | None = None,
        licence_type: LicenceType | str | None = None,
    ) -> list[ApplicationView]:
        """Applications, oldest first (staff: all; a firm: its own).

        Parameters
        ----------
        principal
            The caller.
        firm_id
            Only this firm's (a firm may only name itself).
        status
            Only this status.
        licence_type
            Only this licence type.

        Returns
        -------
        list of ApplicationView
            In id order.

        Raises
        ------
        AccessError
            For the public.
        NotFoundError
            If a firm names another firm.
        """
        require_role(principal, ("staff", "firm"), "list applications")
        stmt = (
            select(Application, Firm.name)
            .join(Firm, Application.firm_id == Firm.id)
            .order_by(Application.id)
        )
        if principal.role == "firm":
            if firm_id is not None and firm_id != principal.firm_id:
                raise NotFoundError(f"firm_id: no firm {firm_id}")
            firm_id = principal.firm_id
        if firm_id is not None:
            stmt = stmt.where(Application.firm_id == _id("firm_id", firm_id))
        if status is not None:
            stmt = stmt.where(Application.status == parse_status(status).value)
        if licence_type is not None:
            kind = licence_spec(licence_type, self.licences).type
            stmt = stmt.where(Application.licence_type == kind.value)
        with self._read() as session:
            return [_application_view(row, name) for row, name in session.execute(stmt)]

    def review_queue(self, principal: Principal) -> list[ApplicationView]:
        """Applications waiting for staff, longest-waiting first (staff only).

        Returns
        -------
        list of ApplicationView
            Those in :data:`REVIEW_STATUSES`, by ``status_since``.

        Raises
        ------
        AccessError
            If the caller is not staff.
        """
        require_role(principal, ("staff",), "read the review queue")
        stmt = (
            select(Application, Firm.name)
            .join(Firm, Application.firm_id == Firm.id)
            .where(Application.status.in_([s.value for s in REVIEW_STATUSES]))
            .order_by(Application.status_since, Application.id)
        )
        with self._read() as session:
            return [_application_view(row, name) for row, name in session.execute(stmt)]

    def list_decisions(self, principal: Principal, application_id: int) -> list[DecisionView]:
        """Workflow steps of an application, oldest first (staff; a firm: its own).

        Raises
        ------
        AccessError
            For the public.
        NotFoundError
            If there is no such application (or it is another firm's).
        """
        require_role(principal, ("staff", "firm"), "read decisions")
        with self._read() as session:
            row, _ = self._application_row(session, principal, application_id)
            stmt = (
                select(DecisionRecord)
                .where(DecisionRecord.application_id == row.id)
                .order_by(DecisionRecord.id)
            )
            return [_decision_view(d) for d in session.scalars(stmt)]

    # ------------------------------------------------------------ returns

    def file_return(
        self, principal: Principal, application_id: int, payload: Mapping[str, Any]
    ) -> ReturnView:
        """File a periodic return under a licence (the licensed firm only).

        The return is validated against its licence type
        (:func:`~hashnation.registry.returns.parse_return`); its period must be one
        reporting period of the licence (a calendar month or quarter) that has
        ended, not before the licence's first. Filing the same period again stores
        an amendment: the next version.

        Parameters
        ----------
        principal
            The firm holding the licence.
        application_id
            The licence (application in status licensed or suspended).
        payload
            The return as a JSON-like mapping (``licence_type`` may be left out).

        Returns
        -------
        ReturnView
            The version stored, with the breaches it shows.

        Raises
        ------
        AccessError
            For the public and staff.
        NotFoundError
            If there is no such application (or it is another firm's).
        TransitionError
            If the application holds no licence (not licensed or suspended).
        ReturnError
            For the first field of the return that is wrong (nothing is stored).
        """
        require_role(principal, ("firm",), "file returns (only the licensed firm files)")

        def licensed(session: Session) -> Application:
            row, _ = self._application_row(session, principal, application_id)
            status = Status(row.status)
            if status not in AUTHORISED:
                raise TransitionError(
                    f"status: application {row.id} is {status.value!r}; returns are filed "
                    "under a licence that is licensed or suspended"
                )
            return row

        # Validate before the write transaction: parsing and breach checks are pure,
        # and writers queue on the audit lock for as long as their transaction lasts.
        with self._read() as session:
            spec = self.spec_of(licensed(session).licence_type)
        ret = parse_return(payload, licence_type=spec.type)
        found = return_breaches(ret, spec)
        body = ret.model_dump(mode="json")
        body_sha256 = canonical_hash(body)

        def work(session: Session) -> ReturnView:
            row = licensed(session)  # again, under the lock: the status may have moved
            now = self.now()
            self._check_period(ret.period_start, ret.period_end, spec.return_frequency, row, now)
            last = session.scalar(
                select(func.max(PeriodicReturnRecord.version)).where(
                    PeriodicReturnRecord.application_id == row.id,
                    PeriodicReturnRecord.period_start == ret.period_start,
                    PeriodicReturnRecord.period_end == ret.period_end,
                )
            )
            record = PeriodicReturnRecord(
                application_id=row.id,
                firm_id=row.firm_id,
                licence_type=row.licence_type,
                period_start=ret.period_start,
                period_end=ret.period_end,
                version=(last or 0) + 1,
                filed_at=now,
                filed_by=principal.name,
                payload=body,
                breaches=audit.jsonable(found),
            )
            session.add(record)
            session.flush()
            self._audit(
                session,
                principal,
                "return.filed",
                f"return:{record.id}",
                {
                    "application_id": row.id,
                    "period_start": ret.period_start,
                    "period_end": ret.period_end,
                    "version": record.version,
                    "return_sha256": body_sha256,
                    "breaches": [b.code for b in found],
                },
                now,
            )
            return _return_view(record)

        return self._write(work)

    @staticmethod
    def _check_period(
        start: date,
        end: date,
        frequency: Literal["monthly", "quarterly"],
        row: Application,
        now: datetime,
    ) -> None:
        if reporting_periods(frequency, start, end) != [(start, end)]:
            raise ReturnError(
                "period_start",
                start.isoformat(),
                f"the first day of a {frequency} reporting period ending on period_end",
            )
        if end >= now.date():
            raise ReturnError(
                "period_end", end.isoformat(), f"a period that has ended by {now.date()}"
            )
        if row.authorised_on is not None and end < row.authorised_on:
            raise ReturnError(
                "period_end",
                end.isoformat(),
                f"a period ending on or after the licence date {row.authorised_on}",
            )

    def list_returns(
        self,
        principal: Principal,
        *,
        application_id: int | None = None,
        firm_id: int | None = None,
        latest_only: bool = False,
    ) -> list[ReturnView]:
        """List returns filed, by period then version (staff: all; a firm: its own).

        Parameters
        ----------
        principal
            The caller.
        application_id
            Only those filed under this licence.
        firm_id
            Only this firm's (a firm may only name itself).
        latest_only
            Only the latest version of each period.

        Returns
        -------
        list of ReturnView
            By application, period end, version.

        Raises
        ------
        AccessError
            For the public.
        NotFoundError
            If a firm names another firm's licence or another firm.
        """
        require_role(principal, ("staff", "firm"), "read returns")
        stmt = select(PeriodicReturnRecord).order_by(
            PeriodicReturnRecord.application_id,
            PeriodicReturnRecord.period_end,
            PeriodicReturnRecord.version,
        )
        if principal.role == "firm":
            if firm_id is not None and firm_id != principal.firm_id:
                raise NotFoundError(f"firm_id: no firm {firm_id}")
            firm_id = principal.firm_id
        if firm_id is not None:
            stmt = stmt.where(PeriodicReturnRecord.firm_id == _id("firm_id", firm_id))
        with self._read() as session:
            if application_id is not None:
                row, _ = self._application_row(session, principal, application_id)
                stmt = stmt.where(PeriodicReturnRecord.application_id == row.id)
            views = [_return_view(r) for r in session.scalars(stmt)]
        if latest_only:
            latest: dict[tuple[int, date, date], ReturnView] = {}
            for view in views:
                latest[(view.application_id, view.period_start, view.period_end)] = view
            views = list(latest.values())
        return views

    def get_return(self, principal: Principal, return_id: int) -> ReturnView:
        """One return version (staff: any; a firm: its own).

        Raises
        ------
        AccessError
            For the public.
        NotFoundError
            If there is no such return (or it is another firm's).
        """
        require_role(principal, ("staff", "firm"), "read returns")
        return_id = _id("return_id", return_id)
        with self._read() as session:
            row = session.get(PeriodicReturnRecord, return_id)
            if row is None or (principal.role == "firm" and row.firm_id != principal.firm_id):
                raise NotFoundError(f"return_id: no return {return_id}")
            return _return_view(row)

    def late_filings(self, principal: Principal, as_of: date) -> list[LateFiling]:
        """List returns due and not filed, or filed after their due day, as of a day.

        Drawn from each licence's filing calendar
        (:func:`~hashnation.registry.schedule.filing_calendar`), for the licences
        held (licensed or suspended); a period counts as filed on the day of its
        first version.

        Parameters
        ----------
        principal
            Staff (every licence) or a firm (its own).
        as_of
            The day the calendars are drawn up.

        Returns
        -------
        list of LateFiling
            By application, then period.

        Raises
        ------
        AccessError
            For the public.
        """
        require_role(principal, ("staff", "firm"), "read late filings")
        if not isinstance(as_of, date) or isinstance(as_of, datetime):
            raise InputError("as_of", as_of, "a date")
        latest = self.now().date() + _MAX_AHEAD
        if as_of > latest:  # each licence's calendar runs to as_of, a period at a time
            raise InputError("as_of", as_of.isoformat(), f"a day up to {latest.isoformat()}")
        licences = (
            select(Application, Firm.name)
            .join(Firm, Application.firm_id == Firm.id)
            .where(Application.status.in_([s.value for s in AUTHORISED]))
            .order_by(Application.id)
        )
        filed = select(
            PeriodicReturnRecord.application_id,
            PeriodicReturnRecord.period_start,
            PeriodicReturnRecord.period_end,
            func.min(PeriodicReturnRecord.filed_at),
        ).group_by(
            PeriodicReturnRecord.application_id,
            PeriodicReturnRecord.period_start,
            PeriodicReturnRecord.period_end,
        )
        if principal.role == "firm":
            licences = licences.where(Application.firm_id == principal.firm_id)
            filed = filed.where(PeriodicReturnRecord.firm_id == principal.firm_id)
        with self._read() as session:
            rows = session.execute(licences).all()
            first_filed: dict[int, dict[tuple[date, date], date]] = {}
            for app_id, start, end, when in session.execute(filed):
                first_filed.setdefault(app_id, {})[(start, end)] = _aware_utc(when).date()
        found: list[LateFiling] = []
        for row, firm_name in rows:
            if row.authorised_on is None:
                continue
            spec = self.spec_of(row.licence_type)
            calendar = filing_calendar(spec, row.authorised_on, first_filed.get(row.id, {}), as_of)
            for item in calendar:
                if item.state not in ("late", "filed_late"):
                    continue
                (breach,) = filing_breaches([item])
                found.append(
                    LateFiling(
                        application_id=row.id,
                        firm_id=row.firm_id,
                        firm_name=firm_name,
                        licence_number=row.licence_number,
                        licence_type=spec.type,
                        period_start=item.period_start,
                        period_end=item.period_end,
                        due_on=item.due_on,
                        filed_on=item.filed_on,
                        state=item.state,
                        breach=breach,
                    )
                )
        return found

    # ------------------------------------------------------------ enforcement

    def enforce(
        self,
        principal: Principal,
        application_id: int,
        kind: EnforcementKind | str,
        *,
        reason: str,
        fine_usd: Decimal | None = None,
        breach_codes: Sequence[str] = (),
    ) -> EnforcementView:
        """Take an enforcement action against a licence (staff only).

        A suspension or a revocation also moves the licence (``suspend`` /
        ``revoke``) in the same transaction, with its decision recorded.

        Parameters
        ----------
        principal
            Staff.
        application_id
            The licence (application in status licensed or suspended).
        kind
            ``warning``, ``fine``, ``suspension`` or ``revocation``.
        reason
            Why (required).
        fine_usd
            The fine, > 0, for ``fine`` only [USD].
        breach_codes
            Breaches cited (``late_return``, ...).

        Returns
        -------
        EnforcementView
            The action recorded.

        Raises
        ------
        AccessError
            If the caller is not staff.
        NotFoundError
            If there is no such application.
        TransitionError
            If the application holds no licence, or the licence cannot move that way
            (suspending a suspended licence).
        InputError
            Field ``kind``, ``reason``, ``fine_usd`` or ``breach_codes``.
        """
        require_role(principal, ("staff",), "take enforcement actions")

        def work(session: Session) -> EnforcementView:
            row, _ = self._application_row(session, principal, application_id)
            now = self.now()
            action = enforcement_action(
                kind,
                reason=reason,
                decided_on=now.date(),
                fine_usd=fine_usd,
                breach_codes=breach_codes,
            )
            status = Status(row.status)
            if status not in AUTHORISED:
                raise TransitionError(
                    f"status: application {row.id} is {status.value!r}; enforcement "
                    "actions are taken against a licence that is licensed or suspended"
                )
            moved = licence_action(action.kind)
            decision = None
            if moved is not None:
                decision = self._move(session, row, principal, moved, now=now, reason=action.reason)
            record = EnforcementRecord(
                application_id=row.id,
                firm_id=row.firm_id,
                kind=action.kind.value,
                reason=action.reason,
                decided_on=action.decided_on,
                fine_usd=action.fine_usd,
                breach_codes=list(action.breach_codes),
                actor=principal.name,
                recorded_at=now,
            )
            session.add(record)
            session.flush()
            self._audit(
                session,
                principal,
                f"enforcement.{action.kind.value}",
                f"application:{row.id}",
                {
                    "enforcement_id": record.id,
                    "reason": action.reason,
                    "fine_usd": action.fine_usd,
                    "breach_codes": list(action.breach_codes),
                    "from_status": status,
                    "to_status": row.status,
                    "decision_id": None if decision is None else decision.id,
                },
                now,
            )
            return _enforcement_view(record)

        return self._write(work)

    def list_enforcement(
        self,
        principal: Principal,
        *,
        application_id: int | None = None,
        firm_id: int | None = None,
    ) -> list[EnforcementView]:
        """Enforcement actions, oldest first (staff: all; a firm: its own).

        Raises
        ------
        AccessError
            For the public.
        NotFoundError
            If a firm names another firm or another firm's licence.
        """
        require_role(principal, ("staff", "firm"), "read enforcement actions")
        stmt = select(EnforcementRecord).order_by(EnforcementRecord.id)
        if principal.role == "firm":
            if firm_id is not None and firm_id != principal.firm_id:
                raise NotFoundError(f"firm_id: no firm {firm_id}")
            firm_id = principal.firm_id
        if firm_id is not None:
            stmt = stmt.where(EnforcementRecord.firm_id == _id("firm_id", firm_id))
        with self._read() as session:
            if application_id is not None:
                row, _ = self._application_row(session, principal, application_id)
                stmt = stmt.where(EnforcementRecord.application_id == row.id)
            return [_enforcement_view(r) for r in session.scalars(stmt)]

    # ------------------------------------------------------------ sandbox

    def create_cohort(
        self,
        principal: Principal,
        *,
        code: str,
        name: str,
        opens_on: date,
        max_customers: int,
        max_volume_usd: Decimal,
        max_duration_days: int,
    ) -> CohortView:
        """Open a sandbox cohort (staff only).

        Parameters
        ----------
        principal
            Staff.
        code
            Short identifier (letters, digits, ``-``, ``_``; unique).
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

        Returns
        -------
        CohortView
            The cohort.

        Raises
        ------
        AccessError
            If the caller is not staff.
        InputError
            For a malformed field or a code already used.
        """
        require_role(principal, ("staff",), "create sandbox cohorts")
        made = cohort(
            code,
            name,
            opens_on,
            max_customers=max_customers,
            max_volume_usd=max_volume_usd,
            max_duration_days=max_duration_days,
        )
        if len(made.code) > 30:
            raise InputError("code", code, "at most 30 characters")
        clean_text("name", made.name, _MAX_NAME)

        def work(session: Session) -> CohortView:
            if session.scalar(select(SandboxCohort.id).where(SandboxCohort.code == made.code)):
                raise InputError("code", made.code, "a code not used by another cohort")
            now = self.now()
            row = SandboxCohort(
                code=made.code,
                name=made.name,
                opens_on=made.opens_on,
                max_customers=made.caps.max_customers,
                max_volume_usd=made.caps.max_volume_usd,
                max_duration_days=made.caps.max_duration_days,
                created_at=now,
            )
            session.add(row)
            session.flush()
            view = _cohort_view(row, 0)
            payload = {k: v for k, v in vars(view).items() if k not in ("id", "participants")}
            self._audit(
                session, principal, "sandbox.cohort_created", f"cohort:{row.id}", payload, now
            )
            return view

        return self._write(work)

    def list_cohorts(self, principal: Principal) -> list[CohortView]:
        """Sandbox cohorts, oldest first (staff and firms).

        Raises
        ------
        AccessError
            For the public.
        """
        require_role(principal, ("staff", "firm"), "read sandbox cohorts")
        counts = (
            select(SandboxParticipant.cohort_id, func.count().label("n"))
            .group_by(SandboxParticipant.cohort_id)
            .subquery()
        )
        stmt = (
            select(SandboxCohort, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.cohort_id == SandboxCohort.id)
            .order_by(SandboxCohort.id)
        )
        with self._read() as session:
            return [_cohort_view(row, int(n)) for row, n in session.execute(stmt)]

    def admit_to_sandbox(
        self,
        principal: Principal,
        cohort_id: int,
        firm_id: int,
        *,
        product: str,
        admitted_on: date | None = None,
    ) -> ParticipantView:
        """Admit a firm to a sandbox cohort (staff only).

        Parameters
        ----------
        principal
            Staff.
        cohort_id
            The cohort.
        firm_id
            The firm (once per cohort).
        product
            What the firm will test, in words.
        admitted_on
            Day of admission; today by default.

        Returns
        -------
        ParticipantView
            The participant, active until the cohort closes.

        Raises
        ------
        AccessError
            If the caller is not staff.
        NotFoundError
            If there is no such cohort or firm.
        InputError
            Field ``product``, ``admitted_on``, or ``firm_id`` when already admitted.
        """
        require_role(principal, ("staff",), "admit firms to the sandbox")
        product = clean_text("product", product, _MAX_PRODUCT)
        cohort_id = _id("cohort_id", cohort_id)

        def work(session: Session) -> ParticipantView:
            cohort_row = session.get(SandboxCohort, cohort_id)
            if cohort_row is None:
                raise NotFoundError(f"cohort_id: no sandbox cohort {cohort_id}")
            firm = self._firm_row(session, principal, firm_id)
            taken = session.scalar(
                select(SandboxParticipant.id).where(
                    SandboxParticipant.cohort_id == cohort_id,
                    SandboxParticipant.firm_id == firm.id,
                )
            )
            if taken is not None:
                raise InputError(
                    "firm_id", firm.id, f"a firm not already in cohort {cohort_row.code!r}"
                )
            now = self.now()
            day = now.date() if admitted_on is None else admitted_on
            domain = _cohort_domain(cohort_row)
            if not isinstance(day, date) or not domain.opens_on <= day <= domain.closes_on:
                raise InputError(
                    "admitted_on",
                    day,
                    f"a day from {domain.opens_on} to {domain.closes_on} (the cohort's)",
                )
            row = SandboxParticipant(
                cohort_id=cohort_id,
                firm_id=firm.id,
                product=product,
                admitted_on=day,
                closes_on=domain.closes_on,
                status="active",
                usage_as_of=None,
                customers=None,
                volume_usd=None,
                exit_decision=None,
                exit_reason="",
                decided_on=None,
            )
            session.add(row)
            session.flush()
            self._audit(
                session,
                principal,
                "sandbox.admitted",
                f"participant:{row.id}",
                {
                    "cohort_id": cohort_id,
                    "firm_id": firm.id,
                    "product": product,
                    "admitted_on": day,
                },
                now,
            )
            return _participant_view(row, cohort_row, firm.name)

        return self._write(work)

    def record_sandbox_usage(
        self,
        principal: Principal,
        participant_id: int,
        *,
        customers: int,
        volume_usd: Decimal,
        as_of: date | None = None,
    ) -> ParticipantView:
        """Report a participant's usage (the firm itself, or staff).

        Parameters
        ----------
        principal
            The participant's firm, or staff.
        participant_id
            The participant.
        customers
            Customers served so far [customers].
        volume_usd
            Cumulative volume so far [USD].
        as_of
            Day of the figures; today by default.

        Returns
        -------
        ParticipantView
            The participant, with the caps its usage breaches.

        Raises
        ------
        AccessError
            For the public.
        NotFoundError
            If there is no such participant (or it is another firm's).
        TransitionError
            If the participant has left the sandbox.
        InputError
            Field ``customers``, ``volume_usd`` or ``as_of``.
        """
        require_role(principal, ("staff", "firm"), "report sandbox usage")

        def work(session: Session) -> ParticipantView:
            row, cohort_row, firm_name = self._participant_row(session, principal, participant_id)
            if row.status != "active":
                raise TransitionError(
                    f"status: participant {row.id} has {row.status}; usage is reported "
                    "by active participants"
                )
            now = self.now()
            day = now.date() if as_of is None else as_of
            if not isinstance(day, date) or day < row.admitted_on:
                raise InputError("as_of", day, f"a day on or after admission ({row.admitted_on})")
            reported = usage(day, customers, volume_usd)
            row.usage_as_of = reported.as_of
            row.customers = reported.customers
            row.volume_usd = reported.volume_usd
            session.flush()
            view = _participant_view(row, cohort_row, firm_name)
            self._audit(
                session,
                principal,
                "sandbox.usage",
                f"participant:{row.id}",
                {
                    "as_of": reported.as_of,
                    "customers": reported.customers,
                    "volume_usd": reported.volume_usd,
                    "breaches": [b.code for b in view.breaches],
                },
                now,
            )
            return view

        return self._write(work)

    def decide_sandbox_exit(
        self,
        principal: Principal,
        participant_id: int,
        decision: ExitDecision | str,
        *,
        reason: str,
        extend_days: int | None = None,
    ) -> ParticipantView:
        """Graduate, extend or exit a participant (staff only).

        Graduation is refused while the latest usage breaches a cap
        (:func:`~hashnation.registry.sandbox.decide_exit`); an extension moves the
        participant's last day.

        Parameters
        ----------
        principal
            Staff.
        participant_id
            The participant (active).
        decision
            ``graduate``, ``extend`` or ``exit``.
        reason
            Why (required).
        extend_days
            For ``extend``: extra days [days].

        Returns
        -------
        ParticipantView
            The participant after the decision.

        Raises
        ------
        AccessError
            If the caller is not staff.
        NotFoundError
            If there is no such participant.
        TransitionError
            If the participant has already left the sandbox.
        InputError
            Field ``decision``, ``reason`` or ``extend_days``.
        """
        require_role(principal, ("staff",), "decide sandbox exits")

        def work(session: Session) -> ParticipantView:
            row, cohort_row, firm_name = self._participant_row(session, principal, participant_id)
            if row.status != "active":
                raise TransitionError(
                    f"status: participant {row.id} has {row.status}; exit decisions are "
                    "taken on active participants"
                )
            now = self.now()
            today = now.date()
            latest = _participant_usage(row) or SandboxUsage(today, 0, Decimal(0))
            made = decide_exit(
                _cohort_domain(cohort_row),
                latest,
                decision,
                decided_on=today,
                reason=reason,
                extend_days=extend_days,
                closes_on=row.closes_on,
            )
            if made.decision is ExitDecision.GRADUATE:
                row.status = "graduated"
            elif made.decision is ExitDecision.EXIT:
                row.status = "exited"
            elif made.new_closes_on is not None:
                row.closes_on = made.new_closes_on
            row.exit_decision = made.decision.value
            row.exit_reason = made.reason
            row.decided_on = made.decided_on
            session.flush()
            self._audit(
                session,
                principal,
                f"sandbox.{made.decision.value}",
                f"participant:{row.id}",
                {
                    "reason": made.reason,
                    "status": row.status,
                    "closes_on": row.closes_on,
                    "decided_on": made.decided_on,
                },
                now,
            )
            return _participant_view(row, cohort_row, firm_name)

        return self._write(work)

    def list_participants(
        self, principal: Principal, *, cohort_id: int | None = None
    ) -> list[ParticipantView]:
        """Sandbox participants, oldest first (staff: all; a firm: its own).

        Raises
        ------
        AccessError
            For the public.
        """
        require_role(principal, ("staff", "firm"), "read sandbox participants")
        stmt = (
            select(SandboxParticipant, SandboxCohort, Firm.name)
            .join(SandboxCohort, SandboxParticipant.cohort_id == SandboxCohort.id)
            .join(Firm, SandboxParticipant.firm_id == Firm.id)
            .order_by(SandboxParticipant.id)
        )
        if cohort_id is not None:
            stmt = stmt.where(SandboxParticipant.cohort_id == _id("cohort_id", cohort_id))
        if principal.role == "firm":
            stmt = stmt.where(SandboxParticipant.firm_id == principal.firm_id)
        with self._read() as session:
            return [_participant_view(p, c, n) for p, c, n in session.execute(stmt)]

    def get_participant(self, principal: Principal, participant_id: int) -> ParticipantView:
        """One sandbox participant (staff: any; a firm: its own).

        Raises
        ------
        AccessError
            For the public.
        NotFoundError
            If there is no such participant (or it is another firm's).
        """
        require_role(principal, ("staff", "firm"), "read sandbox participants")
        with self._read() as session:
            return _participant_view(*self._participant_row(session, principal, participant_id))

    # ------------------------------------------------------------ public register

    def _register_select(
        self, query: str | None, licence_type: LicenceType | str | None, status: Status | str | None
    ) -> Select[Application, Firm]:
        stmt = select(Application, Firm).join(Firm, Application.firm_id == Firm.id)
        if status is not None and str(status).strip():
            wanted = parse_status(str(status).strip().lower())
            if wanted not in PUBLIC:
                raise InputError(
                    "status", status, f"a status on the register: {', '.join(_PUBLIC_VALUES)}"
                )
            stmt = stmt.where(Application.status == wanted.value)
        else:
            stmt = stmt.where(Application.status.in_(_PUBLIC_VALUES))
        if licence_type is not None and str(licence_type).strip():
            spec = licence_spec(str(licence_type).strip().lower(), self.licences)
            stmt = stmt.where(Application.licence_type == spec.type.value)
        needle = (query or "").strip().lower()
        if needle:
            stmt = stmt.where(
                or_(
                    func.lower(Firm.name).contains(needle, autoescape=True),
                    func.lower(Firm.commercial_name).contains(needle, autoescape=True),
                    func.lower(Firm.registration_number).contains(needle, autoescape=True),
                    func.lower(Firm.lei).contains(needle, autoescape=True),
                    and_(
                        Application.licence_number.is_not(None),
                        func.lower(Application.licence_number).contains(needle, autoescape=True),
                    ),
                )
            )
        return stmt

    def _register_row(self, row: Application, firm: Firm) -> RegisterRow:
        kind = LicenceType(row.licence_type)
        return RegisterRow(
            licence_number=row.licence_number or "",
            entity_name=firm.name,
            commercial_name=firm.commercial_name,
            registration_number=firm.registration_number,
            lei=firm.lei,
            home_country=firm.home_country,
            competent_authority=self.authority,
            licence_type=kind.value,
            services=SERVICES[kind],
            status=row.status,
            authorisation_date=row.authorised_on,
            status_date=row.status_since.date(),
            conditions=tuple(row.conditions),
            address=firm.address,
            website=firm.website,
            last_updated=row.status_since.date(),
            firm_id=firm.id,
            application_id=row.id,
        )

    def register(
        self,
        *,
        query: str | None = None,
        licence_type: LicenceType | str | None = None,
        status: Status | str | None = None,
        limit: int | None = 50,
        offset: int = 0,
    ) -> list[RegisterRow]:
        """Read the public register: licences in a public status (anyone; one query).

        Parameters
        ----------
        query
            Text found, ignoring case, in the entity or commercial name, the
            registration number, the LEI or the licence number.
        licence_type
            Only this licence type.
        status
            Only this status (one of the register's: licensed, suspended, revoked,
            revocation_appealed, revocation_upheld, surrendered).
        limit
            Entries at most (1-1000), or None for all (exports).
        offset
            Entries skipped.

        Returns
        -------
        list of RegisterRow
            Ordered by entity name, then licence. Answered from a cache while the
            register's version stands (:mod:`hashnation.registry.cache`).

        Raises
        ------
        InputError
            Field ``licence_type``, ``status`` (unknown or not public), ``limit`` or
            ``offset``.
        """
        _page(limit, offset)

        def read() -> tuple[RegisterRow, ...]:
            stmt = (
                self._register_select(query, licence_type, status)
                .order_by(Firm.name, Application.id)
                .offset(offset)
            )
            if limit is not None:
                stmt = stmt.limit(limit)
            with self._read() as session:
                return tuple(self._register_row(row, firm) for row, firm in session.execute(stmt))

        key = ("register", query, licence_type, status, limit, offset)
        return list(self._cached(key, read))

    def register_count(
        self,
        *,
        query: str | None = None,
        licence_type: LicenceType | str | None = None,
        status: Status | str | None = None,
    ) -> int:
        """Count the register entries matching the same filters as :meth:`register`.

        Returns
        -------
        int
            Entries [count].
        """

        def read() -> int:
            inner = self._register_select(query, licence_type, status).with_only_columns(
                Application.id
            )
            stmt = select(func.count()).select_from(inner.subquery())
            with self._read() as session:
                return int(session.scalar(stmt) or 0)

        return self._cached(("register_count", query, licence_type, status), read)

    def firm_record(self, firm_id: int) -> FirmRecord:
        """Read a firm's public record: its public licences, their decisions, enforcement.

        Parameters
        ----------
        firm_id
            The firm.

        Returns
        -------
        FirmRecord
            Only licences in a public status, and what concerns them. While the
            register's version stands the same object is given to every caller
            (:mod:`hashnation.registry.cache`): read it, do not change it.

        Raises
        ------
        NotFoundError
            If the firm does not exist or has no licence on the register.
        """
        firm_id = _id("firm_id", firm_id)
        return self._cached(("firm_record", firm_id), lambda: self._firm_record(firm_id))

    def _firm_record(self, firm_id: int) -> FirmRecord:
        with self._read() as session:
            firm = session.get(Firm, firm_id)
            rows = (
                []
                if firm is None
                else list(
                    session.scalars(
                        select(Application)
                        .where(
                            Application.firm_id == firm_id,
                            Application.status.in_(_PUBLIC_VALUES),
                        )
                        .order_by(Application.id)
                    )
                )
            )
            if firm is None or not rows:
                raise NotFoundError(f"firm_id: no firm {firm_id} on the register")
            ids = [row.id for row in rows]
            decisions = session.scalars(
                select(DecisionRecord)
                .where(DecisionRecord.application_id.in_(ids))
                .order_by(DecisionRecord.decided_at, DecisionRecord.id)
            )
            actions = session.scalars(
                select(EnforcementRecord)
                .where(EnforcementRecord.application_id.in_(ids))
                .order_by(EnforcementRecord.id)
            )
            return FirmRecord(
                firm=_firm_view(firm),
                licences=[_application_view(row, firm.name) for row in rows],
                decisions=[_decision_view(d) for d in decisions],
                enforcement=[_enforcement_view(e) for e in actions],
            )

    # ------------------------------------------------------------ tokens

    def issue_token(
        self,
        principal: Principal,
        *,
        role: Literal["staff", "firm"],
        firm_id: int | None = None,
        label: str,
    ) -> str:
        """Issue an API token (staff only); only its SHA-256 is stored.

        Parameters
        ----------
        principal
            Staff.
        role
            ``staff`` or ``firm``.
        firm_id
            The firm a ``firm`` token acts for.
        label
            Who holds it (1-200 characters); the actor named in the audit log.

        Returns
        -------
        str
            The token (``hn_`` + 43 characters), shown this once.

        Raises
        ------
        AccessError
            If the caller is not staff.
        NotFoundError
            If there is no such firm.
        InputError
            Field ``role``, ``firm_id`` or ``label``.
        """
        require_role(principal, ("staff",), "issue API tokens")

        def work(session: Session) -> str:
            if role == "firm":
                self._firm_row(session, principal, _id("firm_id", firm_id))
            now = self.now()
            token, view = _tokens.issue(
                session, role=role, firm_id=firm_id, label=label, created_at=now
            )
            self._audit(
                session,
                principal,
                "token.issued",
                f"token:{view.id}",
                {"role": view.role, "firm_id": view.firm_id, "label": view.label},
                now,
            )
            return token

        return self._write(work)

    def authenticate(self, token: str | None) -> Principal:
        """Find the principal a token stands for (one indexed query).

        Parameters
        ----------
        token
            The bearer token, or None for an anonymous caller.

        Returns
        -------
        Principal
            :data:`PUBLIC_PRINCIPAL` for None; else the token's role and firm, named
            by its label.

        Raises
        ------
        AccessError
            If the token is malformed, unknown or revoked.
        """
        if token is None:
            return PUBLIC_PRINCIPAL
        with self._read() as session:
            view = _tokens.find(session, token)
        return Principal(view.role, view.firm_id, view.label)

    def revoke_token(self, principal: Principal, token_id: int) -> TokenView:
        """Revoke an API token (staff only).

        Raises
        ------
        AccessError
            If the caller is not staff.
        NotFoundError
            If there is no such token.
        """
        require_role(principal, ("staff",), "revoke API tokens")
        token_id = _id("token_id", token_id)

        def work(session: Session) -> TokenView:
            now = self.now()
            view = _tokens.revoke(session, token_id, revoked_at=now)
            self._audit(
                session,
                principal,
                "token.revoked",
                f"token:{view.id}",
                {"role": view.role, "firm_id": view.firm_id, "label": view.label},
                now,
            )
            return view

        return self._write(work)

    def list_tokens(self, principal: Principal, *, firm_id: int | None = None) -> list[TokenView]:
        """List the API tokens issued, never their text (staff only).

        Raises
        ------
        AccessError
            If the caller is not staff.
        """
        require_role(principal, ("staff",), "list API tokens")
        if firm_id is not None:
            firm_id = _id("firm_id", firm_id)
        with self._read() as session:
            return _tokens.list_tokens(session, firm_id=firm_id)

    # ------------------------------------------------------------ audit log

    def verify_audit(self, *, expected_head: str | None = None) -> AuditCheck:
        """Verify the whole audit log (anyone).

        Parameters
        ----------
        expected_head
            A head hash published earlier; detects entries removed from the end.

        Returns
        -------
        AuditCheck
            Entry count and the head hash to publish.

        Raises
        ------
        AuditLogError
            Naming the first entry that was edited, deleted or reordered.
        """
        with self._read() as session:
            return audit.verify(session, expected_head=expected_head)

    def audit_log(
        self,
        principal: Principal,
        *,
        subject: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AuditEntryView]:
        """Audit log entries, newest first (staff only).

        Parameters
        ----------
        principal
            Staff.
        subject
            Only entries about this subject (``application:12``).
        limit, offset
            Page: entries at most (1-1000) and entries skipped.

        Returns
        -------
        list of AuditEntryView
            Newest first.

        Raises
        ------
        AccessError
            If the caller is not staff.
        """
        require_role(principal, ("staff",), "read the audit log")
        with self._read() as session:
            return audit.entries(session, subject=subject, limit=limit, offset=offset)

    def is_empty(self) -> bool:
        """Whether the registry holds no firm, cohort, token or audit entry yet."""
        with self._read() as session:
            for model in (Firm, SandboxCohort, ApiToken):
                if session.scalar(select(model.id).limit(1)) is not None:
                    return False
            return audit.count(session) == 0


def _aware_utc(value: datetime | str) -> datetime:
    """Make a stored time aware UTC (aggregates may come back naive from SQLite)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.utcoffset() is None else value.astimezone(UTC)
