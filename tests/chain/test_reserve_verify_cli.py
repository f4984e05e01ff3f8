"""``hashnation reserve verify`` against real-protocol servers serving mainnet blocks 0..255."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import typer.testing

from hashnation.cli.main import app

runner = typer.testing.CliRunner(env={"COLUMNS": "200"})
HAL = (
    "4104ae1a62fe09c5f51b13905f07f06b99a2f7159b2225f374cd378d71302fa28414e7aab37397f554a7"
    "df5f142c21c1b7303b8a0626f1baded5c72a704f7e6cd84cac"
)
SATOSHI = (
    "410411db93e1dcdb8a016b49840f8c53bc1eb68a382e97b1482ecad7b148a6909a5cb2e0eaddfb84cc"
    "f9744464f82e160bfa9b8b64f9d4c03f999b8643f656b412a3ac"
)


@pytest.fixture(params=["esplora", "electrum", "bitcoind"])
def source_option(
    request: pytest.FixtureRequest, servers: Any, rpc_url: str, esplora_url: str, electrum_url: str
) -> list[str]:
    if request.param == "esplora":
        return ["--esplora", esplora_url]
    if request.param == "electrum":
        return ["--electrum", electrum_url]
    parts = urlsplit(rpc_url)
    netloc = f"{servers.RPC_USER}:{servers.RPC_PASSWORD}@{parts.hostname}:{parts.port}"
    return ["--bitcoind", urlunsplit((parts.scheme, netloc, parts.path, "", ""))]


def test_verify_at_height_170(tmp_path: Path, source_option: list[str]) -> None:
    out = tmp_path / "holdings.json"
    args = ["reserve", "verify", "--height", "170", "--script", HAL, "--script", SATOSHI]
    result = runner.invoke(app, [*args, *source_option, "--json", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    # Block 170: Satoshi sends 10 BTC to Hal Finney and 40 BTC back to himself.
    assert doc["balances_sat"] == {HAL: 1_000_000_000, SATOSHI: 4_000_000_000}
    assert doc["total_sat"] == 5_000_000_000
    assert "total\t5000000000" in result.stdout


def test_verify_refuses_unconfirmed_claims(esplora_url: str) -> None:
    result = runner.invoke(
        app,
        [
            "reserve",
            "verify",
            "--height",
            "170",
            "--script",
            HAL,
            "--esplora",
            esplora_url,
            "--min-confirmations",
            "2",
        ],
    )
    assert result.exit_code == 2
    assert "error: " in result.stderr and "\n" not in result.stderr.strip()


def test_verify_needs_one_source_and_a_target(esplora_url: str) -> None:
    result = runner.invoke(app, ["reserve", "verify", "--height", "1", "--script", HAL])
    assert result.exit_code == 2 and "exactly one chain source" in result.stderr
    result = runner.invoke(app, ["reserve", "verify", "--height", "1", "--esplora", esplora_url])
    assert result.exit_code == 2 and "at least one script" in result.stderr
