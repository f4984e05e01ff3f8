"""Record types, field validation and digests (pure)."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pytest

from hashnation.errors import InputError
from hashnation.records.types import (
    RECORD_SPECS,
    RecordType,
    check_fields,
    check_reference,
    content_digest,
    content_json,
    document_digest,
    parse_record_type,
)

LAND = {
    "parcel_id": "LHR-0042-17",
    "district": "Lahore",
    "area_m2": "512.50",
    "owner": "Ayesha Khan",
    "registered_on": "2026-02-27",
}


def test_every_type_has_a_spec_with_required_fields() -> None:
    assert set(RECORD_SPECS) == set(RecordType)
    for spec in RECORD_SPECS.values():
        assert any(f.required for f in spec.fields)


def test_fields_are_normalized_to_text() -> None:
    clean = check_fields("land_title", {**LAND, "area_m2": Decimal("512.500")})
    assert clean["area_m2"] == "512.5"
    assert clean["registered_on"] == "2026-02-27"
    tax = check_fields(
        RecordType.TAX_FILING_RECEIPT,
        {
            "taxpayer_id": "1234567-8",
            "tax_year": 2025,
            "filed_on": "2025-09-30",
            "tax_due_pkr": "125000.00",
        },
    )
    assert tax == {
        "taxpayer_id": "1234567-8",
        "tax_year": "2025",
        "filed_on": "2025-09-30",
        "tax_due_pkr": "125000",
    }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({**LAND, "area_m2": 1.5}, "fields.area_m2"),
        ({**LAND, "area_m2": "-3"}, "fields.area_m2"),
        ({**LAND, "registered_on": "27/02/2026"}, "fields.registered_on"),
        ({k: v for k, v in LAND.items() if k != "owner"}, "fields.owner"),
        ({**LAND, "colour": "red"}, "fields.colour"),
    ],
)
def test_bad_fields_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as caught:
        check_fields("land_title", fields)
    assert caught.value.field == field


def test_identity_attestation_keeps_only_a_hash_of_the_document() -> None:
    with pytest.raises(InputError, match=r"fields\.subject_sha256"):
        check_fields(
            "identity_attestation",
            {
                "subject_sha256": "35202-1234567-1",
                "claim": "citizen",
                "attested_by": "NADRA",
                "attested_on": "2026-01-01",
            },
        )


def test_unknown_type_and_bad_reference_are_refused() -> None:
    with pytest.raises(InputError, match="record_type"):
        parse_record_type("birth_certificate")
    for bad in ("", "-LT", "LT 1", "x" * 65):
        with pytest.raises(InputError, match="reference"):
            check_reference(bad)


def test_digest_is_sha256_of_the_canonical_envelope() -> None:
    fields = check_fields("land_title", LAND)
    text = content_json(
        record_type=RecordType.LAND_TITLE,
        reference="LT-1",
        version=1,
        previous_digest=None,
        fields=fields,
        document_sha256=None,
    )
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    assert content_digest(text) == hashlib.sha256(text.encode()).hexdigest()
    reordered = content_json(
        record_type="land_title",
        reference="LT-1",
        version=1,
        previous_digest=None,
        fields=dict(reversed(list(fields.items()))),
        document_sha256=None,
    )
    assert reordered == text


def test_document_digest() -> None:
    assert document_digest(b"deed") == hashlib.sha256(b"deed").hexdigest()
    with pytest.raises(InputError, match="document"):
        document_digest(b"")
