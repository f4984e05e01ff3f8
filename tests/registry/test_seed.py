"""The example book on SQLite and PostgreSQL: coverage, determinism, refusal to reseed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from hashnation.errors import RegistryError
from hashnation.registry.licences import LicenceType
from hashnation.registry.seed import EXAMPLE_FIRMS, seed_example
from hashnation.registry.service import Principal, Registry
from hashnation.registry.workflow import Status

AS_OF = date(2026, 3, 15)
STAFF = Principal.staff("reviewer")


def _clock() -> datetime:
    return datetime(2026, 3, 15, 12, tzinfo=UTC)


def test_seed_fills_every_part_of_the_registry(db_factory: Callable[[], str]) -> None:
    first_url, second_url = db_factory(), db_factory()
    with Registry(first_url, clock=_clock) as registry:
        tokens = seed_example(registry)
        firms = registry.list_firms(STAFF)
        apps = registry.list_applications(STAFF)
        returns = registry.list_returns(STAFF)
        late = registry.late_filings(STAFF, AS_OF)
        enforcement = registry.list_enforcement(STAFF)
        participants = registry.list_participants(STAFF)
        check = registry.verify_audit()
        register_rows = registry.register(limit=None)

        assert len(firms) == 12
        assert {a.licence_type for a in apps} == set(LicenceType)
        assert {a.status for a in apps} == set(Status)
        assert any(r.version > 1 for r in returns)
        assert any(b.code == "reserves_below_tokens" for r in returns for b in r.breaches)
        assert {x.state for x in late} == {"late", "filed_late"}
        assert {e.kind.value for e in enforcement} == {
            "warning",
            "fine",
            "suspension",
            "revocation",
        }
        assert all(e.reason for e in enforcement)
        assert {p.status for p in participants} == {"active", "graduated"}
        assert any(p.breaches for p in participants)
        assert len(registry.list_cohorts(STAFF)) == 1
        assert Counter(r.status for r in register_rows)["licensed"] >= 4

        assert set(tokens) == {"staff"} | {f"firm:{f.registration_number}" for f in EXAMPLE_FIRMS}
        assert registry.authenticate(tokens["staff"]).role == "staff"
        indus = registry.authenticate(tokens["firm:0001234"])
        assert indus.role == "firm"
        assert {a.firm_name for a in registry.list_applications(indus)} == {
            "Indus Digital Exchange Ltd"
        }

        with pytest.raises(RegistryError, match="empty database"):
            seed_example(registry)
        assert registry.verify_audit() == check

    # the same book again on another database: identical but for the tokens
    with Registry(second_url, clock=_clock) as again:
        other_tokens = seed_example(again)
        assert set(other_tokens) == set(tokens)
        assert not set(other_tokens.values()) & set(tokens.values())
        assert again.verify_audit() == check
        assert again.register(limit=None) == register_rows
