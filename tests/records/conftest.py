"""Fixtures of the public records tests: a registry, a private regtest chain and its headers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from hashnation.chain.headers import REGTEST, HeaderStore
from hashnation.chain.regtest import RegtestChain
from hashnation.records.service import RecordsRegistry

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

LAND: dict[str, Any] = {
    "parcel_id": "LHR-0042-17",
    "district": "Lahore",
    "area_m2": "512.50",
    "owner": "Ayesha Khan",
    "registered_on": "2026-02-27",
}


@pytest.fixture
def records(db_url: str) -> Iterator[RecordsRegistry]:
    """A records registry on an empty, migrated database (SQLite or PostgreSQL)."""
    with RecordsRegistry(db_url, clock=lambda: T0) as registry:
        yield registry


@pytest.fixture
def chain() -> RegtestChain:
    """A private regtest chain mined in process."""
    return RegtestChain()


@pytest.fixture
def land() -> dict[str, Any]:
    """Fields of a land title."""
    return dict(LAND)


def _headers_of(chain: RegtestChain) -> HeaderStore:
    store = HeaderStore(chain.checkpoint(), REGTEST)
    for height in range(1, chain.tip_height() + 1):
        store.add(chain.block_header(height))
    return store


@pytest.fixture
def headers_of() -> Callable[[RegtestChain], HeaderStore]:
    """Return a function putting every header of a chain, validated, in a header store."""
    return _headers_of
