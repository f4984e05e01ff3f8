"""The interface every chain source implements, and the records it returns.

A :class:`ChainSource` answers five questions about the best chain: its tip
height, the 80-byte header at a height, the confirmed history of a script
(address or ``scriptPubKey`` hex), a raw transaction and a merkle proof of a
transaction at a height. Bitcoin Core (:mod:`hashnation.chain.bitcoind`),
Esplora (:mod:`hashnation.chain.esplora`) and Electrum servers
(:mod:`hashnation.chain.electrum`) implement it over their own protocols.

Sources are not trusted: :mod:`hashnation.chain.holdings` checks what they
return against a :class:`~hashnation.chain.headers.HeaderStore`. Adapters
already refuse answers that contradict themselves (a transaction whose bytes
do not hash to the txid asked for, a header whose hash is not the block
hash given) with :class:`~hashnation.errors.SpvError`, and raise
:class:`~hashnation.errors.ChainError` when the source fails or answers
outside its protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from hashnation.bitcoin.header import HEADER_SIZE_BYTES, BlockHeader
from hashnation.chain._codec import display_hex, from_display_hex
from hashnation.chain.merkle import MerkleBlock, as_internal_hash
from hashnation.chain.transactions import Transaction, parse_transaction
from hashnation.errors import ChainError, InputError, SpvError

__all__ = [
    "ChainSource",
    "MerkleProof",
    "TxRef",
    "check_header",
    "check_transaction",
    "electrum_style_proof",
    "normalize_txid",
    "proof_from_merkle_block",
]


@dataclass(frozen=True, slots=True, order=True)
class TxRef:
    """A confirmed transaction in a script's history.

    Parameters
    ----------
    height
        Height of the block holding it.
    txid
        Transaction id, display order hex (as RPC prints it).
    """

    height: int
    txid: str


@dataclass(frozen=True, slots=True)
class MerkleProof:
    """A merkle inclusion proof of a transaction in the block at a height.

    Parameters
    ----------
    txid
        Transaction id, display order hex.
    height
        Height of the block.
    index
        Position of the transaction in the block.
    branch
        Sibling hashes, leaf level first, internal byte order.
    merkle_block
        The serialised ``CMerkleBlock`` the proof was taken from (Bitcoin
        Core's ``gettxoutproof``), or ``None`` for sources giving a branch.
    """

    txid: str
    height: int
    index: int
    branch: tuple[bytes, ...]
    merkle_block: bytes | None = None

    @property
    def branch_hex(self) -> list[str]:
        """The branch as display-order hex (as Electrum and Esplora print it)."""
        return [display_hex(node) for node in self.branch]


@runtime_checkable
class ChainSource(Protocol):
    """A source of mainnet chain data (Bitcoin Core, Esplora, Electrum, ...)."""

    @property
    def url(self) -> str:
        """Where the source is reached, without credentials (for messages)."""
        ...

    def tip_height(self) -> int:
        """Height of the source's best chain tip."""
        ...

    def block_header(self, height: int) -> bytes:
        """Return the 80 serialised bytes of the header at ``height`` on the best chain."""
        ...

    def address_history(self, target: str) -> list[TxRef]:
        """List confirmed transactions paying to or spending from ``target``, by height.

        ``target`` is an address or a ``scriptPubKey`` in hex. Unconfirmed
        transactions are left out.
        """
        ...

    def raw_transaction(self, txid: str) -> bytes:
        """Return the serialised bytes of the transaction ``txid`` (display order hex)."""
        ...

    def merkle_proof(self, txid: str, height: int) -> MerkleProof:
        """Merkle proof that ``txid`` is in the block at ``height``."""
        ...


def normalize_txid(txid: str) -> str:
    """Check a caller-given txid and return it in lowercase display hex.

    Parameters
    ----------
    txid
        64 hex digits, display order.

    Returns
    -------
    str
        The txid, lowercase.

    Raises
    ------
    InputError
        If ``txid`` is not 64 hex digits.
    """
    if not isinstance(txid, str):
        raise InputError("txid", txid, "64 hex digits (display byte order)")
    return display_hex(as_internal_hash(txid, "txid"))


def check_header(raw: bytes, height: int, block_hash: str | None, source: str) -> bytes:
    """Check a header a source returned: 80 bytes, hashing to the block hash it gave.

    Parameters
    ----------
    raw
        The header bytes.
    height
        Height asked for.
    block_hash
        Block hash (display hex) the source gave for that height, if any.
    source
        Source URL and method, for messages.

    Returns
    -------
    bytes
        ``raw`` unchanged.

    Raises
    ------
    ChainError
        If ``raw`` is not 80 bytes.
    SpvError
        If it hashes to another value than ``block_hash``.
    """
    if len(raw) != HEADER_SIZE_BYTES:
        raise ChainError(f"{source}: header at height {height} is {len(raw)} bytes, expected 80")
    if block_hash is not None:
        got = BlockHeader.from_bytes(raw).hash_hex()
        if got != block_hash.lower():
            raise SpvError(
                f"{source}: header at height {height} hashes to {got}, "
                f"expected the block hash {block_hash} the source gave"
            )
    return raw


def check_transaction(raw: bytes, txid: str, source: str) -> Transaction:
    """Parse a transaction a source returned and check it hashes to the txid asked for.

    Parameters
    ----------
    raw
        Serialised transaction.
    txid
        Txid asked for (display hex).
    source
        Source URL and method, for messages.

    Returns
    -------
    Transaction
        The parsed transaction.

    Raises
    ------
    ChainError
        If the bytes do not parse as one transaction.
    SpvError
        If they hash to another txid.
    """
    try:
        tx = parse_transaction(raw)
    except SpvError:  # pragma: no cover - the parser raises ChainError only
        raise
    except ChainError as exc:
        raise ChainError(f"{source}: tx {txid}: {exc}") from exc
    if tx.txid_hex != txid.lower():
        raise SpvError(f"{source}: transaction bytes hash to txid {tx.txid_hex}, expected {txid}")
    return tx


def proof_from_merkle_block(
    raw: bytes, txid: str, height: int, block_hash: str, source: str
) -> MerkleProof:
    """Turn a ``CMerkleBlock`` (``gettxoutproof``) into a :class:`MerkleProof`.

    Parameters
    ----------
    raw
        Serialised merkle block.
    txid
        Txid the proof is for (display hex).
    height
        Height of the block.
    block_hash
        Hash of that block (display hex), which the merkle block's header must have.
    source
        Source URL and method, for messages.

    Returns
    -------
    MerkleProof
        Index and branch of ``txid``, with ``raw`` kept in ``merkle_block``.

    Raises
    ------
    SpvError
        If the merkle block is malformed or mutated, its root is not its
        header's, its header is not ``block_hash`` or it does not prove ``txid``.
    """
    try:
        block = MerkleBlock.from_bytes(raw)
        matches = block.verify()
    except SpvError as exc:
        raise SpvError(f"{source}: {exc}") from exc
    if block.header.hash_hex() != block_hash.lower():
        raise SpvError(
            f"{source}: merkle block header {block.header.hash_hex()}, "
            f"expected block {block_hash} at height {height}"
        )
    for match in matches:
        if match.txid_hex == txid.lower():
            return MerkleProof(match.txid_hex, height, match.index, match.branch, bytes(raw))
    raise SpvError(
        f"{source}: merkle block proves {[m.txid_hex for m in matches]}, expected tx {txid}"
    )


def electrum_style_proof(reply: object, txid: str, height: int, where: str) -> MerkleProof:
    """Read a ``{"block_height", "merkle", "pos"}`` proof (Electrum and Esplora).

    Parameters
    ----------
    reply
        Decoded JSON reply.
    txid
        Txid it is for (display hex).
    height
        Height the caller expects.
    where
        Source URL and call, for messages.

    Returns
    -------
    MerkleProof
        The proof, branch in internal order.

    Raises
    ------
    ChainError
        If the reply is malformed.
    SpvError
        If it places the transaction at another height.
    """
    if not isinstance(reply, dict):
        raise ChainError(f"{where}: got {str(reply)[:200]!r}, expected a JSON object")
    block_height, merkle, pos = reply.get("block_height"), reply.get("merkle"), reply.get("pos")
    if (
        isinstance(block_height, bool)
        or not isinstance(block_height, int)
        or isinstance(pos, bool)
        or not isinstance(pos, int)
        or pos < 0
        or not isinstance(merkle, list)
    ):
        raise ChainError(
            f"{where}: got {str(reply)[:200]!r}, expected block_height (int), merkle (list) "
            "and pos (int >= 0)"
        )
    if block_height != height:
        raise SpvError(
            f"{where}: tx {txid} proven at height {block_height}, expected height {height}"
        )
    branch = tuple(from_display_hex(node, f"{where} merkle node") for node in merkle)
    return MerkleProof(txid, height, pos, branch)
