"""Exceptions raised by HashNation.

One root, one branch per pillar. Errors caused by the caller's input also derive
from :class:`ValueError`, so generic code can still catch them as such.

::

    HashNationError
    ├── InputError (ValueError)          bad field value, unit or type
    │   ├── ScenarioError                malformed or inconsistent scenario file
    │   └── DataError                    bundled or imported dataset unusable
    ├── ConsensusError (ValueError)      value outside Bitcoin consensus rules
    ├── MiningError                      mining model cannot run as configured
    └── OutputError                      a result could not be written

Every message names the field, the value received and what was expected, so
that the CLI can print it on one line (exit code 2) and the API can return it
as a 4xx body unchanged.
"""

from __future__ import annotations

from typing import Any


class HashNationError(Exception):
    """Root of every error HashNation raises on purpose."""


class InputError(HashNationError, ValueError):
    """A caller-supplied value is wrong.

    Parameters
    ----------
    field
        Dotted name of the offending field (``fleet.power_mw``).
    value
        The value received.
    expected
        What would have been accepted, in words (``a number >= 0 [MW]``).
    """

    def __init__(self, field: str, value: Any, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field}: got {value!r}, expected {expected}")


class ScenarioError(InputError):
    """A scenario file is malformed or inconsistent."""


class DataError(InputError):
    """A dataset (bundled or imported) lacks a column or holds bad values."""


class ConsensusError(InputError):
    """A value is outside what Bitcoin's consensus rules allow."""


class MiningError(HashNationError):
    """The mining model cannot run as configured."""


class OutputError(HashNationError):
    """A result could not be written."""
