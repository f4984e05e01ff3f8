"""Alembic environment: migrate the database named in the configuration.

Run through :func:`hashnation.store.db.upgrade`; no ``alembic.ini`` is needed.
A connection passed in ``config.attributes["connection"]`` is used as is;
otherwise an engine is made from ``sqlalchemy.url`` with
:func:`hashnation.store.db.make_engine` (SQLite: foreign keys on, explicit BEGIN).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from hashnation.store.db import make_engine
from hashnation.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Emit the migration SQL without a database connection."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through a live connection."""
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _run_with(given)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            _run_with(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
