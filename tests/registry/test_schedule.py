"""The filing calendar: periods, due dates, filed, late and missing returns."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date
from typing import Literal

import pytest

from hashnation.errors import InputError
from hashnation.registry.licences import LicenceSpec, licence_spec
from hashnation.registry.schedule import (
    FilingState,
    due_on,
    filing_breaches,
    filing_calendar,
    reporting_periods,
)

D = date


def spec(frequency: Literal["monthly", "quarterly"], filing_days: int) -> LicenceSpec:
    return replace(licence_spec("exchange"), return_frequency=frequency, filing_days=filing_days)


def test_monthly_across_a_year_end() -> None:
    assert reporting_periods("monthly", D(2024, 11, 15), D(2025, 3, 10)) == [
        (D(2024, 11, 1), D(2024, 11, 30)),
        (D(2024, 12, 1), D(2024, 12, 31)),
        (D(2025, 1, 1), D(2025, 1, 31)),
        (D(2025, 2, 1), D(2025, 2, 28)),
    ]


def test_monthly_leap_february() -> None:
    assert reporting_periods("monthly", D(2024, 1, 20), D(2024, 3, 1)) == [
        (D(2024, 1, 1), D(2024, 1, 31)),
        (D(2024, 2, 1), D(2024, 2, 29)),
    ]
    # 2100 is not a leap year (divisible by 100, not by 400); 2000 was.
    assert reporting_periods("monthly", D(2100, 2, 1), D(2100, 2, 28))[-1][1] == D(2100, 2, 28)
    assert reporting_periods("monthly", D(2000, 2, 1), D(2000, 2, 28)) == []
    assert reporting_periods("monthly", D(2000, 2, 1), D(2000, 2, 29)) == [
        (D(2000, 2, 1), D(2000, 2, 29))
    ]


def test_quarterly_across_a_year_end() -> None:
    assert reporting_periods("quarterly", D(2024, 8, 10), D(2025, 7, 1)) == [
        (D(2024, 7, 1), D(2024, 9, 30)),
        (D(2024, 10, 1), D(2024, 12, 31)),
        (D(2025, 1, 1), D(2025, 3, 31)),
        (D(2025, 4, 1), D(2025, 6, 30)),
    ]


@pytest.mark.parametrize("frequency", ["monthly", "quarterly"])
def test_period_end_is_inclusive_and_periods_tile(frequency: str) -> None:
    periods = reporting_periods(frequency, D(2023, 12, 31), D(2026, 12, 31))  # type: ignore[arg-type]
    assert periods[0] == (
        (D(2023, 12, 1), D(2023, 12, 31))
        if frequency == "monthly"
        else (D(2023, 10, 1), D(2023, 12, 31))
    )
    assert periods[-1][1] == D(2026, 12, 31)
    for (_, end), (start, _) in itertools.pairwise(periods):
        assert (start - end).days == 1
    assert len(periods) == (37 if frequency == "monthly" else 13)
    assert reporting_periods(frequency, D(2024, 1, 1), D(2023, 1, 1)) == []  # type: ignore[arg-type]
    assert reporting_periods(frequency, D(2024, 1, 5), D(2024, 1, 30)) == []  # type: ignore[arg-type]


def test_unknown_frequency() -> None:
    with pytest.raises(
        InputError, match=r"^frequency: got 'weekly', expected monthly or quarterly"
    ):
        reporting_periods("weekly", D(2024, 1, 1), D(2024, 12, 31))  # type: ignore[arg-type]


def test_due_on() -> None:
    assert due_on(D(2025, 1, 31), spec("monthly", 15)) == D(2025, 2, 15)
    assert due_on(D(2024, 2, 29), spec("monthly", 30)) == D(2024, 3, 30)
    assert due_on(D(2024, 12, 31), spec("quarterly", 45)) == D(2025, 2, 14)


def test_calendar_states() -> None:
    monthly = spec("monthly", 15)
    filed = {
        (D(2024, 11, 1), D(2024, 11, 30)): D(2024, 12, 15),  # on the due day
        (D(2024, 12, 1), D(2024, 12, 31)): D(2025, 1, 20),  # five days late
        (D(2025, 2, 1), D(2025, 2, 28)): D(2025, 3, 12),  # after as_of: not known yet
        (D(2023, 1, 1), D(2023, 1, 31)): D(2023, 2, 1),  # before the licence: ignored
    }
    calendar = filing_calendar(monthly, D(2024, 11, 15), filed, as_of=D(2025, 3, 10))
    assert calendar == [
        FilingState(D(2024, 11, 1), D(2024, 11, 30), D(2024, 12, 15), D(2024, 12, 15), "filed"),
        FilingState(D(2024, 12, 1), D(2024, 12, 31), D(2025, 1, 15), D(2025, 1, 20), "filed_late"),
        FilingState(D(2025, 1, 1), D(2025, 1, 31), D(2025, 2, 15), None, "late"),
        FilingState(D(2025, 2, 1), D(2025, 2, 28), D(2025, 3, 15), None, "not_due"),
    ]
    breaches = filing_breaches(calendar)
    assert [(b.code, b.severity) for b in breaches] == [
        ("late_return", "minor"),
        ("missing_return", "major"),
    ]
    assert "2024-12-01 to 2024-12-31" in breaches[0].detail and "5 days" in breaches[0].detail
    assert "2025-02-15" in breaches[1].detail
    # On the due day itself the January return is not late yet; the day after it is.
    on_due = filing_calendar(monthly, D(2024, 11, 15), filed, as_of=D(2025, 2, 15))
    assert on_due[-1].period_end == D(2025, 1, 31) and on_due[-1].state == "not_due"
    after = filing_calendar(monthly, D(2024, 11, 15), filed, as_of=D(2025, 2, 16))
    assert after[-1].state == "late"


def test_quarterly_calendar_over_a_leap_year() -> None:
    quarterly = spec("quarterly", 30)
    filed = {(D(2024, 1, 1), D(2024, 3, 31)): D(2024, 4, 30)}
    calendar = filing_calendar(quarterly, D(2024, 2, 29), filed, as_of=D(2024, 8, 1))
    assert [(c.period_start, c.due_on, c.state) for c in calendar] == [
        (D(2024, 1, 1), D(2024, 4, 30), "filed"),
        (D(2024, 4, 1), D(2024, 7, 30), "late"),
    ]
    assert [b.code for b in filing_breaches(calendar)] == ["missing_return"]
    assert filing_calendar(quarterly, D(2024, 2, 29), {}, as_of=D(2024, 3, 30)) == []
