"""Benchmark: property-based tests of the whole HTTP API (Schemathesis) against a real server.

For each database back end (a fresh SQLite file; a throwaway PostgreSQL server) the run

1. migrates a database and fills it with the example book (``seed_example``: a staff
   token and one token per firm);
2. serves it with uvicorn in a child process (``hashnation.hardening.served``: the app
   of ``hashnation serve``, rate limit off, log kept);
3. runs Schemathesis (``python -m schemathesis.cli run``) over every operation of
   ``/openapi.json`` three times: anonymously, as a firm and as the regulator's staff
   (in that order: staff changes the most), with the checks of
   :data:`hashnation.hardening.api_schema.CHECKS`. The staff run has every phase (schema
   examples, boundary values of each parameter, Hypothesis fuzzing, stateful sequences)
   and ``--max-examples`` (100); the anonymous and firm runs, whose calls mostly end in
   401/403/404, have fewer examples (``--examples``) and no boundary-value phase
   (``--other-phases``);
4. counts the server's logged tracebacks.

It prints, per back end and caller, the operations and test cases run, the failures by
kind and the 5xx answers, and writes (``--json PATH``, atomically) one object::

    {"operations", "test_cases", "failures", "server_errors", "server_tracebacks",
     "checks", "seconds", "max_examples", "seed", "backends", "callers",
     "runs": [{"backend", "caller", "max_examples", "phases", "operations", "test_cases",
               "failures", "server_errors", "seconds", "failure_kinds": [...],
               "run_errors": [...]}, ...]}

``operations`` is the number of operations of the document (the most any run tested);
the other counts are summed over the runs. ``max_examples`` is the default size, each run's
own is in ``runs`` (``--examples`` sets it per caller: anonymous and firm callers mostly
reach 401/403/404 answers, so fewer examples cover them).

    python bench/bench_schemathesis.py [--max-examples 100] [--examples firm=20,anonymous=20]
                                       [--backends sqlite,postgresql] [--callers ...]
                                       [--quick] [--seed 1] [--json out.json] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from hashnation.hardening.api_schema import CHECKS, SchemaRun, run_schemathesis, spare_token_id
from hashnation.hardening.served import serve
from hashnation.store.pgtemp import TemporaryPostgres, find_pg_bin

CALLERS = ("anonymous", "firm", "staff")


def _tracebacks(log: str) -> int:
    """Exceptions the server logged (one ``Traceback`` line each)."""
    return len(re.findall(r"^Traceback \(most recent call last\)", log, flags=re.M))


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def run_backend(
    backend: str, db_url: str, work: Path, args: argparse.Namespace
) -> tuple[list[tuple[str, SchemaRun]], int]:
    """Serve one database and run every caller; return the runs and the server's tracebacks."""
    runs: list[tuple[str, SchemaRun]] = []
    with serve(db_url, work=work, log_level="warning") as served:
        tokens = {"anonymous": None, "firm": served.firm_token, "staff": served.staff_token}
        for caller in args.callers:
            revoke = spare_token_id(served.url, served.staff_token) if caller == "staff" else None
            print(f"  {backend:<10} {caller:<9} ...", end="", flush=True)
            run = run_schemathesis(
                served.url,
                caller=caller,
                token=tokens[caller],
                work=work,
                max_examples=args.examples.get(caller, args.max_examples),
                seed=args.seed,
                revoke_token_id=revoke,
                workers=args.workers,
                phases=args.phases if caller == "staff" else args.other_phases,
            )
            print(
                f" {run.operations} operations, {run.test_cases:,} test cases, "
                f"{run.failures} failures, {run.server_errors} server errors "
                f"({run.seconds:.0f} s)"
            )
            for group in run.groups:
                ops = ", ".join(group["operations"][:4])
                more = len(group["operations"]) - 4
                extra = f" (+{more} more)" if more > 0 else ""
                print(f"      {group['code']} {group['title']}: {group['count']}  {ops}{extra}")
            for error in run.errors:
                print(f"      run error: {error['title']} x{error['count']}")
            runs.append((backend, run))
        tracebacks = _tracebacks(served.log_text())
    return runs, tracebacks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=100, help="test cases per operation")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite and/or postgresql")
    parser.add_argument("--callers", default=",".join(CALLERS), help="anonymous, firm, staff")
    parser.add_argument(
        "--examples",
        default="anonymous=25,firm=25",
        help="examples per operation by caller, overriding --max-examples: firm=20,anonymous=20",
    )
    parser.add_argument(
        "--phases", default="examples,coverage,fuzzing,stateful", help="phases of the staff run"
    )
    parser.add_argument(
        "--other-phases",
        default="examples,fuzzing,stateful",
        help="phases of the anonymous and firm runs (boundary values run as staff)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the generation")
    parser.add_argument("--workers", type=int, default=1, help="concurrent Schemathesis workers")
    parser.add_argument("--quick", action="store_true", help="CI size: 10 examples, SQLite")
    parser.add_argument("--json", type=Path, help="write the figures here (one JSON object)")
    parser.add_argument("--keep", type=Path, help="keep reports and server logs in this folder")
    args = parser.parse_args(argv)
    if args.quick:
        args.max_examples = min(args.max_examples, 10)
        args.backends = "sqlite"
    args.callers = [c.strip() for c in args.callers.split(",") if c.strip()]
    try:
        args.examples = {
            name.strip(): int(count)
            for name, _, count in (part.partition("=") for part in args.examples.split(","))
            if name.strip()
        }
    except ValueError:
        parser.error(f"--examples: expected caller=number,...; got {args.examples!r}")
    if args.quick:
        args.examples = {name: min(n, 10) for name, n in args.examples.items()}
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    args.other_phases = [p.strip() for p in args.other_phases.split(",") if p.strip()]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in backends if b not in ("sqlite", "postgresql")] + [
        c for c in args.callers if c not in CALLERS
    ]
    if unknown:
        parser.error(f"unknown back end or caller: {', '.join(unknown)}")
    if "postgresql" in backends and find_pg_bin() is None:
        print("PostgreSQL server programs not found: SQLite only")
        backends = [b for b in backends if b != "postgresql"]

    sizes = ", ".join(f"{c} {args.examples.get(c, args.max_examples)}" for c in args.callers)
    print(f"Schemathesis over the HTTP API: examples per operation: {sizes}; seed {args.seed}")
    started = time.perf_counter()
    runs: list[tuple[str, SchemaRun]] = []
    tracebacks = 0
    with ExitStack() as stack:
        root = (
            args.keep
            if args.keep is not None
            else Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hn-st-")))
        )
        for backend in backends:
            work = root / backend
            work.mkdir(parents=True, exist_ok=True)
            if backend == "postgresql":
                server = stack.enter_context(TemporaryPostgres())
                db_url = server.create_database("schemathesis")
            else:
                db_url = f"sqlite:///{work / 'registry.db'}"
                (work / "registry.db").unlink(missing_ok=True)
            found, logged = run_backend(backend, db_url, work, args)
            runs += found
            tracebacks += logged
    seconds = time.perf_counter() - started

    figures: dict[str, Any] = {
        "operations": max((r.operations for _, r in runs), default=0),
        "test_cases": sum(r.test_cases for _, r in runs),
        "failures": sum(r.failures for _, r in runs),
        "server_errors": sum(r.server_errors for _, r in runs),
        "server_tracebacks": tracebacks,
        "checks": list(CHECKS),
        "seconds": round(seconds, 1),
        "max_examples": args.max_examples,
        "seed": args.seed,
        "backends": backends,
        "callers": args.callers,
        "runs": [
            {
                "backend": backend,
                "caller": r.caller,
                "max_examples": args.examples.get(r.caller, args.max_examples),
                "phases": args.phases if r.caller == "staff" else args.other_phases,
                "operations": r.operations,
                "test_cases": r.test_cases,
                "failures": r.failures,
                "server_errors": r.server_errors,
                "seconds": round(r.seconds, 1),
                "failure_kinds": r.groups,
                "run_errors": r.errors,
            }
            for backend, r in runs
        ],
    }
    print(
        f"\n{figures['operations']} operations, {figures['test_cases']:,} test cases, "
        f"{figures['failures']} failures, {figures['server_errors']} server errors, "
        f"{tracebacks} server tracebacks, {seconds:.0f} s"
    )
    if args.json is not None:
        _write_json(args.json, figures)
        print(f"figures: {args.json}")
    return 0 if figures["failures"] == 0 and tracebacks == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
