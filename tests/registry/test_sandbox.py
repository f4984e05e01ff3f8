"""Sandbox cohorts: caps, breaches, exit decisions."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from hashnation.errors import InputError
from hashnation.registry.sandbox import (
    Cohort,
    ExitDecision,
    SandboxUsage,
    cap_breaches,
    cohort,
    decide_exit,
    usage,
)

OPENS = date(2025, 9, 1)


@pytest.fixture
def group() -> Cohort:
    return cohort(
        "2025-A",
        "Stablecoin payments",
        OPENS,
        max_customers=500,
        max_volume_usd=Decimal("250000"),
        max_duration_days=180,
    )


def test_closes_on(group: Cohort) -> None:
    assert group.closes_on == date(2026, 2, 28)  # Sep..Jan are 153 days, then 27 more
    assert (group.closes_on - group.opens_on).days == 180


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("code", {"code": "bad code"}),
        ("name", {"name": "  "}),
        ("max_customers", {"max_customers": 0}),
        ("max_customers", {"max_customers": True}),
        ("max_volume_usd", {"max_volume_usd": Decimal("0")}),
        ("max_volume_usd", {"max_volume_usd": Decimal("-5")}),
        ("max_duration_days", {"max_duration_days": 1.5}),
    ],
)
def test_cohort_validation(field: str, kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {
        "code": "C1",
        "name": "n",
        "opens_on": OPENS,
        "max_customers": 1,
        "max_volume_usd": Decimal(1),
        "max_duration_days": 1,
    }
    args.update(kwargs)
    with pytest.raises(InputError) as info:
        cohort(**args)  # type: ignore[arg-type]
    assert info.value.field == field


def test_within_caps(group: Cohort) -> None:
    at_caps = SandboxUsage(group.closes_on, 500, Decimal("250000"))
    assert cap_breaches(group, at_caps) == []


def test_each_breach(group: Cohort) -> None:
    over = SandboxUsage(group.closes_on + timedelta(days=3), 501, Decimal("250000.01"))
    breaches = cap_breaches(group, over)
    assert [b.code for b in breaches] == ["sandbox_customers", "sandbox_volume", "sandbox_expired"]
    assert all(b.severity == "major" for b in breaches)
    assert "501" in breaches[0].detail and "500" in breaches[0].detail
    assert "250000.01" in breaches[1].detail
    assert "3 days" in breaches[2].detail
    # An extension moves the last day.
    extended = cap_breaches(group, over, closes_on=group.closes_on + timedelta(days=30))
    assert [b.code for b in extended] == ["sandbox_customers", "sandbox_volume"]


def test_usage_validation() -> None:
    assert usage(OPENS, 0, Decimal(0)).customers == 0
    with pytest.raises(InputError, match=r"^customers: "):
        usage(OPENS, -1, Decimal(0))
    with pytest.raises(InputError, match=r"^volume_usd: "):
        usage(OPENS, 1, Decimal(-1))


def test_exit_decisions(group: Cohort) -> None:
    fine = SandboxUsage(OPENS + timedelta(days=100), 10, Decimal(1000))
    done = decide_exit(group, fine, "graduate", decided_on=group.closes_on, reason=" ready ")
    assert (done.decision, done.reason, done.new_closes_on) == (
        ExitDecision.GRADUATE,
        "ready",
        None,
    )
    more = decide_exit(
        group, fine, ExitDecision.EXTEND, decided_on=OPENS, reason="more data", extend_days=180
    )
    assert more.new_closes_on == group.closes_on + timedelta(days=180)
    again = decide_exit(
        group,
        fine,
        "extend",
        decided_on=OPENS,
        reason="r",
        extend_days=1,
        closes_on=more.new_closes_on,
    )
    assert again.new_closes_on == group.closes_on + timedelta(days=181)
    out = decide_exit(group, fine, "exit", decided_on=OPENS, reason="business model failed")
    assert out.decision is ExitDecision.EXIT


def test_exit_refusals(group: Cohort) -> None:
    over = SandboxUsage(OPENS, 900, Decimal(1))
    with pytest.raises(InputError, match=r"^decision: got 'graduate', .*sandbox_customers"):
        decide_exit(group, over, "graduate", decided_on=OPENS, reason="r")
    decide_exit(group, over, "exit", decided_on=OPENS, reason="over the cap")  # still allowed
    for days in (None, 0, 181, -3):
        with pytest.raises(InputError, match=r"^extend_days: .*1..180"):
            decide_exit(group, over, "extend", decided_on=OPENS, reason="r", extend_days=days)
    with pytest.raises(InputError, match=r"^extend_days: "):
        decide_exit(group, over, "exit", decided_on=OPENS, reason="r", extend_days=5)
    with pytest.raises(InputError, match=r"^reason: "):
        decide_exit(group, over, "exit", decided_on=OPENS, reason=" ")
    with pytest.raises(InputError, match=r"^decision: got 'pause'"):
        decide_exit(group, over, "pause", decided_on=OPENS, reason="r")
