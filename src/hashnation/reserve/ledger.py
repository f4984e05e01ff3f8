"""Double-entry accounting ledger of the strategic reserve.

Every movement of bitcoin is a *journal entry* of one :data:`kind
<hashnation.store.models.ENTRY_KINDS>` with the evidence that kind requires, and
two or more *postings* (lines) whose amounts sum to zero in satoshis, and to zero
in USD when the entry is valued. Amounts are ``int`` satoshis (``> 0``: received
by the account); money is :class:`~decimal.Decimal` USD to the cent.

Why kinds matter
----------------
A reserve that only tracks its balance cannot say *where* bitcoin came from.
El Salvador's "1 BTC a day" was, per the IMF's 2025 review, largely the
consolidation of bitcoin already held by other government wallets rather than
new purchases; both raise the reserve's balance by the same amount. Here a
``purchase`` must come from a ``counterparty`` account with a trade reference,
price and USD paid, while a ``consolidation`` must come from a ``government``
wallet with the source wallet and txid, so :func:`inflows_by_kind` can tell them
apart.

Entry kinds (:data:`KIND_RULES`)
--------------------------------
=================  ========  ==============================  ===============================
kind               custody   other side (account types)      required evidence
=================  ========  ==============================  ===============================
``purchase``       in        counterparty                    trade_ref, price_usd_per_btc,
                                                             usd_paid
``sale``           out       counterparty                    trade_ref, price_usd_per_btc,
                                                             usd_received
``consolidation``  in        government                      source_wallet, txid
``mining``         in        income                          site (site or programme id),
                                                             period
``visa_payment``   in        counterparty or income          application_id
``donation``       in        counterparty, income, equity    donor_ref
``transfer``       internal  none: custody accounts only     txid
``fee``            out       expense                         fee_sat, txid
=================  ========  ==============================  ===============================

``txid`` is also accepted, optional, on purchases, sales, mining, visa payments
and donations. Inflow and sale entries must be valued (``value_usd`` on every
posting); transfers and fees may be.

Rules
-----
* Postings sum to zero in sat; valued entries (all postings valued, or none)
  sum to zero in USD, and each value has the sign of its amount.
* An account appears at most once per entry; no zero amounts.
* No custody account ever holds a negative balance, at any point in time:
  entries are ordered by ``(occurred_at, id)`` and a back-dated entry is
  refused if it would drive a later balance negative. The :class:`LedgerError`
  names the account, the balance and the entry. Each account caches its balance
  and the time of its latest entry, so an entry recorded in time order is
  checked without reading the account's history; a back-dated one reads the
  history from its own time on.
* Every write runs in a savepoint of the caller's session: it is applied whole
  or not at all, and the session stays usable after a refusal. Nothing here
  commits; :func:`hashnation.store.db.session_scope` commits once at the end.

Cost basis
----------
Each inflow entry creates an acquisition *lot* (sat and USD cost). Sales and
fees are *disposals*: proceeds are the USD value of the custody postings
(``usd_received`` for a sale; a fee's value if given, else zero). FIFO
(:func:`fifo_basis`) and average cost (:func:`average_basis`) work in integer
cents with round-half-even per disposal, so that basis is conserved exactly:
``cost of all lots = basis disposed + basis held`` for both methods, and the
total gain ``realised + unrealised`` is the same under both.

Times
-----
Entry times are timezone-aware and stored in UTC. A query "as of" a
:class:`~datetime.datetime` includes entries at that instant; a
:class:`~datetime.date` means 00:00 UTC of that day, the time of the bundled
daily price used by :func:`mark_to_market`.

CSV
---
One row per posting, columns :data:`CSV_COLUMNS`; see :func:`export_csv` and
:func:`import_csv` (one savepoint for the whole file, an error names the line,
the column and the value).
"""

from __future__ import annotations

import csv
import gc
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, Literal, TypeAlias

from sqlalchemy import and_, func, literal, select, update
from sqlalchemy.orm import Session

from hashnation.bitcoin.units import MAX_MONEY_SAT, SAT_PER_BTC
from hashnation.errors import LedgerError
from hashnation.store.models import (
    ACCOUNT_TYPES,
    ENTRY_KINDS,
    Account,
    JournalEntry,
    Lot,
    Posting,
)
from hashnation.store.types import CENT

__all__ = [
    "CSV_COLUMNS",
    "EVIDENCE_FIELDS",
    "INFLOW_KINDS",
    "KIND_RULES",
    "OUTFLOW_KINDS",
    "Acquisition",
    "BasisResult",
    "CheckedEntry",
    "Disposal",
    "DisposalResult",
    "EntryDraft",
    "ImportResult",
    "KindFlow",
    "KindRule",
    "Leg",
    "Valuation",
    "add_account",
    "average_basis",
    "balance",
    "basis_events",
    "check_entry",
    "check_ledger",
    "cost_basis",
    "export_csv",
    "fifo_basis",
    "get_account",
    "holdings",
    "import_csv",
    "inflows_by_kind",
    "mark_to_market",
    "realised_pnl",
    "record_consolidation",
    "record_donation",
    "record_entry",
    "record_fee",
    "record_mining",
    "record_purchase",
    "record_sale",
    "record_transfer",
    "record_visa_payment",
    "total_holdings",
    "unrealised_pnl",
]

Method: TypeAlias = Literal["fifo", "average"]
When: TypeAlias = datetime | date
Where: TypeAlias = Callable[[str, int | None], str]
"""Names a field in an error: ``where(column, leg_index)``."""

PRICE_TOLERANCE = Decimal("0.01")
"""Largest relative gap between ``usd_paid`` (``usd_received``) and price x amount.

Allows for a broker's commission or spread; a larger gap is refused as a likely
typing error in the evidence."""

_CHUNK = 5_000
_TXID_RE = re.compile(r"[0-9a-fA-F]{64}")
_INT_RE = re.compile(r"[+-]?[0-9]+")
_USD_RE = re.compile(r"[+-]?[0-9]+(?:\.[0-9]{1,2})?")
_PRICE_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")


# =========================================================================== rules


@dataclass(frozen=True)
class KindRule:
    """What an entry of one kind must look like.

    Parameters
    ----------
    direction
        ``"in"``: custody postings all receive bitcoin from outside the reserve;
        ``"out"``: custody postings all send to outside; ``"internal"``: only
        custody accounts take part.
    counter_types
        Account types allowed on the other side of an ``in``/``out`` entry.
    required
        Evidence fields that must be present and non-blank.
    optional
        Evidence fields that may be given.
    valued
        Whether every posting must carry ``value_usd``.
    """

    direction: Literal["in", "out", "internal"]
    counter_types: frozenset[str]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    valued: bool = True


KIND_RULES: Mapping[str, KindRule] = {
    "purchase": KindRule(
        "in",
        frozenset({"counterparty"}),
        ("trade_ref", "price_usd_per_btc", "usd_paid"),
        ("txid",),
    ),
    "sale": KindRule(
        "out",
        frozenset({"counterparty"}),
        ("trade_ref", "price_usd_per_btc", "usd_received"),
        ("txid",),
    ),
    "consolidation": KindRule("in", frozenset({"government"}), ("source_wallet", "txid")),
    "mining": KindRule("in", frozenset({"income"}), ("site", "period"), ("txid",)),
    "visa_payment": KindRule(
        "in", frozenset({"counterparty", "income"}), ("application_id",), ("txid",)
    ),
    "donation": KindRule(
        "in", frozenset({"counterparty", "income", "equity"}), ("donor_ref",), ("txid",)
    ),
    "transfer": KindRule("internal", frozenset(), ("txid",), valued=False),
    "fee": KindRule("out", frozenset({"expense"}), ("fee_sat", "txid"), valued=False),
}
"""Rules of every entry kind."""

INFLOW_KINDS: tuple[str, ...] = tuple(k for k, r in KIND_RULES.items() if r.direction == "in")
"""Kinds that bring bitcoin into custody from outside the reserve (they create lots)."""

OUTFLOW_KINDS: tuple[str, ...] = tuple(k for k, r in KIND_RULES.items() if r.direction == "out")
"""Kinds that send bitcoin out of the reserve (disposals)."""

EVIDENCE_FIELDS: tuple[str, ...] = (
    "trade_ref",
    "price_usd_per_btc",
    "usd_paid",
    "usd_received",
    "source_wallet",
    "txid",
    "site",
    "period",
    "application_id",
    "donor_ref",
    "fee_sat",
)
"""Every evidence field, in CSV column order."""

CSV_COLUMNS: tuple[str, ...] = (
    "entry",
    "occurred_at",
    "kind",
    "account",
    "amount_sat",
    "value_usd",
    "memo",
    *EVIDENCE_FIELDS,
)
"""Columns of the CSV format, one row per posting.

``entry`` groups consecutive rows into one entry (the entry id on export, any
label on import); ``occurred_at`` is ISO 8601 with a UTC offset (exported as
``...Z``); ``amount_sat`` is a signed integer [sat]; ``value_usd``,
``usd_paid`` and ``usd_received`` are USD with at most 2 decimals (blank: not
valued); ``price_usd_per_btc`` is USD/BTC; ``fee_sat`` is sat. Entry columns
(``occurred_at``, ``kind``, ``memo`` and the evidence) are repeated on every
row of the entry, or left blank after its first row."""

_ENTRY_COLUMNS = ("occurred_at", "kind", "memo", *EVIDENCE_FIELDS)
assert set(KIND_RULES) == set(ENTRY_KINDS)


@dataclass(frozen=True, slots=True)
class Leg:
    """One posting of an entry being recorded.

    Parameters
    ----------
    account
        Account name.
    amount_sat
        Signed amount [sat]: ``> 0`` received by the account.
    value_usd
        USD value, same sign as the amount, at most 2 decimals; None if unvalued.
    """

    account: str
    amount_sat: int
    value_usd: Decimal | None = None


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """A journal entry before it is written.

    Parameters
    ----------
    kind
        One of :data:`KIND_RULES`.
    occurred_at
        Timezone-aware time of the entry.
    legs
        The postings.
    evidence
        Evidence fields of the kind (text, numbers or Decimals).
    memo
        Free text.
    """

    kind: str
    occurred_at: datetime
    legs: tuple[Leg, ...]
    evidence: Mapping[str, object]
    memo: str = ""


@dataclass(frozen=True, slots=True)
class _AccountRef:
    id: int
    name: str
    type: str


@dataclass(frozen=True, slots=True)
class CheckedEntry:
    """An entry that passed :func:`check_entry`, ready to be written.

    Parameters
    ----------
    kind
        Entry kind.
    occurred_at
        Time of the entry, UTC.
    legs
        The postings.
    accounts
        The account of each posting, resolved.
    evidence
        Evidence as text (prices and USD normalised, txids lower case).
    memo
        Free text.
    lot_sat
        Bitcoin entering custody from outside [sat]; 0 if the entry is no inflow.
    lot_cost
        Cost basis of that bitcoin [USD], or None.
    """

    kind: str
    occurred_at: datetime
    legs: tuple[Leg, ...]
    accounts: tuple[_AccountRef, ...]
    evidence: dict[str, str]
    memo: str
    lot_sat: int
    lot_cost: Decimal | None


def _default_where(column: str, leg: int | None) -> str:
    return f"entry.{column}" if leg is None else f"entry.legs[{leg}].{column}"


def _fail(where: Where, column: str, leg: int | None, value: object, expected: str) -> LedgerError:
    return LedgerError(where(column, leg), value, expected)


def _utc(value: object, name: str, where: Where = _default_where) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise _fail(where, name, None, value, "a timezone-aware datetime")
    return value.astimezone(UTC)


def _as_of(at: When | None, name: str = "at") -> datetime | None:
    if at is None:
        return None
    if isinstance(at, datetime):
        return _utc(at, name)
    if isinstance(at, date):
        return datetime.combine(at, time(0), tzinfo=UTC)
    raise LedgerError(name, at, "a date or a timezone-aware datetime")


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _usd(value: object) -> Decimal | None:
    """Return a USD amount with at most 2 decimals, or None if it is not one."""
    number = _decimal(value)
    if number is None:
        return None
    try:
        cents = number.quantize(CENT)
    except InvalidOperation:  # too many digits
        return None
    return cents if cents == number else None


def _evidence(kind: str, given: Mapping[str, object], where: Where) -> dict[str, str]:
    rule = KIND_RULES[kind]
    out: dict[str, str] = {}
    allowed = set(rule.required) | set(rule.optional)
    for key, raw in given.items():
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        if key not in allowed:
            known = ", ".join((*rule.required, *rule.optional))
            raise _fail(where, key, None, raw, f"no {key!r} on a {kind} entry (fields: {known})")
        out[key] = _evidence_value(key, raw, where)
    for key in rule.required:
        if key not in out:
            raise _fail(where, key, None, given.get(key), f"the {key} of the {kind} (required)")
    return out


def _evidence_value(key: str, raw: object, where: Where) -> str:
    if key == "txid":
        if not isinstance(raw, str) or not _TXID_RE.fullmatch(raw.strip()):
            raise _fail(where, key, None, raw, "a transaction id, 64 hex digits")
        return raw.strip().lower()
    if key == "price_usd_per_btc":
        number = _decimal(raw)
        if number is None or number <= 0:
            raise _fail(where, key, None, raw, "a price > 0 [USD/BTC]")
        return str(number)
    if key in ("usd_paid", "usd_received"):
        number = _usd(raw)
        if number is None or number <= 0:
            raise _fail(where, key, None, raw, "an amount > 0 [USD], at most 2 decimals")
        return str(number)
    if key == "fee_sat":
        if isinstance(raw, bool) or not (
            isinstance(raw, int) or (isinstance(raw, str) and _INT_RE.fullmatch(raw.strip()))
        ):
            raise _fail(where, key, None, raw, "a whole number of satoshis > 0 [sat]")
        fee = int(raw)
        if not 0 < fee <= MAX_MONEY_SAT:
            raise _fail(where, key, None, raw, "a whole number of satoshis > 0 [sat]")
        return str(fee)
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise _fail(where, key, None, raw, "text")
    return str(raw).strip()


def check_entry(
    draft: EntryDraft,
    accounts: Mapping[str, tuple[int, str]],
    *,
    where: Where = _default_where,
) -> CheckedEntry:
    """Check a draft entry against the accounting rules (no database access).

    Parameters
    ----------
    draft
        The entry.
    accounts
        Account name to ``(id, type)`` for every account the entry may use.
    where
        Names the offending field in errors: ``where(column, leg_index)``.

    Returns
    -------
    CheckedEntry
        The entry, normalised: UTC time, evidence as text, accounts resolved.

    Raises
    ------
    LedgerError
        On the first rule broken; the message names the field, the value and
        what was expected.
    """
    kind = draft.kind
    if kind not in KIND_RULES:
        raise _fail(where, "kind", None, kind, f"one of: {', '.join(KIND_RULES)}")
    rule = KIND_RULES[kind]
    occurred_at = _utc(draft.occurred_at, "occurred_at", where)
    if not isinstance(draft.memo, str):
        raise _fail(where, "memo", None, draft.memo, "text")
    evidence = _evidence(kind, draft.evidence, where)
    legs = tuple(draft.legs)
    if len(legs) < 2:
        raise _fail(where, "account", None, len(legs), "at least 2 postings")

    refs: list[_AccountRef] = []
    seen: set[str] = set()
    valued = 0
    total_sat = 0
    total_usd = Decimal(0)
    for i, leg in enumerate(legs):
        found = accounts.get(leg.account) if isinstance(leg.account, str) else None
        if found is None:
            raise _fail(where, "account", i, leg.account, "the name of an existing account")
        if leg.account in seen:
            raise _fail(where, "account", i, leg.account, "each account at most once per entry")
        seen.add(leg.account)
        ref = _AccountRef(found[0], leg.account, found[1])
        refs.append(ref)
        amount = leg.amount_sat
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise _fail(where, "amount_sat", i, amount, "an int number of satoshis [sat]")
        if amount == 0 or abs(amount) > MAX_MONEY_SAT:
            raise _fail(
                where, "amount_sat", i, amount, f"a non-zero amount, |x| <= {MAX_MONEY_SAT} [sat]"
            )
        total_sat += amount
        if leg.value_usd is not None:
            value = leg.value_usd
            if not isinstance(value, Decimal) or _usd(value) is None:
                raise _fail(
                    where, "value_usd", i, value, "a Decimal USD amount, at most 2 decimals"
                )
            if value * amount < 0:
                raise _fail(where, "value_usd", i, value, "a value with the sign of amount_sat")
            valued += 1
            total_usd += value
        if ref.type == "custody":
            if rule.direction == "in" and amount < 0:
                raise _fail(where, "amount_sat", i, amount, f"> 0 on custody in a {kind}")
            if rule.direction == "out" and amount > 0:
                raise _fail(where, "amount_sat", i, amount, f"< 0 on custody in a {kind}")
        elif rule.direction == "internal":
            raise _fail(
                where, "account", i, leg.account, f"a custody account (a {kind} stays in custody)"
            )
        else:
            if ref.type not in rule.counter_types:
                allowed = " or ".join(sorted(rule.counter_types))
                raise _fail(
                    where,
                    "account",
                    i,
                    leg.account,
                    f"a custody or {allowed} account in a {kind} (it is {ref.type})",
                )
            if (rule.direction == "in") == (amount > 0):
                sign = "< 0" if rule.direction == "in" else "> 0"
                raise _fail(where, "amount_sat", i, amount, f"{sign} on {ref.type} in a {kind}")
    if total_sat != 0:
        raise _fail(where, "amount_sat", None, total_sat, "postings summing to 0 sat")
    if valued not in (0, len(legs)):
        missing = next(i for i, leg in enumerate(legs) if leg.value_usd is None)
        raise _fail(where, "value_usd", missing, None, "a value on every posting, or on none")
    if rule.valued and valued == 0:
        raise _fail(where, "value_usd", 0, None, f"a USD value on every posting of a {kind}")
    if valued and total_usd != 0:
        raise _fail(where, "value_usd", None, total_usd, "values summing to 0 USD")

    custody = [i for i, ref in enumerate(refs) if ref.type == "custody"]
    if not custody:
        raise _fail(where, "account", None, kind, "at least one custody account")
    custody_sat = sum(legs[i].amount_sat for i in custody)
    custody_usd = (
        sum((legs[i].value_usd or Decimal(0) for i in custody), Decimal(0)) if valued else None
    )
    _check_kind_evidence(kind, evidence, custody_sat, custody_usd, where)
    lot_sat = custody_sat if rule.direction == "in" else 0
    return CheckedEntry(
        kind=kind,
        occurred_at=occurred_at,
        legs=legs,
        accounts=tuple(refs),
        evidence=evidence,
        memo=draft.memo,
        lot_sat=lot_sat,
        lot_cost=custody_usd if lot_sat else None,
    )


def _check_kind_evidence(
    kind: str,
    evidence: Mapping[str, str],
    custody_sat: int,
    custody_usd: Decimal | None,
    where: Where,
) -> None:
    if kind == "fee" and -custody_sat != int(evidence["fee_sat"]):
        raise _fail(
            where,
            "fee_sat",
            None,
            evidence["fee_sat"],
            f"the sat leaving custody in the entry ({-custody_sat})",
        )
    if kind in ("purchase", "sale"):
        key = "usd_paid" if kind == "purchase" else "usd_received"
        usd = Decimal(evidence[key])
        booked = custody_usd if kind == "purchase" else -(custody_usd or 0)
        if booked != usd:
            raise _fail(
                where, key, None, evidence[key], f"the USD value on custody in the entry ({booked})"
            )
        price = Decimal(evidence["price_usd_per_btc"])
        at_price = price * abs(custody_sat) / SAT_PER_BTC
        if abs(at_price - usd) > max(CENT, PRICE_TOLERANCE * usd):
            raise _fail(
                where,
                "price_usd_per_btc",
                None,
                evidence["price_usd_per_btc"],
                f"a price within {PRICE_TOLERANCE:%} of {key} / amount "
                f"({usd} USD for {abs(custody_sat)} sat)",
            )


# =========================================================================== accounts


def add_account(
    session: Session,
    name: str,
    type: str,
    *,
    reference: str | None = None,
    description: str = "",
) -> Account:
    """Create an account.

    Parameters
    ----------
    session
        Open session; the account is flushed, not committed.
    name
        Unique name (1 to 100 characters, no leading or trailing space).
    type
        One of ``custody``, ``government``, ``counterparty``, ``income``,
        ``expense``, ``equity``.
    reference
        Address, wallet id or counterparty reference.
    description
        Free text.

    Returns
    -------
    Account
        The new account, with its id.

    Raises
    ------
    LedgerError
        If the name is blank, too long or taken, or the type unknown.
    """
    if not isinstance(name, str) or not name.strip() or name != name.strip() or len(name) > 100:
        raise LedgerError("account.name", name, "1 to 100 characters, no surrounding spaces")
    if type not in ACCOUNT_TYPES:
        raise LedgerError("account.type", type, f"one of: {', '.join(ACCOUNT_TYPES)}")
    if session.scalar(select(Account.id).where(Account.name == name)) is not None:
        raise LedgerError("account.name", name, "a name not used by another account")
    account = Account(name=name, type=type, reference=reference, description=description)
    with session.begin_nested():
        session.add(account)
    return account


def get_account(session: Session, name: str) -> Account:
    """Return the account of a given name.

    Parameters
    ----------
    session
        Open session.
    name
        Account name.

    Returns
    -------
    Account
        The account.

    Raises
    ------
    LedgerError
        If there is no such account.
    """
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise LedgerError("account", name, "the name of an existing account")
    return account


def _account_refs(session: Session, names: Iterable[str]) -> dict[str, tuple[int, str]]:
    wanted = sorted({n for n in names if isinstance(n, str)})
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(Account.name, Account.id, Account.type).where(
                Account.name.in_(wanted[start : start + 500])
            )
        )
        for name, id_, type_ in rows:
            found[name] = (id_, type_)
    return found


# =========================================================================== writing


def record_entry(
    session: Session,
    kind: str,
    occurred_at: datetime,
    legs: Sequence[Leg],
    evidence: Mapping[str, object],
    *,
    memo: str = "",
) -> JournalEntry:
    """Check and write one journal entry (with its lot, for an inflow).

    Parameters
    ----------
    session
        Open session. The entry is written in a savepoint and flushed; the
        caller commits.
    kind
        One of :data:`KIND_RULES`.
    occurred_at
        Timezone-aware time of the entry.
    legs
        Postings, at least two, summing to zero.
    evidence
        Evidence fields required (and allowed) by the kind.
    memo
        Free text.

    Returns
    -------
    JournalEntry
        The entry written, with its id and postings.

    Raises
    ------
    LedgerError
        If the entry breaks a rule (see the module notes), including a custody
        balance that would turn negative at any time. Nothing is written then.
    """
    draft = EntryDraft(kind, occurred_at, tuple(legs), dict(evidence), memo)
    with session.begin_nested():
        accounts = _account_refs(session, (leg.account for leg in draft.legs))
        checked = check_entry(draft, accounts)
        _check_holdings(session, [checked], None)
        entry = JournalEntry(
            occurred_at=checked.occurred_at,
            kind=checked.kind,
            memo=checked.memo,
            evidence=checked.evidence,
            postings=[
                Posting(account_id=ref.id, amount_sat=leg.amount_sat, value_usd=leg.value_usd)
                for leg, ref in zip(checked.legs, checked.accounts, strict=True)
            ],
        )
        if checked.lot_sat:
            entry.lot = Lot(
                acquired_at=checked.occurred_at,
                amount_sat=checked.lot_sat,
                cost_usd=checked.lot_cost if checked.lot_cost is not None else Decimal(0),
            )
        session.add(entry)
        session.flush()
    return entry


def _check_holdings(
    session: Session,
    batch: Sequence[CheckedEntry],
    leg_where: Callable[[int, int], str] | None,
) -> None:
    """Refuse a batch that would make any custody balance negative at any time.

    Locks the accounts of the batch (PostgreSQL) and updates their cached balance
    and latest time; the caller then writes the batch in the same savepoint. When
    the batch starts at or after the latest entry of every custody account it
    touches (entries recorded in time order), the cached balances are the opening
    balances; otherwise the history from the batch's first time is read back.
    """
    touched: dict[int, str] = {}
    custody_ids: dict[int, str] = {}
    for checked in batch:
        for ref in checked.accounts:
            touched[ref.id] = ref.name
            if ref.type == "custody":
                custody_ids[ref.id] = ref.name
    if not touched:
        return
    # Serialise writers per account on PostgreSQL (SQLite locks the whole file).
    cached = {
        account_id: (int(balance_sat), balance_at)
        for account_id, balance_sat, balance_at in session.execute(
            select(Account.id, Account.balance_sat, Account.balance_at)
            .where(Account.id.in_(sorted(touched)))
            .with_for_update()
        )
    }
    start = min(checked.occurred_at for checked in batch)
    ids = sorted(custody_ids)
    latest_known = [cached[i][1] for i in ids]
    in_order = all(at is None or at <= start for at in latest_known)
    # Events: existing postings at or after the batch's first time, then the batch's;
    # at equal times existing entries come first (the batch gets higher ids).
    events: list[tuple[datetime, int, int, int, int, int]] = []
    if in_order:
        balances = {i: cached[i][0] for i in ids}
    else:
        opening = {
            account_id: total
            for account_id, total in session.execute(
                select(Posting.account_id, func.sum(Posting.amount_sat))
                .join(JournalEntry, Posting.entry_id == JournalEntry.id)
                .where(Posting.account_id.in_(ids), JournalEntry.occurred_at < start)
                .group_by(Posting.account_id)
            )
        }
        balances = {i: int(opening.get(i) or 0) for i in ids}
        later = session.execute(
            select(
                JournalEntry.occurred_at, JournalEntry.id, Posting.account_id, Posting.amount_sat
            )
            .join(JournalEntry, Posting.entry_id == JournalEntry.id)
            .where(Posting.account_id.in_(ids), JournalEntry.occurred_at >= start)
        )
        for occurred_at, entry_id, account_id, amount in later:
            events.append((occurred_at, 0, entry_id, -1, account_id, amount))
    for number, checked in enumerate(batch):
        for leg_no, (leg, ref) in enumerate(zip(checked.legs, checked.accounts, strict=True)):
            if ref.type == "custody":
                events.append((checked.occurred_at, 1, number, leg_no, ref.id, leg.amount_sat))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    last_new: dict[int, tuple[int, int]] = {}
    for occurred_at, new, number, leg_no, account_id, amount in events:
        balance_sat = balances[account_id] + amount
        balances[account_id] = balance_sat
        if new:
            last_new[account_id] = (number, leg_no)
        if balance_sat >= 0:
            continue
        name = custody_ids[account_id]
        stamp = _iso(occurred_at)
        if new:
            what = f"the {batch[number].kind} entry of {stamp}"
            blame: tuple[int, int] | None = (number, leg_no)
        else:
            kind = session.scalar(select(JournalEntry.kind).where(JournalEntry.id == number))
            what = f"the existing {kind} entry {number} of {stamp}, once the new entries are in"
            blame = last_new.get(account_id)
        field_name = (
            leg_where(*blame) if leg_where is not None and blame is not None else f"holdings.{name}"
        )
        raise LedgerError(
            field_name,
            balance_sat,
            f"custody account {name!r} to hold >= 0 sat after {what}; it would hold "
            f"{balance_sat} sat",
        )
    # Keep the cached balances and latest times of every account touched.
    delta: dict[int, int] = dict.fromkeys(touched, 0)
    latest: dict[int, datetime] = {}
    for checked in batch:
        for leg, ref in zip(checked.legs, checked.accounts, strict=True):
            delta[ref.id] += leg.amount_sat
            seen = latest.get(ref.id)
            if seen is None or checked.occurred_at > seen:
                latest[ref.id] = checked.occurred_at
    for account_id, change in delta.items():
        balance_sat, balance_at = cached[account_id]
        newest = latest[account_id]
        if balance_at is not None and balance_at > newest:
            newest = balance_at
        session.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(balance_sat=balance_sat + change, balance_at=newest)
        )


def _iso(moment: datetime) -> str:
    text = moment.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# --------------------------------------------------------------------------- builders


def _txid(txid: str | None) -> dict[str, object]:
    return {"txid": txid} if txid is not None else {}


def record_purchase(
    session: Session,
    *,
    occurred_at: datetime,
    custody: str,
    counterparty: str,
    amount_sat: int,
    price_usd_per_btc: Decimal | str,
    usd_paid: Decimal,
    trade_ref: str,
    txid: str | None = None,
    memo: str = "",
) -> JournalEntry:
    """Record bitcoin bought from a counterparty for USD.

    Parameters
    ----------
    session
        Open session.
    occurred_at
        Time of the trade (aware).
    custody
        Custody account receiving the bitcoin.
    counterparty
        Exchange or broker (a ``counterparty`` account).
    amount_sat
        Bitcoin bought [sat], > 0.
    price_usd_per_btc
        Trade price [USD/BTC].
    usd_paid
        USD paid, the lot's cost basis.
    trade_ref
        Trade or order reference.
    txid
        Withdrawal transaction id, if any.
    memo
        Free text.

    Returns
    -------
    JournalEntry
        The entry.
    """
    return record_entry(
        session,
        "purchase",
        occurred_at,
        [Leg(custody, amount_sat, usd_paid), Leg(counterparty, -amount_sat, -usd_paid)],
        {
            "trade_ref": trade_ref,
            "price_usd_per_btc": price_usd_per_btc,
            "usd_paid": usd_paid,
            **_txid(txid),
        },
        memo=memo,
    )


def record_sale(
    session: Session,
    *,
    occurred_at: datetime,
    custody: str,
    counterparty: str,
    amount_sat: int,
    price_usd_per_btc: Decimal | str,
    usd_received: Decimal,
    trade_ref: str,
    txid: str | None = None,
    memo: str = "",
) -> JournalEntry:
    """Record bitcoin sold to a counterparty for USD (a disposal).

    Parameters
    ----------
    session
        Open session.
    occurred_at
        Time of the trade (aware).
    custody
        Custody account sending the bitcoin.
    counterparty
        Exchange or broker (a ``counterparty`` account).
    amount_sat
        Bitcoin sold [sat], > 0.
    price_usd_per_btc
        Trade price [USD/BTC].
    usd_received
        USD received, the proceeds.
    trade_ref
        Trade or order reference.
    txid
        Deposit transaction id, if any.
    memo
        Free text.

    Returns
    -------
    JournalEntry
        The entry.
    """
    return record_entry(
        session,
        "sale",
        occurred_at,
        [Leg(custody, -amount_sat, -usd_received), Leg(counterparty, amount_sat, usd_received)],
        {
            "trade_ref": trade_ref,
            "price_usd_per_btc": price_usd_per_btc,
            "usd_received": usd_received,
            **_txid(txid),
        },
        memo=memo,
    )


def record_consolidation(
    session: Session,
    *,
    occurred_at: datetime,
    custody: str,
    source: str,
    amount_sat: int,
    value_usd: Decimal,
    txid: str,
    source_wallet: str | None = None,
    memo: str = "",
) -> JournalEntry:
    """Record bitcoin moved in from another government wallet (not a purchase).

    Parameters
    ----------
    session
        Open session.
    occurred_at
        Time of the transfer (aware).
    custody
        Custody account receiving the bitcoin.
    source
        The sending wallet (a ``government`` account).
    amount_sat
        Bitcoin received [sat], > 0.
    value_usd
        Cost basis carried over from the source wallet, or the fair value at
        the transfer if it is unknown [USD].
    txid
        Transaction id of the transfer.
    source_wallet
        Identifier of the source wallet; by default the source account's
        reference, or its name.
    memo
        Free text.

    Returns
    -------
    JournalEntry
        The entry.
    """
    if source_wallet is None:
        found = session.scalar(select(Account.reference).where(Account.name == source))
        source_wallet = found or source
    return record_entry(
        session,
        "consolidation",
        occurred_at,
        [Leg(custody, amount_sat, value_usd), Leg(source, -amount_sat, -value_usd)],
        {"source_wallet": source_wallet, "txid": txid},
        memo=memo,
    )


def record_mining(
    session: Session,
    *,
    occurred_at: datetime,
    custody: str,
    income: str,
    amount_sat: int,
    value_usd: Decimal,
    site: str,
    period: str,
    txid: str | None = None,
    memo: str = "",
) -> JournalEntry:
    """Record the output of a mining site or programme paid into custody.

    Parameters
    ----------
    session
        Open session.
    occurred_at
        Time of the payout (aware).
    custody
        Custody account receiving the bitcoin.
    income
        Mining income account (an ``income`` account).
    amount_sat
        Bitcoin received [sat], > 0.
    value_usd
        Fair value at receipt, the lot's cost basis [USD].
    site
        Site or programme identifier.
    period
        Production period paid (``"2025-03"``).
    txid
        Payout transaction id, if any.
    memo
        Free text.

    Returns
    -------
    JournalEntry
        The entry.
    """
    return record_entry(
        session,
        "mining",
        occurred_at,
        [Leg(custody, amount_sat, value_usd), Leg(income, -amount_sat, -value_usd)],
        {"site": site, "period": period, **_txid(txid)},
        memo=memo,
    )


def record_visa_payment(
    session: Session,
    *,
    occurred_at: datetime,
    custody: str,
    payer: str,
    amount_sat: int,
    value_usd: Decimal,
    application_id: str,
    txid: str | None = None,
    memo: str = "",
) -> JournalEntry:
    """Record a visa or residency fee paid in bitcoin.

    Parameters
    ----------
    session
        Open session.
    occurred_at
        Time of the payment (aware).
    custody
        Custody account receiving the bitcoin.
    payer
        Fee income account or the applicant (``income`` or ``counterparty``).
    amount_sat
        Bitcoin received [sat], > 0.
    value_usd
        Fair value at receipt [USD].
    application_id
        Visa application identifier.
    txid
        Payment transaction id, if any.
    memo
        Free text.

    Returns
    -------
    JournalEntry
        The entry.
    """
    return record_entry(
        session,
        "visa_payment",
        occurred_at,
        [Leg(custody, amount_sat, value_usd), Leg(payer, -amount_sat, -value_usd)],
        {"application_id": application_id, **_txid(txid)},
        memo=memo,
    )


def record_donation(
    session: Session,
    *,
    occurred_at: datetime,
    custody: str,
    donor: str,
    amount_sat: int,
    value_usd: Decimal,
    donor_ref: str,
    txid: str | None = None,
    memo: str = "",
) -> JournalEntry:
    """Record a donation received in bitcoin.

    Parameters
    ----------
    session
        Open session.
    occurred_at
        Time of the donation (aware).
    custody
        Custody account receiving the bitcoin.
    donor
        Donor or donation account (``counterparty``, ``income`` or ``equity``).
    amount_sat
        Bitcoin received [sat], > 0.
    value_usd
        Fair value at receipt [USD].
    donor_ref
        Donor reference.
    txid
        Transaction id, if any.
    memo
        Free text.

    Returns
    -------
    JournalEntry
        The entry.
    """
    return record_entry(
        session,
        "donation",
        occurred_at,
        [Leg(custody, amount_sat, value_usd), Leg(donor, -amount_sat, -value_usd)],
        {"donor_ref": donor_ref, **_txid(txid)},
        memo=memo,
    )


def record_transfer(
    session: Session,
    *,
    occurred_at: datetime,
    source: str,
    destination: str,
    amount_sat: int,
    txid: str,
    memo: str = "",
) -> JournalEntry:
    """Record bitcoin moved between two of the reserve's custody accounts.

    The network fee of the transaction is a separate :func:`record_fee` entry
    with the same txid.

    Parameters
    ----------
    session
        Open session.
    occurred_at
        Time of the transaction (aware).
    source
        Sending custody account.
    destination
        Receiving custody account.
    amount_sat
        Bitcoin moved [sat], > 0.
    txid
        Transaction id.
    memo
        Free text.

    Returns
    -------
    JournalEntry
        The entry.
    """
    return record_entry(
        session,
        "transfer",
        occurred_at,
        [Leg(source, -amount_sat), Leg(destination, amount_sat)],
        {"txid": txid},
        memo=memo,
    )


def record_fee(
    session: Session,
    *,
    occurred_at: datetime,
    custody: str,
    expense: str,
    fee_sat: int,
    txid: str,
    value_usd: Decimal | None = None,
    memo: str = "",
) -> JournalEntry:
    """Record a network fee paid from custody (a disposal).

    Parameters
    ----------
    session
        Open session.
    occurred_at
        Time of the transaction (aware).
    custody
        Custody account paying the fee.
    expense
        Fee expense account (an ``expense`` account).
    fee_sat
        Fee [sat], > 0.
    txid
        Transaction id.
    value_usd
        Fair value of the fee [USD]; its proceeds as a disposal. Zero if None.
    memo
        Free text.

    Returns
    -------
    JournalEntry
        The entry.
    """
    negative = -value_usd if value_usd is not None else None
    return record_entry(
        session,
        "fee",
        occurred_at,
        [Leg(custody, -fee_sat, negative), Leg(expense, fee_sat, value_usd)],
        {"fee_sat": fee_sat, "txid": txid},
        memo=memo,
    )


# =========================================================================== queries


def _cents(value: Any) -> int:
    """Integer cents of a SQL ``SUM(ROUND(value_usd * 100))`` result."""
    if value is None:
        return 0
    return int(Decimal(value).to_integral_value(ROUND_HALF_EVEN))


def _usd_from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def _sum_cents(column: Any) -> Any:
    # Exact on both back ends: PostgreSQL sums NUMERIC; SQLite sums whole-cent floats.
    return func.sum(func.round(column * literal(100)))


def balance(session: Session, account: str, at: When | None = None) -> int:
    """Return the balance of one account.

    Parameters
    ----------
    session
        Open session.
    account
        Account name.
    at
        As of this time (inclusive); a date means 00:00 UTC of that day. Now
        (all entries) by default.

    Returns
    -------
    int
        Balance [sat].

    Raises
    ------
    LedgerError
        If there is no such account, or ``at`` is naive.
    """
    account_id = get_account(session, account).id
    stmt = (
        select(func.coalesce(func.sum(Posting.amount_sat), 0))
        .join(JournalEntry, Posting.entry_id == JournalEntry.id)
        .where(Posting.account_id == account_id)
    )
    moment = _as_of(at)
    if moment is not None:
        stmt = stmt.where(JournalEntry.occurred_at <= moment)
    return int(session.scalar(stmt) or 0)


def holdings(session: Session, at: When | None = None) -> dict[str, int]:
    """Return the balance of every custody account.

    Parameters
    ----------
    session
        Open session.
    at
        As of this time (inclusive); a date means 00:00 UTC of that day.

    Returns
    -------
    dict[str, int]
        Custody account name to balance [sat], every custody account included.
    """
    moment = _as_of(at)
    condition = Posting.account_id == Account.id
    if moment is not None:
        condition = and_(
            condition,
            Posting.entry_id.in_(select(JournalEntry.id).where(JournalEntry.occurred_at <= moment)),
        )
    rows = session.execute(
        select(Account.name, func.coalesce(func.sum(Posting.amount_sat), 0))
        .select_from(Account)
        .outerjoin(Posting, condition)
        .where(Account.type == "custody")
        .group_by(Account.name)
        .order_by(Account.name)
    )
    return {name: int(total) for name, total in rows}


def total_holdings(session: Session, at: When | None = None) -> int:
    """Return the reserve's total holdings across custody accounts [sat].

    Parameters
    ----------
    session
        Open session.
    at
        As of this time (inclusive); a date means 00:00 UTC of that day.

    Returns
    -------
    int
        Sum of custody balances [sat].
    """
    return sum(holdings(session, at).values())


@dataclass(frozen=True)
class KindFlow:
    """Bitcoin that entered custody through entries of one kind.

    Parameters
    ----------
    kind
        Entry kind.
    entries
        Number of entries.
    amount_sat
        Bitcoin received into custody [sat].
    value_usd
        Their USD value (cost basis) [USD].
    """

    kind: str
    entries: int
    amount_sat: int
    value_usd: Decimal


def inflows_by_kind(
    session: Session, start: When | None = None, end: When | None = None
) -> dict[str, KindFlow]:
    """Split the bitcoin that entered the reserve by where it came from.

    Transfers between custody accounts are not inflows; a consolidation from
    another government wallet is not a purchase.

    Parameters
    ----------
    session
        Open session.
    start
        First time included (a date: 00:00 UTC); from the first entry if None.
    end
        First time excluded (a date: 00:00 UTC); up to the last entry if None.

    Returns
    -------
    dict[str, KindFlow]
        One row per inflow kind (:data:`INFLOW_KINDS`), zero where none.
    """
    stmt = (
        select(
            JournalEntry.kind,
            func.count(func.distinct(JournalEntry.id)),
            func.sum(Posting.amount_sat),
            _sum_cents(Posting.value_usd),
        )
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .join(Account, Posting.account_id == Account.id)
        .where(Account.type == "custody", JournalEntry.kind.in_(INFLOW_KINDS))
        .group_by(JournalEntry.kind)
    )
    first, stop = _as_of(start, "start"), _as_of(end, "end")
    if first is not None:
        stmt = stmt.where(JournalEntry.occurred_at >= first)
    if stop is not None:
        stmt = stmt.where(JournalEntry.occurred_at < stop)
    out = {kind: KindFlow(kind, 0, 0, Decimal("0.00")) for kind in INFLOW_KINDS}
    for kind, count, amount, cents in session.execute(stmt):
        out[kind] = KindFlow(kind, int(count), int(amount or 0), _usd_from_cents(_cents(cents)))
    return out


def check_ledger(session: Session) -> list[str]:
    """Check the whole ledger against its invariants.

    Parameters
    ----------
    session
        Open session.

    Returns
    -------
    list[str]
        One line per problem found (empty when the ledger is sound): entries
        with fewer than two postings or not summing to zero in sat or USD,
        custody balances negative at any time, inflow entries without a matching
        lot, lots without an inflow entry, cached account balances (or latest
        times) that disagree with the postings.
    """
    problems: list[str] = []
    unbalanced = session.execute(
        select(Posting.entry_id, func.count(), func.sum(Posting.amount_sat))
        .group_by(Posting.entry_id)
        .having(
            (func.count() < 2)
            | (func.sum(Posting.amount_sat) != 0)
            | (
                (func.count(Posting.value_usd) > 0)
                & (func.count(Posting.value_usd) != func.count())
            )
            | (func.coalesce(_sum_cents(Posting.value_usd), 0) != 0)
        )
        .order_by(Posting.entry_id)
        .limit(100)
    )
    for entry_id, count, total in unbalanced:
        problems.append(
            f"entry {entry_id}: {count} postings summing to {total} sat or not to 0 USD"
        )
    empty = session.scalars(
        select(JournalEntry.id)
        .where(~JournalEntry.postings.any())
        .order_by(JournalEntry.id)
        .limit(100)
    )
    problems.extend(f"entry {entry_id}: no postings" for entry_id in empty)
    running = (
        select(
            Posting.account_id.label("account_id"),
            Posting.entry_id.label("entry_id"),
            func.sum(Posting.amount_sat)
            .over(
                partition_by=Posting.account_id,
                order_by=(JournalEntry.occurred_at, JournalEntry.id),
            )
            .label("running"),
        )
        .join(JournalEntry, Posting.entry_id == JournalEntry.id)
        .join(Account, Posting.account_id == Account.id)
        .where(Account.type == "custody")
        .subquery()
    )
    negative = session.execute(
        select(running.c.account_id, running.c.entry_id, running.c.running)
        .where(running.c.running < 0)
        .order_by(running.c.entry_id)
        .limit(100)
    )
    for account_id, entry_id, value in negative:
        problems.append(f"account {account_id}: {value} sat after entry {entry_id}")
    inflow = (
        select(
            Posting.entry_id.label("entry_id"),
            func.sum(Posting.amount_sat).label("sat"),
        )
        .join(JournalEntry, Posting.entry_id == JournalEntry.id)
        .join(Account, Posting.account_id == Account.id)
        .where(Account.type == "custody", JournalEntry.kind.in_(INFLOW_KINDS))
        .group_by(Posting.entry_id)
        .subquery()
    )
    mismatched = session.execute(
        select(inflow.c.entry_id, inflow.c.sat, Lot.amount_sat)
        .outerjoin(Lot, Lot.entry_id == inflow.c.entry_id)
        .where((Lot.amount_sat.is_(None)) | (Lot.amount_sat != inflow.c.sat))
        .limit(100)
    )
    for entry_id, sat, lot_sat in mismatched:
        problems.append(f"entry {entry_id}: {sat} sat into custody, lot of {lot_sat} sat")
    totals = (
        select(
            Posting.account_id.label("account_id"),
            func.sum(Posting.amount_sat).label("sat"),
            func.max(JournalEntry.occurred_at).label("latest"),
        )
        .join(JournalEntry, Posting.entry_id == JournalEntry.id)
        .group_by(Posting.account_id)
        .subquery()
    )
    stale = session.execute(
        select(Account.name, Account.balance_sat, func.coalesce(totals.c.sat, 0))
        .outerjoin(totals, totals.c.account_id == Account.id)
        .where(
            (Account.balance_sat != func.coalesce(totals.c.sat, 0))
            | Account.balance_at.is_distinct_from(totals.c.latest)
        )
        .order_by(Account.name)
        .limit(100)
    )
    for name, cached, total in stale:
        problems.append(f"account {name!r}: cached balance {cached} sat, postings say {total}")
    orphans = session.scalars(
        select(Lot.entry_id)
        .join(JournalEntry, Lot.entry_id == JournalEntry.id)
        .where(JournalEntry.kind.not_in(INFLOW_KINDS))
        .limit(100)
    )
    problems.extend(f"lot of entry {entry_id}: not an inflow entry" for entry_id in orphans)
    return problems


# =========================================================================== cost basis


@dataclass(frozen=True, slots=True)
class Acquisition:
    """Bitcoin acquired at a cost (a lot).

    Parameters
    ----------
    at
        Time of the acquisition.
    order
        Tie-breaker among equal times (the entry id).
    amount_sat
        Bitcoin acquired [sat], > 0.
    cost_usd
        Cost basis [USD], >= 0.
    """

    at: datetime
    order: int
    amount_sat: int
    cost_usd: Decimal


@dataclass(frozen=True, slots=True)
class Disposal:
    """Bitcoin leaving the reserve for proceeds (a sale, a fee).

    Parameters
    ----------
    at
        Time of the disposal.
    order
        Tie-breaker among equal times (the entry id).
    amount_sat
        Bitcoin disposed of [sat], > 0.
    proceeds_usd
        Proceeds [USD], >= 0.
    """

    at: datetime
    order: int
    amount_sat: int
    proceeds_usd: Decimal


@dataclass(frozen=True, slots=True)
class DisposalResult:
    """The basis and gain of one disposal.

    Parameters
    ----------
    disposal
        The disposal.
    basis_usd
        Cost basis of the bitcoin disposed of [USD].
    gain_usd
        Realised gain, ``proceeds - basis`` [USD].
    """

    disposal: Disposal
    basis_usd: Decimal
    gain_usd: Decimal


@dataclass(frozen=True)
class BasisResult:
    """Cost basis after a sequence of acquisitions and disposals.

    Parameters
    ----------
    method
        ``"fifo"`` or ``"average"``.
    held_sat
        Bitcoin still held [sat].
    basis_usd
        Cost basis of the bitcoin held [USD].
    cost_usd
        Cost of all acquisitions [USD] (``= basis_usd + disposed basis``).
    proceeds_usd
        Proceeds of all disposals [USD].
    realised_pnl_usd
        Sum of the disposals' gains [USD].
    disposals
        Each disposal's basis and gain, in time order.
    """

    method: Method
    held_sat: int
    basis_usd: Decimal
    cost_usd: Decimal
    proceeds_usd: Decimal
    realised_pnl_usd: Decimal
    disposals: tuple[DisposalResult, ...] = field(default=())


def _to_cents(value: Decimal, name: str) -> int:
    usd = _usd(value)
    if usd is None or usd < 0:
        raise LedgerError(name, value, "a USD amount >= 0, at most 2 decimals")
    return int(usd * 100)


def _share(total_cents: int, part_sat: int, whole_sat: int) -> int:
    """``total_cents * part / whole`` rounded half-even to a cent, exactly."""
    quotient, remainder = divmod(total_cents * part_sat, whole_sat)
    twice = 2 * remainder
    if twice > whole_sat or (twice == whole_sat and quotient % 2 == 1):
        quotient += 1
    return quotient


def _ordered(events: Iterable[Acquisition | Disposal]) -> list[Acquisition | Disposal]:
    out = list(events)
    for i, event in enumerate(out):
        if not isinstance(event, Acquisition | Disposal):
            raise LedgerError(f"events[{i}]", event, "an Acquisition or a Disposal")
        if isinstance(event.amount_sat, bool) or not isinstance(event.amount_sat, int):
            raise LedgerError(f"events[{i}].amount_sat", event.amount_sat, "an int [sat]")
        if event.amount_sat <= 0:
            raise LedgerError(f"events[{i}].amount_sat", event.amount_sat, "> 0 [sat]")
    # Stable sort: events at the same (at, order) keep their given order.
    out.sort(key=lambda e: (e.at, e.order))
    return out


def _overdrawn(event: Disposal, held: int) -> LedgerError:
    return LedgerError(
        "disposal.amount_sat",
        event.amount_sat,
        f"<= the {held} sat held at {_iso(event.at)} (disposal {event.order})",
    )


def fifo_basis(events: Iterable[Acquisition | Disposal]) -> BasisResult:
    """Cost basis by first in, first out.

    Each disposal consumes the oldest lots first; a lot partly consumed keeps
    its remaining cost, ``cost x remaining / amount`` rounded to the cent so
    that no cent is created or lost.

    Parameters
    ----------
    events
        Acquisitions and disposals, in any order; they are sorted by
        ``(at, order)``.

    Returns
    -------
    BasisResult
        Holdings, basis and realised gains.

    Raises
    ------
    LedgerError
        If an amount is not a positive int, a USD amount is negative or finer
        than a cent, or a disposal exceeds the bitcoin held.
    """
    lots: list[list[int]] = []  # [sat remaining, cents remaining]
    head = 0
    held = cost = proceeds = realised = 0
    results: list[DisposalResult] = []
    for event in _ordered(events):
        if isinstance(event, Acquisition):
            cents = _to_cents(event.cost_usd, "acquisition.cost_usd")
            lots.append([event.amount_sat, cents])
            held += event.amount_sat
            cost += cents
            continue
        if event.amount_sat > held:
            raise _overdrawn(event, held)
        got = _to_cents(event.proceeds_usd, "disposal.proceeds_usd")
        need = event.amount_sat
        basis = 0
        while need:
            lot = lots[head]
            if lot[0] <= need:
                need -= lot[0]
                basis += lot[1]
                head += 1
            else:
                part = _share(lot[1], need, lot[0])
                lot[0] -= need
                lot[1] -= part
                basis += part
                need = 0
        held -= event.amount_sat
        proceeds += got
        realised += got - basis
        results.append(DisposalResult(event, _usd_from_cents(basis), _usd_from_cents(got - basis)))
    remaining = sum(lot[1] for lot in lots[head:])
    return BasisResult(
        method="fifo",
        held_sat=held,
        basis_usd=_usd_from_cents(remaining),
        cost_usd=_usd_from_cents(cost),
        proceeds_usd=_usd_from_cents(proceeds),
        realised_pnl_usd=_usd_from_cents(realised),
        disposals=tuple(results),
    )


def average_basis(events: Iterable[Acquisition | Disposal]) -> BasisResult:
    """Cost basis by average cost.

    All bitcoin held shares one average cost; a disposal takes
    ``pool cost x amount / pool amount`` (to the cent) out of the pool, and all
    of it when the pool is emptied.

    Parameters
    ----------
    events
        Acquisitions and disposals, in any order; they are sorted by
        ``(at, order)``.

    Returns
    -------
    BasisResult
        Holdings, basis and realised gains.

    Raises
    ------
    LedgerError
        As :func:`fifo_basis`.
    """
    held = pool = cost = proceeds = realised = 0
    results: list[DisposalResult] = []
    for event in _ordered(events):
        if isinstance(event, Acquisition):
            cents = _to_cents(event.cost_usd, "acquisition.cost_usd")
            held += event.amount_sat
            pool += cents
            cost += cents
            continue
        if event.amount_sat > held:
            raise _overdrawn(event, held)
        got = _to_cents(event.proceeds_usd, "disposal.proceeds_usd")
        basis = _share(pool, event.amount_sat, held)
        pool -= basis
        held -= event.amount_sat
        proceeds += got
        realised += got - basis
        results.append(DisposalResult(event, _usd_from_cents(basis), _usd_from_cents(got - basis)))
    return BasisResult(
        method="average",
        held_sat=held,
        basis_usd=_usd_from_cents(pool),
        cost_usd=_usd_from_cents(cost),
        proceeds_usd=_usd_from_cents(proceeds),
        realised_pnl_usd=_usd_from_cents(realised),
        disposals=tuple(results),
    )


_METHODS: dict[str, Callable[[Iterable[Acquisition | Disposal]], BasisResult]] = {
    "fifo": fifo_basis,
    "average": average_basis,
}


def _method(method: str) -> Callable[[Iterable[Acquisition | Disposal]], BasisResult]:
    if method not in _METHODS:
        raise LedgerError("method", method, "'fifo' or 'average'")
    return _METHODS[method]


def basis_events(session: Session, at: When | None = None) -> list[Acquisition | Disposal]:
    """Read the reserve's acquisitions (lots) and disposals (sales, fees).

    Parameters
    ----------
    session
        Open session.
    at
        As of this time (inclusive); a date means 00:00 UTC of that day.

    Returns
    -------
    list[Acquisition | Disposal]
        In time order; ``order`` is the entry id. A disposal's proceeds are the
        USD value of its custody postings (zero for an unvalued fee).
    """
    moment = _as_of(at)
    lots = select(Lot.acquired_at, Lot.entry_id, Lot.amount_sat, Lot.cost_usd)
    if moment is not None:
        lots = lots.where(Lot.acquired_at <= moment)
    events: list[Acquisition | Disposal] = [
        Acquisition(at_, entry_id, int(sat), cost)
        for at_, entry_id, sat, cost in session.execute(lots)
    ]
    outflows = (
        select(
            JournalEntry.occurred_at,
            JournalEntry.id,
            func.sum(Posting.amount_sat),
            _sum_cents(Posting.value_usd),
        )
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .join(Account, Posting.account_id == Account.id)
        .where(Account.type == "custody", JournalEntry.kind.in_(OUTFLOW_KINDS))
        .group_by(JournalEntry.id, JournalEntry.occurred_at)
    )
    if moment is not None:
        outflows = outflows.where(JournalEntry.occurred_at <= moment)
    for at_, entry_id, sat, cents in session.execute(outflows):
        events.append(Disposal(at_, entry_id, -int(sat), _usd_from_cents(-_cents(cents))))
    events.sort(key=lambda e: (e.at, e.order))
    return events


def cost_basis(session: Session, method: Method = "fifo", at: When | None = None) -> BasisResult:
    """Return the reserve's cost basis and realised gains.

    Parameters
    ----------
    session
        Open session.
    method
        ``"fifo"`` or ``"average"``.
    at
        As of this time (inclusive); a date means 00:00 UTC of that day.

    Returns
    -------
    BasisResult
        Holdings, basis of the holdings and realised gains up to ``at``.
    """
    return _method(method)(basis_events(session, at))


def realised_pnl(
    session: Session,
    method: Method = "fifo",
    start: When | None = None,
    end: When | None = None,
) -> Decimal:
    """Return the gains realised by disposals in a period.

    Parameters
    ----------
    session
        Open session.
    method
        ``"fifo"`` or ``"average"``.
    start
        First time included (a date: 00:00 UTC); all history if None.
    end
        First time excluded (a date: 00:00 UTC); up to now if None.

    Returns
    -------
    Decimal
        Sum of ``proceeds - basis`` of disposals in ``[start, end)`` [USD];
        the basis follows from all earlier history.
    """
    first, stop = _as_of(start, "start"), _as_of(end, "end")
    result = _method(method)(basis_events(session))
    total = Decimal("0.00")
    for item in result.disposals:
        moment = item.disposal.at
        if (first is None or moment >= first) and (stop is None or moment < stop):
            total += item.gain_usd
    return total


@dataclass(frozen=True)
class Valuation:
    """The reserve marked to market.

    Parameters
    ----------
    at
        Time of the holdings (UTC).
    method
        Cost basis method.
    held_sat
        Bitcoin held [sat].
    price_usd_per_btc
        Price used [USD/BTC].
    market_value_usd
        ``held x price`` to the cent [USD].
    basis_usd
        Cost basis of the holdings [USD].
    unrealised_pnl_usd
        ``market value - basis`` [USD].
    realised_pnl_usd
        Gains realised up to ``at`` [USD].
    """

    at: datetime
    method: Method
    held_sat: int
    price_usd_per_btc: Decimal
    market_value_usd: Decimal
    basis_usd: Decimal
    unrealised_pnl_usd: Decimal
    realised_pnl_usd: Decimal


def _price(at: datetime, price: Decimal | float | str | None) -> Decimal:
    if price is None:
        from hashnation.data.loaders import price_on

        return Decimal(repr(price_on(at)))
    number = _decimal(price)
    if number is None or number <= 0:
        raise LedgerError("price_usd_per_btc", price, "a price > 0 [USD/BTC]")
    return number


def mark_to_market(
    session: Session,
    at: When,
    *,
    method: Method = "fifo",
    price_usd_per_btc: Decimal | float | str | None = None,
) -> Valuation:
    """Value the reserve's holdings at a price.

    Parameters
    ----------
    session
        Open session.
    at
        Holdings as of this time (inclusive); a date means 00:00 UTC of that
        day, the time of the bundled daily price.
    method
        Cost basis method, ``"fifo"`` or ``"average"``.
    price_usd_per_btc
        Price to use [USD/BTC]; by default the bundled CoinGecko price of the
        UTC day of ``at`` (:func:`hashnation.data.loaders.price_on`).

    Returns
    -------
    Valuation
        Holdings, market value, basis and gains.

    Raises
    ------
    DataError
        If no price is given and the bundled file has none for that day.
    """
    moment = _as_of(at)
    assert moment is not None
    price = _price(moment, price_usd_per_btc)
    result = cost_basis(session, method, moment)
    value = (Decimal(result.held_sat) * price / SAT_PER_BTC).quantize(CENT, ROUND_HALF_EVEN)
    return Valuation(
        at=moment,
        method=method,
        held_sat=result.held_sat,
        price_usd_per_btc=price,
        market_value_usd=value,
        basis_usd=result.basis_usd,
        unrealised_pnl_usd=value - result.basis_usd,
        realised_pnl_usd=result.realised_pnl_usd,
    )


def unrealised_pnl(
    session: Session,
    at: When,
    *,
    method: Method = "fifo",
    price_usd_per_btc: Decimal | float | str | None = None,
) -> Decimal:
    """Return the gain not yet realised on the holdings at a price.

    Parameters
    ----------
    session
        Open session.
    at
        As of this time; a date means 00:00 UTC of that day.
    method
        Cost basis method.
    price_usd_per_btc
        Price [USD/BTC]; the bundled price of the day by default.

    Returns
    -------
    Decimal
        Market value minus cost basis of the holdings [USD].
    """
    return mark_to_market(
        session, at, method=method, price_usd_per_btc=price_usd_per_btc
    ).unrealised_pnl_usd


# =========================================================================== CSV


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote.

    Parameters
    ----------
    entries
        Journal entries written.
    postings
        Postings written.
    lots
        Acquisition lots written.
    first_id
        Id of the first entry written (None if none).
    last_id
        Id of the last entry written (None if none).
    """

    entries: int
    postings: int
    lots: int
    first_id: int | None
    last_id: int | None


def _format_usd(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def export_csv(
    session: Session,
    target: str | os.PathLike[str] | IO[str],
    *,
    start: When | None = None,
    end: When | None = None,
) -> int:
    """Write journal entries as CSV, one row per posting (:data:`CSV_COLUMNS`).

    Parameters
    ----------
    session
        Open session.
    target
        File path, or an open text file (opened with ``newline=""``).
    start
        First time included (a date: 00:00 UTC); from the first entry if None.
    end
        First time excluded (a date: 00:00 UTC); to the last entry if None.

    Returns
    -------
    int
        Number of entries written, in ``(occurred_at, id)`` order.
    """
    stmt = (
        select(
            JournalEntry.id,
            JournalEntry.occurred_at,
            JournalEntry.kind,
            JournalEntry.memo,
            JournalEntry.evidence,
            Account.name,
            Posting.amount_sat,
            Posting.value_usd,
        )
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .join(Account, Posting.account_id == Account.id)
        .order_by(JournalEntry.occurred_at, JournalEntry.id, Posting.id)
    )
    first, stop = _as_of(start, "start"), _as_of(end, "end")
    if first is not None:
        stmt = stmt.where(JournalEntry.occurred_at >= first)
    if stop is not None:
        stmt = stmt.where(JournalEntry.occurred_at < stop)

    def write(handle: IO[str]) -> int:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        count = 0
        last = None
        for row in session.execute(stmt.execution_options(yield_per=20_000)):
            entry_id, occurred_at, kind, memo, evidence, account, amount, value = row
            if entry_id != last:
                count += 1
                last = entry_id
            writer.writerow(
                (
                    entry_id,
                    _iso(occurred_at),
                    kind,
                    account,
                    amount,
                    _format_usd(value),
                    memo,
                    *(evidence.get(key, "") for key in EVIDENCE_FIELDS),
                )
            )
        return count

    if isinstance(target, str | os.PathLike):
        with open(target, "w", newline="", encoding="utf-8") as handle:
            return write(handle)
    return write(target)


def _parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None
    return moment.astimezone(UTC)


@dataclass
class _RawEntry:
    label: str
    first_line: int
    fields: tuple[str, ...]  # aligned with _ENTRY_COLUMNS
    lines: list[int]
    legs: list[Leg]


def _header(row: list[str] | None, name: str) -> dict[str, int]:
    if row is None:
        raise LedgerError(f"{name}:1", "an empty file", f"a header with {', '.join(CSV_COLUMNS)}")
    columns = [c.strip() for c in row]
    for column in columns:
        if column not in CSV_COLUMNS:
            raise LedgerError(
                f"{name}:1:{column}", column, f"a column among {', '.join(CSV_COLUMNS)}"
            )
    if len(set(columns)) != len(columns):
        dup = next(c for c in columns if columns.count(c) > 1)
        raise LedgerError(f"{name}:1:{dup}", dup, "each column once")
    for column in CSV_COLUMNS[:6]:
        if column not in columns:
            raise LedgerError(f"{name}:1:{column}", "missing", "a column of that name (required)")
    return {column: i for i, column in enumerate(columns)}


def _raw_entries(
    handle: IO[str], name: str, progress: Callable[[str, int], None] | None
) -> Iterator[_RawEntry]:
    """Parse the CSV rows and yield one entry at a time (rows checked, entries not)."""
    reader = csv.reader(handle)
    index = _header(next(reader, None), name)
    width = len(index)
    i_entry, i_account = index["entry"], index["account"]
    i_amount, i_value = index["amount_sat"], index["value_usd"]
    entry_cells = [(k, column, index.get(column)) for k, column in enumerate(_ENTRY_COLUMNS)]
    seen: set[str] = set()
    current: _RawEntry | None = None
    count = 0
    for row in reader:
        line = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != width:
            raise LedgerError(f"{name}:{line}", len(row), f"{width} cells, as in the header")
        count += 1
        if progress is not None and count % _CHUNK == 0:
            progress("parsed", count)
        label = row[i_entry].strip()
        if not label:
            raise LedgerError(f"{name}:{line}:entry", row[i_entry], "an entry label (not blank)")
        if current is None or label != current.label:
            if label in seen:
                raise LedgerError(
                    f"{name}:{line}:entry", label, "the rows of an entry next to each other"
                )
            seen.add(label)
            if current is not None:
                yield current
            fields = tuple("" if i is None else row[i].strip() for _, _, i in entry_cells)
            current = _RawEntry(label, line, fields, [], [])
        else:
            for k, column, i in entry_cells:
                cell = "" if i is None else row[i].strip()
                if cell and cell != current.fields[k]:
                    raise LedgerError(
                        f"{name}:{line}:{column}",
                        cell,
                        f"{current.fields[k]!r} as on line {current.first_line} "
                        "(same entry), or blank",
                    )
        amount_text = row[i_amount].strip()
        if not _INT_RE.fullmatch(amount_text):
            raise LedgerError(
                f"{name}:{line}:amount_sat", row[i_amount], "a whole number of satoshis [sat]"
            )
        value_text = row[i_value].strip()
        value: Decimal | None = None
        if value_text:
            if not _USD_RE.fullmatch(value_text):
                raise LedgerError(
                    f"{name}:{line}:value_usd", row[i_value], "USD, at most 2 decimals, or blank"
                )
            value = Decimal(value_text)
        current.legs.append(Leg(row[i_account].strip(), int(amount_text), value))
        current.lines.append(line)
    if current is not None:
        yield current
    if progress is not None:
        progress("parsed", count)


_FIELD = {column: k for k, column in enumerate(_ENTRY_COLUMNS)}
_EVIDENCE_AT = [(key, _FIELD[key]) for key in EVIDENCE_FIELDS]


def _check_raw(raw: _RawEntry, accounts: Mapping[str, tuple[int, str]], name: str) -> CheckedEntry:
    fields = raw.fields

    def where(column: str, leg: int | None) -> str:
        line = raw.lines[leg] if leg is not None and 0 <= leg < len(raw.lines) else raw.first_line
        return f"{name}:{line}:{column}"

    kind = fields[_FIELD["kind"]]
    if kind not in KIND_RULES:
        raise LedgerError(where("kind", None), kind, f"one of: {', '.join(KIND_RULES)}")
    text = fields[_FIELD["occurred_at"]]
    occurred_at = _parse_time(text)
    if occurred_at is None:
        raise LedgerError(
            where("occurred_at", None),
            text,
            "an ISO 8601 time with a UTC offset (2024-03-01T12:00:00Z)",
        )
    evidence = {key: fields[k] for key, k in _EVIDENCE_AT if fields[k]}
    draft = EntryDraft(kind, occurred_at, tuple(raw.legs), evidence, fields[_FIELD["memo"]])
    return check_entry(draft, accounts, where=where)


class _Accounts(Mapping[str, tuple[int, str]]):
    """Account name to ``(id, type)``, read from the database on first use."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._known: dict[str, tuple[int, str] | None] = {}

    def __getitem__(self, name: str) -> tuple[int, str]:
        if name not in self._known:
            row = self._session.execute(
                select(Account.id, Account.type).where(Account.name == name)
            ).first()
            self._known[name] = None if row is None else (row[0], row[1])
        found = self._known[name]
        if found is None:
            raise KeyError(name)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, found in self._known.items() if found is not None])

    def __len__(self) -> int:
        return sum(1 for found in self._known.values() if found is not None)


def import_csv(
    session: Session,
    source: str | os.PathLike[str] | IO[str],
    *,
    name: str | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ImportResult:
    """Import journal entries from CSV, all of them or none.

    The file is parsed and every entry checked (rules, accounts, custody
    balances over time) before anything is written; the rows are then written
    in bulk (``COPY`` on PostgreSQL) in one savepoint of the session. Nothing
    is committed: with :func:`hashnation.store.db.session_scope` the import is
    one transaction, so a crash or an error leaves the database as it was.

    Parameters
    ----------
    session
        Open session.
    source
        File path, or an open text file.
    name
        File name used in error messages; the path's name by default.
    progress
        Called as ``progress(stage, count)`` every few thousand items: CSV rows
        ``"parsed"``, entries ``"checked"``, postings ``"written"``.

    Returns
    -------
    ImportResult
        Counts and the range of entry ids written.

    Raises
    ------
    LedgerError
        On the first bad row or entry: ``field`` is ``name:line:column``, the
        value and what was expected are in the message. Nothing is written.

    Notes
    -----
    The whole batch is held in memory while it is checked (about 1.8 GB for a
    million entries), and Python's cyclic garbage collector is paused meanwhile.
    """
    if isinstance(source, str | os.PathLike):
        label = name or Path(source).name
        with open(source, newline="", encoding="utf-8") as handle:
            return _import(session, handle, label, progress)
    label = name or str(getattr(source, "name", "csv"))
    return _import(session, source, label, progress)


def _import(
    session: Session,
    handle: IO[str],
    label: str,
    progress: Callable[[str, int], None] | None,
) -> ImportResult:
    # Millions of small objects hold no reference cycles: pausing the cyclic garbage
    # collector while they are built makes parsing and checking about twice as fast.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _import_batch(session, handle, label, progress)
    finally:
        if paused:
            gc.enable()


def _import_batch(
    session: Session,
    handle: IO[str],
    label: str,
    progress: Callable[[str, int], None] | None,
) -> ImportResult:
    with session.begin_nested():
        accounts = _Accounts(session)
        checked: list[CheckedEntry] = []
        lines: list[tuple[int, ...]] = []
        for number, raw in enumerate(_raw_entries(handle, label, progress), start=1):
            checked.append(_check_raw(raw, accounts, label))
            lines.append(tuple(raw.lines))
            if progress is not None and number % _CHUNK == 0:
                progress("checked", number)

        def leg_where(number: int, leg: int) -> str:
            rows = lines[number]
            return f"{label}:{rows[leg] if 0 <= leg < len(rows) else rows[0]}:amount_sat"

        _check_holdings(session, checked, leg_where)
        if not checked:
            return ImportResult(0, 0, 0, None, None)
        backend = session.get_bind().dialect.name
        if backend == "postgresql":
            ids = _write_postgresql(session, checked, progress)
        elif backend == "sqlite":
            ids = _write_sqlite(session, checked, progress)
        else:
            raise LedgerError("database", backend, "SQLite or PostgreSQL")
    postings = sum(len(c.legs) for c in checked)
    lots = sum(1 for c in checked if c.lot_sat)
    return ImportResult(len(checked), postings, lots, ids[0], ids[-1])


def _sqlite_time(moment: datetime) -> str:
    """Format a UTC time the way SQLAlchemy stores a DATETIME in SQLite."""
    return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _write_sqlite(
    session: Session, checked: Sequence[CheckedEntry], progress: Callable[[str, int], None] | None
) -> list[int]:
    # Values are formatted as the ORM column types would (UTC time text, float money,
    # JSON text); a test checks that the two agree.
    connection = session.connection()
    start = int(connection.scalar(select(func.coalesce(func.max(JournalEntry.id), 0))) or 0) + 1
    ids = list(range(start, start + len(checked)))
    written = 0
    batch_e: list[tuple[Any, ...]] = []
    batch_p: list[tuple[Any, ...]] = []
    batch_l: list[tuple[Any, ...]] = []

    def flush() -> None:
        if not batch_e:
            return
        connection.exec_driver_sql(
            "INSERT INTO journal_entries (id, occurred_at, kind, memo, evidence) "
            "VALUES (?, ?, ?, ?, ?)",
            batch_e,
        )
        connection.exec_driver_sql(
            "INSERT INTO postings (entry_id, account_id, amount_sat, value_usd) "
            "VALUES (?, ?, ?, ?)",
            batch_p,
        )
        if batch_l:
            connection.exec_driver_sql(
                "INSERT INTO lots (entry_id, acquired_at, amount_sat, cost_usd) "
                "VALUES (?, ?, ?, ?)",
                batch_l,
            )
        batch_e.clear()
        batch_p.clear()
        batch_l.clear()

    dumps = json.dumps
    for entry_id, entry in zip(ids, checked, strict=True):
        stamp = _sqlite_time(entry.occurred_at)
        batch_e.append((entry_id, stamp, entry.kind, entry.memo, dumps(entry.evidence)))
        for leg, ref in zip(entry.legs, entry.accounts, strict=True):
            value = None if leg.value_usd is None else float(leg.value_usd)
            batch_p.append((entry_id, ref.id, leg.amount_sat, value))
        if entry.lot_sat:
            batch_l.append((entry_id, stamp, entry.lot_sat, float(entry.lot_cost or 0)))
        if len(batch_p) >= _CHUNK:
            written += len(batch_p)
            flush()
            if progress is not None:
                progress("written", written)
    written += len(batch_p)
    flush()
    if progress is not None:
        progress("written", written)
    return ids


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(text: str) -> str:
    """Escape a value for PostgreSQL's COPY text format."""
    return text.translate(_COPY_ESCAPES)


def _copy_usd(value: Decimal | None) -> str:
    return "\\N" if value is None else str(value)


def _write_postgresql(
    session: Session, checked: Sequence[CheckedEntry], progress: Callable[[str, int], None] | None
) -> list[int]:
    # COPY in text format, the lines built here: a few times faster than adapting
    # every value through the driver.
    connection = session.connection()
    raw = connection.connection.driver_connection
    assert raw is not None
    ids = sorted(
        int(i)
        for i in connection.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence('journal_entries', 'id')) "
            f"FROM generate_series(1, {len(checked):d})"
        ).scalars()
    )
    dumps = json.dumps
    written = 0
    with raw.cursor() as cursor:
        with cursor.copy(
            "COPY journal_entries (id, occurred_at, kind, memo, evidence) FROM STDIN"
        ) as copy:
            lines: list[str] = []
            for entry_id, entry in zip(ids, checked, strict=True):
                lines.append(
                    f"{entry_id}\t{entry.occurred_at.isoformat()}\t{entry.kind}\t"
                    f"{_copy_text(entry.memo)}\t{_copy_text(dumps(entry.evidence))}\n"
                )
                if len(lines) >= _CHUNK:
                    copy.write("".join(lines))
                    lines.clear()
            copy.write("".join(lines))
        with cursor.copy(
            "COPY postings (entry_id, account_id, amount_sat, value_usd) FROM STDIN"
        ) as copy:
            lines = []
            for entry_id, entry in zip(ids, checked, strict=True):
                for leg, ref in zip(entry.legs, entry.accounts, strict=True):
                    lines.append(
                        f"{entry_id}\t{ref.id}\t{leg.amount_sat}\t{_copy_usd(leg.value_usd)}\n"
                    )
                if len(lines) >= _CHUNK:
                    copy.write("".join(lines))
                    written += len(lines)
                    lines.clear()
                    if progress is not None:
                        progress("written", written)
            copy.write("".join(lines))
            written += len(lines)
        with cursor.copy(
            "COPY lots (entry_id, acquired_at, amount_sat, cost_usd) FROM STDIN"
        ) as copy:
            lines = []
            for entry_id, entry in zip(ids, checked, strict=True):
                if entry.lot_sat:
                    lines.append(
                        f"{entry_id}\t{entry.occurred_at.isoformat()}\t{entry.lot_sat}\t"
                        f"{_copy_usd(entry.lot_cost)}\n"
                    )
                if len(lines) >= _CHUNK:
                    copy.write("".join(lines))
                    lines.clear()
            copy.write("".join(lines))
    if progress is not None:
        progress("written", written)
    return ids
