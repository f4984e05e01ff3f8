"""Fixtures of the registry API tests: registries on SQLite and PostgreSQL, the app, a world.

Every test here runs once on SQLite and once on PostgreSQL:

- ``registry`` / ``client`` build on ``db_url`` (tests/conftest.py): an empty,
  migrated database per test;
- the authorization matrix builds its :class:`World` once per back end
  (``world_snapshot``, on the same SQLite template and PostgreSQL server) and
  gives each cell that changes something a fresh copy of it; cells that only read,
  or must be refused, share one copy (a refused call that changed anything fails
  its own cell).

The registry runs on a :class:`Clock` the tests move, so that a licence can be
granted in January and its January return filed in February. The app is built as
:func:`hashnation.web.app.create_app` builds it (same error handler), once per
session, over a :class:`RegistrySwitch` that each test points at its own registry
(building the routes is the slow part of an app); ``test_registry_api`` checks
that ``create_app`` itself mounts the API.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hashnation.api.registry import api_router
from hashnation.errors import HashNationError
from hashnation.registry.licences import LICENCE_SPECS, LicenceType
from hashnation.registry.service import Principal, Registry
from hashnation.store.db import upgrade
from hashnation.store.registry_models import AuditEntry, PeriodicReturnRecord
from hashnation.web.app import error_status

GRANTED_AT = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
"""When the world's licence is granted."""

NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
"""The registry's time once the world is built (January and February have ended)."""

BOOTSTRAP = Principal.staff("bootstrap")

_numbers = itertools.count()


class Clock:
    """A clock the tests set: ``clock.now = ...``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class RegistrySwitch:
    """Stands for the registry a test points it at (``switch.target = registry``)."""

    def __init__(self) -> None:
        self.target: Registry | None = None

    def __getattr__(self, name: str) -> Any:
        if self.target is None:
            raise AssertionError("the test has not chosen a registry")
        return getattr(self.target, name)


def make_app(registry: Registry) -> FastAPI:
    """The API over ``registry``, with the error handler of ``create_app``."""
    app = FastAPI(title="HashNation")

    @app.exception_handler(HashNationError)
    async def _error(request: Request, exc: HashNationError) -> JSONResponse:
        return JSONResponse(status_code=error_status(exc), content={"detail": str(exc)})

    app.include_router(api_router(registry))
    return app


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def documents(licence_type: LicenceType | str) -> list[str]:
    return list(LICENCE_SPECS[LicenceType(licence_type)].required_documents)


def stablecoin_return(start: date, end: date, **changes: Any) -> dict[str, Any]:
    """A valid stablecoin issuer's return for one month; ``changes`` override fields."""
    body: dict[str, Any] = {
        "licence_type": "stablecoin_issuer",
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "customers": 4200,
        "complaints_received": 5,
        "complaints_resolved": 5,
        "capital_usd": "6000000",
        "tokens_outstanding_usd": "25000000.00",
        "reserve_assets": [
            {"kind": "cash", "amount_usd": "5000000.00"},
            {"kind": "treasury_bills", "amount_usd": "20500000.00"},
        ],
    }
    body.update(changes)
    return body


def exchange_return(start: date, end: date) -> dict[str, Any]:
    """A valid exchange's return for one month."""
    return {
        "licence_type": "exchange",
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "customers": 1200,
        "complaints_received": 3,
        "complaints_resolved": 3,
        "capital_usd": "1500000",
        "customer_assets_btc_sat": 250_000_000,
        "customer_assets_fiat_usd": "800000.50",
        "trading_volume_usd": "12000000",
    }


def row_counts(registry: Registry) -> tuple[int, int]:
    """Rows in the returns table and in the audit log."""
    with registry.engine.connect() as conn:
        returns = conn.scalar(select(func.count()).select_from(PeriodicReturnRecord))
        entries = conn.scalar(select(func.count()).select_from(AuditEntry))
    return int(returns or 0), int(entries or 0)


class Kit:
    """The functions and constants above, for the test modules (which do not import conftest)."""

    GRANTED_AT = GRANTED_AT
    NOW = NOW
    BOOTSTRAP = BOOTSTRAP
    Clock = Clock
    bearer = staticmethod(bearer)
    documents = staticmethod(documents)
    stablecoin_return = staticmethod(stablecoin_return)
    exchange_return = staticmethod(exchange_return)
    row_counts = staticmethod(row_counts)


@pytest.fixture
def kit() -> type[Kit]:
    return Kit


# ---------------------------------------------------------------- one app per session


@pytest.fixture(scope="session")
def switch() -> RegistrySwitch:
    return RegistrySwitch()


@pytest.fixture(scope="session")
def api_client(switch: RegistrySwitch) -> TestClient:
    """A client of the app built once, over the switch."""
    return TestClient(make_app(cast(Registry, switch)))


# ---------------------------------------------------------------- per-test registry


@pytest.fixture
def clock() -> Clock:
    return Clock(GRANTED_AT)


@pytest.fixture
def registry(db_url: str, clock: Clock) -> Iterator[Registry]:
    with Registry(db_url, clock=clock) as made:
        yield made


@pytest.fixture
def client(
    registry: Registry, switch: RegistrySwitch, api_client: TestClient
) -> Iterator[TestClient]:
    switch.target = registry
    yield api_client
    switch.target = None


# ---------------------------------------------------------------- the matrix's world


@dataclass(frozen=True)
class WorldIds:
    """Firm A's resources and everyone's tokens, as built by :func:`build_world`."""

    tokens: dict[str, str]
    firm_a: int
    firm_b: int
    licence_a: int
    draft_a: int
    return_a: int
    cohort: int
    participant_a: int
    spare_token_a: int


def build_world(registry: Registry, clock: Clock) -> WorldIds:
    """Firm A licensed (stablecoin issuer, January filed, in the sandbox), firm B bare."""
    clock.now = GRANTED_AT
    firm_a = registry.register_firm(
        BOOTSTRAP, name="Alpha Stable Ltd", registration_number="A-0001", commercial_name="AlphaUSD"
    ).id
    firm_b = registry.register_firm(
        BOOTSTRAP, name="Beta Broker Ltd", registration_number="B-0002"
    ).id
    tokens = {
        "staff": registry.issue_token(BOOTSTRAP, role="staff", label="licensing officer"),
        "firm_a": registry.issue_token(BOOTSTRAP, role="firm", firm_id=firm_a, label="alpha ops"),
        "firm_b": registry.issue_token(BOOTSTRAP, role="firm", firm_id=firm_b, label="beta ops"),
    }
    registry.issue_token(BOOTSTRAP, role="firm", firm_id=firm_a, label="alpha spare")
    spare = registry.list_tokens(BOOTSTRAP, firm_id=firm_a)[-1].id
    alpha = Principal.firm(firm_a, "alpha ops")
    licence = registry.open_application(
        alpha,
        firm_a,
        LicenceType.STABLECOIN_ISSUER,
        documents=documents(LicenceType.STABLECOIN_ISSUER),
        capital_usd=Decimal("6000000"),
    ).id
    registry.act(alpha, licence, "submit")
    for action in ("begin_review", "approve", "grant_licence"):
        registry.act(BOOTSTRAP, licence, action)
    draft = registry.open_application(
        alpha,
        firm_a,
        LicenceType.ADVISOR,
        documents=documents(LicenceType.ADVISOR),
        capital_usd=Decimal("75000"),
    ).id
    clock.now = NOW
    filed = registry.file_return(
        alpha, licence, stablecoin_return(date(2025, 1, 1), date(2025, 1, 31))
    ).id
    cohort = registry.create_cohort(
        BOOTSTRAP,
        code="PK-2025-1",
        name="Payments and stablecoins",
        opens_on=date(2025, 3, 1),
        max_customers=500,
        max_volume_usd=Decimal("1000000"),
        max_duration_days=180,
    ).id
    participant = registry.admit_to_sandbox(
        BOOTSTRAP, cohort, firm_a, product="Merchant payouts in AlphaUSD"
    ).id
    return WorldIds(
        tokens=tokens,
        firm_a=firm_a,
        firm_b=firm_b,
        licence_a=licence,
        draft_a=draft,
        return_a=filed,
        cohort=cohort,
        participant_a=participant,
        spare_token_a=spare,
    )


@dataclass
class World:
    """A registry holding the world, a client of the app pointed at it, and its ids."""

    ids: WorldIds
    registry: Registry
    client: TestClient

    @property
    def headers(self) -> dict[str, dict[str, str]]:
        """Request headers of each role (anonymous: none)."""
        found = {role: bearer(token) for role, token in self.ids.tokens.items()}
        found["anonymous"] = {}
        return found

    def path(self, template: str) -> str:
        """Fill a route template with firm A's resources."""
        return template.format(
            firm_id=self.ids.firm_a,
            application_id=self.ids.licence_a,
            draft_id=self.ids.draft_a,
            return_id=self.ids.return_a,
            cohort_id=self.ids.cohort,
            participant_id=self.ids.participant_a,
            token_id=self.ids.spare_token_a,
            licence_type="stablecoin_issuer",
        )

    def audit_entries(self) -> int:
        return row_counts(self.registry)[1]

    @staticmethod
    def returns(start: date, end: date, **changes: Any) -> dict[str, Any]:
        """A valid return of firm A's licence (stablecoin issuer) for one month."""
        return stablecoin_return(start, end, **changes)


@dataclass
class Snapshot:
    """The world built once on one back end; :meth:`copy` gives a fresh database of it."""

    backend: str
    ids: WorldIds
    copy: Callable[[], str]


@pytest.fixture(scope="module", params=("sqlite", "postgresql"))
def world_snapshot(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Snapshot]:
    """The world on each back end (SQLite file / PostgreSQL template database)."""
    backend = str(request.param)
    made: list[str] = []
    folder = tmp_path_factory.mktemp("api-world")
    if backend == "postgresql":
        server = request.getfixturevalue("postgres_server")
        source = f"api_world_{os.getpid()}_{next(_numbers)}"
        url = server.create_database(source)
        upgrade(url)

        def copy() -> str:
            name = f"{source}_{next(_numbers)}"
            made.append(name)
            return str(server.create_database(name, template=source))

    else:
        path = folder / "world.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"

        def copy() -> str:
            target = folder / f"world_{next(_numbers)}.db"
            shutil.copyfile(path, target)
            return f"sqlite:///{target}"

    clock = Clock(GRANTED_AT)
    with Registry(url, clock=clock) as registry:
        ids = build_world(registry, clock)
    yield Snapshot(backend, ids, copy)
    if backend == "postgresql":
        for name in [*made, source]:
            server.drop_database(name)


@pytest.fixture(scope="module")
def shared_world(
    world_snapshot: Snapshot, switch: RegistrySwitch, api_client: TestClient
) -> Iterator[World]:
    """One copy of the world for the cells that must leave it unchanged."""
    with Registry(world_snapshot.copy(), clock=Clock(NOW)) as registry:
        yield World(world_snapshot.ids, registry, api_client)


@pytest.fixture
def world_on(
    shared_world: World, world_snapshot: Snapshot, switch: RegistrySwitch
) -> Iterator[Callable[[bool], World]]:
    """Return ``world_on(fresh)``: the shared world, or a fresh copy for a change."""
    opened: list[Registry] = []

    def choose(fresh: bool) -> World:
        world = shared_world
        if fresh:
            registry = Registry(world_snapshot.copy(), clock=Clock(NOW))
            opened.append(registry)
            world = World(world_snapshot.ids, registry, shared_world.client)
        switch.target = world.registry
        return world

    yield choose
    switch.target = None
    for registry in opened:
        registry.close()


@pytest.fixture
def world(world_on: Callable[[bool], World]) -> World:
    """The shared world (for tests that only read)."""
    return world_on(False)
