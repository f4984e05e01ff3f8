"""The records service on SQLite and PostgreSQL: versions, immutability, anchoring, proofs."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from dataclasses import is_dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hashnation.anchoring import verify_proof
from hashnation.chain.headers import HeaderStore
from hashnation.chain.regtest import RegtestChain
from hashnation.errors import InputError, NotFoundError
from hashnation.records.service import NewRecord, RecordsRegistry, _reaches, regtest_attester
from hashnation.records.types import RecordImmutableError, RecordType, content_digest
from hashnation.registry import audit
from hashnation.store.records_models import RecordVersion

HeadersOf = Callable[[RegtestChain], HeaderStore]


def _add(records: RecordsRegistry, land: dict[str, Any], reference: str = "LT-LHR-1") -> Any:
    return records.add("land-registrar", record_type="land_title", reference=reference, fields=land)


def test_add_stores_version_one_with_its_digest(
    records: RecordsRegistry, land: dict[str, Any]
) -> None:
    v1 = _add(records, land)
    assert is_dataclass(v1) and v1.version == 1 and v1.previous_id is None
    assert v1.record_type is RecordType.LAND_TITLE
    assert v1.digest == v1.content_sha256 == content_digest(v1.content_json)
    assert v1.fields["area_m2"] == "512.5"
    assert v1.status == "pending"
    assert records.get("LT-LHR-1") == v1
    with pytest.raises(InputError, match="reference"):
        _add(records, land)  # a reference is used once


def test_correct_makes_a_new_version_pointing_to_the_old(
    records: RecordsRegistry, land: dict[str, Any]
) -> None:
    v1 = _add(records, land)
    v2 = records.correct(
        "land-registrar",
        reference="LT-LHR-1",
        fields={**land, "area_m2": "530"},
        reason="parcel re-surveyed",
    )
    v3 = records.correct(
        "land-registrar",
        reference="LT-LHR-1",
        fields={**land, "owner": "Ayesha and Bilal Khan"},
        reason="inheritance",
        expected_version=2,
    )
    assert (v2.version, v2.previous_id, v2.reason) == (2, v1.id, "parcel re-surveyed")
    assert v3.previous_id == v2.id
    assert f'"previous_digest":"{v2.digest}"' in v3.content_json
    assert [v.version for v in records.history("LT-LHR-1")] == [1, 2, 3]
    assert records.get("LT-LHR-1", 1) == v1  # the old version is untouched
    assert records.get("LT-LHR-1") == v3
    with pytest.raises(RecordImmutableError, match="expected_version"):
        records.correct("x", reference="LT-LHR-1", fields=land, reason="r", expected_version=2)
    with pytest.raises(InputError, match="reason"):
        records.correct("x", reference="LT-LHR-1", fields=land, reason=" ")
    with pytest.raises(InputError, match="changes something"):
        records.correct("x", reference="LT-LHR-1", fields=v3.fields, reason="same")
    with pytest.raises(NotFoundError):
        records.correct("x", reference="LT-NONE", fields=land, reason="r")


def test_documents_are_anchored_by_their_own_hash(
    records: RecordsRegistry, land: dict[str, Any]
) -> None:
    deed = b"%PDF-1.7 scanned title deed"
    v1 = records.add(
        "clerk", record_type="land_title", reference="LT-D", fields=land, document=deed
    )
    assert v1.digest == v1.document_sha256 == hashlib.sha256(deed).hexdigest()
    assert v1.content_sha256 != v1.digest
    assert f'"document_sha256":"{v1.digest}"' in v1.content_json


def test_lookup_by_reference_prefix_and_digest(
    records: RecordsRegistry, land: dict[str, Any]
) -> None:
    _add(records, land, "LT-LHR-1")
    _add(records, land, "LT-LHR-2")
    records.correct("c", reference="LT-LHR-2", fields={**land, "owner": "B"}, reason="sale")
    _add(records, land, "LT-KHI-1")
    found = records.lookup("LT-LHR")
    assert [(v.reference, v.version) for v in found] == [("LT-LHR-1", 1), ("LT-LHR-2", 2)]
    v1 = records.get("LT-LHR-2", 1)
    assert [v.id for v in records.lookup(v1.digest.upper())] == [v1.id]
    assert records.lookup("LT_%") == []  # LIKE wildcards are escaped
    with pytest.raises(NotFoundError):
        records.history("LT-NONE")


def test_the_service_has_no_edit_path(records: RecordsRegistry, land: dict[str, Any]) -> None:
    v1 = _add(records, land)
    public = {n for n, _ in inspect.getmembers(RecordsRegistry) if not n.startswith("_")}
    writers = {"add", "correct", "add_many", "anchor_pending", "attach_upgraded_proof"}
    assert public & {"edit", "set", "replace", "remove", "patch"} == set()
    assert writers <= public
    with pytest.raises(RecordImmutableError):
        records.update("LT-LHR-1", fields=land)
    with pytest.raises(RecordImmutableError):
        records.delete("LT-LHR-1")
    # Even through the service's own sessions, the ORM refuses to flush an edit.
    session: Session = records._sessions()
    try:
        row = session.get(RecordVersion, v1.id)
        assert row is not None
        row.reason = "edited"
        with pytest.raises(RecordImmutableError):
            session.flush()
        session.rollback()
        row = session.get(RecordVersion, v1.id)
        session.delete(row)
        with pytest.raises(RecordImmutableError):
            session.flush()
    finally:
        session.rollback()
        session.close()
    assert records.get("LT-LHR-1") == v1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE record_versions SET reason = 'quietly edited'",
        "UPDATE record_versions SET content_json = '{}', digest = content_sha256",
        "UPDATE record_versions SET version = version + 1",
        "DELETE FROM record_versions",
    ],
)
def test_the_database_refuses_raw_updates_and_deletes(
    records: RecordsRegistry, land: dict[str, Any], statement: str
) -> None:
    v1 = _add(records, land)
    with pytest.raises(DBAPIError, match="append-only"), records.engine.begin() as conn:
        conn.execute(sa.text(statement))
    assert records.get("LT-LHR-1") == v1


def test_proof_columns_can_be_set_once_only(
    records: RecordsRegistry, land: dict[str, Any], chain: RegtestChain
) -> None:
    _add(records, land)
    records.anchor_pending("clerk", regtest_attester(chain))
    for statement in (
        "UPDATE record_versions SET ots_proof = NULL",
        "UPDATE record_versions SET ots_proof = ots_proof || ots_proof",
        "UPDATE record_versions SET batch_id = NULL",
    ):
        with pytest.raises(DBAPIError, match="append-only"), records.engine.begin() as conn:
            conn.execute(sa.text(statement))
    with records.engine.begin() as conn:  # setting an empty proof column is allowed once
        conn.execute(sa.text("UPDATE record_versions SET upgraded_ots_proof = ots_proof"))
    with pytest.raises(DBAPIError, match="append-only"), records.engine.begin() as conn:
        conn.execute(sa.text("UPDATE record_versions SET upgraded_ots_proof = NULL"))


def test_anchoring_a_batch_gives_each_version_its_own_proof(
    records: RecordsRegistry, land: dict[str, Any], chain: RegtestChain, headers_of: HeadersOf
) -> None:
    for n in range(5):
        _add(records, {**land, "parcel_id": f"P-{n}"}, f"LT-{n}")
    records.correct("c", reference="LT-0", fields={**land, "owner": "Z"}, reason="sale")
    assert records.pending_count() == 6
    batch = records.anchor_pending("clerk", regtest_attester(chain))
    assert batch is not None and batch.leaf_count == 6
    assert records.pending_count() == 0
    assert records.anchor_pending("clerk", regtest_attester(chain)) is None
    store = headers_of(chain)
    root = bytes.fromhex(batch.merkle_root)
    proofs = set()
    for reference, version in [(f"LT-{n}", 1) for n in range(5)] + [("LT-0", 2)]:
        view = records.get(reference, version)
        assert view.batch_id == batch.id and view.status == "anchored"
        assert view.attested_height == 1
        proof = records.proof(reference, version)
        proofs.add(proof)
        result = verify_proof(proof, store, digest=bytes.fromhex(view.digest))
        assert result.ok, result.message
        check = records.verify(reference, version, store)
        assert check.complete and check.matches_digest and check.height == 1
        assert _reaches(proof, bytes.fromhex(view.digest), root)
    assert len(proofs) == 6
    assert records.verify_batch(batch.id, store) == 6
    assert records.verify_batch(batch.id) == 6
    entry = audit.entries(_session(records), subject=f"record_batch:{batch.id}")[0]
    assert entry.payload == {"merkle_root": batch.merkle_root, "versions": 6}


def _session(records: RecordsRegistry) -> Session:
    return records._sessions()


def test_a_proof_for_another_digest_does_not_check(
    records: RecordsRegistry, land: dict[str, Any], chain: RegtestChain, headers_of: HeadersOf
) -> None:
    _add(records, land, "LT-A")
    _add(records, land, "LT-B")
    records.anchor_pending("clerk", regtest_attester(chain))
    store = headers_of(chain)
    other = records.proof("LT-B", 1)
    check = records.check_proof("LT-A", 1, other, store)
    assert not check.matches_digest and not check.complete
    with pytest.raises(InputError, match="proof"):
        records.check_proof("LT-A", 1, b"not a proof", store)
    with pytest.raises(NotFoundError):
        records.check_proof("LT-A", 9, other, store)


def test_upgraded_proof_is_attached_once(
    records: RecordsRegistry, land: dict[str, Any], chain: RegtestChain
) -> None:
    _add(records, land)
    records.anchor_pending("clerk", regtest_attester(chain))
    proof = records.proof("LT-LHR-1", 1)
    view = records.attach_upgraded_proof("clerk", "LT-LHR-1", 1, proof)
    assert view.has_upgraded_proof and view.attested_height == 1
    with pytest.raises(RecordImmutableError):
        records.attach_upgraded_proof("clerk", "LT-LHR-1", 1, proof)
    _add(records, land, "LT-OTHER")
    with pytest.raises(InputError, match="proof"):
        records.attach_upgraded_proof("clerk", "LT-OTHER", 1, proof)


def test_add_many_loads_in_chunks_and_anchors_in_one_batch(
    records: RecordsRegistry, land: dict[str, Any], chain: RegtestChain, headers_of: HeadersOf
) -> None:
    items = (
        NewRecord("land_title", f"LT-B-{n:05d}", {**land, "parcel_id": f"P{n}"})
        for n in range(1_001)
    )
    assert records.add_many("bulk-loader", items, chunk_size=250) == 1_001
    batch = records.anchor_pending("clerk", regtest_attester(chain), chunk_size=300)
    assert batch is not None and batch.leaf_count == 1_001
    assert records.verify_batch(batch.id, headers_of(chain), chunk_size=128) == 1_001
    assert records.get("LT-B-01000").fields["parcel_id"] == "P1000"


def test_add_many_is_all_or_nothing(records: RecordsRegistry, land: dict[str, Any]) -> None:
    _add(records, land, "LT-DUP")
    items = [NewRecord("land_title", "LT-NEW", land), NewRecord("land_title", "LT-DUP", land)]
    with pytest.raises(InputError, match="reference"):
        records.add_many("bulk", items)
    bad = [NewRecord("land_title", "LT-X", land), NewRecord("land_title", "LT-Y", {})]
    with pytest.raises(InputError, match=r"records\.1\.fields"):
        records.add_many("bulk", bad)
    assert [v.reference for v in records.lookup("LT-")] == ["LT-DUP"]


def _local_calendar_module() -> Any:
    import importlib.util
    import sys
    from pathlib import Path

    name = "hashnation_records_test_calendar"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "anchoring" / "calendar_server.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_pending_proofs_are_upgraded_through_a_calendar(
    records: RecordsRegistry, land: dict[str, Any], chain: RegtestChain, headers_of: HeadersOf
) -> None:
    from hashnation.records.service import calendar_attester

    for n in range(3):
        _add(records, {**land, "parcel_id": f"P-{n}"}, f"LT-{n}")
    with _local_calendar_module().LocalCalendar(chain) as calendar:
        batch = records.anchor_pending("clerk", calendar_attester([calendar.url]))
        assert batch is not None
        assert {records.get(f"LT-{n}").status for n in range(3)} == {"stamped"}
        assert records.upgrade_proofs("clerk", [calendar.url]) == 0  # not in a block yet
        height = calendar.confirm()
        assert records.upgrade_proofs("clerk", [calendar.url]) == 3
    store = headers_of(chain)
    for n in range(3):
        view = records.get(f"LT-{n}")
        assert view.status == "anchored" and view.attested_height == height
        assert records.verify(f"LT-{n}", 1, store).complete
    assert records.verify_batch(batch.id) == 3
