"""Benchmark: 1,000,000 public records added in bulk, anchored in one batch, all proofs verified.

The run

1. migrates a fresh database: a SQLite file in a temporary folder by default, or with
   ``--postgres`` a throwaway PostgreSQL server
   (:class:`hashnation.store.pgtemp.TemporaryPostgres`);
2. measures a baseline in the same process: the canonical serialization and SHA-256 of
   every record's content alone, without validation or the database;
3. adds ``--records`` land titles (version 1 each) with
   :meth:`~hashnation.records.service.RecordsRegistry.add_many`: batched inserts of
   ``--chunk`` rows (``executemany`` on SQLite, ``COPY`` on PostgreSQL), one
   transaction;
4. stamps every pending version in one batch
   (:meth:`~hashnation.records.service.RecordsRegistry.anchor_pending`): one Merkle
   tree, one ``.ots`` proof per record, the batch root committed to a private regtest
   chain mined in process, the proofs written into the versions' proof columns (the
   one update the append-only triggers allow);
5. verifies every stored proof
   (:meth:`~hashnation.records.service.RecordsRegistry.verify_batch`): it starts from
   its version's digest, reaches the batch root, and verifies against the regtest
   chain's headers in a :class:`~hashnation.chain.headers.HeaderStore`.

It prints records/s for insert, stamp and verify, the ratio of the insert rate to
the hashing baseline, and the peak resident memory of the process.

    python bench/bench_records.py [--records 1000000] [--chunk 20000] [--postgres]
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from hashnation.chain.headers import REGTEST, HeaderStore
from hashnation.chain.regtest import RegtestChain
from hashnation.records.service import NewRecord, RecordsRegistry, regtest_attester
from hashnation.records.types import check_fields, content_json
from hashnation.store.db import upgrade

DISTRICTS = ("Lahore", "Karachi", "Islamabad", "Rawalpindi", "Multan", "Peshawar", "Quetta")


def _fields(n: int) -> dict[str, str]:
    return {
        "parcel_id": f"P-{n:08d}",
        "district": DISTRICTS[n % len(DISTRICTS)],
        "area_m2": f"{100 + n % 9_000}.{n % 100:02d}",
        "owner": f"Owner {n}",
        "registered_on": f"20{10 + n % 16}-{1 + n % 12:02d}-{1 + n % 28:02d}",
    }


def _records(count: int) -> Iterator[NewRecord]:
    for n in range(count):
        yield NewRecord("land_title", f"LT-{n:08d}", _fields(n))


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _baseline(count: int) -> float:
    """Records/s of canonical serialization + SHA-256 alone (no validation, no database)."""
    start = time.perf_counter()
    for n in range(count):
        text = content_json(
            record_type="land_title",
            reference=f"LT-{n:08d}",
            version=1,
            previous_digest=None,
            fields=_fields(n),
            document_sha256=None,
        )
        hashlib.sha256(text.encode("utf-8")).digest()
    return count / (time.perf_counter() - start)


def run(url: str, count: int, chunk: int) -> int:
    """Run the benchmark on a migrated database; return 0 when every proof verified."""
    check_fields("land_title", _fields(0))
    baseline = _baseline(min(count, 200_000))
    print(f"baseline (serialize + SHA-256 only): {baseline:,.0f} records/s")
    chain = RegtestChain()
    with RecordsRegistry(url) as records:
        start = time.perf_counter()
        added = records.add_many("bench", _records(count), chunk_size=chunk)
        insert_s = time.perf_counter() - start
        print(
            f"insert: {added:,} records in {insert_s:.1f} s = {added / insert_s:,.0f} records/s"
            f" ({added / insert_s / baseline:.2f} x baseline)"
        )

        start = time.perf_counter()
        batch = records.anchor_pending("bench", regtest_attester(chain), chunk_size=chunk)
        stamp_s = time.perf_counter() - start
        assert batch is not None
        print(
            f"stamp: {batch.leaf_count:,} proofs under root {batch.merkle_root} in "
            f"{stamp_s:.1f} s = {batch.leaf_count / stamp_s:,.0f} records/s"
        )

        headers = HeaderStore(chain.checkpoint(), REGTEST)
        headers.extend(chain.block_header(h) for h in range(1, chain.tip_height() + 1))
        start = time.perf_counter()
        verified = records.verify_batch(batch.id, headers, chunk_size=chunk)
        verify_s = time.perf_counter() - start
        print(
            f"verify: {verified:,} proofs in {verify_s:.1f} s = "
            f"{verified / verify_s:,.0f} records/s (digest, batch root and block header)"
        )
    total_s = insert_s + stamp_s + verify_s
    print(f"total: {total_s:.1f} s; peak RSS {_peak_rss_mib():,.0f} MiB")
    ok = verified == added == count
    print("all proofs verified" if ok else f"MISMATCH: {added=} {verified=} expected {count}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="records to add")
    parser.add_argument("--chunk", type=int, default=20_000, help="rows per batched write")
    parser.add_argument("--postgres", action="store_true", help="run on a throwaway PostgreSQL")
    args = parser.parse_args(argv)
    if args.postgres:
        from hashnation.store.pgtemp import TemporaryPostgres

        server = TemporaryPostgres().start()
        try:
            url = server.create_database("bench_records")
            upgrade(url)
            print(f"back end: PostgreSQL; {args.records:,} records")
            return run(url, args.records, args.chunk)
        finally:
            server.stop()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'records.db'}"
        upgrade(url)
        print(f"back end: SQLite; {args.records:,} records")
        return run(url, args.records, args.chunk)


if __name__ == "__main__":
    sys.exit(main())
