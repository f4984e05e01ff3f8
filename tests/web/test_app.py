"""The app assembles, answers its health check and publishes OpenAPI, over real HTTP."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

from hashnation import __version__
from hashnation.web.app import create_app


def test_health_and_openapi_over_http(live_server: Callable[[Any], Any]) -> None:
    server = live_server(create_app())
    with urllib.request.urlopen(f"{server.url}/healthz", timeout=10) as reply:
        assert json.load(reply) == {"status": "ok", "version": __version__}
    with urllib.request.urlopen(f"{server.url}/openapi.json", timeout=10) as reply:
        spec = json.load(reply)
    assert spec["info"]["title"] == "HashNation"


def test_browser_computes_sha256_on_a_served_page(
    live_server: Callable[[Any], Any], page: Any
) -> None:
    # WebCrypto exists only in a secure context: http://127.0.0.1 is one.
    server = live_server(create_app())
    page.goto(f"{server.url}/healthz")
    digest = page.evaluate(
        """async () => {
            const h = await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc'));
            return [...new Uint8Array(h)].map(b => b.toString(16).padStart(2, '0')).join('');
        }"""
    )
    assert digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
