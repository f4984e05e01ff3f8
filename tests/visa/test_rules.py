"""The pure rules: fee conversion and each documented outcome of settlement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from hashnation.errors import InputError
from hashnation.visa.rules import (
    InvoiceState,
    Outcome,
    PaymentSeen,
    VisaRules,
    fee_value_usd,
    settle,
)

T0 = datetime(2025, 6, 1, tzinfo=UTC)
EXPIRES = T0 + timedelta(hours=24)


def pay(value_sat: int, height: int, *, minutes: int = 10, conf: int = 6) -> PaymentSeen:
    return PaymentSeen(
        f"{height:064x}", 0, value_sat, height, T0 + timedelta(minutes=minutes), conf
    )


def test_fee_in_usd_rounds_up_to_the_sat() -> None:
    rules = VisaRules(price_usd_per_btc=Decimal("95000"), amount_usd=Decimal("100000"))
    assert rules.fee_sat == 105_263_158  # 100,000 / 95,000 BTC = 1.052631578...
    assert fee_value_usd(rules.fee_sat, Decimal("95000")) == Decimal("100000.00")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount_sat": None}, "amount_sat/amount_usd"),
        ({"amount_usd": Decimal(1)}, "amount_sat/amount_usd"),
        ({"confirmations_required": 0}, "confirmations_required"),
        ({"tolerance_sat": 1_000}, "tolerance_sat"),
        ({"price_usd_per_btc": Decimal(0)}, "price_usd_per_btc"),
    ],
)
def test_bad_terms_name_the_field(changes: dict[str, object], field: str) -> None:
    terms: dict[str, object] = {"price_usd_per_btc": Decimal(1), "amount_sat": 1_000}
    terms.update(changes)
    with pytest.raises(InputError, match=field):
        VisaRules(**terms)  # type: ignore[arg-type]


def test_outcomes_table() -> None:
    exact = settle(1_000, 0, EXPIRES, T0, 3, [pay(1_000, 1)])
    assert (exact.state, exact.payments[0].outcome) == (InvoiceState.PAID, Outcome.ACCEPTED)
    under = settle(1_000, 0, EXPIRES, T0, 3, [pay(400, 1)])
    assert (under.state, under.shortfall_sat) == (InvoiceState.AWAITING_PAYMENT, 600)
    expired = settle(1_000, 0, EXPIRES, EXPIRES + timedelta(seconds=1), 3, [pay(400, 1)])
    assert expired.state is InvoiceState.EXPIRED
    assert [(p.outcome, p.refund_sat) for p in expired.payments] == [(Outcome.REFUND_EXPIRED, 400)]
    over = settle(1_000, 10, EXPIRES, T0, 3, [pay(400, 1), pay(900, 2)])
    assert [(p.outcome, p.kept_sat, p.refund_sat) for p in over.payments] == [
        (Outcome.PARTIAL, 400, 0),
        (Outcome.OVERPAID, 600, 300),
    ]
    assert over.kept_sat == 1_000
    within = settle(1_000, 10, EXPIRES, T0, 3, [pay(1_005, 1)])
    assert (within.payments[0].outcome, within.kept_sat) == (Outcome.ACCEPTED, 1_005)
    twice = settle(1_000, 0, EXPIRES, T0, 3, [pay(1_000, 2), pay(1_000, 1)])
    assert [p.outcome for p in twice.payments] == [Outcome.ACCEPTED, Outcome.REFUND_DUPLICATE]
    late = settle(1_000, 0, EXPIRES, EXPIRES, 3, [pay(1_000, 9, minutes=25 * 60)])
    assert [p.outcome for p in late.payments] == [Outcome.REFUND_LATE]
    assert late.state is InvoiceState.AWAITING_PAYMENT
    pending = settle(1_000, 0, EXPIRES, T0, 3, [pay(1_000, 1, conf=2)])
    assert [p.outcome for p in pending.payments] == [Outcome.PENDING]
    assert pending.state is InvoiceState.AWAITING_PAYMENT


def test_naive_times_refused() -> None:
    with pytest.raises(InputError, match="now"):
        settle(1_000, 0, EXPIRES, datetime(2025, 1, 1), 1, [])
