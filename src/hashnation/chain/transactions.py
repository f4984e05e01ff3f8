"""Raw Bitcoin transactions and blocks: a minimal parser, legacy and SegWit (BIP144).

Enough to rebuild a UTXO set from history: version, inputs (the previous
output spent, ``txid:vout``), outputs (value [sat] and ``scriptPubKey``),
witnesses and locktime, plus the *txid* (double SHA-256 of the serialisation
without witnesses) and *wtxid* (of the full serialisation, BIP141).

Serialisation::

    version   int32
    [marker 0x00, flag 0x01]            only when witnesses are present (BIP144)
    n_in      CompactSize, then per input:
              prev txid (32, internal order) | prev vout uint32 | scriptSig | sequence uint32
    n_out     CompactSize, then per output:
              value int64 [sat] | scriptPubKey
    witness   per input: CompactSize item count, then items  (SegWit only)
    locktime  uint32

Scripts are not interpreted. Hashes are kept in internal byte order; the
``*_hex`` properties give display order, as RPC and explorers print them.
"""

from __future__ import annotations

from dataclasses import dataclass

from hashnation.bitcoin.header import HEADER_SIZE_BYTES, BlockHeader, double_sha256
from hashnation.bitcoin.units import MAX_MONEY_SAT
from hashnation.chain._codec import HASH_SIZE_BYTES, ByteReader, display_hex
from hashnation.errors import ChainError, ConsensusError

__all__ = [
    "Block",
    "Transaction",
    "TxIn",
    "TxOut",
    "parse_block",
    "parse_transaction",
]

_NULL_HASH = bytes(HASH_SIZE_BYTES)
_COINBASE_VOUT = 0xFFFF_FFFF
_SEGWIT_FLAG = 0x01


@dataclass(frozen=True, slots=True)
class TxIn:
    """A transaction input: the previous output it spends.

    Parameters
    ----------
    prev_txid
        Txid of the transaction holding the spent output, internal byte order
        (all zero for a coinbase).
    prev_vout
        Index of the spent output in that transaction (``0xffffffff`` for a coinbase).
    script_sig
        The unlocking script.
    sequence
        ``nSequence``.
    witness
        Witness stack items (empty for legacy inputs).
    """

    prev_txid: bytes
    prev_vout: int
    script_sig: bytes
    sequence: int
    witness: tuple[bytes, ...] = ()

    @property
    def prev_txid_hex(self) -> str:
        """Previous txid in display order."""
        return display_hex(self.prev_txid)

    @property
    def outpoint(self) -> tuple[str, int]:
        """The spent output as ``(txid in display order, vout)``."""
        return self.prev_txid_hex, self.prev_vout

    @property
    def is_coinbase(self) -> bool:
        """True for the null outpoint a coinbase input carries."""
        return self.prev_txid == _NULL_HASH and self.prev_vout == _COINBASE_VOUT


@dataclass(frozen=True, slots=True)
class TxOut:
    """A transaction output.

    Parameters
    ----------
    value_sat
        Amount [sat].
    script_pubkey
        The locking script.
    """

    value_sat: int
    script_pubkey: bytes

    @property
    def script_pubkey_hex(self) -> str:
        """The locking script as lowercase hex."""
        return self.script_pubkey.hex()


@dataclass(frozen=True, slots=True)
class Transaction:
    """A parsed transaction.

    Parameters
    ----------
    version
        ``nVersion`` (signed 32-bit).
    inputs
        Inputs in order.
    outputs
        Outputs in order.
    locktime
        ``nLockTime``.
    txid
        Double SHA-256 of the serialisation without witness data, internal order.
    wtxid
        Double SHA-256 of the full serialisation, internal order (equal to
        ``txid`` for a transaction without witnesses).
    size_bytes
        Length of the full serialisation [bytes].
    """

    version: int
    inputs: tuple[TxIn, ...]
    outputs: tuple[TxOut, ...]
    locktime: int
    txid: bytes
    wtxid: bytes
    size_bytes: int

    @property
    def txid_hex(self) -> str:
        """Txid in display order (as RPC and explorers print it)."""
        return display_hex(self.txid)

    @property
    def wtxid_hex(self) -> str:
        """Wtxid in display order."""
        return display_hex(self.wtxid)

    @property
    def has_witness(self) -> bool:
        """True when the transaction was serialised with witness data."""
        return self.txid != self.wtxid

    @property
    def is_coinbase(self) -> bool:
        """True for a coinbase: exactly one input, spending the null outpoint."""
        return len(self.inputs) == 1 and self.inputs[0].is_coinbase


@dataclass(frozen=True, slots=True)
class Block:
    """A parsed block.

    Parameters
    ----------
    header
        The 80-byte header.
    transactions
        Transactions in block order (coinbase first).
    """

    header: BlockHeader
    transactions: tuple[Transaction, ...]

    @property
    def txids(self) -> list[bytes]:
        """Txids in block order, internal byte order (the merkle tree leaves)."""
        return [tx.txid for tx in self.transactions]


def _read_transaction(reader: ByteReader) -> Transaction:
    start = reader.offset
    version = reader.i32("version")
    segwit = reader.peek(1) == b"\x00"
    if segwit:
        marker_flag = reader.read(2, "segwit marker")
        if marker_flag[1] != _SEGWIT_FLAG:
            raise reader.fail("segwit flag", f"0x{marker_flag[1]:02x}", "0x01 (BIP144)")
    body_start = reader.offset
    inputs_raw: list[tuple[bytes, int, bytes, int]] = []
    for _ in range(reader.compact_size("input count")):
        prev_txid = reader.read(HASH_SIZE_BYTES, "prevout txid")
        prev_vout = reader.u32("prevout index")
        script_sig = reader.var_bytes("scriptSig")
        inputs_raw.append((prev_txid, prev_vout, script_sig, reader.u32("sequence")))
    outputs: list[TxOut] = []
    for _ in range(reader.compact_size("output count")):
        value = reader.u64("output value")
        if value > MAX_MONEY_SAT:
            raise reader.fail("output value", f"{value} sat", f"at most {MAX_MONEY_SAT} sat")
        outputs.append(TxOut(value, reader.var_bytes("scriptPubKey")))
    body_end = reader.offset
    witnesses: list[tuple[bytes, ...]] = [()] * len(inputs_raw)
    if segwit:
        if not inputs_raw:
            raise reader.fail("input count", 0, "at least one input in a SegWit transaction")
        witnesses = [
            tuple(reader.var_bytes("witness item") for _ in range(reader.compact_size("witness")))
            for _ in inputs_raw
        ]
        if not any(witnesses):
            raise reader.fail("witness", "only empty stacks", "a non-empty witness (BIP144)")
    locktime = reader.u32("locktime")
    end = reader.offset
    whole = reader.consumed(start, end)
    if segwit:
        stripped = whole[:4] + whole[body_start - start : body_end - start] + whole[-4:]
        txid, wtxid = double_sha256(stripped), double_sha256(whole)
    else:
        txid = wtxid = double_sha256(whole)
    inputs = tuple(
        TxIn(prev, vout, script, seq, witness)
        for (prev, vout, script, seq), witness in zip(inputs_raw, witnesses, strict=True)
    )
    return Transaction(version, inputs, tuple(outputs), locktime, txid, wtxid, end - start)


def parse_transaction(raw: bytes) -> Transaction:
    """Parse one serialised transaction (legacy or SegWit).

    Parameters
    ----------
    raw
        The whole serialisation, nothing before or after it.

    Returns
    -------
    Transaction
        The parsed transaction with its txid and wtxid.

    Raises
    ------
    ChainError
        If the bytes are truncated, have trailing data, a non-canonical length,
        a bad SegWit flag, empty witnesses in SegWit form or an output above
        21 million BTC.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise ChainError(f"transaction: got {type(raw).__name__}, expected bytes")
    reader = ByteReader(bytes(raw), "transaction")
    tx = _read_transaction(reader)
    reader.expect_end()
    return tx


def parse_block(raw: bytes) -> Block:
    """Parse a serialised block: the 80-byte header, a transaction count and the transactions.

    Parameters
    ----------
    raw
        The whole block (as ``getblock <hash> 0`` returns it, hex-decoded).

    Returns
    -------
    Block
        The header and the transactions in order.

    Raises
    ------
    ChainError
        If the bytes do not hold exactly one block, or hold no transaction.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise ChainError(f"block: got {type(raw).__name__}, expected bytes")
    reader = ByteReader(bytes(raw), "block")
    try:
        header = BlockHeader.from_bytes(reader.read(HEADER_SIZE_BYTES, "header"))
    except ConsensusError as exc:  # pragma: no cover - from_bytes only fails on length
        raise ChainError(f"block header: {exc}") from exc
    count = reader.compact_size("transaction count")
    if count == 0:
        raise reader.fail("transaction count", 0, "at least the coinbase")
    txs = tuple(_read_transaction(reader) for _ in range(count))
    reader.expect_end()
    return Block(header, txs)
