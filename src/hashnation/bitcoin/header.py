"""The 80-byte Bitcoin block header: parsing, serialisation, hashing, proof of work.

Layout (all integers little-endian)::

    offset  size  field
         0     4  version          int32
         4    32  prev_block_hash  (internal byte order)
        36    32  merkle_root      (internal byte order)
        68     4  time             uint32, Unix time [s]
        72     4  bits             uint32, compact target
        76     4  nonce            uint32

The block hash is the double SHA-256 of those 80 bytes. Hashes are kept in
*internal* (serialised) byte order; explorers and RPC show them reversed
(*display* order), e.g. genesis ``000000000019d6...e26f``.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from hashnation.bitcoin.difficulty import POW_LIMIT, compact_to_target, decode_compact
from hashnation.errors import ConsensusError

__all__ = ["HEADER_SIZE_BYTES", "BlockHeader", "double_sha256"]

HEADER_SIZE_BYTES: int = 80
"""Length of a serialised block header [bytes]."""

_HEADER_FORMAT = struct.Struct("<i32s32sIII")
_HASH_SIZE_BYTES = 32
_UINT32_MAX = 0xFFFF_FFFF
_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1


def double_sha256(data: bytes) -> bytes:
    """SHA-256 applied twice, as Bitcoin hashes headers and transactions.

    Parameters
    ----------
    data
        Bytes to hash.

    Returns
    -------
    bytes
        32-byte digest ``SHA256(SHA256(data))``, internal byte order.
    """
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


@dataclass(frozen=True, slots=True)
class BlockHeader:
    """A block header, immutable and validated on construction.

    Parameters
    ----------
    version
        Block version, a signed 32-bit int (BIP9 bits included).
    prev_block_hash
        Hash of the previous block, 32 bytes in internal byte order.
    merkle_root
        Merkle root of the block's transactions, 32 bytes in internal order.
    time
        Block time [s, Unix time], uint32.
    bits
        Compact target ``nBits``, uint32.
    nonce
        Nonce, uint32.

    Raises
    ------
    ConsensusError
        If a field is out of its range or a hash is not 32 bytes.
    """

    version: int
    prev_block_hash: bytes
    merkle_root: bytes
    time: int
    bits: int
    nonce: int

    def __post_init__(self) -> None:
        """Check every field against its serialised width."""
        if (
            isinstance(self.version, bool)
            or not isinstance(self.version, int)
            or not _INT32_MIN <= self.version <= _INT32_MAX
        ):
            raise ConsensusError("version", self.version, "a signed 32-bit int")
        for name in ("prev_block_hash", "merkle_root"):
            value = getattr(self, name)
            if not isinstance(value, bytes) or len(value) != _HASH_SIZE_BYTES:
                raise ConsensusError(name, value, "32 bytes (internal byte order)")
        for name in ("time", "bits", "nonce"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConsensusError(name, value, "an int from 0 to 0xffffffff (uint32)")
            if not 0 <= value <= _UINT32_MAX:
                raise ConsensusError(name, value, "an int from 0 to 0xffffffff (uint32)")

    @classmethod
    def from_bytes(cls, raw: bytes) -> BlockHeader:
        """Parse a serialised header.

        Parameters
        ----------
        raw
            Exactly 80 bytes.

        Returns
        -------
        BlockHeader
            The parsed header.

        Raises
        ------
        ConsensusError
            If ``raw`` is not bytes of length 80.
        """
        if not isinstance(raw, bytes | bytearray | memoryview):
            raise ConsensusError("raw", type(raw).__name__, "80 bytes")
        data = bytes(raw)
        if len(data) != HEADER_SIZE_BYTES:
            raise ConsensusError("raw", f"{len(data)} bytes", "exactly 80 bytes")
        version, prev_block_hash, merkle_root, time, bits, nonce = _HEADER_FORMAT.unpack(data)
        return cls(version, prev_block_hash, merkle_root, time, bits, nonce)

    @classmethod
    def from_hex(cls, header_hex: str) -> BlockHeader:
        """Parse a header from 160 hex digits (the serialised bytes).

        Parameters
        ----------
        header_hex
            Hex string of the 80 serialised bytes; surrounding whitespace is ignored.

        Returns
        -------
        BlockHeader
            The parsed header.

        Raises
        ------
        ConsensusError
            If the string is not valid hex or not 80 bytes long.
        """
        if not isinstance(header_hex, str):
            raise ConsensusError("header_hex", type(header_hex).__name__, "a hex string")
        try:
            raw = bytes.fromhex(header_hex.strip())
        except ValueError:
            raise ConsensusError("header_hex", header_hex, "160 hex digits") from None
        return cls.from_bytes(raw)

    def serialize(self) -> bytes:
        """Serialise to the 80-byte wire format.

        Returns
        -------
        bytes
            80 bytes; ``BlockHeader.from_bytes(h.serialize()) == h``.
        """
        return _HEADER_FORMAT.pack(
            self.version, self.prev_block_hash, self.merkle_root, self.time, self.bits, self.nonce
        )

    def hash(self) -> bytes:
        """Block hash in internal byte order (as the next header's ``prev_block_hash``).

        Returns
        -------
        bytes
            ``double_sha256(self.serialize())``, 32 bytes.
        """
        return double_sha256(self.serialize())

    def hash_hex(self) -> str:
        """Block hash in display order, as shown by explorers and RPC.

        Returns
        -------
        str
            64 lowercase hex digits of the reversed :meth:`hash`.
        """
        return self.hash()[::-1].hex()

    def target(self) -> int:
        """Target encoded by :attr:`bits`.

        Returns
        -------
        int
            The 256-bit target.

        Raises
        ------
        ConsensusError
            If ``bits`` has the sign bit set or overflows 256 bits.
        """
        return compact_to_target(self.bits)

    def check_pow(self, pow_limit: int = POW_LIMIT) -> bool:
        """Check proof of work as Bitcoin Core's ``CheckProofOfWork``.

        Parameters
        ----------
        pow_limit
            Easiest allowed target; mainnet's by default.

        Returns
        -------
        bool
            True when ``bits`` is well formed (not negative, not zero, no
            overflow, not above ``pow_limit``) and the hash, read as a
            big-endian number in display order, is at most the target.
        """
        target, negative, overflow = decode_compact(self.bits)
        if negative or overflow or target == 0 or target > pow_limit:
            return False
        return int.from_bytes(self.hash(), "little") <= target
