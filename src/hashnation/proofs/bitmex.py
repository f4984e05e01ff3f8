"""Read and verify BitMEX's published proof-of-liabilities files.

BitMEX publishes its liabilities as a Merkle-sum tree in a text file (tool
``BitMEX/proof-of-reserves-liabilities``, ``generate_liabilities.py`` and
``validate_liabilities.py``). The format, as that tool writes and checks it:

* line 1: ``block_height:<H>``;
* then one line ``<digest hex>,<value>`` per node, the root first, then each
  level from left to right down to the leaves (breadth first); the number of
  leaves is a power of two (balances are split at random until it is), so a
  file holds ``2**k - 1`` nodes;
* values are satoshi, serialised as 8-byte **little-endian** unsigned integers;
* an internal node is ``SHA256(left_digest || u64le(left_value) ||
  right_digest || u64le(right_value))`` with ``value = left_value + right_value``
  (both children's digests and values, as in the hashes of
  :mod:`hashnation.proofs.hashing`);
* a leaf is ``HMAC-SHA256(key=sub_nonce, u64le(value) || u64le(leaf_index))``,
  where a user's ``sub_nonce = SHA256(account_nonce || u64le(block_height) ||
  u64le(account))``; BitMEX gives each user either their ``account_nonce``
  (fixed for the account's life) or the ``sub_nonce`` of one proof.

:func:`verify_bitmex` recomputes every internal node from its children (digest
and value), checks every value fits ``u64``, and, given an account and its
nonce, finds the account's leaves and adds them up, as BitMEX's validator does.
Differences from HashNation's own format are listed in
``docs/proof-of-liabilities.md``: the account is bound only through the
nonce, and nothing checks that values stay below ``2**63``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from hashnation.proofs.errors import ProofInputError

__all__ = [
    "BitmexMatch",
    "BitmexReport",
    "BitmexTree",
    "bitmex_leaf_digest",
    "bitmex_node_digest",
    "bitmex_sub_nonce",
    "parse_bitmex",
    "read_bitmex",
    "verify_bitmex",
]

U64_MAX = 2**64 - 1
_LINE = re.compile(r"^([0-9a-fA-F]{64}),([0-9]{1,20})$")


def bitmex_sub_nonce(account_nonce: bytes, block_height: int, account: int) -> bytes:
    """Derive a user's per-proof key: ``SHA256(account_nonce || u64le(height) || u64le(account))``.

    Parameters
    ----------
    account_nonce
        The account's nonce (32 bytes).
    block_height
        The proof's block height [blocks].
    account
        BitMEX account number.

    Returns
    -------
    bytes
        32 bytes.
    """
    return hashlib.sha256(
        account_nonce + struct.pack("<Q", block_height) + struct.pack("<Q", account)
    ).digest()


def bitmex_leaf_digest(sub_nonce: bytes, value: int, leaf_index: int) -> bytes:
    """Compute a leaf: ``HMAC-SHA256(sub_nonce, u64le(value) || u64le(leaf_index))``.

    Parameters
    ----------
    sub_nonce
        The user's key for this proof.
    value
        Leaf value [sat].
    leaf_index
        Position of the leaf, 0 = leftmost.

    Returns
    -------
    bytes
        32 bytes.
    """
    message = struct.pack("<Q", value) + struct.pack("<Q", leaf_index)
    return hmac.digest(sub_nonce, message, "sha256")


def bitmex_node_digest(left: bytes, left_value: int, right: bytes, right_value: int) -> bytes:
    """Compute an internal node: ``SHA256(l || u64le(l_value) || r || u64le(r_value))``.

    Parameters
    ----------
    left, right
        Child digests.
    left_value, right_value
        Child values [sat], each below ``2**64``.

    Returns
    -------
    bytes
        32 bytes.
    """
    return hashlib.sha256(
        left + struct.pack("<Q", left_value) + right + struct.pack("<Q", right_value)
    ).digest()


@dataclass(frozen=True, slots=True)
class BitmexTree:
    """A BitMEX liabilities file, read but not yet verified.

    Parameters
    ----------
    block_height
        The proof's block height [blocks].
    levels
        ``(digest, value)`` per node, root level first; level ``k`` has ``2**k`` nodes.
    """

    block_height: int
    levels: tuple[tuple[tuple[bytes, int], ...], ...]

    @property
    def leaves(self) -> tuple[tuple[bytes, int], ...]:
        """The leaf level."""
        return self.levels[-1]

    @property
    def total_sat(self) -> int:
        """The root's value: total liabilities [sat]."""
        return self.levels[0][0][1]


def parse_bitmex(text: str, where: str = "liabilities") -> BitmexTree:
    """Read a BitMEX liabilities file.

    Parameters
    ----------
    text
        The file's content.
    where
        File name, for messages.

    Returns
    -------
    BitmexTree
        The tree, levels as published.

    Raises
    ------
    ProofInputError
        If the first line is not ``block_height:<H>``, a line is not
        ``<64 hex>,<value>``, a value does not fit ``u64``, or the node count
        is not ``2**k - 1``.
    """
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise ProofInputError(where, "an empty file", "block_height:<H> then digest,value lines")
    label, _, value = lines[0].strip().partition(":")
    if label != "block_height" or not value.isdigit() or not value.isascii():
        raise ProofInputError(f"{where} line 1", lines[0][:80], "block_height:<H>")
    nodes: list[tuple[bytes, int]] = []
    for number, line in enumerate(lines[1:], start=2):
        match = _LINE.match(line.strip())
        if match is None:
            raise ProofInputError(f"{where} line {number}", line[:100], "<64 hex digits>,<value>")
        amount = int(match.group(2))
        if amount > U64_MAX:
            raise ProofInputError(f"{where} line {number} value", amount, "a u64 (< 2**64)")
        nodes.append((bytes.fromhex(match.group(1)), amount))
    count = len(nodes)
    if count == 0 or (count + 1) & count:
        raise ProofInputError(
            where, f"{count} nodes", "2**k - 1 nodes (a full tree, leaves a power of two)"
        )
    levels = []
    start = 0
    width = 1
    while start < count:
        levels.append(tuple(nodes[start : start + width]))
        start += width
        width *= 2
    return BitmexTree(int(value), tuple(levels))


def read_bitmex(path: Path) -> BitmexTree:
    """Read a BitMEX liabilities file from disk (see :func:`parse_bitmex`).

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    BitmexTree
        The tree.

    Raises
    ------
    ProofInputError
        If the file cannot be read or is malformed.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProofInputError(str(path), str(exc), "a readable UTF-8 text file") from None
    return parse_bitmex(text, Path(path).name)


@dataclass(frozen=True, slots=True)
class BitmexMatch:
    """A leaf of the checked account.

    Parameters
    ----------
    leaf_index
        Position of the leaf.
    value_sat
        Its value [sat].
    """

    leaf_index: int
    value_sat: int


@dataclass(frozen=True, slots=True)
class BitmexReport:
    """Outcome of :func:`verify_bitmex`.

    Parameters
    ----------
    block_height
        The proof's block height [blocks].
    leaf_count
        Leaves in the tree.
    total_sat
        The root's value: total liabilities [sat].
    faults
        Every node whose digest or value does not follow from its children
        (``"level 2 node 3: ..."``); empty when the tree is consistent.
    matches
        The account's leaves (when an account and nonce were given).
    """

    block_height: int
    leaf_count: int
    total_sat: int
    faults: tuple[str, ...]
    matches: tuple[BitmexMatch, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every node follows from its children."""
        return not self.faults

    @property
    def account_sat(self) -> int:
        """Sum of the account's leaves [sat]."""
        return sum(m.value_sat for m in self.matches)


def verify_bitmex(
    tree: BitmexTree,
    *,
    account: int | None = None,
    sub_nonce: bytes | None = None,
    account_nonce: bytes | None = None,
) -> BitmexReport:
    """Verify a BitMEX tree and, optionally, find an account's leaves.

    Parameters
    ----------
    tree
        The tree read by :func:`parse_bitmex`.
    account
        BitMEX account number (needed with ``account_nonce``).
    sub_nonce
        The account's key for this proof (32 bytes).
    account_nonce
        The account's lifetime nonce (32 bytes); the sub-nonce is derived from it.

    Returns
    -------
    BitmexReport
        Faults found (none for a consistent tree) and the account's leaves.

    Raises
    ------
    ProofInputError
        If both or neither nonce is given with an account, or ``account_nonce``
        without ``account``.
    """
    faults = []
    for depth in range(len(tree.levels) - 1):
        parents, children = tree.levels[depth], tree.levels[depth + 1]
        for i, (digest, value) in enumerate(parents):
            (left, left_value), (right, right_value) = children[2 * i], children[2 * i + 1]
            if bitmex_node_digest(left, left_value, right, right_value) != digest:
                faults.append(f"level {depth} node {i}: digest does not follow from its children")
            if left_value + right_value != value:
                faults.append(
                    f"level {depth} node {i}: value {value}, children sum to "
                    f"{left_value + right_value}"
                )
    key = sub_nonce
    if account_nonce is not None:
        if account is None or sub_nonce is not None:
            raise ProofInputError(
                "account_nonce", "given", "with an account number and without a sub-nonce"
            )
        key = bitmex_sub_nonce(account_nonce, tree.block_height, account)
    matches = []
    if key is not None:
        for index, (digest, value) in enumerate(tree.leaves):
            if bitmex_leaf_digest(key, value, index) == digest:
                matches.append(BitmexMatch(index, value))
    return BitmexReport(
        tree.block_height, len(tree.leaves), tree.total_sat, tuple(faults), tuple(matches)
    )
