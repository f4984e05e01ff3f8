"""Crash trials: kill a writer with SIGKILL at random moments, then check what it committed.

A *worker* process writes through the project's public APIs in a loop until it is
killed, and acknowledges every write once the call has returned, that is once the
transaction is committed:

``ledger``
    Reserve ledger CSV imports (:func:`hashnation.reserve.ledger.import_csv` in one
    :func:`hashnation.store.db.session_scope`, as ``hashnation reserve ledger
    import`` does): each *batch* is one import of 10 to 240 journal entries (20 to 480
    postings, with their lots), all of it or none of it.
``registry``
    Writes through :class:`hashnation.registry.service.Registry`: firms,
    applications and their workflow actions, periodic returns, enforcement
    actions, sandbox cohorts, admissions and usage reports, API tokens. Each
    call is one transaction with its hash-chained audit entry.

The worker speaks JSON lines (on stdout when run as ``python -m
hashnation.hardening.crash worker --db URL --kind ledger --seed 7``): ``ready``
once started, ``begin`` before each write (what it is about to write) and ``ack``
after the call returned (what it wrote, with the rows' identifying keys: batch key,
entry ids and counts; audit position, action, subject and row ids). A line
counts only once complete (with its newline); a write is *committed* from the
trial's point of view only when its ``ack`` arrived.

The *checker* (:func:`check_database`) then reads the database and reports:

lost
    An acknowledged write missing, or not in full (an entry, a posting, a lot, an
    audit entry or one of the rows it names).
partial
    A write present only in part: a ledger batch with some of its entries (the
    entries carry ``crash <batch> <i>/<n>`` memos, so a batch is complete when all
    ``n`` are there), or registry rows and audit entries that disagree (counts per
    table against audit actions, ids named in audit payloads, application statuses
    against their last decision, the public register's version counter). The write
    in flight at the kill must be all there or absent.
audit failures
    :func:`hashnation.registry.audit.verify` refusing the chain (registry).
integrity failures
    :func:`hashnation.reserve.ledger.check_ledger` problems (ledger), SQLite's
    ``PRAGMA integrity_check``.

A *trial* (:func:`run_trial`) takes a fresh, migrated database, starts the worker,
waits for a seeded random number of acknowledgements and then a random part of a
write's duration (so that most kills land inside a transaction, some between the
commit and its acknowledgement, some after), kills it with ``SIGKILL``, and runs
the checker; then it restarts the worker on the same database for another round
(recovery) and kills it again. Workers start either as a fresh interpreter
(``spawn="exec"``, the command above: about a second of imports per start) or
forked from a server process that imported the modules once (``spawn="fork"``,
:mod:`multiprocessing`'s ``forkserver``: a few milliseconds).

Only the standard library is imported here; the worker and the checker import the
modules of their kind when they run, so a worker starts with no more than it needs.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import io
import json
import os
import queue
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Final, Literal, TypeAlias

from hashnation.errors import HashNationError, InputError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from sqlalchemy import Engine

    from hashnation.registry.service import Principal, Registry
    from hashnation.registry.views import ApplicationView, ParticipantView
    from hashnation.store.pgtemp import TemporaryPostgres

__all__ = [
    "BACKENDS",
    "KINDS",
    "LEDGER_ACCOUNTS",
    "CheckResult",
    "CrashTrialError",
    "LedgerBatch",
    "RoundResult",
    "TrialDatabases",
    "TrialResult",
    "check_database",
    "ledger_batch",
    "main",
    "parse_messages",
    "prepare_database",
    "run_trial",
    "run_worker",
]

Kind: TypeAlias = Literal["ledger", "registry"]
Spawn: TypeAlias = Literal["exec", "fork"]
Message: TypeAlias = dict[str, Any]
Emit: TypeAlias = Callable[[Message], None]

KINDS: Final[tuple[Kind, ...]] = ("ledger", "registry")
"""What a worker writes."""

BACKENDS: Final = ("sqlite", "postgresql")
"""Database back ends a trial runs on."""

LEDGER_ACCOUNTS: Final[tuple[tuple[str, str], ...]] = (
    ("crash-cold", "custody"),
    ("crash-hot", "custody"),
    ("crash-donors", "counterparty"),
    ("crash-mining", "income"),
    ("crash-fees", "expense"),
)
"""Accounts (name, type) the ledger worker posts to."""

MEMO_PREFIX: Final = "crash "
"""Memos of the ledger worker's entries: ``crash <batch> <i>/<n>``."""

_MEMO = re.compile(r"crash (\S+) ([0-9]+)/([0-9]+)")
_DEFAULT_MAX_ACKS: Final[Mapping[str, int]] = {"ledger": 6, "registry": 50}
_PRELOAD: Final = (
    "__main__",  # imported once in the fork server (a script needs its main guard)
    "hashnation.hardening.crash",
    "hashnation.store.db",
    "hashnation.reserve.ledger",
    "hashnation.registry.service",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlalchemy.dialects.postgresql.psycopg",  # skipped by the server if not installed
    "psycopg",
)
_START: Final = datetime(2021, 1, 4, 9, 0, tzinfo=UTC)
_PRICE_USD_PER_BTC: Final = Decimal(50_000)
_SAT_PER_BTC: Final = Decimal(100_000_000)
_CENT: Final = Decimal("0.01")


class CrashTrialError(HashNationError):
    """A crash trial could not run: the worker failed on its own, or timed out."""


def _check_kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise InputError("kind", kind, f"one of: {', '.join(KINDS)}")
    return "ledger" if kind == "ledger" else "registry"


# =========================================================================== ledger worker


@dataclass(frozen=True)
class LedgerBatch:
    """One CSV import of the ledger worker.

    Parameters
    ----------
    key
        Batch key (``r<round>b<number>``), in every entry's memo.
    csv
        The CSV text (:data:`hashnation.reserve.ledger.CSV_COLUMNS`).
    entries
        Journal entries [count].
    postings
        Postings [count].
    lots
        Acquisition lots (inflow entries) [count].
    sat_in
        Bitcoin entering custody in the batch, the sum of its lots [sat].
    """

    key: str
    csv: str
    entries: int
    postings: int
    lots: int
    sat_in: int


def _txid(*parts: object) -> str:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()


def ledger_batch(seed: int, round_no: int, number: int) -> LedgerBatch:
    """Make the ``number``-th batch of a ledger worker (deterministic).

    The batch is made of units: an inflow into ``crash-cold`` (donation, mining
    income or purchase), often a transfer of part of it to ``crash-hot`` and a fee
    paid from there. A unit never takes more out of a custody account than it put
    in, at its own time or later, so a batch may be back-dated (one in five is)
    without any balance turning negative.

    Parameters
    ----------
    seed
        Trial seed.
    round_no
        Worker round (0 for the first start on a database).
    number
        Batch number within the round.

    Returns
    -------
    LedgerBatch
        The CSV and what it holds.
    """
    from hashnation.reserve.ledger import CSV_COLUMNS

    rng = random.Random(f"ledger:{seed}:{round_no}:{number}")
    key = f"r{round_no}b{number}"
    if rng.random() < 0.2:
        start = _START - timedelta(days=400) + timedelta(minutes=rng.randint(0, 500_000))
    else:
        start = _START + timedelta(days=400 * round_no, minutes=10 * number)
    entries: list[tuple[datetime, str, list[tuple[str, int, Decimal | None]], dict[str, str]]] = []
    lots = sat_in = 0
    for unit in range(rng.randint(10, 80)):
        at = start + timedelta(seconds=4 * unit)
        amount = rng.randint(20_000, 5_000_000)
        value = (Decimal(amount) * _PRICE_USD_PER_BTC / _SAT_PER_BTC).quantize(_CENT)
        kind = rng.choice(("donation", "mining", "purchase"))
        other = "crash-mining" if kind == "mining" else "crash-donors"
        evidence = {
            "donation": {"donor_ref": f"D-{key}-{unit}"},
            "mining": {"site": "crash-site", "period": f"{at:%Y-%m}"},
            "purchase": {
                "trade_ref": f"T-{key}-{unit}",
                "price_usd_per_btc": str(_PRICE_USD_PER_BTC),
                "usd_paid": str(value),
            },
        }[kind]
        entries.append(
            (at, kind, [("crash-cold", amount, value), (other, -amount, -value)], evidence)
        )
        lots += 1
        sat_in += amount
        if rng.random() < 0.7:
            moved = rng.randint(1, amount)
            entries.append(
                (
                    at + timedelta(seconds=1),
                    "transfer",
                    [("crash-cold", -moved, None), ("crash-hot", moved, None)],
                    {"txid": _txid(seed, key, unit, "transfer")},
                )
            )
            if rng.random() < 0.7:
                fee = rng.randint(1, min(moved, 50_000))
                entries.append(
                    (
                        at + timedelta(seconds=2),
                        "fee",
                        [("crash-hot", -fee, None), ("crash-fees", fee, None)],
                        {"fee_sat": str(fee), "txid": _txid(seed, key, unit, "fee")},
                    )
                )
    handle = io.StringIO()
    writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    total = len(entries)
    postings = 0
    for i, (at, kind, legs, evidence) in enumerate(entries):
        for account, amount, usd in legs:
            postings += 1
            writer.writerow(
                {
                    "entry": f"e{i}",
                    "occurred_at": at.isoformat(),
                    "kind": kind,
                    "account": account,
                    "amount_sat": str(amount),
                    "value_usd": "" if usd is None else str(usd),
                    "memo": f"{MEMO_PREFIX}{key} {i}/{total}",
                    **evidence,
                }
            )
    return LedgerBatch(key, handle.getvalue(), total, postings, lots, sat_in)


def _ensure_ledger_accounts(engine: Engine) -> None:
    from sqlalchemy import select

    from hashnation.reserve.ledger import add_account
    from hashnation.store.db import session_scope
    from hashnation.store.models import Account

    with session_scope(engine) as session:
        names = [name for name, _ in LEDGER_ACCOUNTS]
        have = set(session.scalars(select(Account.name).where(Account.name.in_(names))))
        for name, type_ in LEDGER_ACCOUNTS:
            if name not in have:
                add_account(session, name, type_, description="crash trial account")


def _ledger_worker(
    engine: Engine, seed: int, round_no: int, max_writes: int | None, emit: Emit
) -> int:
    from hashnation.reserve.ledger import import_csv
    from hashnation.store.db import session_scope

    _ensure_ledger_accounts(engine)
    emit({"op": "ready", "round": round_no, "pid": os.getpid()})
    number = 0
    while max_writes is None or number < max_writes:
        batch = ledger_batch(seed, round_no, number)
        emit(
            {
                "op": "begin",
                "round": round_no,
                "batch": batch.key,
                "entries": batch.entries,
                "postings": batch.postings,
                "lots": batch.lots,
                "sat_in": batch.sat_in,
            }
        )
        with session_scope(engine) as session:
            result = import_csv(session, io.StringIO(batch.csv), name=f"{batch.key}.csv")
        emit(
            {
                "op": "ack",
                "round": round_no,
                "batch": batch.key,
                "entries": result.entries,
                "postings": result.postings,
                "lots": result.lots,
                "first_id": result.first_id,
                "last_id": result.last_id,
                "sat_in": batch.sat_in,
            }
        )
        number += 1
    return number


# =========================================================================== registry worker


@dataclass
class _App:
    firm_id: int
    licence_type: str
    status: str
    authorised_on: date | None


@dataclass
class _Participant:
    cohort_id: int
    firm_id: int
    admitted_on: date
    active: bool
    customers: int


@dataclass
class _Op:
    action: str
    run: Callable[[], tuple[str | None, dict[str, Any]]]


@dataclass
class _RegistryDriver:
    """Random but valid registry writes, from the state read back at start."""

    registry: Registry
    seed: int
    round_no: int
    rng: random.Random
    now: datetime
    firms: dict[int, str] = field(default_factory=dict)
    apps: dict[int, _App] = field(default_factory=dict)
    cohorts: dict[int, tuple[date, date]] = field(default_factory=dict)
    participants: dict[int, _Participant] = field(default_factory=dict)
    tokens: list[int] = field(default_factory=list)
    made: int = 0

    def load(self, staff: Principal) -> None:
        registry = self.registry
        self.firms = {f.id: f.name for f in registry.list_firms(staff, limit=None)}
        for view in registry.list_applications(staff):
            self.apps[view.id] = _App(
                view.firm_id, str(view.licence_type), str(view.status), view.authorised_on
            )
        for cohort_view in registry.list_cohorts(staff):
            self.cohorts[cohort_view.id] = (cohort_view.opens_on, cohort_view.closes_on)
        for part in registry.list_participants(staff):
            self.participants[part.id] = _participant(part)
        self.tokens = [t.id for t in registry.list_tokens(staff) if t.revoked_at is None]

    def firm(self, firm_id: int) -> Principal:
        from hashnation.registry.service import Principal

        return Principal.firm(firm_id, self.firms[firm_id])

    def name(self, what: str) -> str:
        self.made += 1
        return f"{what} {self.seed}-{self.round_no}-{self.made}"

    # ------------------------------------------------------------------ operations

    def plan(self, staff: Principal) -> _Op:
        """Choose the next write among those the current state allows."""
        choices: list[tuple[float, Callable[[Principal], _Op]]] = [
            (3.0 if len(self.firms) < 3 else 0.7, self._register_firm),
            (0.5, self._issue_token),
            (0.3 if self.cohorts else 0.6, self._create_cohort),
        ]
        if self.firms:
            live = sum(1 for app in self.apps.values() if self._actions(app))
            choices.append((2.0 if live < 4 else 0.5, self._open_application))
        if any(self._actions(app) for app in self.apps.values()):
            choices.append((6.0, self._act))
        if self._returnable():
            choices.append((3.0, self._file_return))
        if any(app.status in ("licensed", "suspended") for app in self.apps.values()):
            choices.append((1.0, self._enforce))
        if self._admissible():
            choices.append((1.0, self._admit))
        if self._reporting():
            choices.append((1.0, self._usage))
        if self.tokens:
            choices.append((0.3, self._revoke_token))
        weights = [w for w, _ in choices]
        make = self.rng.choices([c for _, c in choices], weights=weights)[0]
        return make(staff)

    def _register_firm(self, staff: Principal) -> _Op:
        name = self.name("Crash Trial Firm")
        number = f"CT-{self.seed}-{self.round_no}-{self.made}"

        def run() -> tuple[str | None, dict[str, Any]]:
            view = self.registry.register_firm(
                staff, name=f"{name} Ltd", registration_number=number
            )
            self.firms[view.id] = view.name
            return f"firm:{view.id}", {"firm_id": view.id, "registration_number": number}

        return _Op("firm.registered", run)

    def _open_application(self, staff: Principal) -> _Op:
        from hashnation.registry.licences import LicenceType, licence_spec

        firm_id = self.rng.choice(sorted(self.firms))
        spec = licence_spec(self.rng.choice(list(LicenceType)))

        def run() -> tuple[str | None, dict[str, Any]]:
            view = self.registry.open_application(
                self.firm(firm_id),
                firm_id,
                spec.type,
                documents=list(spec.required_documents),
                capital_usd=spec.min_capital_usd * 2,
            )
            self.apps[view.id] = _App(firm_id, str(view.licence_type), str(view.status), None)
            return f"application:{view.id}", {"application_id": view.id, "firm_id": firm_id}

        return _Op("application.opened", run)

    @staticmethod
    def _actions(app: _App) -> list[str]:
        from hashnation.registry.workflow import allowed_actions

        return [str(a) for a in allowed_actions(app.status)]

    def _act(self, staff: Principal) -> _Op:
        from hashnation.registry.workflow import FIRM_ACTIONS, REASON_REQUIRED, Action

        forward = {
            "submit",
            "begin_review",
            "approve",
            "grant_licence",
            "provide_information",
            "reinstate",
            "allow_appeal",
        }
        pairs = [(i, a) for i, app in self.apps.items() for a in self._actions(app)]
        weights = [5.0 if a in forward else 1.0 for _, a in pairs]
        app_id, name = self.rng.choices(pairs, weights=weights)[0]
        action = Action(name)
        app = self.apps[app_id]
        who = self.firm(app.firm_id) if action in FIRM_ACTIONS else staff
        reason = f"Crash trial reason for {name}." if action in REASON_REQUIRED else ""
        conditions = ("Report monthly.",) if action is Action.APPROVE else ()

        def run() -> tuple[str | None, dict[str, Any]]:
            view = self.registry.act(who, app_id, action, reason=reason, conditions=conditions)
            self._moved(view)
            return f"application:{app_id}", {"application_id": app_id, "status": str(view.status)}

        return _Op(f"application.{name}", run)

    def _moved(self, view: ApplicationView) -> None:
        app = self.apps[view.id]
        app.status = str(view.status)
        app.authorised_on = view.authorised_on

    def _returnable(self) -> list[tuple[int, list[tuple[date, date]]]]:
        from hashnation.registry.licences import licence_spec
        from hashnation.registry.schedule import reporting_periods

        found = []
        yesterday = self.now.date() - timedelta(days=1)
        for app_id, app in sorted(self.apps.items()):
            if app.status not in ("licensed", "suspended") or app.authorised_on is None:
                continue
            spec = licence_spec(app.licence_type)
            periods = reporting_periods(spec.return_frequency, app.authorised_on, yesterday)
            if periods:
                found.append((app_id, periods))
        return found

    def _file_return(self, staff: Principal) -> _Op:
        app_id, periods = self.rng.choice(self._returnable())
        start, end = self.rng.choice(periods[-2:])
        app = self.apps[app_id]
        payload = _return_payload(app.licence_type, start, end, self.rng.randint(0, 20))

        def run() -> tuple[str | None, dict[str, Any]]:
            view = self.registry.file_return(self.firm(app.firm_id), app_id, payload)
            keys = {"return_id": view.id, "application_id": app_id, "version": view.version}
            return f"return:{view.id}", keys

        return _Op("return.filed", run)

    def _enforce(self, staff: Principal) -> _Op:
        held = [
            i for i, app in sorted(self.apps.items()) if app.status in ("licensed", "suspended")
        ]
        app_id = self.rng.choice(held)
        kinds = ["warning", "fine", "revocation"]
        weights = [4.0, 3.0, 0.7]
        if self.apps[app_id].status == "licensed":
            kinds.append("suspension")
            weights.append(1.5)
        kind = self.rng.choices(kinds, weights=weights)[0]
        fine = Decimal(self.rng.randint(1, 500) * 1_000) if kind == "fine" else None
        codes = self.rng.choice(((), ("late_return",), ("unresolved_complaints",)))

        def run() -> tuple[str | None, dict[str, Any]]:
            view = self.registry.enforce(
                staff,
                app_id,
                kind,
                reason=f"Crash trial {kind}.",
                fine_usd=fine,
                breach_codes=codes,
            )
            if kind == "suspension":
                self.apps[app_id].status = "suspended"
            elif kind == "revocation":
                self.apps[app_id].status = "revoked"
            keys = {"enforcement_id": view.id, "application_id": app_id}
            return f"application:{app_id}", keys

        return _Op(f"enforcement.{kind}", run)

    def _create_cohort(self, staff: Principal) -> _Op:
        code = f"X{self.seed}-{self.round_no}-{self.made + 1}"[:30]
        name = self.name("Crash trial cohort")
        opens_on = self.now.date()

        def run() -> tuple[str | None, dict[str, Any]]:
            view = self.registry.create_cohort(
                staff,
                code=code,
                name=name,
                opens_on=opens_on,
                max_customers=1_000,
                max_volume_usd=Decimal(500_000),
                max_duration_days=200,
            )
            self.cohorts[view.id] = (view.opens_on, view.closes_on)
            return f"cohort:{view.id}", {"cohort_id": view.id, "code": view.code}

        return _Op("sandbox.cohort_created", run)

    def _admissible(self) -> list[tuple[int, int]]:
        today = self.now.date()
        taken = {(p.cohort_id, p.firm_id) for p in self.participants.values()}
        return [
            (cohort_id, firm_id)
            for cohort_id, (opens, closes) in sorted(self.cohorts.items())
            if opens <= today <= closes
            for firm_id in sorted(self.firms)
            if (cohort_id, firm_id) not in taken
        ]

    def _admit(self, staff: Principal) -> _Op:
        cohort_id, firm_id = self.rng.choice(self._admissible())

        def run() -> tuple[str | None, dict[str, Any]]:
            view = self.registry.admit_to_sandbox(
                staff, cohort_id, firm_id, product="Crash trial product"
            )
            self.participants[view.id] = _participant(view)
            return f"participant:{view.id}", {"participant_id": view.id}

        return _Op("sandbox.admitted", run)

    def _reporting(self) -> list[int]:
        today = self.now.date()
        return [
            i for i, p in sorted(self.participants.items()) if p.active and p.admitted_on <= today
        ]

    def _usage(self, staff: Principal) -> _Op:
        participant_id = self.rng.choice(self._reporting())
        part = self.participants[participant_id]
        customers = part.customers + self.rng.randint(0, 400)
        volume = Decimal(customers * self.rng.randint(50, 500))
        who = staff if self.rng.random() < 0.5 else self.firm(part.firm_id)

        def run() -> tuple[str | None, dict[str, Any]]:
            view = self.registry.record_sandbox_usage(
                who, participant_id, customers=customers, volume_usd=volume
            )
            part.customers = customers
            keys = {"participant_id": view.id, "customers": customers}
            return f"participant:{view.id}", keys

        return _Op("sandbox.usage", run)

    def _issue_token(self, staff: Principal) -> _Op:
        label = self.name("crash token")
        firm_id = self.rng.choice(sorted(self.firms)) if self.firms else None

        def run() -> tuple[str | None, dict[str, Any]]:
            if firm_id is None:
                self.registry.issue_token(staff, role="staff", label=label)
            else:
                self.registry.issue_token(staff, role="firm", firm_id=firm_id, label=label)
            return None, {"label": label}

        return _Op("token.issued", run)

    def _revoke_token(self, staff: Principal) -> _Op:
        token_id = self.rng.choice(self.tokens)

        def run() -> tuple[str | None, dict[str, Any]]:
            self.registry.revoke_token(staff, token_id)
            self.tokens.remove(token_id)
            return f"token:{token_id}", {"token_id": token_id}

        return _Op("token.revoked", run)


def _participant(view: ParticipantView) -> _Participant:
    return _Participant(
        view.cohort_id, view.firm_id, view.admitted_on, view.status == "active", view.customers or 0
    )


def _return_payload(licence_type: str, start: date, end: date, k: int) -> dict[str, Any]:
    """Make a valid periodic return for a licence type (figures vary with ``k``)."""
    from hashnation.registry.licences import LicenceType, licence_spec

    spec = licence_spec(licence_type)
    received = 2 + k % 4
    payload: dict[str, Any] = {
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "customers": 500 + 25 * k,
        "complaints_received": received,
        "complaints_resolved": received - (k % 2),
        "capital_usd": str(spec.min_capital_usd * Decimal("1.5")),
        "incidents": [],
    }
    if spec.type is LicenceType.EXCHANGE:
        payload["customer_assets_btc_sat"] = (30 + k) * 100_000_000
        payload["customer_assets_fiat_usd"] = str(2_000_000 + 10_000 * k)
        payload["trading_volume_usd"] = str(9_000_000 + 100_000 * k)
    elif spec.type is LicenceType.CUSTODIAL_WALLET:
        held = (100 + k) * 100_000_000
        payload["customer_assets_btc_sat"] = held
        payload["cold_storage_btc_sat"] = held * 9 // 10
    elif spec.type is LicenceType.BROKER:
        payload["client_orders"] = 3_000 + 50 * k
        payload["volume_usd"] = str(5_000_000 + 20_000 * k)
        payload["client_money_usd"] = str(800_000 + 5_000 * k)
    elif spec.type is LicenceType.STABLECOIN_ISSUER:
        outstanding = Decimal(30_000_000 + 1_000_000 * k)
        reserves = outstanding * (Decimal("0.95") if k % 5 == 0 else Decimal("1.02"))
        payload["tokens_outstanding_usd"] = str(outstanding)
        payload["reserve_assets"] = [
            {"kind": "treasury_bills", "amount_usd": str((reserves * Decimal("0.7")).quantize(1))},
            {"kind": "bank_deposits", "amount_usd": str((reserves * Decimal("0.3")).quantize(1))},
        ]
    else:
        payload["clients_advised"] = 100 + 3 * k
    return payload


def _registry_worker(
    engine: Engine, seed: int, round_no: int, max_writes: int | None, emit: Emit
) -> int:
    from hashnation.registry.service import Principal, Registry

    staff = Principal.staff("crash-trial-officer")
    driver: _RegistryDriver
    registry = Registry(engine, clock=lambda: driver.now)
    base = registry.verify_audit().entries
    latest = registry.audit_log(staff, limit=1)
    now = _START if not latest else max(_START, latest[0].recorded_at)
    driver = _RegistryDriver(
        registry, seed, round_no, random.Random(f"registry:{seed}:{round_no}"), now
    )
    driver.load(staff)
    emit({"op": "ready", "round": round_no, "pid": os.getpid(), "base": base})
    written = refused = 0
    while max_writes is None or written < max_writes:
        driver.now += timedelta(days=driver.rng.randint(2, 9), minutes=driver.rng.randint(0, 900))
        op = driver.plan(staff)
        position = base + written
        emit({"op": "begin", "round": round_no, "n": position, "action": op.action})
        try:
            subject, keys = op.run()
        except HashNationError as exc:  # refused: nothing written; try another write
            refused += 1
            emit({"op": "refused", "round": round_no, "n": position, "error": str(exc)})
            if refused > 50:
                raise
            continue
        emit(
            {
                "op": "ack",
                "round": round_no,
                "n": position,
                "action": op.action,
                "subject": subject,
                "keys": keys,
            }
        )
        written += 1
    return written


# =========================================================================== worker entry


def run_worker(
    url: str,
    kind: str,
    seed: int,
    *,
    round_no: int = 0,
    max_writes: int | None = None,
    emit: Emit,
) -> int:
    """Write through the public APIs in a loop, acknowledging each committed write.

    Parameters
    ----------
    url
        Database URL (migrated; see :func:`prepare_database`).
    kind
        ``ledger`` or ``registry``.
    seed
        Seed of the writes (the same seed and database state give the same writes).
    round_no
        Round number (0 on a fresh database, then 1, ...): keeps names unique.
    max_writes
        Stop after this many writes [count]; None: until killed.
    emit
        Called with each message (``ready``, ``begin``, ``ack``, ``refused``), in order.

    Returns
    -------
    int
        Writes acknowledged [count] (when ``max_writes`` is reached).
    """
    from hashnation.store.db import make_engine

    chosen = _check_kind(kind)
    engine = make_engine(url)
    try:
        if chosen == "ledger":
            return _ledger_worker(engine, seed, round_no, max_writes, emit)
        return _registry_worker(engine, seed, round_no, max_writes, emit)
    finally:
        engine.dispose()


def _stdout_emit(message: Message) -> None:
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _fork_entry(
    url: str,
    kind: str,
    seed: int,
    round_no: int,
    max_writes: int | None,
    conn: Connection,
    stderr_path: str,
) -> None:
    """Worker body in a process forked by the fork server: messages go to ``conn``."""
    fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 2)
    os.close(fd)

    def emit(message: Message) -> None:
        conn.send_bytes(json.dumps(message, separators=(",", ":")).encode())

    run_worker(url, kind, seed, round_no=round_no, max_writes=max_writes, emit=emit)
    conn.close()


# =========================================================================== checker


@dataclass(frozen=True)
class CheckResult:
    """What the checker found in a database after a kill.

    Parameters
    ----------
    kind
        ``ledger`` or ``registry``.
    acked
        Acknowledged writes checked [count].
    present
        Worker writes found in the database (batches or audit entries) [count].
    in_flight
        The write begun but not acknowledged in the latest round: ``"none"``,
        ``"absent"`` (rolled back) or ``"committed"`` (committed before its
        acknowledgement).
    lost
        One line per acknowledged write missing or incomplete.
    partial
        One line per write present in part, or rows that disagree with the audit log.
    audit_failures
        The audit chain's verification error (registry).
    integrity_failures
        Ledger invariant problems and database integrity errors.
    """

    kind: str
    acked: int
    present: int
    in_flight: Literal["none", "absent", "committed"]
    lost: tuple[str, ...] = ()
    partial: tuple[str, ...] = ()
    audit_failures: tuple[str, ...] = ()
    integrity_failures: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing was lost, partial, or failed to verify."""
        return not (self.lost or self.partial or self.audit_failures or self.integrity_failures)

    def problems(self) -> list[str]:
        """Every problem, one line each, prefixed with its class."""
        return [
            *(f"lost: {p}" for p in self.lost),
            *(f"partial: {p}" for p in self.partial),
            *(f"audit: {p}" for p in self.audit_failures),
            *(f"integrity: {p}" for p in self.integrity_failures),
        ]


def parse_messages(lines: Iterable[str | bytes]) -> list[Message]:
    """Read worker messages from JSON lines; a line cut short by the kill is dropped.

    Parameters
    ----------
    lines
        Lines as read (each with its newline; a final line without one is incomplete).

    Returns
    -------
    list of dict
        The messages, in order.
    """
    return list(_iter_messages(lines))


def _iter_messages(lines: Iterable[str | bytes]) -> Iterator[Message]:
    for raw in lines:
        line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if not line.endswith("\n"):
            return
        text = line.strip()
        if not text:
            continue
        try:
            message = json.loads(text)
        except ValueError:
            return
        if isinstance(message, dict) and "op" in message:
            yield message


def _settle(engine: Engine, timeout_s: float = 30.0) -> None:
    """On PostgreSQL, wait until the killed worker's server process has gone."""
    from sqlalchemy import text

    if engine.dialect.name != "postgresql":
        return
    deadline = time.monotonic() + timeout_s
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    while True:
        with engine.connect() as connection:
            others = int(connection.scalar(query) or 0)
        if others == 0 or time.monotonic() > deadline:
            return
        time.sleep(0.02)


def _sqlite_integrity(engine: Engine) -> list[str]:
    from sqlalchemy import text

    if engine.dialect.name != "sqlite":
        return []
    with engine.connect() as connection:
        rows = [str(r[0]) for r in connection.execute(text("PRAGMA integrity_check"))]
    return [] if rows == ["ok"] else [f"sqlite integrity_check: {r}" for r in rows[:20]]


def check_database(url: str, kind: str, messages: Sequence[Mapping[str, Any]]) -> CheckResult:
    """Check a database against the messages of the workers that wrote to it.

    Parameters
    ----------
    url
        Database URL.
    kind
        ``ledger`` or ``registry``.
    messages
        Every message of every round on this database, in order (acknowledged
        writes must all be there; a begun, unacknowledged one all or nothing).

    Returns
    -------
    CheckResult
        What was found.
    """
    from sqlalchemy.pool import NullPool

    from hashnation.store.db import make_engine

    chosen = _check_kind(kind)
    engine = _CHECK_ENGINES.get(url)
    if engine is None:
        # Kept for the next check of the same database: its compiled statements are
        # cached on it. NullPool: no connection stays open between checks.
        engine = make_engine(url, poolclass=NullPool)
        while len(_CHECK_ENGINES) >= 4:
            _CHECK_ENGINES.pop(next(iter(_CHECK_ENGINES))).dispose()
        _CHECK_ENGINES[url] = engine
    _settle(engine)
    if chosen == "ledger":
        return _check_ledger(engine, messages)
    return _check_registry(engine, messages)


_CHECK_ENGINES: dict[str, Engine] = {}


def _latest_round(messages: Sequence[Mapping[str, Any]]) -> int:
    return max((int(m.get("round", 0)) for m in messages), default=0)


@dataclass
class _Found:
    totals: set[int] = field(default_factory=set)
    indices: Counter[int] = field(default_factory=Counter)
    ids: list[int] = field(default_factory=list)
    postings: int = 0
    lots: int = 0
    sat_in: int = 0

    def complete(self) -> bool:
        if len(self.totals) != 1:
            return False
        (total,) = self.totals
        return sorted(self.indices) == list(range(total)) and all(
            c == 1 for c in self.indices.values()
        )

    def describe(self) -> str:
        totals = "/".join(str(t) for t in sorted(self.totals)) or "?"
        return (
            f"{sum(self.indices.values())} of {totals} entries, {self.postings} postings, "
            f"{self.lots} lots"
        )


def _check_ledger(engine: Engine, messages: Sequence[Mapping[str, Any]]) -> CheckResult:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from hashnation.reserve.ledger import check_ledger
    from hashnation.store.models import JournalEntry, Lot, Posting

    integrity = _sqlite_integrity(engine)
    found: dict[str, _Found] = {}
    with Session(engine) as session:
        integrity += check_ledger(session)
        ours = select(JournalEntry.id).where(JournalEntry.memo.like(f"{MEMO_PREFIX}%"))
        counts = {
            entry_id: n
            for entry_id, n in session.execute(
                select(Posting.entry_id, func.count())
                .where(Posting.entry_id.in_(ours))
                .group_by(Posting.entry_id)
            ).all()
        }
        lots = {
            entry_id: sat
            for entry_id, sat in session.execute(
                select(Lot.entry_id, Lot.amount_sat).where(Lot.entry_id.in_(ours))
            ).all()
        }
        rows = session.execute(
            select(JournalEntry.id, JournalEntry.memo)
            .where(JournalEntry.memo.like(f"{MEMO_PREFIX}%"))
            .order_by(JournalEntry.id)
        ).all()
        for entry_id, memo in rows:
            match = _MEMO.fullmatch(memo)
            key = match.group(1) if match else f"(unreadable memo {memo!r})"
            batch = found.setdefault(key, _Found())
            if match:
                batch.indices[int(match.group(2))] += 1
                batch.totals.add(int(match.group(3)))
            batch.ids.append(int(entry_id))
            batch.postings += int(counts.get(entry_id, 0))
            if entry_id in lots:
                batch.lots += 1
                batch.sat_in += int(lots[entry_id])
    begun = {str(m["batch"]): m for m in messages if m.get("op") == "begin"}
    acked = {str(m["batch"]): m for m in messages if m.get("op") == "ack"}
    lost: list[str] = []
    partial: list[str] = []
    for key, ack in acked.items():
        got = found.get(key)
        if got is None:
            lost.append(f"batch {key}: acknowledged ({ack['entries']} entries), none found")
            continue
        batch = got
        want_ids = list(range(int(ack["first_id"]), int(ack["last_id"]) + 1))
        same = (
            batch.complete()
            and batch.totals == {int(ack["entries"])}
            and sorted(batch.ids) == want_ids
            and (batch.postings, batch.lots, batch.sat_in)
            == (int(ack["postings"]), int(ack["lots"]), int(ack["sat_in"]))
        )
        if not same:
            lost.append(
                f"batch {key}: acknowledged {ack['entries']} entries, {ack['postings']} postings, "
                f"{ack['lots']} lots (ids {want_ids[0]}-{want_ids[-1]}); found {batch.describe()}"
            )
    for key, batch in sorted(found.items()):
        if key in acked:
            continue
        if not batch.complete():
            partial.append(f"batch {key}: {batch.describe()}")
            continue
        begin = begun.get(key)
        if begin is None:
            partial.append(f"batch {key}: {batch.describe()}, written by no worker")
        elif (batch.totals, batch.postings, batch.lots, batch.sat_in) != (
            {int(begin["entries"])},
            int(begin["postings"]),
            int(begin["lots"]),
            int(begin["sat_in"]),
        ):
            partial.append(
                f"batch {key}: begun with {begin['entries']} entries, {begin['postings']} "
                f"postings, {begin['lots']} lots; found {batch.describe()}"
            )
    latest = _latest_round(messages)
    flying = [
        key for key, m in begun.items() if int(m.get("round", 0)) == latest and key not in acked
    ]
    in_flight: Literal["none", "absent", "committed"] = "none"
    if flying:
        in_flight = "committed" if all(key in found for key in flying) else "absent"
    return CheckResult(
        "ledger",
        acked=len(acked),
        present=len(found),
        in_flight=in_flight,
        lost=tuple(lost),
        partial=tuple(partial),
        integrity_failures=tuple(integrity),
    )


def _check_registry(engine: Engine, messages: Sequence[Mapping[str, Any]]) -> CheckResult:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from hashnation.errors import AuditLogError
    from hashnation.registry import audit
    from hashnation.store.registry_models import AuditEntry

    integrity = _sqlite_integrity(engine)
    audit_failures: list[str] = []
    lost: list[str] = []
    partial: list[str] = []
    with Session(engine) as session:
        try:
            audit.verify(session)
        except AuditLogError as exc:
            audit_failures.append(str(exc))
        entries = list(
            session.execute(
                select(AuditEntry.action, AuditEntry.subject, AuditEntry.payload).order_by(
                    AuditEntry.id
                )
            ).all()
        )
        partial += _registry_consistency(session, entries)
        begun: dict[int, Mapping[str, Any]] = {}
        acked: dict[int, Mapping[str, Any]] = {}
        for m in messages:
            if m.get("op") == "begin":
                begun[int(m["n"])] = m
            elif m.get("op") == "ack":
                acked[int(m["n"])] = m
        for n, ack in sorted(acked.items()):
            what = f"write {n} ({ack['action']} {ack.get('subject') or ''})".replace(" )", ")")
            if n >= len(entries):
                lost.append(f"{what}: acknowledged; the audit log has {len(entries)} entries")
                continue
            action, subject, payload = entries[n]
            want_subject = ack.get("subject")
            if action != ack["action"] or (want_subject is not None and subject != want_subject):
                lost.append(f"{what}: acknowledged; audit entry {n} is {action} {subject}")
                continue
            lost += [f"{what}: {p}" for p in _registry_keys(session, ack, subject, payload)]
    if begun:
        top = max(begun)
        if len(entries) > top + 1:
            partial.append(
                f"{len(entries) - top - 1} audit entries after the last write begun ({top})"
            )
    latest = _latest_round(messages)
    flying = [n for n, m in begun.items() if int(m.get("round", 0)) == latest and n not in acked]
    in_flight: Literal["none", "absent", "committed"] = "none"
    if flying:
        n = max(flying)
        done = n < len(entries) and entries[n][0] == begun[n]["action"]
        in_flight = "committed" if done else "absent"
    return CheckResult(
        "registry",
        acked=len(acked),
        present=len(entries),
        in_flight=in_flight,
        lost=tuple(lost),
        partial=tuple(partial),
        audit_failures=tuple(audit_failures),
        integrity_failures=tuple(integrity),
    )


def _registry_keys(
    session: Any, ack: Mapping[str, Any], subject: str, payload: Mapping[str, Any]
) -> list[str]:
    """Check the rows an acknowledged registry write names; return what is missing."""
    from hashnation.store.registry_models import (
        ApiToken,
        Application,
        EnforcementRecord,
        Firm,
        PeriodicReturnRecord,
        SandboxCohort,
        SandboxParticipant,
    )

    keys: Mapping[str, Any] = ack.get("keys") or {}
    missing: list[str] = []
    action = str(ack["action"])
    if "firm_id" in keys and action == "firm.registered":
        row = session.get(Firm, int(keys["firm_id"]))
        if row is None or row.registration_number != keys["registration_number"]:
            missing.append(f"firm {keys['firm_id']} ({keys['registration_number']}) not found")
    if "application_id" in keys and session.get(Application, int(keys["application_id"])) is None:
        missing.append(f"application {keys['application_id']} not found")
    if "status" in keys and payload.get("to_status") != keys["status"]:
        missing.append(f"audit entry records {payload.get('to_status')}, not {keys['status']}")
    if "return_id" in keys:
        found = session.get(PeriodicReturnRecord, int(keys["return_id"]))
        if found is None or found.version != keys["version"]:
            missing.append(f"return {keys['return_id']} version {keys['version']} not found")
    enforcement = keys.get("enforcement_id")
    if enforcement is not None and session.get(EnforcementRecord, int(enforcement)) is None:
        missing.append(f"enforcement action {keys['enforcement_id']} not found")
    if "cohort_id" in keys and session.get(SandboxCohort, int(keys["cohort_id"])) is None:
        missing.append(f"cohort {keys['cohort_id']} not found")
    participant = keys.get("participant_id")
    if participant is not None and session.get(SandboxParticipant, int(participant)) is None:
        missing.append(f"participant {keys['participant_id']} not found")
    if action == "token.issued":
        token = _subject_row(session, ApiToken, subject, "token")
        if token is None or token.label != keys.get("label"):
            missing.append(f"token labelled {keys.get('label')!r} not found")
    if "token_id" in keys:
        token = session.get(ApiToken, int(keys["token_id"]))
        if token is None or token.revoked_at is None:
            missing.append(f"token {keys['token_id']} not revoked")
    return missing


def _subject_row(session: Any, model: Any, subject: str, prefix: str) -> Any:
    head, _, number = subject.partition(":")
    if head != prefix or not number.isdigit():
        return None
    return session.get(model, int(number))


def _registry_consistency(session: Any, entries: Sequence[tuple[str, str, Any]]) -> list[str]:
    """Compare the registry's tables with its audit log; one line per disagreement."""
    from sqlalchemy import func, select

    from hashnation.registry.service import _PRIVATE_ACTIONS
    from hashnation.store.registry_models import (
        ApiToken,
        Application,
        Decision,
        EnforcementRecord,
        Firm,
        PeriodicReturnRecord,
        RegistryState,
        SandboxCohort,
        SandboxParticipant,
    )

    problems: list[str] = []
    actions = Counter(action for action, _, _ in entries)

    def rows(model: Any, *where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    moved = (
        sum(n for a, n in actions.items() if a.startswith("application."))
        - actions["application.opened"]
    )
    enforced = sum(n for a, n in actions.items() if a.startswith("enforcement."))
    with_decision = sum(
        1
        for action, _, payload in entries
        if action.startswith("enforcement.") and payload.get("decision_id") is not None
    )
    expected = (
        ("firms", rows(Firm), actions["firm.registered"]),
        ("applications", rows(Application), actions["application.opened"]),
        ("decisions", rows(Decision), moved + with_decision),
        ("returns", rows(PeriodicReturnRecord), actions["return.filed"]),
        ("enforcement actions", rows(EnforcementRecord), enforced),
        ("sandbox cohorts", rows(SandboxCohort), actions["sandbox.cohort_created"]),
        ("sandbox participants", rows(SandboxParticipant), actions["sandbox.admitted"]),
        ("API tokens", rows(ApiToken), actions["token.issued"]),
        (
            "revoked API tokens",
            rows(ApiToken, ApiToken.revoked_at.is_not(None)),
            actions["token.revoked"],
        ),
    )
    for what, have, audited in expected:
        if have != audited:
            problems.append(f"{have} {what} in their table, {audited} in the audit log")
    public = sum(n for a, n in actions.items() if a not in _PRIVATE_ACTIONS)
    version = session.scalar(select(RegistryState.public_version).where(RegistryState.id == 1))
    if int(version or 0) != public:
        problems.append(
            f"public register version {version}, {public} public changes in the audit log"
        )
    # Per subject: rows named by the entries exist and stand as the last entry left them.
    status: dict[int, str] = {}
    usage: dict[int, Any] = {}
    for action, subject, payload in entries:
        head, _, number = subject.partition(":")
        if not number.isdigit():
            continue
        ident = int(number)
        if head == "application" and action != "application.opened":
            if "to_status" in payload:
                status[ident] = str(payload["to_status"])
            decision = payload.get("decision_id")
            if decision is not None and session.get(Decision, int(decision)) is None:
                problems.append(f"{action} on {subject}: decision {decision} not found")
            enforcement = payload.get("enforcement_id")
            if enforcement is not None and session.get(EnforcementRecord, int(enforcement)) is None:
                problems.append(f"{action} on {subject}: enforcement {enforcement} not found")
        elif head == "return":
            found = session.get(PeriodicReturnRecord, ident)
            if found is None or found.version != payload.get("version"):
                problems.append(f"{action} on {subject}: return version not found")
        elif head == "participant" and action == "sandbox.usage":
            usage[ident] = payload.get("customers")
    for app_id, app_status in session.execute(select(Application.id, Application.status)):
        want = status.get(int(app_id), "draft")
        if str(app_status) != want:
            problems.append(f"application {app_id} is {app_status}; its audit log says {want}")
    for part_id, customers in usage.items():
        part = session.get(SandboxParticipant, part_id)
        if part is None or part.customers != customers:
            shown = None if part is None else part.customers
            problems.append(f"participant {part_id}: {shown} customers; audit log says {customers}")
    return problems


# =========================================================================== trials


@dataclass(frozen=True)
class RoundResult:
    """One start and kill of a worker.

    Parameters
    ----------
    round
        Round number on the trial's database (0, 1, ...).
    acked
        Writes acknowledged in this round [count].
    kill_after
        Acknowledgements waited for before the kill window [count].
    delay_s
        Wait after the next write began, before the kill [s].
    in_flight
        The write in flight at the kill: ``none``, ``absent`` or ``committed``.
    refused
        Writes the API refused (nothing written) [count].
    start_s
        From starting the worker to its ``ready`` message [s].
    exit_code
        The worker's exit status (``-9``: killed).
    check
        The checker's result after this round (over every round so far).
    """

    round: int
    acked: int
    kill_after: int
    delay_s: float
    in_flight: str
    refused: int
    start_s: float
    exit_code: int | None
    check: CheckResult


@dataclass(frozen=True)
class TrialResult:
    """A crash trial: a fresh database, a worker killed in each round, checked each time.

    Parameters
    ----------
    backend
        ``sqlite`` or ``postgresql``.
    kind
        ``ledger`` or ``registry``.
    seed
        Trial seed.
    rounds
        Each round's result.
    seconds
        Wall time of the trial [s].
    """

    backend: str
    kind: str
    seed: int
    rounds: tuple[RoundResult, ...]
    seconds: float

    @property
    def kills(self) -> int:
        """Workers killed [count]."""
        return len(self.rounds)

    @property
    def acked_writes(self) -> int:
        """Writes acknowledged over all rounds [count]."""
        return sum(r.acked for r in self.rounds)

    def _union(self, name: str) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for r in self.rounds:
            seen.update(dict.fromkeys(getattr(r.check, name)))
        return tuple(seen)

    @property
    def lost(self) -> tuple[str, ...]:
        """Acknowledged writes lost, over all rounds' checks."""
        return self._union("lost")

    @property
    def partial(self) -> tuple[str, ...]:
        """Partial writes, over all rounds' checks."""
        return self._union("partial")

    @property
    def audit_failures(self) -> tuple[str, ...]:
        """Audit chain failures, over all rounds' checks."""
        return self._union("audit_failures")

    @property
    def integrity_failures(self) -> tuple[str, ...]:
        """Integrity failures, over all rounds' checks."""
        return self._union("integrity_failures")

    @property
    def ok(self) -> bool:
        """True when every round's check passed."""
        return all(r.check.ok for r in self.rounds)


class _Worker:
    """A worker process and a thread collecting its messages as (time, message)."""

    def __init__(
        self,
        url: str,
        kind: Kind,
        seed: int,
        round_no: int,
        spawn: Spawn,
        stderr_path: Path,
        max_writes: int | None,
    ) -> None:
        self.messages: queue.Queue[tuple[float, Message | None]] = queue.Queue()
        self.stderr_path = stderr_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._process: Any = None
        if spawn == "exec":
            command = [
                sys.executable,
                "-m",
                "hashnation.hardening.crash",
                "worker",
                "--db",
                url,
                "--kind",
                kind,
                "--seed",
                str(seed),
                "--round",
                str(round_no),
            ]
            if max_writes is not None:
                command += ["--max-writes", str(max_writes)]
            with open(stderr_path, "ab") as err:
                self._proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err)
            self.pid = self._proc.pid
            assert self._proc.stdout is not None
            stdout = self._proc.stdout
            self._thread = threading.Thread(target=self._read_lines, args=(stdout,), daemon=True)
        else:
            context = _fork_context()
            reader, writer = context.Pipe(duplex=False)
            self._process = context.Process(
                target=_fork_entry,
                args=(url, kind, seed, round_no, max_writes, writer, str(stderr_path)),
            )
            self._process.start()
            writer.close()
            self.pid = int(self._process.pid)
            self._thread = threading.Thread(target=self._read_conn, args=(reader,), daemon=True)
        self._thread.start()

    def _read_lines(self, stdout: IO[bytes]) -> None:
        try:
            for message in _iter_messages(stdout):
                self.messages.put((time.monotonic(), message))
        finally:
            self.messages.put((time.monotonic(), None))

    def _read_conn(self, reader: Connection) -> None:
        try:
            while True:
                data = reader.recv_bytes()
                self.messages.put((time.monotonic(), json.loads(data)))
        except (EOFError, OSError, ValueError):
            pass
        finally:
            reader.close()
            self.messages.put((time.monotonic(), None))

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout_s: float = 60.0) -> int | None:
        """Wait for the process and its messages' end; return its exit status."""
        code: int | None
        if self._proc is not None:
            try:
                code = self._proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                code = None
            if self._proc.stdout is not None:
                self._thread.join(timeout_s)
                self._proc.stdout.close()
        else:
            self._process.join(timeout_s)
            code = self._process.exitcode
            self._thread.join(timeout_s)
            self._process.close()
        return code

    def stderr_tail(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""


_FORK_CONTEXT: Any = None


def _fork_context() -> Any:
    global _FORK_CONTEXT
    if _FORK_CONTEXT is None:
        import multiprocessing

        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(_PRELOAD))
        _FORK_CONTEXT = context
    return _FORK_CONTEXT


def prepare_database(url: str, kind: str) -> None:
    """Migrate a database to the newest schema and add what the worker writes to.

    Parameters
    ----------
    url
        Database URL (an empty database, or one already migrated).
    kind
        ``ledger`` (adds :data:`LEDGER_ACCOUNTS`) or ``registry`` (nothing more).
    """
    from sqlalchemy.pool import NullPool

    from hashnation.store.db import make_engine, upgrade

    chosen = _check_kind(kind)
    engine = make_engine(url, poolclass=NullPool)
    try:
        upgrade(engine)
        if chosen == "ledger":
            _ensure_ledger_accounts(engine)
    finally:
        engine.dispose()


def _run_round(
    url: str,
    kind: Kind,
    seed: int,
    round_no: int,
    rng: random.Random,
    messages: list[Message],
    *,
    spawn: Spawn,
    max_acks: int,
    work_dir: Path,
    timeout_s: float,
) -> RoundResult:
    kill_after = rng.randint(1, max_acks)
    # Most kills inside the write, some around its commit and just after it.
    fraction = rng.uniform(0.0, 1.0) if rng.random() < 0.7 else rng.uniform(0.85, 1.3)
    started = time.monotonic()
    worker = _Worker(
        url, kind, seed, round_no, spawn, work_dir / f"worker-{round_no}.err", max_writes=None
    )
    deadline = started + timeout_s
    acks = refused = 0
    ready_at: float | None = None
    begun_at: float | None = None
    size = 1
    rates: list[float] = []  # seconds per unit of size (ledger: per entry)
    delay = 0.0
    ended = False
    killed = False
    try:
        while not killed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                at, message = worker.messages.get(timeout=remaining)
            except queue.Empty:
                break
            if message is None:
                ended = True
                break
            messages.append(message)
            op = message.get("op")
            if op == "ready":
                ready_at = at
            elif op == "begin":
                begun_at = at
                size = max(1, int(message.get("entries", 1)))
                if acks >= kill_after:
                    rate = statistics.median(rates) if rates else 0.01 / size
                    delay = fraction * rate * size
                    pause = at + delay - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    worker.kill()
                    killed = True
            elif op == "ack":
                acks += 1
                if begun_at is not None:
                    rates.append((at - begun_at) / size)
            elif op == "refused":
                refused += 1
    finally:
        worker.kill()
        code = worker.wait()
    while True:
        try:
            _, message = worker.messages.get_nowait()
        except queue.Empty:
            break
        if message is None:
            continue
        messages.append(message)
        if message.get("op") == "ack":
            acks += 1
        elif message.get("op") == "refused":
            refused += 1
    if not killed:
        why = "exited on its own" if ended else f"sent no kill point within {timeout_s} s"
        raise CrashTrialError(
            f"worker ({kind}, seed {seed}, round {round_no}) {why} (exit {code}): "
            f"{worker.stderr_tail().strip()[-600:]}"
        )
    check = check_database(url, kind, messages)
    return RoundResult(
        round=round_no,
        acked=acks,
        kill_after=kill_after,
        delay_s=delay,
        in_flight=check.in_flight,
        refused=refused,
        start_s=(ready_at - started) if ready_at is not None else float("nan"),
        exit_code=code,
        check=check,
    )


def run_trial(
    url: str,
    kind: str,
    seed: int,
    *,
    rounds: int = 2,
    spawn: Spawn = "fork",
    max_acks: int | None = None,
    timeout_s: float = 120.0,
    prepare: bool = True,
) -> TrialResult:
    """Run one crash trial on a fresh database: start, kill, check, for each round.

    Parameters
    ----------
    url
        Database URL of a fresh database (or one ``prepare`` can migrate).
    kind
        ``ledger`` or ``registry``.
    seed
        Seed of the writes and of the kill moments.
    rounds
        Worker starts on the same database, each killed and checked (>= 1).
    spawn
        ``"fork"``: forked from a server that imported the modules once;
        ``"exec"``: ``python -m hashnation.hardening.crash worker`` each time.
    max_acks
        A kill comes after 1 to ``max_acks`` acknowledgements (seeded), during or
        just after the next write; by default 6 ledger batches, 50 registry writes.
    timeout_s
        Longest wait for a worker's messages [s].
    prepare
        Migrate the database and add the ledger accounts first.

    Returns
    -------
    TrialResult
        Every round's result.

    Raises
    ------
    CrashTrialError
        If a worker exits on its own or stays silent for ``timeout_s``.
    """
    chosen = _check_kind(kind)
    if spawn not in ("exec", "fork"):
        raise InputError("spawn", spawn, "'exec' or 'fork'")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise InputError("rounds", rounds, "an integer >= 1")
    limit = _DEFAULT_MAX_ACKS[chosen] if max_acks is None else max_acks
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InputError("max_acks", max_acks, "an integer >= 1")
    from sqlalchemy.engine import make_url

    backend = make_url(url).get_backend_name()
    started = time.monotonic()
    if prepare:
        prepare_database(url, chosen)
    rng = random.Random(f"trial:{seed}")
    messages: list[Message] = []
    results: list[RoundResult] = []
    with tempfile.TemporaryDirectory(prefix="hashnation-crash-") as work:
        for round_no in range(rounds):
            results.append(
                _run_round(
                    url,
                    chosen,
                    seed,
                    round_no,
                    rng,
                    messages,
                    spawn=spawn,
                    max_acks=limit,
                    work_dir=Path(work),
                    timeout_s=timeout_s,
                )
            )
    return TrialResult(backend, chosen, seed, tuple(results), time.monotonic() - started)


class TrialDatabases:
    """Fresh migrated databases for trials: SQLite files, or a throwaway PostgreSQL server.

    Each :meth:`make` copies a migrated template (a file copy on SQLite, ``CREATE
    DATABASE ... TEMPLATE`` on a :class:`~hashnation.store.pgtemp.TemporaryPostgres`
    started on entry and stopped on exit).

    Parameters
    ----------
    backend
        ``sqlite`` or ``postgresql``.
    """

    def __init__(self, backend: str) -> None:
        if backend not in BACKENDS:
            raise InputError("backend", backend, f"one of: {', '.join(BACKENDS)}")
        self.backend = backend
        self._dir: Path | None = None
        self._server: TemporaryPostgres | None = None
        self._count = 0

    def __enter__(self) -> TrialDatabases:
        from hashnation.store.db import upgrade

        self._dir = Path(tempfile.mkdtemp(prefix="hashnation-crash-db-"))
        try:
            if self.backend == "postgresql":
                from hashnation.store.pgtemp import TemporaryPostgres

                self._server = TemporaryPostgres().start()
                upgrade(self._server.create_database("crash_template"))
            else:
                upgrade(f"sqlite:///{self._dir / 'template.db'}")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the server and delete every database made."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def make(self) -> str:
        """Make a fresh, migrated database and return its URL."""
        if self._dir is None:
            raise CrashTrialError("trial databases: use 'with TrialDatabases(...)' first")
        self._count += 1
        if self._server is not None:
            return self._server.create_database(f"crash_{self._count}", template="crash_template")
        path = self._dir / f"trial_{self._count}.db"
        shutil.copyfile(self._dir / "template.db", path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        """Delete a database made by :meth:`make`."""
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        if self._server is not None and parsed.database:
            self._server.drop_database(parsed.database)
        elif parsed.database:
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(parsed.database + suffix).unlink(missing_ok=True)


# =========================================================================== command line


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``worker`` writes until killed; ``check`` checks a database.

    Parameters
    ----------
    argv
        Arguments (``sys.argv[1:]`` by default).

    Returns
    -------
    int
        Exit status: 0, or 1 when ``check`` finds a problem.
    """
    parser = argparse.ArgumentParser(
        prog="python -m hashnation.hardening.crash",
        description="Crash trial worker and checker.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    work = commands.add_parser("worker", help="write and acknowledge until killed")
    work.add_argument("--db", required=True, help="database URL")
    work.add_argument("--kind", required=True, choices=KINDS)
    work.add_argument("--seed", type=int, default=0)
    work.add_argument("--round", type=int, default=0, dest="round_no")
    work.add_argument("--max-writes", type=int, default=None)
    check = commands.add_parser("check", help="check a database against worker messages")
    check.add_argument("--db", required=True, help="database URL")
    check.add_argument("--kind", required=True, choices=KINDS)
    check.add_argument("messages", type=Path, help="file of the worker's JSON lines")
    args = parser.parse_args(argv)
    if args.command == "worker":
        run_worker(
            args.db,
            args.kind,
            args.seed,
            round_no=args.round_no,
            max_writes=args.max_writes,
            emit=_stdout_emit,
        )
        return 0
    with open(args.messages, encoding="utf-8") as handle:
        result = check_database(args.db, args.kind, parse_messages(handle))
    for line in result.problems():
        print(line)
    print(
        f"{result.kind}: {result.acked} acknowledged writes, {result.present} found, "
        f"in flight {result.in_flight}: {'ok' if result.ok else 'FAILED'}"
    )
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
