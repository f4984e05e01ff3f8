"""Benchmark: building a proof-of-liabilities tree for ten million accounts.

Builds one BTC Merkle-sum tree (:func:`hashnation.proofs.liabilities.build_liabilities`)
over ``--accounts`` customers (ten million by default): one HMAC-SHA256 nonce
and one leaf hash per customer, one node hash per parent, padding included.
Prints

* the build's wall time and accounts/s;
* a baseline measured in the same process: raw ``hashlib.sha256(m).digest()``
  over 81-byte messages, as many calls as the tree has nodes (leaves, internal
  nodes and padding), and the build's time as a multiple of it. Build and
  baseline are each run ``--repeat`` times, alternately, and the best of each
  is kept (shared machines vary by tens of percent from run to run);
* inclusion-proof verification: ``--proofs`` random customers' proofs written
  to JSON, read back and checked (:func:`~hashnation.proofs.liabilities.verify_inclusion`),
  mean and worst time per proof, reading included and not;
* peak resident memory of this process and of the hashing workers (``getrusage``).

    python bench/bench_por_tree.py [--accounts 10000000] [--workers 2] [--repeat 3]
                                   [--proofs 1000] [--json out.json]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from hashnation.proofs.balances import Balances
from hashnation.proofs.documents import InclusionProof, parse_document
from hashnation.proofs.liabilities import build_liabilities, verify_inclusion

HEIGHT = 900_000


def baseline_s(count: int) -> float:
    """Seconds for ``count`` raw ``sha256(81 bytes).digest()`` calls."""
    messages = [os.urandom(81) for _ in range(1024)]
    sha = hashlib.sha256
    started = time.perf_counter()
    for message in itertools.islice(itertools.cycle(messages), count):
        sha(message).digest()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--proofs", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3, help="builds and baselines, best kept")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"accounts": args.accounts, "workers": args.workers}
    print(f"{os.cpu_count()} CPUs; {args.accounts:,} accounts, {args.workers} workers", flush=True)

    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    ids = [f"cust{i:09d}" for i in range(args.accounts)]
    amounts = rng.integers(0, 10**11, size=args.accounts, dtype=np.uint64)  # up to 1,000 BTC
    print(f"input made in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    balances = Balances.single_asset(ids, "BTC", amounts)
    results["check_s"] = time.perf_counter() - started
    print(f"balances checked in {results['check_s']:.1f} s", flush=True)

    builds, bases = [], []
    for run in range(args.repeat):
        book = None  # free the previous tree first
        started = time.perf_counter()
        book = build_liabilities(
            balances, height=HEIGHT, secret=b"\x5a" * 32, custodian="bench", workers=args.workers
        )
        builds.append(time.perf_counter() - started)
        nodes = sum(len(level) for level in book.trees["BTC"].levels)
        bases.append(baseline_s(nodes))
        print(
            f"run {run + 1}: build {builds[-1]:.2f} s, baseline ({nodes:,} raw sha256(81 B) "
            f"calls) {bases[-1]:.2f} s, ratio {builds[-1] / bases[-1]:.2f}",
            flush=True,
        )
    assert book is not None
    build, base = min(builds), min(bases)
    results.update(
        build_s=build,
        build_runs_s=builds,
        accounts_per_s=args.accounts / build,
        tree_nodes=nodes,
        root=book.root().assets[0].digest,
        baseline_s=base,
        baseline_runs_s=bases,
        ratio_to_baseline=build / base,
    )
    print(
        f"build (best of {args.repeat}): {build:.2f} s, {args.accounts / build:,.0f} accounts/s "
        f"({nodes:,} nodes, depth {book.root().assets[0].depth}); baseline (best of "
        f"{args.repeat}) {base:.2f} s; build = {build / base:.2f}x baseline",
        flush=True,
    )

    picks = rng.choice(args.accounts, size=min(args.proofs, args.accounts), replace=False)
    texts = [book.proof(ids[int(i)]).to_json() for i in picks]
    verify_ms, total_ms = [], []
    for text in texts:
        started = time.perf_counter()
        proof = parse_document(InclusionProof, text)
        parsed = time.perf_counter()
        report = verify_inclusion(proof)
        done = time.perf_counter()
        assert report.ok
        verify_ms.append((done - parsed) * 1e3)
        total_ms.append((done - started) * 1e3)
    results.update(
        verify_ms_mean=float(np.mean(verify_ms)),
        verify_ms_max=float(np.max(verify_ms)),
        read_and_verify_ms_mean=float(np.mean(total_ms)),
        read_and_verify_ms_max=float(np.max(total_ms)),
    )
    print(
        f"inclusion proof ({len(texts)} customers): verify {np.mean(verify_ms):.3f} ms mean, "
        f"{np.max(verify_ms):.3f} ms worst; read + verify {np.mean(total_ms):.3f} ms mean, "
        f"{np.max(total_ms):.3f} ms worst",
        flush=True,
    )

    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["peak_rss_workers_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"peak RSS {results['peak_rss_mb']:,.0f} MB (largest worker "
        f"{results['peak_rss_workers_mb']:,.0f} MB, shared tree pages counted in both)"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
