"""Property-based tests of every API operation from the OpenAPI document (Schemathesis, CI size).

A real server (uvicorn in a child process, ``hashnation.hardening.served``) over the example
book; Schemathesis' pytest integration reads the app's OpenAPI document and generates a few
requests per operation (Hypothesis, derandomized), each sent by the staff, by a firm and
anonymously, every answer checked with the checks of
:data:`hashnation.hardening.api_schema.CHECKS` (no 5xx, statuses, content types, headers
and bodies as documented, invalid data refused, ...). The full run, with boundary values,
stateful sequences and 100 examples per operation on SQLite and PostgreSQL, is
``bench/bench_schemathesis.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from hashnation.hardening.api_schema import CHECKS, REVOKE_PATH, spare_token_id
from hashnation.hardening.served import ServedApp, serve
from hashnation.web.app import WebSettings, create_app

schemathesis = pytest.importorskip("schemathesis", reason="a dev dependency: pip install -e .[dev]")

MAX_EXAMPLES = 3


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    work: Path = tmp_path_factory.mktemp("schema")
    with serve(f"sqlite:///{work / 'registry.db'}", work=work) as app:
        yield app


@pytest.fixture(scope="module")
def spare_token(served: ServedApp) -> int:
    """A staff token the run may revoke (so that it never revokes its own)."""
    return spare_token_id(served.url, served.staff_token)


# The document does not depend on the data: built here, in process, with no database.
_DOCUMENT = create_app(WebSettings(registry_db="sqlite://")).openapi()
schema = schemathesis.openapi.from_dict(
    _DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "checks": {
                "positive_data_acceptance": {"enabled": False},
                "object_level_authorization": {"enabled": False},
            },
            # the callers' tokens are sent by the test: no Authorization header generated
            "generation": {"with-security-parameters": False},
        }
    ),
)


def _checks() -> list[Any]:
    from schemathesis.checks import CHECKS as REGISTRY
    from schemathesis.checks import load_all_checks

    load_all_checks()
    return [REGISTRY.get_by_names([name])[0] for name in CHECKS]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_matches_its_schema(case: Any, served: ServedApp, spare_token: int) -> None:
    checks = _checks()
    if case.path == REVOKE_PATH:
        case.path_parameters = {**(case.path_parameters or {}), "token_id": spare_token}
    for token in (None, served.firm_token, served.staff_token):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        case.call_and_validate(base_url=served.url, headers=headers, checks=checks)
