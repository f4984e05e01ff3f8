"""Bitcoin Core as a chain source, over its JSON-RPC interface (HTTP, basic auth).

Calls used: ``getblockcount``, ``getblockhash``, ``getblockheader <hash> false``
(the header as hex), ``getblock <hash> 0`` (the raw block),
``getrawtransaction``, ``gettxoutproof`` (a BIP37 ``CMerkleBlock``) and
``scantxoutset``.

Bitcoin Core keeps no address index, so :meth:`BitcoindSource.address_history`
reads the blocks themselves, from ``scan_from_height`` (e.g. the height at which
the reserve's first address was created) to the tip, and records every
transaction that pays a watched script or spends an output that did. Each block
read is checked against its header (hash and merkle root). The scan is
incremental: later calls read only new blocks unless a new script is asked for
or the chain reorganised. :meth:`BitcoindSource.scan_utxos_now` uses
``scantxoutset``, which sees only *today's* UTXO set: balances at past heights
always come from the history (see :func:`hashnation.chain.holdings.utxos_at`).

``getrawtransaction`` without ``-txindex`` finds only transactions whose block
is known; transactions met during a scan are looked up with their block hash.
"""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from hashnation.bitcoin.units import btc_to_sat
from hashnation.chain._codec import display_hex, from_display_hex
from hashnation.chain._http import HttpEndpoint, decode_json
from hashnation.chain.base import (
    MerkleProof,
    TxRef,
    check_header,
    check_transaction,
    normalize_txid,
    proof_from_merkle_block,
)
from hashnation.chain.merkle import compute_merkle_root
from hashnation.chain.scripts import resolve_script
from hashnation.chain.transactions import Block, parse_block
from hashnation.errors import ChainError, ConsensusError, InputError, SpvError

__all__ = ["BitcoindSource", "CurrentUtxo"]

_AUTH_FAILED = (401, 403)


@dataclass(frozen=True, slots=True)
class CurrentUtxo:
    """An unspent output in today's UTXO set, as ``scantxoutset`` reports it.

    Parameters
    ----------
    txid
        Funding transaction id, display order hex.
    vout
        Output index.
    value_sat
        Amount [sat].
    script_pubkey
        Locking script, hex.
    height
        Height of the block holding the funding transaction.
    """

    txid: str
    vout: int
    value_sat: int
    script_pubkey: str
    height: int


def _hex_bytes(value: object, where: str, what: str) -> bytes:
    if isinstance(value, str):
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    raise ChainError(f"{where}: {what} {str(value)[:80]!r}, expected a hex string")


def _int_result(value: object, where: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ChainError(f"{where}: {what} {value!r}, expected an int >= 0")
    return value


class BitcoindSource:
    """Bitcoin Core's JSON-RPC as a :class:`~hashnation.chain.base.ChainSource`.

    Parameters
    ----------
    url
        RPC URL, ``http://127.0.0.1:8332`` (a wallet path may follow).
    user, password
        ``rpcuser`` / ``rpcpassword``. Leave both out to use ``cookie_file``.
    cookie_file
        Path of Core's ``.cookie`` file (``__cookie__:<password>``), read on
        each request so that a restarted node's new cookie is picked up.
    timeout_s
        Connect and read timeout per request [s].
    scan_from_height
        First height :meth:`address_history` reads blocks from.

    Raises
    ------
    InputError
        If the URL or timeout is malformed, or only one of user and password is given.
    """

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        cookie_file: str | Path | None = None,
        timeout_s: float = 30.0,
        scan_from_height: int = 0,
    ) -> None:
        self._endpoint = HttpEndpoint(url, timeout_s)
        if (user is None) != (password is None):
            raise InputError("user/password", "one of them", "both or neither")
        if isinstance(scan_from_height, bool) or not isinstance(scan_from_height, int):
            raise InputError("scan_from_height", scan_from_height, "an int block height >= 0")
        if scan_from_height < 0:
            raise InputError("scan_from_height", scan_from_height, "an int block height >= 0")
        self._credentials = None if user is None else f"{user}:{password}"
        self._cookie_file = None if cookie_file is None else Path(cookie_file)
        self._scan_from = scan_from_height
        self._ids = itertools.count(1)
        self._watched: set[bytes] = set()
        self._histories: dict[bytes, dict[str, int]] = {}
        self._funded: dict[tuple[str, int], bytes] = {}
        self._tx_blocks: dict[str, str] = {}
        self._scanned_to = scan_from_height - 1
        self._scanned_hash: str | None = None

    @property
    def url(self) -> str:
        """The RPC URL without credentials."""
        return self._endpoint.display_url

    # -- JSON-RPC --------------------------------------------------------------------------

    def _authorization(self) -> str | None:
        credentials = self._credentials
        if credentials is None and self._cookie_file is not None:
            try:
                credentials = self._cookie_file.read_text("utf-8").strip()
            except OSError as exc:
                raise ChainError(
                    f"{self.url}: cookie file {self._cookie_file} unreadable ({exc.strerror}), "
                    "expected Bitcoin Core's .cookie"
                ) from None
        if credentials is None:
            return None
        return "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")

    def call(self, method: str, *params: Any) -> Any:
        """Call one JSON-RPC method and return its result.

        Parameters
        ----------
        method
            RPC method name.
        *params
            Positional parameters.

        Returns
        -------
        Any
            The ``result`` member (numbers with a fraction as ``Decimal``).

        Raises
        ------
        ChainError
            If the node cannot be reached, refuses the credentials, answers
            with something other than JSON-RPC or returns an RPC error.
        """
        where = self._endpoint.where(method)
        request_id = next(self._ids)
        body = json.dumps(
            {"jsonrpc": "1.0", "id": request_id, "method": method, "params": list(params)}
        ).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        authorization = self._authorization()
        if authorization is not None:
            headers["Authorization"] = authorization
        status, data = self._endpoint.request("POST", "", method, body=body, headers=headers)
        if status in _AUTH_FAILED:
            raise ChainError(
                f"{where}: HTTP {status}, credentials refused; expected a valid rpcuser/"
                "rpcpassword or cookie"
            )
        reply = decode_json(data, f"{where} (HTTP {status})")
        if not isinstance(reply, dict) or ("result" not in reply and "error" not in reply):
            raise ChainError(f"{where}: got {str(reply)[:200]!r}, expected a JSON-RPC reply")
        error = reply.get("error")
        if error is not None:
            if isinstance(error, dict):
                detail = f"RPC error {error.get('code')}: {error.get('message')}"
            else:
                detail = f"RPC error {error!r}"
            raise ChainError(f"{where}{list(params)!r}: {detail}; expected a result")
        if status != 200:
            raise ChainError(f"{where}: HTTP {status}, expected 200")
        return reply.get("result")

    # -- ChainSource -----------------------------------------------------------------------

    def tip_height(self) -> int:
        """Height of the node's best chain tip (``getblockcount``).

        Returns
        -------
        int
            The height.
        """
        return _int_result(
            self.call("getblockcount"), self._endpoint.where("getblockcount"), "height"
        )

    def block_hash(self, height: int) -> str:
        """Hash of the best-chain block at ``height`` (``getblockhash``), display hex.

        Parameters
        ----------
        height
            Block height.

        Returns
        -------
        str
            64 hex digits.
        """
        value = self.call("getblockhash", height)
        return display_hex(from_display_hex(value, f"{self._endpoint.where('getblockhash')} hash"))

    def block_header(self, height: int) -> bytes:
        """Header at ``height`` (``getblockheader <hash> false``), 80 bytes.

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
        where = self._endpoint.where("getblockheader")
        raw = _hex_bytes(self.call("getblockheader", block_hash, False), where, "header")
        return check_header(raw, height, block_hash, where)

    def block(self, height: int) -> Block:
        """Whole block at ``height`` (``getblock <hash> 0``), checked against its header.

        Parameters
        ----------
        height
            Block height.

        Returns
        -------
        Block
            The parsed block.

        Raises
        ------
        SpvError
            If the header does not hash to the block hash, or the transactions
            do not give the header's merkle root (or form a mutated tree).
        """
        block_hash = self.block_hash(height)
        where = self._endpoint.where("getblock")
        raw = _hex_bytes(self.call("getblock", block_hash, 0), where, "block")
        try:
            block = parse_block(raw)
        except ChainError as exc:
            raise ChainError(f"{where} {block_hash}: {exc}") from exc
        check_header(block.header.serialize(), height, block_hash, where)
        root, mutated = compute_merkle_root(block.txids)
        if root != block.header.merkle_root or mutated:
            raise SpvError(
                f"{where} {block_hash}: transactions give merkle root {display_hex(root)}"
                f"{' (mutated)' if mutated else ''}, expected the header's "
                f"{display_hex(block.header.merkle_root)}"
            )
        return block

    def raw_transaction(self, txid: str) -> bytes:
        """Fetch a serialised transaction (``getrawtransaction``), checked to hash to ``txid``.

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
        params: list[Any] = [txid, False]
        block_hash = self._tx_blocks.get(txid)
        if block_hash is not None:
            params.append(block_hash)
        where = self._endpoint.where("getrawtransaction")
        raw = _hex_bytes(self.call("getrawtransaction", *params), where, "transaction")
        check_transaction(raw, txid, where)
        return raw

    def merkle_proof(self, txid: str, height: int) -> MerkleProof:
        """Merkle proof from ``gettxoutproof [txid] <block hash>``.

        Parameters
        ----------
        txid
            Display-order hex.
        height
            Height of the block holding it.

        Returns
        -------
        MerkleProof
            Index and branch taken from the verified partial merkle tree, with
            the ``CMerkleBlock`` bytes kept.
        """
        txid = normalize_txid(txid)
        block_hash = self.block_hash(height)
        where = self._endpoint.where("gettxoutproof")
        raw = _hex_bytes(self.call("gettxoutproof", [txid], block_hash), where, "proof")
        return proof_from_merkle_block(raw, txid, height, block_hash, where)

    # -- history by block scan -------------------------------------------------------------

    def _reset_scan(self) -> None:
        self._histories = {script: {} for script in self._watched}
        self._funded = {}
        self._scanned_to = self._scan_from - 1
        self._scanned_hash = None

    def _scan(self, tip: int) -> None:
        if (
            self._scanned_hash is not None
            and self.block_hash(self._scanned_to) != self._scanned_hash
        ):
            self._reset_scan()  # the chain reorganised below the scanned height
        for height in range(self._scanned_to + 1, tip + 1):
            block = self.block(height)
            block_hash = block.header.hash_hex()
            for tx in block.transactions:
                txid = tx.txid_hex
                touched: set[bytes] = set()
                for tx_in in tx.inputs:
                    script = self._funded.get(tx_in.outpoint)
                    if script is not None:
                        touched.add(script)
                for vout, tx_out in enumerate(tx.outputs):
                    if tx_out.script_pubkey in self._watched:
                        touched.add(tx_out.script_pubkey)
                        self._funded[(txid, vout)] = tx_out.script_pubkey
                for script in touched:
                    self._histories[script][txid] = height
                    self._tx_blocks[txid] = block_hash
            self._scanned_to, self._scanned_hash = height, block_hash

    def address_history(self, target: str) -> list[TxRef]:
        """List the confirmed history of an address or script, read from blocks.

        Parameters
        ----------
        target
            Address or ``scriptPubKey`` hex.

        Returns
        -------
        list of TxRef
            Transactions paying to or spending from the script, by height, from
            ``scan_from_height`` to the tip.
        """
        script = resolve_script(target).script
        if script not in self._watched:
            self._watched.add(script)
            self._reset_scan()
        self._scan(self.tip_height())
        return sorted(TxRef(height, txid) for txid, height in self._histories[script].items())

    def scan_utxos_now(self, targets: list[str]) -> list[CurrentUtxo]:
        """Today's unspent outputs of some addresses/scripts (``scantxoutset``).

        Only the current UTXO set is visible; for a past height use
        :func:`hashnation.chain.holdings.utxos_at`. The outputs come with no
        merkle proof.

        Parameters
        ----------
        targets
            Addresses or ``scriptPubKey`` hex strings.

        Returns
        -------
        list of CurrentUtxo
            Unspent outputs at the node's tip, by height then txid.
        """
        descriptors = []
        for target in targets:
            resolved = resolve_script(target)
            kind = "addr" if resolved.address else "raw"
            descriptors.append(f"{kind}({resolved.address or resolved.script_hex})")
        where = self._endpoint.where("scantxoutset")
        reply = self.call("scantxoutset", "start", descriptors)
        if not isinstance(reply, dict) or not isinstance(reply.get("unspents"), list):
            raise ChainError(f"{where}: got {str(reply)[:200]!r}, expected an 'unspents' list")
        utxos = []
        for entry in reply["unspents"]:
            try:
                amount = entry["amount"]
                utxos.append(
                    CurrentUtxo(
                        txid=display_hex(from_display_hex(entry["txid"], "txid")),
                        vout=_int_result(entry["vout"], where, "vout"),
                        value_sat=btc_to_sat(
                            amount if isinstance(amount, Decimal) else str(amount)
                        ),
                        script_pubkey=_hex_bytes(entry["scriptPubKey"], where, "script").hex(),
                        height=_int_result(entry["height"], where, "height"),
                    )
                )
            except (KeyError, TypeError, ConsensusError) as exc:
                raise ChainError(f"{where}: unspent {str(entry)[:200]!r}: {exc!r}") from None
        return sorted(utxos, key=lambda u: (u.height, u.txid, u.vout))
