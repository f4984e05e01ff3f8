"""Benchmark: the registry API and pages under a constant load, over real HTTP, on PostgreSQL.

The run

1. starts a throwaway PostgreSQL server (:class:`hashnation.store.pgtemp.TemporaryPostgres`,
   durable by default: ``fsync`` and synchronous commits on), migrates a database and
   fills it with :func:`hashnation.registry.seed.seed_example` plus ``--firms`` more
   firms, each licensed (submitted, reviewed, approved, granted) about eighteen
   months ago, so that the public register is not a toy;
2. starts ``hashnation serve --db URL --no-seed --port P`` as a subprocess (uvicorn,
   one process);
3. drives it with Locust, headless, paced at ``--rate`` requests per second
   (users starting tasks as Poisson processes), with the mix of ``locustfile_registry.py``:
   80 % reads of the public register (search pages, firm pages, JSON search and
   records, now and then the whole CSV) and 20 % returns filed by licensed firms
   (valid bodies for past periods, so every POST stores an amendment and appends
   to the audit log);
4. runs a short warm-up, then the baseline (``GET /healthz`` at the same rate) and
   the mix for ``--duration`` seconds, and reads Locust's ``--csv`` statistics.

It prints the throughput achieved, p50/p95/p99 latency overall and per request
type, the failures, the ratio of the mix's p99 to the baseline's, and whether the
target holds: p99 under ``--p99-ms`` (100 ms) at ``--rate`` (200 req/s).

    python bench/bench_registry_load.py [--rate 200] [--duration 60] [--firms 500] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hashnation.registry.licences import LICENCE_SPECS, LicenceType
from hashnation.registry.schedule import reporting_periods
from hashnation.registry.seed import seed_example
from hashnation.registry.service import Principal, Registry
from hashnation.store.db import upgrade
from hashnation.store.pgtemp import TemporaryPostgres

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "locustfile_registry.py"

CITIES = (
    "Karachi", "Lahore", "Islamabad", "Rawalpindi", "Faisalabad", "Multan", "Peshawar",
    "Quetta", "Sialkot", "Gujranwala", "Hyderabad", "Gwadar", "Hunza", "Skardu", "Sukkur",
    "Bahawalpur", "Abbottabad", "Mardan", "Larkana", "Muzaffarabad",
)  # fmt: skip
WORDS = (
    "Digital", "Crypto", "Coin", "Chain", "Ledger", "Vault", "Block", "Asset", "Token",
    "Capital", "Markets", "Trust", "Pay", "Exchange", "Custody",
)  # fmt: skip
SEARCH_TERMS = (*CITIES[:12], "digital", "vault", "capital", "ltd", "VA-EXC", "VA-BRK", "100")


@dataclass(frozen=True)
class Stats:
    """One row of Locust's ``*_stats.csv`` (times in ms)."""

    name: str
    requests: int
    failures: int
    rate_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stepping_clock(start: datetime, step: timedelta) -> Callable[[], datetime]:
    """A clock that starts at ``start`` and moves ``step`` forward at each reading."""
    moment = [start]

    def now() -> datetime:
        moment[0] += step
        return moment[0]

    return now


def _past_periods(licence_type: LicenceType, since: date, today: date) -> list[list[str]]:
    spec = LICENCE_SPECS[licence_type]
    last_end = today - timedelta(days=1)
    periods = reporting_periods(spec.return_frequency, since, last_end)
    return [[start.isoformat(), end.isoformat()] for start, end in periods if start >= since]


def populate(url: str, firms: int, filers: int) -> dict[str, Any]:
    """Seed the example book and ``firms`` licensed firms; return the load plan.

    Parameters
    ----------
    url
        Database URL (migrated).
    firms
        Extra firms, each with a licence granted about 18 months ago.
    filers
        How many of them get a firm API token and file returns in the load.

    Returns
    -------
    dict
        ``firm_ids`` (firms on the register), ``filers`` (application id, licence
        type, token, periods that may be filed), ``terms``, ``licence_types``.
    """
    today = datetime.now(UTC).date()
    with Registry(url) as registry:
        seed_example(registry)
        start = datetime.combine(today - timedelta(days=550), datetime.min.time(), UTC)
        past = Registry(registry.engine, clock=_stepping_clock(start, timedelta(seconds=7)))
        staff = Principal.staff("bench-officer")
        kinds = list(LicenceType)
        granted: list[tuple[int, int, LicenceType]] = []
        for n in range(firms):
            kind = kinds[n % len(kinds)]
            city, word = CITIES[n % len(CITIES)], WORDS[(n // len(CITIES)) % len(WORDS)]
            firm = past.register_firm(
                staff,
                name=f"{city} {word} {kind.value.replace('_', ' ').title()} {n:03d} Ltd",
                registration_number=f"1{n:06d}",
                commercial_name=f"{word}{n:03d}",
                address=f"{n + 1} Main Boulevard, {city}",
                website=f"https://www.{word.lower()}{n:03d}.example.pk",
            )
            spec = LICENCE_SPECS[kind]
            app = past.open_application(
                staff,
                firm.id,
                kind,
                documents=list(spec.required_documents),
                capital_usd=spec.min_capital_usd * Decimal(3),
            )
            as_firm = Principal.firm(firm.id, f"{word}{n:03d}")
            past.act(as_firm, app.id, "submit")
            for action in ("begin_review", "approve", "grant_licence"):
                past.act(staff, app.id, action)
            granted.append((firm.id, app.id, kind))
        licensed_since = (start + timedelta(days=60)).date()
        plan_filers: list[dict[str, Any]] = []
        for firm_id, app_id, kind in granted[:filers]:
            token = registry.issue_token(
                staff, role="firm", firm_id=firm_id, label=f"bench {firm_id}"
            )
            plan_filers.append(
                {
                    "application_id": app_id,
                    "licence_type": kind.value,
                    "token": token,
                    "periods": _past_periods(kind, licensed_since, today),
                }
            )
        on_register = sorted({row.firm_id for row in registry.register(limit=None)})
        entries = registry.register_count()
    return {
        "firm_ids": on_register,
        "filers": plan_filers,
        "terms": list(SEARCH_TERMS),
        "licence_types": [kind.value for kind in LicenceType],
        "register_entries": entries,
    }


SETTLE_S = 3
"""Seconds after the last user is spawned before statistics start [s]."""


def _server_errors(log: Path) -> dict[str, int]:
    """Count the exceptions the server logged, by their last traceback line."""
    found: dict[str, int] = {}
    if not log.exists():
        return found
    pattern = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\b.*")
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if pattern.match(line):
            key = line[:160]
            found[key] = found.get(key, 0) + 1
    return found


def _wait_up(base: str, server: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"hashnation serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"hashnation serve did not answer within {timeout_s} s")


def _cpu_s(pid: int) -> float:
    """User + system CPU time of a process and its children so far [s] (Linux ``/proc``).

    With ``--workers`` the server is a parent with one child process per worker.
    """
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def run_locust(
    host: str,
    user_class: str,
    *,
    rate: float,
    users: int,
    duration_s: int,
    csv_prefix: Path,
    plan_file: Path,
) -> dict[str, Stats]:
    """Run Locust headless at ``rate`` req/s for ``duration_s``; return its stats by name.

    The locustfile resets the statistics :data:`SETTLE_S` seconds after every user is
    spawned (and each has opened its connection), so neither the ramp nor the TCP
    connections are counted; the run lasts that much longer. The ``Aggregated`` row
    is keyed ``"Aggregated"``.
    """
    locust = Path(sys.executable).with_name("locust")
    command = [
        str(locust),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        host,
        "--users",
        str(users),
        "--spawn-rate",
        str(max(users, 1)),
        "--run-time",
        f"{duration_s + SETTLE_S}s",
        "--csv",
        str(csv_prefix),
        "--only-summary",
        "--loglevel",
        "ERROR",
        "--stop-timeout",
        "5",
        user_class,
    ]
    env = {
        **os.environ,
        "HASHNATION_BENCH_PLAN": str(plan_file),
        "HASHNATION_BENCH_USER_RATE": repr(rate / users),
        "HASHNATION_BENCH_SETTLE_S": str(SETTLE_S),
    }
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    stats_file = Path(f"{csv_prefix}_stats.csv")
    if not stats_file.is_file():
        raise RuntimeError(f"locust wrote no statistics (exit {done.returncode}): {done.stderr}")
    return read_stats(stats_file)


def read_stats(path: Path) -> dict[str, Stats]:
    """Read Locust's ``*_stats.csv`` (percentiles as Locust computed them).

    Parameters
    ----------
    path
        The ``PREFIX_stats.csv`` file.

    Returns
    -------
    dict of str to Stats
        By request name; ``"Aggregated"`` for all requests together.
    """
    found: dict[str, Stats] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            count = int(row["Request Count"])

            def ms(column: str, row: dict[str, str] = row, count: int = count) -> float:
                value = row[column]
                return float(value) if count and value not in ("", "N/A") else float("nan")

            found[row["Name"]] = Stats(
                name=row["Name"],
                requests=count,
                failures=int(row["Failure Count"]),
                rate_per_s=float(row["Requests/s"]),
                p50_ms=ms("50%"),
                p95_ms=ms("95%"),
                p99_ms=ms("99%"),
                max_ms=ms("Max Response Time"),
            )
    return found


def _failures(prefix: Path, limit: int = 5) -> list[str]:
    path = Path(f"{prefix}_failures.csv")
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [f"{r['Occurrences']} x {r['Method']} {r['Name']}: {r['Error'][:160]}" for r in rows][
        :limit
    ]


def _print_table(title: str, stats: dict[str, Stats]) -> None:
    print(title)
    print(
        f"  {'request':<26} {'count':>7} {'fail':>5} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}"
    )
    ordered = sorted(
        (s for n, s in stats.items() if n != "Aggregated" and s.requests),
        key=lambda s: s.name,
    )
    for s in [*ordered, stats["Aggregated"]]:
        print(
            f"  {s.name:<26} {s.requests:>7} {s.failures:>5} {s.rate_per_s:>7.1f} "
            f"{s.p50_ms:>6.0f} {s.p95_ms:>6.0f} {s.p99_ms:>6.0f}"
        )
    print("  (latencies in ms)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="offered load [req/s]")
    parser.add_argument("--duration", type=int, default=60, help="measured run [s]")
    parser.add_argument("--warmup", type=int, default=10, help="warm-up run, not counted [s]")
    parser.add_argument("--baseline-duration", type=int, default=20, help="baseline run [s]")
    parser.add_argument("--users", type=int, default=0, help="Locust users (default: rate / 4)")
    parser.add_argument("--firms", type=int, default=500, help="extra licensed firms")
    parser.add_argument("--filers", type=int, default=100, help="firms filing in the load")
    parser.add_argument("--p99-ms", type=float, default=100.0, help="target p99 [ms]")
    parser.add_argument("--not-durable", action="store_true", help="PostgreSQL without fsync")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    # Any number of Poisson users offers the same Poisson stream; a few busy users
    # keep their connections warm (a user idle past uvicorn's 5 s keep-alive
    # reconnects), where hundreds of idle ones would each reconnect now and then.
    users = args.users or max(1, round(args.rate / 4))

    with tempfile.TemporaryDirectory(prefix="hashnation-load-") as work_dir:
        work = Path(work_dir)
        with TemporaryPostgres(durable=not args.not_durable) as pg:
            url = pg.create_database("registry_load")
            t0 = time.perf_counter()
            upgrade(url)
            plan = populate(url, args.firms, args.filers)
            setup_s = time.perf_counter() - t0
            plan_file = work / "plan.json"
            plan_file.write_text(json.dumps(plan), encoding="utf-8")
            print(
                f"database: PostgreSQL ({'durable' if not args.not_durable else 'no fsync'}), "
                f"{len(plan['firm_ids'])} firms on the register, {plan['register_entries']} "
                f"register entries, {len(plan['filers'])} filing firms (set up in {setup_s:.0f} s)"
            )

            port = _free_port()
            host = f"http://127.0.0.1:{port}"
            log = (work / "serve.log").open("wb")
            server = subprocess.Popen(
                [sys.executable, "-m", "hashnation.cli.main", "serve", "--db", url,
                 "--no-seed", "--no-mining", "--port", str(port), "--workers", str(args.workers),
                 "--rate-limit-per-minute", "0"],
                cwd=work,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                _wait_up(host, server)

                def load(user_class: str, seconds: int, prefix: str) -> dict[str, Stats]:
                    return run_locust(
                        host,
                        user_class,
                        rate=args.rate,
                        users=users,
                        duration_s=seconds,
                        csv_prefix=work / prefix,
                        plan_file=plan_file,
                    )

                print(
                    f"load: {args.rate:g} req/s offered by {users} Locust users, "
                    f"{args.workers} server process{'es' if args.workers > 1 else ''}"
                )
                if args.warmup > 0:
                    load("RegistryUser", args.warmup, "warm")
                base = load("BaselineUser", args.baseline_duration, "base")
                load_before = os.getloadavg()[0]
                cpu0, wall0 = _cpu_s(server.pid), time.perf_counter()
                mix = load("RegistryUser", args.duration, "mix")
                server_cpu = (_cpu_s(server.pid) - cpu0) / (time.perf_counter() - wall0)
                failures = _failures(work / "mix")
            finally:
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                log.close()
            server_errors = _server_errors(work / "serve.log")
            with Registry(url) as registry:
                check = registry.verify_audit()

    print()
    _print_table(f"baseline: GET /healthz, {args.baseline_duration} s", base)
    print()
    _print_table(f"mix: {args.duration} s", mix)
    total, floor = mix["Aggregated"], base["Aggregated"]
    ratio = total.p99_ms / floor.p99_ms if floor.p99_ms else float("nan")
    print()
    print(f"achieved     {total.rate_per_s:.1f} req/s of {args.rate:g} offered")
    print(
        f"latency      p50 {total.p50_ms:.0f} ms, p95 {total.p95_ms:.0f} ms, "
        f"p99 {total.p99_ms:.0f} ms"
    )
    print(f"baseline     p99 {floor.p99_ms:.0f} ms; mix p99 / baseline p99 = {ratio:.1f}x")
    print(f"errors       {total.failures} of {total.requests} requests")
    for line in failures:
        print(f"  {line}")
    for line, count in server_errors.items():
        print(f"  server log: {count} x {line}")
    print(f"server CPU   {server_cpu * 100:.0f} % of one core during the mix (all workers)")
    print(
        f"machine      {os.cpu_count()} CPUs shared by Locust, the server and PostgreSQL; "
        f"load average {load_before:.1f} before the mix"
    )
    print(f"audit log    {check.entries} entries verify after the run")
    rate_ok = total.rate_per_s >= 0.95 * args.rate
    p99_ok = total.p99_ms < args.p99_ms
    verdict = "PASS" if rate_ok and p99_ok and total.failures == 0 else "FAIL"
    print(
        f"target       p99 < {args.p99_ms:g} ms at {args.rate:g} req/s: {verdict} "
        f"(throughput {'ok' if rate_ok else 'short'}, p99 {'ok' if p99_ok else 'over'}, "
        f"{total.failures} errors)"
    )
    if args.json is not None:
        figures = {
            "rate_offered_per_s": args.rate,
            "rate_achieved_per_s": total.rate_per_s,
            "requests": total.requests,
            "failures": total.failures,
            "p50_ms": total.p50_ms,
            "p95_ms": total.p95_ms,
            "p99_ms": total.p99_ms,
            "baseline_p99_ms": floor.p99_ms,
            "p99_over_baseline": ratio,
            "server_cpu_cores": server_cpu,
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "per_request": {
                name: {
                    "requests": s.requests,
                    "failures": s.failures,
                    "p50_ms": s.p50_ms,
                    "p95_ms": s.p95_ms,
                    "p99_ms": s.p99_ms,
                }
                for name, s in mix.items()
            },
            "pass": verdict == "PASS",
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
