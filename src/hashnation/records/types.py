"""Public record types, the fields each carries, and how a version's digest is made.

Pure: no database, no network, no clock. :class:`RecordType` names the four kinds of
public record the registry keeps; :data:`RECORD_SPECS` lists the fields of each
(:class:`FieldSpec`: name, kind, whether required) and :func:`check_fields` validates
and normalizes a record's fields against its spec, raising
:class:`~hashnation.errors.InputError` naming the field.

A version's **digest** is what gets anchored to Bitcoin:

- for a record made of fields, the SHA-256 of the canonical JSON (sorted keys, no
  whitespace, UTF-8) of its envelope (:func:`content_json`): the record type, the
  reference, the version number, the digest of the version it corrects (None for
  version 1), the fields, and the SHA-256 of an attached document if any. Each version
  thus commits to its predecessor, and the versions of a record form a hash chain;
- for a record whose substance is an uploaded document (a scanned title deed, a signed
  decision), the SHA-256 of the document's bytes (:func:`document_digest`), so that
  the standard ``ots verify deed.pdf`` checks the document itself; the envelope's
  hash is kept too, and the envelope names the document's hash.

Views returned by the service (:class:`RecordVersionView`, :class:`AnchorBatchView`,
:class:`ProofCheck`) are frozen dataclasses, never table rows.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final, Literal

from hashnation.errors import InputError, TransitionError

__all__ = [
    "MAX_REASON",
    "MAX_REFERENCE",
    "RECORD_SPECS",
    "REFERENCE_PATTERN",
    "AnchorBatchView",
    "FieldKind",
    "FieldSpec",
    "ProofCheck",
    "RecordImmutableError",
    "RecordSpec",
    "RecordType",
    "RecordVersionView",
    "check_fields",
    "check_reference",
    "content_digest",
    "content_json",
    "document_digest",
    "parse_record_type",
    "version_digest",
]

MAX_REFERENCE: Final = 64
"""Longest public reference of a record [characters]."""

MAX_REASON: Final = 2_000
"""Longest reason given for a correction [characters]."""

REFERENCE_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""A public reference: letters, digits and ``. _ -``, starting with a letter or digit."""

_MAX_TEXT: Final = 2_000
_HEX64 = re.compile(r"[0-9a-f]{64}")

FieldKind = Literal["text", "date", "decimal", "integer", "sha256"]
"""Kinds of field value: free text, ISO day, exact decimal, integer, 64 hex digits."""


class RecordImmutableError(TransitionError):
    """A stored record version cannot be changed or deleted; correct it with a new version."""


class RecordType(StrEnum):
    """Kinds of public record."""

    LAND_TITLE = "land_title"
    TAX_FILING_RECEIPT = "tax_filing_receipt"
    IDENTITY_ATTESTATION = "identity_attestation"
    LICENCE_DECISION = "licence_decision"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a record type.

    Attributes
    ----------
    name
        Field name, with its unit as a suffix where it has one (``area_m2``).
    kind
        Kind of value (:data:`FieldKind`).
    required
        Whether every record of the type must carry it.
    description
        What the field holds, with its unit in brackets.
    """

    name: str
    kind: FieldKind
    required: bool
    description: str


@dataclass(frozen=True)
class RecordSpec:
    """The title and fields of a record type."""

    title: str
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec | None:
        """Return the field called ``name``, or None."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        return None


RECORD_SPECS: Final[Mapping[RecordType, RecordSpec]] = {
    RecordType.LAND_TITLE: RecordSpec(
        "Land title",
        (
            FieldSpec("parcel_id", "text", True, "Cadastral parcel identifier"),
            FieldSpec("district", "text", True, "District or tehsil of the parcel"),
            FieldSpec("area_m2", "decimal", True, "Area of the parcel [m^2]"),
            FieldSpec("owner", "text", True, "Registered owner(s), as on the title"),
            FieldSpec("registered_on", "date", True, "Day the title was registered (UTC)"),
            FieldSpec("encumbrances", "text", False, "Mortgages, liens and easements"),
        ),
    ),
    RecordType.TAX_FILING_RECEIPT: RecordSpec(
        "Tax filing receipt",
        (
            FieldSpec("taxpayer_id", "text", True, "Taxpayer's registration number"),
            FieldSpec("tax_year", "integer", True, "Tax year the filing is for [year]"),
            FieldSpec("filed_on", "date", True, "Day the return was filed (UTC)"),
            FieldSpec("tax_due_pkr", "decimal", True, "Tax assessed on the return [PKR]"),
            FieldSpec("tax_paid_pkr", "decimal", False, "Tax paid with the return [PKR]"),
        ),
    ),
    RecordType.IDENTITY_ATTESTATION: RecordSpec(
        "Identity attestation",
        (
            FieldSpec(
                "subject_sha256",
                "sha256",
                True,
                "SHA-256 of the attested identity document (the document stays private)",
            ),
            FieldSpec("claim", "text", True, "What is attested (citizenship, residency, ...)"),
            FieldSpec("attested_by", "text", True, "Authority making the attestation"),
            FieldSpec("attested_on", "date", True, "Day of the attestation (UTC)"),
            FieldSpec("valid_until", "date", False, "Last day the attestation holds (UTC)"),
        ),
    ),
    RecordType.LICENCE_DECISION: RecordSpec(
        "Licence decision",
        (
            FieldSpec("licence_number", "text", True, "Licence or application number"),
            FieldSpec("holder", "text", True, "Firm the decision concerns"),
            FieldSpec("decision", "text", True, "Grant, refusal, suspension, revocation, ..."),
            FieldSpec("decided_on", "date", True, "Day of the decision (UTC)"),
            FieldSpec("authority", "text", True, "Authority that decided"),
        ),
    ),
}
"""Fields of each record type."""


def parse_record_type(value: object) -> RecordType:
    """Read a record type from its value (``land_title``).

    Raises
    ------
    InputError
        Field ``record_type``, for an unknown type.
    """
    try:
        return RecordType(str(value))
    except ValueError:
        names = ", ".join(t.value for t in RecordType)
        raise InputError("record_type", value, f"one of {names}") from None


def check_reference(value: object) -> str:
    """Validate a public reference (``LT-LHR-2026-000123``).

    Raises
    ------
    InputError
        Field ``reference``, if it does not match :data:`REFERENCE_PATTERN`.
    """
    if not isinstance(value, str) or REFERENCE_PATTERN.fullmatch(value) is None:
        raise InputError(
            "reference",
            value,
            f"1-{MAX_REFERENCE} letters, digits or '._-', starting with a letter or digit",
        )
    return value


def _field_value(name: str, spec: FieldSpec, value: object) -> str:
    where = f"fields.{name}"
    if spec.kind == "text":
        if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT:
            raise InputError(where, value, f"non-empty text of at most {_MAX_TEXT} characters")
        return value.strip()
    if spec.kind == "date":
        if isinstance(value, datetime):
            raise InputError(where, value, "a day (YYYY-MM-DD), not a time")
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise InputError(where, value, "a day (YYYY-MM-DD)") from None
    if spec.kind == "decimal":
        if isinstance(value, bool | float):
            raise InputError(where, value, "an exact decimal (text or Decimal), not a float")
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            raise InputError(where, value, "an exact decimal number") from None
        if not amount.is_finite() or amount < 0:
            raise InputError(where, value, "a finite decimal number >= 0")
        return format(amount.normalize(), "f") if amount else "0"
    if spec.kind == "integer":
        if isinstance(value, bool):
            raise InputError(where, value, "an integer")
        try:
            number = int(str(value).strip(), 10)
        except ValueError:
            raise InputError(where, value, "an integer") from None
        return str(number)
    text = str(value).strip().lower()
    if _HEX64.fullmatch(text) is None:
        raise InputError(where, value, "64 hex digits (a SHA-256)")
    return text


def check_fields(record_type: RecordType | str, fields: Mapping[str, object]) -> dict[str, str]:
    """Validate and normalize a record's fields against its type's spec.

    Values are stored and hashed as text: days as ISO ``YYYY-MM-DD``, decimals exact
    and normalized (``12.50`` -> ``12.5``), integers in base 10, SHA-256 values in
    lowercase hex. Optional fields left empty are dropped.

    Parameters
    ----------
    record_type
        The record's type.
    fields
        Field name -> value.

    Returns
    -------
    dict of str to str
        The normalized fields, in the spec's order.

    Raises
    ------
    InputError
        For an unknown or missing field, or a value of the wrong kind (named
        ``fields.<name>``).
    """
    kind = parse_record_type(record_type)
    spec = RECORD_SPECS[kind]
    if not isinstance(fields, Mapping):
        raise InputError("fields", type(fields).__name__, "a mapping of field names to values")
    known = {f.name for f in spec.fields}
    for name in fields:
        if name not in known:
            raise InputError(
                f"fields.{name}", fields[name], f"no such field; {kind.value} has {sorted(known)}"
            )
    out: dict[str, str] = {}
    for field in spec.fields:
        value = fields.get(field.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if field.required:
                raise InputError(f"fields.{field.name}", value, f"a value ({field.description})")
            continue
        out[field.name] = _field_value(field.name, field, value)
    return out


def content_json(
    *,
    record_type: RecordType | str,
    reference: str,
    version: int,
    previous_digest: str | None,
    fields: Mapping[str, str],
    document_sha256: str | None,
) -> str:
    """Canonical JSON of a version's envelope: sorted keys, no whitespace, non-ASCII kept.

    Parameters
    ----------
    record_type, reference, version
        Which record and which version of it (version >= 1).
    previous_digest
        Digest of the version this one corrects (64 hex digits), None for version 1.
    fields
        Normalized fields (:func:`check_fields`).
    document_sha256
        SHA-256 of the attached document (64 hex digits), or None.

    Returns
    -------
    str
        The text whose UTF-8 bytes are hashed by :func:`content_digest`.
    """
    envelope: dict[str, Any] = {
        "document_sha256": document_sha256,
        "fields": dict(fields),
        "previous_digest": previous_digest,
        "record_type": str(record_type),
        "reference": reference,
        "version": version,
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_digest(canonical: str) -> str:
    """SHA-256 of a canonical envelope (:func:`content_json`), as 64 lowercase hex digits."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def document_digest(document: bytes) -> str:
    """SHA-256 of a document's bytes, as 64 lowercase hex digits.

    Raises
    ------
    InputError
        Field ``document``, if it is not bytes or is empty.
    """
    if not isinstance(document, bytes | bytearray | memoryview) or not len(document):
        raise InputError("document", type(document).__name__, "the document's bytes (non-empty)")
    return hashlib.sha256(document).hexdigest()


def version_digest(content_sha256: str, document_sha256: str | None) -> str:
    """Return the digest anchored for a version: the document's if any, else the content's."""
    return document_sha256 if document_sha256 is not None else content_sha256


@dataclass(frozen=True)
class RecordVersionView:
    """One stored version of a public record.

    Attributes
    ----------
    id
        Row id of the version.
    reference
        Public reference of the record.
    record_type
        Kind of record.
    version
        1 for the original, then one more per correction.
    previous_id
        Id of the version this one corrects (None for version 1).
    reason
        Why it was corrected ('' for version 1).
    fields
        Normalized fields.
    content_json
        The canonical envelope hashed into ``content_sha256``.
    content_sha256
        SHA-256 of ``content_json`` [64 hex digits].
    document_sha256
        SHA-256 of the attached document, or None [64 hex digits].
    digest
        What is anchored: ``document_sha256`` if any, else ``content_sha256``.
    recorded_at
        When the version was stored, timezone-aware UTC.
    recorded_by
        Who stored it.
    batch_id
        Anchoring batch the version was stamped in (None while pending).
    has_proof
        Whether a stamped (.ots) proof is stored.
    has_upgraded_proof
        Whether an upgraded proof (attested by a Bitcoin block) is stored.
    attested_height
        Height of the Bitcoin block the stored proof (as stamped when the batch root
        was committed to a block at once, else upgraded) attests to [block], or None.
    """

    id: int
    reference: str
    record_type: RecordType
    version: int
    previous_id: int | None
    reason: str
    fields: Mapping[str, str]
    content_json: str
    content_sha256: str
    document_sha256: str | None
    digest: str
    recorded_at: datetime
    recorded_by: str
    batch_id: int | None
    has_proof: bool
    has_upgraded_proof: bool
    attested_height: int | None

    @property
    def status(self) -> Literal["pending", "stamped", "anchored"]:
        """Anchoring status: ``pending``, ``stamped`` or ``anchored``.

        ``pending``: not stamped yet; ``stamped``: in a batch, waiting for a block;
        ``anchored``: its proof (as stamped, or upgraded) names a Bitcoin block.
        """
        if self.attested_height is not None:
            return "anchored"
        return "stamped" if self.has_proof else "pending"


@dataclass(frozen=True)
class AnchorBatchView:
    """One anchoring batch: many versions' digests under one Merkle root.

    Attributes
    ----------
    id
        Row id of the batch.
    merkle_root
        Root of the batch's Merkle tree, the digest sent to the calendars [64 hex digits].
    leaf_count
        Versions stamped in the batch [count].
    stamped_at
        When the batch was stamped, timezone-aware UTC.
    stamped_by
        Who stamped it.
    """

    id: int
    merkle_root: str
    leaf_count: int
    stamped_at: datetime
    stamped_by: str


@dataclass(frozen=True)
class ProofCheck:
    """Result of checking a proof against a version's stored digest.

    Attributes
    ----------
    digest
        The stored digest the proof was checked against [64 hex digits].
    matches_digest
        Whether the proof starts from that digest.
    complete
        Whether the proof reaches a Bitcoin block header attestation that verified.
    height
        Height of the attesting block [block], or None.
    block_time
        Time of the attesting block's header, timezone-aware UTC, or None.
    detail
        What was found, in words.
    """

    digest: str
    matches_digest: bool
    complete: bool
    height: int | None
    block_time: datetime | None
    detail: str
