"""Local test servers speaking the real protocols over a real mainnet chain fixture.

The fixture is mainnet blocks 0..255: the genesis block (bitcoinjs' fixture) and
blocks 1..255 (btcd's test data), which include block 170, the first spend of a
coinbase (Satoshi pays 10 BTC to Hal Finney and takes 40 BTC back).

Servers, each on 127.0.0.1 and a free port chosen by the OS:

* :class:`RpcServer` -- Bitcoin Core JSON-RPC over HTTP with basic auth;
* :class:`EsploraServer` -- Esplora REST;
* :class:`ElectrumServer` -- Electrum protocol, newline-delimited JSON-RPC over TCP;
* :class:`GarbageHttpServer`, :class:`GarbageTcpServer`, :class:`SilentTcpServer` --
  misbehaving servers for the error paths.

Merkle branches and partial merkle trees are built here independently of
``hashnation.chain.merkle`` so that the adapters are checked against a second
implementation.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hashnation.chain.scripts import address_to_script
from hashnation.chain.transactions import Transaction, parse_block

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
RPC_USER = "reserve"
RPC_PASSWORD = "correct horse"
RPC_PATHS: list[str] = []  # request paths the RPC server saw, newest last


def load_vector(name: str) -> Any:
    return json.loads((VECTORS / name).read_text("utf-8"))


def _dsha(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


# -- independent merkle code (server side) --------------------------------------------------


def tree_branch(leaves: list[bytes], index: int) -> list[bytes]:
    """Sibling hashes leaf->root, internal order (duplicate-last rule)."""
    branch = []
    level = list(leaves)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        branch.append(level[index ^ 1])
        level = [_dsha(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
        index //= 2
    return branch


def partial_merkle_tree(leaves: list[bytes], matched: set[int]) -> tuple[list[bytes], bytes]:
    """CPartialMerkleTree::TraverseAndBuild: (hashes, flag bytes)."""
    total = len(leaves)

    def width(height: int) -> int:
        return (total + (1 << height) - 1) >> height

    def node(height: int, pos: int) -> bytes:
        if height == 0:
            return leaves[pos]
        left = node(height - 1, pos * 2)
        right = node(height - 1, pos * 2 + 1) if pos * 2 + 1 < width(height - 1) else left
        return _dsha(left + right)

    bits: list[int] = []
    hashes: list[bytes] = []

    def build(height: int, pos: int) -> None:
        parent = any((pos << height) <= i < ((pos + 1) << height) for i in matched)
        bits.append(int(parent))
        if height == 0 or not parent:
            hashes.append(node(height, pos))
        else:
            build(height - 1, pos * 2)
            if pos * 2 + 1 < width(height - 1):
                build(height - 1, pos * 2 + 1)

    height = 0
    while width(height) > 1:
        height += 1
    build(height, 0)
    flags = bytearray((len(bits) + 7) // 8)
    for i, bit in enumerate(bits):
        flags[i // 8] |= bit << (i % 8)
    return hashes, bytes(flags)


def _compact(n: int) -> bytes:
    if n < 0xFD:
        return bytes([n])
    return b"\xfd" + n.to_bytes(2, "little")


# -- the chain fixture ----------------------------------------------------------------------


@dataclass(frozen=True)
class FixtureTx:
    txid: str
    raw: bytes
    height: int
    index: int
    tx: Transaction


class ChainFixture:
    """Mainnet blocks 0..255 indexed by height, hash, txid and script."""

    def __init__(self) -> None:
        genesis = next(
            b["fixture"]
            for b in load_vector("chain/bitcoinjs_block_fixtures_mainnet.json")["blocks"]
            if b["fixture"]["height"] == 0
        )
        raw_blocks = [bytes.fromhex(genesis["hex"])]
        raw_blocks += [
            bytes.fromhex(b["block_hex"])
            for b in load_vector("chain/btcd_blocks_1_255_mainnet.json")["blocks"]
        ]
        self.blocks_raw = raw_blocks
        self.headers = [raw[:80] for raw in raw_blocks]
        self.hashes = [_dsha(h)[::-1].hex() for h in self.headers]
        self.height_by_hash = {h: i for i, h in enumerate(self.hashes)}
        self.block_txids: list[list[bytes]] = []
        self.txs: dict[str, FixtureTx] = {}
        self.history: dict[bytes, list[tuple[int, str]]] = {}
        funded: dict[tuple[str, int], bytes] = {}
        for height, raw in enumerate(raw_blocks):
            block = parse_block(raw)
            self.block_txids.append([tx.txid for tx in block.transactions])
            offset = 80 + 1
            for index, tx in enumerate(block.transactions):
                tx_raw = raw[offset : offset + tx.size_bytes]
                offset += tx.size_bytes
                assert _dsha(tx_raw)[::-1].hex() == tx.txid_hex
                self.txs[tx.txid_hex] = FixtureTx(tx.txid_hex, tx_raw, height, index, tx)
                touched = {funded[i.outpoint] for i in tx.inputs if i.outpoint in funded}
                for vout, out in enumerate(tx.outputs):
                    funded[(tx.txid_hex, vout)] = out.script_pubkey
                    touched.add(out.script_pubkey)
                for script in touched:
                    self.history.setdefault(script, []).append((height, tx.txid_hex))
            assert offset == len(raw)
        self.funded = funded

    @property
    def tip(self) -> int:
        return len(self.headers) - 1

    def branch(self, txid: str) -> tuple[int, int, list[bytes]]:
        entry = self.txs[txid]
        return entry.height, entry.index, tree_branch(self.block_txids[entry.height], entry.index)

    def merkle_block(self, txids: list[str], block_hash: str) -> bytes:
        height = self.height_by_hash[block_hash]
        matched = {self.txs[t].index for t in txids}
        hashes, flags = partial_merkle_tree(self.block_txids[height], matched)
        return (
            self.headers[height]
            + len(self.block_txids[height]).to_bytes(4, "little")
            + _compact(len(hashes))
            + b"".join(hashes)
            + _compact(len(flags))
            + flags
        )

    def unspent(self, script: bytes) -> list[tuple[str, int, int, int]]:
        spent = {i.outpoint for e in self.txs.values() for i in e.tx.inputs}
        result = []
        for (txid, vout), owner in self.funded.items():
            if owner == script and (txid, vout) not in spent:
                entry = self.txs[txid]
                result.append((txid, vout, entry.tx.outputs[vout].value_sat, entry.height))
        return sorted(result, key=lambda u: (u[3], u[0], u[1]))


# -- server plumbing ------------------------------------------------------------------------


class _Running:
    """A socketserver running in a thread; ``close()`` stops it and joins the thread."""

    def __init__(self, server: socketserver.BaseServer) -> None:
        self.server = server
        self.stopping = threading.Event()
        server.stopping = self.stopping  # type: ignore[attr-defined]
        self.thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        host, port = server.server_address[:2]  # type: ignore[misc]
        self.host, self.port = str(host), int(port)
        _wait_ready(self.host, self.port)

    def close(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _wait_ready(host: str, port: int, deadline_s: float = 5.0) -> None:
    end = time.monotonic() + deadline_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.01)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    fixture: ChainFixture
    options: dict[str, Any]


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    fixture: ChainFixture
    options: dict[str, Any]
    stopping: threading.Event


class _QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


# -- Bitcoin Core JSON-RPC ------------------------------------------------------------------


class RpcError(Exception):
    def __init__(self, code: int, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class _RpcHandler(_QuietHandler):
    def do_POST(self) -> None:
        RPC_PATHS.append(self.path)
        expected = base64.b64encode(f"{RPC_USER}:{RPC_PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            self.send(401, b"")
            return
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length))
        try:
            result = self._dispatch(request["method"], request.get("params", []))
            reply = {"result": result, "error": None, "id": request["id"]}
            status = 200
        except RpcError as exc:
            reply = {
                "result": None,
                "error": {"code": exc.code, "message": exc.message},
                "id": request["id"],
            }
            status = exc.status
        body = json.dumps(reply, default=str).encode()
        self.send(status, body, "application/json")

    def _block_height(self, block_hash: str) -> int:
        height = self.server.fixture.height_by_hash.get(block_hash)
        if height is None:
            raise RpcError(-5, "Block not found")
        return height

    def _dispatch(self, method: str, params: list[Any]) -> Any:
        fx = self.server.fixture
        if method == "getblockcount":
            return fx.tip
        if method == "getblockhash":
            if not 0 <= params[0] <= fx.tip:
                raise RpcError(-8, "Block height out of range")
            return fx.hashes[params[0]]
        if method == "getblockheader":
            height = self._block_height(params[0])
            if len(params) > 1 and params[1] is False:
                return fx.headers[height].hex()
            return {"hash": fx.hashes[height], "height": height}
        if method == "getblock":
            height = self._block_height(params[0])
            if params[1] != 0:
                raise RpcError(-8, "only verbosity 0 in this fixture")
            return fx.blocks_raw[height].hex()
        if method == "getrawtransaction":
            entry = fx.txs.get(params[0])
            block_hash = params[2] if len(params) > 2 else None
            if block_hash is not None:
                self._block_height(block_hash)
            if entry is None or (block_hash is not None and fx.hashes[entry.height] != block_hash):
                raise RpcError(-5, "No such transaction found in the provided block")
            if block_hash is None and not self.server.options.get("txindex", True):
                raise RpcError(
                    -5,
                    "No such mempool transaction. Use -txindex or provide a block hash to "
                    "enable blockchain transaction queries.",
                )
            return entry.raw.hex()
        if method == "gettxoutproof":
            txids, block_hash = params[0], params[1]
            height = self._block_height(block_hash)
            if any(t not in fx.txs or fx.txs[t].height != height for t in txids):
                raise RpcError(-5, "Not all transactions found in specified or retrieved block")
            return fx.merkle_block(txids, block_hash).hex()
        if method == "scantxoutset":
            return self._scan(params[1])
        raise RpcError(-32601, "Method not found", status=404)

    def _scan(self, descriptors: list[str]) -> dict[str, Any]:
        fx = self.server.fixture
        unspents = []
        for desc in descriptors:
            kind, _, rest = desc.partition("(")
            value = rest.rstrip(")")
            script = address_to_script(value) if kind == "addr" else bytes.fromhex(value)
            for txid, vout, value_sat, height in fx.unspent(script):
                unspents.append(
                    {
                        "txid": txid,
                        "vout": vout,
                        "scriptPubKey": script.hex(),
                        "desc": desc,
                        "amount": Decimal(value_sat).scaleb(-8),
                        "coinbase": fx.txs[txid].index == 0,
                        "height": height,
                    }
                )
        total = sum((u["amount"] for u in unspents), Decimal(0))
        return {
            "success": True,
            "txouts": len(fx.funded),
            "height": fx.tip,
            "bestblock": fx.hashes[fx.tip],
            "unspents": unspents,
            "total_amount": total,
        }


# -- Esplora REST ---------------------------------------------------------------------------


class _EsploraHandler(_QuietHandler):
    def do_GET(self) -> None:
        fx = self.server.fixture
        parts = self.path.strip("/").split("/")
        if parts[0] == "api":
            parts = parts[1:]
        try:
            status, body, content_type = self._route(fx, parts)
        except (KeyError, ValueError, IndexError):
            status, body, content_type = 404, b"Not Found", "text/plain"
        self.send(status, body, content_type)

    def _tx_json(self, fx: ChainFixture, txid: str) -> dict[str, Any]:
        entry = fx.txs[txid]
        return {
            "txid": txid,
            "version": entry.tx.version,
            "locktime": entry.tx.locktime,
            "vin": [
                {"txid": i.prev_txid_hex, "vout": i.prev_vout, "is_coinbase": i.is_coinbase}
                for i in entry.tx.inputs
            ],
            "vout": [
                {"scriptpubkey": o.script_pubkey_hex, "value": o.value_sat}
                for o in entry.tx.outputs
            ],
            "status": {
                "confirmed": True,
                "block_height": entry.height,
                "block_hash": fx.hashes[entry.height],
            },
        }

    def _route(self, fx: ChainFixture, parts: list[str]) -> tuple[int, bytes, str]:
        text, js = "text/plain", "application/json"
        if parts == ["blocks", "tip", "height"]:
            return 200, str(fx.tip).encode(), text
        if parts[0] == "block-height" and len(parts) == 2:
            return 200, fx.hashes[int(parts[1])].encode(), text
        if parts[0] == "block" and len(parts) == 3 and parts[2] == "header":
            return 200, fx.headers[fx.height_by_hash[parts[1]]].hex().encode(), text
        if parts[0] == "tx" and len(parts) == 3 and parts[2] == "hex":
            return 200, fx.txs[parts[1]].raw.hex().encode(), text
        if parts[0] == "tx" and len(parts) == 3 and parts[2] == "merkle-proof":
            height, index, branch = fx.branch(parts[1])
            reply = {
                "block_height": height,
                "merkle": [b[::-1].hex() for b in branch],
                "pos": index,
            }
            return 200, json.dumps(reply).encode(), js
        if parts[0] in ("address", "scripthash") and parts[2:4] == ["txs", "chain"]:
            if parts[0] == "address":
                script = address_to_script(parts[1])
            else:
                by_hash = {hashlib.sha256(s).hexdigest(): s for s in fx.history}
                script = by_hash.get(parts[1], b"")
            newest_first = [txid for _, txid in reversed(fx.history.get(script, []))]
            if len(parts) == 5:
                newest_first = newest_first[newest_first.index(parts[4]) + 1 :]
            page = newest_first[: self.server.options.get("page_size", 25)]
            return 200, json.dumps([self._tx_json(fx, t) for t in page]).encode(), js
        return 404, b"Not Found", text


# -- Electrum -------------------------------------------------------------------------------


class _ElectrumHandler(socketserver.StreamRequestHandler):
    server: _TcpServer
    disable_nagle_algorithm = True

    def handle(self) -> None:
        subscribed = False
        for line in self.rfile:
            request = json.loads(line)
            method, params = request["method"], request.get("params", [])
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request["id"]}
            out = b""
            try:
                reply["result"] = self._dispatch(method, params)
            except LookupError as exc:
                reply["error"] = {"code": 2, "message": f"daemon error: {exc}"}
            if subscribed:  # pushed notifications interleave with replies
                fx = self.server.fixture
                note = {
                    "jsonrpc": "2.0",
                    "method": "blockchain.headers.subscribe",
                    "params": [{"height": fx.tip, "hex": fx.headers[fx.tip].hex()}],
                }
                out += json.dumps(note).encode() + b"\n"
            subscribed = subscribed or method == "blockchain.headers.subscribe"
            self.wfile.write(out + json.dumps(reply).encode() + b"\n")

    def _dispatch(self, method: str, params: list[Any]) -> Any:
        fx = self.server.fixture
        if method == "server.version":
            return ["FixtureElectrum 1.0", "1.4"]
        if method == "blockchain.headers.subscribe":
            return {"height": fx.tip, "hex": fx.headers[fx.tip].hex()}
        if method == "blockchain.block.header":
            if not 0 <= params[0] <= fx.tip:
                raise LookupError(f"height {params[0]} out of range")
            return fx.headers[params[0]].hex()
        if method == "blockchain.scripthash.get_history":
            by_hash = {hashlib.sha256(s).digest()[::-1].hex(): s for s in fx.history}
            script = by_hash.get(params[0])
            entries = fx.history.get(script, []) if script else []
            return [{"tx_hash": txid, "height": height} for height, txid in entries]
        if method == "blockchain.transaction.get":
            if params[0] not in fx.txs:
                raise LookupError(f"no such transaction {params[0]}")
            return fx.txs[params[0]].raw.hex()
        if method == "blockchain.transaction.get_merkle":
            if params[0] not in fx.txs:
                raise LookupError(f"no such transaction {params[0]}")
            height, index, branch = fx.branch(params[0])
            if height != params[1]:
                raise LookupError(f"tx {params[0]} not in block at height {params[1]}")
            return {"block_height": height, "merkle": [b[::-1].hex() for b in branch], "pos": index}
        raise LookupError(f"unknown method {method}")


# -- misbehaving servers --------------------------------------------------------------------


class _GarbageHttpHandler(_QuietHandler):
    def do_GET(self) -> None:
        self.send(200, b"<html>maintenance</html>", "text/html")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send(200, b"<html>maintenance</html>", "text/html")


class _GarbageTcpHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        for _ in self.rfile:
            self.wfile.write(b"HTTP/1.0 400 what is this\n")


class _SilentHandler(socketserver.BaseRequestHandler):
    server: _TcpServer

    def handle(self) -> None:
        self.server.stopping.wait(10)


# -- public context managers ----------------------------------------------------------------


@contextmanager
def _serve(server: socketserver.BaseServer) -> Iterator[_Running]:
    running = _Running(server)
    try:
        yield running
    finally:
        running.close()


@contextmanager
def rpc_server(fixture: ChainFixture, **options: Any) -> Iterator[str]:
    server = _HttpServer(("127.0.0.1", 0), _RpcHandler)
    server.fixture, server.options = fixture, options
    with _serve(server) as running:
        yield f"http://{running.host}:{running.port}"


@contextmanager
def esplora_server(fixture: ChainFixture, **options: Any) -> Iterator[str]:
    server = _HttpServer(("127.0.0.1", 0), _EsploraHandler)
    server.fixture, server.options = fixture, options
    with _serve(server) as running:
        yield f"http://{running.host}:{running.port}/api"


@contextmanager
def electrum_server(fixture: ChainFixture, **options: Any) -> Iterator[str]:
    server = _TcpServer(("127.0.0.1", 0), _ElectrumHandler)
    server.fixture, server.options = fixture, options
    with _serve(server) as running:
        yield f"tcp://{running.host}:{running.port}"


@contextmanager
def garbage_http_server() -> Iterator[str]:
    server = _HttpServer(("127.0.0.1", 0), _GarbageHttpHandler)
    with _serve(server) as running:
        yield f"http://{running.host}:{running.port}"


@contextmanager
def garbage_tcp_server() -> Iterator[str]:
    server = _TcpServer(("127.0.0.1", 0), _GarbageTcpHandler)
    with _serve(server) as running:
        yield f"{running.host}:{running.port}"


@contextmanager
def silent_tcp_server() -> Iterator[str]:
    server = _TcpServer(("127.0.0.1", 0), _SilentHandler)
    with _serve(server) as running:
        yield f"{running.host}:{running.port}"


def closed_port() -> int:
    """A port nothing listens on: bound by the OS, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
