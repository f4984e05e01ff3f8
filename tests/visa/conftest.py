"""Fixtures for the visa tests: a regtest chain the test mines, a programme, a payer.

The programme's descriptor is made from a random test key: only its account xpub
(``tpub``) reaches the platform. Payments are regtest transactions: a funding
transaction pays the payer's script, and the payment spends it, so that the payer's
address can be read from the payment's first input as on a real chain.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from btclib_wallet.bip32 import bip32

from hashnation.chain.base import TxRef
from hashnation.chain.headers import REGTEST, HeaderStore
from hashnation.chain.regtest import RegtestChain, payment_transaction
from hashnation.chain.scripts import address_to_script
from hashnation.chain.transactions import parse_transaction
from hashnation.visa.invoices import script_address
from hashnation.visa.rules import VisaRules
from hashnation.visa.service import ScanResult, VisaProgramme

TESTNET_XPRV_VERSION = bytes.fromhex("04358394")
ACCOUNT_PATH = "84h/1h/0h"
START_TIME_S = 1_700_000_000  # header time of block 1; each block is 600 s later
FEE_SAT = 1_000_000
TOLERANCE_SAT = 1_000
PRICE = Decimal("60000")


def programme_descriptor() -> str:
    """``wpkh([fp/84h/1h/0h]tpub.../<0;1>/*)`` of a random test key (xpub only)."""
    root = bip32.rootxprv_from_seed(os.urandom(32), TESTNET_XPRV_VERSION)
    fingerprint = bip32.fingerprint(root).hex()
    xpub = bip32.xpub_from_xprv(bip32.derive(root, f"m/{ACCOUNT_PATH}"))
    return f"wpkh([{fingerprint}/{ACCOUNT_PATH}]{xpub}/<0;1>/*)"


def rules(**changes: Any) -> VisaRules:
    terms: dict[str, Any] = {
        "price_usd_per_btc": PRICE,
        "amount_sat": FEE_SAT,
        "invoice_validity_hours": 2,
        "confirmations_required": 3,
        "yearly_quota": 2,
        "tolerance_sat": TOLERANCE_SAT,
    }
    terms.update(changes)
    return VisaRules(**terms)


@dataclass
class Harness:
    """A regtest chain, its header store, a settable clock and the programme."""

    programme: VisaProgramme
    chain: RegtestChain
    headers: HeaderStore
    now: list[datetime]
    payer_script: bytes = field(default_factory=lambda: bytes.fromhex("0014") + os.urandom(20))
    tags: Iterator[int] = field(default_factory=lambda: iter(range(1, 1_000_000)))

    @property
    def payer_address(self) -> str:
        address = script_address(self.payer_script, "test")
        assert address is not None
        return address

    def pay(self, address: str, amount_sat: int, *, mine: bool = True) -> str:
        """Fund the payer, then pay ``amount_sat`` to ``address``; return the payment txid."""
        fund = payment_transaction([(self.payer_script, amount_sat + 5_000)], tag=next(self.tags))
        fund_txid = parse_transaction(fund).txid_hex
        pay = payment_transaction(
            [(address_to_script(address), amount_sat)], spends=[(fund_txid, 0)]
        )
        if mine:
            self.chain.mine([fund, pay])
        return parse_transaction(pay).txid_hex

    def mine(self, blocks: int = 1) -> int:
        for _ in range(blocks):
            self.chain.mine()
        return self.chain.tip_height()

    def scan(self, source: Any = None) -> ScanResult:
        return self.programme.scan(source or self.chain, self.headers)

    def block_time(self, height: int) -> datetime:
        return datetime.fromtimestamp(START_TIME_S + 600 * (height - 1), UTC)


@pytest.fixture
def harness(db_url: str) -> Iterator[Harness]:
    now = [datetime.fromtimestamp(START_TIME_S - 60, UTC)]
    programme = VisaProgramme(db_url, clock=lambda: now[0])
    programme.configure(programme_descriptor(), rules())
    chain = RegtestChain(start_time=START_TIME_S)
    try:
        yield Harness(programme, chain, HeaderStore(chain.checkpoint(), REGTEST), now)
    finally:
        programme.close()


@pytest.fixture
def cleared(harness: Harness) -> Callable[..., str]:
    """Make an application with KYC cleared; return its reference."""

    def make(refund_address: str | None = None) -> str:
        view = harness.programme.apply(
            applicant_name="A. Investor", nationality="AE", refund_address=refund_address
        )
        harness.programme.set_kyc(view.reference, "cleared")
        return view.reference

    return make


# ---------------------------------------------------------------- Esplora over HTTP


class _EsploraHandler(BaseHTTPRequestHandler):
    """Esplora REST (the routes :class:`~hashnation.chain.EsploraSource` uses)."""

    server: _EsploraServer

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")
        if parts and parts[0] == "api":
            parts = parts[1:]
        with self.server.lock:
            try:
                status, body, kind = self._route(self.server.chain, parts)
            except Exception:
                status, body, kind = 404, b"Not Found", "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    @staticmethod
    def _tx_json(chain: RegtestChain, ref: TxRef) -> dict[str, Any]:
        return {
            "txid": ref.txid,
            "status": {
                "confirmed": True,
                "block_height": ref.height,
                "block_hash": chain.block_hash(ref.height),
            },
        }

    def _route(self, chain: RegtestChain, parts: list[str]) -> tuple[int, bytes, str]:
        text, js = "text/plain", "application/json"
        if parts == ["blocks", "tip", "height"]:
            return 200, str(chain.tip_height()).encode(), text
        if parts[0] == "block-height" and len(parts) == 2:
            return 200, chain.block_hash(int(parts[1])).encode(), text
        if parts[0] == "block" and len(parts) == 3 and parts[2] == "header":
            heights = {chain.block_hash(h): h for h in range(chain.tip_height() + 1)}
            return 200, chain.block_header(heights[parts[1]]).hex().encode(), text
        if parts[0] == "tx" and len(parts) == 3 and parts[2] == "hex":
            return 200, chain.raw_transaction(parts[1]).hex().encode(), text
        if parts[0] == "tx" and len(parts) == 3 and parts[2] == "merkle-proof":
            txid = parts[1]
            height = chain._placed[txid].height
            proof = chain.merkle_proof(txid, height)
            reply = {"block_height": height, "merkle": proof.branch_hex, "pos": proof.index}
            return 200, json.dumps(reply).encode(), js
        if parts[0] in ("address", "scripthash") and parts[2:4] == ["txs", "chain"]:
            if parts[0] == "address":
                script = address_to_script(parts[1])
            else:
                known = chain._history
                script = {hashlib.sha256(s).hexdigest(): s for s in known}[parts[1]]
            history = chain.address_history(script.hex())
            newest_first = [ref for ref in reversed(history)]
            if len(parts) == 5:
                at = [ref.txid for ref in newest_first].index(parts[4])
                newest_first = newest_first[at + 1 :]
            page = newest_first[:25]
            return 200, json.dumps([self._tx_json(chain, r) for r in page]).encode(), js
        return 404, b"Not Found", text


class _EsploraServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    chain: RegtestChain
    lock: threading.Lock


@contextmanager
def esplora_server(chain: RegtestChain) -> Iterator[str]:
    """Serve ``chain`` over Esplora's REST protocol on a free loopback port."""
    server = _EsploraServer(("127.0.0.1", 0), _EsploraHandler)
    server.chain = chain
    server.lock = threading.Lock()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}/api"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def late(harness: Harness, hours: float) -> None:
    """Move the clock forward."""
    harness.now[0] = harness.now[0] + timedelta(hours=hours)
