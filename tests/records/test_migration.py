"""Migration 0005 (public records) on SQLite and PostgreSQL: up, down, up again, triggers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import DBAPIError

from hashnation.records.types import RecordType
from hashnation.store import records_models as rm
from hashnation.store.db import alembic_config, make_engine, upgrade
from hashnation.store.models import Base

TABLES = {"record_versions", "record_anchor_batches"}

INSERT = sa.text(
    "INSERT INTO record_versions (reference, record_type, version, reason, content_json, "
    "content_sha256, digest, recorded_at, recorded_by) VALUES ('R-1', 'land_title', 1, '', "
    "'{}', :h, :h, :t, 'clerk')"
)


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_tables_are_on_the_shared_metadata_and_types_agree() -> None:
    assert set(Base.metadata.tables) >= TABLES
    assert tuple(t.value for t in RecordType) == rm.RECORD_TYPES


def test_down_drops_tables_and_triggers_and_up_restores_them(
    db_backend: str, db_factory: Callable[[], str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}" if db_backend == "sqlite" else db_factory()
    upgrade(url)
    assert _tables(url) >= TABLES
    command.downgrade(alembic_config(url), "0004")
    assert not (TABLES & _tables(url))
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(INSERT, {"h": "0" * 64, "t": "2026-03-02 10:00:00+00:00"})
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM record_versions"))
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT COUNT(*) FROM record_versions")) == 1
    finally:
        engine.dispose()
    command.downgrade(alembic_config(url), "0004")
    assert not (TABLES & _tables(url))
