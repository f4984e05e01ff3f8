"""Public records registry: versioned, append-only records anchored to Bitcoin.

Land titles, tax filing receipts, identity attestations and licence decisions are
stored with their digests (:mod:`hashnation.records.types`); a correction is a new
version pointing to the old one, never an edit; versions are stamped in batches,
each with its own OpenTimestamps proof (:mod:`hashnation.records.service`).

Public names:

- :class:`~hashnation.records.service.RecordsRegistry`, the service, and
  :class:`~hashnation.records.service.NewRecord` for bulk loads;
- :class:`~hashnation.records.types.RecordType`,
  :data:`~hashnation.records.types.RECORD_SPECS`,
  :func:`~hashnation.records.types.check_fields`;
- the views :class:`~hashnation.records.types.RecordVersionView`,
  :class:`~hashnation.records.types.AnchorBatchView`,
  :class:`~hashnation.records.types.ProofCheck`;
- :class:`~hashnation.records.types.RecordImmutableError`, raised on any attempt to
  edit or delete a stored version.
"""

from __future__ import annotations

from hashnation.records.service import NewRecord, RecordsRegistry
from hashnation.records.types import (
    RECORD_SPECS,
    AnchorBatchView,
    ProofCheck,
    RecordImmutableError,
    RecordType,
    RecordVersionView,
    check_fields,
)

__all__ = [
    "RECORD_SPECS",
    "AnchorBatchView",
    "NewRecord",
    "ProofCheck",
    "RecordImmutableError",
    "RecordType",
    "RecordVersionView",
    "RecordsRegistry",
    "check_fields",
]
