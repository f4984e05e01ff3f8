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
        ├── ChainError                   a chain source failed or answered badly
        │   └── SpvError (ValueError)    a header, proof of work or merkle proof fails
        └── LedgerError (InputError)     a ledger entry breaks an accounting rule

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


class ChainError(ReserveError):
    """A chain source (Bitcoin Core, Esplora, Electrum) failed or answered badly."""


class SpvError(ChainError, ValueError):
    """Chain data fails verification: header links, proof of work, merkle inclusion, depth."""


class LedgerError(InputError, ReserveError):
    """A ledger entry breaks an accounting rule (unbalanced, negative holding, bad amount)."""
