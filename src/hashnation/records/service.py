"""The public records service: versioned, append-only records anchored to Bitcoin.

:class:`RecordsRegistry` is the one orchestrating object of the public records
registry. It stores versions of land titles, tax filing receipts, identity
attestations and licence decisions (:mod:`hashnation.records.types`), each with its
digest, and anchors them to Bitcoin through OpenTimestamps:

- :meth:`~RecordsRegistry.add` stores version 1 of a record,
  :meth:`~RecordsRegistry.correct` stores the next version, pointing to the previous
  one, with a reason. Nothing else writes a version: the service has no edit or
  delete path (:meth:`~RecordsRegistry.update` and :meth:`~RecordsRegistry.delete`
  exist only to refuse), its sessions refuse to flush a change to a stored version
  other than setting an empty proof column, and the database's triggers (migration
  ``0005``) refuse any other ``UPDATE`` and every ``DELETE``;
- :meth:`~RecordsRegistry.add_many` stores many new records in chunks of batched
  inserts (``COPY`` on PostgreSQL);
- :meth:`~RecordsRegistry.anchor_pending` stamps every version not stamped yet in
  one Merkle tree and stores each version's own ``.ots`` proof and the batch's root;
  :meth:`~RecordsRegistry.attach_upgraded_proof` stores a proof upgraded to a Bitcoin
  block attestation; :meth:`~RecordsRegistry.verify` checks a version's proof
  against a :class:`~hashnation.chain.headers.HeaderStore`.

Every public method runs in one transaction of its own. Changes append an entry to
the hash-chained registry audit log (:mod:`hashnation.registry.audit`) in the same
transaction (one entry per bulk load and per batch, not per version). Methods return
frozen dataclasses (:mod:`hashnation.records.types`), never table rows.

Typical use::

    from hashnation.records.service import RecordsRegistry

    records = RecordsRegistry("sqlite:///hashnation.db")  # schema by store.db.upgrade
    v1 = records.add("land-registrar", record_type="land_title",
                     reference="LT-LHR-2026-000123", fields={...})
    v2 = records.correct("land-registrar", reference="LT-LHR-2026-000123",
                         fields={...}, reason="area re-surveyed")
    batch = records.anchor_pending("land-registrar")
    proof = records.proof("LT-LHR-2026-000123", 2)      # .ots bytes
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, NoReturn, TypeVar

from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from hashnation.anchoring import (
    AnchorInputError,
    Batch,
    Verification,
    block_timestamp,
    stamp_digests,
    submit_batch,
    upgrade_proof,
    verify_proof,
    verify_proofs,
)
from hashnation.errors import InputError, NotFoundError
from hashnation.records.types import (
    MAX_REASON,
    AnchorBatchView,
    ProofCheck,
    RecordImmutableError,
    RecordType,
    RecordVersionView,
    check_fields,
    check_reference,
    content_digest,
    content_json,
    document_digest,
    parse_record_type,
    version_digest,
)
from hashnation.registry import audit
from hashnation.store.records_models import PROOF_COLUMNS, RecordAnchorBatch, RecordVersion
from hashnation.store.service import StoreService

if TYPE_CHECKING:
    from hashnation.chain.headers import HeaderStore
    from hashnation.chain.regtest import RegtestChain

__all__ = [
    "DEFAULT_CHUNK",
    "Attester",
    "NewRecord",
    "RecordsRegistry",
    "calendar_attester",
    "regtest_attester",
    "stamp_batch",
]

DEFAULT_CHUNK: Final = 20_000
"""Versions written per batched insert or update by the bulk paths [versions]."""

_MAX_ACTOR: Final = 200
_MAX_LOOKUP: Final = 100
_RETRIES: Final = 5
_PROOF_HEAD: Final = b"\x00OpenTimestamps\x00\x00Proof\x00\xbf\x89\xe2\xe8\x84\xe8\x92\x94\x01\x08"
"""Start of a detached ``.ots`` proof: magic, major version 1, file hash ``sha256``."""
_FIXED_COLUMNS: Final = frozenset(c.name for c in RecordVersion.__table__.columns) - frozenset(
    PROOF_COLUMNS
)
T = TypeVar("T")


Attester = Callable[[Batch], object]
"""Gives a batch's Merkle root its first attestation, merged into the batch
(:func:`calendar_attester`, :func:`regtest_attester`)."""


def stamp_batch(digests: Sequence[bytes], attest: Attester) -> tuple[bytes, Iterator[bytes]]:
    """Stamp digests in one batch: the one place the records service calls anchoring.

    Parameters
    ----------
    digests
        SHA-256 digests [32 bytes each], at least one.
    attest
        Attests the batch's root (merges a calendar reply or a block commitment).

    Returns
    -------
    tuple of (bytes, iterator of bytes)
        Merkle root [32 bytes] and the ``.ots`` proofs, in the digests' order.
    """
    batch = stamp_digests(digests)
    attest(batch)
    return batch.root, batch.proofs()


def calendar_attester(calendars: Sequence[str], timeout_s: float = 10.0) -> Attester:
    """Attest batch roots by submitting them to OpenTimestamps calendars (network).

    Parameters
    ----------
    calendars
        Calendar base URLs.
    timeout_s
        Network timeout per calendar [s].
    """
    urls = list(calendars)

    def attest(batch: Batch) -> object:
        return submit_batch(batch, urls, timeout_s)

    return attest


def regtest_attester(chain: RegtestChain) -> Attester:
    """Attest batch roots by mining them into a private regtest chain (an ``OP_RETURN``).

    For demonstrations, tests and benchmarks: the proofs then verify against the
    chain's headers (``chain.checkpoint()`` and its headers in a
    :class:`~hashnation.chain.headers.HeaderStore` with regtest rules), and prove
    nothing about mainnet.

    Parameters
    ----------
    chain
        The chain to mine into.
    """
    from hashnation.chain.regtest import payment_transaction
    from hashnation.chain.transactions import parse_transaction

    def attest(batch: Batch) -> object:
        root = batch.root
        raw = payment_transaction([(b"\x6a\x20" + root, 0)], tag=chain.tip_height() + 1)
        height = chain.mine([raw])
        proof = chain.merkle_proof(parse_transaction(raw).txid_hex, height)
        batch.merge_root(block_timestamp(root, raw, proof.branch, proof.index, height))
        return height

    return attest


def _to_check(stored_digest: str, found: Verification) -> ProofCheck:
    best = found.verified
    matches = found.file_digest.hex() == stored_digest
    heights = [a.height for a in found.attestations if a.kind == "bitcoin" and a.height]
    return ProofCheck(
        digest=stored_digest,
        matches_digest=matches,
        complete=matches and found.ok,
        height=best.height if best is not None else (min(heights) if heights else None),
        block_time=None
        if best is None or best.time is None
        else datetime.fromtimestamp(best.time, UTC),
        detail=found.message,
    )


@dataclass(frozen=True)
class NewRecord:
    """A new record for :meth:`RecordsRegistry.add_many`.

    Attributes
    ----------
    record_type
        Kind of record.
    reference
        Public reference (new).
    fields
        Field values (validated by :func:`~hashnation.records.types.check_fields`).
    document
        The record's document, whose SHA-256 becomes the anchored digest; or None.
    """

    record_type: RecordType | str
    reference: str
    fields: Mapping[str, object]
    document: bytes | None = None


_MAX_VERSION: Final = 2**31 - 1  # an INTEGER column


def _actor(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > _MAX_ACTOR:
        raise InputError("actor", value, f"a non-empty name of at most {_MAX_ACTOR} characters")
    return value.strip()


def _version_number(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError("version", value, "a version number (integer >= 1)")
    if value > _MAX_VERSION:
        raise InputError("version", value, f"a version number (integer from 1 to {_MAX_VERSION})")
    return value


def _view(row: RecordVersion) -> RecordVersionView:
    import json

    envelope = json.loads(row.content_json)
    return RecordVersionView(
        id=row.id,
        reference=row.reference,
        record_type=RecordType(row.record_type),
        version=row.version,
        previous_id=row.previous_id,
        reason=row.reason,
        fields=dict(envelope["fields"]),
        content_json=row.content_json,
        content_sha256=row.content_sha256,
        document_sha256=row.document_sha256,
        digest=row.digest,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        batch_id=row.batch_id,
        has_proof=row.ots_proof is not None,
        has_upgraded_proof=row.upgraded_ots_proof is not None,
        attested_height=row.attested_height,
    )


def _batch_view(row: RecordAnchorBatch) -> AnchorBatchView:
    return AnchorBatchView(
        id=row.id,
        merkle_root=row.merkle_root,
        leaf_count=row.leaf_count,
        stamped_at=row.stamped_at,
        stamped_by=row.stamped_by,
    )


def _refuse_edits(session: Session, _context: Any, _instances: Any) -> None:
    """Session hook: refuse to flush a deleted version or a change to a fixed column."""
    from sqlalchemy import inspect as sa_inspect

    for row in session.deleted:
        if isinstance(row, RecordVersion):
            raise RecordImmutableError(
                "record_versions", row.id, "no deletion: stored versions are kept for ever"
            )
    for row in session.dirty:
        if not isinstance(row, RecordVersion):
            continue
        state = sa_inspect(row)
        for attr in state.attrs:
            history = attr.history
            if not history.has_changes():
                continue
            if attr.key in _FIXED_COLUMNS or history.deleted not in ((), [None]):
                raise RecordImmutableError(
                    f"record_versions.{attr.key}",
                    row.id,
                    "no edit: correct a record with a new version",
                )


def _new_row(
    *,
    record_type: RecordType,
    reference: str,
    version: int,
    previous: RecordVersion | None,
    fields: Mapping[str, str],
    document: bytes | None,
    reason: str,
    actor: str,
    when: datetime,
) -> dict[str, Any]:
    document_sha256 = None if document is None else document_digest(document)
    canonical = content_json(
        record_type=record_type,
        reference=reference,
        version=version,
        previous_digest=None if previous is None else previous.digest,
        fields=fields,
        document_sha256=document_sha256,
    )
    content_sha256 = content_digest(canonical)
    return {
        "reference": reference,
        "record_type": record_type.value,
        "version": version,
        "previous_id": None if previous is None else previous.id,
        "reason": reason,
        "content_json": canonical,
        "content_sha256": content_sha256,
        "document_sha256": document_sha256,
        "digest": version_digest(content_sha256, document_sha256),
        "recorded_at": when,
        "recorded_by": actor,
    }


def _racing(exc: BaseException) -> bool:
    """Tell a lost race on the audit log's head (retry) from a genuine error."""
    if not isinstance(exc, IntegrityError | OperationalError):
        return False
    return "registry_audit" in str(exc.orig) or "locked" in str(exc.orig)


class RecordsRegistry(StoreService):
    """The public records registry: add, correct, look up, anchor and verify records.

    Parameters
    ----------
    bind
        An engine (kept open by :meth:`close`), or a database URL for an engine made
        here and disposed of by :meth:`close`; the default SQLite file when None. The
        schema must exist (:func:`hashnation.store.db.upgrade`).
    clock
        Returns the current time (timezone-aware); ``datetime.now(UTC)`` by default.
    """

    def __init__(
        self,
        bind: Engine | str | URL | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(bind, clock=clock)
        event.listen(self._sessions, "before_flush", _refuse_edits)

    # ------------------------------------------------------------ plumbing

    def _write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction with the audit log locked; retry lost races."""
        return self._transaction(work, first=audit.lock, retry_if=_racing, attempts=_RETRIES)

    @staticmethod
    def _latest(session: Session, reference: str) -> RecordVersion:
        row = session.scalar(
            select(RecordVersion)
            .where(RecordVersion.reference == reference)
            .order_by(RecordVersion.version.desc())
            .limit(1)
        )
        if row is None:
            raise NotFoundError(f"reference: no record {reference!r}")
        return row

    @staticmethod
    def _version(session: Session, reference: str, version: int | None) -> RecordVersion:
        if version is None:
            return RecordsRegistry._latest(session, reference)
        row = session.scalar(
            select(RecordVersion).where(
                RecordVersion.reference == reference, RecordVersion.version == version
            )
        )
        if row is None:
            raise NotFoundError(f"version: record {reference!r} has no version {version}")
        return row

    # ------------------------------------------------------------ writing

    def add(
        self,
        actor: str,
        *,
        record_type: RecordType | str,
        reference: str,
        fields: Mapping[str, object],
        document: bytes | None = None,
    ) -> RecordVersionView:
        """Store version 1 of a new record.

        Parameters
        ----------
        actor
            Who stores it (1-200 characters).
        record_type
            Kind of record (:class:`~hashnation.records.types.RecordType`).
        reference
            Public reference, new to the registry.
        fields
            The record's fields (see :data:`~hashnation.records.types.RECORD_SPECS`).
        document
            The record's document; its SHA-256 becomes the anchored digest.

        Returns
        -------
        RecordVersionView
            The stored version, pending anchoring.

        Raises
        ------
        InputError
            For a bad field, reference or actor, or a reference already used.
        """
        who = _actor(actor)
        kind = parse_record_type(record_type)
        ref = check_reference(reference)
        clean = check_fields(kind, fields)

        def work(session: Session) -> RecordVersionView:
            if session.scalar(select(RecordVersion.id).where(RecordVersion.reference == ref)):
                raise InputError("reference", ref, "a new reference (use correct() to amend)")
            values = _new_row(
                record_type=kind,
                reference=ref,
                version=1,
                previous=None,
                fields=clean,
                document=document,
                reason="",
                actor=who,
                when=self.now(),
            )
            row = RecordVersion(**values)
            session.add(row)
            session.flush()
            audit.append(
                session,
                actor=who,
                action="record.added",
                subject=f"record:{ref}",
                payload={"version": 1, "record_type": kind.value, "digest": row.digest},
                recorded_at=values["recorded_at"],
            )
            return _view(row)

        return self._write(work)

    def correct(
        self,
        actor: str,
        *,
        reference: str,
        fields: Mapping[str, object],
        reason: str,
        document: bytes | None = None,
        expected_version: int | None = None,
    ) -> RecordVersionView:
        """Store a correction: a new version pointing to the latest one, with a reason.

        The previous version stays as it was, with its digest and proof.

        Parameters
        ----------
        actor
            Who corrects it (1-200 characters).
        reference
            The record's public reference.
        fields
            All the fields of the corrected record (not a difference).
        reason
            Why (1-2000 characters); published with the version.
        document
            The corrected document, if the record has one.
        expected_version
            The version the caller read; refuse if another correction came first.

        Returns
        -------
        RecordVersionView
            The new version, pending anchoring.

        Raises
        ------
        NotFoundError
            If there is no such record.
        InputError
            For a bad field, an empty reason, or a correction that changes nothing.
        RecordImmutableError
            If ``expected_version`` is no longer the latest version.
        """
        who = _actor(actor)
        ref = check_reference(reference)
        if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
            raise InputError("reason", reason, f"non-empty text of at most {MAX_REASON} characters")

        def work(session: Session) -> RecordVersionView:
            previous = self._latest(session, ref)
            if expected_version is not None and previous.version != expected_version:
                raise RecordImmutableError(
                    "expected_version",
                    expected_version,
                    f"the latest version ({previous.version}); reload and correct again",
                )
            kind = RecordType(previous.record_type)
            clean = check_fields(kind, fields)
            values = _new_row(
                record_type=kind,
                reference=ref,
                version=previous.version + 1,
                previous=previous,
                fields=clean,
                document=document,
                reason=reason.strip(),
                actor=who,
                when=self.now(),
            )
            old = _view(previous)
            if dict(old.fields) == clean and old.document_sha256 == values["document_sha256"]:
                raise InputError("fields", "unchanged", "a correction that changes something")
            row = RecordVersion(**values)
            session.add(row)
            session.flush()
            audit.append(
                session,
                actor=who,
                action="record.corrected",
                subject=f"record:{ref}",
                payload={
                    "version": row.version,
                    "previous_digest": previous.digest,
                    "digest": row.digest,
                    "reason": row.reason,
                },
                recorded_at=values["recorded_at"],
            )
            return _view(row)

        return self._write(work)

    def update(self, *_args: object, **_kwargs: object) -> NoReturn:
        """Refuse: a stored version is never edited; use :meth:`correct`.

        Raises
        ------
        RecordImmutableError
            Always.
        """
        raise RecordImmutableError(
            "record_versions", "update", "no edit: correct a record with a new version"
        )

    def delete(self, *_args: object, **_kwargs: object) -> NoReturn:
        """Refuse: a stored version is never deleted.

        Raises
        ------
        RecordImmutableError
            Always.
        """
        raise RecordImmutableError(
            "record_versions", "delete", "no deletion: stored versions are kept for ever"
        )

    def add_many(
        self,
        actor: str,
        records: Iterable[NewRecord],
        *,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> int:
        """Store many new records (version 1 each) in one transaction, chunk by chunk.

        Each chunk is one batched insert (``COPY ... FROM STDIN`` on PostgreSQL,
        ``executemany`` on SQLite). One audit entry records the load: the number of
        versions and the SHA-256 of their digests in order. References must be new;
        a duplicate fails the whole load, leaving nothing behind.

        Parameters
        ----------
        actor
            Who loads them (1-200 characters).
        records
            The records; consumed once, a chunk at a time.
        chunk_size
            Versions per batched insert [versions], >= 1.

        Returns
        -------
        int
            Versions stored [count].

        Raises
        ------
        InputError
            For a bad record (named by its position) or a reference already used.
        """
        who = _actor(actor)
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise InputError("chunk_size", chunk_size, "an integer >= 1 [versions]")

        def work(session: Session) -> int:
            when = self.now()
            postgres = session.get_bind().dialect.name == "postgresql"
            load_hash = hashlib.sha256()
            total = 0
            chunk: list[dict[str, Any]] = []
            for position, record in enumerate(records):
                try:
                    kind = parse_record_type(record.record_type)
                    values = _new_row(
                        record_type=kind,
                        reference=check_reference(record.reference),
                        version=1,
                        previous=None,
                        fields=check_fields(kind, record.fields),
                        document=record.document,
                        reason="",
                        actor=who,
                        when=when,
                    )
                except InputError as exc:
                    raise InputError(
                        f"records.{position}.{exc.field}", exc.value, exc.expected
                    ) from None
                load_hash.update(bytes.fromhex(values["digest"]))
                chunk.append(values)
                if len(chunk) >= chunk_size:
                    self._insert_chunk(session, chunk, postgres=postgres)
                    total += len(chunk)
                    chunk = []
            if chunk:
                self._insert_chunk(session, chunk, postgres=postgres)
                total += len(chunk)
            if total:
                audit.append(
                    session,
                    actor=who,
                    action="records.loaded",
                    subject="records",
                    payload={"versions": total, "digests_sha256": load_hash.hexdigest()},
                    recorded_at=when,
                )
            return total

        try:
            return self._write(work)
        except IntegrityError as exc:
            if "reference" in str(exc.orig):
                raise InputError(
                    "records.reference", "duplicate", "references new to the registry"
                ) from None
            raise

    @staticmethod
    def _insert_chunk(session: Session, chunk: list[dict[str, Any]], *, postgres: bool) -> None:
        if not postgres:
            session.execute(insert(RecordVersion), chunk)
            return
        columns = list(chunk[0])
        raw = session.connection().connection.driver_connection
        assert raw is not None
        names = ", ".join(columns)
        try:
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY record_versions ({names}) FROM STDIN") as copy,
            ):
                for values in chunk:
                    copy.write_row([values[c] for c in columns])
        except Exception as exc:
            if str(getattr(exc, "sqlstate", "")) == "23505":  # unique_violation
                raise InputError(
                    "records.reference", "duplicate", "references new to the registry"
                ) from None
            raise

    # ------------------------------------------------------------ anchoring

    def pending_count(self) -> int:
        """Versions not stamped yet [count]."""
        with self._read() as session:
            query = select(func.count()).select_from(RecordVersion)
            return int(session.scalar(query.where(RecordVersion.batch_id.is_(None))) or 0)

    def anchor_pending(
        self, actor: str, attest: Attester, *, chunk_size: int = DEFAULT_CHUNK
    ) -> AnchorBatchView | None:
        """Stamp every version not stamped yet, in one batch (one Merkle tree).

        Each version gets its own ``.ots`` proof, from its digest up to the batch's
        root; the root is what the calendars receive. The proofs are written into the
        versions' empty proof columns (the one change the triggers allow).

        Parameters
        ----------
        actor
            Who anchors (1-200 characters).
        attest
            Gives the batch's root its first attestation: :func:`calendar_attester`
            (OpenTimestamps calendars) or :func:`regtest_attester` (a private chain).
            If it raises, nothing is stored and the versions stay pending.
        chunk_size
            Versions per batched update [versions], >= 1.

        Returns
        -------
        AnchorBatchView or None
            The batch, or None when nothing was pending.
        """
        who = _actor(actor)
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise InputError("chunk_size", chunk_size, "an integer >= 1 [versions]")

        def work(session: Session) -> AnchorBatchView | None:
            rows = session.execute(
                select(RecordVersion.id, RecordVersion.digest)
                .where(RecordVersion.batch_id.is_(None))
                .order_by(RecordVersion.id)
            ).all()
            if not rows:
                return None
            ids = [row[0] for row in rows]
            root, proofs = stamp_batch([bytes.fromhex(row[1]) for row in rows], attest)
            del rows
            when = self.now()
            batch = RecordAnchorBatch(
                merkle_root=root.hex(), leaf_count=len(ids), stamped_at=when, stamped_by=who
            )
            session.add(batch)
            session.flush()
            first = next(proofs)
            found = verify_proof(first, None)
            heights = [a.height for a in found.attestations if a.kind == "bitcoin" and a.height]
            height = min(heights) if heights else None
            self._set_proofs(
                session, batch.id, ids, itertools.chain([first], proofs), chunk_size, height
            )
            audit.append(
                session,
                actor=who,
                action="records.stamped",
                subject=f"record_batch:{batch.id}",
                payload={"merkle_root": batch.merkle_root, "versions": len(ids)},
                recorded_at=when,
            )
            return _batch_view(batch)

        return self._write(work)

    @staticmethod
    def _set_proofs(
        session: Session,
        batch_id: int,
        ids: list[int],
        proofs: Iterator[bytes],
        chunk_size: int,
        height: int | None,
    ) -> None:
        if session.get_bind().dialect.name == "postgresql":
            raw = session.connection().connection.driver_connection
            assert raw is not None
            with raw.cursor() as cursor:
                cursor.execute(
                    "CREATE TEMPORARY TABLE record_proofs_load "
                    "(id BIGINT PRIMARY KEY, proof BYTEA NOT NULL) ON COMMIT DROP"
                )
                with cursor.copy("COPY record_proofs_load (id, proof) FROM STDIN") as copy:
                    for number, proof in zip(ids, proofs, strict=True):
                        copy.write_row((number, proof))
                cursor.execute(
                    "UPDATE record_versions AS v SET batch_id = %s, ots_proof = l.proof, "
                    "attested_height = %s FROM record_proofs_load AS l WHERE v.id = l.id",
                    (batch_id, height),
                )
            return
        statement = text(
            "UPDATE record_versions SET batch_id = :batch, ots_proof = :proof, "
            "attested_height = :height WHERE id = :id"
        )
        numbers = iter(ids)
        while True:
            chunk = [
                {"batch": batch_id, "proof": proof, "id": number, "height": height}
                for number, proof in zip(
                    itertools.islice(numbers, chunk_size), proofs, strict=False
                )
            ]
            if not chunk:
                return
            session.execute(statement, chunk)

    def attach_upgraded_proof(
        self, actor: str, reference: str, version: int, proof: bytes
    ) -> RecordVersionView:
        """Store a version's proof upgraded to a Bitcoin block attestation (once).

        Parameters
        ----------
        actor
            Who attaches it (1-200 characters).
        reference, version
            The version.
        proof
            The upgraded ``.ots`` proof; it must start from the version's digest and
            carry at least one Bitcoin block header attestation.

        Returns
        -------
        RecordVersionView
            The version, now ``anchored``.

        Raises
        ------
        NotFoundError
            If there is no such version.
        InputError
            If the proof is unreadable, for another digest, or has no Bitcoin attestation.
        RecordImmutableError
            If the version already has an upgraded proof.
        """
        who = _actor(actor)
        ref = check_reference(reference)
        number = _version_number(version)
        found = _read_proof(proof)
        heights = sorted(a.height for a in found.attestations if a.kind == "bitcoin" and a.height)
        if not heights:
            raise InputError("proof", "pending only", "a proof upgraded to a Bitcoin block")

        def work(session: Session) -> RecordVersionView:
            row = self._version(session, ref, number)
            start = found.file_digest.hex()
            if start != row.digest:
                raise InputError("proof", start, f"a proof for this version's digest {row.digest}")
            if row.upgraded_ots_proof is not None:
                raise RecordImmutableError(
                    "upgraded_ots_proof", f"{ref} v{number}", "a version without one (set once)"
                )
            row.upgraded_ots_proof = bytes(proof)
            if row.attested_height is None:
                row.attested_height = heights[0]
            session.flush()
            audit.append(
                session,
                actor=who,
                action="record.proof_upgraded",
                subject=f"record:{ref}",
                payload={"version": number, "attested_height": heights[0]},
                recorded_at=self.now(),
            )
            return _view(row)

        return self._write(work)

    def upgrade_proofs(
        self,
        actor: str,
        calendars: Sequence[str],
        *,
        limit: int = 1_000,
        timeout_s: float = 10.0,
    ) -> int:
        """Ask calendars to complete stamped proofs; attach those that reach a block.

        Each stamped version without a block attestation yet has its pending proof
        upgraded (:func:`hashnation.anchoring.upgrade_proof`); a proof that now names a
        Bitcoin block is attached with :meth:`attach_upgraded_proof` (each in its own
        transaction). Versions still pending at the calendars are left for a later run.

        Parameters
        ----------
        actor
            Who upgrades (1-200 characters).
        calendars
            Calendar base URLs that may be contacted.
        limit
            Versions tried at most in this run [versions], >= 1.
        timeout_s
            Network timeout per request [s].

        Returns
        -------
        int
            Versions whose upgraded proof was attached [count].

        Raises
        ------
        hashnation.anchoring.CalendarError
            If an allowed calendar fails.
        """
        who = _actor(actor)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InputError("limit", limit, "an integer >= 1 [versions]")
        with self._read() as session:
            rows = session.execute(
                select(RecordVersion.reference, RecordVersion.version, RecordVersion.ots_proof)
                .where(
                    RecordVersion.batch_id.is_not(None),
                    RecordVersion.attested_height.is_(None),
                    RecordVersion.upgraded_ots_proof.is_(None),
                )
                .order_by(RecordVersion.id)
                .limit(limit)
            ).all()
        attached = 0
        for reference, version, proof in rows:
            if proof is None:  # pragma: no cover - a stamped version has its proof
                continue
            upgraded, merged = upgrade_proof(bytes(proof), list(calendars), timeout_s)
            if merged and any(a.kind == "bitcoin" for a in _read_proof(upgraded).attestations):
                self.attach_upgraded_proof(who, reference, version, upgraded)
                attached += 1
        return attached

    # ------------------------------------------------------------ reading

    def get(self, reference: str, version: int | None = None) -> RecordVersionView:
        """Return a version of a record: the latest when ``version`` is None.

        Raises
        ------
        NotFoundError
            If there is no such record or version.
        """
        ref = check_reference(reference)
        number = None if version is None else _version_number(version)
        with self._read() as session:
            return _view(self._version(session, ref, number))

    def history(self, reference: str) -> list[RecordVersionView]:
        """All versions of a record, oldest first.

        Raises
        ------
        NotFoundError
            If there is no such record.
        """
        ref = check_reference(reference)
        with self._read() as session:
            rows = session.scalars(
                select(RecordVersion)
                .where(RecordVersion.reference == ref)
                .order_by(RecordVersion.version)
            ).all()
            if not rows:
                raise NotFoundError(f"reference: no record {ref!r}")
            return [_view(row) for row in rows]

    def lookup(self, query: str, *, limit: int = 50) -> list[RecordVersionView]:
        """Find records by exact reference, reference prefix, or digest (64 hex digits).

        Parameters
        ----------
        query
            A reference, the start of one, or a version's digest.
        limit
            Versions at most (1-1000).

        Returns
        -------
        list of RecordVersionView
            The latest version of each record whose reference matches, by reference;
            for a digest, every version with that digest.
        """
        if not isinstance(query, str) or not query.strip() or len(query.strip()) > _MAX_LOOKUP:
            raise InputError("query", query, f"a reference or digest (1-{_MAX_LOOKUP} characters)")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise InputError("limit", limit, "an integer from 1 to 1000")
        wanted = query.strip()
        with self._read() as session:
            lowered = wanted.lower()
            if len(lowered) == 64 and all(c in "0123456789abcdef" for c in lowered):
                rows = session.scalars(
                    select(RecordVersion)
                    .where(RecordVersion.digest == lowered)
                    .order_by(RecordVersion.id)
                    .limit(limit)
                ).all()
                if rows:
                    return [_view(row) for row in rows]
            latest = (
                select(RecordVersion.reference, func.max(RecordVersion.version).label("v"))
                .where(RecordVersion.reference.startswith(wanted, autoescape=True))
                .group_by(RecordVersion.reference)
                .order_by(RecordVersion.reference)
                .limit(limit)
                .subquery()
            )
            rows = session.scalars(
                select(RecordVersion)
                .join(
                    latest,
                    (RecordVersion.reference == latest.c.reference)
                    & (RecordVersion.version == latest.c.v),
                )
                .order_by(RecordVersion.reference)
            ).all()
            return [_view(row) for row in rows]

    def batch(self, batch_id: int) -> AnchorBatchView:
        """Return an anchoring batch.

        Raises
        ------
        NotFoundError
            If there is no such batch.
        """
        with self._read() as session:
            row = session.get(RecordAnchorBatch, batch_id)
            if row is None:
                raise NotFoundError(f"batch_id: no anchoring batch {batch_id!r}")
            return _batch_view(row)

    def proof(self, reference: str, version: int, *, upgraded: bool = True) -> bytes:
        """Return a version's ``.ots`` proof (the upgraded one if any and ``upgraded``).

        Raises
        ------
        NotFoundError
            If there is no such version, or it is not stamped yet.
        """
        ref = check_reference(reference)
        number = _version_number(version)
        with self._read() as session:
            row = self._version(session, ref, number)
            found = (row.upgraded_ots_proof if upgraded else None) or row.ots_proof
            if found is None:
                raise NotFoundError(f"proof: {ref} version {number} is not stamped yet")
            return bytes(found)

    def check_proof(
        self,
        reference: str,
        version: int,
        proof: bytes,
        headers: HeaderStore | None = None,
    ) -> ProofCheck:
        """Check a given ``.ots`` proof against a version's stored digest.

        Parameters
        ----------
        reference, version
            The version.
        proof
            A detached ``.ots`` proof (e.g. uploaded by a member of the public).
        headers
            Validated Bitcoin headers to check block attestations against; None
            checks only that the proof is for the stored digest.

        Returns
        -------
        ProofCheck
            Whether the proof is for this digest and whether it reached a block.

        Raises
        ------
        NotFoundError
            If there is no such version.
        InputError
            Field ``proof``, if the proof is unreadable.
        """
        stored = self.get(reference, version)
        found = _read_proof(proof, headers)
        return _to_check(stored.digest, found)

    def verify(self, reference: str, version: int, headers: HeaderStore) -> ProofCheck:
        """Verify a version's stored proof (upgraded if any) against a header store.

        Raises
        ------
        NotFoundError
            If there is no such version or it is not stamped yet.
        """
        return self.check_proof(reference, version, self.proof(reference, version), headers)

    def verify_batch(
        self,
        batch_id: int,
        headers: HeaderStore | None = None,
        *,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> int:
        """Check every proof of a batch against the stored digests and the batch's root.

        Each version's proof must start from the version's digest and its operations
        must reach the batch's stored Merkle root; with ``headers``, each must also
        verify to a Bitcoin block held there.

        Parameters
        ----------
        batch_id
            The batch.
        headers
            Validated headers; None skips the block check.
        chunk_size
            Versions read and checked at a time [versions].

        Returns
        -------
        int
            Proofs verified [count] (all of the batch's versions).

        Raises
        ------
        NotFoundError
            If there is no such batch.
        InputError
            Naming the first version whose proof does not verify.
        """
        root = bytes.fromhex(self.batch(batch_id).merkle_root)
        checked = 0
        with self._read() as session:
            result = session.execute(
                select(RecordVersion.id, RecordVersion.digest, RecordVersion.ots_proof)
                .where(RecordVersion.batch_id == batch_id)
                .order_by(RecordVersion.id)
                .execution_options(yield_per=chunk_size)
            )
            for rows in result.partitions():
                proofs: list[bytes] = []
                digests: list[bytes] = []
                for number, digest, proof in rows:
                    data = b"" if proof is None else bytes(proof)
                    expected = bytes.fromhex(digest)
                    if not _reaches(data, expected, root):
                        raise InputError(
                            f"record_versions.{number}.ots_proof",
                            "does not reach the batch root",
                            f"a proof from digest {digest} to root {root.hex()}",
                        )
                    proofs.append(data)
                    digests.append(expected)
                if headers is not None:
                    outcomes = verify_proofs(proofs, headers, digests=digests)
                    for row, outcome in zip(rows, outcomes, strict=True):
                        if not outcome.ok:
                            raise InputError(
                                f"record_versions.{row[0]}.ots_proof",
                                outcome.status,
                                f"a proof verified by a block header ({outcome.message})",
                            )
                checked += len(rows)
        return checked


def _read_proof(proof: bytes, headers: HeaderStore | None = None) -> Verification:
    if not isinstance(proof, bytes | bytearray):
        raise InputError("proof", type(proof).__name__, "the bytes of an .ots proof")
    try:
        return verify_proof(bytes(proof), headers)
    except AnchorInputError as exc:
        raise InputError("proof", exc.value, exc.expected) from None


def _reaches(proof: bytes, digest: bytes, root: bytes) -> bool:
    """Whether a proof starts from ``digest`` and its leading operations reach ``root``.

    Runs the leading ``append``/``prepend``/``sha256`` operations directly, stopping
    at the first message equal to ``root`` (the batch root's own timestamp follows).
    """
    head = len(_PROOF_HEAD)
    if proof[:head] != _PROOF_HEAD or proof[head : head + 32] != digest:
        return False
    pos = head + 32
    msg = digest
    end = len(proof)
    sha256 = hashlib.sha256
    while pos < end:
        if msg == root:
            return True
        tag = proof[pos]
        if tag == 0x08:
            msg = sha256(msg).digest()
            pos += 1
        elif tag in (0xF0, 0xF1) and pos + 1 < end and 1 <= proof[pos + 1] < 0x80:
            size = proof[pos + 1]
            arg = proof[pos + 2 : pos + 2 + size]
            msg = msg + arg if tag == 0xF0 else arg + msg
            pos += 2 + size
        else:
            return False
    return msg == root
