"""Enforcement actions the regulator takes against a licensee.

A warning or a fine leaves the licence as it is; a suspension or revocation
also moves it through the state machine (:func:`licence_action` gives the
:class:`~hashnation.registry.workflow.Action` to take). Each action may cite
the codes of the breaches it answers (see :mod:`hashnation.registry.breaches`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from hashnation.errors import InputError
from hashnation.registry.workflow import Action

__all__ = ["EnforcementAction", "EnforcementKind", "enforcement_action", "licence_action"]


class EnforcementKind(StrEnum):
    """Kinds of enforcement action."""

    WARNING = "warning"
    FINE = "fine"
    SUSPENSION = "suspension"
    REVOCATION = "revocation"


@dataclass(frozen=True)
class EnforcementAction:
    """One enforcement action.

    Parameters
    ----------
    kind
        Warning, fine, suspension or revocation.
    reason
        Why, in words.
    decided_on
        Day of the decision.
    fine_usd
        The fine (``fine`` only) [USD].
    breach_codes
        Codes of the breaches it answers, each once, in the order given.
    """

    kind: EnforcementKind
    reason: str
    decided_on: date
    fine_usd: Decimal | None
    breach_codes: tuple[str, ...]


def _kind(value: EnforcementKind | str) -> EnforcementKind:
    try:
        return EnforcementKind(value)
    except ValueError:
        choices = ", ".join(k.value for k in EnforcementKind)
        raise InputError("kind", value, f"one of {choices}") from None


def enforcement_action(
    kind: EnforcementKind | str,
    *,
    reason: str,
    decided_on: date,
    fine_usd: Decimal | None = None,
    breach_codes: Sequence[str] = (),
) -> EnforcementAction:
    """Build a validated enforcement action.

    Parameters
    ----------
    kind
        ``warning``, ``fine``, ``suspension`` or ``revocation``.
    reason
        Why (non-empty).
    decided_on
        Day of the decision.
    fine_usd
        The fine, > 0, for ``fine`` only [USD].
    breach_codes
        Codes of the breaches it answers.

    Returns
    -------
    EnforcementAction
        The action, texts stripped of surrounding spaces.

    Raises
    ------
    InputError
        Field ``kind`` (unknown), ``reason`` (empty), ``fine_usd`` (missing or
        not > 0 for a fine; given for another kind) or ``breach_codes`` (blank code).
    """
    chosen = _kind(kind)
    text = reason.strip()
    if not text:
        raise InputError("reason", reason, "a reason for the action")
    if chosen is EnforcementKind.FINE:
        if not isinstance(fine_usd, Decimal) or not fine_usd.is_finite() or fine_usd <= 0:
            raise InputError("fine_usd", fine_usd, "a Decimal amount > 0 [USD] for a fine")
    elif fine_usd is not None:
        raise InputError("fine_usd", fine_usd, f"no fine with a {chosen.value} (fine only)")
    if isinstance(breach_codes, str):
        raise InputError("breach_codes", breach_codes, "a list of breach codes, not one string")
    codes: list[str] = []
    for code in breach_codes:
        if not code.strip():
            raise InputError("breach_codes", list(breach_codes), "non-empty breach codes")
        if code.strip() not in codes:
            codes.append(code.strip())
    return EnforcementAction(chosen, text, decided_on, fine_usd, tuple(codes))


def licence_action(kind: EnforcementKind | str) -> Action | None:
    """Give the state-machine action an enforcement action implies.

    Parameters
    ----------
    kind
        The enforcement kind.

    Returns
    -------
    Action or None
        ``suspend`` for a suspension, ``revoke`` for a revocation, else None.

    Raises
    ------
    InputError
        If ``kind`` is not an enforcement kind.
    """
    chosen = _kind(kind)
    if chosen is EnforcementKind.SUSPENSION:
        return Action.SUSPEND
    if chosen is EnforcementKind.REVOCATION:
        return Action.REVOKE
    return None
