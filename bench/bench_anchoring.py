"""Benchmark: stamping a million records into one OpenTimestamps batch and verifying them all.

Steps, each timed:

* stamp: :func:`hashnation.anchoring.stamp_digests` over ``--records`` SHA-256
  digests (one nonce and one leaf hash per record, one hash per tree node);
* anchor: the root committed in an ``OP_RETURN`` transaction mined on a
  regtest chain (:func:`~hashnation.anchoring.block_timestamp`), headers
  loaded into a validated ``HeaderStore(params=REGTEST)``;
* write: every record's ``.ots`` proof serialized and written to one file
  (length-prefixed; ``--dir`` writes one ``.ots`` file per record instead);
* verify: the proofs read back and each verified against the header store and
  its record digest (:func:`~hashnation.anchoring.verify_proofs`).

Baselines measured in the same process: the library's ``make_merkle_tree``
over ``--baseline`` records (records/s, and the batch stamper's speed as a
multiple of it), and :func:`~hashnation.anchoring.verify_proof` (the full
library parse per proof) over ``--baseline`` proofs. Prints records/s for
stamping (with writing) and verifying, and peak resident memory.

    python bench/bench_anchoring.py [--records 1000000] [--baseline 20000] [--dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import struct
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from opentimestamps.core.op import OpAppend, OpSHA256
from opentimestamps.core.timestamp import Timestamp, make_merkle_tree

from hashnation.anchoring import (
    block_timestamp,
    stamp_digests,
    verify_proof,
    verify_proofs,
)
from hashnation.chain.headers import REGTEST, HeaderStore
from hashnation.chain.regtest import RegtestChain, payment_transaction
from hashnation.chain.transactions import parse_transaction

_LEN = struct.Struct("<I")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _read_back(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while head := fh.read(4):
            (size,) = _LEN.unpack(head)
            yield fh.read(size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=20_000)
    parser.add_argument("--dir", type=Path, default=None, help="write one .ots file per record")
    args = parser.parse_args(argv)
    n = args.records

    digests = [hashlib.sha256(i.to_bytes(8, "little")).digest() for i in range(n)]

    t0 = time.perf_counter()
    batch = stamp_digests(digests)
    t_stamp = time.perf_counter() - t0

    chain = RegtestChain()
    tx = payment_transaction([(b"\x6a\x20" + batch.root, 0)])
    height = chain.mine([payment_transaction([(b"\x51", 1)], tag=1), tx])
    merkle = chain.merkle_proof(parse_transaction(tx).txid_hex, height)
    batch.merge_root(block_timestamp(batch.root, tx, merkle.branch, merkle.index, height))
    store = HeaderStore(chain.checkpoint(), params=REGTEST)
    store.extend(chain.block_header(h) for h in range(1, chain.tip_height() + 1))

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "proofs.bin"
        t0 = time.perf_counter()
        total_bytes = 0
        if args.dir is not None:
            args.dir.mkdir(parents=True, exist_ok=True)
            for i, proof in enumerate(batch.proofs()):
                (args.dir / f"{i:07d}.ots").write_bytes(proof)
                total_bytes += len(proof)
        with out.open("wb") as fh:
            for proof in batch.proofs():
                fh.write(_LEN.pack(len(proof)))
                fh.write(proof)
                total_bytes += len(proof)
        t_write = time.perf_counter() - t0

        t0 = time.perf_counter()
        verified = sum(
            1
            for v in verify_proofs(_read_back(out), store, digests=digests)
            if v.ok and v.height == height
        )
        t_verify = time.perf_counter() - t0
        sample = [p for p, _ in zip(_read_back(out), range(args.baseline), strict=False)]

    if verified != n:
        print(f"FAILED: {verified} of {n} proofs verified", file=sys.stderr)
        return 1

    # Baselines: the library's own objects.
    m = min(args.baseline, n)
    t0 = time.perf_counter()
    leaves = [Timestamp(d).ops.add(OpAppend(bytes(16))).ops.add(OpSHA256()) for d in digests[:m]]
    make_merkle_tree(leaves)
    t_lib_stamp = time.perf_counter() - t0
    del leaves
    t0 = time.perf_counter()
    lib_ok = sum(verify_proof(p, store, digest=d).ok for p, d in zip(sample, digests, strict=False))
    t_lib_verify = time.perf_counter() - t0
    assert lib_ok == len(sample)

    stamp_rate = n / t_stamp
    lib_stamp_rate = m / t_lib_stamp
    verify_rate = n / t_verify
    lib_verify_rate = len(sample) / t_lib_verify
    print(f"records: {n:,} in one batch, root {batch.root.hex()}, regtest block {height}")
    print(
        f"stamp (tree, nonces): {t_stamp:.2f} s = {stamp_rate:,.0f} records/s "
        f"(library make_merkle_tree baseline {lib_stamp_rate:,.0f} records/s, "
        f"x{stamp_rate / lib_stamp_rate:.1f})"
    )
    print(
        f"serialize + write proofs: {t_write:.2f} s = {n / t_write:,.0f} records/s, "
        f"{total_bytes / n:.0f} bytes/proof, {total_bytes / 2**20:,.0f} MiB"
    )
    print(f"stamp incl. writing: {n / (t_stamp + t_write):,.0f} records/s")
    print(
        f"verify (read back, all {n:,} against the header store): {t_verify:.2f} s = "
        f"{verify_rate:,.0f} records/s (library parse per proof baseline "
        f"{lib_verify_rate:,.0f} records/s, x{verify_rate / lib_verify_rate:.1f})"
    )
    print(f"peak RSS: {_peak_rss_mib():,.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
