"""The application and licence state machine.

An application moves from ``draft`` to a licence (``licensed``) or to one of
the ends (refused and upheld, withdrawn); a licence can be suspended,
reinstated, revoked (and the revocation appealed) or surrendered. Every legal
move is one entry of :data:`TRANSITIONS`, keyed by (status, action)::

    draft --submit--> submitted --begin_review--> under_review --approve--> approved
        --grant_licence--> licensed --suspend--> suspended --reinstate--> licensed

Firms take the actions in :data:`FIRM_ACTIONS`; the regulator's staff take
the others (:data:`STAFF_ACTIONS`). :func:`decide` checks one action and
records it as a :class:`Decision` (who, when, why, on which conditions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType

from hashnation.errors import InputError, TransitionError

__all__ = [
    "AUTHORISED",
    "FIRM_ACTIONS",
    "PUBLIC",
    "REASON_REQUIRED",
    "STAFF_ACTIONS",
    "TERMINAL",
    "TRANSITIONS",
    "Action",
    "Decision",
    "Status",
    "allowed_actions",
    "decide",
    "next_status",
    "parse_action",
    "parse_status",
]


class Status(StrEnum):
    """Where an application or licence stands."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    INFORMATION_REQUESTED = "information_requested"
    APPROVED = "approved"
    REFUSED = "refused"
    REFUSAL_APPEALED = "refusal_appealed"
    REFUSAL_UPHELD = "refusal_upheld"
    LICENSED = "licensed"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    REVOCATION_APPEALED = "revocation_appealed"
    REVOCATION_UPHELD = "revocation_upheld"
    SURRENDERED = "surrendered"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    """What a firm or the regulator's staff can do to an application or licence."""

    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    BEGIN_REVIEW = "begin_review"
    REQUEST_INFORMATION = "request_information"
    PROVIDE_INFORMATION = "provide_information"
    APPROVE = "approve"
    REFUSE = "refuse"
    GRANT_LICENCE = "grant_licence"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    REVOKE = "revoke"
    SURRENDER = "surrender"
    APPEAL = "appeal"
    ALLOW_APPEAL = "allow_appeal"
    DISMISS_APPEAL = "dismiss_appeal"


S, A = Status, Action

TRANSITIONS: Mapping[tuple[Status, Action], Status] = MappingProxyType(
    {
        (S.DRAFT, A.SUBMIT): S.SUBMITTED,
        (S.DRAFT, A.WITHDRAW): S.WITHDRAWN,
        (S.SUBMITTED, A.BEGIN_REVIEW): S.UNDER_REVIEW,
        (S.SUBMITTED, A.WITHDRAW): S.WITHDRAWN,
        (S.UNDER_REVIEW, A.REQUEST_INFORMATION): S.INFORMATION_REQUESTED,
        (S.INFORMATION_REQUESTED, A.PROVIDE_INFORMATION): S.UNDER_REVIEW,
        (S.INFORMATION_REQUESTED, A.WITHDRAW): S.WITHDRAWN,
        (S.UNDER_REVIEW, A.APPROVE): S.APPROVED,
        (S.UNDER_REVIEW, A.REFUSE): S.REFUSED,
        (S.UNDER_REVIEW, A.WITHDRAW): S.WITHDRAWN,
        (S.APPROVED, A.GRANT_LICENCE): S.LICENSED,
        (S.APPROVED, A.WITHDRAW): S.WITHDRAWN,
        (S.REFUSED, A.APPEAL): S.REFUSAL_APPEALED,
        (S.REFUSAL_APPEALED, A.ALLOW_APPEAL): S.UNDER_REVIEW,
        (S.REFUSAL_APPEALED, A.DISMISS_APPEAL): S.REFUSAL_UPHELD,
        (S.LICENSED, A.SUSPEND): S.SUSPENDED,
        (S.SUSPENDED, A.REINSTATE): S.LICENSED,
        (S.LICENSED, A.REVOKE): S.REVOKED,
        (S.SUSPENDED, A.REVOKE): S.REVOKED,
        (S.LICENSED, A.SURRENDER): S.SURRENDERED,
        (S.SUSPENDED, A.SURRENDER): S.SURRENDERED,
        (S.REVOKED, A.APPEAL): S.REVOCATION_APPEALED,
        (S.REVOCATION_APPEALED, A.ALLOW_APPEAL): S.LICENSED,
        (S.REVOCATION_APPEALED, A.DISMISS_APPEAL): S.REVOCATION_UPHELD,
    }
)
"""Every legal move: (status, action) -> the status it leads to."""

FIRM_ACTIONS: frozenset[Action] = frozenset(
    {A.SUBMIT, A.WITHDRAW, A.PROVIDE_INFORMATION, A.APPEAL, A.SURRENDER}
)
"""Actions the applicant or licensee takes."""

STAFF_ACTIONS: frozenset[Action] = frozenset(set(Action) - FIRM_ACTIONS)
"""Actions the regulator's staff take."""

REASON_REQUIRED: frozenset[Action] = frozenset(
    {
        A.REQUEST_INFORMATION,
        A.REFUSE,
        A.SUSPEND,
        A.REVOKE,
        A.DISMISS_APPEAL,
        A.ALLOW_APPEAL,
        A.REINSTATE,
    }
)
"""Actions that must state a reason."""

TERMINAL: frozenset[Status] = frozenset(
    {S.REFUSAL_UPHELD, S.REVOCATION_UPHELD, S.SURRENDERED, S.WITHDRAWN}
)
"""Statuses no action leaves."""

AUTHORISED: frozenset[Status] = frozenset({S.LICENSED, S.SUSPENDED})
"""Statuses of a firm that holds a licence (and files returns)."""

PUBLIC: frozenset[Status] = frozenset(
    {
        S.LICENSED,
        S.SUSPENDED,
        S.REVOKED,
        S.REVOCATION_APPEALED,
        S.REVOCATION_UPHELD,
        S.SURRENDERED,
    }
)
"""Statuses that appear on the public register."""

del S, A


def parse_status(value: str) -> Status:
    """Read a status from its value.

    Parameters
    ----------
    value
        A status value (``under_review``); surrounding spaces and case are ignored.

    Returns
    -------
    Status
        The status.

    Raises
    ------
    InputError
        If ``value`` names no status (field ``status``).
    """
    try:
        return Status(value.strip().lower() if isinstance(value, str) else value)
    except ValueError:
        raise InputError("status", value, "one of " + ", ".join(Status)) from None


def parse_action(value: str) -> Action:
    """Read an action from its value.

    Parameters
    ----------
    value
        An action value (``begin_review``); surrounding spaces and case are ignored.

    Returns
    -------
    Action
        The action.

    Raises
    ------
    InputError
        If ``value`` names no action (field ``action``).
    """
    try:
        return Action(value.strip().lower() if isinstance(value, str) else value)
    except ValueError:
        raise InputError("action", value, "one of " + ", ".join(Action)) from None


def allowed_actions(status: Status | str) -> list[Action]:
    """Actions allowed in a status.

    Parameters
    ----------
    status
        The current status.

    Returns
    -------
    list of Action
        In :class:`Action` order; empty for a terminal status.
    """
    current = parse_status(status)
    return [action for action in Action if (current, action) in TRANSITIONS]


def next_status(status: Status | str, action: Action | str) -> Status:
    """Give the status an action leads to.

    Parameters
    ----------
    status
        The current status.
    action
        The action taken.

    Returns
    -------
    Status
        The new status.

    Raises
    ------
    InputError
        If ``status`` or ``action`` is not a known value.
    TransitionError
        If the action is not allowed in that status; the message lists those that are.
    """
    current, act = parse_status(status), parse_action(action)
    target = TRANSITIONS.get((current, act))
    if target is None:
        allowed = ", ".join(allowed_actions(current)) or "none"
        raise TransitionError(
            f"action {act.value!r} is not allowed on an application in status "
            f"{current.value!r}; allowed: {allowed}"
        )
    return target


@dataclass(frozen=True)
class Decision:
    """One action taken on an application or licence.

    Parameters
    ----------
    action
        The action.
    from_status
        Status before it.
    to_status
        Status after it.
    reason
        Why, in words (empty when the action needs none).
    conditions
        Conditions attached to an approval, one sentence each.
    actor
        Who took it (a user or firm name).
    decided_at
        When (tz-aware).
    """

    action: Action
    from_status: Status
    to_status: Status
    reason: str
    conditions: tuple[str, ...]
    actor: str
    decided_at: datetime


def decide(
    status: Status | str,
    action: Action | str,
    *,
    actor: str,
    decided_at: datetime,
    reason: str = "",
    conditions: Sequence[str] = (),
) -> Decision:
    """Check an action against the state machine and record it.

    Parameters
    ----------
    status
        The current status.
    action
        The action taken.
    actor
        Who takes it (non-empty).
    decided_at
        When (tz-aware).
    reason
        Why; required for the actions in :data:`REASON_REQUIRED`.
    conditions
        Conditions of an approval (``approve`` only); blank entries are dropped.

    Returns
    -------
    Decision
        The decision, texts stripped of surrounding spaces, ``decided_at`` in UTC.

    Raises
    ------
    TransitionError
        If the action is not allowed in ``status``.
    InputError
        Field ``reason`` (missing where required), ``conditions`` (given with
        another action than ``approve``), ``actor`` (empty) or ``decided_at``
        (naive).
    """
    current, act = parse_status(status), parse_action(action)
    target = next_status(current, act)
    if isinstance(conditions, str):
        raise InputError("conditions", conditions, "a list of conditions, not one string")
    kept = tuple(c.strip() for c in conditions if c.strip())
    text = reason.strip()
    who = actor.strip()
    if not who:
        raise InputError("actor", actor, "the name of who takes the action")
    if decided_at.tzinfo is None or decided_at.utcoffset() is None:
        raise InputError("decided_at", decided_at.isoformat(), "a tz-aware time (UTC)")
    if act in REASON_REQUIRED and not text:
        raise InputError("reason", reason, f"a reason (required to {act.value})")
    if kept and act is not Action.APPROVE:
        raise InputError("conditions", list(kept), f"no conditions with {act.value} (approve only)")
    return Decision(
        action=act,
        from_status=current,
        to_status=target,
        reason=text,
        conditions=kept,
        actor=who,
        decided_at=decided_at.astimezone(UTC),
    )
