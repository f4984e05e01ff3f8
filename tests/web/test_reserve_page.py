"""The public reserve page in real headless Chromium: numbers equal the report's, charts render."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hashnation.reserve.demo import demo_reserve
from hashnation.reserve.service import collect_report, scan_reserve
from hashnation.reserve.transparency import PriceQuote
from hashnation.web.app import WebSettings, create_app

PRICE = PriceQuote(Decimal("91000.00"), "stated for the test", "2025-11-23")


@pytest.fixture(scope="module")
def reports_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    demo = demo_reserve(24, per_block=2, spend_every=4)
    watched = scan_reserve(demo.chain, demo.reserve, gap_limit=4)
    folder = tmp_path_factory.mktemp("reports")
    for height in (4, 8, demo.chain.tip_height()):
        report = collect_report(
            source=demo.chain,
            reserve_name="Test national reserve",
            height=height,
            watched=watched,
            descriptors=demo.descriptors,
            network="regtest",
            ledger_sat=demo.held_sat[height],
            price=PRICE,
        )
        (folder / f"report-{height}.json").write_text(
            json.dumps(report.to_json_dict()), encoding="utf-8"
        )
    return folder


def _latest(folder: Path) -> dict[str, Any]:
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")]
    return max(docs, key=lambda d: d["height"])


def _btc(sat: int) -> str:
    return f"{sat // 100_000_000:,}.{sat % 100_000_000:08d}"


def test_page_numbers_equal_the_report_and_charts_render(
    reports_dir: Path, live_server: Callable[[Any], Any], page: Any, tmp_path: Path
) -> None:
    server = live_server(create_app(WebSettings(reserve_report=reports_dir)))
    latest = _latest(reports_dir)
    totals = latest["totals"]
    page.goto(f"{server.url}/reserve/")
    page.wait_for_selector("#fig-history .main-svg")
    page.wait_for_selector("#fig-arrivals .main-svg")
    assert page.inner_text("#total-btc") == f"{_btc(totals['chain_sat'])} BTC"
    assert page.inner_text("#total-usd") == f"{Decimal(totals['value_usd']):,.2f} USD"
    assert page.inner_text("#utxo-count") == f"{totals['utxo_count']:,}"
    assert page.inner_text("#height") == f"{latest['height']:,}"
    assert page.inner_text("#block-hash") == latest["block_hash"]
    # one history point per published report, at the reports' totals
    ys = page.evaluate("document.getElementById('fig-history').data[0].y")
    expected = sorted(
        json.loads(p.read_text(encoding="utf-8"))["totals"]["chain_sat"] / 1e8
        for p in reports_dir.glob("*.json")
    )
    assert sorted(ys) == pytest.approx(expected)
    # every watched address is listed with its balance
    rows = page.locator("#addresses tbody tr")
    assert rows.count() == len(latest["scripts"])
    first = latest["scripts"][0]
    assert rows.nth(0).inner_text().split("\t")[0] == first["address"]
    assert "every check holds" in page.inner_text("#verdict")
    page.screenshot(path=str(tmp_path / "reserve.png"), full_page=True)
    assert page.errors == []


def test_downloads_match_the_published_report(
    reports_dir: Path, live_server: Callable[[Any], Any], page: Any
) -> None:
    server = live_server(create_app(WebSettings(reserve_report=reports_dir)))
    latest = _latest(reports_dir)
    page.goto(f"{server.url}/reserve/")
    href = page.get_attribute("#downloads a[href$='report.json']", "href")
    reply = page.request.get(f"{server.url}/reserve/{href}")
    assert reply.ok and json.loads(reply.body()) == latest
    csv_text = page.request.get(f"{server.url}/reserve/utxos.csv").text()
    assert len(csv_text.strip().splitlines()) == latest["totals"]["utxo_count"] + 1
    page.click("text=How to verify this report yourself")
    page.wait_for_selector("text=hashnation verify report.json")
    with urllib.request.urlopen(f"{server.url}/api/reserve/summary", timeout=10) as answer:
        summary = json.load(answer)
    assert summary["chain_sat"] == latest["totals"]["chain_sat"]
    assert summary["verified"] is True and len(summary["history"]) == 3


def test_a_report_that_fails_verification_is_not_served(
    reports_dir: Path, tmp_path: Path, live_server: Callable[[Any], Any]
) -> None:
    doc = _latest(reports_dir)
    doc["utxos"][0]["value_sat"] += 1
    bad = tmp_path / "report.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    server = live_server(create_app(WebSettings(reserve_report=bad)))
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{server.url}/reserve/", timeout=10)
    assert caught.value.code == 503
    assert "utxos[0]" in json.load(caught.value)["detail"]
