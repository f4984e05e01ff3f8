"""Benchmark: bulk CSV import into the reserve ledger, SQLite and PostgreSQL.

Writes a CSV of ``--entries`` journal entries (2 postings each: purchases,
consolidations, mining payouts, donations, transfers between custody wallets and
network fees, in time order) and imports it with
:func:`hashnation.reserve.ledger.import_csv` in one transaction, into

* a SQLite file (default settings: rollback journal, ``synchronous=FULL``);
* a throwaway PostgreSQL server started for the run (``initdb`` + ``pg_ctl`` in
  a temporary folder, as the ``postgres`` user when run as root) with its
  default durability (``fsync`` and synchronous commit on).

For each it prints wall time, entries/s and postings/s of the import (parse,
checks and writes), and compares with a baseline: the first ``--baseline``
entries recorded one transaction per entry (:func:`record_entry` then commit),
timed and scaled to the full count.

    python bench/bench_ledger.py [--entries 1000000] [--baseline 2000]
                                 [--backends sqlite,postgresql] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hashnation.reserve import ledger
from hashnation.reserve.ledger import EntryDraft, Leg
from hashnation.store.db import make_engine, session_scope, upgrade
from hashnation.store.pgtemp import TemporaryPostgres, find_pg_bin

ACCOUNTS = (
    ("cold", "custody"),
    ("hot", "custody"),
    ("exchange", "counterparty"),
    ("treasury", "government"),
    ("mining-income", "income"),
    ("donations", "equity"),
    ("network-fees", "expense"),
)
START = datetime(2024, 1, 1, tzinfo=UTC)


def drafts(count: int) -> Iterator[EntryDraft]:
    """Yield ``count`` entries of mixed kinds; custody balances never go negative."""
    for n in range(count):
        when = START + timedelta(seconds=30 * n)
        txid = f"{n:064x}"
        step = n % 10
        if step <= 3:
            sat, usd = 100_000 + n % 997, Decimal("45.00") + n % 50
            price = (usd * 100_000_000 / sat).quantize(Decimal("0.01"))
            yield EntryDraft(
                "purchase",
                when,
                (Leg("cold", sat, usd), Leg("exchange", -sat, -usd)),
                {"trade_ref": f"T{n}", "price_usd_per_btc": price, "usd_paid": usd},
            )
        elif step <= 5:
            sat, usd = 200_000, Decimal("60.00")
            yield EntryDraft(
                "consolidation",
                when,
                (Leg("cold", sat, usd), Leg("treasury", -sat, -usd)),
                {"source_wallet": "treasury", "txid": txid},
            )
        elif step == 6:
            sat, usd = 50_000 + n % 1000, Decimal("21.50")
            yield EntryDraft(
                "mining",
                when,
                (Leg("hot", sat, usd), Leg("mining-income", -sat, -usd)),
                {"site": "geo-1", "period": when.strftime("%Y-%m-%d")},
            )
        elif step == 7:
            yield EntryDraft(
                "donation",
                when,
                (Leg("cold", 10_000, Decimal("4.50")), Leg("donations", -10_000, Decimal("-4.50"))),
                {"donor_ref": f"D{n}"},
            )
        elif step == 8:
            yield EntryDraft(
                "transfer", when, (Leg("cold", -30_000), Leg("hot", 30_000)), {"txid": txid}
            )
        else:
            yield EntryDraft(
                "fee",
                when,
                (Leg("hot", -400), Leg("network-fees", 400)),
                {"fee_sat": 400, "txid": txid},
            )


def write_csv(path: Path, count: int) -> None:
    columns = ledger.CSV_COLUMNS
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for n, draft in enumerate(drafts(count)):
            stamp = draft.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            evidence = [str(draft.evidence.get(key, "")) for key in ledger.EVIDENCE_FIELDS]
            for leg in draft.legs:
                value = "" if leg.value_usd is None else f"{leg.value_usd:.2f}"
                writer.writerow(
                    [n, stamp, draft.kind, leg.account, leg.amount_sat, value, "", *evidence]
                )


def prepare(url: str) -> None:
    upgrade(url)
    with session_scope(url) as session:
        for name, kind in ACCOUNTS:
            ledger.add_account(session, name, kind)


def bulk(url: str, path: Path, count: int) -> dict[str, Any]:
    prepare(url)
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        with session_scope(engine) as session:
            result = ledger.import_csv(session, path)
        seconds = time.perf_counter() - started
        with session_scope(engine) as session:
            held = ledger.total_holdings(session)
    finally:
        engine.dispose()
    assert result.entries == count, result
    return {
        "seconds": seconds,
        "entries": result.entries,
        "postings": result.postings,
        "entries_per_s": result.entries / seconds,
        "postings_per_s": result.postings / seconds,
        "held_sat": held,
    }


def baseline(url: str, count: int, limit_s: float) -> dict[str, Any]:
    prepare(url)
    engine = make_engine(url)
    done = 0
    try:
        started = time.perf_counter()
        for draft in drafts(count):
            with session_scope(engine) as session:
                ledger.record_entry(
                    session, draft.kind, draft.occurred_at, draft.legs, draft.evidence
                )
            done += 1
            if time.perf_counter() - started > limit_s:
                break
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    return {"seconds": seconds, "entries": done, "entries_per_s": done / seconds}


def run_backend(
    name: str, url_for: Any, path: Path, count: int, base_count: int, limit_s: float
) -> dict[str, Any]:
    print(f"[{name}] bulk import of {count:,} entries ...", flush=True)
    fast = bulk(url_for("bulk"), path, count)
    print(
        f"[{name}] {fast['seconds']:.1f} s, {fast['entries_per_s']:,.0f} entries/s, "
        f"{fast['postings_per_s']:,.0f} postings/s",
        flush=True,
    )
    slow = baseline(url_for("baseline"), base_count, limit_s)
    scaled = count / slow["entries_per_s"]
    print(
        f"[{name}] baseline, one transaction per entry: {slow['entries']:,} entries in "
        f"{slow['seconds']:.1f} s = {slow['entries_per_s']:,.0f} entries/s; "
        f"{count:,} entries would take {scaled:,.0f} s; bulk is "
        f"{fast['entries_per_s'] / slow['entries_per_s']:,.0f}x faster",
        flush=True,
    )
    return {
        "bulk": fast,
        "baseline": {**slow, "scaled_seconds": scaled},
        "speedup": fast["entries_per_s"] / slow["entries_per_s"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=2_000)
    parser.add_argument("--baseline-limit-s", type=float, default=20.0)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]

    results: dict[str, Any] = {"entries": args.entries}
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as folder:
        root = Path(folder)
        path = root / "entries.csv"
        started = time.perf_counter()
        write_csv(path, args.entries)
        size_mb = path.stat().st_size / 1e6
        print(
            f"CSV: {args.entries:,} entries, {2 * args.entries:,} postings, {size_mb:,.0f} MB "
            f"(written in {time.perf_counter() - started:.1f} s)",
            flush=True,
        )
        if "sqlite" in backends:
            results["sqlite"] = run_backend(
                "sqlite",
                lambda tag: f"sqlite:///{root / f'{tag}.db'}",
                path,
                args.entries,
                args.baseline,
                args.baseline_limit_s,
            )
        if "postgresql" in backends:
            if find_pg_bin() is None:
                print("[postgresql] skipped: no initdb/pg_ctl found", flush=True)
            else:
                with TemporaryPostgres(durable=True) as server:
                    results["postgresql"] = run_backend(
                        "postgresql",
                        server.create_database,
                        path,
                        args.entries,
                        args.baseline,
                        args.baseline_limit_s,
                    )
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {results['peak_rss_mb']:,.0f} MB")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
