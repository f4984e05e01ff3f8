"""The registry's HTTP API, end to end over HTTP semantics (TestClient), on SQLite and PostgreSQL.

- a whole licensing story through the API, down to a tampered audit log;
- bad periodic returns: one-line 422s naming field, value and expectation, and
  nothing stored;
- bearer authentication (401 with ``WWW-Authenticate: Bearer``);
- the public register and its exports;
- the OpenAPI document: every endpoint, its security, its bodies and error codes.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import text

from hashnation.registry.register import REGISTER_COLUMNS
from hashnation.registry.service import Principal, Registry
from hashnation.web.app import WebSettings, create_app

P = "/api/v1"
HEX64 = re.compile(r"[0-9a-f]{64}")

Kit = Any  # tests/api/conftest.py: Kit
Clock = Any  # tests/api/conftest.py: Clock

PUBLIC_ENDPOINTS = {
    ("GET", f"{P}/register"),
    ("GET", f"{P}/register.csv"),
    ("GET", f"{P}/register.json"),
    ("GET", f"{P}/register/{{firm_id}}"),
    ("GET", f"{P}/returns/schema/{{licence_type}}"),
    ("GET", f"{P}/audit/verify"),
}


def _staff(registry: Registry, kit: Kit) -> dict[str, str]:
    """Headers of a staff token made outside the API (the first token has to be)."""
    return dict(kit.bearer(registry.issue_token(kit.BOOTSTRAP, role="staff", label="officer")))


def _ok(reply: Any, status: int = 200) -> Any:
    assert reply.status_code == status, reply.text
    return reply.json()


# ---------------------------------------------------------------- the whole story


def test_licensing_story_through_http(
    client: TestClient, registry: Registry, clock: Clock, kit: Kit
) -> None:
    staff = _staff(registry, kit)

    # staff registers the firm and gives it a token
    firm = _ok(
        client.post(
            f"{P}/firms",
            json={
                "name": "Indus Exchange Ltd",
                "registration_number": "0123456",
                "commercial_name": "IndusX",
                "address": "Blue Area, Islamabad",
                "website": "https://indusx.example",
            },
            headers=staff,
        ),
        201,
    )
    issued = _ok(
        client.post(
            f"{P}/tokens",
            json={"role": "firm", "firm_id": firm["id"], "label": "indus compliance"},
            headers=staff,
        ),
        201,
    )
    assert issued["token"].startswith("hn_") and issued["firm_id"] == firm["id"]
    own = kit.bearer(issued["token"])

    # the firm opens its application (its own firm implied) and submits it
    application = _ok(
        client.post(
            f"{P}/applications",
            json={
                "licence_type": "exchange",
                "documents": kit.documents("exchange"),
                "capital_usd": "1500000.00",
            },
            headers=own,
        ),
        201,
    )
    assert application["status"] == "draft"
    assert application["firm_id"] == firm["id"]
    assert application["capital_usd"] == "1500000.00"  # money as a decimal string
    app_id = application["id"]
    act = f"{P}/applications/{app_id}/actions"
    assert _ok(client.post(act, json={"action": "submit"}, headers=own))["status"] == "submitted"

    # staff reviews it from the queue, approves with conditions, grants the licence
    assert [a["id"] for a in _ok(client.get(f"{P}/queue", headers=staff))] == [app_id]
    _ok(client.post(act, json={"action": "begin_review"}, headers=staff))
    conditions = ["Quarterly proof of reserves", "No margin trading"]
    approved = _ok(
        client.post(act, json={"action": "approve", "conditions": conditions}, headers=staff)
    )
    assert approved["status"] == "approved" and approved["conditions"] == conditions
    licensed = _ok(client.post(act, json={"action": "grant_licence"}, headers=staff))
    assert licensed["status"] == "licensed"
    assert licensed["licence_number"] == "VA-EXC-0001"
    assert licensed["authorised_on"] == "2025-01-15"
    assert _ok(client.get(f"{P}/queue", headers=staff)) == []

    # in February the firm files its January return
    clock.now = datetime(2025, 2, 10, 9, 30, tzinfo=UTC)
    filed = _ok(
        client.post(
            f"{P}/applications/{app_id}/returns",
            json=kit.exchange_return(date(2025, 1, 1), date(2025, 1, 31)),
            headers=own,
        ),
        201,
    )
    assert filed["version"] == 1 and filed["breaches"] == []
    assert filed["period_start"] == "2025-01-01" and filed["period_end"] == "2025-01-31"
    assert filed["payload"]["customer_assets_fiat_usd"] == "800000.50"
    assert _ok(client.get(f"{P}/returns/{filed['id']}", headers=own)) == filed
    assert [r["id"] for r in _ok(client.get(f"{P}/returns", headers=staff))] == [filed["id"]]

    # staff fines the firm, then suspends the licence
    clock.now = datetime(2025, 3, 3, 11, 0, tzinfo=UTC)
    enforce = f"{P}/applications/{app_id}/enforcement"
    fine = _ok(
        client.post(
            enforce,
            json={
                "kind": "fine",
                "reason": "Customer complaints left unanswered",
                "fine_usd": "25000.50",
                "breach_codes": ["unresolved_complaints"],
            },
            headers=staff,
        ),
        201,
    )
    assert fine["fine_usd"] == "25000.50" and fine["decided_on"] == "2025-03-03"
    suspension = _ok(
        client.post(
            enforce,
            json={"kind": "suspension", "reason": "Reserves not evidenced"},
            headers=staff,
        ),
        201,
    )
    assert suspension["fine_usd"] is None
    assert _ok(client.get(f"{P}/applications/{app_id}", headers=own))["status"] == "suspended"
    steps = [d["action"] for d in _ok(client.get(f"{act[:-8]}/decisions", headers=own))]
    assert steps == ["submit", "begin_review", "approve", "grant_licence", "suspend"]

    # the public register lists it, suspended, with its conditions
    page = _ok(client.get(f"{P}/register", params={"q": "indusx"}))
    assert page["total"] == 1
    (row,) = page["rows"]
    assert row["licence_number"] == "VA-EXC-0001"
    assert row["status"] == "suspended"
    assert row["conditions"] == conditions
    assert row["authorisation_date"] == "2025-01-15"
    assert row["status_date"] == "2025-03-03"
    record = _ok(client.get(f"{P}/register/{firm['id']}"))
    assert [e["kind"] for e in record["enforcement"]] == ["fine", "suspension"]
    assert record["enforcement"][0]["fine_usd"] == "25000.50"

    # the audit log verifies, one entry per change
    check = _ok(client.get(f"{P}/audit/verify"))
    assert HEX64.fullmatch(check["head_hash"])
    assert check["entries"] == 11  # 2 tokens, firm, application, 4 moves, return, 2 actions
    head = check["head_hash"]
    assert _ok(client.get(f"{P}/audit/verify", params={"expected_head": head})) == check

    # someone edits the return's audit entry in the database: the API names the entry
    log = _ok(client.get(f"{P}/audit", params={"subject": f"return:{filed['id']}"}, headers=staff))
    (entry,) = log["entries"]
    assert entry["action"] == "return.filed" and entry["actor"] == "indus compliance"
    with registry.engine.begin() as conn:
        conn.execute(
            text("UPDATE registry_audit SET actor = :actor WHERE id = :id"),
            {"actor": "someone else", "id": entry["id"]},
        )
    broken = client.get(f"{P}/audit/verify")
    assert broken.status_code == 409
    assert broken.json()["entry_id"] == entry["id"]
    assert f"audit log entry {entry['id']}:" in broken.json()["detail"]


# ---------------------------------------------------------------- bad returns


def _licensed_stablecoin_issuer(
    client: TestClient, registry: Registry, clock: Clock, kit: Kit
) -> tuple[dict[str, str], int]:
    """A stablecoin issuer licensed in January, on 10 February; its headers and licence."""
    staff = _staff(registry, kit)
    firm = _ok(
        client.post(
            f"{P}/firms",
            json={"name": "Rupee Coin Ltd", "registration_number": "RC-9"},
            headers=staff,
        ),
        201,
    )
    token = _ok(
        client.post(
            f"{P}/tokens",
            json={"role": "firm", "firm_id": firm["id"], "label": "rupee coin"},
            headers=staff,
        ),
        201,
    )["token"]
    own = kit.bearer(token)
    app_id = _ok(
        client.post(
            f"{P}/applications",
            json={
                "licence_type": "stablecoin_issuer",
                "documents": kit.documents("stablecoin_issuer"),
                "capital_usd": "6000000",
            },
            headers=own,
        ),
        201,
    )["id"]
    act = f"{P}/applications/{app_id}/actions"
    _ok(client.post(act, json={"action": "submit"}, headers=own))
    for action in ("begin_review", "approve", "grant_licence"):
        _ok(client.post(act, json={"action": action}, headers=staff))
    clock.now = datetime(2025, 2, 10, tzinfo=UTC)
    return own, app_id


JANUARY = (date(2025, 1, 1), date(2025, 1, 31))


def _without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != name}


BAD_RETURNS = [
    pytest.param(
        lambda kit: kit.stablecoin_return(*JANUARY, customers="many"),
        "customers: got 'many', expected an integer",
        id="wrong-type",
    ),
    pytest.param(
        lambda kit: _without(kit.stablecoin_return(*JANUARY), "capital_usd"),
        "capital_usd: got None, expected a required field",
        id="missing-field",
    ),
    pytest.param(
        lambda kit: kit.stablecoin_return(
            *JANUARY,
            reserve_assets=[
                {"kind": "cash", "amount_usd": "1000.00"},
                {"kind": "treasury_bills", "amount_usd": "-5"},
            ],
        ),
        "reserve_assets.1.amount_usd: got '-5', expected a number >= 0",
        id="negative-reserve-asset",
    ),
    pytest.param(
        lambda kit: kit.stablecoin_return(*JANUARY, licence_type="exchange"),
        "licence_type: got 'exchange', expected 'stablecoin_issuer' (the licence's type)",
        id="other-licence-type",
    ),
    pytest.param(
        lambda kit: kit.stablecoin_return(*JANUARY, reserve_ratio=1.02),
        "reserve_ratio: got 1.02, expected no such field in this return",
        id="unknown-field",
    ),
    pytest.param(
        lambda kit: [kit.stablecoin_return(*JANUARY)],
        "return: got 'list', expected an object of named fields",
        id="not-an-object",
    ),
]


@pytest.mark.parametrize(("make_body", "detail"), BAD_RETURNS)
def test_bad_return_is_refused_in_one_line_and_nothing_is_stored(
    client: TestClient, registry: Registry, clock: Clock, kit: Kit, make_body: Any, detail: str
) -> None:
    own, app_id = _licensed_stablecoin_issuer(client, registry, clock, kit)
    before = kit.row_counts(registry)

    reply = client.post(f"{P}/applications/{app_id}/returns", json=make_body(kit), headers=own)

    assert reply.status_code == 422
    assert reply.json() == {"detail": detail}  # one line, not FastAPI's list of errors
    assert kit.row_counts(registry) == before  # no return row, no audit entry


def test_unparsable_return_body_and_a_good_one(
    client: TestClient, registry: Registry, clock: Clock, kit: Kit
) -> None:
    own, app_id = _licensed_stablecoin_issuer(client, registry, clock, kit)
    url = f"{P}/applications/{app_id}/returns"
    before = kit.row_counts(registry)
    reply = client.post(url, content=b'{"customers": 12,', headers=own)
    assert reply.status_code == 422
    assert reply.json()["detail"].startswith("return: got '{\"customers\": 12,', expected a JSON")
    assert kit.row_counts(registry) == before

    good = _ok(client.post(url, json=kit.stablecoin_return(*JANUARY), headers=own), 201)
    assert good["breaches"] == []
    assert kit.row_counts(registry) == (before[0] + 1, before[1] + 1)
    # a return of a period that has not ended is a bad return too
    early = kit.stablecoin_return(date(2025, 2, 1), date(2025, 2, 28))
    reply = client.post(url, json=early, headers=own)
    assert reply.status_code == 422
    assert reply.json()["detail"].startswith("period_end: got '2025-02-28', expected a period")


def test_return_breaches_are_reported_not_refused(
    client: TestClient, registry: Registry, clock: Clock, kit: Kit
) -> None:
    own, app_id = _licensed_stablecoin_issuer(client, registry, clock, kit)
    short = kit.stablecoin_return(
        *JANUARY, reserve_assets=[{"kind": "cash", "amount_usd": "1000000"}]
    )
    filed = _ok(client.post(f"{P}/applications/{app_id}/returns", json=short, headers=own), 201)
    assert [b["code"] for b in filed["breaches"]] == ["reserves_below_tokens"]
    assert filed["breaches"][0]["severity"] == "major"


# ---------------------------------------------------------------- errors and statuses


def test_error_statuses(client: TestClient, registry: Registry, clock: Clock, kit: Kit) -> None:
    staff = _staff(registry, kit)
    # staff must name the firm when opening an application: 400 naming the field
    reply = client.post(
        f"{P}/applications",
        json={"licence_type": "advisor", "documents": [], "capital_usd": "1"},
        headers=staff,
    )
    assert reply.status_code == 400
    assert reply.json()["detail"].startswith("firm_id: got None, expected")
    # a bad field value checked by the registry: 400, one line
    firm = _ok(
        client.post(
            f"{P}/firms", json={"name": "X Ltd", "registration_number": "X1"}, headers=staff
        ),
        201,
    )
    reply = client.post(
        f"{P}/applications",
        json={
            "firm_id": firm["id"],
            "licence_type": "advisor",
            "documents": kit.documents("advisor"),
            "capital_usd": "10",
        },
        headers=staff,
    )
    assert reply.status_code == 400
    assert reply.json()["detail"].startswith("capital_usd: got ")
    # an action the status does not allow: 409
    draft = _ok(
        client.post(
            f"{P}/applications",
            json={
                "firm_id": firm["id"],
                "licence_type": "advisor",
                "documents": kit.documents("advisor"),
                "capital_usd": "50000",
            },
            headers=staff,
        ),
        201,
    )
    reply = client.post(
        f"{P}/applications/{draft['id']}/actions", json={"action": "approve"}, headers=staff
    )
    assert reply.status_code == 409
    assert "not allowed" in reply.json()["detail"]
    # no such thing: 404; a body of the wrong shape: FastAPI's 422
    assert client.get(f"{P}/applications/999", headers=staff).status_code == 404
    reply = client.post(f"{P}/firms", json={"name": "Y"}, headers=staff)
    assert reply.status_code == 422 and isinstance(reply.json()["detail"], list)
    # paging limits
    assert client.get(f"{P}/register", params={"limit": 201}).status_code == 422
    assert client.get(f"{P}/audit", params={"limit": 0}, headers=staff).status_code == 422
    # a published head hash that is not in the log
    reply = client.get(f"{P}/audit/verify", params={"expected_head": "ab" * 32})
    assert reply.status_code == 409 and reply.json()["entry_id"] is None


# ---------------------------------------------------------------- authentication


def test_bearer_authentication(client: TestClient, registry: Registry, kit: Kit) -> None:
    staff = _staff(registry, kit)
    firm = _ok(
        client.post(
            f"{P}/firms", json={"name": "Z Ltd", "registration_number": "Z1"}, headers=staff
        ),
        201,
    )
    token = _ok(
        client.post(
            f"{P}/tokens",
            json={"role": "firm", "firm_id": firm["id"], "label": "z ops"},
            headers=staff,
        ),
        201,
    )["token"]
    assert _ok(client.get(f"{P}/firms", headers=kit.bearer(token)))[0]["id"] == firm["id"]

    reply = client.get(f"{P}/firms")
    assert reply.status_code == 401
    assert reply.headers["WWW-Authenticate"] == 'Bearer realm="hashnation-registry"'
    for header in (
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer not-a-token",
        "Bearer hn_" + "A" * 43,
        f"Token {token}",
    ):
        reply = client.get(f"{P}/firms", headers={"Authorization": header})
        assert reply.status_code == 401, header
        assert reply.headers["WWW-Authenticate"].startswith("Bearer ")
        assert 'error="invalid_token"' in reply.headers["WWW-Authenticate"]
        assert isinstance(reply.json()["detail"], str)

    # revoked: 401, and the message never repeats the token
    (listed,) = _ok(client.get(f"{P}/tokens", params={"firm_id": firm["id"]}, headers=staff))
    assert "token" not in listed and listed["revoked_at"] is None
    revoked = _ok(client.post(f"{P}/tokens/{listed['id']}/revoke", headers=staff))
    assert revoked["revoked_at"] is not None
    reply = client.get(f"{P}/firms", headers=kit.bearer(token))
    assert reply.status_code == 401
    assert "revoked" in reply.json()["detail"] and token not in reply.text
    # public endpoints need no token
    assert client.get(f"{P}/register").status_code == 200


# ---------------------------------------------------------------- the public register


def _licensed(
    client: TestClient, staff: dict[str, str], kit: Kit, name: str, number: str, kind: str
) -> tuple[int, int]:
    firm = _ok(
        client.post(
            f"{P}/firms", json={"name": name, "registration_number": number}, headers=staff
        ),
        201,
    )
    minimum = {"exchange": "1000000", "broker": "250000", "advisor": "50000"}[kind]
    app = _ok(
        client.post(
            f"{P}/applications",
            json={
                "firm_id": firm["id"],
                "licence_type": kind,
                "documents": kit.documents(kind),
                "capital_usd": minimum,
            },
            headers=staff,
        ),
        201,
    )
    return firm["id"], app["id"]


def test_register_search_and_exports(
    client: TestClient, registry: Registry, clock: Clock, kit: Kit
) -> None:
    staff = _staff(registry, kit)
    specs = [
        ("Karachi Broker Ltd", "K1", "broker"),
        ("Lahore Exchange Ltd", "L1", "exchange"),
        ("Multan Advisers Ltd", "M1", "advisor"),
    ]
    made = [_licensed(client, staff, kit, *spec) for spec in specs]
    # the firm's own actions are taken through the registry: staff may not submit
    for firm_id, app_id in made[:2]:
        registry.act(Principal.firm(firm_id, "firm ops"), app_id, "submit")
        for action in ("begin_review", "approve", "grant_licence"):
            _ok(
                client.post(
                    f"{P}/applications/{app_id}/actions", json={"action": action}, headers=staff
                )
            )
    # Multan stays a draft: not on the register

    page = _ok(client.get(f"{P}/register"))
    assert page["total"] == 2 and page["limit"] == 50 and page["offset"] == 0
    assert [r["entity_name"] for r in page["rows"]] == ["Karachi Broker Ltd", "Lahore Exchange Ltd"]
    assert (
        page["rows"][0]["services"][0]
        == "execution of orders for virtual assets on behalf of clients"
    )
    second = _ok(client.get(f"{P}/register", params={"limit": 1, "offset": 1}))
    assert second["total"] == 2 and [r["entity_name"] for r in second["rows"]] == [
        "Lahore Exchange Ltd"
    ]
    only = _ok(client.get(f"{P}/register", params={"licence_type": "exchange"}))
    assert [r["licence_number"] for r in only["rows"]] == ["VA-EXC-0001"]
    assert _ok(client.get(f"{P}/register", params={"status": "suspended"}))["total"] == 0
    assert _ok(client.get(f"{P}/register", params={"q": "multan"}))["total"] == 0
    reply = client.get(f"{P}/register", params={"status": "draft"})
    assert reply.status_code == 400 and reply.json()["detail"].startswith("status: got 'draft'")
    assert client.get(f"{P}/register/{made[2][0]}").status_code == 404  # no public licence

    csv_reply = client.get(f"{P}/register.csv")
    assert csv_reply.status_code == 200
    assert csv_reply.headers["content-type"].startswith("text/csv")
    assert csv_reply.headers["content-disposition"] == 'attachment; filename="register.csv"'
    table = list(csv.reader(io.StringIO(csv_reply.text)))
    assert tuple(table[0]) == REGISTER_COLUMNS
    assert [line[REGISTER_COLUMNS.index("licence_number")] for line in table[1:]] == [
        "VA-BRK-0001",
        "VA-EXC-0001",
    ]
    document = _ok(client.get(f"{P}/register.json"))
    assert document["schema"] == "hashnation.register" and document["version"] == 1
    assert document["columns"] == list(REGISTER_COLUMNS)
    assert [e["licence_number"] for e in document["entries"]] == ["VA-BRK-0001", "VA-EXC-0001"]
    assert set(document["entries"][0]) == {*REGISTER_COLUMNS, "firm_id", "application_id"}


def test_return_schema_is_public(client: TestClient) -> None:
    schema = _ok(client.get(f"{P}/returns/schema/stablecoin_issuer"))
    assert "reserve_assets" in schema["properties"]
    assert "reserve_assets" in schema["required"]
    assert client.get(f"{P}/returns/schema/casino").status_code == 422


# ---------------------------------------------------------------- the real app, OpenAPI


def test_create_app_serves_the_api(db_url: str) -> None:
    with TestClient(create_app(WebSettings(registry_db=db_url))) as app_client:
        assert _ok(app_client.get(f"{P}/register")) == {
            "total": 0,
            "limit": 50,
            "offset": 0,
            "rows": [],
        }
        assert _ok(app_client.get(f"{P}/audit/verify"))["entries"] == 0
        assert app_client.get(f"{P}/queue").status_code == 401


def test_openapi_documents_every_endpoint(db_url: str) -> None:
    app = create_app(WebSettings(registry_db=db_url))
    spec = TestClient(app).get("/openapi.json").json()
    scheme = spec["components"]["securitySchemes"]["BearerToken"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"

    routes = {
        (method, str(route.path))
        for route in iter_route_contexts(app.routes)
        if str(route.path).startswith(P + "/")
        and not str(route.path).startswith((P + "/visa/", P + "/records"))  # other pillars
        for method in route.methods or ()
    }
    assert len(routes) >= 30 and routes >= PUBLIC_ENDPOINTS
    for method, path in sorted(routes):
        operation = spec["paths"][path][method.lower()]
        where = f"{method} {path}"
        assert operation["tags"] and operation["summary"], where
        ok = [code for code in operation["responses"] if code.startswith("2")]
        assert len(ok) == 1, where
        assert operation["responses"][ok[0]]["content"], where
        if (method, path) in PUBLIC_ENDPOINTS:
            assert operation["security"] == [], where
        else:
            assert operation["security"] == [{"BearerToken": []}], where
            for code in ("401", "403"):
                detail = operation["responses"][code]["content"]["application/json"]
                assert detail["schema"] == {"$ref": "#/components/schemas/ErrorOut"}, where
        if "{" in path and (method, path) not in PUBLIC_ENDPOINTS:
            assert "404" in operation["responses"], where
        if method == "POST" and not path.endswith("/revoke"):
            assert operation["requestBody"]["content"]["application/json"]["schema"], where

    filing = spec["paths"][f"{P}/applications/{{application_id}}/returns"]["post"]
    body = filing["requestBody"]["content"]["application/json"]["schema"]
    kinds = {alternative["properties"]["licence_type"]["const"] for alternative in body["oneOf"]}
    assert kinds == {"exchange", "custodial_wallet", "broker", "stablecoin_issuer", "advisor"}
    refused = filing["responses"]["422"]["content"]["application/json"]["schema"]
    assert {"$ref": "#/components/schemas/ErrorOut"} in refused["anyOf"]  # the registry's line
    assert {"$ref": "#/components/schemas/ValidationErrorOut"} in refused["anyOf"]  # FastAPI's
    verify = spec["paths"][f"{P}/audit/verify"]["get"]["responses"]["409"]
    assert verify["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AuditBrokenOut"
    }
