"""Who may call the visa programme's and the records registry's API routes.

Every route under ``/api/v1/visa/`` and ``/api/v1/records`` has a row: anonymous
callers, a staff token and a licensed firm's token. "open" means the route did not
refuse the caller (it may still answer 404 or 409 on the merits); "401" and "403" are
refusals. A route added without a row fails :func:`test_every_route_has_a_row`.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from btclib_wallet.bip32 import bip32
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from hashnation.records.service import RecordsRegistry
from hashnation.registry.service import Principal, Registry
from hashnation.visa.rules import VisaRules
from hashnation.visa.service import VisaProgramme
from hashnation.web.app import WebSettings, create_app

P = "/api/v1"
OPEN = "open"
ROLES = ("anonymous", "staff", "firm")


@dataclass(frozen=True)
class Row:
    method: str
    route: str
    body: dict[str, Any] | None
    anonymous: str
    staff: str
    firm: str


STAFF_ONLY = {"anonymous": "401", "staff": OPEN, "firm": "403"}
PUBLIC = {"anonymous": OPEN, "staff": OPEN, "firm": OPEN}

MATRIX: tuple[Row, ...] = (
    Row("GET", P + "/visa/applications/{reference}", None, **PUBLIC),
    Row("GET", P + "/visa/applications", None, **STAFF_ONLY),
    Row(
        "POST",
        P + "/visa/applications",
        {"applicant_name": "C. Investor", "nationality": "SG"},
        **STAFF_ONLY,
    ),
    Row("POST", P + "/visa/applications/{reference}/kyc", {"status": "cleared"}, **STAFF_ONLY),
    Row("POST", P + "/visa/applications/{reference}/invoice", None, **STAFF_ONLY),
    Row("POST", P + "/visa/applications/{reference}/approve", None, **STAFF_ONLY),
    Row(
        "POST",
        P + "/visa/applications/{reference}/refunds",
        {"fee_rate_sat_per_vb": 2},
        **STAFF_ONLY,
    ),
    Row("GET", P + "/records", None, **PUBLIC),
    Row("GET", P + "/records/{reference}", None, **PUBLIC),
    Row("GET", P + "/records/{reference}/versions/{version}", None, **PUBLIC),
    Row("GET", P + "/records/{reference}/versions/{version}/proof.ots", None, **PUBLIC),
    Row("POST", P + "/records/{reference}/versions/{version}/check", None, **PUBLIC),
)


def _descriptor() -> str:
    root = bip32.rootxprv_from_seed(os.urandom(32), bytes.fromhex("04358394"))
    xpub = bip32.xpub_from_xprv(bip32.derive(root, "m/84h/1h/0h"))
    return f"wpkh([{bip32.fingerprint(root).hex()}/84h/1h/0h]{xpub}/<0;1>/*)"


@pytest.fixture
def world(db_url: str) -> dict[str, Any]:
    staff = Principal.staff("officer")
    with Registry(db_url) as registry:
        firm = registry.register_firm(staff, name="Indus Exchange", registration_number="R-1")
        tokens = {
            "staff": registry.issue_token(staff, role="staff", label="desk"),
            "firm": registry.issue_token(staff, role="firm", firm_id=firm.id, label="indus"),
        }
    programme = VisaProgramme(db_url)
    programme.configure(
        _descriptor(),
        VisaRules(
            price_usd_per_btc=Decimal("60000"),
            amount_sat=1_000_000,
            invoice_validity_hours=2,
            confirmations_required=3,
            yearly_quota=5,
            tolerance_sat=1_000,
        ),
    )
    reference = programme.apply(applicant_name="A. Applicant", nationality="AE").reference
    records = RecordsRegistry(db_url)
    records.add(
        "registrar",
        record_type="land_title",
        reference="LT-1",
        fields={
            "parcel_id": "LHR-1",
            "district": "Lahore",
            "area_m2": "100",
            "owner": "A. Owner",
            "registered_on": "2026-02-27",
        },
    )
    client = TestClient(create_app(WebSettings(registry_db=db_url)))
    return {"client": client, "tokens": tokens, "visa": reference, "record": "LT-1"}


def test_every_route_has_a_row(db_url: str) -> None:
    app = create_app(WebSettings(registry_db=db_url))
    served = {
        (method, str(route.path))
        for route in iter_route_contexts(app.routes)
        if str(route.path).startswith((P + "/visa/", P + "/records"))
        for method in route.methods or ()
    }
    listed = {(row.method, row.route) for row in MATRIX}
    assert served and sorted(served ^ listed) == []


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", MATRIX, ids=lambda row: f"{row.method} {row.route}")
def test_route_for_role(world: dict[str, Any], row: Row, role: str) -> None:
    path = row.route.format(
        reference=world["visa"] if "/visa/" in row.route else world["record"], version=1
    )
    headers = {} if role == "anonymous" else {"Authorization": f"Bearer {world['tokens'][role]}"}
    reply = world["client"].request(row.method, path, json=row.body, headers=headers)
    expected = getattr(row, role)
    if expected == OPEN:
        assert reply.status_code not in (401, 403), reply.text
    else:
        assert reply.status_code == int(expected), reply.text


def test_openapi_says_which_routes_need_a_token(db_url: str) -> None:
    spec = TestClient(create_app(WebSettings(registry_db=db_url))).get("/openapi.json").json()
    for row in MATRIX:
        operation = spec["paths"][row.route][row.method.lower()]
        where = f"{row.method} {row.route}"
        assert operation["tags"] and operation["summary"], where
        wanted = [] if row.anonymous == OPEN else [{"BearerToken": []}]
        assert operation.get("security") == wanted, where
