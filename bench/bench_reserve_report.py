"""Benchmark: build and verify the transparency report of a 10,000-UTXO reserve.

The reserve is :func:`hashnation.reserve.demo.demo_reserve`: ``--utxos`` purchases
of 1 BTC, each to a fresh address of a watch-only descriptor, ``--per-block`` of
them in each block of a regtest chain mined for the run (real proof of work for
regtest's target, real merkle trees). The run times

* **build**: gap-limit scan of the descriptor against the chain source, header
  sync and validation from the checkpoint, UTXO set rebuilt from history with every
  merkle proof checked, report assembled (:func:`collect_report`);
* **serialise**: the JSON file as published;
* **verify**: :func:`verify_report` on the parsed file, as a reader runs it offline
  (headers, re-derivation of every address, every funding transaction and merkle
  branch, every output, the sums).

For scale it also times the baseline a verifier cannot do without: deriving the
same addresses from the descriptor alone, in the same process.

    python bench/bench_reserve_report.py [--utxos 10000] [--per-block 100] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

from hashnation.reserve.demo import demo_reserve
from hashnation.reserve.descriptors import derive_addresses
from hashnation.reserve.recheck import verify_report
from hashnation.reserve.service import collect_report, scan_reserve
from hashnation.reserve.transparency import PriceQuote


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utxos", type=int, default=10_000)
    parser.add_argument("--per-block", type=int, default=100)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    demo = demo_reserve(args.utxos, per_block=args.per_block)
    setup_s = time.perf_counter() - t0
    height = demo.chain.tip_height()
    print(f"reserve: {args.utxos:,} UTXOs in {height} regtest blocks (mined in {setup_s:.1f} s)")

    t0 = time.perf_counter()
    watched = scan_reserve(demo.chain, demo.reserve, gap_limit=20)
    report = collect_report(
        source=demo.chain,
        reserve_name="Benchmark reserve",
        height=height,
        watched=watched,
        descriptors=demo.descriptors,
        network="regtest",
        ledger_sat=demo.held_sat[height],
        price=PriceQuote(Decimal("91000"), "stated", "2025-11-23"),
    )
    build_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    text = json.dumps(report.to_json_dict())
    serialise_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    result = verify_report(json.loads(text))
    verify_s = time.perf_counter() - t0
    if not result.ok:
        print("verification FAILED:", result.to_dict(), file=sys.stderr)
        return 1

    desc = demo.reserve.items()[0][1]
    t0 = time.perf_counter()
    derive_addresses(desc, 0, len(watched))
    derive_s = time.perf_counter() - t0

    figures = {
        "utxos": report.totals.utxo_count,
        "scripts": len(report.scripts),
        "headers": len(report.headers),
        "report_mb": len(text) / 1e6,
        "build_s": build_s,
        "serialise_s": serialise_s,
        "verify_s": verify_s,
        "derive_only_s": derive_s,
        "verify_over_derive": verify_s / derive_s,
        "peak_rss_mb": _peak_rss_mb(),
    }
    print(
        f"report: {figures['utxos']:,} UTXOs, {figures['scripts']:,} scripts, "
        f"{figures['headers']} headers, {figures['report_mb']:.1f} MB JSON"
    )
    print(f"build   {build_s:7.2f} s  (scan, headers, proofs, assembly)")
    print(f"json    {serialise_s:7.2f} s")
    print(
        f"verify  {verify_s:7.2f} s  ({verify_s / derive_s:.2f}x deriving the addresses alone: "
        f"{derive_s:.2f} s)"
    )
    print(f"peak RSS {figures['peak_rss_mb']:.0f} MB")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
