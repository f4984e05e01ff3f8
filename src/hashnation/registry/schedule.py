"""The filing calendar: which returns a licensee owes, and which are late.

Licensees file one return per calendar month or quarter (their licence type's
``return_frequency``), due ``filing_days`` after the period ends. The first
period is the one containing the licence date, so a licence granted on
15 March owes a return for March (monthly) or for January to March (quarterly).
A return filed on its due day is on time; as of a day after it, an unfiled
return is ``late`` (a ``missing_return`` breach) and one filed after its due
day is ``filed_late`` (a ``late_return`` breach).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from hashnation.errors import InputError
from hashnation.registry.breaches import Breach
from hashnation.registry.licences import LicenceSpec

__all__ = [
    "FilingState",
    "due_on",
    "filing_breaches",
    "filing_calendar",
    "period_containing",
    "reporting_periods",
]

Frequency = Literal["monthly", "quarterly"]


def _month_end(year: int, month: int) -> date:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return following - timedelta(days=1)


def period_containing(frequency: Frequency, day: date) -> tuple[date, date]:
    """Find the calendar month or quarter containing a day.

    Parameters
    ----------
    frequency
        ``monthly`` or ``quarterly``.
    day
        The day.

    Returns
    -------
    tuple of (date, date)
        First and last day of the period.

    Raises
    ------
    InputError
        If ``frequency`` is neither ``monthly`` nor ``quarterly``.
    """
    if frequency == "monthly":
        first_month = day.month
        months = 1
    elif frequency == "quarterly":
        first_month = 3 * ((day.month - 1) // 3) + 1
        months = 3
    else:
        raise InputError("frequency", frequency, "monthly or quarterly")
    return date(day.year, first_month, 1), _month_end(day.year, first_month + months - 1)


def reporting_periods(frequency: Frequency, start: date, until: date) -> list[tuple[date, date]]:
    """List the reporting periods from the one containing ``start`` ended by ``until``.

    Parameters
    ----------
    frequency
        ``monthly`` or ``quarterly``.
    start
        A day in the first period (the licence date).
    until
        Last day considered: periods ending after it are left out.

    Returns
    -------
    list of tuple of (date, date)
        (first day, last day) of each period, in order; empty when none has ended.

    Raises
    ------
    InputError
        If ``frequency`` is neither ``monthly`` nor ``quarterly``.
    """
    periods: list[tuple[date, date]] = []
    first, last = period_containing(frequency, start)
    while last <= until:
        periods.append((first, last))
        first, last = period_containing(frequency, last + timedelta(days=1))
    return periods


def due_on(period_end: date, spec: LicenceSpec) -> date:
    """Day a period's return is due.

    Parameters
    ----------
    period_end
        Last day of the period.
    spec
        The licence's spec (its ``filing_days``).

    Returns
    -------
    date
        ``period_end + filing_days``; a return filed on that day is on time.
    """
    return period_end + timedelta(days=spec.filing_days)


@dataclass(frozen=True)
class FilingState:
    """Where one period's return stands.

    Parameters
    ----------
    period_start
        First day of the period.
    period_end
        Last day of the period.
    due_on
        Day the return is due.
    filed_on
        Day it was filed (None if not filed by the calendar's ``as_of``).
    state
        ``filed`` (on time), ``filed_late``, ``late`` (due and not filed) or
        ``not_due`` (not filed, still within the deadline).
    """

    period_start: date
    period_end: date
    due_on: date
    filed_on: date | None
    state: Literal["filed", "filed_late", "late", "not_due"]


def filing_calendar(
    spec: LicenceSpec,
    licensed_on: date,
    filed: Mapping[tuple[date, date], date],
    as_of: date,
) -> list[FilingState]:
    """Every return a licensee owed by a day, and its state.

    Parameters
    ----------
    spec
        The licence's spec (frequency and filing days).
    licensed_on
        Day the licence was granted.
    filed
        Day each return was first filed, keyed by (period_start, period_end);
        filings after ``as_of`` are not counted.
    as_of
        The day the calendar is drawn up.

    Returns
    -------
    list of FilingState
        One per period ended by ``as_of``, in order.
    """
    calendar: list[FilingState] = []
    for start, end in reporting_periods(spec.return_frequency, licensed_on, as_of):
        due = due_on(end, spec)
        filed_on = filed.get((start, end))
        if filed_on is not None and filed_on > as_of:
            filed_on = None
        state: Literal["filed", "filed_late", "late", "not_due"]
        if filed_on is not None:
            state = "filed" if filed_on <= due else "filed_late"
        else:
            state = "late" if as_of > due else "not_due"
        calendar.append(FilingState(start, end, due, filed_on, state))
    return calendar


def filing_breaches(calendar: Sequence[FilingState]) -> list[Breach]:
    """Breaches in a filing calendar.

    Parameters
    ----------
    calendar
        States from :func:`filing_calendar`.

    Returns
    -------
    list of Breach
        ``missing_return`` (major) for each ``late`` period and ``late_return``
        (minor) for each ``filed_late`` one, in calendar order.
    """
    found: list[Breach] = []
    for item in calendar:
        period = f"{item.period_start.isoformat()} to {item.period_end.isoformat()}"
        if item.state == "late":
            found.append(
                Breach(
                    "missing_return",
                    "filed_on",
                    f"return for {period} was due on {item.due_on.isoformat()} and is not filed",
                    "major",
                )
            )
        elif item.state == "filed_late" and item.filed_on is not None:
            days = (item.filed_on - item.due_on).days
            found.append(
                Breach(
                    "late_return",
                    "filed_on",
                    f"return for {period} was filed on {item.filed_on.isoformat()}, "
                    f"{days} days after it was due on {item.due_on.isoformat()}",
                    "minor",
                )
            )
    return found
