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
    ├── OutputError                      a result could not be written
    └── ReserveError                     strategic-reserve pillar
        ├── DescriptorError (InputError) bad or unsupported output descriptor
        │   └── PrivateKeyError          private key material given (always refused)
        ├── PsbtError (InputError)       bad PSBT, or a spend that cannot be built or finalized
        ├── ChainError                   a chain source failed or answered badly
        │   └── SpvError (ValueError)    a header, proof of work or merkle proof fails
        ├── LedgerError (InputError)     a ledger entry breaks an accounting rule
        └── ApprovalLogError             the custody approvals log is broken or was altered
                                         (also a LogIntegrityError, as is AuditLogError)
    RegistryError                        virtual-asset regulator pillar
    ├── TransitionError (ValueError)     an application or licence action not allowed now
    ├── ReturnError (InputError)         a periodic return breaks its schema or rules
    ├── AccessError                      a caller may not see or do this (role, owner)
    ├── NotFoundError (LookupError)      no such firm, application, return or token
    └── AuditLogError                    the registry audit log is broken or was altered

Every message names the field, the value received and what was expected, so
that the CLI can print it on one line (exit code 2) and the API can return it
as a 4xx body unchanged. No message ever repeats a private key: a value holding
one is written "a private key (not shown)", and any key left in a message's text
is replaced (:mod:`hashnation.redaction`).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from hashnation.redaction import PRIVATE_KEY_NOT_SHOWN, redact, shown_value


class HashNationError(Exception):
    """Root of every error HashNation raises on purpose.

    Text arguments (the message) are passed through :func:`hashnation.redaction.redact`,
    so that no private key pasted by a user is ever repeated by an error.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


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

    A value holding private key material is never kept nor shown: ``value`` becomes
    :data:`~hashnation.redaction.PRIVATE_KEY_NOT_SHOWN` and the message says
    ``got a private key (not shown)``.
    """

    def __init__(self, field: str, value: Any, expected: str) -> None:
        if isinstance(value, Enum):  # 'draft', not <Status.DRAFT: 'draft'>
            value = value.value
        shown = shown_value(value)
        if shown == PRIVATE_KEY_NOT_SHOWN:
            value = PRIVATE_KEY_NOT_SHOWN
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field}: got {shown}, expected {expected}")


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


class ReserveError(HashNationError):
    """Strategic-reserve pillar: descriptors, chain data, ledger."""


class DescriptorError(InputError, ReserveError):
    """An output descriptor is malformed, has a bad checksum or is unsupported."""


class PrivateKeyError(DescriptorError):
    """Private key material (xprv, WIF, seed words) was given; it is always refused.

    The message never repeats the secret: ``value`` is replaced by a redacted marker.
    """

    def __init__(self, field: str, kind: str) -> None:
        super().__init__(field, f"<redacted {kind}>", "public keys only (xpub/tpub, hex pubkeys)")


class PsbtError(InputError, ReserveError):
    """A PSBT is malformed, or a spend cannot be built, signed, combined or finalized.

    ``field`` is ``"psbt"`` for the PSBT itself (or the name of the argument at fault),
    ``value`` a shortened form of what was received, and ``expected`` says what would have
    been accepted, with the underlying reason.
    """


class ChainError(ReserveError):
    """A chain source (Bitcoin Core, Esplora, Electrum) failed or answered badly."""


class SpvError(ChainError, ValueError):
    """Chain data fails verification: header links, proof of work, merkle inclusion, depth."""


class LedgerError(InputError, ReserveError):
    """A ledger entry breaks an accounting rule (unbalanced, negative holding, bad amount)."""


class LogIntegrityError(HashNationError):
    """A hash-chained log does not verify: a row was edited, deleted or reordered.

    Parameters
    ----------
    entry_id
        Id of the first entry that does not verify (None when the log as a whole is at
        fault, e.g. an expected head hash is missing).
    reason
        What is wrong, in words.
    """

    log_name = "log"
    """How messages name the log."""

    def __init__(self, entry_id: int | None, reason: str) -> None:
        self.entry_id = entry_id
        self.reason = reason
        where = self.log_name if entry_id is None else f"{self.log_name} entry {entry_id}"
        super().__init__(f"{where}: {reason}")


class ApprovalLogError(LogIntegrityError, ReserveError):
    """The custody approvals log does not verify (see :class:`LogIntegrityError`)."""

    log_name = "approvals log"


class RegistryError(HashNationError):
    """Virtual-asset regulator pillar: licensing, sandboxes, returns, enforcement."""


class TransitionError(RegistryError, ValueError):
    """An action is not allowed in the application's or licence's current status."""


class ReturnError(InputError, RegistryError):
    """A periodic return breaks its licence type's schema or validation rules."""


class AccessError(RegistryError):
    """The caller's role or firm may not read or change this resource."""


class NotFoundError(RegistryError, LookupError):
    """No such firm, application, licence, return, cohort or token."""


class AuditLogError(LogIntegrityError, RegistryError):
    """The registry audit log does not verify (see :class:`LogIntegrityError`)."""

    log_name = "audit log"
