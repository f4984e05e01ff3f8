"""The application and licence state machine, checked over every (status, action) pair."""

from __future__ import annotations

import contextlib
import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from hashnation.errors import InputError, TransitionError
from hashnation.registry.workflow import (
    AUTHORISED,
    FIRM_ACTIONS,
    PUBLIC,
    REASON_REQUIRED,
    STAFF_ACTIONS,
    TERMINAL,
    TRANSITIONS,
    Action,
    Status,
    allowed_actions,
    decide,
    next_status,
    parse_action,
    parse_status,
)

S, A = Status, Action
NOW = datetime(2025, 7, 1, 9, 30, tzinfo=UTC)

# The legal moves, written out independently of TRANSITIONS (the interface contract).
EXPECTED = {
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


def test_transitions_match_the_contract() -> None:
    assert dict(TRANSITIONS) == EXPECTED


@pytest.mark.parametrize(("status", "action"), list(itertools.product(Status, Action)))
def test_every_status_action_pair(status: Status, action: Action) -> None:
    if (status, action) in EXPECTED:
        assert next_status(status, action) is EXPECTED[status, action]
        assert next_status(status.value, action.value) is EXPECTED[status, action]
        assert action in allowed_actions(status)
    else:
        with pytest.raises(TransitionError) as info:
            next_status(status, action)
        message = str(info.value)
        assert f"'{action.value}'" in message and f"'{status.value}'" in message
        legal = [a.value for a in Action if (status, a) in EXPECTED]
        assert message.endswith("allowed: " + (", ".join(legal) or "none"))
        assert "\n" not in message
        assert action not in allowed_actions(status)


@pytest.mark.parametrize(("source", "target"), list(itertools.product(Status, Status)))
def test_one_step_reachability(source: Status, target: Status) -> None:
    reachable = set()
    for action in Action:
        with contextlib.suppress(TransitionError):
            reachable.add(next_status(source, action))
    assert (target in reachable) == any(
        s is source and t is target for (s, _), t in EXPECTED.items()
    )


def test_message_of_the_contract_example() -> None:
    with pytest.raises(
        TransitionError,
        match=r"^action 'approve' is not allowed on an "
        r"application in status 'draft'; allowed: submit, withdraw$",
    ):
        next_status("draft", "approve")


def test_allowed_actions_in_action_order() -> None:
    order = list(Action)
    for status in Status:
        actions = allowed_actions(status)
        assert actions == sorted(actions, key=order.index)
        assert (actions == []) == (status in TERMINAL)


def test_every_status_reachable_from_draft() -> None:
    seen, frontier = {S.DRAFT}, [S.DRAFT]
    while frontier:
        status = frontier.pop()
        for action in allowed_actions(status):
            target = next_status(status, action)
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(Status)


def test_status_sets() -> None:
    assert set(Action) == FIRM_ACTIONS | STAFF_ACTIONS
    assert not FIRM_ACTIONS & STAFF_ACTIONS
    assert {A.SUBMIT, A.WITHDRAW, A.PROVIDE_INFORMATION, A.APPEAL, A.SURRENDER} == FIRM_ACTIONS
    assert AUTHORISED <= PUBLIC and not TERMINAL & AUTHORISED
    assert {S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.REFUSED}.isdisjoint(PUBLIC)
    assert {s.value for s in Status} == {s.name.lower() for s in Status}
    assert {a.value for a in Action} == {a.name.lower() for a in Action}


@pytest.mark.parametrize("parse", [parse_status, parse_action])
def test_parse_refuses_unknown(parse: object) -> None:
    assert parse_status(" Under_Review ") is S.UNDER_REVIEW
    assert parse_action("grant_licence") is A.GRANT_LICENCE
    with pytest.raises(InputError, match=r"got 'approved-ish', expected one of"):
        parse("approved-ish")  # type: ignore[operator]


@pytest.mark.parametrize("pair", sorted(EXPECTED, key=str))
def test_reason_required(pair: tuple[Status, Action]) -> None:
    status, action = pair
    if action in REASON_REQUIRED:
        with pytest.raises(InputError, match=r"^reason: got ' ', expected a reason"):
            decide(status, action, actor="staff", decided_at=NOW, reason=" ")
    else:
        assert decide(status, action, actor="staff", decided_at=NOW).reason == ""
    decision = decide(status, action, actor=" staff ", decided_at=NOW, reason="  because  ")
    assert (decision.from_status, decision.to_status) == (status, EXPECTED[pair])
    assert (decision.reason, decision.actor, decision.conditions) == ("because", "staff", ())


@pytest.mark.parametrize("pair", sorted(EXPECTED, key=str))
def test_conditions_only_on_approve(pair: tuple[Status, Action]) -> None:
    status, action = pair
    if action is A.APPROVE:
        decision = decide(
            status, action, actor="staff", decided_at=NOW, conditions=[" PoR ", "", "no leverage"]
        )
        assert decision.conditions == ("PoR", "no leverage")
    else:
        with pytest.raises(InputError, match=r"^conditions: got \['x'\], expected no conditions"):
            decide(status, action, actor="staff", decided_at=NOW, reason="r", conditions=["x"])


def test_decide_checks_transition_and_time() -> None:
    with pytest.raises(TransitionError):
        decide(S.DRAFT, A.APPROVE, actor="staff", decided_at=NOW)
    with pytest.raises(InputError, match=r"^decided_at: .*tz-aware"):
        decide(S.DRAFT, A.SUBMIT, actor="firm", decided_at=datetime(2025, 7, 1))
    with pytest.raises(InputError, match=r"^actor: "):
        decide(S.DRAFT, A.SUBMIT, actor=" ", decided_at=NOW)
    karachi = datetime(2025, 7, 1, 14, 30, tzinfo=timezone(timedelta(hours=5)))
    decided_at = decide("draft", "submit", actor="firm", decided_at=karachi).decided_at
    assert decided_at == NOW and decided_at.tzinfo is UTC
