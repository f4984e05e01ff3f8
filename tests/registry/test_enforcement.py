"""Enforcement actions and the licence actions they imply."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from hashnation.errors import InputError
from hashnation.registry.enforcement import (
    EnforcementKind,
    enforcement_action,
    licence_action,
)
from hashnation.registry.workflow import Action, Status, next_status

DAY = date(2025, 8, 1)


def test_fine() -> None:
    action = enforcement_action(
        "fine",
        reason=" late returns ",
        decided_on=DAY,
        fine_usd=Decimal("25000.00"),
        breach_codes=["late_return", " missing_return", "late_return"],
    )
    assert action.kind is EnforcementKind.FINE and action.reason == "late returns"
    assert action.fine_usd == Decimal("25000.00")
    assert action.breach_codes == ("late_return", "missing_return")


@pytest.mark.parametrize("fine", [None, Decimal(0), Decimal("-1"), Decimal("Infinity"), 100])
def test_fine_needs_a_positive_amount(fine: object) -> None:
    with pytest.raises(InputError, match=r"^fine_usd: .*> 0"):
        enforcement_action("fine", reason="r", decided_on=DAY, fine_usd=fine)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["warning", "suspension", "revocation"])
def test_other_kinds_carry_no_fine(kind: str) -> None:
    assert enforcement_action(kind, reason="r", decided_on=DAY).fine_usd is None
    with pytest.raises(
        InputError, match=rf"^fine_usd: got Decimal\('10'\), expected no fine with a {kind}"
    ):
        enforcement_action(kind, reason="r", decided_on=DAY, fine_usd=Decimal(10))


def test_refusals() -> None:
    with pytest.raises(InputError, match=r"^reason: "):
        enforcement_action("warning", reason="  ", decided_on=DAY)
    with pytest.raises(InputError, match=r"^kind: got 'caution', expected one of warning, fine"):
        enforcement_action("caution", reason="r", decided_on=DAY)
    with pytest.raises(InputError, match=r"^breach_codes: "):
        enforcement_action("warning", reason="r", decided_on=DAY, breach_codes=["ok", " "])
    with pytest.raises(InputError, match=r"^breach_codes: "):
        enforcement_action("warning", reason="r", decided_on=DAY, breach_codes="late_return")
    with pytest.raises(InputError, match=r"^kind: "):
        licence_action("caution")


def test_licence_actions() -> None:
    assert {k: licence_action(k) for k in EnforcementKind} == {
        EnforcementKind.WARNING: None,
        EnforcementKind.FINE: None,
        EnforcementKind.SUSPENSION: Action.SUSPEND,
        EnforcementKind.REVOCATION: Action.REVOKE,
    }
    # Both are legal on a licence in force.
    assert next_status(Status.LICENSED, Action.SUSPEND) is Status.SUSPENDED
    assert next_status(Status.SUSPENDED, Action.REVOKE) is Status.REVOKED
