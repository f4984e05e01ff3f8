"""SQL injection: every string field of every operation, classic payloads, SQLite and PostgreSQL.

The fields are enumerated from the app's own OpenAPI document
(:func:`hashnation.hardening.injection.string_fields`: path and query parameters, the
pages' search forms, JSON body fields at any depth). Each is sent each payload of
:data:`~hashnation.hardening.injection.PAYLOADS` by the staff (every other field valid
where a valid body is known), through the whole app over the example book. After each
request: no 5xx; every table still there; row counts unchanged unless the request was
accepted (then none went down); an accepted value is stored exactly as sent. Then every
numeric field is sent numbers past what its column holds or a date can reach
(:data:`~hashnation.hardening.injection.NUMBERS`): refused, never a 500. At the end the
audit log's hash chain verifies.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from hashnation.hardening.injection import (
    NUMBERS,
    PAYLOADS,
    StringField,
    stored_texts,
    string_fields,
    table_counts,
    with_payload,
)
from hashnation.hardening.served import seed_registry
from hashnation.registry.licences import LICENCE_SPECS, LicenceType
from hashnation.registry.service import Registry
from hashnation.registry.workflow import Status
from hashnation.store.db import make_engine
from hashnation.store.models import Base
from hashnation.web.app import WebSettings, create_app

_numbers = itertools.count(1)


def _bodies(ids: dict[str, Any]) -> dict[str, Callable[[], dict[str, Any]]]:
    """A valid body of each operation that takes one (made anew for each request)."""
    advisor = list(LICENCE_SPECS[LicenceType.ADVISOR].required_documents)
    return {
        "POST /api/v1/firms": lambda: {
            "name": "Probe Ltd",
            "registration_number": f"PROBE-{next(_numbers)}",
            "commercial_name": "Probe",
            "address": "1 Probe Street",
            "website": "https://probe.example",
        },
        "POST /api/v1/applications": lambda: {
            "firm_id": ids["firm"],
            "licence_type": "advisor",
            "documents": advisor,
            "capital_usd": "100000",
        },
        "POST /api/v1/applications/{application_id}/actions": lambda: {
            "action": "request_information",
            "reason": "Please send the audited accounts.",
            "conditions": [],
        },
        "POST /api/v1/applications/{application_id}/enforcement": lambda: {
            "kind": "warning",
            "reason": "Late return.",
            "breach_codes": ["late_return"],
        },
        "POST /api/v1/sandbox/cohorts": lambda: {
            "code": f"PRB-{next(_numbers)}",
            "name": "Probe cohort",
            "opens_on": "2030-01-01",
            "max_customers": 100,
            "max_volume_usd": "100000",
            "max_duration_days": 90,
        },
        "POST /api/v1/sandbox/cohorts/{cohort_id}/participants": lambda: {
            "firm_id": ids["firm"],
            "product": "Probe payouts",
        },
        "POST /api/v1/sandbox/participants/{participant_id}/usage": lambda: {
            "customers": 1,
            "volume_usd": "10",
        },
        "POST /api/v1/sandbox/participants/{participant_id}/exit": lambda: {
            "decision": "extend",
            "reason": "More time to test.",
            "extend_days": 10,
        },
        "POST /api/v1/tokens": lambda: {"role": "staff", "label": "probe"},
        "POST /api/v1/visa/applications": lambda: {
            "applicant_name": "Probe Applicant",
            "nationality": "AE",
        },
        "POST /api/v1/visa/applications/{reference}/kyc": lambda: {"status": "pending"},
    }


def _world(db_url: str) -> tuple[dict[str, str], dict[str, Any]]:
    tokens = seed_registry(db_url)
    with Registry(db_url) as registry:
        staff = registry.authenticate(tokens["staff"])
        apps = registry.list_applications(staff)
        waiting = next(a for a in apps if a.status is Status.UNDER_REVIEW)
        licensed = next(a for a in apps if a.status is Status.LICENSED)
        participant = registry.list_participants(staff)[0]
        ids = {
            "firm": licensed.firm_id,
            "application_id": waiting.id,
            "licensed": licensed.id,
            "cohort_id": participant.cohort_id,
            "participant_id": participant.id,
            "firm_id": licensed.firm_id,
            "return_id": 1,
            "token_id": 10_000,
            "version": 1,
            "reference": "HV-NONE",
            "licence_type": "exchange",
            "proof_name": "v1.ots",
        }
    return tokens, ids


def _path_values(field: StringField, ids: dict[str, Any]) -> dict[str, Any]:
    values = dict(ids)
    if field.path.endswith(("/enforcement", "/returns")):
        values["application_id"] = ids["licensed"]
    return values


def _stored(engine: Any, tables: list[str], value: str) -> bool:
    """Whether ``value`` is one of the texts of ``tables`` (the audit log read last)."""
    ordered = sorted(tables, key=lambda t: t == "audit_entries")
    return any(text == value for _, text in stored_texts(engine, ordered))


def _huge_numbers(
    client: TestClient,
    headers: dict[str, str],
    ids: dict[str, Any],
    bodies: dict[str, Callable[[], dict[str, Any]]],
) -> list[str]:
    """Send every numeric field numbers past its column or a date's reach: never a 500."""
    fields = string_fields(client.get("/openapi.json").json(), frozenset({"integer", "number"}))
    assert len(fields) >= 30
    problems: list[str] = []
    for field in fields:
        make = bodies.get(field.operation)
        for number in NUMBERS:
            url, params, body = with_payload(
                field,
                number,
                path_values=_path_values(field, ids),
                body=make() if make is not None else None,
            )
            answer = client.request(
                field.method,
                url,
                params=params,
                json=body if field.method == "POST" else None,
                headers=headers,
            )
            if answer.status_code >= 500:
                case = f"{field.operation} {field.location}:{field.name} = {number!r}"
                problems.append(f"{case}: {answer.status_code}")
    return problems


def test_every_string_field_resists_injection(db_url: str) -> None:
    tokens, ids = _world(db_url)
    app = create_app(WebSettings(registry_db=db_url, rate_limit_per_minute=0))
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    client.cookies.set("hashnation_staff", tokens["staff"], path="/staff")
    staff = {"Authorization": f"Bearer {tokens['staff']}"}
    fields = string_fields(app.openapi())
    operations = {f.operation for f in fields}
    assert len(fields) >= 80
    assert {"GET /register/", "GET /records/", "POST /api/v1/firms"} <= operations
    bodies = _bodies(ids)
    engine = make_engine(db_url)
    expected_tables = set(Base.metadata.tables)
    problems: list[str] = []
    accepted = 0
    try:
        counts = table_counts(engine)
        assert expected_tables <= set(counts)
        reads_done = False
        for field in sorted(fields, key=lambda f: f.method != "GET"):
            if field.method != "GET" and not reads_done:
                reads_done = True
                if table_counts(engine) != counts:
                    problems.append("a GET changed the database")
            make = bodies.get(field.operation)
            for payload in PAYLOADS:
                url, params, body = with_payload(
                    field,
                    payload,
                    path_values=_path_values(field, ids),
                    body=make() if make is not None else None,
                )
                answer = client.request(
                    field.method,
                    url,
                    params=params,
                    json=body if field.method == "POST" else None,
                    headers=staff,
                )
                case = f"{field.operation} {field.location}:{field.name} = {payload!r}"
                if answer.status_code >= 500:
                    problems.append(f"{case}: {answer.status_code} {answer.text[:200]}")
                    continue
                if field.method == "GET":  # reads: the counts are compared once, after them
                    continue
                after = table_counts(engine)
                changed = {t for t in after if after[t] != counts.get(t)}
                ok = 200 <= answer.status_code < 300
                if not ok and changed:
                    problems.append(f"{case}: refused ({answer.status_code}) yet {changed} changed")
                if ok:
                    accepted += 1
                    dropped = {t for t in changed if after[t] < counts[t]}
                    if dropped:
                        problems.append(f"{case}: rows removed from {dropped}")
                    if field.location == "body" and payload.strip():
                        grown = sorted(t for t in changed if after[t] > counts[t])
                        if not _stored(engine, grown, payload.strip()):
                            problems.append(f"{case}: accepted but not stored as sent")
                counts = after
        assert expected_tables <= set(table_counts(engine))
    finally:
        engine.dispose()
    problems += _huge_numbers(client, staff, ids, bodies)
    assert not problems, "\n".join(problems[:60])
    assert accepted > 10
    verified = client.get("/api/v1/audit/verify")
    assert verified.status_code == 200, verified.text
    with Registry(db_url) as registry:
        assert registry.verify_audit().entries == verified.json()["entries"]
