"""The registry service on SQLite and PostgreSQL: workflow, authorization, returns, register."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, is_dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from hashnation.errors import (
    AccessError,
    InputError,
    NotFoundError,
    RegistryError,
    ReturnError,
    TransitionError,
)
from hashnation.registry import audit
from hashnation.registry.licences import LICENCE_SPECS, LicenceType
from hashnation.registry.schedule import filing_calendar
from hashnation.registry.service import PUBLIC_PRINCIPAL, Principal, Registry
from hashnation.registry.views import ApplicationView, FirmView
from hashnation.registry.workflow import PUBLIC, Action, Status

STAFF = Principal.staff("officer")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: int = 0, hours: int = 0) -> None:
        self.now += timedelta(days=days, hours=hours)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(db_url: str, clock: Clock) -> Iterator[Registry]:
    with Registry(db_url, clock=clock) as reg:
        yield reg


def _count(registry: Registry, table: str) -> int:
    with registry.engine.connect() as conn:
        return int(conn.scalar(sa.text(f"SELECT COUNT(*) FROM {table}")) or 0)


def _firm(registry: Registry, name: str, number: str, **extra: Any) -> tuple[FirmView, Principal]:
    firm = registry.register_firm(STAFF, name=name, registration_number=number, **extra)
    return firm, Principal.firm(firm.id, name.split()[0].lower())


def _apply(
    registry: Registry, firm: FirmView, licence_type: LicenceType = LicenceType.EXCHANGE
) -> ApplicationView:
    spec = LICENCE_SPECS[licence_type]
    return registry.open_application(
        STAFF,
        firm.id,
        licence_type,
        documents=spec.required_documents,
        capital_usd=spec.min_capital_usd * 2,
    )


def _license(
    registry: Registry,
    clock: Clock,
    firm: FirmView,
    principal: Principal,
    licence_type: LicenceType = LicenceType.EXCHANGE,
) -> ApplicationView:
    app = _apply(registry, firm, licence_type)
    registry.act(principal, app.id, "submit")
    clock.advance(days=1)
    registry.act(STAFF, app.id, "begin_review")
    registry.act(STAFF, app.id, "approve", conditions=["Publish reserves monthly."])
    clock.advance(days=1)
    return registry.act(STAFF, app.id, "grant_licence")


def _exchange_return(start: str, end: str, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "period_start": start,
        "period_end": end,
        "customers": 1200,
        "complaints_received": 4,
        "complaints_resolved": 4,
        "capital_usd": "2000000",
        "customer_assets_btc_sat": 4_200_000_000,
        "customer_assets_fiat_usd": "250000.00",
        "trading_volume_usd": "18000000",
    }
    payload.update(changes)
    return payload


# ---------------------------------------------------------------- workflow


def test_workflow_to_licence_assigns_unique_numbers(registry: Registry, clock: Clock) -> None:
    indus, indus_p = _firm(registry, "Indus Exchange Ltd", "001")
    ravi, ravi_p = _firm(registry, "Ravi Brokers", "002")
    draft = _apply(registry, indus)
    assert draft.status is Status.DRAFT
    assert draft.firm_name == "Indus Exchange Ltd"
    assert draft.allowed_actions == (Action.SUBMIT, Action.WITHDRAW)
    assert draft.submitted_at is None and draft.licence_number is None

    first = registry.act(indus_p, draft.id, "submit")
    assert first.submitted_at == T0 and first.status is Status.SUBMITTED
    clock.advance(days=2)
    registry.act(STAFF, draft.id, Action.BEGIN_REVIEW)
    registry.act(STAFF, draft.id, "request_information", reason="Send the custody policy.")
    registry.act(indus_p, draft.id, "provide_information")
    approved = registry.act(
        STAFF, draft.id, "approve", conditions=[" Publish reserves monthly. ", ""]
    )
    assert approved.conditions == ("Publish reserves monthly.",)
    assert approved.licence_number is None
    clock.advance(days=1)
    granted = registry.act(STAFF, draft.id, "grant_licence")
    assert granted.status is Status.LICENSED
    assert granted.licence_number == "VA-EXC-0001"
    assert granted.authorised_on == date(2026, 1, 8)
    assert granted.status_since == clock.now

    second_indus = _license(registry, clock, indus, indus_p)
    broker = _license(registry, clock, ravi, ravi_p, LicenceType.BROKER)
    assert second_indus.licence_number == "VA-EXC-0002"
    assert broker.licence_number == "VA-BRK-0001"

    steps = registry.list_decisions(STAFF, draft.id)
    assert [d.action for d in steps] == [
        Action.SUBMIT,
        Action.BEGIN_REVIEW,
        Action.REQUEST_INFORMATION,
        Action.PROVIDE_INFORMATION,
        Action.APPROVE,
        Action.GRANT_LICENCE,
    ]
    assert steps[2].reason == "Send the custody policy."
    assert steps[0].actor == "indus" and steps[1].actor == "officer"
    assert registry.verify_audit().entries > 0


def test_open_application_checks_documents_and_capital(registry: Registry) -> None:
    firm, principal = _firm(registry, "Indus Exchange Ltd", "001")
    spec = LICENCE_SPECS[LicenceType.EXCHANGE]
    with pytest.raises(InputError, match="documents"):
        registry.open_application(
            principal, firm.id, "exchange", documents=["business_plan"], capital_usd=Decimal(10**7)
        )
    with pytest.raises(InputError, match="capital_usd"):
        registry.open_application(
            principal,
            firm.id,
            "exchange",
            documents=spec.required_documents,
            capital_usd=Decimal(1),
        )
    with pytest.raises(InputError, match="licence_type"):
        registry.open_application(
            principal, firm.id, "casino", documents=[], capital_usd=Decimal(1)
        )
    app = registry.open_application(
        principal,
        firm.id,
        "exchange",
        documents=[*spec.required_documents, "business_plan"],
        capital_usd=Decimal("1500000"),
    )
    assert app.documents == spec.required_documents
    assert app.capital_usd == Decimal("1500000.00")


def test_register_firm_checks_fields(registry: Registry) -> None:
    firm = registry.register_firm(
        STAFF,
        name=" Indus Exchange Ltd ",
        registration_number="001",
        commercial_name="IndusX",
        lei="5493001KJTIIGC8Y1R12",
        address="1 Blue Area, Islamabad",
        website="https://indus.example.pk",
    )
    assert firm.name == "Indus Exchange Ltd"
    assert firm.home_country == "PK"
    assert firm.created_at == T0
    with pytest.raises(InputError, match="registration_number"):
        registry.register_firm(STAFF, name="Other", registration_number="001")
    with pytest.raises(InputError, match="lei"):
        registry.register_firm(STAFF, name="Other", registration_number="002", lei="ABC")
    with pytest.raises(InputError, match="lei"):
        registry.register_firm(
            STAFF, name="Other", registration_number="002", lei="5493001KJTIIGC8Y1R13"
        )
    with pytest.raises(InputError, match="lei"):
        registry.register_firm(
            STAFF, name="Other", registration_number="002", lei="5493001KJTIIGC8Y1R12"
        )
    with pytest.raises(InputError, match="name"):
        registry.register_firm(STAFF, name="  ", registration_number="003")
    assert [f.id for f in registry.list_firms(STAFF)] == [firm.id]
    assert registry.get_firm(STAFF, firm.id) == firm


def test_review_queue_lists_what_waits_for_staff(registry: Registry, clock: Clock) -> None:
    firm, principal = _firm(registry, "Indus Exchange Ltd", "001")
    waiting = _apply(registry, firm)
    registry.act(principal, waiting.id, "submit")
    clock.advance(hours=1)
    reviewing = _apply(registry, firm, LicenceType.ADVISOR)
    registry.act(principal, reviewing.id, "submit")
    registry.act(STAFF, reviewing.id, "begin_review")
    asked = _apply(registry, firm, LicenceType.BROKER)
    registry.act(principal, asked.id, "submit")
    registry.act(STAFF, asked.id, "begin_review")
    registry.act(STAFF, asked.id, "request_information", reason="More please.")
    _apply(registry, firm, LicenceType.CUSTODIAL_WALLET)  # a draft waits for the firm
    assert [a.id for a in registry.review_queue(STAFF)] == [waiting.id, reviewing.id]
    assert [a.id for a in registry.list_applications(STAFF, status="draft")] == [4]
    assert len(registry.list_applications(STAFF, licence_type="broker")) == 1


# ---------------------------------------------------------------- audit in the same transaction


def test_every_change_writes_its_audit_entry(registry: Registry, clock: Clock) -> None:
    firm, principal = _firm(registry, "Indus Exchange Ltd", "001")
    app = _license(registry, clock, firm, principal)
    clock.now = datetime(2026, 2, 20, tzinfo=UTC)
    ret = registry.file_return(principal, app.id, _exchange_return("2026-01-01", "2026-01-31"))
    registry.enforce(STAFF, app.id, "warning", reason="Late notice.")
    cohort = registry.create_cohort(
        STAFF,
        code="SBX-1",
        name="First cohort",
        opens_on=date(2026, 2, 1),
        max_customers=100,
        max_volume_usd=Decimal(10_000),
        max_duration_days=90,
    )
    participant = registry.admit_to_sandbox(STAFF, cohort.id, firm.id, product="Remittances")
    registry.record_sandbox_usage(principal, participant.id, customers=5, volume_usd=Decimal(100))
    registry.decide_sandbox_exit(STAFF, participant.id, "exit", reason="Done.")
    registry.issue_token(STAFF, role="staff", label="bob")
    entries = list(reversed(registry.audit_log(STAFF)))
    assert [(e.action, e.subject) for e in entries] == [
        ("firm.registered", f"firm:{firm.id}"),
        ("application.opened", f"application:{app.id}"),
        ("application.submit", f"application:{app.id}"),
        ("application.begin_review", f"application:{app.id}"),
        ("application.approve", f"application:{app.id}"),
        ("application.grant_licence", f"application:{app.id}"),
        ("return.filed", f"return:{ret.id}"),
        ("enforcement.warning", f"application:{app.id}"),
        ("sandbox.cohort_created", f"cohort:{cohort.id}"),
        ("sandbox.admitted", f"participant:{participant.id}"),
        ("sandbox.usage", f"participant:{participant.id}"),
        ("sandbox.exit", f"participant:{participant.id}"),
        ("token.issued", "token:1"),
    ]
    assert entries[5].payload["licence_number"] == "VA-EXC-0001"
    assert entries[0].actor == "officer" and entries[2].actor == "indus"
    check = registry.verify_audit()
    assert check.entries == 13
    assert registry.verify_audit(expected_head=check.head_hash) == check
    assert len(registry.audit_log(STAFF, subject=f"application:{app.id}")) == 6


def test_a_failing_action_leaves_neither_change_nor_audit_entry(
    registry: Registry, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    firm, principal = _firm(registry, "Indus Exchange Ltd", "001")
    app = _apply(registry, firm)
    before = (_count(registry, "registry_audit"), _count(registry, "decisions"))
    with pytest.raises(TransitionError, match="'approve' is not allowed"):
        registry.act(STAFF, app.id, "approve")
    assert (_count(registry, "registry_audit"), _count(registry, "decisions")) == before

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(audit, "append", broken)
    with pytest.raises(RuntimeError):
        registry.act(principal, app.id, "submit")  # the change is flushed, then rolled back
    with pytest.raises(RuntimeError):
        registry.register_firm(STAFF, name="Ravi", registration_number="002")
    monkeypatch.undo()
    assert registry.get_application(STAFF, app.id).status is Status.DRAFT
    assert (_count(registry, "registry_audit"), _count(registry, "decisions")) == before
    assert _count(registry, "firms") == 1
    assert registry.verify_audit().entries == before[0]


# ---------------------------------------------------------------- authorization


def test_a_firm_cannot_see_or_touch_another_firms_records(registry: Registry, clock: Clock) -> None:
    a, a_p = _firm(registry, "Alpha Exchange", "A1")
    b, b_p = _firm(registry, "Beta Exchange", "B1")
    b_app = _license(registry, clock, b, b_p)
    clock.now = datetime(2026, 2, 20, tzinfo=UTC)
    b_ret = registry.file_return(b_p, b_app.id, _exchange_return("2026-01-01", "2026-01-31"))
    cohort = registry.create_cohort(
        STAFF,
        code="S",
        name="Sandbox",
        opens_on=date(2026, 2, 1),
        max_customers=10,
        max_volume_usd=Decimal(1000),
        max_duration_days=30,
    )
    b_part = registry.admit_to_sandbox(STAFF, cohort.id, b.id, product="Wallet")

    attempts = [
        lambda: registry.get_firm(a_p, b.id),
        lambda: registry.get_application(a_p, b_app.id),
        lambda: registry.list_decisions(a_p, b_app.id),
        lambda: registry.act(a_p, b_app.id, "surrender"),
        lambda: registry.file_return(a_p, b_app.id, _exchange_return("2026-01-01", "2026-01-31")),
        lambda: registry.get_return(a_p, b_ret.id),
        lambda: registry.list_returns(a_p, application_id=b_app.id),
        lambda: registry.list_returns(a_p, firm_id=b.id),
        lambda: registry.list_applications(a_p, firm_id=b.id),
        lambda: registry.list_enforcement(a_p, firm_id=b.id),
        lambda: registry.open_application(
            a_p, b.id, "advisor", documents=[], capital_usd=Decimal(10**6)
        ),
        lambda: registry.record_sandbox_usage(a_p, b_part.id, customers=1, volume_usd=Decimal(1)),
        lambda: registry.get_participant(a_p, b_part.id),
    ]
    for attempt in attempts:
        with pytest.raises(NotFoundError) as caught:
            attempt()
        # the same answer as for an id that does not exist
        assert "no " in str(caught.value)
    with pytest.raises(NotFoundError) as missing:
        registry.get_application(a_p, 999)
    with pytest.raises(NotFoundError) as hidden:
        registry.get_application(a_p, b_app.id)
    assert str(missing.value).replace("999", "N") == str(hidden.value).replace(str(b_app.id), "N")
    assert registry.list_applications(a_p) == []
    assert registry.list_returns(a_p) == []
    assert registry.list_participants(a_p) == []
    assert [f.id for f in registry.list_firms(a_p)] == [a.id]
    assert registry.late_filings(a_p, date(2026, 6, 1)) == []
    assert registry.get_application(b_p, b_app.id).id == b_app.id
    assert registry.get_return(b_p, b_ret.id) == b_ret


def test_public_can_only_read_the_register(registry: Registry, clock: Clock) -> None:
    firm, principal = _firm(registry, "Indus Exchange Ltd", "001")
    app = _license(registry, clock, firm, principal)
    calls = [
        lambda: registry.register_firm(PUBLIC_PRINCIPAL, name="x", registration_number="9"),
        lambda: registry.get_firm(PUBLIC_PRINCIPAL, firm.id),
        lambda: registry.list_firms(PUBLIC_PRINCIPAL),
        lambda: registry.open_application(
            PUBLIC_PRINCIPAL, firm.id, "advisor", documents=[], capital_usd=Decimal(1)
        ),
        lambda: registry.act(PUBLIC_PRINCIPAL, app.id, "surrender"),
        lambda: registry.get_application(PUBLIC_PRINCIPAL, app.id),
        lambda: registry.list_applications(PUBLIC_PRINCIPAL),
        lambda: registry.review_queue(PUBLIC_PRINCIPAL),
        lambda: registry.list_decisions(PUBLIC_PRINCIPAL, app.id),
        lambda: registry.file_return(PUBLIC_PRINCIPAL, app.id, {}),
        lambda: registry.list_returns(PUBLIC_PRINCIPAL),
        lambda: registry.get_return(PUBLIC_PRINCIPAL, 1),
        lambda: registry.late_filings(PUBLIC_PRINCIPAL, date(2026, 6, 1)),
        lambda: registry.enforce(PUBLIC_PRINCIPAL, app.id, "warning", reason="x"),
        lambda: registry.list_enforcement(PUBLIC_PRINCIPAL),
        lambda: registry.list_cohorts(PUBLIC_PRINCIPAL),
        lambda: registry.list_participants(PUBLIC_PRINCIPAL),
        lambda: registry.audit_log(PUBLIC_PRINCIPAL),
    ]
    for call in calls:
        with pytest.raises(AccessError, match="'public' may not"):
            call()
    assert len(registry.register()) == 1
    assert registry.firm_record(firm.id).firm.id == firm.id
    assert registry.verify_audit().entries > 0


def test_firms_cannot_take_staff_actions(registry: Registry, clock: Clock) -> None:
    firm, principal = _firm(registry, "Indus Exchange Ltd", "001")
    app = _apply(registry, firm)
    registry.act(principal, app.id, "submit")
    for action in ("begin_review", "approve", "refuse", "grant_licence", "suspend", "revoke"):
        with pytest.raises(AccessError, match="a firm may not"):
            registry.act(principal, app.id, action, reason="x")
    staff_only = [
        lambda: registry.register_firm(principal, name="x", registration_number="9"),
        lambda: registry.review_queue(principal),
        lambda: registry.enforce(principal, app.id, "warning", reason="x"),
        lambda: registry.create_cohort(
            principal,
            code="S",
            name="S",
            opens_on=date(2026, 1, 1),
            max_customers=1,
            max_volume_usd=Decimal(1),
            max_duration_days=1,
        ),
        lambda: registry.admit_to_sandbox(principal, 1, firm.id, product="x"),
        lambda: registry.decide_sandbox_exit(principal, 1, "exit", reason="x"),
        lambda: registry.issue_token(principal, role="firm", firm_id=firm.id, label="x"),
        lambda: registry.audit_log(principal),
    ]
    for call in staff_only:
        with pytest.raises(AccessError, match="'firm' may not"):
            call()
    assert registry.get_application(STAFF, app.id).status is Status.SUBMITTED


def test_staff_cannot_take_firm_only_actions(registry: Registry, clock: Clock) -> None:
    firm, principal = _firm(registry, "Indus Exchange Ltd", "001")
    draft = _apply(registry, firm)
    for action in ("submit", "withdraw", "provide_information", "appeal", "surrender"):
        with pytest.raises(AccessError, match="staff may not"):
            registry.act(STAFF, draft.id, action)
    app = _license(registry, clock, firm, principal)
    clock.now = datetime(2026, 2, 20, tzinfo=UTC)
    with pytest.raises(AccessError, match="'staff' may not"):
        registry.file_return(STAFF, app.id, _exchange_return("2026-01-01", "2026-01-31"))
    assert registry.get_application(STAFF, draft.id).status is Status.DRAFT


def test_principals_are_validated() -> None:
    with pytest.raises(InputError, match="firm_id"):
        Principal("firm", None, "x")
    with pytest.raises(InputError, match="firm_id"):
        Principal("staff", 3, "x")
    with pytest.raises(InputError, match="role"):
        Principal("admin", None, "x")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="name"):
        Principal("staff", None, " ")


# ---------------------------------------------------------------- returns


def test_bad_returns_store_nothing(registry: Registry, clock: Clock) -> None:
    firm, principal = _firm(registry, "Indus Exchange Ltd", "001")
    app = _license(registry, clock, firm, principal)
    clock.now = datetime(2026, 2, 20, tzinfo=UTC)
    before = (_count(registry, "returns"), _count(registry, "registry_audit"))
    bad = [
        (_exchange_return("2026-01-01", "2026-01-31", customers=-1), "customers"),
        (_exchange_return("2026-01-01", "2026-01-31", complaints_resolved=9), "complaints"),
        (_exchange_return("2026-01-01", "2026-01-31", licence_type="broker"), "licence_type"),
        (_exchange_return("2026-01-01", "2026-01-31", surprise=1), "surprise"),
        (_exchange_return("2026-01-05", "2026-01-31"), "period_start"),
        (_exchange_return("2026-01-01", "2026-03-31"), "period_start"),
        (_exchange_return("2026-02-01", "2026-02-28"), "period_end"),  # not ended yet
        (_exchange_return("2025-11-01", "2025-11-30"), "period_end"),  # before the licence
    ]
    for payload, field in bad:
        with pytest.raises(ReturnError) as caught:
            registry.file_return(principal, app.id, payload)
        assert field in caught.value.field, (field, caught.value)
    draft = _apply(registry, firm, LicenceType.ADVISOR)
    with pytest.raises(TransitionError, match="returns are filed under a licence"):
        registry.file_return(principal, draft.id, _exchange_return("2026-01-01", "2026-01-31"))
    assert (_count(registry, "returns"), _count(registry, "registry_audit")) == (
        before[0],
        before[1] + 1,  # the advisor application opened above
    )


def test_returns_show_breaches_and_amendments_get_new_versions(
    registry: Registry, clock: Clock
) -> None:
    firm, principal = _firm(registry, "Indus Exchange Ltd", "001")
    app = _license(registry, clock, firm, principal)
    clock.now = datetime(2026, 2, 10, 8, tzinfo=UTC)
    first = registry.file_return(
        principal,
        app.id,
        _exchange_return("2026-01-01", "2026-01-31", capital_usd="10", complaints_resolved=1),
    )
    assert first.version == 1
    assert first.filed_by == "indus" and first.filed_at == clock.now
    assert first.licence_type is LicenceType.EXCHANGE
    assert {b.code for b in first.breaches} == {"capital_below_minimum", "unresolved_complaints"}
    assert first.payload["capital_usd"] == "10"
    assert first.payload["licence_type"] == "exchange"
    clock.advance(days=3)
    amended = registry.file_return(principal, app.id, _exchange_return("2026-01-01", "2026-01-31"))
    assert amended.version == 2 and amended.breaches == []
    assert [r.version for r in registry.list_returns(STAFF, application_id=app.id)] == [1, 2]
    latest = registry.list_returns(principal, latest_only=True)
    assert [r.id for r in latest] == [amended.id]
    assert registry.get_return(STAFF, first.id) == first
    entry = registry.audit_log(STAFF, subject=f"return:{amended.id}")[0]
    assert entry.payload["version"] == 2
    assert len(entry.payload["return_sha256"]) == 64


def test_late_filings_follow_the_schedule(registry: Registry, clock: Clock) -> None:
    firm, principal = _firm(registry, "Indus Exchange Ltd", "001")
    app = _license(registry, clock, firm, principal)  # licensed 2026-01-07
    clock.now = datetime(2026, 2, 25, tzinfo=UTC)  # due 2026-02-15: late
    registry.file_return(principal, app.id, _exchange_return("2026-01-01", "2026-01-31"))
    clock.now = datetime(2026, 4, 10, tzinfo=UTC)  # March on time (due 04-15)
    registry.file_return(principal, app.id, _exchange_return("2026-03-01", "2026-03-31"))
    as_of = date(2026, 5, 20)
    late = registry.late_filings(STAFF, as_of)
    spec = LICENCE_SPECS[LicenceType.EXCHANGE]
    calendar = filing_calendar(
        spec,
        date(2026, 1, 7),
        {
            (date(2026, 1, 1), date(2026, 1, 31)): date(2026, 2, 25),
            (date(2026, 3, 1), date(2026, 3, 31)): date(2026, 4, 10),
        },
        as_of,
    )
    expected = [
        (c.period_start, c.period_end, c.state, c.filed_on)
        for c in calendar
        if c.state in ("late", "filed_late")
    ]
    assert [(x.period_start, x.period_end, x.state, x.filed_on) for x in late] == expected
    assert [x.state for x in late] == ["filed_late", "late", "late"]
    assert [x.breach.code for x in late] == ["late_return", "missing_return", "missing_return"]
    assert late[0].licence_number == "VA-EXC-0001" and late[0].firm_name == firm.name
    assert registry.late_filings(principal, as_of) == late


# ---------------------------------------------------------------- enforcement


def test_suspension_and_revocation_move_the_licence(registry: Registry, clock: Clock) -> None:
    firm, principal = _firm(registry, "Indus Exchange Ltd", "001")
    app = _license(registry, clock, firm, principal)
    warning = registry.enforce(STAFF, app.id, "warning", reason="Complaints backlog.")
    assert registry.get_application(STAFF, app.id).status is Status.LICENSED
    fine = registry.enforce(
        STAFF,
        app.id,
        "fine",
        reason="Late returns.",
        fine_usd=Decimal("25000"),
        breach_codes=["late_return"],
    )
    assert fine.fine_usd == Decimal("25000.00") and fine.breach_codes == ("late_return",)
    with pytest.raises(InputError, match="fine_usd"):
        registry.enforce(STAFF, app.id, "fine", reason="No amount.")
    suspension = registry.enforce(STAFF, app.id, "suspension", reason="Withdrawals halted.")
    assert registry.get_application(STAFF, app.id).status is Status.SUSPENDED
    with pytest.raises(TransitionError):
        registry.enforce(STAFF, app.id, "suspension", reason="Again.")
    registry.act(STAFF, app.id, "reinstate", reason="Withdrawals resumed.")
    registry.enforce(STAFF, app.id, "revocation", reason="Customer funds misused.")
    revoked = registry.get_application(STAFF, app.id)
    assert revoked.status is Status.REVOKED
    assert revoked.licence_number == "VA-EXC-0001"
    actions = [d.action for d in registry.list_decisions(STAFF, app.id)][-3:]
    assert actions == [Action.SUSPEND, Action.REINSTATE, Action.REVOKE]
    registry.act(principal, app.id, "appeal")
    back = registry.act(STAFF, app.id, "allow_appeal", reason="Funds were not misused.")
    assert back.status is Status.LICENSED and back.licence_number == "VA-EXC-0001"
    assert [e.kind.value for e in registry.list_enforcement(principal)] == [
        "warning",
        "fine",
        "suspension",
        "revocation",
    ]
    assert warning.actor == "officer" and suspension.reason == "Withdrawals halted."
    draft = _apply(registry, firm, LicenceType.ADVISOR)
    with pytest.raises(TransitionError, match="licensed or suspended"):
        registry.enforce(STAFF, draft.id, "warning", reason="x")


def test_a_failed_enforcement_leaves_the_licence_as_it_was(
    registry: Registry, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    firm, principal = _firm(registry, "Indus Exchange Ltd", "001")
    app = _license(registry, clock, firm, principal)
    before = [_count(registry, t) for t in ("decisions", "enforcement_actions", "registry_audit")]

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "append", broken)
    with pytest.raises(RuntimeError):
        registry.enforce(STAFF, app.id, "revocation", reason="x")
    monkeypatch.undo()
    assert registry.get_application(STAFF, app.id).status is Status.LICENSED
    after = [_count(registry, t) for t in ("decisions", "enforcement_actions", "registry_audit")]
    assert after == before


# ---------------------------------------------------------------- public register


def _book(registry: Registry, clock: Clock) -> dict[str, ApplicationView]:
    made: dict[str, ApplicationView] = {}
    specs = [
        ("Indus Exchange Ltd", "001", LicenceType.EXCHANGE),
        ("Karachi Custody", "002", LicenceType.CUSTODIAL_WALLET),
        ("Ravi Brokers", "003", LicenceType.BROKER),
        ("Sindh Stable", "004", LicenceType.STABLECOIN_ISSUER),
        ("Margalla Advisers", "005", LicenceType.ADVISOR),
    ]
    for name, number, kind in specs:
        firm, principal = _firm(registry, name, number, commercial_name=f"{name.split()[0]}X")
        made[name] = _license(registry, clock, firm, principal, kind)
    registry.enforce(STAFF, made["Ravi Brokers"].id, "suspension", reason="x")
    registry.enforce(STAFF, made["Sindh Stable"].id, "revocation", reason="x")
    pending, pending_p = _firm(registry, "Pending Exchange", "006")
    made["pending"] = _apply(registry, pending)
    registry.act(pending_p, made["pending"].id, "submit")
    return made


def test_register_lists_public_statuses_only(registry: Registry, clock: Clock) -> None:
    made = _book(registry, clock)
    rows = registry.register()
    assert [r.entity_name for r in rows] == [
        "Indus Exchange Ltd",
        "Karachi Custody",
        "Margalla Advisers",
        "Ravi Brokers",
        "Sindh Stable",
    ]
    assert all(Status(r.status) in PUBLIC for r in rows)
    assert made["pending"].id not in {r.application_id for r in rows}
    indus = rows[0]
    assert indus.licence_number == "VA-EXC-0001"
    assert indus.competent_authority == "Pakistan Virtual Assets Regulatory Authority"
    assert indus.home_country == "PK" and indus.licence_type == "exchange"
    assert indus.conditions == ("Publish reserves monthly.",)
    assert indus.authorisation_date == made["Indus Exchange Ltd"].authorised_on
    assert indus.services


def test_register_search_filter_and_paginate(registry: Registry, clock: Clock) -> None:
    _book(registry, clock)
    assert [r.entity_name for r in registry.register(query="KARACHI")] == ["Karachi Custody"]
    assert [r.entity_name for r in registry.register(query="ravix")] == ["Ravi Brokers"]
    assert [r.licence_number for r in registry.register(query="va-adv")] == ["VA-ADV-0001"]
    assert [r.registration_number for r in registry.register(query="004")] == ["004"]
    assert registry.register(query="%") == []  # LIKE wildcards are escaped
    assert [r.status for r in registry.register(status="suspended")] == ["suspended"]
    assert [r.licence_type for r in registry.register(licence_type="broker")] == ["broker"]
    assert registry.register(licence_type="exchange", status="revoked") == []
    assert registry.register_count() == 5
    assert registry.register_count(status="licensed") == 3
    assert registry.register_count(query="x") == 5  # every commercial name ends in X
    page1 = registry.register(limit=2)
    page2 = registry.register(limit=2, offset=2)
    page3 = registry.register(limit=2, offset=4)
    assert [r.application_id for r in page1 + page2 + page3] == [
        r.application_id for r in registry.register(limit=None)
    ]
    assert len(page3) == 1
    with pytest.raises(InputError, match="status"):
        registry.register(status="submitted")
    with pytest.raises(InputError, match="licence_type"):
        registry.register(licence_type="casino")
    with pytest.raises(InputError, match="limit"):
        registry.register(limit=0)


def test_firm_record_gives_history_and_enforcement(registry: Registry, clock: Clock) -> None:
    made = _book(registry, clock)
    sindh = made["Sindh Stable"]
    record = registry.firm_record(sindh.firm_id)
    assert record.firm.name == "Sindh Stable"
    assert [a.status for a in record.licences] == [Status.REVOKED]
    assert [d.action for d in record.decisions] == [
        Action.SUBMIT,
        Action.BEGIN_REVIEW,
        Action.APPROVE,
        Action.GRANT_LICENCE,
        Action.REVOKE,
    ]
    assert [e.kind.value for e in record.enforcement] == ["revocation"]
    with pytest.raises(NotFoundError):
        registry.firm_record(made["pending"].firm_id)  # nothing on the register
    with pytest.raises(NotFoundError):
        registry.firm_record(999)


# ---------------------------------------------------------------- sandbox


def test_sandbox_cohort_usage_and_exit(registry: Registry, clock: Clock) -> None:
    firm, principal = _firm(registry, "Lahore Pay", "001")
    other, other_p = _firm(registry, "Quetta Pay", "002")
    cohort = registry.create_cohort(
        STAFF,
        code="SBX-1",
        name="Payments",
        opens_on=date(2026, 1, 1),
        max_customers=100,
        max_volume_usd=Decimal(50_000),
        max_duration_days=90,
    )
    assert cohort.closes_on == date(2026, 4, 1)
    with pytest.raises(InputError, match="code"):
        registry.create_cohort(
            STAFF,
            code="SBX-1",
            name="Again",
            opens_on=date(2026, 1, 1),
            max_customers=1,
            max_volume_usd=Decimal(1),
            max_duration_days=1,
        )
    mine = registry.admit_to_sandbox(STAFF, cohort.id, firm.id, product="Wallet")
    theirs = registry.admit_to_sandbox(STAFF, cohort.id, other.id, product="Remittances")
    assert mine.status == "active" and mine.admitted_on == T0.date()
    with pytest.raises(InputError, match="firm_id"):
        registry.admit_to_sandbox(STAFF, cohort.id, firm.id, product="Again")
    over = registry.record_sandbox_usage(
        principal, mine.id, customers=150, volume_usd=Decimal(1000)
    )
    assert [b.code for b in over.breaches] == ["sandbox_customers"]
    with pytest.raises(InputError, match="decision"):
        registry.decide_sandbox_exit(STAFF, mine.id, "graduate", reason="Looks fine.")
    extended = registry.decide_sandbox_exit(
        STAFF, mine.id, "extend", reason="More data.", extend_days=30
    )
    assert extended.closes_on == date(2026, 5, 1) and extended.status == "active"
    registry.record_sandbox_usage(principal, mine.id, customers=80, volume_usd=Decimal(900))
    graduated = registry.decide_sandbox_exit(STAFF, mine.id, "graduate", reason="Within caps.")
    assert graduated.status == "graduated" and graduated.breaches == []
    with pytest.raises(TransitionError):
        registry.record_sandbox_usage(principal, mine.id, customers=1, volume_usd=Decimal(1))
    registry.decide_sandbox_exit(STAFF, theirs.id, "exit", reason="Product dropped.")
    assert [p.id for p in registry.list_participants(principal)] == [mine.id]
    assert [p.id for p in registry.list_participants(other_p)] == [theirs.id]
    assert len(registry.list_participants(STAFF, cohort_id=cohort.id)) == 2
    assert [c.participants for c in registry.list_cohorts(principal)] == [2]


# ---------------------------------------------------------------- views and concurrency


def test_views_are_frozen_dataclasses_not_rows(registry: Registry, clock: Clock) -> None:
    firm, principal = _firm(registry, "Indus Exchange Ltd", "001")
    app = _license(registry, clock, firm, principal)
    for view in (firm, app, registry.list_decisions(STAFF, app.id)[0], registry.register()[0]):
        assert is_dataclass(view)
        with pytest.raises(AttributeError):
            view.id = 5  # type: ignore[misc, union-attr]


def test_concurrent_writers_all_succeed_and_the_log_verifies(registry: Registry) -> None:
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for n in range(5):
                registry.register_firm(STAFF, name=f"Firm {k}-{n}", registration_number=f"{k}-{n}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(registry.list_firms(STAFF)) == 20
    assert registry.verify_audit().entries == 20


def test_conflicting_decisions_at_the_same_moment_one_wins(
    registry: Registry, clock: Clock
) -> None:
    # Approve and refuse race on each of several applications under review: for each,
    # exactly one decision is taken and the other is refused as no longer allowed.
    firm, principal = _firm(registry, "Indus Exchange", "REG-1")
    apps = []
    for _ in range(4):
        app = _apply(registry, firm)
        registry.act(principal, app.id, "submit")
        apps.append(registry.act(STAFF, app.id, "begin_review"))
    outcomes: list[tuple[int, str, str]] = []
    barrier = threading.Barrier(2 * len(apps))

    def decide(app_id: int, action: str) -> None:
        barrier.wait()
        try:
            registry.act(STAFF, app_id, action, reason="Decided at once.")
            outcomes.append((app_id, action, "done"))
        except TransitionError:
            outcomes.append((app_id, action, "refused"))

    threads = [
        threading.Thread(target=decide, args=(app.id, action))
        for app in apps
        for action in ("approve", "refuse")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for app in apps:
        mine = sorted(result for app_id, _, result in outcomes if app_id == app.id)
        assert mine == ["done", "refused"]
        decisions = registry.list_decisions(STAFF, app.id)
        assert [d.from_status.value for d in decisions[-1:]] == ["under_review"]
    assert registry.verify_audit().entries > 0


def test_a_naive_clock_is_refused(db_url: str) -> None:
    with Registry(db_url, clock=lambda: datetime(2026, 1, 1)) as reg:
        with pytest.raises(InputError, match="clock"):
            reg.register_firm(STAFF, name="x", registration_number="1")
        assert reg.is_empty()
    with pytest.raises(InputError, match="country"):
        Registry(db_url, country="Pakistan")
    assert issubclass(NotFoundError, RegistryError)
