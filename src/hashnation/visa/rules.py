"""Rules of the investor-residency visa programme, and how each payment is settled.

Everything here is pure: no database, network or clock. :class:`VisaRules` holds the
programme's terms; :func:`settle` decides, from the confirmed payments to one invoice's
address, what each payment does to the invoice and how much of it goes back to the payer.

Terms
-----
- the fee per visa, either in satoshis (``amount_sat``) or in US dollars
  (``amount_usd``) converted at the stated price ``price_usd_per_btc``, rounded up to
  the satoshi; the price also values the fee in the reserve ledger;
- how long an invoice may be paid (``invoice_validity_hours``), judged by the time of the
  block that confirms a payment (its header time, which the platform checks by SPV);
- the confirmations a payment needs before it counts (``confirmations_required``); a
  payment with fewer is shown as *pending* and changes nothing;
- the most visas approved per calendar year, UTC (``yearly_quota``);
- a tolerance (``tolerance_sat``): a total short of the fee by at most this much pays the
  invoice, and an excess of at most this much is kept rather than refunded (a refund that
  small would be eaten by its network fee).

Documented outcomes
-------------------
Payments to an invoice's address are taken in chain order (height, txid, output index).

==========================  ==============================  ====================================
case                        outcome (``Outcome``)           what happens
==========================  ==============================  ====================================
exact (within tolerance)    ``accepted``                    the invoice is paid; the fee is
                                                            recorded in the reserve ledger
below the amount            ``partial``                     the invoice stays awaiting payment,
                                                            the shortfall shown; a further
                                                            payment before expiry tops it up
below, then expiry          ``refund_expired``              every partial payment is refunded
                                                            in full; the invoice is expired and
                                                            a new one may be issued
above the amount            ``overpaid``                    the invoice is paid; the excess
                                                            over the fee is refunded (kept when
                                                            within the tolerance)
paid twice                  ``refund_duplicate``            a payment arriving once the invoice
                                                            is paid is refunded in full
after expiry                ``refund_late``                 a payment confirmed in a block whose
                                                            time is past the expiry is refunded
                                                            in full; the application does not
                                                            advance
fewer confirmations         ``pending``                     not counted yet; shown with its
                                                            confirmations
==========================  ==============================  ====================================

A refund is an unsigned PSBT (see :mod:`hashnation.visa.service`); its network fee is
taken from the amount refunded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum
from typing import Final

from hashnation.bitcoin.units import MAX_MONEY_SAT, SAT_PER_BTC
from hashnation.errors import InputError

__all__ = [
    "KYC_STATUSES",
    "MAX_VALIDITY_HOURS",
    "InvoiceState",
    "Outcome",
    "PaymentSeen",
    "SettledPayment",
    "Settlement",
    "VisaRules",
    "fee_value_usd",
    "settle",
]

KYC_STATUSES: Final[tuple[str, ...]] = ("pending", "cleared", "rejected")
"""Know-your-customer statuses of an application."""

MAX_VALIDITY_HOURS: Final = 24 * 90
"""Longest invoice validity accepted [h]."""

_CENT: Final = Decimal("0.01")


class Outcome(StrEnum):
    """What one payment did to its invoice (see the module's table)."""

    PENDING = "pending"
    PARTIAL = "partial"
    ACCEPTED = "accepted"
    OVERPAID = "overpaid"
    REFUND_DUPLICATE = "refund_duplicate"
    REFUND_LATE = "refund_late"
    REFUND_EXPIRED = "refund_expired"


class InvoiceState(StrEnum):
    """State of an invoice after settlement."""

    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    EXPIRED = "expired"


def _int(field: str, value: object, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InputError(field, value, f"an integer from {minimum} to {maximum}")
    return value


def _positive_decimal(field: str, value: object, unit: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise InputError(field, value, f"a decimal number > 0 [{unit}]")
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        raise InputError(field, value, f"a decimal number > 0 [{unit}]") from None
    if not number.is_finite() or number <= 0:
        raise InputError(field, value, f"a decimal number > 0 [{unit}]")
    return number


@dataclass(frozen=True, slots=True)
class VisaRules:
    """Terms of the programme.

    Parameters
    ----------
    price_usd_per_btc
        Stated price [USD/BTC]: converts ``amount_usd`` and values the fee in the ledger.
    amount_sat
        Fee per visa [sat]; give this or ``amount_usd``.
    amount_usd
        Fee per visa [USD], converted at ``price_usd_per_btc`` and rounded up to the sat.
    invoice_validity_hours
        How long an invoice may be paid [h], 1 to :data:`MAX_VALIDITY_HOURS`.
    confirmations_required
        Confirmations a payment needs to count [blocks], 1 to 1,000.
    yearly_quota
        Visas approved per calendar year (UTC) at most [visas], >= 1.
    tolerance_sat
        Shortfall still accepted, and excess kept rather than refunded [sat], >= 0.

    Raises
    ------
    InputError
        If a term is out of range, or both or neither of the amounts are given.
    """

    price_usd_per_btc: Decimal
    amount_sat: int | None = None
    amount_usd: Decimal | None = None
    invoice_validity_hours: int = 72
    confirmations_required: int = 3
    yearly_quota: int = 1_000
    tolerance_sat: int = 0

    def __post_init__(self) -> None:
        price = _positive_decimal("price_usd_per_btc", self.price_usd_per_btc, "USD/BTC")
        object.__setattr__(self, "price_usd_per_btc", price)
        if (self.amount_sat is None) == (self.amount_usd is None):
            raise InputError(
                "amount_sat/amount_usd",
                (self.amount_sat, self.amount_usd),
                "exactly one of the fee in sat or the fee in USD",
            )
        if self.amount_sat is not None:
            _int("amount_sat", self.amount_sat, 1, MAX_MONEY_SAT)
        else:
            usd = _positive_decimal("amount_usd", self.amount_usd, "USD")
            object.__setattr__(self, "amount_usd", usd)
            _int("amount_usd", self.fee_sat, 1, MAX_MONEY_SAT)
        _int("invoice_validity_hours", self.invoice_validity_hours, 1, MAX_VALIDITY_HOURS)
        _int("confirmations_required", self.confirmations_required, 1, 1_000)
        _int("yearly_quota", self.yearly_quota, 1, 10_000_000)
        _int("tolerance_sat", self.tolerance_sat, 0, self.fee_sat - 1)

    @property
    def fee_sat(self) -> int:
        """Fee per visa [sat]: ``amount_sat``, or ``amount_usd`` at the price, rounded up."""
        if self.amount_sat is not None:
            return self.amount_sat
        assert self.amount_usd is not None
        sat = (self.amount_usd * SAT_PER_BTC / self.price_usd_per_btc).to_integral_value(
            ROUND_CEILING
        )
        return int(sat)

    @property
    def invoice_validity(self) -> timedelta:
        """Validity of an invoice."""
        return timedelta(hours=self.invoice_validity_hours)


def fee_value_usd(amount_sat: int, price_usd_per_btc: Decimal) -> Decimal:
    """Value of an amount at a price, to the cent (round half even) [USD].

    Parameters
    ----------
    amount_sat
        Amount [sat].
    price_usd_per_btc
        Price [USD/BTC].

    Returns
    -------
    Decimal
        The value [USD].
    """
    value = Decimal(amount_sat) * Decimal(price_usd_per_btc) / SAT_PER_BTC
    return value.quantize(_CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class PaymentSeen:
    """A confirmed output paying an invoice's address.

    Parameters
    ----------
    txid
        Transaction id, display hex.
    vout
        Output index.
    value_sat
        Amount [sat].
    height
        Height of the confirming block.
    block_time
        Header time of that block (aware UTC).
    confirmations
        Confirmations at the scan height [blocks].
    """

    txid: str
    vout: int
    value_sat: int
    height: int
    block_time: datetime
    confirmations: int


@dataclass(frozen=True, slots=True)
class SettledPayment:
    """A payment with what it did.

    Parameters
    ----------
    payment
        The payment.
    outcome
        Its outcome.
    kept_sat
        Part kept as the fee [sat].
    refund_sat
        Part owed back to the payer [sat] (before the refund's network fee).
    """

    payment: PaymentSeen
    outcome: Outcome
    kept_sat: int
    refund_sat: int


@dataclass(frozen=True, slots=True)
class Settlement:
    """An invoice after its payments are settled.

    Parameters
    ----------
    state
        Awaiting payment, paid or expired.
    payments
        Each payment and its outcome, in chain order.
    received_sat
        Sum of the payments counted towards the fee [sat] (partial, accepted, overpaid).
    kept_sat
        The fee kept [sat]: 0 unless the invoice is paid.
    shortfall_sat
        What is still to pay [sat]: 0 once paid.
    paid_by
        The payment that paid the invoice, if any.
    """

    state: InvoiceState
    payments: tuple[SettledPayment, ...]
    received_sat: int
    kept_sat: int
    shortfall_sat: int
    paid_by: PaymentSeen | None

    @property
    def refund_sat(self) -> int:
        """Total owed back to payers [sat]."""
        return sum(p.refund_sat for p in self.payments)


def settle(
    fee_sat: int,
    tolerance_sat: int,
    expires_at: datetime,
    now: datetime,
    confirmations_required: int,
    payments: Sequence[PaymentSeen],
) -> Settlement:
    """Settle an invoice from the payments seen at its address (the module's table).

    Parameters
    ----------
    fee_sat
        Amount due [sat].
    tolerance_sat
        Shortfall accepted and excess kept [sat].
    expires_at
        End of the invoice's validity (aware).
    now
        Time of the settlement (aware): an invoice unpaid at ``now > expires_at`` is
        expired.
    confirmations_required
        Confirmations a payment needs to count [blocks].
    payments
        Payments seen, in any order.

    Returns
    -------
    Settlement
        The state, each payment's outcome and the amounts.

    Raises
    ------
    InputError
        If a time is naive or an amount out of range.
    """
    _int("fee_sat", fee_sat, 1, MAX_MONEY_SAT)
    _int("tolerance_sat", tolerance_sat, 0, fee_sat - 1)
    _int("confirmations_required", confirmations_required, 1, 1_000)
    for name, moment in (("expires_at", expires_at), ("now", now)):
        if not isinstance(moment, datetime) or moment.utcoffset() is None:
            raise InputError(name, moment, "a timezone-aware datetime")
    ordered = sorted(payments, key=lambda p: (p.height, p.txid, p.vout))
    settled: list[SettledPayment] = []
    received = 0
    paid_by: PaymentSeen | None = None
    kept = 0
    for payment in ordered:
        if payment.confirmations < confirmations_required:
            settled.append(SettledPayment(payment, Outcome.PENDING, 0, 0))
        elif payment.block_time > expires_at:
            settled.append(SettledPayment(payment, Outcome.REFUND_LATE, 0, payment.value_sat))
        elif paid_by is not None:
            settled.append(SettledPayment(payment, Outcome.REFUND_DUPLICATE, 0, payment.value_sat))
        else:
            received += payment.value_sat
            if received < fee_sat - tolerance_sat:
                settled.append(SettledPayment(payment, Outcome.PARTIAL, payment.value_sat, 0))
                continue
            paid_by = payment
            excess = received - fee_sat
            if excess > tolerance_sat:
                part = payment.value_sat - excess
                settled.append(SettledPayment(payment, Outcome.OVERPAID, part, excess))
                kept = fee_sat
            else:
                settled.append(SettledPayment(payment, Outcome.ACCEPTED, payment.value_sat, 0))
                kept = received
    if paid_by is not None:
        return Settlement(InvoiceState.PAID, tuple(settled), received, kept, 0, paid_by)
    shortfall = fee_sat - received
    if now <= expires_at:
        return Settlement(
            InvoiceState.AWAITING_PAYMENT, tuple(settled), received, 0, shortfall, None
        )
    refunded = tuple(
        SettledPayment(s.payment, Outcome.REFUND_EXPIRED, 0, s.payment.value_sat)
        if s.outcome is Outcome.PARTIAL
        else s
        for s in settled
    )
    return Settlement(InvoiceState.EXPIRED, refunded, received, 0, shortfall, None)
