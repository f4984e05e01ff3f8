"""Engines, sessions and schema upgrades.

The database is named by a SQLAlchemy URL: a SQLite file by default
(:data:`DEFAULT_URL`, ``sqlite:///hashnation.db`` in the working folder) or
PostgreSQL through psycopg 3 (``postgresql+psycopg://user@host/dbname``).

On SQLite every connection turns foreign keys on, and SQLAlchemy, not the
``sqlite3`` module, emits ``BEGIN``: reads, savepoints and DDL then all run
inside the transaction, as on PostgreSQL.

Typical use::

    from hashnation.store.db import session_scope, upgrade

    upgrade("sqlite:///reserve.db")           # create or migrate the schema
    with session_scope("sqlite:///reserve.db") as session:
        ...                                    # committed on exit, rolled back on error
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "DEFAULT_URL",
    "MIGRATIONS",
    "alembic_config",
    "head_revision",
    "make_engine",
    "session_scope",
    "upgrade",
]

DEFAULT_URL = "sqlite:///hashnation.db"
"""Database used when none is given: a SQLite file in the working folder."""

MIGRATIONS = "hashnation.store:migrations"
"""Alembic script location, inside the installed package."""


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin), and enforce foreign keys.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def make_engine(url: str | URL | None = None, **kwargs: Any) -> Engine:
    """Create an engine for a SQLite or PostgreSQL database.

    Parameters
    ----------
    url
        SQLAlchemy URL; :data:`DEFAULT_URL` when None. ``postgresql://`` URLs
        without a driver use psycopg 3.
    **kwargs
        Passed to :func:`sqlalchemy.create_engine`.

    Returns
    -------
    sqlalchemy.Engine
        The engine. On SQLite, foreign keys are enforced and transactions
        begin with an explicit ``BEGIN``.
    """
    parsed = make_url(url if url is not None else DEFAULT_URL)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


@contextmanager
def session_scope(bind: Engine | str | URL | None = None) -> Iterator[Session]:
    """Open a session; commit when the block ends, roll back if it raises.

    Parameters
    ----------
    bind
        An engine, or a URL for an engine made (and disposed of) for this block;
        :data:`DEFAULT_URL` when None.

    Yields
    ------
    sqlalchemy.orm.Session
        A session whose objects stay readable after the commit.
    """
    engine = bind if isinstance(bind, Engine) else make_engine(bind)
    factory = sessionmaker(engine, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        if engine is not bind:
            engine.dispose()


def alembic_config(url: str | URL | None = None) -> Config:
    """Return an Alembic configuration for the migrations shipped in the package.

    Parameters
    ----------
    url
        Database URL; :data:`DEFAULT_URL` when None.

    Returns
    -------
    alembic.config.Config
        Configuration with ``script_location`` set to :data:`MIGRATIONS` and
        ``sqlalchemy.url`` to ``url``; no ``alembic.ini`` is read.
    """
    from alembic.config import Config  # imported here: only migrations need Alembic

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    rendered = make_url(url if url is not None else DEFAULT_URL).render_as_string(
        hide_password=False
    )
    # ConfigParser interpolates '%': escape it.
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def head_revision() -> str:
    """Return the newest revision of the migrations shipped in the package.

    Returns
    -------
    str
        The revision id a database migrated to head records in ``alembic_version``.
    """
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None  # the package ships migrations
    return head


def upgrade(url: str | URL | Engine | None = None, revision: str = "head") -> None:
    """Create or migrate the schema (Alembic ``upgrade``).

    Parameters
    ----------
    url
        Database URL, or an engine to use; :data:`DEFAULT_URL` when None.
    revision
        Target revision; the newest (``"head"``) by default.
    """
    from alembic import command

    if isinstance(url, Engine):
        config = alembic_config(url.url)
        with url.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
        return
    command.upgrade(alembic_config(url), revision)
