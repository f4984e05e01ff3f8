"""Take the screenshots of the web pages shown in the documentation.

Seeds a temporary SQLite registry with the example book
(:func:`hashnation.registry.seed.seed_example`), serves the app on a free
loopback port and photographs pages in Debian's headless Chromium
(``/usr/bin/chromium``, driven by Playwright, as in the browser tests):

- ``register-search.png``: the public register search;
- ``register-firm.png``: the public record of a firm that was fined;
- ``staff-queue.png``: the staff review queue, signed in with the demo staff token;
- ``portal-home.png``: Pakistan's public portal home page, in English;
- ``portal-home-es.png``: El Salvador's, in Spanish.

For the portal each country's own mining scenario is run, a demonstration reserve
report is built on a private regtest chain (so the page says so) and two public
records are anchored on it.

Run from the repository root (Playwright is a dev dependency)::

    .venv/bin/python docs/screenshots.py            # writes docs/img/*.png
    .venv/bin/python docs/screenshots.py --out some/folder
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import uvicorn

from hashnation.chain.regtest import RegtestChain
from hashnation.countries import load_pack
from hashnation.countries.services import pack_registry
from hashnation.mining.outputs import write_outputs
from hashnation.mining.program import MiningProgram
from hashnation.records.service import RecordsRegistry, regtest_attester
from hashnation.registry.seed import seed_example
from hashnation.registry.service import Registry
from hashnation.reserve.demo import demo_reserve
from hashnation.reserve.service import collect_report, scan_reserve
from hashnation.reserve.transparency import PriceQuote
from hashnation.store.db import upgrade
from hashnation.web.app import WebSettings, create_app

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 900}
PORTAL_VIEWPORT = {"width": 1200, "height": 900}
PORTALS = (("pakistan", "portal-home.png"), ("el-salvador", "portal-home-es.png"))
LAND = {
    "parcel_id": "LHR-0042-17",
    "district": "Lahore",
    "area_m2": "512.50",
    "owner": "Ayesha Khan",
    "registered_on": "2026-02-27",
}


def _serve(settings: WebSettings | str) -> tuple[uvicorn.Server, str]:
    """Start the app on a free loopback port in a thread; return the server and its URL."""
    if isinstance(settings, str):
        settings = WebSettings(registry_db=settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.02)
    return server, f"http://127.0.0.1:{port}"


def take_screenshots(out: Path) -> list[Path]:
    """Seed a registry, serve it and save the three screenshots in ``out``.

    Parameters
    ----------
    out
        Folder for the PNG files (made if missing).

    Returns
    -------
    list of Path
        The files written.
    """
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'registry.db'}"
        upgrade(url)
        with Registry(url) as registry:
            tokens = seed_example(registry)
            fined = next(
                row.firm_id
                for row in registry.register(limit=None)
                if any(e.fine_usd for e in registry.firm_record(row.firm_id).enforcement)
            )
        server, base = _serve(url)
        written = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
                )
                page = browser.new_page(viewport=VIEWPORT)
                page.goto(f"{base}/register/")
                written.append(out / "register-search.png")
                page.screenshot(path=str(written[-1]), full_page=True)
                page.goto(f"{base}/register/firm/{fined}")
                written.append(out / "register-firm.png")
                page.screenshot(path=str(written[-1]), full_page=True)
                page.goto(f"{base}/staff/login")
                page.fill("#token", tokens["staff"])
                with page.expect_navigation():
                    page.click("#login button[type=submit]")
                written.append(out / "staff-queue.png")
                page.screenshot(path=str(written[-1]), full_page=True)
                browser.close()
        finally:
            server.should_exit = True
    return written


def _portal_site(country: str, folder: Path) -> WebSettings:
    """Fill ``folder`` with one country's demonstration programme; return what to serve."""
    pack = load_pack(country)
    url = f"sqlite:///{folder / 'portal.db'}"
    upgrade(url)
    with pack_registry(pack, url) as registry:
        seed_example(registry)
    chain = RegtestChain()
    clock = lambda: datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # noqa: E731
    with RecordsRegistry(url, clock=clock) as records:
        for number in range(1, 4):
            fields = {**LAND, "parcel_id": f"LHR-0042-{16 + number}"}
            records.add(
                "registrar", record_type="land_title", reference=f"LT-LHR-{number}", fields=fields
            )
        records.anchor_pending("registrar", regtest_attester(chain))
    demo = demo_reserve(24, per_block=2, spend_every=4)
    report = collect_report(
        source=demo.chain,
        reserve_name=pack.reserve_name,
        height=demo.chain.tip_height(),
        watched=scan_reserve(demo.chain, demo.reserve, gap_limit=4),
        descriptors=demo.descriptors,
        network="regtest",
        ledger_sat=demo.held_sat[demo.chain.tip_height()],
        price=PriceQuote(Decimal("91000.00"), "stated for the demonstration", "2025-11-23"),
    )
    (folder / "reserve").mkdir()
    (folder / "reserve" / "report.json").write_text(
        json.dumps(report.to_json_dict()), encoding="utf-8"
    )
    mining = folder / "mining"
    if pack.scenario_file is not None:
        results = MiningProgram.from_toml(pack.scenario_file).run().results
        write_outputs(results, mining, hourly_csv=False)
    return WebSettings(
        registry_db=url,
        reserve_report=folder / "reserve",
        mining_report=mining if pack.scenario_file is not None else None,
        country=country,
        rate_limit_per_minute=0,
    )


def take_portal_screenshots(out: Path) -> list[Path]:
    """Serve each country's demonstration portal and photograph its home page.

    Parameters
    ----------
    out
        Folder for the PNG files (made if missing).

    Returns
    -------
    list of Path
        The files written: ``portal-home.png`` (Pakistan) and ``portal-home-es.png``
        (El Salvador).
    """
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        for country, name in PORTALS:
            with tempfile.TemporaryDirectory() as folder:
                server, base = _serve(_portal_site(country, Path(folder)))
                try:
                    page = browser.new_page(viewport=PORTAL_VIEWPORT)
                    page.goto(f"{base}/")
                    written.append(out / name)
                    page.screenshot(path=str(written[-1]), full_page=True)
                    page.close()
                finally:
                    server.should_exit = True
        browser.close()
    return written


def main() -> None:
    """Parse the command line and take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "img", help="folder for the PNGs"
    )
    parser.add_argument(
        "--only", choices=("all", "register", "portal"), default="all", help="pages to take"
    )
    args = parser.parse_args()
    written = []
    if args.only in ("all", "register"):
        written += take_screenshots(args.out)
    if args.only in ("all", "portal"):
        written += take_portal_screenshots(args.out)
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
