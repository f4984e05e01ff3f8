"""Benchmark: crash safety: kill -9 at random moments during ledger imports and registry writes.

For each back end (SQLite: a file in a temporary folder; PostgreSQL: a throwaway
server started here with ``initdb``/``pg_ctl``, :class:`hashnation.store.pgtemp.TemporaryPostgres`)
and each kind of write (``ledger``: reserve ledger CSV imports of 10 to 240 entries,
each all-or-nothing; ``registry``: registry service writes, each one transaction
with its hash-chained audit entry), it runs ``--trials`` crash trials
(:func:`hashnation.hardening.crash.run_trial`): a fresh database, a worker writing
and acknowledging each committed write, a ``SIGKILL`` at a seeded random moment
(after 1 to N acknowledgements, during or just after the next write), the checker
(no acknowledged write lost, no partial write, the audit chain and the ledger's
invariants verify), then the worker restarted on the same database and killed
again (``--rounds``, 2 by default).

It prints one line per back end and kind and writes, with ``--json PATH``
(atomically)::

    {"trials": {"sqlite/ledger": {"trials": 100, "kills": 200, "acked_writes": ...,
                                   "lost": 0, "partial": 0, "audit_failures": 0,
                                   "integrity_failures": 0, "seconds": ...}, ...},
     "total_trials": ..., "total_lost": 0, "total_partial": 0,
     "total_audit_failures": 0, ...}

Exit status 1 when any trial lost, tore or broke something (or could not run).

    python bench/bench_crash.py [--trials 100] [--quick] [--json crash.json]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from hashnation.cli.files import write_json_atomically
from hashnation.hardening.crash import (
    BACKENDS,
    KINDS,
    CrashTrialError,
    TrialDatabases,
    TrialResult,
    run_trial,
)
from hashnation.store.pgtemp import find_pg_bin


def _figures(results: list[TrialResult], errors: list[str], seconds: float) -> dict[str, Any]:
    rounds = [r for t in results for r in t.rounds]
    starts = [r.start_s for r in rounds if not math.isnan(r.start_s)]
    return {
        "trials": len(results) + len(errors),
        "kills": len(rounds),
        "acked_writes": sum(t.acked_writes for t in results),
        "in_flight_rolled_back": sum(r.in_flight == "absent" for r in rounds),
        "in_flight_committed": sum(r.in_flight == "committed" for r in rounds),
        "killed_between_writes": sum(r.in_flight == "none" for r in rounds),
        "lost": sum(len(t.lost) for t in results),
        "partial": sum(len(t.partial) for t in results),
        "audit_failures": sum(len(t.audit_failures) for t in results),
        "integrity_failures": sum(len(t.integrity_failures) for t in results),
        "errors": len(errors),
        "worker_start_s": statistics.median(starts) if starts else None,
        "seconds_per_trial": seconds / max(1, len(results) + len(errors)),
        "seconds": seconds,
    }


def _run_config(
    dbs: TrialDatabases, kind: str, trials: int, args: argparse.Namespace, failures: list[str]
) -> dict[str, Any]:
    results: list[TrialResult] = []
    errors: list[str] = []
    started = time.monotonic()
    for number in range(trials):
        seed = args.seed * 1_000_000 + number
        url = dbs.make()
        try:
            result = run_trial(url, kind, seed, rounds=args.rounds, spawn=args.spawn)
        except CrashTrialError as exc:
            errors.append(str(exc))
            failures.append(f"{dbs.backend}/{kind} seed {seed}: {exc}")
            continue
        finally:
            dbs.drop(url)
        results.append(result)
        for round_ in result.rounds:
            for line in round_.check.problems():
                failures.append(f"{dbs.backend}/{kind} seed {seed} round {round_.round}: {line}")
    return _figures(results, errors, time.monotonic() - started)


def _row(name: str, f: dict[str, Any]) -> str:
    start = f["worker_start_s"]
    return (
        f"{name:<20} {f['trials']:>6} {f['kills']:>6} {f['acked_writes']:>8} "
        f"{f['in_flight_rolled_back']:>6} {f['in_flight_committed']:>6} "
        f"{f['killed_between_writes']:>6} {f['lost']:>5} {f['partial']:>7} "
        f"{f['audit_failures']:>6} {f['integrity_failures']:>6} {f['errors']:>6} "
        f"{(start if start is not None else float('nan')):>8.3f} "
        f"{f['seconds_per_trial']:>8.2f} {f['seconds']:>8.1f}"
    )


HEADER = (
    f"{'backend/kind':<20} {'trials':>6} {'kills':>6} {'acked':>8} "
    f"{'rolled':>6} {'commit':>6} {'betw.':>6} {'lost':>5} {'partial':>7} "
    f"{'audit':>6} {'integ.':>6} {'errors':>6} {'start s':>8} {'s/trial':>8} {'seconds':>8}"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--trials", type=int, default=100, help="trials per back end and kind")
    parser.add_argument("--quick", action="store_true", help="3 trials per back end and kind")
    parser.add_argument("--rounds", type=int, default=2, help="worker starts (and kills) a trial")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated")
    parser.add_argument(
        "--spawn",
        choices=("fork", "exec"),
        default="fork",
        help="fork workers from a server that imported the modules once (default), "
        "or start 'python -m hashnation.hardening.crash worker' each time",
    )
    parser.add_argument("--seed", type=int, default=0, help="base seed of the trials")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    trials = 3 if args.quick else args.trials
    if trials < 1 or args.rounds < 1:
        parser.error("--trials and --rounds must be >= 1")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    for backend in backends:
        if backend not in BACKENDS:
            parser.error(f"--backends: {backend!r} is not one of {', '.join(BACKENDS)}")
    for kind in kinds:
        if kind not in KINDS:
            parser.error(f"--kinds: {kind!r} is not one of {', '.join(KINDS)}")
    skipped: list[str] = []
    if "postgresql" in backends and find_pg_bin() is None:
        reason = "postgresql: server programs (initdb, pg_ctl) not found"
        if os.environ.get("CI"):
            print(f"error: {reason}, and CI is set", file=sys.stderr)
            return 2
        skipped.append(reason)
        backends.remove("postgresql")
    print(
        f"crash trials: {trials} per back end and kind, {args.rounds} kills each, "
        f"workers by {args.spawn}, seed {args.seed}"
    )
    started = time.monotonic()
    table: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    print(HEADER)
    for backend in backends:
        with TrialDatabases(backend) as dbs:
            for kind in kinds:
                name = f"{backend}/{kind}"
                table[name] = _run_config(dbs, kind, trials, args, failures)
                print(_row(name, table[name]), flush=True)
    for line in skipped:
        print(f"skipped {line}")
    totals = {
        key: sum(f[key] for f in table.values())
        for key in (
            "trials",
            "kills",
            "acked_writes",
            "lost",
            "partial",
            "audit_failures",
            "integrity_failures",
            "errors",
        )
    }
    seconds = time.monotonic() - started
    print(
        f"total: {totals['trials']} trials, {totals['kills']} kills, "
        f"{totals['acked_writes']} acknowledged writes; lost {totals['lost']}, "
        f"partial {totals['partial']}, audit failures {totals['audit_failures']}, "
        f"integrity failures {totals['integrity_failures']}, errors {totals['errors']} "
        f"({seconds:.0f} s)"
    )
    for line in failures[:20]:
        print(f"  {line}")
    if args.json is not None:
        doc: dict[str, Any] = {"trials": table}
        doc.update({f"total_{key}": value for key, value in totals.items()})
        doc.update(
            {
                "rounds": args.rounds,
                "spawn": args.spawn,
                "seed": args.seed,
                "quick": args.quick,
                "skipped": skipped,
                "failures": failures[:50],
                "seconds": seconds,
            }
        )
        write_json_atomically(args.json, doc)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
