"""A local calendar server speaking the OpenTimestamps calendar protocol, for tests.

``POST /digest`` aggregates: the digest gets ``append(nonce) sha256`` and a
``PendingAttestation`` for this server's URL, and the resulting commitment
waits. :meth:`LocalCalendar.confirm` joins every waiting commitment with
``make_merkle_tree``, mines a regtest transaction whose ``OP_RETURN`` holds
the tip, and from then on ``GET /timestamp/<commitment hex>`` serves the
timestamp from the commitment through the tree, the transaction and the
block's merkle branch to a ``BitcoinBlockHeaderAttestation`` at that height.
Unknown or still pending commitments get 404, as real calendars answer.
"""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentimestamps.core.notary import PendingAttestation
from opentimestamps.core.op import OpAppend, OpSHA256
from opentimestamps.core.serialize import BytesDeserializationContext, BytesSerializationContext
from opentimestamps.core.timestamp import Timestamp, make_merkle_tree

from hashnation.anchoring import block_timestamp
from hashnation.chain.regtest import RegtestChain, payment_transaction
from hashnation.chain.transactions import parse_transaction


def _serialize(stamp: Any) -> bytes:
    ctx = BytesSerializationContext()
    stamp.serialize(ctx)
    return bytes(ctx.getbytes())


class LocalCalendar:
    """Calendar on ``127.0.0.1`` and a free port, committing to ``chain``."""

    def __init__(self, chain: RegtestChain) -> None:
        self.chain = chain
        self.waiting: list[Any] = []  # commitment timestamps not yet in a block
        self.done: dict[bytes, Any] = {}  # commitment -> upgraded timestamp
        self.lock = threading.Lock()
        self.requests: list[str] = []
        calendar = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                calendar.requests.append(f"POST {self.path}")
                length = int(self.headers.get("Content-Length", "0"))
                digest = self.rfile.read(length)
                if self.path != "/digest" or not 1 <= len(digest) <= 64:
                    self._reply(400, b"bad request")
                    return
                self._reply(200, calendar.submit(digest))

            def do_GET(self) -> None:
                calendar.requests.append(f"GET {self.path}")
                prefix = "/timestamp/"
                try:
                    commitment = bytes.fromhex(self.path.removeprefix(prefix))
                except ValueError:
                    self._reply(400, b"bad commitment")
                    return
                with calendar.lock:
                    stamp = calendar.done.get(commitment)
                    pending = any(s.msg == commitment for s in calendar.waiting)
                if stamp is None:
                    text = (
                        b"Pending confirmation in Bitcoin blockchain" if pending else b"Not found"
                    )
                    self._reply(404, text)
                    return
                self._reply(200, _serialize(stamp))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> LocalCalendar:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def submit(self, digest: bytes) -> bytes:
        stamp = Timestamp(digest)
        commitment = stamp.ops.add(OpAppend(os.urandom(16))).ops.add(OpSHA256())
        commitment.attestations.add(PendingAttestation(self.url))
        with self.lock:
            self.waiting.append(commitment)
        return _serialize(stamp)

    def confirm(self) -> int:
        """Mine the waiting commitments into one regtest block; return its height."""
        with self.lock:
            waiting, self.waiting = self.waiting, []
        fresh = [Timestamp(s.msg) for s in waiting]
        tip = make_merkle_tree(fresh)
        tx = payment_transaction([(b"\x6a\x20" + tip.msg, 0)], tag=len(self.done))
        height = self.chain.mine([tx])
        proof = self.chain.merkle_proof(parse_transaction(tx).txid_hex, height)
        upgraded = block_timestamp(tip.msg, tx, proof.branch, proof.index, height)
        tip.merge(Timestamp.deserialize(BytesDeserializationContext(upgraded), tip.msg))
        with self.lock:
            for stamp in fresh:
                self.done[stamp.msg] = stamp
        return height
