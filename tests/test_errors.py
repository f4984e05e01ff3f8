"""One-line errors: field, value and expectation, whatever the value's type."""

from __future__ import annotations

from enum import StrEnum

from hashnation.errors import (
    ApprovalLogError,
    AuditLogError,
    InputError,
    LogIntegrityError,
    TransitionError,
)
from hashnation.web.app import error_status


class Colour(StrEnum):
    RED = "red"


def test_input_error_names_field_value_and_expectation() -> None:
    error = InputError("fleet.power_mw", -5, "a number >= 0 [MW]")
    assert str(error) == "fleet.power_mw: got -5, expected a number >= 0 [MW]"
    assert (error.field, error.value) == ("fleet.power_mw", -5)
    assert error.expected == "a number >= 0 [MW]"


def test_an_enum_value_is_shown_as_its_value() -> None:
    error = InputError("status", Colour.RED, "one of blue, green")
    assert str(error) == "status: got 'red', expected one of blue, green"
    assert error.value == "red"


def test_log_errors_name_their_log_and_entry() -> None:
    assert str(AuditLogError(7, "entry_hash does not match")) == (
        "audit log entry 7: entry_hash does not match"
    )
    assert str(ApprovalLogError(None, "head is not the one published")) == (
        "approvals log: head is not the one published"
    )
    assert isinstance(AuditLogError(1, "x"), LogIntegrityError)


def test_http_status_of_each_error() -> None:
    assert error_status(AuditLogError(3, "edited")) == 409
    assert error_status(TransitionError("action 'approve' is not allowed")) == 409
    assert error_status(InputError("x", 1, "2")) == 400
