"""Errors of the proofs pillar (proof of reserves and liabilities).

::

    HashNationError
    └── ProofError                          proofs pillar
        └── ProofInputError (InputError)    a balance, a file or an option is malformed

:class:`ProofInputError` names the field, the value and what was expected, in
one line, like every :class:`~hashnation.errors.InputError`; the CLI prints it
and exits 2. A proof that does not hold is not an error: the verifiers
(:func:`~hashnation.proofs.liabilities.verify_inclusion`, the audit) return
every check with its outcome, and the CLI exits 1.
"""

from __future__ import annotations

from hashnation.errors import HashNationError, InputError

__all__ = ["ProofError", "ProofInputError"]


class ProofError(HashNationError):
    """Proofs pillar: liabilities trees, reserve proofs, solvency attestations."""


class ProofInputError(InputError, ProofError):
    """A balance, a proof file or an option is malformed (one-line message)."""
