"""Migration 0003 (the regulator's registry) on SQLite and PostgreSQL: up, down, up again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hashnation.registry.enforcement import EnforcementKind
from hashnation.registry.licences import LicenceType
from hashnation.registry.workflow import Action, Status
from hashnation.store import registry_models as rm
from hashnation.store.db import alembic_config, head_revision, make_engine, upgrade
from hashnation.store.models import Base

REGISTRY_TABLES = {
    "firms",
    "applications",
    "decisions",
    "returns",
    "enforcement_actions",
    "sandbox_cohorts",
    "sandbox_participants",
    "api_tokens",
    "registry_audit",
}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _version(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()


def test_registry_tables_are_on_the_shared_metadata() -> None:
    assert set(Base.metadata.tables) >= REGISTRY_TABLES


def test_value_lists_agree_with_the_domain() -> None:
    assert tuple(t.value for t in LicenceType) == rm.LICENCE_TYPES
    assert tuple(s.value for s in Status) == rm.APPLICATION_STATUSES
    assert tuple(a.value for a in Action) == rm.DECISION_ACTIONS
    assert tuple(k.value for k in EnforcementKind) == rm.ENFORCEMENT_KINDS


def test_upgrade_an_empty_database_down_to_base_and_up_again(
    db_backend: str, db_factory: Callable[[], str], tmp_path: Path
) -> None:
    if db_backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
        upgrade(url)  # from nothing at all
    else:
        url = db_factory()  # migrated template; go down to nothing first
        command.downgrade(alembic_config(url), "base")
        assert not (REGISTRY_TABLES & _tables(url))
        upgrade(url)
    assert _tables(url) >= REGISTRY_TABLES
    assert _version(url) == head_revision()

    command.downgrade(alembic_config(url), "0002")
    tables = _tables(url)
    assert not (REGISTRY_TABLES & tables)
    assert {"accounts", "custody_approvals"} <= tables
    assert _version(url) == "0002"

    command.downgrade(alembic_config(url), "base")
    assert not ((REGISTRY_TABLES | {"accounts", "postings"}) & _tables(url))

    upgrade(url)
    assert _tables(url) >= REGISTRY_TABLES
    assert _version(url) == head_revision()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_register_search_indexes_exist(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        inspector = sa.inspect(engine)
        app_indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("applications")}
        firm_indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("firms")}
    finally:
        engine.dispose()
    assert ("status", "licence_type") in app_indexes
    assert ("name",) in firm_indexes
