"""Esplora (Blockstream's REST API, also served by mempool.space) as a chain source.

Endpoints used (relative to the base URL, e.g. ``https://blockstream.info/api``):

* ``GET /blocks/tip/height`` -- tip height, plain text;
* ``GET /block-height/:height`` -- block hash, plain text;
* ``GET /block/:hash/header`` -- header hex;
* ``GET /address/:address/txs/chain[/:last_seen_txid]`` and
  ``GET /scripthash/:hash/txs/chain[/:last_seen_txid]`` -- confirmed history,
  newest first, a page (25 on Blockstream's server) at a time; ``:hash`` is
  ``sha256(scriptPubKey)`` in plain hex (not reversed, unlike Electrum);
* ``GET /tx/:txid/hex`` -- raw transaction;
* ``GET /tx/:txid/merkle-proof`` -- ``{"block_height", "merkle", "pos"}`` in
  Electrum's format (branch hashes in display order).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hashnation.chain._codec import display_hex, from_display_hex
from hashnation.chain._http import HttpEndpoint, decode_json
from hashnation.chain.base import (
    MerkleProof,
    TxRef,
    check_header,
    check_transaction,
    electrum_style_proof,
    normalize_txid,
)
from hashnation.chain.scripts import esplora_scripthash, resolve_script
from hashnation.errors import ChainError, InputError

__all__ = ["EsploraSource"]

_MAX_PAGES_DEFAULT = 10_000


class EsploraSource:
    """An Esplora REST server as a :class:`~hashnation.chain.base.ChainSource`.

    Parameters
    ----------
    base_url
        API root, ``https://blockstream.info/api`` or ``http://127.0.0.1:3000``.
    timeout_s
        Connect and read timeout per request [s].
    max_pages
        Most history pages read for one address before giving up.

    Raises
    ------
    InputError
        If the URL, timeout or page limit is malformed.
    """

    def __init__(
        self, base_url: str, *, timeout_s: float = 30.0, max_pages: int = _MAX_PAGES_DEFAULT
    ) -> None:
        self._endpoint = HttpEndpoint(base_url, timeout_s)
        if isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1:
            raise InputError("max_pages", max_pages, "an int >= 1")
        self._max_pages = max_pages

    @property
    def url(self) -> str:
        """The API root URL."""
        return self._endpoint.display_url

    def _get(self, path: str) -> bytes:
        status, body = self._endpoint.request("GET", path, f"GET {path}")
        if status != 200:
            text = body[:200].decode("utf-8", "replace")
            raise ChainError(
                f"{self._endpoint.where('GET ' + path)}: HTTP {status} {text!r}, expected 200"
            )
        return body

    def _get_text(self, path: str) -> str:
        body = self._get(path)
        try:
            return body.decode("ascii").strip()
        except UnicodeDecodeError:
            raise ChainError(
                f"{self._endpoint.where('GET ' + path)}: got non-ASCII bytes, expected text"
            ) from None

    def _get_json(self, path: str) -> Any:
        return decode_json(self._get(path), self._endpoint.where("GET " + path))

    def _get_hex(self, path: str) -> bytes:
        text = self._get_text(path)
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise ChainError(
                f"{self._endpoint.where('GET ' + path)}: got {text[:80]!r}, expected hex"
            ) from None

    def tip_height(self) -> int:
        """Tip height (``/blocks/tip/height``).

        Returns
        -------
        int
            The height.
        """
        path = "/blocks/tip/height"
        text = self._get_text(path)
        if not text.isdigit():
            raise ChainError(
                f"{self._endpoint.where('GET ' + path)}: got {text[:80]!r}, expected a height"
            )
        return int(text)

    def block_hash(self, height: int) -> str:
        """Block hash at ``height`` (``/block-height/:height``), display hex.

        Parameters
        ----------
        height
            Block height.

        Returns
        -------
        str
            64 hex digits.
        """
        if isinstance(height, bool) or not isinstance(height, int) or height < 0:
            raise InputError("height", height, "an int block height >= 0")
        path = f"/block-height/{height}"
        text = self._get_text(path)
        return display_hex(from_display_hex(text, self._endpoint.where(f"GET {path} hash")))

    def block_header(self, height: int) -> bytes:
        """Header at ``height`` (``/block/:hash/header``), 80 bytes.

        Parameters
        ----------
        height
            Block height.

        Returns
        -------
        bytes
            The serialised header, checked to hash to the block hash.
        """
        block_hash = self.block_hash(height)
        path = f"/block/{block_hash}/header"
        raw = self._get_hex(path)
        return check_header(raw, height, block_hash, self._endpoint.where("GET " + path))

    def address_history(self, target: str) -> list[TxRef]:
        """List the confirmed history of an address or script, every page.

        Parameters
        ----------
        target
            Address (``/address/...``) or ``scriptPubKey`` hex (``/scripthash/...``).

        Returns
        -------
        list of TxRef
            Confirmed transactions by height.

        Raises
        ------
        ChainError
            If a page is malformed, repeats itself or ``max_pages`` is reached.
        """
        resolved = resolve_script(target)
        if resolved.address is not None:
            base = f"/address/{quote(resolved.address, safe='')}/txs/chain"
        else:
            base = f"/scripthash/{esplora_scripthash(resolved.script)}/txs/chain"
        refs: dict[str, int] = {}
        last_seen: str | None = None
        for _ in range(self._max_pages):
            path = base if last_seen is None else f"{base}/{last_seen}"
            where = self._endpoint.where("GET " + path)
            page = self._get_json(path)
            if not isinstance(page, list):
                raise ChainError(f"{where}: got {str(page)[:200]!r}, expected a JSON list")
            if not page:
                break
            new = 0
            for entry in page:
                txid, height = self._history_entry(entry, where)
                if height is not None and txid not in refs:
                    refs[txid] = height
                    new += 1
                last_seen = txid
            if new == 0:
                break
        else:
            raise ChainError(
                f"{self._endpoint.where('GET ' + base)}: more than {self._max_pages} pages, "
                "expected fewer (raise max_pages)"
            )
        return sorted(TxRef(height, txid) for txid, height in refs.items())

    @staticmethod
    def _history_entry(entry: object, where: str) -> tuple[str, int | None]:
        if not isinstance(entry, dict) or not isinstance(entry.get("status"), dict):
            raise ChainError(f"{where}: entry {str(entry)[:200]!r}, expected a tx with 'status'")
        txid = display_hex(from_display_hex(entry.get("txid"), f"{where} txid"))
        status = entry["status"]
        if not status.get("confirmed"):
            return txid, None
        height = status.get("block_height")
        if isinstance(height, bool) or not isinstance(height, int) or height < 0:
            raise ChainError(f"{where}: tx {txid} block_height {height!r}, expected an int >= 0")
        return txid, height

    def raw_transaction(self, txid: str) -> bytes:
        """Fetch a serialised transaction (``/tx/:txid/hex``), checked to hash to ``txid``.

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
        path = f"/tx/{txid}/hex"
        raw = self._get_hex(path)
        check_transaction(raw, txid, self._endpoint.where("GET " + path))
        return raw

    def merkle_proof(self, txid: str, height: int) -> MerkleProof:
        """Merkle proof (``/tx/:txid/merkle-proof``) for the block at ``height``.

        Parameters
        ----------
        txid
            Display-order hex.
        height
            Height the caller expects the transaction at.

        Returns
        -------
        MerkleProof
            Index and branch (converted to internal order).

        Raises
        ------
        SpvError
            If the server places the transaction at another height.
        """
        txid = normalize_txid(txid)
        path = f"/tx/{txid}/merkle-proof"
        where = self._endpoint.where("GET " + path)
        return electrum_style_proof(self._get_json(path), txid, height, where)
