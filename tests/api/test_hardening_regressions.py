"""Regressions of what the property-based and injection runs found, on SQLite and PostgreSQL.

Each test is one finding of ``bench/bench_schemathesis.py`` or ``tests/hardening``: the
request that answered 500 (or hung, or broke the OpenAPI contract) now answers as
documented. The app is the whole one (``create_app``: its guards included).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hashnation.registry.service import Principal, Registry
from hashnation.web.app import WebSettings, create_app

BOOTSTRAP = Principal.staff("bootstrap")
HUGE = (2**31, 2**63, 10**30)


@dataclass
class Api:
    client: TestClient
    registry: Registry
    staff: dict[str, str]

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, headers=self.staff, **kwargs)

    def post(self, url: str, body: Any) -> Any:
        return self.client.post(url, headers=self.staff, json=body)


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    with Registry(db_url) as registry:
        token = registry.issue_token(BOOTSTRAP, role="staff", label="regressions")
        app = create_app(WebSettings(registry_db=db_url, rate_limit_per_minute=0))
        client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
        yield Api(client, registry, {"Authorization": f"Bearer {token}"})


def _cohort(api: Api) -> int:
    answer = api.post(
        "/api/v1/sandbox/cohorts",
        {
            "code": "REG-1",
            "name": "Regression cohort",
            "opens_on": "2030-01-01",
            "max_customers": 10,
            "max_volume_usd": "1000",
            "max_duration_days": 30,
        },
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


@pytest.mark.parametrize("huge", HUGE)
def test_ids_past_an_integer_column_are_refused_not_500(api: Api, huge: int) -> None:
    """Found: 500 (SQLite OverflowError past 2^63; PostgreSQL "integer out of range")."""
    for url in (
        f"/api/v1/register/{huge}",
        f"/api/v1/applications/{huge}",
        f"/api/v1/applications/{huge}/decisions",
        f"/api/v1/sandbox/participants/{huge}",
        f"/api/v1/enforcement?application_id={huge}",
        f"/api/v1/tokens?firm_id={huge}",
        f"/api/v1/returns/{huge}",
    ):
        answer = api.get(url)
        assert answer.status_code == 400, (url, answer.text)
        assert "an id (integer from 1 to 2147483647)" in answer.json()["detail"]
    posted = api.post(
        f"/api/v1/sandbox/cohorts/{huge}/participants", {"firm_id": 1, "product": "x"}
    )
    assert posted.status_code == 400


def test_offsets_past_an_integer_are_refused(api: Api) -> None:
    """Found: 500 for ``offset=9223372036854775808`` (SQLite OverflowError)."""
    for path in ("/api/v1/register", "/api/v1/firms", "/api/v1/audit"):
        answer = api.get(path, params={"offset": 2**63})
        assert answer.status_code == 422, answer.text


@pytest.mark.parametrize("amount", ["1e30", "99999999999999999999999999999999.999", 10**19])
def test_amounts_past_numeric_20_2_are_refused(api: Api, amount: Any) -> None:
    """Found: 500 (Decimal quantize InvalidOperation; PostgreSQL numeric field overflow)."""
    firm = api.post("/api/v1/firms", {"name": "Big Ltd", "registration_number": "B-1"}).json()
    opened = api.post(
        "/api/v1/applications",
        {"firm_id": firm["id"], "licence_type": "advisor", "documents": [], "capital_usd": amount},
    )
    assert opened.status_code == 400, opened.text
    cohort = api.post(
        "/api/v1/sandbox/cohorts",
        {
            "code": "BIG",
            "name": "Big",
            "opens_on": "2030-01-01",
            "max_customers": 10,
            "max_volume_usd": amount,
            "max_duration_days": 30,
        },
    )
    assert cohort.status_code == 400, cohort.text


def test_counts_and_durations_past_their_columns_are_refused(api: Api) -> None:
    """Found: 500 for huge ``max_customers``/``customers`` and date overflow of the period."""
    base = {
        "code": "C",
        "name": "Caps",
        "opens_on": "2030-01-01",
        "max_customers": 10,
        "max_volume_usd": "1000",
        "max_duration_days": 30,
    }
    for change in (
        {"max_customers": 2**31},
        {"max_duration_days": 2**31},
        {"max_duration_days": 10**30},
        {"opens_on": "9999-12-15"},
    ):
        answer = api.post("/api/v1/sandbox/cohorts", {**base, **change})
        assert answer.status_code == 400, (change, answer.text)
    cohort = _cohort(api)
    firm = api.post("/api/v1/firms", {"name": "Usage Ltd", "registration_number": "U-1"}).json()
    admitted = api.post(
        f"/api/v1/sandbox/cohorts/{cohort}/participants",
        {"firm_id": firm["id"], "product": "Payouts", "admitted_on": "2030-01-02"},
    )
    assert admitted.status_code == 201, admitted.text
    usage = api.post(
        f"/api/v1/sandbox/participants/{admitted.json()['id']}/usage",
        {"customers": 2**31, "volume_usd": "1", "as_of": "2030-01-03"},
    )
    assert usage.status_code == 400, usage.text


@pytest.mark.parametrize("text", ["\x00", "a\x00b"])
def test_nul_characters_are_refused_on_every_database(api: Api, text: str) -> None:
    """Found: 500 on PostgreSQL ("PostgreSQL text fields cannot contain NUL")."""
    for path, params in (
        ("/api/v1/register", {"q": text}),
        ("/api/v1/firms", {"q": text}),
        ("/api/v1/audit", {"subject": text}),
        ("/api/v1/visa/applications", {"status": text}),
        ("/register/", {"q": text}),
    ):
        answer = api.get(path, params=params)
        assert answer.status_code == 400, (path, answer.text)
        assert "NUL" in answer.text
    for body in (
        {"role": "staff", "label": text},
        {"role": "staff", "label": "ok", "x": f"\\u0000{text}"},
    ):
        answer = api.post("/api/v1/tokens", body)
        assert answer.status_code == 400, answer.text
    refused = api.client.post(
        "/api/v1/tokens",
        headers={**api.staff, "Content-Type": "application/json"},
        content=b'{"role": "staff", "label": "a\\u0000b"}',
    )
    assert refused.status_code == 400
    with pytest.raises(Exception, match="NUL"):
        api.registry.register_firm(BOOTSTRAP, name=f"N{text}", registration_number="N-1")


def test_lone_surrogates_are_refused(api: Api) -> None:
    """Text that is not UTF-8 cannot be stored: refused, not a 500."""
    answer = api.client.post(
        "/api/v1/firms",
        headers={**api.staff, "Content-Type": "application/json"},
        content=b'{"name": "\\ud800 Ltd", "registration_number": "S-1"}',
    )
    assert answer.status_code == 400, answer.text
    paired = api.client.post(
        "/api/v1/firms",
        headers={**api.staff, "Content-Type": "application/json"},
        content=b'{"name": "\\ud83d\\ude00 Ltd", "registration_number": "S-2"}',
    )
    assert paired.status_code == 201, paired.text
    assert paired.json()["name"] == "\U0001f600 Ltd"


def test_late_filings_far_ahead_are_refused_not_computed(api: Api) -> None:
    """Found: a read timeout (30 s) for ``as_of=6736-11-13`` (a calendar month by month)."""
    far = api.get("/api/v1/late-filings", params={"as_of": "6736-11-13"})
    assert far.status_code == 400
    near = (api.registry.now().date() + timedelta(days=300)).isoformat()
    assert api.get("/api/v1/late-filings", params={"as_of": near}).status_code == 200


def test_late_filings_take_iso_days_only(api: Api) -> None:
    """Found: ``as_of=0`` accepted (read as 1970-01-01) where the schema says a date."""
    for value in ("0", "1700000000", "2025-1-1"):
        assert api.get("/api/v1/late-filings", params={"as_of": value}).status_code == 422
    today = date.today().isoformat()
    assert api.get("/api/v1/late-filings", params={"as_of": today}).status_code == 200


def test_405_allows_every_method_of_the_path(api: Api) -> None:
    """Found: ``Allow: POST`` for ``/api/v1/firms`` (only the first route's methods)."""
    for path, allowed in (
        ("/api/v1/firms", "GET, HEAD, POST"),
        ("/api/v1/tokens", "GET, HEAD, POST"),
        ("/api/v1/sandbox/cohorts", "GET, HEAD, POST"),
        ("/records/R-1/check", "POST"),
        ("/staff/login", "GET, HEAD, POST"),
    ):
        answer = api.client.options(path)
        assert answer.status_code == 405
        assert answer.headers["allow"] == allowed, path


def test_answers_are_documented(api: Api) -> None:
    """Found: statuses and content types the operations did not document."""
    spec = api.client.get("/openapi.json").json()["paths"]
    logout = spec["/staff/logout"]["post"]["responses"]
    assert "text/html" in logout["200"]["content"]
    assert {"303", "403"} <= set(logout)
    assert "404" in spec["/api/v1/visa/applications"]["post"]["responses"]
    assert "404" in spec["/api/v1/visa/applications/{reference}"]["get"]["responses"]
    assert {"400", "404"} <= set(spec["/api/v1/records/{reference}"]["get"]["responses"])
    assert "404" in spec["/register/firm/{firm_id}"]["get"]["responses"]
    assert {"401", "403"} <= set(spec["/staff/login"]["post"]["responses"])
    for operations in spec.values():
        for operation in operations.values():
            assert "400" in operation["responses"]
    refused = api.client.post("/api/v1/applications/x/returns", headers=api.staff, json={})
    assert refused.status_code == 422
    assert isinstance(refused.json()["detail"], list)  # FastAPI's list, now documented
