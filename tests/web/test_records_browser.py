"""The public records pages in a real Chromium: look up, open a record, check a proof."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hashnation.chain.headers import REGTEST, HeaderStore
from hashnation.chain.regtest import RegtestChain
from hashnation.records.service import RecordsRegistry, regtest_attester
from hashnation.store.db import upgrade
from hashnation.web.app import create_app
from hashnation.web.records import records_router

LAND = {
    "parcel_id": "LHR-0042-17",
    "district": "Lahore",
    "area_m2": "512.50",
    "owner": "Ayesha Khan",
    "registered_on": "2026-02-27",
}


def test_look_up_a_record_and_check_its_proof(tmp_path: Path, live_server: Any, page: Any) -> None:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    upgrade(url)
    chain = RegtestChain()
    with RecordsRegistry(url, clock=lambda: datetime(2026, 3, 2, tzinfo=UTC)) as records:
        records.add("registrar", record_type="land_title", reference="LT-LHR-9", fields=LAND)
        records.correct(
            "registrar",
            reference="LT-LHR-9",
            fields={**LAND, "area_m2": "600"},
            reason="re-surveyed",
        )
        records.anchor_pending("registrar", regtest_attester(chain))
        headers = HeaderStore(chain.checkpoint(), REGTEST)
        headers.extend(chain.block_header(h) for h in range(1, chain.tip_height() + 1))
        app = create_app()
        app.include_router(records_router(records, headers))
        server = live_server(app)

        page.goto(f"{server.url}/records/")
        page.fill("#q", "LT-LHR")
        page.click("#search button")
        page.click("#results a")
        assert page.locator("section.version").count() == 2
        page.select_option("#version", "2")
        page.set_input_files(
            "#proof",
            files=[
                {
                    "name": "v2.ots",
                    "mimeType": "application/octet-stream",
                    "buffer": records.proof("LT-LHR-9", 2),
                }
            ],
        )
        page.click("#check button")
        assert "The proof verifies" in page.locator("#result").inner_text()
        assert page.errors == []
