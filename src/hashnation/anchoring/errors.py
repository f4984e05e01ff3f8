"""Errors of the anchoring pillar (OpenTimestamps proofs of public records).

::

    HashNationError
    └── AnchorError                          anchoring pillar
        ├── AnchorInputError (InputError)    a proof, digest, file or option is malformed
        └── CalendarError                    a calendar server failed or answered badly

:class:`AnchorInputError` names the field, the value and what was expected, in
one line, like every :class:`~hashnation.errors.InputError`; the CLI prints it
and exits 2. A proof that parses but does not verify is not an error:
:func:`~hashnation.anchoring.verify.verify_proof` returns a
:class:`~hashnation.anchoring.verify.Verification` saying why, and the CLI
exits 1.
"""

from __future__ import annotations

from hashnation.errors import HashNationError, InputError

__all__ = ["AnchorError", "AnchorInputError", "CalendarError"]


class AnchorError(HashNationError):
    """Anchoring pillar: stamping, calendars, upgrading and verifying timestamps."""


class AnchorInputError(InputError, AnchorError):
    """A proof file, a digest or an option is malformed (one-line message)."""


class CalendarError(AnchorError):
    """A calendar server could not be reached, timed out or answered badly (one line)."""
