"""The reserve ledger: rules, kinds, holdings, cost basis, mark-to-market and CSV.

Every test taking ``db_url`` (or ``session``) runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from hashnation.data.loaders import price_on
from hashnation.errors import DataError, InputError, LedgerError
from hashnation.reserve import ledger
from hashnation.reserve.ledger import Acquisition, Disposal, Leg
from hashnation.store.db import make_engine
from hashnation.store.models import JournalEntry, Lot, Posting

D = Decimal
BTC = 100_000_000
TX = "ab" * 32
TX2 = "cd" * 32
T0 = datetime(2024, 1, 1, tzinfo=UTC)

ACCOUNTS = [
    ("cold", "custody"),
    ("hot", "custody"),
    ("exchange", "counterparty"),
    ("chivo", "government"),
    ("treasury", "government"),
    ("mining-income", "income"),
    ("visa-fees", "income"),
    ("donations", "equity"),
    ("network-fees", "expense"),
]


def day(n: int, hour: int = 0) -> datetime:
    return T0 + timedelta(days=n, hours=hour)


def add_accounts(session: Session) -> None:
    for name, kind in ACCOUNTS:
        ledger.add_account(session, name, kind)


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    engine = make_engine(db_url)
    with Session(engine) as s:
        yield s
    engine.dispose()


@pytest.fixture
def books(session: Session) -> Session:
    """A session with the standard accounts."""
    add_accounts(session)
    return session


def buy(s: Session, when: datetime, sat: int, usd: str, account: str = "cold") -> JournalEntry:
    price = D(usd) * BTC / sat
    return ledger.record_purchase(
        s,
        occurred_at=when,
        custody=account,
        counterparty="exchange",
        amount_sat=sat,
        price_usd_per_btc=price,
        usd_paid=D(usd),
        trade_ref=f"T-{when:%Y%m%d%H}-{sat}",
    )


def sell(s: Session, when: datetime, sat: int, usd: str, account: str = "cold") -> JournalEntry:
    return ledger.record_sale(
        s,
        occurred_at=when,
        custody=account,
        counterparty="exchange",
        amount_sat=sat,
        price_usd_per_btc=D(usd) * BTC / sat,
        usd_received=D(usd),
        trade_ref=f"S-{when:%Y%m%d%H}-{sat}",
    )


def count(s: Session, model: Any) -> int:
    return int(s.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


# =========================================================================== kinds and rules


def test_every_kind_records_with_its_evidence(books: Session) -> None:
    s = books
    buy(s, day(0), BTC, "40000")
    ledger.record_consolidation(
        s,
        occurred_at=day(1),
        custody="cold",
        source="chivo",
        amount_sat=2 * BTC,
        value_usd=D("60000"),
        txid=TX,
    )
    ledger.record_mining(
        s,
        occurred_at=day(2),
        custody="hot",
        income="mining-income",
        amount_sat=312_500_000,
        value_usd=D("131250.00"),
        site="lempa-geothermal",
        period="2024-01",
    )
    ledger.record_visa_payment(
        s,
        occurred_at=day(3),
        custody="hot",
        payer="visa-fees",
        amount_sat=BTC,
        value_usd=D("42000"),
        application_id="FV-000123",
        txid=TX2,
    )
    ledger.record_donation(
        s,
        occurred_at=day(4),
        custody="cold",
        donor="donations",
        amount_sat=50_000,
        value_usd=D("21.00"),
        donor_ref="D-9",
    )
    ledger.record_transfer(
        s, occurred_at=day(5), source="cold", destination="hot", amount_sat=BTC, txid=TX
    )
    ledger.record_fee(
        s, occurred_at=day(5), custody="cold", expense="network-fees", fee_sat=2_000, txid=TX
    )
    sell(s, day(6), BTC // 2, "21000", account="hot")
    kinds = s.scalars(sa.select(JournalEntry.kind).order_by(JournalEntry.id)).all()
    assert kinds == [
        "purchase",
        "consolidation",
        "mining",
        "visa_payment",
        "donation",
        "transfer",
        "fee",
        "sale",
    ]
    assert ledger.check_ledger(s) == []
    assert count(s, Lot) == 5
    consolidation = s.scalar(sa.select(JournalEntry).where(JournalEntry.kind == "consolidation"))
    assert consolidation is not None
    assert consolidation.evidence == {"source_wallet": "chivo", "txid": TX}
    purchase = s.scalar(sa.select(JournalEntry).where(JournalEntry.kind == "purchase"))
    assert purchase is not None
    assert purchase.evidence["usd_paid"] == "40000.00"
    # cold: +1 +2 BTC +50,000 sat -1 BTC -2,000 sat; hot: +3.125 +1 +1 -0.5 BTC.
    assert ledger.holdings(s) == {"cold": 2 * BTC + 48_000, "hot": 462_500_000}
    assert ledger.holdings(s)["cold"] == ledger.balance(s, "cold")


PURCHASE_LEGS = (Leg("cold", BTC, D("40000")), Leg("exchange", -BTC, D("-40000")))
KIND_CASES: dict[str, tuple[tuple[Leg, ...], dict[str, object]]] = {
    "purchase": (
        PURCHASE_LEGS,
        {"trade_ref": "T1", "price_usd_per_btc": "40000", "usd_paid": "40000"},
    ),
    "consolidation": (
        (Leg("cold", BTC, D("30000")), Leg("chivo", -BTC, D("-30000"))),
        {"source_wallet": "chivo", "txid": TX},
    ),
    "mining": (
        (Leg("cold", BTC, D("30000")), Leg("mining-income", -BTC, D("-30000"))),
        {"site": "site-1", "period": "2024-01"},
    ),
    "visa_payment": (
        (Leg("cold", BTC, D("30000")), Leg("visa-fees", -BTC, D("-30000"))),
        {"application_id": "A-1"},
    ),
    "donation": (
        (Leg("cold", BTC, D("30000")), Leg("donations", -BTC, D("-30000"))),
        {"donor_ref": "D-1"},
    ),
    "transfer": ((Leg("cold", -10), Leg("hot", 10)), {"txid": TX}),
    "fee": ((Leg("cold", -10), Leg("network-fees", 10)), {"fee_sat": 10, "txid": TX}),
    "sale": (
        (Leg("cold", -BTC, D("-50000")), Leg("exchange", BTC, D("50000"))),
        {"trade_ref": "S1", "price_usd_per_btc": "50000", "usd_received": "50000"},
    ),
}
REQUIRED = [(kind, key) for kind, rule in ledger.KIND_RULES.items() for key in rule.required]


@pytest.mark.parametrize(("kind", "missing"), REQUIRED)
def test_required_evidence_is_enforced(books: Session, kind: str, missing: str) -> None:
    s = books
    if kind in ("transfer", "fee", "sale"):
        buy(s, day(0), 2 * BTC, "80000")
    legs, evidence = KIND_CASES[kind]
    ledger.record_entry(s, kind, day(1), legs, evidence)  # complete: accepted
    incomplete = {k: v for k, v in evidence.items() if k != missing}
    with pytest.raises(LedgerError) as err:
        ledger.record_entry(s, kind, day(1), legs, incomplete)
    assert err.value.field == f"entry.{missing}"
    assert "required" in err.value.expected
    blank = {**evidence, missing: "  "}
    with pytest.raises(LedgerError):
        ledger.record_entry(s, kind, day(1), legs, blank)


def test_ledger_error_is_an_input_error() -> None:
    assert issubclass(LedgerError, InputError)
    assert issubclass(LedgerError, ValueError)


def test_consolidation_is_not_a_purchase(books: Session) -> None:
    """El Salvador's '1 BTC a day': balance-only books cannot tell where it came from."""
    s = books
    for n in range(30):
        if n % 6 == 0:
            buy(s, day(n), BTC, str(40000 + 100 * n))
        else:
            ledger.record_consolidation(
                s,
                occurred_at=day(n),
                custody="cold",
                source="chivo",
                amount_sat=BTC,
                value_usd=D("30000.00"),
                txid=f"{n:064x}",
            )
    # A balance-only view: 1 BTC more every day, whatever its origin.
    daily = [
        ledger.total_holdings(s, day(n + 1)) - ledger.total_holdings(s, day(n)) for n in range(29)
    ]
    assert set(daily) == {BTC}
    flows = ledger.inflows_by_kind(s, day(0), day(30))
    assert list(flows) == list(ledger.INFLOW_KINDS)
    assert flows["purchase"].entries == 5
    assert flows["purchase"].amount_sat == 5 * BTC
    assert flows["purchase"].value_usd == D(sum(40000 + 100 * n for n in range(0, 30, 6)))
    assert flows["consolidation"].entries == 25
    assert flows["consolidation"].amount_sat == 25 * BTC
    assert flows["consolidation"].value_usd == D("750000.00")
    assert flows["mining"].amount_sat == 0
    # A window; start included, end excluded.
    week = ledger.inflows_by_kind(s, day(6), day(12))
    assert (week["purchase"].entries, week["consolidation"].entries) == (1, 5)


def test_transfers_between_own_wallets_are_not_inflows(books: Session) -> None:
    s = books
    buy(s, day(0), BTC, "40000")
    ledger.record_transfer(
        s, occurred_at=day(1), source="cold", destination="hot", amount_sat=BTC, txid=TX
    )
    flows = ledger.inflows_by_kind(s)
    assert sum(f.amount_sat for f in flows.values()) == BTC
    assert ledger.cost_basis(s).basis_usd == D("40000.00")


@pytest.mark.parametrize(
    ("kind", "legs", "evidence", "field", "fragment"),
    [
        (
            "purchase",
            (Leg("cold", BTC, D("30000")), Leg("chivo", -BTC, D("-30000"))),
            {"trade_ref": "T", "price_usd_per_btc": "30000", "usd_paid": "30000"},
            "entry.legs[1].account",
            "counterparty",
        ),
        (
            "consolidation",
            (Leg("cold", BTC, D("30000")), Leg("exchange", -BTC, D("-30000"))),
            {"source_wallet": "x", "txid": TX},
            "entry.legs[1].account",
            "government",
        ),
        (
            "transfer",
            (Leg("cold", -10), Leg("exchange", 10)),
            {"txid": TX},
            "entry.legs[1].account",
            "custody",
        ),
        (
            "fee",
            (Leg("cold", -10), Leg("exchange", 10)),
            {"fee_sat": 10, "txid": TX},
            "entry.legs[1].account",
            "expense",
        ),
        (
            "purchase",
            (Leg("cold", -BTC, D("-30000")), Leg("exchange", BTC, D("30000"))),
            {"trade_ref": "T", "price_usd_per_btc": "30000", "usd_paid": "30000"},
            "entry.legs[0].amount_sat",
            "> 0 on custody",
        ),
        (
            "purchase",
            (Leg("cold", BTC, D("40000")), Leg("exchange", -BTC + 1, D("-40000"))),
            {"trade_ref": "T", "price_usd_per_btc": "40000", "usd_paid": "40000"},
            "entry.amount_sat",
            "summing to 0 sat",
        ),
        (
            "purchase",
            (Leg("cold", BTC, D("40000")), Leg("exchange", -BTC, D("-39999.99"))),
            {"trade_ref": "T", "price_usd_per_btc": "40000", "usd_paid": "40000"},
            "entry.value_usd",
            "summing to 0 USD",
        ),
        (
            "purchase",
            (Leg("cold", BTC, D("40000")), Leg("exchange", -BTC)),
            {"trade_ref": "T", "price_usd_per_btc": "40000", "usd_paid": "40000"},
            "entry.legs[1].value_usd",
            "on every posting",
        ),
        (
            "mining",
            (Leg("cold", BTC), Leg("mining-income", -BTC)),
            {"site": "s", "period": "p"},
            "entry.legs[0].value_usd",
            "USD value",
        ),
        (
            "purchase",
            (Leg("cold", BTC, D("-40000")), Leg("exchange", -BTC, D("40000"))),
            {"trade_ref": "T", "price_usd_per_btc": "40000", "usd_paid": "40000"},
            "entry.legs[0].value_usd",
            "sign",
        ),
        (
            "purchase",
            (Leg("cold", BTC, D("40000.001")), Leg("exchange", -BTC, D("-40000.001"))),
            {"trade_ref": "T", "price_usd_per_btc": "40000", "usd_paid": "40000"},
            "entry.legs[0].value_usd",
            "2 decimals",
        ),
        (
            "purchase",
            (Leg("cold", BTC, D("40000")), Leg("exchange", -BTC, D("-40000"))),
            {"trade_ref": "T", "price_usd_per_btc": "45000", "usd_paid": "40000"},
            "entry.price_usd_per_btc",
            "within",
        ),
        (
            "purchase",
            (Leg("cold", BTC, D("40000")), Leg("exchange", -BTC, D("-40000"))),
            {"trade_ref": "T", "price_usd_per_btc": "40000", "usd_paid": "41000"},
            "entry.usd_paid",
            "USD value on custody",
        ),
        (
            "fee",
            (Leg("cold", -10), Leg("network-fees", 10)),
            {"fee_sat": 11, "txid": TX},
            "entry.fee_sat",
            "leaving custody",
        ),
        (
            "transfer",
            (Leg("cold", -10), Leg("hot", 10)),
            {"txid": "not-a-txid"},
            "entry.txid",
            "64 hex",
        ),
        (
            "transfer",
            (Leg("cold", -10), Leg("hot", 10)),
            {"txid": TX, "trade_ref": "T"},
            "entry.trade_ref",
            "no 'trade_ref'",
        ),
        (
            "transfer",
            (Leg("cold", -10), Leg("cold", 10)),
            {"txid": TX},
            "entry.legs[1].account",
            "at most once",
        ),
        (
            "transfer",
            (Leg("cold", -10), Leg("nowhere", 10)),
            {"txid": TX},
            "entry.legs[1].account",
            "existing",
        ),
        (
            "transfer",
            (Leg("cold", 0), Leg("hot", 0)),
            {"txid": TX},
            "entry.legs[0].amount_sat",
            "non-zero",
        ),
        ("transfer", (Leg("cold", -10),), {"txid": TX}, "entry.account", "at least 2"),
        ("swap", (Leg("cold", -10), Leg("hot", 10)), {"txid": TX}, "entry.kind", "one of"),
    ],
)
def test_rules_refuse_bad_entries(
    books: Session,
    kind: str,
    legs: tuple[Leg, ...],
    evidence: dict[str, object],
    field: str,
    fragment: str,
) -> None:
    s = books
    buy(s, day(0), 2 * BTC, "80000")
    before = count(s, JournalEntry)
    with pytest.raises(LedgerError) as err:
        ledger.record_entry(s, kind, day(1), legs, evidence)
    assert err.value.field == field
    assert fragment in err.value.expected
    assert count(s, JournalEntry) == before


@pytest.mark.parametrize("amount", [1.5, True, "100", D(100)])
def test_amounts_must_be_int_satoshis(books: Session, amount: Any) -> None:
    with pytest.raises(LedgerError, match="int number of satoshis"):
        ledger.record_entry(
            books, "transfer", day(1), [Leg("cold", amount), Leg("hot", -1)], {"txid": TX}
        )


def test_times_must_be_aware_and_are_stored_in_utc(books: Session) -> None:
    with pytest.raises(LedgerError, match="timezone-aware"):
        buy(books, datetime(2024, 1, 1, 12), BTC, "40000")
    minus_three = timezone(timedelta(hours=-3))
    entry = buy(books, datetime(2024, 1, 1, 21, tzinfo=minus_three), BTC, "40000")
    books.commit()
    books.expire_all()
    stored = books.scalar(sa.select(JournalEntry.occurred_at).where(JournalEntry.id == entry.id))
    assert stored == datetime(2024, 1, 2, tzinfo=UTC)


def test_accounts(session: Session) -> None:
    account = ledger.add_account(
        session, "cold", "custody", reference="bc1q...", description="vault"
    )
    assert account.id is not None
    assert ledger.get_account(session, "cold").reference == "bc1q..."
    with pytest.raises(LedgerError, match="not used"):
        ledger.add_account(session, "cold", "custody")
    with pytest.raises(LedgerError, match="one of"):
        ledger.add_account(session, "x", "wallet")
    with pytest.raises(LedgerError):
        ledger.add_account(session, " padded ", "custody")
    with pytest.raises(LedgerError, match="existing account"):
        ledger.get_account(session, "nowhere")


# =========================================================================== holdings


def test_no_negative_holdings(books: Session) -> None:
    s = books
    buy(s, day(0), BTC, "40000")
    with pytest.raises(LedgerError) as err:
        ledger.record_transfer(
            s, occurred_at=day(1), source="cold", destination="hot", amount_sat=BTC + 1, txid=TX
        )
    assert err.value.field == "holdings.cold"
    assert err.value.value == -1
    assert "'cold'" in err.value.expected
    assert "transfer entry of 2024-01-02T00:00:00Z" in err.value.expected
    # The refused entry left nothing behind and the session goes on.
    ledger.record_transfer(
        s, occurred_at=day(1), source="cold", destination="hot", amount_sat=BTC, txid=TX
    )
    s.commit()
    assert ledger.holdings(s) == {"cold": 0, "hot": BTC}
    assert count(s, JournalEntry) == 2


def test_a_back_dated_entry_cannot_overdraw_later_history(books: Session) -> None:
    s = books
    buy(s, day(0), BTC, "40000")
    sale = sell(s, day(3), BTC, "45000")
    with pytest.raises(LedgerError) as err:
        ledger.record_fee(
            s, occurred_at=day(2), custody="cold", expense="network-fees", fee_sat=1, txid=TX
        )
    assert err.value.value == -1
    assert f"existing sale entry {sale.id}" in err.value.expected
    # Before the purchase there is nothing to spend either.
    with pytest.raises(LedgerError, match="fee entry of 2023-12-31"):
        ledger.record_fee(
            s, occurred_at=day(-1), custody="cold", expense="network-fees", fee_sat=1, txid=TX
        )
    # Even at the purchase's own time the later sale would be short.
    with pytest.raises(LedgerError):
        ledger.record_fee(
            s, occurred_at=day(0), custody="cold", expense="network-fees", fee_sat=1, txid=TX
        )
    assert ledger.check_ledger(s) == []


def test_holdings_at_a_date(books: Session) -> None:
    s = books
    buy(s, day(0, 6), BTC, "40000")
    buy(s, day(1), 2 * BTC, "80000", account="hot")
    buy(s, day(1, 12), 3 * BTC, "120000")
    assert ledger.holdings(s, date(2024, 1, 1)) == {"cold": 0, "hot": 0}
    assert ledger.holdings(s, date(2024, 1, 2)) == {"cold": BTC, "hot": 2 * BTC}  # 00:00 inclusive
    assert ledger.holdings(s, day(1, 11)) == {"cold": BTC, "hot": 2 * BTC}
    assert ledger.holdings(s) == {"cold": 4 * BTC, "hot": 2 * BTC}
    assert ledger.total_holdings(s, day(1, 12)) == 6 * BTC
    assert ledger.balance(s, "exchange") == -6 * BTC
    assert ledger.balance(s, "cold", date(2024, 1, 2)) == BTC
    with pytest.raises(LedgerError):
        ledger.holdings(s, datetime(2024, 1, 2))


def test_check_ledger_finds_damage_done_behind_its_back(books: Session) -> None:
    s = books
    buy(s, day(0), BTC, "40000")
    assert ledger.check_ledger(s) == []
    cold = ledger.get_account(s, "cold")
    bad = JournalEntry(occurred_at=day(1), kind="transfer", evidence={"txid": TX})
    bad.postings = [Posting(account_id=cold.id, amount_sat=-2 * BTC)]
    s.add(bad)
    s.flush()
    problems = ledger.check_ledger(s)
    assert any(f"entry {bad.id}: 1 postings" in p for p in problems)
    assert any(f"-{BTC} sat after entry {bad.id}" in p for p in problems)
    assert any(
        f"account 'cold': cached balance {BTC} sat, postings say -{BTC}" in p for p in problems
    )
    s.execute(sa.delete(Lot))
    assert any("lot of None sat" in p for p in ledger.check_ledger(s))


# =========================================================================== cost basis


def test_fifo_and_average_by_hand(books: Session) -> None:
    s = books
    buy(s, day(0), BTC, "10000")
    buy(s, day(1), BTC, "20000")
    sell(s, day(2), 150_000_000, "45000")
    fifo = ledger.cost_basis(s, "fifo")
    # FIFO: the 1st BTC (10,000) and half the 2nd (10,000) are sold.
    assert fifo.held_sat == 50_000_000
    assert fifo.disposals[0].basis_usd == D("20000.00")
    assert fifo.realised_pnl_usd == D("25000.00")
    assert fifo.basis_usd == D("10000.00")
    average = ledger.cost_basis(s, "average")
    # Average cost 15,000/BTC: 1.5 BTC cost 22,500.
    assert average.disposals[0].basis_usd == D("22500.00")
    assert average.realised_pnl_usd == D("22500.00")
    assert average.basis_usd == D("7500.00")
    mark_fifo = ledger.mark_to_market(s, day(3), price_usd_per_btc=D("40000"))
    mark_avg = ledger.mark_to_market(s, day(3), method="average", price_usd_per_btc="40000")
    assert mark_fifo.market_value_usd == mark_avg.market_value_usd == D("20000.00")
    assert mark_fifo.unrealised_pnl_usd == D("10000.00")
    assert mark_avg.unrealised_pnl_usd == D("12500.00")
    total = D("35000.00")  # 45,000 + 20,000 - 30,000 under either method
    assert mark_fifo.realised_pnl_usd + mark_fifo.unrealised_pnl_usd == total
    assert mark_avg.realised_pnl_usd + mark_avg.unrealised_pnl_usd == total
    assert ledger.unrealised_pnl(s, day(3), price_usd_per_btc=40000) == D("10000.00")
    assert ledger.realised_pnl(s, "fifo", day(2), day(3)) == D("25000.00")
    assert ledger.realised_pnl(s, "fifo", day(3)) == D("0.00")
    assert ledger.cost_basis(s, "fifo", day(1)).realised_pnl_usd == D("0.00")


def test_rounding_to_the_cent_conserves_basis() -> None:
    events: list[Acquisition | Disposal] = [Acquisition(T0, 1, 3, D("0.10"))]
    events += [Disposal(day(n), 1 + n, 1, D(0)) for n in (1, 2, 3)]
    average = ledger.average_basis(events)
    # 10 cents / 3 -> 3.33 -> 3; 7 / 2 = 3.5 -> 4 (half even); the last sat takes the 3 left.
    assert [d.basis_usd for d in average.disposals] == [D("0.03"), D("0.04"), D("0.03")]
    fifo = ledger.fifo_basis(events)
    assert [d.basis_usd for d in fifo.disposals] == [D("0.03"), D("0.04"), D("0.03")]
    assert fifo.basis_usd == average.basis_usd == D("0.00")


def test_fees_are_disposals(books: Session) -> None:
    s = books
    buy(s, day(0), 100_000, "50.00")
    ledger.record_fee(
        s, occurred_at=day(1), custody="cold", expense="network-fees", fee_sat=1_000, txid=TX
    )
    ledger.record_fee(
        s,
        occurred_at=day(2),
        custody="cold",
        expense="network-fees",
        fee_sat=1_000,
        txid=TX2,
        value_usd=D("0.60"),
    )
    result = ledger.cost_basis(s)
    assert [d.disposal.proceeds_usd for d in result.disposals] == [D("0.00"), D("0.60")]
    assert [d.gain_usd for d in result.disposals] == [D("-0.50"), D("0.10")]
    assert result.held_sat == 98_000


def test_basis_functions_refuse_bad_events() -> None:
    with pytest.raises(LedgerError, match="held"):
        ledger.fifo_basis([Disposal(T0, 1, 5, D(0))])
    with pytest.raises(LedgerError, match="held"):
        ledger.average_basis([Acquisition(T0, 1, 4, D(1)), Disposal(T0, 2, 5, D(0))])
    with pytest.raises(LedgerError, match="> 0"):
        ledger.fifo_basis([Acquisition(T0, 1, 0, D(1))])
    with pytest.raises(LedgerError, match="USD"):
        ledger.fifo_basis([Acquisition(T0, 1, 1, D("0.001"))])
    with pytest.raises(LedgerError, match="'fifo' or 'average'"):
        ledger.cost_basis(None, "lifo")  # type: ignore[arg-type]


_ACQ = st.builds(
    lambda t, sat, cents: ("a", t, sat, cents),
    st.integers(0, 50),
    st.integers(1, 10 * BTC),
    st.integers(0, 10**10),
)
_DISP = st.builds(
    lambda t, share, cents: ("d", t, share, cents),
    st.integers(0, 50),
    st.floats(0.0, 1.0),
    st.integers(0, 10**10),
)


def _events(raw: list[tuple[Any, ...]]) -> list[Acquisition | Disposal]:
    """Turn drawn operations into a valid sequence (disposals never exceed holdings)."""
    raw = sorted(raw, key=lambda r: r[1])
    held = 0
    out: list[Acquisition | Disposal] = []
    for order, (what, t, x, cents) in enumerate(raw):
        when = T0 + timedelta(days=t)
        if what == "a":
            out.append(Acquisition(when, order, x, D(cents) / 100))
            held += x
        else:
            amount = min(held, max(1, round(held * x)))
            if amount:
                out.append(Disposal(when, order, amount, D(cents) / 100))
                held -= amount
    return out


@settings(max_examples=200, deadline=None)
@given(raw=st.lists(st.one_of(_ACQ, _DISP), max_size=40), price=st.integers(1, 10**7))
def test_fifo_and_average_agree_where_they_must(raw: list[tuple[Any, ...]], price: int) -> None:
    events = _events(raw)
    fifo, average = ledger.fifo_basis(events), ledger.average_basis(events)
    acquired = sum(e.amount_sat for e in events if isinstance(e, Acquisition))
    disposed = sum(e.amount_sat for e in events if isinstance(e, Disposal))
    cost = sum((e.cost_usd for e in events if isinstance(e, Acquisition)), D(0))
    proceeds = sum((e.proceeds_usd for e in events if isinstance(e, Disposal)), D(0))
    for result in (fifo, average):
        assert result.held_sat == acquired - disposed
        assert type(result.held_sat) is int
        assert result.cost_usd == cost
        assert result.proceeds_usd == proceeds
        # Basis is conserved to the cent: nothing created or lost by rounding.
        disposed_basis = sum((d.basis_usd for d in result.disposals), D(0))
        assert result.basis_usd + disposed_basis == cost
        assert result.realised_pnl_usd == proceeds - disposed_basis
        assert result.basis_usd >= 0
        assert all(d.basis_usd >= 0 for d in result.disposals)
        if result.held_sat == 0:
            assert result.basis_usd == 0
    # Total gain (realised + unrealised at any price) does not depend on the method.
    value = (D(fifo.held_sat) * price / BTC).quantize(D("0.01"))
    assert fifo.realised_pnl_usd + value - fifo.basis_usd == (
        average.realised_pnl_usd + value - average.basis_usd
    )
    # With a single lot, or lots all at one unit cost, both methods give the same basis.
    lots = [e for e in events if isinstance(e, Acquisition)]
    if len(lots) == 1:
        assert fifo.basis_usd == average.basis_usd
        assert fifo.realised_pnl_usd == average.realised_pnl_usd


@settings(max_examples=100, deadline=None)
@given(
    lots=st.lists(st.integers(1, 1000), min_size=1, max_size=10),
    unit=st.integers(0, 10**6),
    sells=st.lists(st.floats(0.0, 1.0), max_size=10),
)
def test_same_unit_cost_makes_fifo_equal_average(
    lots: list[int], unit: int, sells: list[float]
) -> None:
    events: list[Acquisition | Disposal] = [
        Acquisition(T0, i, 100 * n, D(unit * n) / 100) for i, n in enumerate(lots)
    ]
    held = 100 * sum(lots)
    for j, share in enumerate(sells):
        amount = min(held, max(1, round(held * share)))
        if amount:
            events.append(Disposal(T0 + timedelta(days=1), 100 + j, amount, D(0)))
            held -= amount
    fifo, average = ledger.fifo_basis(events), ledger.average_basis(events)
    # Same unit cost (unit cents per 100 sat): bases differ at most by rounding, 1 cent a disposal.
    gap = abs(fifo.basis_usd - average.basis_usd)
    assert gap <= D("0.01") * len(fifo.disposals)


# =========================================================================== mark to market


def test_mark_to_market_with_the_bundled_price(books: Session) -> None:
    s = books
    buy(s, day(0), BTC, "42000")
    buy(s, day(10), BTC // 2, "23000", account="hot")
    on = date(2024, 3, 1)
    price = D(repr(price_on(on)))
    result = ledger.mark_to_market(s, on)
    assert result.at == datetime(2024, 3, 1, tzinfo=UTC)
    assert result.price_usd_per_btc == price
    assert result.held_sat == 150_000_000
    assert result.market_value_usd == (price * D("1.5")).quantize(D("0.01"))
    assert result.basis_usd == D("65000.00")
    assert result.unrealised_pnl_usd == result.market_value_usd - D("65000.00")
    assert ledger.unrealised_pnl(s, on) == result.unrealised_pnl_usd
    # Holdings are taken at the price's time: nothing bought before day 10 is missed,
    # and a purchase later that day is not counted.
    early = ledger.mark_to_market(s, date(2024, 1, 5))
    assert early.held_sat == BTC
    assert early.price_usd_per_btc == D(repr(price_on(date(2024, 1, 5))))


def test_mark_to_market_without_a_price_for_the_day(books: Session) -> None:
    buy(books, day(0), BTC, "42000")
    with pytest.raises(DataError):
        ledger.mark_to_market(books, date(2013, 6, 4))  # missing from the bundled file
    with pytest.raises(LedgerError, match="price"):
        ledger.mark_to_market(books, date(2024, 1, 5), price_usd_per_btc=-1)


# =========================================================================== DB property test

_OPS = st.lists(
    st.tuples(
        st.sampled_from(["purchase", "consolidation", "mining", "transfer", "fee", "sale"]),
        st.integers(0, 12),
        st.sampled_from(["cold", "hot"]),
        st.integers(1, 3 * BTC),
        st.integers(1, 10**9),
    ),
    min_size=1,
    max_size=14,
)


def _apply(s: Session, op: tuple[str, int, str, int, int]) -> dict[str, int]:
    """Record one drawn operation; return its effect on custody balances."""
    kind, n, account, sat, cents = op
    when, usd = day(n), D(cents) / 100
    other = "hot" if account == "cold" else "cold"
    if kind == "purchase":
        buy(s, when, sat, str(usd), account=account)
        return {account: sat}
    if kind == "consolidation":
        ledger.record_consolidation(
            s,
            occurred_at=when,
            custody=account,
            source="treasury",
            amount_sat=sat,
            value_usd=usd,
            txid=TX,
        )
        return {account: sat}
    if kind == "mining":
        ledger.record_mining(
            s,
            occurred_at=when,
            custody=account,
            income="mining-income",
            amount_sat=sat,
            value_usd=usd,
            site="s1",
            period=f"2024-01-{n + 1:02d}",
        )
        return {account: sat}
    if kind == "transfer":
        ledger.record_transfer(
            s, occurred_at=when, source=account, destination=other, amount_sat=sat, txid=TX
        )
        return {account: -sat, other: sat}
    if kind == "fee":
        ledger.record_fee(
            s, occurred_at=when, custody=account, expense="network-fees", fee_sat=sat, txid=TX
        )
        return {account: -sat}
    sell(s, when, sat, str(usd), account=account)
    return {account: -sat}


def _overdraws(history: list[tuple[int, int, dict[str, int]]]) -> bool:
    balances = {"cold": 0, "hot": 0}
    for _, _, effect in sorted(history, key=lambda h: (h[0], h[1])):
        for account, delta in effect.items():
            balances[account] += delta
            if balances[account] < 0:
                return True
    return False


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=_OPS)
def test_ledger_invariants_hold_for_any_sequence(db_url: str, ops: list[Any]) -> None:
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            add_accounts(s)
            history: list[tuple[int, int, dict[str, int]]] = []
            for seq, op in enumerate(ops):
                kind, n, account, sat, _ = op
                sign = -1 if kind in ("transfer", "fee", "sale") else 1
                other = "hot" if account == "cold" else "cold"
                effect = {account: sign * sat}
                if kind == "transfer":
                    effect[other] = sat
                refused = _overdraws([*history, (n, seq, effect)])
                if refused:
                    before = count(s, Posting)
                    with pytest.raises(LedgerError, match=">= 0 sat"):
                        _apply(s, op)
                    assert count(s, Posting) == before
                else:
                    assert _apply(s, op) == effect
                    history.append((n, seq, effect))
            # Postings balance, custody never negative, lots match inflows.
            assert ledger.check_ledger(s) == []
            sums = s.execute(
                sa.select(Posting.entry_id, sa.func.sum(Posting.amount_sat)).group_by(
                    Posting.entry_id
                )
            ).all()
            assert all(total == 0 for _, total in sums)
            amounts = s.scalars(sa.select(Posting.amount_sat)).all()
            assert all(type(a) is int for a in amounts)
            expected = {"cold": 0, "hot": 0}
            for _, _, effect in history:
                for account, delta in effect.items():
                    expected[account] += delta
            assert ledger.holdings(s) == expected
            assert min(expected.values()) >= 0
            # FIFO and average cost on the same sequence.
            fifo, average = ledger.cost_basis(s, "fifo"), ledger.cost_basis(s, "average")
            assert fifo.held_sat == average.held_sat == sum(expected.values())
            assert fifo.cost_usd == average.cost_usd
            for result in (fifo, average):
                disposed = sum((d.basis_usd for d in result.disposals), D(0))
                assert result.basis_usd + disposed == result.cost_usd
            marks = [
                ledger.mark_to_market(s, day(20), method="fifo", price_usd_per_btc=50_000),
                ledger.mark_to_market(s, day(20), method="average", price_usd_per_btc=50_000),
            ]
            totals = {m.realised_pnl_usd + m.unrealised_pnl_usd for m in marks}
            assert len(totals) == 1
            s.rollback()
    finally:
        engine.dispose()


# =========================================================================== CSV


def populate(s: Session) -> None:
    buy(s, day(0), BTC, "40000")
    ledger.record_consolidation(
        s,
        occurred_at=day(1, 3),
        custody="cold",
        source="chivo",
        amount_sat=2 * BTC,
        value_usd=D("60000"),
        txid=TX,
        memo='moved from "Chivo", line 2\nsecond line',
    )
    ledger.record_mining(
        s,
        occurred_at=day(2),
        custody="hot",
        income="mining-income",
        amount_sat=12_345,
        value_usd=D("5.18"),
        site="lempa",
        period="2024-01",
    )
    ledger.record_transfer(
        s, occurred_at=day(3), source="cold", destination="hot", amount_sat=BTC, txid=TX2
    )
    ledger.record_fee(
        s,
        occurred_at=day(3),
        custody="cold",
        expense="network-fees",
        fee_sat=1_500,
        txid=TX2,
        value_usd=D("0.66"),
    )
    sell(s, day(4), 50_000_000, "22000.01", account="hot")


def test_csv_round_trip(db_factory: Callable[[], str]) -> None:
    first, second = db_factory(), db_factory()
    texts = []
    results = []
    for url in (first, second):
        engine = make_engine(url)
        with Session(engine) as s:
            add_accounts(s)
            if not texts:
                populate(s)
            else:
                result = ledger.import_csv(s, io.StringIO(texts[0]), name="entries.csv")
                assert (result.entries, result.postings, result.lots) == (6, 12, 3)
                assert (result.first_id, result.last_id) == (1, 6)
            s.commit()
            out = io.StringIO()
            assert ledger.export_csv(s, out) == 6
            texts.append(out.getvalue())
            results.append(
                (ledger.holdings(s), ledger.cost_basis(s, "fifo"), ledger.inflows_by_kind(s))
            )
            assert ledger.check_ledger(s) == []
        engine.dispose()
    assert texts[0] == texts[1]
    assert results[0] == results[1]
    header = texts[0].splitlines()[0].split(",")
    assert tuple(header) == ledger.CSV_COLUMNS
    assert header[:6] == ["entry", "occurred_at", "kind", "account", "amount_sat", "value_usd"]
    assert "2024-01-02T03:00:00Z" in texts[0]


def test_csv_export_window_and_file_paths(books: Session, tmp_path: Path) -> None:
    s = books
    populate(s)
    path = tmp_path / "window.csv"
    assert ledger.export_csv(s, path, start=date(2024, 1, 2), end=date(2024, 1, 4)) == 2
    text = path.read_text()
    assert "consolidation" in text and "mining" in text and "purchase" not in text
    s.rollback()
    add_accounts(s)
    buy(s, day(0), BTC, "40000")
    result = ledger.import_csv(s, str(path))
    assert result.entries == 2
    assert ledger.inflows_by_kind(s)["consolidation"].amount_sat == 2 * BTC


HEADER = ",".join(ledger.CSV_COLUMNS)
GOOD = [
    "p1,2024-01-01T00:00:00Z,purchase,cold,100000000,40000.00,,T1,40000,40000.00,,,,,,,,",
    "p1,,,exchange,-100000000,-40000.00,,,,,,,,,,,,",
    "f1,2024-01-02T00:00:00+02:00,fee,cold,-500,,,,,,,," + TX + ",,,,,500",
    "f1,2024-01-02T00:00:00+02:00,fee,network-fees,500,,,,,,,," + TX + ",,,,,500",
]


def _csv(rows: list[str]) -> io.StringIO:
    return io.StringIO("\n".join([HEADER, *rows]) + "\n")


def test_csv_import_accepts_blank_entry_columns_after_the_first_row(books: Session) -> None:
    result = ledger.import_csv(books, _csv(GOOD), name="ok.csv")
    assert (result.entries, result.postings, result.lots) == (2, 4, 1)
    fee = books.scalar(sa.select(JournalEntry).where(JournalEntry.kind == "fee"))
    assert fee is not None and fee.occurred_at == datetime(2024, 1, 1, 22, tzinfo=UTC)
    assert ledger.holdings(books)["cold"] == BTC - 500


def _replace(row: int | tuple[int, ...], column: str, value: str) -> list[str]:
    rows = [r.split(",") for r in GOOD]
    for number in (row,) if isinstance(row, int) else row:
        rows[number][ledger.CSV_COLUMNS.index(column)] = value
    return [",".join(r) for r in rows]


@pytest.mark.parametrize(
    ("rows", "field", "value"),
    [
        (_replace(1, "amount_sat", "-1e8"), "bad.csv:3:amount_sat", "-1e8"),
        (_replace(1, "amount_sat", "-99999999"), "bad.csv:2:amount_sat", 1),
        (_replace(0, "value_usd", "40000.001"), "bad.csv:2:value_usd", "40000.001"),
        (_replace(1, "account", "nowhere"), "bad.csv:3:account", "nowhere"),
        (
            _replace(0, "occurred_at", "2024-01-01 00:00"),
            "bad.csv:2:occurred_at",
            "2024-01-01 00:00",
        ),
        (_replace(0, "kind", "gift"), "bad.csv:2:kind", "gift"),
        (_replace(0, "trade_ref", ""), "bad.csv:2:trade_ref", None),
        (_replace(3, "fee_sat", "501"), "bad.csv:5:fee_sat", "501"),
        (_replace((2, 3), "txid", "zz"), "bad.csv:4:txid", "zz"),
        (_replace(3, "entry", "p1"), "bad.csv:5:entry", "p1"),
        (_replace(1, "kind", "sale"), "bad.csv:3:kind", "sale"),
        ([*GOOD, "x1,2024-01-03T00:00:00Z"], "bad.csv:6", 2),
    ],
)
def test_csv_import_errors_name_line_column_and_value(
    books: Session, rows: list[str], field: str, value: object
) -> None:
    before = count(books, JournalEntry)
    with pytest.raises(LedgerError) as err:
        ledger.import_csv(books, _csv(rows), name="bad.csv")
    assert err.value.field == field
    assert err.value.value == value
    assert count(books, JournalEntry) == before
    assert count(books, Posting) == 0


def test_csv_header_is_checked(books: Session) -> None:
    with pytest.raises(LedgerError) as err:
        ledger.import_csv(books, io.StringIO("entry,occurred_at,kind,acount\n"), name="h.csv")
    assert err.value.field == "h.csv:1:acount"
    with pytest.raises(LedgerError, match="required"):
        ledger.import_csv(books, io.StringIO("entry,occurred_at,kind,account\n"), name="h.csv")
    with pytest.raises(LedgerError, match="empty"):
        ledger.import_csv(books, io.StringIO(""), name="h.csv")
    result = ledger.import_csv(books, io.StringIO(HEADER + "\n"), name="h.csv")
    assert result.entries == 0 and result.first_id is None


def test_csv_import_is_all_or_nothing(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            add_accounts(s)
            s.commit()
        rows = [*GOOD, *[r.replace("p1,", "p2,") for r in GOOD[:2]]]
        rows[-1] = rows[-1].replace("-100000000", "-100000001")  # last entry unbalanced
        with Session(engine) as s:
            with pytest.raises(LedgerError, match="summing to 0 sat"):
                ledger.import_csv(s, _csv(rows), name="batch.csv")
            # The session is still usable; a good import then commits.
            ledger.import_csv(s, _csv(GOOD), name="batch.csv")
            s.commit()
        with Session(engine) as s:
            assert count(s, JournalEntry) == 2
            assert ledger.check_ledger(s) == []
    finally:
        engine.dispose()


def test_csv_import_checks_holdings_across_the_batch(books: Session) -> None:
    late_purchase = [GOOD[2], GOOD[3], *[r.replace("2024-01-01", "2024-01-05") for r in GOOD[:2]]]
    with pytest.raises(LedgerError) as err:
        ledger.import_csv(books, _csv(late_purchase), name="order.csv")
    assert err.value.field == "order.csv:2:amount_sat"
    assert err.value.value == -500
    assert "'cold'" in err.value.expected
    # Rows out of time order are fine when the balance never dips below zero.
    early_purchase = [GOOD[2], GOOD[3], *[r.replace("2024-01-01", "2023-12-31") for r in GOOD[:2]]]
    assert ledger.import_csv(books, _csv(early_purchase)).entries == 2


def test_csv_import_reports_progress(books: Session) -> None:
    seen: list[tuple[str, int]] = []
    ledger.import_csv(books, _csv(GOOD), progress=lambda stage, n: seen.append((stage, n)))
    assert ("parsed", 4) in seen
    assert ("written", 4) in seen


def test_bulk_sqlite_values_match_the_column_types() -> None:
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    table = JournalEntry.__table__
    when = table.c.occurred_at.type.dialect_impl(dialect).bind_processor(dialect)
    evidence = table.c.evidence.type.dialect_impl(dialect).bind_processor(dialect)
    money = Posting.__table__.c.value_usd.type.dialect_impl(dialect).bind_processor(dialect)
    assert when is not None and evidence is not None and money is not None
    for moment in (T0, datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC)):
        assert ledger._sqlite_time(moment) == when(moment)
    data = {"txid": TX, "memo": 'quote " and \\ backslash', "period": "2024-01"}
    assert json.dumps(data) == evidence(data)
    for value in (D("0.01"), D("-40000.10"), D("9999999999999.99")):
        assert float(value) == money(value)


def test_copy_text_escapes() -> None:
    assert ledger._copy_text("a\tb\nc\\d\re") == "a\\tb\\nc\\\\d\\re"
