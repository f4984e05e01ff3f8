"""Breaches: a rule a licensee or sandbox participant does not meet.

Returns (:func:`~hashnation.registry.returns.return_breaches`), the filing
calendar (:func:`~hashnation.registry.schedule.filing_breaches`) and
sandboxes (:func:`~hashnation.registry.sandbox.cap_breaches`) each report
what they find as :class:`Breach` values; enforcement actions cite their codes.

Codes in use
------------
``capital_below_minimum``, ``reserves_below_tokens``, ``insolvent_attestation``,
``attestation_below_declared``, ``unresolved_complaints``, ``late_return``,
``missing_return``, ``sandbox_customers``, ``sandbox_volume``, ``sandbox_expired``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["BREACH_CODES", "Breach", "Severity"]

Severity = Literal["minor", "major"]

BREACH_CODES: frozenset[str] = frozenset(
    {
        "capital_below_minimum",
        "reserves_below_tokens",
        "insolvent_attestation",
        "attestation_below_declared",
        "unresolved_complaints",
        "late_return",
        "missing_return",
        "sandbox_customers",
        "sandbox_volume",
        "sandbox_expired",
    }
)
"""Every code this package reports."""


@dataclass(frozen=True)
class Breach:
    """One rule not met.

    Parameters
    ----------
    code
        What kind of breach (one of :data:`BREACH_CODES`).
    field
        The field at fault (``capital_usd``).
    detail
        One line in words, with the figures.
    severity
        ``minor`` or ``major``.
    """

    code: str
    field: str
    detail: str
    severity: Severity
