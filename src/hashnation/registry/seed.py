"""Example data for the registry: firms, licences in every status, returns, sandbox, enforcement.

:func:`seed_example` fills an empty registry with a small, plausible regulator's
book: twelve firms across the five licence types; applications in every workflow
status (appeals included); licensees filing monthly or quarterly returns (some
late, some missing, one showing reserves below the tokens outstanding); a sandbox
cohort with three participants; and a warning, a fine, a suspension and
revocations, each with its reason. Every step goes through
:class:`~hashnation.registry.service.Registry`, so each one is authorised, stored
and written to the audit log exactly as a real one would be.

The book is laid out on a timeline that ends on ``as_of`` (the registry's clock's
day by default) and starts about nine months before it; for a given ``as_of`` the
contents are the same every time, except the API tokens, which are random.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from hashnation.errors import RegistryError
from hashnation.registry.licences import LicenceSpec, LicenceType
from hashnation.registry.schedule import due_on, reporting_periods
from hashnation.registry.service import Principal, Registry

__all__ = ["EXAMPLE_FIRMS", "ExampleFirm", "seed_example"]


@dataclass(frozen=True)
class ExampleFirm:
    """A firm of the example book.

    Attributes
    ----------
    name
        Legal name.
    registration_number
        Company registration number.
    commercial_name
        Trading name.
    licence_type
        Type of its main licence application.
    lei_base
        First 18 characters of its LEI (check digits are computed), or "" for none.
    """

    name: str
    registration_number: str
    commercial_name: str
    licence_type: LicenceType
    lei_base: str = ""


EXAMPLE_FIRMS: tuple[ExampleFirm, ...] = (
    ExampleFirm(
        "Indus Digital Exchange Ltd",
        "0001234",
        "IndusX",
        LicenceType.EXCHANGE,
        "5493001INDUSX0000A",
    ),
    ExampleFirm(
        "Karachi Coin Custody (Pvt) Ltd",
        "0001871",
        "KCC Vault",
        LicenceType.CUSTODIAL_WALLET,
        "5493002KARACHI000B",
    ),
    ExampleFirm("Ravi Brokerage Services Ltd", "0002310", "Ravi Trade", LicenceType.BROKER),
    ExampleFirm(
        "Sindh Stable Rupee Ltd",
        "0002977",
        "sPKR",
        LicenceType.STABLECOIN_ISSUER,
        "5493004SINDHSTBL00C",
    ),
    ExampleFirm("Margalla Crypto Advisers", "0003145", "", LicenceType.ADVISOR),
    ExampleFirm("Hunza Exchange (Pvt) Ltd", "0003620", "Hunza", LicenceType.EXCHANGE),
    ExampleFirm("Bolan Wallet Ltd", "0004012", "Bolan", LicenceType.CUSTODIAL_WALLET),
    ExampleFirm("Thar Digital Brokers Ltd", "0004458", "", LicenceType.BROKER),
    ExampleFirm("Gwadar Coin Exchange Ltd", "0004903", "GCX", LicenceType.EXCHANGE),
    ExampleFirm("Quetta Virtual Asset Advisory", "0005377", "", LicenceType.ADVISOR),
    ExampleFirm("Lahore Stablecoin Company Ltd", "0005826", "LSC", LicenceType.STABLECOIN_ISSUER),
    ExampleFirm(
        "Peshawar Pay Wallet (Pvt) Ltd", "0006154", "PeshPay", LicenceType.CUSTODIAL_WALLET
    ),
)
"""The twelve firms of the example book, in registration order."""


def _lei(base: str) -> str | None:
    """Complete an 18-character LEI base with its ISO 7064 MOD 97-10 check digits."""
    if not base:
        return None
    base = base[:18].ljust(18, "0")
    number = int("".join(str(int(c, 36)) for c in base + "00"))
    return f"{base}{98 - number % 97:02d}"


@dataclass
class _Timeline:
    """Events (time, order, step) run in time order on a clock the registry reads."""

    now: datetime
    events: list[tuple[datetime, int, Callable[[], object]]] = field(default_factory=list)

    def at(self, when: datetime, step: Callable[[], object]) -> None:
        self.events.append((when, len(self.events), step))

    def run(self) -> None:
        while self.events:
            self.events.sort(key=lambda e: (e[0], e[1]))
            when, _, step = self.events.pop(0)
            self.now = when
            step()


def _substitute(
    registry: Registry, wanted: LicenceType, avoid: LicenceType | None
) -> LicenceType | None:
    """Pick the example's licence type if the regulator grants it, else another it grants.

    ``avoid`` is the firm's main licence type (a firm applies once per type); None is
    returned when the regulator grants no other type.
    """
    if wanted in registry.licences and wanted is not avoid:
        return wanted
    for kind in registry.licences:
        if kind is not avoid:
            return kind
    return None


def _return_payload(
    spec: LicenceSpec, start: date, end: date, n: int, k: int, *, breach: bool = False
) -> dict[str, Any]:
    """Make a plausible return: figures grow with the period number ``k`` of firm ``n``."""
    licence_type = spec.type
    customers = 1_000 * (n + 1) + 150 * k
    received = 3 + (n + k) % 5
    payload: dict[str, Any] = {
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "customers": customers,
        "complaints_received": received,
        "complaints_resolved": received,
        "capital_usd": str(spec.min_capital_usd * Decimal("1.8")),
        "incidents": [],
    }
    if licence_type is LicenceType.EXCHANGE:
        payload["customer_assets_btc_sat"] = (40 + 5 * k) * 100_000_000 + 12_345 * n
        payload["customer_assets_fiat_usd"] = str(Decimal(2_500_000 + 75_000 * k))
        payload["trading_volume_usd"] = str(Decimal(18_000_000 + 1_200_000 * k))
        if k == 1:
            payload["incidents"] = [
                {
                    "occurred_on": (start + timedelta(days=9)).isoformat(),
                    "kind": "outage",
                    "description": "Matching engine unavailable for 47 minutes after a "
                    "failed database failover; no orders lost.",
                    "customers_affected": 3_200,
                    "loss_usd": "0",
                }
            ]
    elif licence_type is LicenceType.CUSTODIAL_WALLET:
        held = (120 + 8 * k) * 100_000_000
        payload["customer_assets_btc_sat"] = held
        payload["cold_storage_btc_sat"] = held * 9 // 10
    elif licence_type is LicenceType.BROKER:
        payload["client_orders"] = 4_000 + 600 * k
        payload["volume_usd"] = str(Decimal(6_500_000 + 400_000 * k))
        payload["client_money_usd"] = str(Decimal(900_000 + 50_000 * k))
    elif licence_type is LicenceType.STABLECOIN_ISSUER:
        outstanding = Decimal(40_000_000 + 2_000_000 * k)
        reserves = outstanding * (Decimal("0.94") if breach else Decimal("1.02"))
        payload["tokens_outstanding_usd"] = str(outstanding)
        payload["reserve_assets"] = [
            {"kind": "treasury_bills", "amount_usd": str((reserves * Decimal("0.7")).quantize(1))},
            {"kind": "bank_deposits", "amount_usd": str((reserves * Decimal("0.3")).quantize(1))},
        ]
    else:
        payload["clients_advised"] = 140 + 12 * k
    if breach and licence_type is not LicenceType.STABLECOIN_ISSUER:
        payload["complaints_resolved"] = received - 2
    return payload


def seed_example(registry: Registry, *, as_of: date | None = None) -> dict[str, str]:
    """Fill an empty registry with the example book.

    Parameters
    ----------
    registry
        The registry to fill; it must hold no firm, cohort, token or audit entry.
        Its engine, authority and country are used; the steps are stamped with a
        timeline of their own ending on ``as_of``.
    as_of
        Last day of the timeline; the registry clock's day by default.

    Returns
    -------
    dict of str to str
        Demo API tokens by label: ``"staff"`` and ``"firm:<registration_number>"``
        for each firm (shown once: only their hashes are stored).

    Raises
    ------
    RegistryError
        If the registry is not empty.
    """
    if not registry.is_empty():
        raise RegistryError(
            "registry: already holds firms, cohorts, tokens or audit entries; "
            "the example is seeded into an empty database only"
        )
    end_day = as_of if as_of is not None else registry.now().date()
    start_month = date(end_day.year, end_day.month, 1)
    for _ in range(9):
        start_month = (start_month - timedelta(days=1)).replace(day=1)
    start = datetime.combine(start_month, time(9, 0), UTC)
    end = datetime.combine(end_day, time(9, 0), UTC)
    line = _Timeline(now=start)
    book = Registry(
        registry.engine,
        authority=registry.authority,
        country=registry.country,
        clock=lambda: line.now,
        licences=registry.licences,
        licence_prefix=registry.licence_prefix,
    )
    # The example book uses every licence type; a regulator that grants fewer gets
    # the same story told with the types it grants.
    main_type = {
        n: _substitute(registry, example.licence_type, None) or example.licence_type
        for n, example in enumerate(EXAMPLE_FIRMS)
    }
    staff = Principal.staff("licensing-officer")
    firm_ids: dict[int, int] = {}
    apps: dict[str, int] = {}

    def day(offset: int, hour: int = 0) -> datetime:
        return start + timedelta(days=offset, hours=hour)

    def firm_principal(n: int) -> Principal:
        return Principal.firm(
            firm_ids[n], EXAMPLE_FIRMS[n].commercial_name or EXAMPLE_FIRMS[n].name
        )

    # -- firms and applications ------------------------------------------------------
    def register(n: int) -> None:
        spec = EXAMPLE_FIRMS[n]
        firm = book.register_firm(
            staff,
            name=spec.name,
            registration_number=spec.registration_number,
            commercial_name=spec.commercial_name,
            lei=_lei(spec.lei_base),
            address=f"{10 + 7 * n} Blue Area, Islamabad"
            if n % 2
            else f"Plot {40 + n}, Clifton, Karachi",
            website=f"https://www.{spec.registration_number}.example.pk",
        )
        firm_ids[n] = firm.id

    def open_app(key: str, n: int, licence_type: LicenceType) -> None:
        spec = book.spec_of(licence_type)
        view = book.open_application(
            firm_principal(n),
            firm_ids[n],
            licence_type,
            documents=list(spec.required_documents),
            capital_usd=spec.min_capital_usd * Decimal("2.5"),
        )
        apps[key] = view.id

    def act(
        key: str, who: str, action: str, reason: str = "", conditions: tuple[str, ...] = ()
    ) -> None:
        if key not in apps:  # an extra application the regulator's types left out
            return
        n = int(key.split(":")[0])
        principal = firm_principal(n) if who == "firm" else staff
        book.act(principal, apps[key], action, reason=reason, conditions=conditions)

    for n in range(len(EXAMPLE_FIRMS)):
        line.at(day(n // 6, n), partial(register, n))
        line.at(day(2 + n // 6, n), partial(open_app, f"{n}:main", n, main_type[n]))

    # Main applications that become licences: submit, review, approve, grant.
    licensed = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    conditions = {
        0: ("Publish a proof of reserves every month.",),
        1: ("Keep at least 90% of customer bitcoin in cold storage.",),
        3: ("Hold reserves only in cash, treasury bills and bank deposits.",),
    }
    for n in licensed:
        key = f"{n}:main"
        line.at(day(8 + n), partial(act, key, "firm", "submit"))
        line.at(day(12 + n), partial(act, key, "staff", "begin_review"))
        if n in (1, 7):
            line.at(
                day(16 + n),
                partial(
                    act,
                    key,
                    "staff",
                    "request_information",
                    "Audited accounts for the last year needed.",
                ),
            )
            line.at(day(19 + n), partial(act, key, "firm", "provide_information"))
        line.at(
            day(24 + n),
            partial(act, key, "staff", "approve", conditions=conditions.get(n, ())),
        )
        line.at(day(26 + n), partial(act, key, "staff", "grant_licence"))

    # Applications still in the workflow.
    line.at(day(9, 3), lambda: act("10:main", "firm", "submit"))  # submitted
    line.at(day(9, 4), lambda: act("11:main", "firm", "submit"))
    line.at(day(14, 4), lambda: act("11:main", "staff", "begin_review"))
    line.at(
        day(20, 4),
        lambda: act(
            "11:main",
            "staff",
            "request_information",
            "Explain how customer keys are split between the two data centres.",
        ),
    )  # information_requested
    extra = {
        "0:broker": (0, LicenceType.BROKER),  # under_review
        "1:advisor": (1, LicenceType.ADVISOR),  # approved, awaiting the licence
        "2:stablecoin": (2, LicenceType.STABLECOIN_ISSUER),  # refused
        "3:exchange": (3, LicenceType.EXCHANGE),  # refusal_appealed
        "5:advisor": (5, LicenceType.ADVISOR),  # refusal_upheld
        "9:broker": (9, LicenceType.BROKER),  # withdrawn
        "4:exchange": (4, LicenceType.EXCHANGE),  # draft
    }
    for key, (n, licence_type) in extra.items():
        kind = _substitute(registry, licence_type, main_type[n])
        if kind is not None:
            line.at(day(120, n), partial(open_app, key, n, kind))
    for key in ("0:broker", "1:advisor", "2:stablecoin", "3:exchange", "5:advisor", "9:broker"):
        line.at(day(125), partial(act, key, "firm", "submit"))
    for key in ("0:broker", "1:advisor", "2:stablecoin", "3:exchange", "5:advisor"):
        line.at(day(135), partial(act, key, "staff", "begin_review"))
    line.at(day(150), lambda: act("1:advisor", "staff", "approve"))
    refusal = "Business plan does not show how the capital requirement will be met after year one."
    for key in ("2:stablecoin", "3:exchange", "5:advisor"):
        line.at(day(152), partial(act, key, "staff", "refuse", refusal))
    for key in ("3:exchange", "5:advisor"):
        line.at(day(160), partial(act, key, "firm", "appeal"))
    line.at(
        day(185),
        lambda: act("5:advisor", "staff", "dismiss_appeal", "The appeal raises no new facts."),
    )
    line.at(day(140), lambda: act("9:broker", "firm", "withdraw"))

    # -- returns ---------------------------------------------------------------------
    # (firm, how): "on_time", "late" (filed after the due day), "gaps" (some missing)
    filing = {
        0: "on_time",
        1: "late",
        2: "on_time",
        3: "on_time",
        4: "gaps",
        5: "on_time",
        6: "on_time",
        7: "on_time",
        8: "on_time",
        9: "on_time",
    }
    stops = {5: 200, 6: 170, 7: 160, 8: 150, 9: 180}  # suspended/revoked/surrendered: stop filing

    def file(n: int, start_day: date, end_day_: date, k: int, breach: bool) -> None:
        licence_type = main_type[n]
        book.file_return(
            firm_principal(n),
            apps[f"{n}:main"],
            _return_payload(book.spec_of(licence_type), start_day, end_day_, n, k, breach=breach),
        )

    for n in licensed:
        spec = book.spec_of(main_type[n])
        granted = (start + timedelta(days=26 + n)).date()
        stop = start + timedelta(days=stops.get(n, 10_000))
        for k, (p_start, p_end) in enumerate(
            reporting_periods(spec.return_frequency, granted, end_day - timedelta(days=1))
        ):
            due = datetime.combine(due_on(p_end, spec), time(10, 0), UTC)
            how = filing[n]
            if how == "gaps" and k % 2 == 1:
                continue
            when = (
                due + timedelta(days=6 + k)
                if how == "late" and k % 2 == 0
                else due - timedelta(days=2)
            )
            if when > end or when > stop:
                continue
            breach = n == 3 and k == 2
            line.at(when, partial(file, n, p_start, p_end, k, breach))
            if n == 0 and k == 1:  # an amendment: the same period filed again
                line.at(when + timedelta(days=3), partial(file, 0, p_start, p_end, 1, False))

    # -- enforcement -----------------------------------------------------------------
    def enforce(n: int, kind: str, reason: str, **extra_args: Any) -> None:
        book.enforce(staff, apps[f"{n}:main"], kind, reason=reason, **extra_args)

    line.at(
        day(130),
        lambda: enforce(
            4,
            "warning",
            "Complaints left unresolved for two quarters; resolve them within 30 days.",
            breach_codes=("unresolved_complaints",),
        ),
    )
    line.at(
        day(175),
        lambda: enforce(
            1,
            "fine",
            "Monthly returns filed after their due day three times.",
            fine_usd=Decimal("25000"),
            breach_codes=("late_return",),
        ),
    )
    line.at(
        day(200),
        lambda: enforce(
            5,
            "suspension",
            "Customer withdrawals halted for 6 days without notice to the authority.",
            breach_codes=("insolvent_attestation",),
        ),
    )
    line.at(
        day(170),
        lambda: enforce(
            6,
            "revocation",
            "Customer bitcoin held in a hot wallet controlled by one director.",
            breach_codes=("attestation_below_declared",),
        ),
    )
    line.at(
        day(160),
        lambda: enforce(
            7,
            "revocation",
            "Client money mixed with the firm's own accounts.",
        ),
    )
    line.at(day(172), lambda: act("7:main", "firm", "appeal"))  # revocation_appealed
    line.at(
        day(150),
        lambda: enforce(8, "revocation", "Operated an unlicensed lending product."),
    )
    line.at(day(155), lambda: act("8:main", "firm", "appeal"))
    line.at(
        day(190),
        lambda: act("8:main", "staff", "dismiss_appeal", "The lending product ran for 5 months."),
    )  # revocation_upheld
    line.at(day(180), lambda: act("9:main", "firm", "surrender"))  # surrendered

    # The stablecoin issuer's breaching return draws a warning once filed.
    stablecoin = book.spec_of(main_type[3])
    breach_periods = reporting_periods(
        stablecoin.return_frequency, (start + timedelta(days=29)).date(), end_day
    )
    if main_type[3] is LicenceType.STABLECOIN_ISSUER and len(breach_periods) > 2:
        warned = datetime.combine(due_on(breach_periods[2][1], stablecoin), time(15, 0), UTC)
        if warned <= end:
            line.at(
                warned,
                lambda: enforce(
                    3,
                    "warning",
                    "Reserve assets fell below the tokens outstanding; restore full backing.",
                    breach_codes=("reserves_below_tokens",),
                ),
            )

    # -- sandbox ---------------------------------------------------------------------
    cohort_ids: dict[str, int] = {}
    participant_ids: dict[int, int] = {}

    def make_cohort() -> None:
        view = book.create_cohort(
            staff,
            code="SBX-1",
            name="Retail payments and remittances, first cohort",
            opens_on=(start + timedelta(days=60)).date(),
            max_customers=5_000,
            max_volume_usd=Decimal("2000000"),
            max_duration_days=180,
        )
        cohort_ids["SBX-1"] = view.id

    def admit(n: int, product: str) -> None:
        view = book.admit_to_sandbox(staff, cohort_ids["SBX-1"], firm_ids[n], product=product)
        participant_ids[n] = view.id

    def report(n: int, customers: int, volume: str) -> None:
        book.record_sandbox_usage(
            firm_principal(n), participant_ids[n], customers=customers, volume_usd=Decimal(volume)
        )

    line.at(day(58), make_cohort)
    line.at(day(62), lambda: admit(10, "PKR-backed stablecoin for remittances from the Gulf"))
    line.at(day(63), lambda: admit(11, "Custodial wallet inside a mobile banking app"))
    line.at(day(64), lambda: admit(4, "Robo-advice on bitcoin savings plans"))
    line.at(day(120), lambda: report(10, 2_400, "650000"))
    line.at(day(121), lambda: report(11, 6_100, "1450000"))  # over the customer cap
    line.at(day(122), lambda: report(4, 800, "120000"))
    line.at(
        day(200),
        lambda: book.decide_sandbox_exit(
            staff,
            participant_ids[4],
            "graduate",
            reason="Met every cap; advice engine audited.",
        ),
    )
    line.at(
        day(205),
        lambda: book.decide_sandbox_exit(
            staff,
            participant_ids[10],
            "extend",
            reason="Needs three more months of redemption data.",
            extend_days=90,
        ),
    )

    line.run()

    # -- tokens ------------------------------------------------------------------------
    line.now = end
    tokens = {"staff": book.issue_token(staff, role="staff", label="demo staff")}
    for n, example in enumerate(EXAMPLE_FIRMS):
        tokens[f"firm:{example.registration_number}"] = book.issue_token(
            staff,
            role="firm",
            firm_id=firm_ids[n],
            label=f"demo {example.commercial_name or example.name}",
        )
    return tokens
