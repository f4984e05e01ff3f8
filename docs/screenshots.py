"""Take the screenshots of the register and staff pages shown in the documentation.

Seeds a temporary SQLite registry with the example book
(:func:`hashnation.registry.seed.seed_example`), serves the app on a free
loopback port and photographs three pages in Debian's headless Chromium
(``/usr/bin/chromium``, driven by Playwright, as in the browser tests):

- ``register-search.png``: the public register search;
- ``register-firm.png``: the public record of a firm that was fined;
- ``staff-queue.png``: the staff review queue, signed in with the demo staff token.

Run from the repository root (Playwright is a dev dependency)::

    .venv/bin/python docs/screenshots.py            # writes docs/img/*.png
    .venv/bin/python docs/screenshots.py --out some/folder
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

from hashnation.registry.seed import seed_example
from hashnation.registry.service import Registry
from hashnation.store.db import upgrade
from hashnation.web.app import WebSettings, create_app

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 900}


def _serve(database_url: str) -> tuple[uvicorn.Server, str]:
    """Start the app on a free loopback port in a thread; return the server and its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(WebSettings(registry_db=database_url))
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


def main() -> None:
    """Parse the command line and take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "img", help="folder for the PNGs"
    )
    for path in take_screenshots(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()
