"""The public records pages and JSON endpoints (TestClient), and one page in Chromium."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hashnation.chain.headers import HeaderStore
from hashnation.chain.regtest import RegtestChain
from hashnation.records.service import RecordsRegistry, regtest_attester
from hashnation.web.app import create_app
from hashnation.web.records import records_router
from hashnation.web.register import CONTENT_SECURITY_POLICY


def _app(records: RecordsRegistry, headers: HeaderStore | None) -> FastAPI:
    app = create_app()
    app.include_router(records_router(records, headers))
    return app


@pytest.fixture
def anchored(
    records: RecordsRegistry,
    land: dict[str, Any],
    chain: RegtestChain,
    headers_of: Callable[[RegtestChain], HeaderStore],
) -> tuple[RecordsRegistry, HeaderStore]:
    records.add("registrar", record_type="land_title", reference="LT-LHR-9", fields=land)
    records.correct(
        "registrar",
        reference="LT-LHR-9",
        fields={**land, "area_m2": "600"},
        reason="re-surveyed <b>boundary</b>",
    )
    records.anchor_pending("registrar", regtest_attester(chain))
    records.add("registrar", record_type="land_title", reference="LT-LHR-10", fields=land)
    return records, headers_of(chain)


def test_lookup_and_record_pages(anchored: tuple[RecordsRegistry, HeaderStore]) -> None:
    records, headers = anchored
    client = TestClient(_app(records, headers))
    page = client.get("/records/", params={"q": "LT-LHR"})
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "<script" not in page.text
    assert 'href="/records/LT-LHR-9"' in page.text and 'href="/records/LT-LHR-10"' in page.text
    v2 = records.get("LT-LHR-9")
    record = client.get("/records/LT-LHR-9")
    assert record.status_code == 200
    assert v2.digest in record.text and records.get("LT-LHR-9", 1).digest in record.text
    assert "re-surveyed &lt;b&gt;boundary&lt;/b&gt;" in record.text  # escaped
    assert "anchored in Bitcoin (block 1)" in record.text
    assert 'href="/records/LT-LHR-9/v2.ots"' in record.text
    assert "pending: not stamped yet" in client.get("/records/LT-LHR-10").text
    assert client.get("/records/LT-NONE").status_code == 404
    by_digest = client.get("/records/", params={"q": v2.digest})
    assert 'href="/records/LT-LHR-9"' in by_digest.text


def test_proof_download_and_check_form(anchored: tuple[RecordsRegistry, HeaderStore]) -> None:
    records, headers = anchored
    client = TestClient(_app(records, headers))
    download = client.get("/records/LT-LHR-9/v2.ots")
    assert download.status_code == 200
    assert download.content == records.proof("LT-LHR-9", 2)
    assert "attachment" in download.headers["content-disposition"]
    assert client.get("/records/LT-LHR-10/v1.ots").status_code == 404

    ok = client.post(
        "/records/LT-LHR-9/check",
        data={"version": "2"},
        files={"proof": ("v2.ots", download.content)},
    )
    assert ok.status_code == 200 and "The proof verifies" in ok.text
    wrong = client.post(
        "/records/LT-LHR-9/check",
        data={"version": "1"},
        files={"proof": ("v2.ots", download.content)},
    )
    assert "is not for version 1" in wrong.text
    junk = client.post(
        "/records/LT-LHR-9/check", data={"version": "1"}, files={"proof": ("x.ots", b"hello")}
    )
    assert junk.status_code == 400 and 'id="error"' in junk.text


def test_check_without_headers_reports_the_digest_only(
    anchored: tuple[RecordsRegistry, HeaderStore],
) -> None:
    records, _headers = anchored
    client = TestClient(_app(records, None))
    proof = records.proof("LT-LHR-9", 1)
    page = client.post(
        "/records/LT-LHR-9/check", data={"version": "1"}, files={"proof": ("v1.ots", proof)}
    )
    assert (
        "for version 1&#x27;s digest, not yet complete" in page.text
        or "not yet complete" in page.text
    )


def test_json_endpoints(anchored: tuple[RecordsRegistry, HeaderStore]) -> None:
    records, headers = anchored
    client = TestClient(_app(records, headers))
    found = client.get("/api/v1/records", params={"q": "LT-LHR-9"}).json()
    assert [(r["reference"], r["version"]) for r in found] == [("LT-LHR-9", 2)]
    history = client.get("/api/v1/records/LT-LHR-9").json()
    assert [r["version"] for r in history] == [1, 2]
    assert history[1]["previous_version"] == 1 and history[1]["status"] == "anchored"
    one = client.get("/api/v1/records/LT-LHR-9/versions/1").json()
    proof = client.get(one["proof_url"]).content
    checked = client.post("/api/v1/records/LT-LHR-9/versions/1/check", content=proof).json()
    assert checked["complete"] and checked["height"] == 1
    assert client.get("/api/v1/records/LT-NONE").status_code == 404
    assert client.get("/api/v1/records/LT-LHR-9/versions/7").status_code == 404
    assert client.post("/api/v1/records/LT-LHR-9/versions/1/check", content=b"x").status_code == 400
