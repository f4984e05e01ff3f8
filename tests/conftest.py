"""Shared fixtures: ledger databases on SQLite and on a throwaway PostgreSQL server.

``db_url`` is parametrized over both back ends and gives each test an empty,
migrated database: on SQLite a fresh copy of a migrated file; on PostgreSQL one
database shared by the session, whose tables are emptied (``TRUNCATE ...
RESTART IDENTITY``, other connections to it ended) before each test.
``db_factory`` makes more databases of the same back end, each brand new (a
PostgreSQL one is cloned from a migrated template and dropped after the test).

The PostgreSQL server is started once per session (``initdb`` into a temporary
folder, run as the ``postgres`` user when the tests run as root; ``pg_ctl`` on a
free port with its unix socket in that folder) and stopped at the end. Without
server programs the PostgreSQL tests are skipped, unless the ``CI`` environment
variable is set, where they fail instead.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hashnation.store.db import upgrade
from hashnation.store.models import Base
from hashnation.store.pgtemp import TemporaryPostgres, find_pg_bin

BACKENDS = ("sqlite", "postgresql")
PG_TEMPLATE = "hashnation_ledger_template"
PG_SHARED = "hashnation_ledger_tests"

_numbers = itertools.count()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest schema, copied by each test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "ledger.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[TemporaryPostgres]:
    """A throwaway PostgreSQL server with a migrated template database."""
    if find_pg_bin() is None:
        reason = "PostgreSQL server programs (initdb, pg_ctl) not found"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, and CI is set: install them (make postgres)")
        pytest.skip(f"{reason}; install them (make postgres) to run the PostgreSQL tests")
    server = TemporaryPostgres().start()
    try:
        upgrade(server.create_database(PG_TEMPLATE))
        server.create_database(PG_SHARED, template=PG_TEMPLATE)
        yield server
    finally:
        server.stop()


def _empty_postgres(server: TemporaryPostgres, database: str) -> None:
    import psycopg

    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with psycopg.connect(server.dsn(database), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        conn.execute("SET lock_timeout = '10s'")
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    """Name of the back end of this test run: ``sqlite`` or ``postgresql``."""
    return str(request.param)


@pytest.fixture
def db_factory(
    db_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], str]]:
    """Return a function that makes a fresh, migrated database and returns its URL."""
    made: list[str] = []
    server: TemporaryPostgres | None = None
    if db_backend == "postgresql":
        server = request.getfixturevalue("postgres_server")
    else:
        template = request.getfixturevalue("sqlite_template")

    def make() -> str:
        number = next(_numbers)
        if server is not None:
            name = f"test_{os.getpid()}_{number}"
            made.append(name)
            return server.create_database(name, template=PG_TEMPLATE)
        path = tmp_path / f"ledger_{number}.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"

    yield make
    if server is not None:
        for name in made:
            server.drop_database(name)


@pytest.fixture
def db_url(db_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty, migrated ledger database (SQLite file or PostgreSQL)."""
    if db_backend == "postgresql":
        server: TemporaryPostgres = request.getfixturevalue("postgres_server")
        _empty_postgres(server, PG_SHARED)
        return server.url(PG_SHARED)
    template = request.getfixturevalue("sqlite_template")
    path = tmp_path / "ledger.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"
