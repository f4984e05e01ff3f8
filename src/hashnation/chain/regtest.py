"""A private chain under Bitcoin Core's regtest rules, mined in process.

Regtest is the chain Bitcoin Core's own tests use: the easiest target
(``nBits`` ``0x207fffff``) lets a laptop mine a block in a couple of hashes,
and the target never retargets. :class:`RegtestChain` mines such blocks from
transactions it is given, keeps them, and answers as a
:class:`~hashnation.chain.base.ChainSource` (history, transactions, merkle
proofs, headers), so that reports and their verifiers can be exercised at any
scale without a node: the headers carry real proof of work for regtest's
target and the merkle proofs are real. A report built on it says
``"network": "regtest"`` and proves nothing about mainnet.

The genesis block is Core's regtest genesis (``CRegTestParams``: the mainnet
genesis coinbase, time 1296688602, nonce 2, bits ``0x207fffff``).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from hashnation.bitcoin.header import BlockHeader
from hashnation.chain._codec import compact_size, display_hex
from hashnation.chain.base import MerkleProof, TxRef, normalize_txid
from hashnation.chain.headers import REGTEST, Checkpoint
from hashnation.chain.merkle import merkle_branch, merkle_root
from hashnation.chain.scripts import resolve_script
from hashnation.chain.transactions import Transaction, parse_transaction
from hashnation.errors import ChainError, InputError

__all__ = [
    "REGTEST_BITS",
    "REGTEST_GENESIS",
    "RegtestChain",
    "payment_transaction",
]

REGTEST_BITS: int = 0x207FFFFF
"""Compact form of regtest's proof-of-work limit."""

_GENESIS_MERKLE_ROOT = bytes.fromhex(
    "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
)[::-1]
_GENESIS_COINBASE = bytes.fromhex(
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff"
    "4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72"
    "206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff"
    "0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f"
    "61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000"
)

REGTEST_GENESIS: BlockHeader = BlockHeader(
    version=1,
    prev_block_hash=bytes(32),
    merkle_root=_GENESIS_MERKLE_ROOT,
    time=1296688602,
    bits=REGTEST_BITS,
    nonce=2,
)
"""Bitcoin Core's regtest genesis header (hash ``0f9188f1...466e2206``)."""

_BLOCK_INTERVAL_S = 600
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


def _push_int(n: int) -> bytes:
    """Minimal script push of a non-negative integer (BIP34 height in a coinbase)."""
    body = n.to_bytes((n.bit_length() + 8) // 8, "little") if n else b""
    return bytes([len(body)]) + body


def payment_transaction(
    outputs: Sequence[tuple[bytes, int]],
    *,
    spends: Sequence[tuple[str, int]] = (),
    tag: int = 0,
) -> bytes:
    """Serialise a legacy (non-witness) transaction paying ``outputs``.

    Parameters
    ----------
    outputs
        ``(scriptPubKey, value_sat)`` pairs, in order.
    spends
        Outpoints ``(txid display hex, vout)`` the transaction spends. Without
        any, it spends one outpoint made up from ``tag`` (a funding transaction
        from outside the watched wallets; SPV never sees inputs' scripts).
    tag
        Makes transactions with the same outputs distinct.

    Returns
    -------
    bytes
        The serialised transaction. Its input scripts are empty: the chain
        here checks proof of work and merkle inclusion, not signatures.
    """
    if not outputs:
        raise InputError("outputs", outputs, "at least one (script, value_sat) pair")
    inputs = list(spends) or [(hashlib.sha256(_U64.pack(tag)).digest()[::-1].hex(), 0)]
    parts = [_U32.pack(2), compact_size(len(inputs))]
    for txid, vout in inputs:
        parts += [bytes.fromhex(normalize_txid(txid))[::-1], _U32.pack(vout), b"\x00"]
        parts.append(_U32.pack(0xFFFFFFFF))
    parts.append(compact_size(len(outputs)))
    for script, value_sat in outputs:
        if isinstance(value_sat, bool) or not isinstance(value_sat, int) or value_sat < 0:
            raise InputError("value_sat", value_sat, "an int >= 0")
        parts += [_U64.pack(value_sat), compact_size(len(script)), script]
    parts.append(_U32.pack(0))
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class _Placed:
    height: int
    index: int


class RegtestChain:
    """A regtest chain mined in memory; a :class:`~hashnation.chain.base.ChainSource`.

    Parameters
    ----------
    start_time
        Header time of block 1 [s since 1970 UTC]; each block is 600 s later.
    """

    def __init__(self, start_time: int = 1_700_000_000) -> None:
        self._headers: list[BlockHeader] = [REGTEST_GENESIS]
        genesis = parse_transaction(_GENESIS_COINBASE)
        self._block_txids: list[list[bytes]] = [[genesis.txid]]
        self._raw: dict[str, bytes] = {genesis.txid_hex: _GENESIS_COINBASE}
        self._placed: dict[str, _Placed] = {genesis.txid_hex: _Placed(0, 0)}
        self._history: dict[bytes, list[TxRef]] = {}
        self._paid_to: dict[tuple[str, int], bytes] = {}
        self._next_time = start_time

    # -- building ----------------------------------------------------------------------------

    def checkpoint(self) -> Checkpoint:
        """Return the genesis block as a :class:`Checkpoint` (use with ``params=REGTEST``)."""
        return Checkpoint(0, REGTEST_GENESIS)

    def mine(self, transactions: Sequence[bytes] = ()) -> int:
        """Mine one block holding a coinbase and ``transactions``.

        Parameters
        ----------
        transactions
            Serialised transactions, in block order.

        Returns
        -------
        int
            Height of the new block.

        Raises
        ------
        InputError
            If a transaction does not parse or is already in the chain.
        """
        height = len(self._headers)
        coinbase = (
            _U32.pack(1)
            + b"\x01"
            + bytes(32)
            + b"\xff\xff\xff\xff"
            + compact_size(len(_push_int(height)) + 1)
            + _push_int(height)
            + b"\x51"  # OP_TRUE: keeps coinbase scripts at least 2 bytes (consensus)
            + b"\xff\xff\xff\xff\x01"
            + _U64.pack(0)
            + b"\x01\x51"
            + _U32.pack(0)
        )
        parsed: list[tuple[bytes, Transaction]] = [(coinbase, parse_transaction(coinbase))]
        for number, raw in enumerate(transactions):
            try:
                tx = parse_transaction(bytes(raw))
            except InputError as exc:
                raise InputError(f"transactions[{number}]", "…", f"a transaction ({exc})") from exc
            if tx.txid_hex in self._placed or any(tx.txid == p[1].txid for p in parsed):
                raise InputError(f"transactions[{number}]", tx.txid_hex, "a new transaction")
            parsed.append((bytes(raw), tx))
        txids = [tx.txid for _, tx in parsed]
        header = self._solve(merkle_root(txids))
        self._headers.append(header)
        self._block_txids.append(txids)
        for index, (raw, tx) in enumerate(parsed):
            self._place(raw, tx, height, index)
        return height

    def _solve(self, root: bytes) -> BlockHeader:
        prev = self._headers[-1]
        time = max(self._next_time, prev.time + 1)
        self._next_time = time + _BLOCK_INTERVAL_S
        for nonce in range(1 << 32):
            header = BlockHeader(4, prev.hash(), root, time, REGTEST_BITS, nonce)
            if header.check_pow(REGTEST.pow_limit):
                return header
        raise ChainError("regtest: no nonce solves the block")  # pragma: no cover

    def _place(self, raw: bytes, tx: Transaction, height: int, index: int) -> None:
        txid = tx.txid_hex
        self._raw[txid] = raw
        self._placed[txid] = _Placed(height, index)
        touched: set[bytes] = set()
        for tx_in in tx.inputs:
            script = self._paid_to.get(tx_in.outpoint)
            if script is not None:
                touched.add(script)
        for vout, tx_out in enumerate(tx.outputs):
            self._paid_to[(txid, vout)] = tx_out.script_pubkey
            touched.add(tx_out.script_pubkey)
        for script in touched:
            self._history.setdefault(script, []).append(TxRef(height, txid))

    # -- ChainSource -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Name of this source in messages."""
        return "regtest:memory"

    def tip_height(self) -> int:
        """Height of the last block mined."""
        return len(self._headers) - 1

    def block_header(self, height: int) -> bytes:
        """Return the 80-byte header at ``height``."""
        if not 0 <= height < len(self._headers):
            raise ChainError(f"{self.url}: no block at height {height}")
        return self._headers[height].serialize()

    def address_history(self, target: str) -> list[TxRef]:
        """Transactions paying to or spending from ``target``, by height."""
        script = resolve_script(target).script
        return sorted(self._history.get(script, []))

    def raw_transaction(self, txid: str) -> bytes:
        """Return the serialised transaction ``txid``."""
        key = normalize_txid(txid)
        if key not in self._raw:
            raise ChainError(f"{self.url}: no transaction {key}")
        return self._raw[key]

    def merkle_proof(self, txid: str, height: int) -> MerkleProof:
        """Merkle branch of ``txid`` in the block at ``height``."""
        key = normalize_txid(txid)
        placed = self._placed.get(key)
        if placed is None or placed.height != height:
            raise ChainError(f"{self.url}: tx {key} is not in the block at height {height}")
        branch = merkle_branch(self._block_txids[height], placed.index)
        return MerkleProof(key, height, placed.index, tuple(branch))

    def block_hash(self, height: int) -> str:
        """Hash of the block at ``height``, display hex."""
        return display_hex(self._headers[height].hash())
