"""The visa API, status page and command line over a programme on a regtest chain."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hashnation.api.visa import visa_router
from hashnation.cli.visa import app as visa_cli
from hashnation.errors import HashNationError
from hashnation.registry.service import Principal, Registry
from hashnation.web.app import error_status
from hashnation.web.visa import CONTENT_SECURITY_POLICY, status_page, visa_page_router

from .conftest import FEE_SAT, Harness, programme_descriptor


def _app(harness: Harness) -> FastAPI:
    app = FastAPI()

    @app.exception_handler(HashNationError)
    async def _error(request: Request, exc: HashNationError) -> JSONResponse:
        return JSONResponse(status_code=error_status(exc), content={"detail": str(exc)})

    app.include_router(visa_router(harness.programme))
    app.include_router(visa_page_router(harness.programme))
    return app


def _staff_token(db_url: str) -> str:
    with Registry(db_url) as registry:
        return registry.issue_token(Principal.staff("boot"), role="staff", label="visa desk")


def test_api_flow_with_staff_token(harness: Harness, db_url: str) -> None:
    client = TestClient(_app(harness))
    body = {"applicant_name": "C. Investor", "nationality": "SG"}
    assert client.post("/api/v1/visa/applications", json=body).status_code == 401
    bad = client.post(
        "/api/v1/visa/applications", json=body, headers={"Authorization": "Bearer hn_x"}
    )
    assert bad.status_code == 401
    auth = {"Authorization": f"Bearer {_staff_token(db_url)}"}
    created = client.post("/api/v1/visa/applications", json=body, headers=auth)
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]
    early = client.post(f"/api/v1/visa/applications/{reference}/invoice", headers=auth)
    assert early.status_code == 409
    assert "KYC pending" in early.json()["detail"]
    kyc = client.post(
        f"/api/v1/visa/applications/{reference}/kyc", json={"status": "cleared"}, headers=auth
    )
    assert kyc.json()["kyc_status"] == "cleared"
    invoice = client.post(f"/api/v1/visa/applications/{reference}/invoice", headers=auth)
    assert invoice.status_code == 201
    address = invoice.json()["address"]
    harness.pay(address, FEE_SAT)
    harness.mine(2)
    harness.scan()
    public = client.get(f"/api/v1/visa/applications/{reference}").json()
    assert public["status"] == "paid"
    assert "applicant_name" not in public
    assert public["invoices"][0]["payments"][0]["outcome"] == "accepted"
    approved = client.post(f"/api/v1/visa/applications/{reference}/approve", headers=auth)
    assert approved.json()["status"] == "approved"
    assert client.get("/api/v1/visa/applications/HV-NONE").status_code == 404
    assert client.get("/api/v1/visa/applications", headers=auth).json()[0]["reference"] == (
        reference
    )


def test_status_page_html(harness: Harness, cleared: Callable[..., str]) -> None:
    reference = cleared()
    invoice = harness.programme.issue_invoice(reference)
    harness.pay(invoice.address, 400_000)
    harness.mine(2)
    harness.scan()
    client = TestClient(_app(harness))
    page = client.get("/visa/status", params={"reference": reference})
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    html = page.text
    assert "<script" not in html
    assert invoice.address in html
    assert "0.01000000 BTC" in html  # amount due
    assert "0.00600000 BTC" in html  # still due
    assert "less than the amount due" in html
    assert re.search(r"<td class=\"num\">3</td>", html)  # confirmations
    assert "A. Investor" not in html  # nothing personal
    missing = client.get("/visa/status", params={"reference": "HV-<b>x"})
    assert missing.status_code == 404
    assert "<b>x" not in missing.text and "&lt;b&gt;x" in missing.text
    assert client.get("/visa/").status_code == 200


def test_status_page_escapes_values(harness: Harness, cleared: Callable[..., str]) -> None:
    view = harness.programme.status(cleared())
    html = status_page(view)
    assert "No invoice yet" in html


def test_cli_flow(harness: Harness, db_url: str) -> None:
    runner = CliRunner()
    db = ["--db", db_url]
    applied = runner.invoke(visa_cli, ["apply", "D. Investor", "CH", *db])
    assert applied.exit_code == 0, applied.output
    reference = applied.output.strip()
    assert runner.invoke(visa_cli, ["kyc", reference, "cleared", *db]).exit_code == 0
    invoiced = runner.invoke(visa_cli, ["invoice", reference, *db])
    assert invoiced.exit_code == 0
    address = invoiced.output.split(" to ")[1].split()[0]
    harness.pay(address, FEE_SAT + 20_000)
    harness.mine(2)
    harness.scan()
    shown = runner.invoke(visa_cli, ["status", reference, "--json", *db])
    data = json.loads(shown.output)
    assert data["invoices"][0]["payments"][0]["outcome"] == "overpaid"
    refunded = runner.invoke(visa_cli, ["refund", reference, "--fee-rate", "1", *db])
    assert refunded.exit_code == 0
    assert f"to {harness.payer_address}" in refunded.output
    bad = runner.invoke(visa_cli, ["kyc", reference, "maybe", *db])
    assert bad.exit_code == 2
    assert "error: kyc_status" in bad.output
    configured = runner.invoke(
        visa_cli,
        ["configure", programme_descriptor(), "--amount-sat", "5", "--price-usd-per-btc", "1", *db],
    )
    assert configured.exit_code == 2  # invoices exist: the descriptor may not change
