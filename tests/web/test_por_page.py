"""The in-browser proof check (GET /por/verify) in real headless Chromium, against the CLI.

For a valid proof and for each kind of tampering (one balance, one sibling
hash, one sibling sum, swapped siblings) the page, computing with WebCrypto,
must give the same verdict and the same passed and failed checks, by name, as
``hashnation por verify-inclusion``.
"""

from __future__ import annotations

import copy
import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer.testing

from hashnation.cli.main import app as cli_app
from hashnation.proofs.balances import Balances
from hashnation.proofs.liabilities import build_liabilities
from hashnation.web.app import create_app

runner = typer.testing.CliRunner(env={"COLUMNS": "200"})
ROWS = [
    ("alice", "BTC", 150_000_000),
    ("alice", "USDT", 2_500_000_000),
    ("bob", "BTC", 20_000),
    ("carol", "BTC", 9_223_372_036_000_000_000),  # large: BigInt, not Number, in the page
    ("dave", "BTC", 0),
    ("erin", "USDC", 7),
]


@pytest.fixture(scope="module")
def book() -> Any:
    balances = Balances.from_rows(ROWS)
    return build_liabilities(
        balances,
        height=900_000,
        secret=bytes(range(32)),
        custodian="acme",
        split=2,
        rng=np.random.default_rng(7),
    )


def tamper(proof: dict[str, Any], kind: str) -> dict[str, Any]:
    doc = copy.deepcopy(proof)
    entry = doc["assets"][0]
    leaf = entry["leaves"][0]
    if kind == "balance":
        leaf["amount"] = str(int(leaf["amount"]) + 1)
        entry["balance"] = str(int(entry["balance"]) + 1)
    elif kind == "sibling hash":
        digest = leaf["path"][0]["digest"]
        leaf["path"][0]["digest"] = ("1" if digest[0] == "0" else "0") + digest[1:]
    elif kind == "sibling sum":
        leaf["path"][0]["sum"] = str(int(leaf["path"][0]["sum"]) + 1)
    elif kind == "swapped siblings":
        leaf["index"] ^= 1  # the leaf takes its sibling's place, and the sibling the leaf's
    return doc


def cli_answer(path: Path, *extra: str) -> tuple[str, list[tuple[bool, str]]]:
    result = runner.invoke(cli_app, ["por", "verify-inclusion", str(path), *extra])
    checks = []
    for line in result.stdout.splitlines():
        if line[:2] in ("✓ ", "✗ "):
            name = line[2:].split(" (", 1)[0]
            checks.append((line[0] == "✓", name))
    verdict = result.stdout.strip().splitlines()[-1].split(":")[0]
    assert result.exit_code == (0 if verdict == "VALID" else 1), result.output
    return verdict, checks


def page_answer(page: Any, proof_text: str, customer: str = "", root: str = "") -> Any:
    page.fill("#proof", proof_text)
    page.fill("#customer", customer)
    page.fill("#root", root)
    page.evaluate("document.body.dataset.state = ''")
    page.click("#verify")
    page.wait_for_selector("body[data-state=done]", timeout=10_000)
    checks = page.eval_on_selector_all(
        "#checks li", "items => items.map(li => [li.dataset.ok === 'true', li.dataset.name])"
    )
    verdict = page.inner_text("#verdict").split(":")[0]
    return verdict, [(bool(ok), str(name)) for ok, name in checks]


@pytest.mark.parametrize(
    "kind", ["valid", "balance", "sibling hash", "sibling sum", "swapped siblings"]
)
def test_page_agrees_with_the_cli(
    kind: str, book: Any, tmp_path: Path, live_server: Callable[[Any], Any], page: Any
) -> None:
    proof = json.loads(book.proof("alice").to_json())
    doc = proof if kind == "valid" else tamper(proof, kind)
    path = tmp_path / "alice.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    expected = cli_answer(path)
    server = live_server(create_app())
    page.goto(f"{server.url}/por/verify")
    got = page_answer(page, path.read_text(encoding="utf-8"))
    assert got == expected
    assert (got[0] == "VALID") == (kind == "valid")
    if kind != "valid":
        failed = {name for ok, name in got[1] if not ok}
        assert any(name.endswith("root digest") for name in failed), failed
    assert page.errors == []


def test_page_checks_the_customer_id_and_the_published_root(
    book: Any, tmp_path: Path, live_server: Callable[[Any], Any], page: Any
) -> None:
    server = live_server(create_app())
    page.goto(f"{server.url}/por/verify")
    root = book.root().to_json()
    (tmp_path / "root.json").write_text(root, encoding="utf-8")
    for customer in ("carol", "bob"):
        proof_path = tmp_path / "carol.json"
        proof_path.write_text(book.proof("carol").to_json(), encoding="utf-8")
        extra = ["--customer", customer, "--root", str(tmp_path / "root.json")]
        expected = cli_answer(proof_path, *extra)
        got = page_answer(page, proof_path.read_text(encoding="utf-8"), customer, root)
        assert got == expected
        assert (got[0] == "VALID") == (customer == "carol")
    other = build_liabilities(
        Balances.from_rows(ROWS), height=900_000, secret=bytes(32), custodian="acme"
    )
    other_root = other.root().to_json()
    (tmp_path / "other.json").write_text(other_root, encoding="utf-8")
    expected = cli_answer(proof_path, "--root", str(tmp_path / "other.json"))
    got = page_answer(page, proof_path.read_text(encoding="utf-8"), "", other_root)
    assert got == expected
    assert got[0] == "INVALID" and (False, "published root") in got[1]


def test_page_refuses_what_is_not_a_proof(
    live_server: Callable[[Any], Any], page: Any, book: Any
) -> None:
    server = live_server(create_app())
    page.goto(f"{server.url}/por/verify")
    for text in ("{not json", json.dumps({"format": "something else"})):
        verdict, checks = page_answer(page, text)
        assert verdict == "INVALID"
        assert checks == [(False, "proof file")]
    doc = json.loads(book.proof("bob").to_json())
    doc["assets"][0]["leaves"][0]["amount"] = str(2**63)  # out of range: refused on reading
    verdict, checks = page_answer(page, json.dumps(doc))
    assert (verdict, checks) == ("INVALID", [(False, "proof file")])
    assert page.errors == []


def test_page_is_self_contained(live_server: Callable[[Any], Any]) -> None:
    server = live_server(create_app())
    with urllib.request.urlopen(f"{server.url}/por/verify", timeout=10) as reply:
        html = reply.read().decode("utf-8")
        policy = reply.headers["Content-Security-Policy"]
    assert "connect-src 'none'" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert " src=" not in html and "href=" not in html and "http" not in html.lower()
