"""Byte-level helpers shared by the chain modules: a bounded reader and hash byte order.

Bitcoin serialises integers little-endian and lengths as *CompactSize* integers.
Hashes (txids, block hashes, merkle nodes) are kept as 32 bytes in *internal*
(serialised) order; RPC, explorers and the Electrum protocol show them reversed,
in *display* order.
"""

from __future__ import annotations

import struct

from hashnation.errors import ChainError

__all__ = [
    "HASH_SIZE_BYTES",
    "ByteReader",
    "compact_size",
    "display_hex",
    "from_display_hex",
]

HASH_SIZE_BYTES: int = 32
"""Length of a double-SHA256 digest [bytes]."""

MAX_SIZE: int = 0x0200_0000
"""Largest CompactSize value Bitcoin Core accepts when deserialising (``MAX_SIZE``)."""

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U64 = struct.Struct("<Q")


def display_hex(hash_internal: bytes) -> str:
    """Show a 32-byte hash in display order (as RPC and explorers print it).

    Parameters
    ----------
    hash_internal
        Hash in internal (serialised) byte order.

    Returns
    -------
    str
        64 lowercase hex digits of the reversed bytes.
    """
    return bytes(hash_internal)[::-1].hex()


def from_display_hex(value: object, what: str = "hash") -> bytes:
    """Parse a display-order hash (64 hex digits) into internal byte order.

    Parameters
    ----------
    value
        Hex string as RPC shows it (``000000000019d6...e26f``).
    what
        Name used in the error message (``txid``, ``block hash``).

    Returns
    -------
    bytes
        32 bytes in internal order.

    Raises
    ------
    ChainError
        If ``value`` is not a string of 64 hex digits.
    """
    if isinstance(value, str) and len(value) == 2 * HASH_SIZE_BYTES:
        try:
            return bytes.fromhex(value)[::-1]
        except ValueError:
            pass
    raise ChainError(f"{what}: got {value!r}, expected 64 hex digits (display byte order)")


def compact_size(n: int) -> bytes:
    """Serialise ``n`` as a CompactSize integer (the shortest encoding).

    Parameters
    ----------
    n
        Integer from 0 to 2**64 - 1.

    Returns
    -------
    bytes
        1, 3, 5 or 9 bytes.
    """
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + _U16.pack(n)
    if n <= 0xFFFF_FFFF:
        return b"\xfe" + _U32.pack(n)
    return b"\xff" + _U64.pack(n)


class ByteReader:
    """Read Bitcoin-serialised fields from bytes, refusing to run past the end.

    Parameters
    ----------
    data
        Bytes to read.
    what
        Name of the structure being read, used in error messages (``transaction``).
    error
        Exception class raised on malformed data; it is built from one message.
    """

    def __init__(self, data: bytes, what: str, error: type[ChainError] = ChainError) -> None:
        self._data = memoryview(bytes(data))
        self._offset = 0
        self._what = what
        self._error = error

    @property
    def offset(self) -> int:
        """Number of bytes consumed so far."""
        return self._offset

    @property
    def remaining(self) -> int:
        """Number of bytes not yet consumed."""
        return len(self._data) - self._offset

    def fail(self, field: str, value: object, expected: str) -> ChainError:
        """Build the error for a malformed field (the caller raises it).

        Parameters
        ----------
        field
            Field that failed.
        value
            Value read, or a description of it.
        expected
            What a well-formed value would be.

        Returns
        -------
        ChainError
            An instance of the reader's error class.
        """
        return self._error(
            f"{self._what} {field} at byte {self._offset}: got {value}, expected {expected}"
        )

    def read(self, n: int, field: str = "bytes") -> bytes:
        """Consume ``n`` bytes.

        Parameters
        ----------
        n
            Number of bytes.
        field
            Field name for the error message.

        Returns
        -------
        bytes
            The bytes read.

        Raises
        ------
        ChainError
            If fewer than ``n`` bytes remain.
        """
        if n > self.remaining:
            raise self.fail(field, f"{self.remaining} bytes left", f"{n} more bytes")
        start = self._offset
        self._offset += n
        return bytes(self._data[start : self._offset])

    def peek(self, n: int) -> bytes:
        """Return up to ``n`` next bytes without consuming them.

        Parameters
        ----------
        n
            Number of bytes wanted.

        Returns
        -------
        bytes
            The next ``min(n, remaining)`` bytes.
        """
        return bytes(self._data[self._offset : self._offset + n])

    def consumed(self, start: int, end: int) -> bytes:
        """Return bytes ``start:end`` that were already read.

        Parameters
        ----------
        start, end
            Offsets with ``0 <= start <= end <= offset``.

        Returns
        -------
        bytes
            The slice.
        """
        return bytes(self._data[start : min(end, self._offset)])

    def u32(self, field: str) -> int:
        """Consume a little-endian uint32.

        Parameters
        ----------
        field
            Field name for the error message.

        Returns
        -------
        int
            The value.
        """
        return int(_U32.unpack(self.read(4, field))[0])

    def i32(self, field: str) -> int:
        """Consume a little-endian int32.

        Parameters
        ----------
        field
            Field name for the error message.

        Returns
        -------
        int
            The value.
        """
        return int(_I32.unpack(self.read(4, field))[0])

    def u64(self, field: str) -> int:
        """Consume a little-endian uint64.

        Parameters
        ----------
        field
            Field name for the error message.

        Returns
        -------
        int
            The value.
        """
        return int(_U64.unpack(self.read(8, field))[0])

    def compact_size(self, field: str, limit: int = MAX_SIZE) -> int:
        """Consume a CompactSize integer, refusing non-canonical encodings.

        Parameters
        ----------
        field
            Field name for the error message.
        limit
            Largest accepted value (Core's ``MAX_SIZE`` by default).

        Returns
        -------
        int
            The value.

        Raises
        ------
        ChainError
            If the encoding is not the shortest one or the value exceeds ``limit``.
        """
        first = self.read(1, field)[0]
        if first < 0xFD:
            value, minimum = first, 0
        elif first == 0xFD:
            value, minimum = int(_U16.unpack(self.read(2, field))[0]), 0xFD
        elif first == 0xFE:
            value, minimum = int(_U32.unpack(self.read(4, field))[0]), 0x1_0000
        else:
            value, minimum = int(_U64.unpack(self.read(8, field))[0]), 0x1_0000_0000
        if value < minimum:
            raise self.fail(field, value, "a canonical (shortest) CompactSize encoding")
        if value > limit:
            raise self.fail(field, value, f"at most {limit}")
        return value

    def var_bytes(self, field: str) -> bytes:
        """Consume a CompactSize length followed by that many bytes.

        Parameters
        ----------
        field
            Field name for the error message.

        Returns
        -------
        bytes
            The bytes read.
        """
        return self.read(self.compact_size(field), field)

    def expect_end(self) -> None:
        """Check that every byte was consumed.

        Raises
        ------
        ChainError
            If bytes remain.
        """
        if self.remaining:
            raise self.fail("end", f"{self.remaining} trailing bytes", "no bytes after the end")
