"""Crash safety: an import killed with SIGKILL leaves all of its batch or none of it.

A child process imports a CSV batch into the database (a SQLite file, or
PostgreSQL) inside one transaction and reports its progress on stdout. The test
waits until the child is writing rows, kills it with ``kill -9`` at a random
moment, then checks that the ledger holds the whole batch or nothing of it, and
still balances. Repeated a few times on the same database.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from hashnation.reserve import ledger
from hashnation.store.db import make_engine, session_scope
from hashnation.store.models import JournalEntry, Posting

BATCH = 10_000  # entries (20,000 postings)
ROUNDS = 4

CHILD = r"""
import sys

from hashnation.reserve.ledger import import_csv
from hashnation.store.db import session_scope


def progress(stage, rows):
    print(stage, rows, flush=True)


with session_scope(sys.argv[1]) as session:
    import_csv(session, sys.argv[2], progress=progress)
    print("committing", flush=True)
print("committed", flush=True)
"""


def _write_batch(path: Path) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    columns = ledger.CSV_COLUMNS
    blank = [""] * (len(columns) - 7)
    trade_at = columns.index("trade_ref") - 7
    lines = [",".join(columns)]
    for n in range(BATCH):
        when = (start + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        evidence = list(blank)
        evidence[trade_at : trade_at + 3] = [f"T{n}", "50000", "0.50"]
        tail = ",".join(evidence)
        lines.append(f"e{n},{when},purchase,cold,1000,0.50,,{tail}")
        lines.append(f"e{n},,,exchange,-1000,-0.50,,{tail}")
    path.write_text("\n".join(lines) + "\n")


def _state(url: str) -> tuple[int, int, list[str], str]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            entries = session.scalar(sa.select(sa.func.count()).select_from(JournalEntry))
            postings = session.scalar(sa.select(sa.func.count()).select_from(Posting))
            problems = ledger.check_ledger(session)
            integrity = "ok"
            if engine.dialect.name == "sqlite":
                integrity = str(session.scalar(sa.text("PRAGMA integrity_check")))
        return int(entries or 0), int(postings or 0), problems, integrity
    finally:
        engine.dispose()


def _run_and_kill(url: str, batch: Path, stop_after: int | None, delay_s: float) -> str:
    """Start an import; kill it after ``stop_after`` 'written' reports and a delay.

    With ``stop_after`` None the import is left to finish.

    Returns how it ended, from everything the child printed before it died:
    ``"killed-writing"`` (it never began to commit), ``"killed-late"`` (killed
    while committing) or ``"committed"``.
    """
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stderr is not None
    stages: list[str] = []
    killed = False
    for line in child.stdout:
        stages.append(line.split()[0])
        if stop_after is None:
            continue
        if stages.count("written") >= stop_after or stages[-1] == "committing":
            time.sleep(delay_s)
            os.kill(child.pid, signal.SIGKILL)
            killed = True
            break
    stages += [line.split()[0] for line in child.stdout.read().splitlines() if line.strip()]
    child.wait(timeout=60)
    errors = child.stderr.read()
    child.stdout.close()
    child.stderr.close()
    if "committed" in stages:
        outcome = "committed"
    elif "committing" in stages:
        outcome = "killed-late"
    else:
        outcome = "killed-writing"
    if killed and outcome != "committed":
        assert child.returncode == -signal.SIGKILL, errors
    else:
        assert child.returncode in (0, -signal.SIGKILL), errors
    assert "written" in stages or outcome == "committed", stages
    return outcome


@pytest.mark.slow
def test_a_killed_import_leaves_all_or_nothing(db_url: str, tmp_path: Path) -> None:
    with session_scope(db_url) as session:
        for name, kind in (("cold", "custody"), ("exchange", "counterparty")):
            ledger.add_account(session, name, kind)
        ledger.record_purchase(
            session,
            occurred_at=datetime(2023, 12, 1, tzinfo=UTC),
            custody="cold",
            counterparty="exchange",
            amount_sat=100_000_000,
            price_usd_per_btc="38000",
            usd_paid=Decimal("38000"),
            trade_ref="BASE",
        )
    batch = tmp_path / "batch.csv"
    _write_batch(batch)
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    outcomes = []
    for round_no in range(ROUNDS):
        before, _, _, _ = _state(db_url)
        # Round 0 is killed as soon as rows are being written, the last round is left
        # to finish, the others are killed at random (possibly while committing).
        stop_after: int | None = 1 if round_no == 0 else rng.randint(1, 5)
        if round_no == ROUNDS - 1:
            stop_after = None
        delay_s = 0.0 if round_no == 0 else rng.uniform(0.0, 0.05)
        outcome = _run_and_kill(db_url, batch, stop_after, delay_s)
        outcomes.append(outcome)
        entries, postings, problems, integrity = _state(db_url)
        context = f"seed {seed}, round {round_no}, {outcome}"
        assert entries in (before, before + BATCH), context
        assert postings == 2 * entries, context
        if outcome == "killed-writing":
            assert entries == before, context
        if outcome == "committed":
            assert entries == before + BATCH, context
        assert problems == [], context
        assert integrity == "ok", context
    assert outcomes[0] == "killed-writing"
    assert outcomes[-1] == "committed"
