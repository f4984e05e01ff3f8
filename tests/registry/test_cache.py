"""Cached public reads: never older than the last committed change, in any process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from hashnation.registry.cache import VersionedCache
from hashnation.registry.licences import LICENCE_SPECS, LicenceType
from hashnation.registry.service import Principal, Registry

STAFF = Principal.staff("officer")


def test_versioned_cache_answers_only_for_its_version() -> None:
    cache = VersionedCache(max_entries=2)
    assert cache.missing(cache.get(1, "a"))
    cache.put(1, "a", ("x",))
    assert cache.get(1, "a") == ("x",)
    assert cache.missing(cache.get(2, "a"))  # the register changed since
    cache.put(1, "b", 2)
    cache.get(1, "a")  # "a" is now the most recently used
    cache.put(1, "c", 3)  # so "b" goes
    assert cache.missing(cache.get(1, "b")) and cache.get(1, "a") == ("x",)
    assert (cache.hits, cache.misses) == (3, 3)
    with pytest.raises(ValueError):
        VersionedCache(max_entries=0)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def pair(db_url: str) -> Iterator[tuple[Registry, Registry, Clock]]:
    """Two registries on one database, as two server processes would be."""
    clock = Clock()
    with Registry(db_url, clock=clock) as reader, Registry(db_url, clock=clock) as writer:
        yield reader, writer, clock


def _licensed(writer: Registry, clock: Clock, name: str, number: str) -> tuple[int, int]:
    firm = writer.register_firm(STAFF, name=name, registration_number=number)
    spec = LICENCE_SPECS[LicenceType.EXCHANGE]
    app = writer.open_application(
        STAFF,
        firm.id,
        LicenceType.EXCHANGE,
        documents=spec.required_documents,
        capital_usd=spec.min_capital_usd,
    )
    writer.act(Principal.firm(firm.id, number), app.id, "submit")
    writer.act(STAFF, app.id, "begin_review")
    writer.act(STAFF, app.id, "approve")
    clock.now += timedelta(days=1)
    writer.act(STAFF, app.id, "grant_licence")
    return firm.id, app.id


def test_a_change_in_another_process_is_seen_at_once(
    pair: tuple[Registry, Registry, Clock],
) -> None:
    reader, writer, clock = pair
    assert reader.register() == [] and reader.register_count() == 0
    firm_id, app_id = _licensed(writer, clock, "Indus Exchange", "REG-1")
    assert [row.entity_name for row in reader.register()] == ["Indus Exchange"]
    assert reader.register_count() == 1
    before = reader.firm_record(firm_id)
    assert before.enforcement == []
    writer.enforce(STAFF, app_id, "warning", reason="Late complaint handling.")
    assert [e.kind.value for e in reader.firm_record(firm_id).enforcement] == ["warning"]
    writer.enforce(STAFF, app_id, "suspension", reason="Reserves not proved.")
    assert [row.status for row in reader.register()] == ["suspended"]
    assert reader.register(status="licensed") == []


def test_filings_and_tokens_keep_cached_pages(pair: tuple[Registry, Registry, Clock]) -> None:
    reader, writer, clock = pair
    firm_id, app_id = _licensed(writer, clock, "Indus Exchange", "REG-1")
    version = reader.public_version()
    assert version is not None and version > 0
    first = reader.register()
    hits = reader._public.hits
    clock.now = datetime(2026, 2, 3, 9, 0, tzinfo=UTC)
    writer.file_return(
        Principal.firm(firm_id, "REG-1"),
        app_id,
        {
            "licence_type": "exchange",
            "period_start": date(2026, 1, 1).isoformat(),
            "period_end": date(2026, 1, 31).isoformat(),
            "customers": 10,
            "complaints_received": 0,
            "complaints_resolved": 0,
            "capital_usd": "2000000",
            "customer_assets_btc_sat": 100,
            "customer_assets_fiat_usd": "0",
            "trading_volume_usd": "0",
        },
    )
    writer.issue_token(STAFF, role="firm", firm_id=firm_id, label="filing")
    assert reader.public_version() == version
    assert reader.register() == first and reader._public.hits == hits + 1


def test_without_the_counter_row_nothing_is_cached(
    pair: tuple[Registry, Registry, Clock],
) -> None:
    reader, writer, clock = pair
    with writer.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM registry_state"))
    assert reader.public_version() is None
    assert reader.register() == []
    _licensed(writer, clock, "Indus Exchange", "REG-1")  # puts the row back
    assert reader.public_version() is not None
    assert len(reader.register()) == 1
