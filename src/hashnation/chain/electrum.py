"""An Electrum server (ElectrumX, Fulcrum, electrs) as a chain source.

The Electrum protocol is JSON-RPC 2.0 over a TCP (or TLS) stream, one JSON
object per line. A session opens with ``server.version``; the methods used
are

* ``blockchain.headers.subscribe`` -- ``{"height", "hex"}`` of the tip;
* ``blockchain.block.header(height)`` -- header hex;
* ``blockchain.scripthash.get_history(scripthash)`` -- ``[{"tx_hash", "height"}]``,
  height 0 or -1 for unconfirmed ones; the script hash is ``sha256(scriptPubKey)``
  byte-reversed, in hex;
* ``blockchain.transaction.get(txid)`` -- raw transaction hex;
* ``blockchain.transaction.get_merkle(txid, height)`` -- ``{"block_height", "merkle", "pos"}``
  (branch hashes in display order).

Notifications the server pushes (after ``headers.subscribe``) are skipped.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import ssl
import threading
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from hashnation.chain._codec import display_hex, from_display_hex
from hashnation.chain.base import (
    MerkleProof,
    TxRef,
    check_header,
    check_transaction,
    electrum_style_proof,
    normalize_txid,
)
from hashnation.chain.scripts import electrum_scripthash, resolve_script
from hashnation.errors import ChainError, InputError

__all__ = ["PROTOCOL_VERSION", "ElectrumSource"]

PROTOCOL_VERSION: str = "1.4"
"""Electrum protocol version asked for in ``server.version``."""

_CLIENT_NAME = "hashnation"
_MAX_LINE_BYTES = 64 * 1024 * 1024
_SCHEMES = {"tcp": False, "ssl": True, "tls": True}


class ElectrumSource:
    """An Electrum server as a :class:`~hashnation.chain.base.ChainSource`.

    One connection is opened on first use and kept; :meth:`close` (or a
    ``with`` block) ends it. After a timeout or a broken stream the connection
    is dropped and the next call opens a new one.

    Parameters
    ----------
    url
        ``tcp://host:port`` or ``ssl://host:port``.
    timeout_s
        Connect and read timeout per call [s].
    ssl_context
        TLS context for ``ssl://`` (the default one verifies certificates;
        many Electrum servers use self-signed ones and need a custom context).

    Raises
    ------
    InputError
        If the URL or timeout is malformed.
    """

    def __init__(
        self, url: str, *, timeout_s: float = 30.0, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in _SCHEMES or not parts.hostname or not parts.port:
            raise InputError("url", url, "tcp://host:port or ssl://host:port")
        if (
            isinstance(timeout_s, bool)
            or not isinstance(timeout_s, int | float)
            or not timeout_s > 0
        ):
            raise InputError("timeout_s", timeout_s, "a number of seconds > 0")
        self._host, self._port = parts.hostname, parts.port
        self._tls = _SCHEMES[parts.scheme]
        self._url = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
        self._timeout_s = float(timeout_s)
        self._ssl_context = ssl_context
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._stream: BinaryIO | None = None
        self.server_version: list[Any] | None = None
        """``server.version``'s answer, ``[software, protocol]``, once connected."""

    @property
    def url(self) -> str:
        """The server URL."""
        return self._url

    def __enter__(self) -> ElectrumSource:
        """Return the source itself; the connection opens on first use."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the connection."""
        self.close()

    def close(self) -> None:
        """Close the connection, if open."""
        stream, sock = self._stream, self._socket
        self._stream = self._socket = None
        for item in (stream, sock):
            if item is not None:
                with contextlib.suppress(OSError):
                    item.close()

    # -- transport -------------------------------------------------------------------------

    def _connect(self) -> None:
        where = f"{self._url} connect"
        try:
            sock = socket.create_connection((self._host, self._port), timeout=self._timeout_s)
        except TimeoutError:
            raise ChainError(
                f"{where}: no connection within {self._timeout_s} s, expected a listening server"
            ) from None
        except ConnectionRefusedError:
            raise ChainError(
                f"{where}: connection refused, expected an Electrum server listening there"
            ) from None
        except OSError as exc:
            raise ChainError(f"{where}: {exc!r}, expected a reachable server") from None
        # Small request/response lines: send at once rather than wait for ACKs (Nagle).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls:
            context = self._ssl_context or ssl.create_default_context()
            try:
                sock = context.wrap_socket(sock, server_hostname=self._host)
            except (OSError, ssl.SSLError) as exc:
                sock.close()
                raise ChainError(f"{where}: TLS handshake failed ({exc!r})") from None
        self._socket = sock
        self._stream = sock.makefile("rb")
        reply = self._exchange("server.version", [_CLIENT_NAME, PROTOCOL_VERSION])
        if not isinstance(reply, list) or len(reply) != 2:
            self.close()
            raise ChainError(
                f"{self._url} server.version: got {reply!r}, expected [software, protocol]"
            )
        self.server_version = reply

    def _exchange(self, method: str, params: list[Any]) -> Any:
        sock, stream = self._socket, self._stream
        assert sock is not None and stream is not None
        where = f"{self._url} {method}"
        request_id = next(self._ids)
        message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        try:
            sock.sendall(json.dumps(message).encode("utf-8") + b"\n")
            while True:
                line = stream.readline(_MAX_LINE_BYTES + 1)
                if not line:
                    raise ChainError(f"{where}: connection closed, expected a reply line")
                if len(line) > _MAX_LINE_BYTES or not line.endswith(b"\n"):
                    raise ChainError(f"{where}: reply line too long or cut, expected one line")
                try:
                    reply = json.loads(line.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    text = line[:200].decode("utf-8", "replace")
                    raise ChainError(f"{where}: got {text!r}, expected a JSON line") from None
                if isinstance(reply, dict) and "id" not in reply and "method" in reply:
                    continue  # a notification
                break
        except TimeoutError:
            self.close()
            raise ChainError(
                f"{where}: no reply within {self._timeout_s} s, expected an answer in time"
            ) from None
        except OSError as exc:
            self.close()
            raise ChainError(f"{where}: connection error {exc!r}, expected a reply") from None
        except ChainError:
            self.close()
            raise
        if not isinstance(reply, dict) or reply.get("id") != request_id:
            self.close()
            raise ChainError(
                f"{where}: got {str(reply)[:200]!r}, expected a JSON-RPC reply with id {request_id}"
            )
        error = reply.get("error")
        if error is not None:
            if isinstance(error, dict):
                detail = f"error {error.get('code')}: {error.get('message')}"
            else:
                detail = f"error {error!r}"
            raise ChainError(f"{where}{params!r}: {detail}; expected a result")
        if "result" not in reply:
            raise ChainError(f"{where}: reply without result or error, expected one")
        return reply["result"]

    def call(self, method: str, *params: Any) -> Any:
        """Call one method and return its result, connecting first if needed.

        Parameters
        ----------
        method
            Protocol method name.
        *params
            Positional parameters.

        Returns
        -------
        Any
            The ``result`` member.

        Raises
        ------
        ChainError
            If the server cannot be reached, times out, answers with something
            other than a JSON-RPC line or returns an error.
        """
        with self._lock:
            if self._socket is None:
                self._connect()
            return self._exchange(method, list(params))

    # -- ChainSource -----------------------------------------------------------------------

    def tip_height(self) -> int:
        """Tip height (``blockchain.headers.subscribe``).

        Returns
        -------
        int
            The height.
        """
        reply = self.call("blockchain.headers.subscribe")
        height = reply.get("height") if isinstance(reply, dict) else None
        if isinstance(height, bool) or not isinstance(height, int) or height < 0:
            raise ChainError(
                f"{self._url} blockchain.headers.subscribe: got {str(reply)[:200]!r}, "
                "expected {'height': int, 'hex': str}"
            )
        return height

    def block_header(self, height: int) -> bytes:
        """Header at ``height`` (``blockchain.block.header``), 80 bytes.

        Parameters
        ----------
        height
            Block height.

        Returns
        -------
        bytes
            The serialised header.
        """
        if isinstance(height, bool) or not isinstance(height, int) or height < 0:
            raise InputError("height", height, "an int block height >= 0")
        where = f"{self._url} blockchain.block.header"
        return check_header(
            self._hex(self.call("blockchain.block.header", height), where), height, None, where
        )

    @staticmethod
    def _hex(value: object, where: str) -> bytes:
        if isinstance(value, str):
            try:
                return bytes.fromhex(value)
            except ValueError:
                pass
        raise ChainError(f"{where}: got {str(value)[:80]!r}, expected a hex string")

    def address_history(self, target: str) -> list[TxRef]:
        """List the confirmed history (``blockchain.scripthash.get_history``).

        Parameters
        ----------
        target
            Address or ``scriptPubKey`` hex.

        Returns
        -------
        list of TxRef
            Confirmed transactions by height (unconfirmed ones, height <= 0, left out).
        """
        script = resolve_script(target).script
        where = f"{self._url} blockchain.scripthash.get_history"
        reply = self.call("blockchain.scripthash.get_history", electrum_scripthash(script))
        if not isinstance(reply, list):
            raise ChainError(f"{where}: got {str(reply)[:200]!r}, expected a list")
        refs: dict[str, int] = {}
        for entry in reply:
            height = entry.get("height") if isinstance(entry, dict) else None
            if isinstance(height, bool) or not isinstance(height, int):
                raise ChainError(
                    f"{where}: entry {str(entry)[:200]!r}, expected {{'tx_hash', 'height'}}"
                )
            txid = display_hex(from_display_hex(entry.get("tx_hash"), f"{where} tx_hash"))
            if height > 0:
                refs[txid] = height
        return sorted(TxRef(height, txid) for txid, height in refs.items())

    def raw_transaction(self, txid: str) -> bytes:
        """Fetch a serialised transaction (``blockchain.transaction.get``), checked.

        Parameters
        ----------
        txid
            Display-order hex.

        Returns
        -------
        bytes
            The transaction bytes.
        """
        txid = normalize_txid(txid)
        where = f"{self._url} blockchain.transaction.get"
        raw = self._hex(self.call("blockchain.transaction.get", txid, False), where)
        check_transaction(raw, txid, where)
        return raw

    def merkle_proof(self, txid: str, height: int) -> MerkleProof:
        """Merkle proof (``blockchain.transaction.get_merkle``).

        Parameters
        ----------
        txid
            Display-order hex.
        height
            Height of the block holding it.

        Returns
        -------
        MerkleProof
            Index and branch (converted to internal order).
        """
        txid = normalize_txid(txid)
        where = f"{self._url} blockchain.transaction.get_merkle"
        reply = self.call("blockchain.transaction.get_merkle", txid, height)
        return electrum_style_proof(reply, txid, height, where)
