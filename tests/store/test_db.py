"""Engine, sessions, migrations and column types, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from hashnation.store.db import (
    DEFAULT_URL,
    alembic_config,
    head_revision,
    make_engine,
    session_scope,
    upgrade,
)
from hashnation.store.models import Account, Base, JournalEntry, Posting

TABLES = {"accounts", "journal_entries", "postings", "lots", "custody_approvals", "alembic_version"}


def test_default_url_is_a_sqlite_file() -> None:
    assert DEFAULT_URL == "sqlite:///hashnation.db"
    engine = make_engine()
    assert engine.dialect.name == "sqlite"
    assert engine.url.database == "hashnation.db"
    engine.dispose()


def test_plain_postgresql_url_uses_psycopg() -> None:
    engine = make_engine("postgresql://user@localhost/ledger")
    assert engine.url.drivername == "postgresql+psycopg"
    engine.dispose()


def test_migrations_ship_inside_the_package() -> None:
    folder = resources.files("hashnation.store") / "migrations"
    assert (folder / "env.py").is_file()
    assert (folder / "script.py.mako").is_file()
    versions = [p.name for p in (folder / "versions").iterdir() if p.name.endswith(".py")]
    assert any(name.startswith("r0001") for name in versions)
    config = alembic_config("sqlite:///x.db")
    assert config.get_main_option("script_location") == "hashnation.store:migrations"
    assert config.config_file_name is None


def test_upgrade_creates_schema_and_is_idempotent(db_url: str) -> None:
    upgrade(db_url)  # already at head: nothing to do
    engine = make_engine(db_url)
    try:
        assert set(sa.inspect(engine).get_table_names()) >= TABLES
        with engine.connect() as conn:
            version = conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
        assert version == head_revision()
    finally:
        engine.dispose()


def test_orm_metadata_matches_the_migrations(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_compare_metadata_would_see_a_drift(db_url: str) -> None:
    drifted = sa.MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    sa.Table("postings", drifted, sa.Column("note", sa.Text()), extend_existing=True)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), drifted)
        assert [d[0] for d in diff] == ["add_column"]
    finally:
        engine.dispose()


def test_downgrade_to_base_and_up_again(db_factory: Callable[[], str]) -> None:
    db_url = db_factory()  # a database of its own: the schema goes away for a while
    config = alembic_config(db_url)
    command.downgrade(config, "base")
    engine = make_engine(db_url)
    try:
        assert not ({"accounts", "postings"} & set(sa.inspect(engine).get_table_names()))
    finally:
        engine.dispose()
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        assert set(sa.inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_upgrade_accepts_an_engine(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'e.db'}")
    try:
        upgrade(engine)
        assert "postings" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_session_scope_commits(db_url: str) -> None:
    with session_scope(db_url) as session:
        session.add(Account(name="cold-1", type="custody"))
    with session_scope(db_url) as session:
        assert session.scalar(sa.select(Account.name)) == "cold-1"


def test_session_scope_rolls_back_on_error(db_url: str) -> None:
    with pytest.raises(RuntimeError), session_scope(db_url) as session:
        session.add(Account(name="cold-1", type="custody"))
        session.flush()
        raise RuntimeError("boom")
    with session_scope(db_url) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Account)) == 0


def test_session_scope_with_an_engine_keeps_it_open(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            session.add(Account(name="a", type="income"))
        with session_scope(engine) as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(Account)) == 1
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            if engine.dialect.name == "sqlite":
                assert session.scalar(sa.text("PRAGMA foreign_keys")) == 1
            entry = JournalEntry(
                occurred_at=datetime(2024, 1, 1, tzinfo=UTC), kind="transfer", evidence={}
            )
            entry.postings = [Posting(account_id=999, amount_sat=1)]
            session.add(entry)
            with pytest.raises(IntegrityError):
                session.flush()
    finally:
        engine.dispose()


def test_check_constraints(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            session.add(Account(name="x", type="wallet"))
            with pytest.raises(IntegrityError):
                session.flush()
    finally:
        engine.dispose()


def test_savepoint_rolls_back_inside_the_transaction(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            session.add(Account(name="kept", type="income"))
            session.flush()
            with pytest.raises(RuntimeError), session.begin_nested():
                session.add(Account(name="dropped", type="income"))
                session.flush()
                raise RuntimeError
            session.commit()
        with Session(engine) as session:
            assert session.scalars(sa.select(Account.name)).all() == ["kept"]
    finally:
        engine.dispose()


def test_times_come_back_aware_utc_and_naive_is_refused(db_url: str) -> None:
    engine = make_engine(db_url)
    plus_five = timezone(timedelta(hours=5))
    try:
        with Session(engine) as session:
            entry = JournalEntry(
                occurred_at=datetime(2024, 3, 1, 17, 30, 0, 123456, tzinfo=plus_five),
                kind="transfer",
                evidence={"txid": "0" * 64},
            )
            session.add(entry)
            session.commit()
            session.expire_all()
            back = session.scalar(sa.select(JournalEntry.occurred_at))
            assert back == datetime(2024, 3, 1, 12, 30, 0, 123456, tzinfo=UTC)
            assert back is not None and back.utcoffset() == timedelta(0)
            session.add(JournalEntry(occurred_at=datetime(2024, 1, 1), kind="fee", evidence={}))
            with pytest.raises(StatementError, match="timezone-aware"):
                session.flush()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "value", ["0.01", "-0.01", "12345678901.23", "9999999999999.99", "40000.10", "0.00"]
)
def test_money_round_trips_to_the_cent(db_url: str, value: str) -> None:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            account = Account(name="a", type="income")
            entry = JournalEntry(
                occurred_at=datetime(2024, 1, 1, tzinfo=UTC), kind="transfer", evidence={}
            )
            entry.postings = [Posting(account=account, amount_sat=1, value_usd=Decimal(value))]
            session.add(entry)
            session.commit()
            session.expire_all()
            back = session.scalar(sa.select(Posting.value_usd))
            assert back == Decimal(value)
            assert isinstance(back, Decimal)
            assert back is not None and back.as_tuple().exponent == -2
    finally:
        engine.dispose()


def test_sat_amounts_are_64_bit_ints(db_url: str) -> None:
    big = 21_000_000 * 100_000_000
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            account = Account(name="a", type="income")
            entry = JournalEntry(
                occurred_at=datetime(2024, 1, 1, tzinfo=UTC), kind="transfer", evidence={}
            )
            entry.postings = [Posting(account=account, amount_sat=-big)]
            session.add(entry)
            session.commit()
            back = session.scalar(sa.select(Posting.amount_sat))
            assert back == -big
            assert type(back) is int
    finally:
        engine.dispose()
