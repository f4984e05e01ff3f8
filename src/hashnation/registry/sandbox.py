"""Regulatory sandboxes: cohorts, caps, usage and exit decisions.

A sandbox cohort admits firms to operate for a limited time under caps on
their customers and volume. :func:`cap_breaches` compares a participant's
reported usage with the caps and the cohort's end; :func:`decide_exit`
records whether it graduates (only with no breach), is extended or exits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final

from hashnation.errors import InputError
from hashnation.registry.breaches import Breach

__all__ = [
    "Cohort",
    "ExitDecision",
    "SandboxCaps",
    "SandboxExit",
    "SandboxUsage",
    "cap_breaches",
    "cohort",
    "decide_exit",
    "usage",
]


@dataclass(frozen=True)
class SandboxCaps:
    """Limits a sandbox participant operates under.

    Parameters
    ----------
    max_customers
        Customers at most [customers].
    max_volume_usd
        Cumulative transaction volume at most [USD].
    max_duration_days
        Days a participant may operate from the cohort's opening [days].
    """

    max_customers: int
    max_volume_usd: Decimal
    max_duration_days: int


@dataclass(frozen=True)
class Cohort:
    """A sandbox cohort.

    Parameters
    ----------
    code
        Short identifier (``2025-A``).
    name
        Name in words.
    opens_on
        First day participants may operate.
    caps
        The caps every participant operates under.
    """

    code: str
    name: str
    opens_on: date
    caps: SandboxCaps

    @property
    def closes_on(self) -> date:
        """Last day of the cohort: ``opens_on + max_duration_days``."""
        return self.opens_on + timedelta(days=self.caps.max_duration_days)


MAX_COUNT: Final = 2**31 - 1
"""Largest count a cap or a usage report holds (an INTEGER column)."""

MAX_DURATION_DAYS: Final = 36_525
"""Longest testing period or extension [days] (a hundred years)."""

MAX_USD: Final = Decimal("999999999999999999.99")
"""Largest amount stored (a ``NUMERIC(20, 2)`` column) [USD]."""


def _positive_int(field: str, value: object, maximum: int = MAX_COUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(field, value, "an integer >= 1")
    if value > maximum:
        raise InputError(field, value, f"an integer from 1 to {maximum}")
    return value


def _amount_usd(field: str, value: object, *, positive: bool) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise InputError(field, value, "a Decimal amount [USD]")
    try:
        amount = Decimal(value)
    except ArithmeticError:
        raise InputError(field, value, "a Decimal amount [USD]") from None
    if not amount.is_finite() or amount < 0 or (positive and amount == 0):
        raise InputError(
            field, value, "an amount > 0 [USD]" if positive else "an amount >= 0 [USD]"
        )
    if amount > MAX_USD:
        raise InputError(field, value, f"an amount up to {MAX_USD} [USD]")
    return amount


def cohort(
    code: str,
    name: str,
    opens_on: date,
    *,
    max_customers: int,
    max_volume_usd: Decimal,
    max_duration_days: int,
) -> Cohort:
    """Build a validated cohort.

    Parameters
    ----------
    code
        Short identifier: letters, digits, ``-`` and ``_``.
    name
        Name in words (non-empty).
    opens_on
        Opening day.
    max_customers
        Customers at most per participant, >= 1 [customers].
    max_volume_usd
        Volume at most per participant, > 0 [USD].
    max_duration_days
        Duration, >= 1 [days].

    Returns
    -------
    Cohort
        The cohort.

    Raises
    ------
    InputError
        Naming the first field that is wrong.
    """
    code = code.strip()
    if not code or not all(c.isascii() and (c.isalnum() or c in "-_") for c in code):
        raise InputError("code", code, "letters, digits, '-' or '_' (non-empty)")
    if not name.strip():
        raise InputError("name", name, "a non-empty name")
    if not isinstance(opens_on, date):
        raise InputError("opens_on", opens_on, "a date")
    caps = SandboxCaps(
        max_customers=_positive_int("max_customers", max_customers),
        max_volume_usd=_amount_usd("max_volume_usd", max_volume_usd, positive=True),
        max_duration_days=_positive_int("max_duration_days", max_duration_days, MAX_DURATION_DAYS),
    )
    made = Cohort(code=code, name=name.strip(), opens_on=opens_on, caps=caps)
    _last_day("opens_on", opens_on, caps.max_duration_days)
    return made


def _last_day(field: str, start: date, days: int) -> date:
    """``start + days``, or an error naming ``field`` when it passes the calendar's end."""
    try:
        return start + timedelta(days=days)
    except OverflowError:
        raise InputError(field, start.isoformat(), f"a day {days} days before 9999-12-31") from None


@dataclass(frozen=True)
class SandboxUsage:
    """A participant's reported usage on a day.

    Parameters
    ----------
    as_of
        The day the figures are for.
    customers
        Customers served so far [customers].
    volume_usd
        Cumulative volume so far [USD].
    """

    as_of: date
    customers: int
    volume_usd: Decimal


def usage(as_of: date, customers: int, volume_usd: Decimal) -> SandboxUsage:
    """Build a validated usage report.

    Parameters
    ----------
    as_of
        The day the figures are for.
    customers
        Customers served, >= 0 [customers].
    volume_usd
        Cumulative volume, >= 0 [USD].

    Returns
    -------
    SandboxUsage
        The usage.

    Raises
    ------
    InputError
        Field ``customers`` or ``volume_usd`` when negative or of the wrong type.
    """
    if isinstance(customers, bool) or not isinstance(customers, int) or customers < 0:
        raise InputError("customers", customers, "an integer >= 0")
    if customers > MAX_COUNT:
        raise InputError("customers", customers, f"an integer from 0 to {MAX_COUNT}")
    return SandboxUsage(as_of, customers, _amount_usd("volume_usd", volume_usd, positive=False))


class ExitDecision(StrEnum):
    """How a participant leaves (or stays in) the sandbox."""

    GRADUATE = "graduate"
    EXTEND = "extend"
    EXIT = "exit"


@dataclass(frozen=True)
class SandboxExit:
    """The regulator's decision at the end of a participant's sandbox period.

    Parameters
    ----------
    decision
        Graduate (go on to a full licence), extend, or exit.
    decided_on
        Day of the decision.
    reason
        Why, in words.
    new_closes_on
        The participant's new last day (``extend`` only).
    """

    decision: ExitDecision
    decided_on: date
    reason: str
    new_closes_on: date | None


def cap_breaches(
    cohort: Cohort, usage: SandboxUsage, *, closes_on: date | None = None
) -> list[Breach]:
    """Caps a participant's usage exceeds.

    Parameters
    ----------
    cohort
        The participant's cohort.
    usage
        Its reported usage.
    closes_on
        The participant's own last day (after an extension); the cohort's by default.

    Returns
    -------
    list of Breach
        ``sandbox_customers`` and ``sandbox_volume`` (major) when over a cap,
        ``sandbox_expired`` (major) when the usage is dated after the last day.
    """
    caps = cohort.caps
    last_day = closes_on if closes_on is not None else cohort.closes_on
    found: list[Breach] = []
    if usage.customers > caps.max_customers:
        found.append(
            Breach(
                "sandbox_customers",
                "customers",
                f"{usage.customers} customers, over the cap of {caps.max_customers}",
                "major",
            )
        )
    if usage.volume_usd > caps.max_volume_usd:
        found.append(
            Breach(
                "sandbox_volume",
                "volume_usd",
                f"volume {usage.volume_usd} USD, over the cap of {caps.max_volume_usd} USD",
                "major",
            )
        )
    if usage.as_of > last_day:
        days = (usage.as_of - last_day).days
        found.append(
            Breach(
                "sandbox_expired",
                "as_of",
                f"still operating on {usage.as_of.isoformat()}, {days} days after "
                f"the sandbox closed on {last_day.isoformat()}",
                "major",
            )
        )
    return found


def decide_exit(
    cohort: Cohort,
    usage: SandboxUsage,
    decision: ExitDecision | str,
    *,
    decided_on: date,
    reason: str,
    extend_days: int | None = None,
    closes_on: date | None = None,
) -> SandboxExit:
    """Decide how a participant leaves the sandbox.

    Parameters
    ----------
    cohort
        The participant's cohort.
    usage
        Its latest usage.
    decision
        ``graduate``, ``extend`` or ``exit``.
    decided_on
        Day of the decision.
    reason
        Why (required).
    extend_days
        For ``extend``: extra days, ``0 < extend_days <= max_duration_days`` [days].
    closes_on
        The participant's current last day; the cohort's by default.

    Returns
    -------
    SandboxExit
        The decision; ``new_closes_on`` is ``closes_on + extend_days`` for ``extend``.

    Raises
    ------
    InputError
        Field ``decision`` (unknown, or ``graduate`` while caps are breached),
        ``reason`` (empty) or ``extend_days`` (missing, out of range, or given
        without ``extend``).
    """
    try:
        chosen = ExitDecision(decision)
    except ValueError:
        raise InputError("decision", decision, "one of graduate, extend, exit") from None
    text = reason.strip()
    if not text:
        raise InputError("reason", reason, "a reason for the decision")
    last_day = closes_on if closes_on is not None else cohort.closes_on
    new_closes_on: date | None = None
    if chosen is ExitDecision.EXTEND:
        limit = cohort.caps.max_duration_days
        if (
            extend_days is None
            or isinstance(extend_days, bool)
            or not isinstance(extend_days, int)
            or not 0 < extend_days <= limit
        ):
            raise InputError("extend_days", extend_days, f"an integer in 1..{limit} [days]")
        new_closes_on = _last_day("extend_days", last_day, extend_days)
    elif extend_days is not None:
        raise InputError("extend_days", extend_days, f"none with {chosen.value} (extend only)")
    if chosen is ExitDecision.GRADUATE:
        breaches = cap_breaches(cohort, usage, closes_on=last_day)
        if breaches:
            codes = ", ".join(b.code for b in breaches)
            raise InputError(
                "decision", chosen.value, f"no cap breached to graduate (breached: {codes})"
            )
    return SandboxExit(chosen, decided_on, text, new_closes_on)
