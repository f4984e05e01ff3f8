"""Who may call what: every endpoint of /api/v1 x staff, firm A, firm B, anonymous.

Paths name firm A's resources (its firm, licence, return, sandbox place, token), so
firm B must get 404, exactly as for an id that does not exist; the public gets 401
(with a ``WWW-Authenticate: Bearer`` challenge) except on the public endpoints; a
role that may not act gets 403. Each cell runs on SQLite and on PostgreSQL. A cell
whose call must succeed and change something gets a fresh copy of the world and
must append to the audit log; the others share one copy, and a call that is
refused or only reads must leave the audit log as it was.

``test_every_route_is_in_the_matrix`` fails when an endpoint is added without a
row here, or a row names an endpoint that no longer exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts

from hashnation.registry.licences import LICENCE_SPECS, LicenceType
from hashnation.web.app import WebSettings, create_app

World = Any  # tests/api/conftest.py: World

ROLES = ("staff", "firm_a", "firm_b", "anonymous")
Body = Callable[[World], Any]


@dataclass(frozen=True)
class Row:
    """One endpoint (method, route template), one request, the status each role gets."""

    method: str
    route: str
    staff: int
    firm_a: int
    firm_b: int
    anonymous: int
    query: str = ""
    body: Body | None = None
    note: str = field(default="", compare=False)

    def expected(self, role: str) -> int:
        return int(getattr(self, role))

    @property
    def label(self) -> str:
        suffix = f"?{self.query}" if self.query else ""
        return f"{self.method} {self.route}{suffix}"


def _new_application(world: World) -> dict[str, Any]:
    return {
        "firm_id": world.ids.firm_a,
        "licence_type": "broker",
        "documents": list(LICENCE_SPECS[LicenceType.BROKER].required_documents),
        "capital_usd": "300000",
    }


def _february_return(world: World) -> dict[str, Any]:
    return dict(world.returns(date(2025, 2, 1), date(2025, 2, 28)))


OK, CREATED, UNAUTH, FORBIDDEN, NOT_FOUND = 200, 201, 401, 403, 404
P = "/api/v1"
OTHER_PILLARS = (P + "/visa/", P + "/records")
"""Routes of the visa and records pillars: their own matrix is in test_other_pillars_routes.py."""

MATRIX: tuple[Row, ...] = (
    # public register, schema and audit verification: anyone
    Row("GET", f"{P}/register", OK, OK, OK, OK),
    Row("GET", f"{P}/register.csv", OK, OK, OK, OK),
    Row("GET", f"{P}/register.json", OK, OK, OK, OK),
    Row("GET", f"{P}/register/{{firm_id}}", OK, OK, OK, OK),
    Row("GET", f"{P}/returns/schema/{{licence_type}}", OK, OK, OK, OK),
    Row("GET", f"{P}/audit/verify", OK, OK, OK, OK),
    # firms
    Row(
        "POST",
        f"{P}/firms",
        CREATED,
        FORBIDDEN,
        FORBIDDEN,
        UNAUTH,
        body=lambda w: {"name": "Gamma Custody Ltd", "registration_number": "G-0003"},
    ),
    Row("GET", f"{P}/firms", OK, OK, OK, UNAUTH),
    Row("GET", f"{P}/firms/{{firm_id}}", OK, OK, NOT_FOUND, UNAUTH),
    # applications
    Row("GET", f"{P}/applications", OK, OK, OK, UNAUTH),
    Row("GET", f"{P}/applications", OK, OK, NOT_FOUND, UNAUTH, query="firm_id={firm_id}"),
    Row(
        "POST",
        f"{P}/applications",
        CREATED,
        CREATED,
        NOT_FOUND,
        UNAUTH,
        body=_new_application,
    ),
    Row("GET", f"{P}/applications/{{application_id}}", OK, OK, NOT_FOUND, UNAUTH),
    Row(
        "POST",
        f"{P}/applications/{{application_id}}/actions",
        FORBIDDEN,
        OK,
        NOT_FOUND,
        UNAUTH,
        body=lambda w: {"action": "surrender"},
        note="a firm action",
    ),
    Row(
        "POST",
        f"{P}/applications/{{application_id}}/actions",
        OK,
        FORBIDDEN,
        FORBIDDEN,
        UNAUTH,
        body=lambda w: {"action": "suspend", "reason": "reserve shortfall"},
        note="a staff action",
    ),
    Row("GET", f"{P}/applications/{{application_id}}/decisions", OK, OK, NOT_FOUND, UNAUTH),
    Row("GET", f"{P}/queue", OK, FORBIDDEN, FORBIDDEN, UNAUTH),
    # returns
    Row(
        "POST",
        f"{P}/applications/{{application_id}}/returns",
        FORBIDDEN,
        CREATED,
        NOT_FOUND,
        UNAUTH,
        body=_february_return,
    ),
    Row("GET", f"{P}/returns", OK, OK, OK, UNAUTH),
    Row("GET", f"{P}/returns", OK, OK, NOT_FOUND, UNAUTH, query="application_id={application_id}"),
    Row("GET", f"{P}/returns/{{return_id}}", OK, OK, NOT_FOUND, UNAUTH),
    Row("GET", f"{P}/late-filings", OK, OK, OK, UNAUTH, query="as_of=2025-06-30"),
    # enforcement
    Row(
        "POST",
        f"{P}/applications/{{application_id}}/enforcement",
        CREATED,
        FORBIDDEN,
        FORBIDDEN,
        UNAUTH,
        body=lambda w: {"kind": "fine", "reason": "late return", "fine_usd": "15000.50"},
    ),
    Row("GET", f"{P}/enforcement", OK, OK, OK, UNAUTH),
    Row(
        "GET",
        f"{P}/enforcement",
        OK,
        OK,
        NOT_FOUND,
        UNAUTH,
        query="application_id={application_id}",
    ),
    # sandbox
    Row(
        "POST",
        f"{P}/sandbox/cohorts",
        CREATED,
        FORBIDDEN,
        FORBIDDEN,
        UNAUTH,
        body=lambda w: {
            "code": "PK-2025-2",
            "name": "Custody",
            "opens_on": "2025-04-01",
            "max_customers": 100,
            "max_volume_usd": "250000",
            "max_duration_days": 90,
        },
    ),
    Row("GET", f"{P}/sandbox/cohorts", OK, OK, OK, UNAUTH),
    Row(
        "POST",
        f"{P}/sandbox/cohorts/{{cohort_id}}/participants",
        CREATED,
        FORBIDDEN,
        FORBIDDEN,
        UNAUTH,
        body=lambda w: {
            "firm_id": w.ids.firm_b,
            "product": "Broker app",
            "admitted_on": "2025-03-20",
        },
    ),
    Row("GET", f"{P}/sandbox/participants", OK, OK, OK, UNAUTH),
    Row("GET", f"{P}/sandbox/participants/{{participant_id}}", OK, OK, NOT_FOUND, UNAUTH),
    Row(
        "POST",
        f"{P}/sandbox/participants/{{participant_id}}/usage",
        OK,
        OK,
        NOT_FOUND,
        UNAUTH,
        body=lambda w: {"customers": 120, "volume_usd": "45000.25", "as_of": "2025-03-20"},
    ),
    Row(
        "POST",
        f"{P}/sandbox/participants/{{participant_id}}/exit",
        OK,
        FORBIDDEN,
        FORBIDDEN,
        UNAUTH,
        body=lambda w: {"decision": "extend", "reason": "more data needed", "extend_days": 30},
    ),
    # tokens
    Row(
        "POST",
        f"{P}/tokens",
        CREATED,
        FORBIDDEN,
        FORBIDDEN,
        UNAUTH,
        body=lambda w: {"role": "firm", "firm_id": w.ids.firm_a, "label": "alpha reporting"},
    ),
    Row("GET", f"{P}/tokens", OK, FORBIDDEN, FORBIDDEN, UNAUTH),
    Row("POST", f"{P}/tokens/{{token_id}}/revoke", OK, FORBIDDEN, FORBIDDEN, UNAUTH),
    # audit log
    Row("GET", f"{P}/audit", OK, FORBIDDEN, FORBIDDEN, UNAUTH),
)

CELLS = [
    pytest.param(row, role, id=f"{row.label}{' (' + row.note + ')' if row.note else ''}-{role}")
    for row in MATRIX
    for role in ROLES
]


@pytest.mark.parametrize(("row", "role"), CELLS)
def test_cell(world_on: Callable[[bool], World], row: Row, role: str) -> None:
    expected = row.expected(role)
    changes = row.method == "POST" and expected < 400
    world = world_on(changes)
    path = world.path(row.route)
    if row.query:
        path = f"{path}?{world.path(row.query)}"
    before = world.audit_entries()
    kwargs: dict[str, Any] = {"headers": world.headers[role]}
    if row.body is not None:
        kwargs["json"] = row.body(world)

    reply = world.client.request(row.method, path, **kwargs)

    assert reply.status_code == expected, (row.label, role, reply.text)
    changed = world.audit_entries() - before
    if expected >= 400:
        assert isinstance(reply.json()["detail"], str)
        assert changed == 0, "a refused call changed the registry"
    elif changes:
        assert changed >= 1, "an allowed write left no audit entry"
    else:
        assert changed == 0, "a read changed the registry"
    if expected == UNAUTH:
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")


def test_every_route_is_in_the_matrix(db_url: str) -> None:
    app = create_app(WebSettings(registry_db=db_url))
    served = {
        (method, str(route.path))
        for route in iter_route_contexts(app.routes)
        if str(route.path).startswith(P + "/")
        and not str(route.path).startswith(OTHER_PILLARS)  # test_other_pillars_routes.py
        for method in route.methods or ()
    }
    listed = {(row.method, row.route) for row in MATRIX}
    assert served, "no /api/v1 route is served"
    assert sorted(served - listed) == [], "endpoints without a row in the matrix"
    assert sorted(listed - served) == [], "matrix rows for endpoints that do not exist"


def test_firm_b_sees_nothing_of_firm_a(world: World) -> None:
    firm_b = world.headers["firm_b"]
    for path in (
        "/applications",
        "/returns",
        "/enforcement",
        "/sandbox/participants",
        "/late-filings?as_of=2025-06-30",
    ):
        reply = world.client.get(P + path, headers=firm_b)
        assert reply.status_code == 200, path
        assert reply.json() == [], path
    reply = world.client.get(f"{P}/firms", headers=firm_b)
    assert [firm["id"] for firm in reply.json()] == [world.ids.firm_b]
    # while firm A sees its own
    reply = world.client.get(f"{P}/returns", headers=world.headers["firm_a"])
    assert [ret["id"] for ret in reply.json()] == [world.ids.return_a]


@pytest.mark.parametrize(
    "template",
    [
        "/firms/{id}",
        "/applications/{id}",
        "/applications/{id}/decisions",
        "/returns/{id}",
        "/sandbox/participants/{id}",
    ],
)
def test_another_firms_id_answers_as_a_missing_id(world: World, template: str) -> None:
    ids = {
        "/firms/{id}": world.ids.firm_a,
        "/applications/{id}": world.ids.licence_a,
        "/applications/{id}/decisions": world.ids.licence_a,
        "/returns/{id}": world.ids.return_a,
        "/sandbox/participants/{id}": world.ids.participant_a,
    }
    firm_b = world.headers["firm_b"]
    existing = world.client.get(P + template.format(id=ids[template]), headers=firm_b)
    missing = world.client.get(P + template.format(id=987654), headers=firm_b)
    assert existing.status_code == missing.status_code == 404
    assert existing.headers.keys() == missing.headers.keys()
    shown = existing.json()["detail"].replace(str(ids[template]), "987654")
    assert shown == missing.json()["detail"]
