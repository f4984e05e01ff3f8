"""Merkle trees of transactions: roots, branches and Bitcoin Core's partial merkle trees.

A block commits to its transactions through the merkle root in its header:
the txids (internal byte order) are the leaves, each parent is
``double_sha256(left || right)``, and on a level with an odd number of nodes
the last node is paired with itself (Bitcoin's *duplicate-last* rule).

A *merkle branch* for leaf ``index`` lists the sibling of each node on the path
from the leaf to the root, leaf level first; at level ``k`` the sibling is on
the left when bit ``k`` of ``index`` is 1. This is the form Electrum's
``blockchain.transaction.get_merkle`` and Esplora's ``/tx/:txid/merkle-proof``
return (they print the hashes in display order).

Bitcoin Core's ``gettxoutproof`` returns a serialised ``CMerkleBlock``
(BIP37): the 80-byte header, the total number of transactions (uint32), the
hashes of a depth-first partial merkle tree (CompactSize count, 32 bytes each)
and the flag bits (CompactSize byte count, bits least significant first).
:meth:`MerkleBlock.verify` rebuilds the root from it exactly as Core's
``CPartialMerkleTree::ExtractMatches`` does, refusing the CVE-2012-2459
mutation (a node whose two children are equal, which lets a tree of ``n``
transactions pose as one with a duplicated subtree).

Hashes are ``bytes`` in internal order; a ``str`` argument is read as 64 hex
digits in display order (as RPC prints txids).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hashnation.bitcoin.header import HEADER_SIZE_BYTES, BlockHeader, double_sha256
from hashnation.chain._codec import (
    HASH_SIZE_BYTES,
    ByteReader,
    compact_size,
    display_hex,
)
from hashnation.errors import InputError, SpvError

__all__ = [
    "MAX_BLOCK_TRANSACTIONS",
    "MerkleBlock",
    "MerkleBlockMatch",
    "as_internal_hash",
    "build_merkle_block",
    "compute_merkle_root",
    "hash_pair",
    "merkle_branch",
    "merkle_root",
    "root_from_branch",
    "verify_merkle_branch",
]

MAX_BLOCK_TRANSACTIONS: int = 4_000_000 // 240
"""Most transactions a block can hold: ``MAX_BLOCK_WEIGHT / MIN_TRANSACTION_WEIGHT`` (16666)."""

_MAX_BRANCH_LENGTH = 32


def as_internal_hash(value: bytes | str, field: str = "hash") -> bytes:
    """Normalise a hash to 32 bytes in internal order.

    Parameters
    ----------
    value
        32 bytes (taken as internal order) or 64 hex digits (taken as display order).
    field
        Name used in the error message.

    Returns
    -------
    bytes
        32 bytes, internal order.

    Raises
    ------
    InputError
        If ``value`` is neither.
    """
    if isinstance(value, bytes | bytearray) and len(value) == HASH_SIZE_BYTES:
        return bytes(value)
    if isinstance(value, str) and len(value) == 2 * HASH_SIZE_BYTES:
        try:
            return bytes.fromhex(value)[::-1]
        except ValueError:
            pass
    raise InputError(field, value, "32 bytes (internal order) or 64 hex digits (display order)")


def hash_pair(left: bytes, right: bytes) -> bytes:
    """Parent of two merkle nodes: ``double_sha256(left || right)``.

    Parameters
    ----------
    left, right
        Child hashes, 32 bytes each, internal order.

    Returns
    -------
    bytes
        The parent hash, internal order.
    """
    return double_sha256(left + right)


def _leaves(txids: Iterable[bytes | str]) -> list[bytes]:
    leaves = [as_internal_hash(txid, "txid") for txid in txids]
    if not leaves:
        raise InputError("txids", [], "at least one txid (the coinbase)")
    return leaves


def compute_merkle_root(txids: Iterable[bytes | str]) -> tuple[bytes, bool]:
    """Merkle root of a transaction list and Core's *mutated* flag.

    Parameters
    ----------
    txids
        Txids in block order (at least one).

    Returns
    -------
    tuple of (bytes, bool)
        The root (internal order) and whether the list is *mutated*: some level
        holds two equal adjacent nodes at an even position, as when the last
        transactions are duplicated (CVE-2012-2459). Bitcoin Core's
        ``ComputeMerkleRoot`` flags such blocks and rejects them.

    Raises
    ------
    InputError
        If ``txids`` is empty or holds a malformed hash.
    """
    level = _leaves(txids)
    mutated = False
    while len(level) > 1:
        for pos in range(0, len(level) - 1, 2):
            if level[pos] == level[pos + 1]:
                mutated = True
        if len(level) % 2:
            level.append(level[-1])
        level = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0], mutated


def merkle_root(txids: Iterable[bytes | str]) -> bytes:
    """Merkle root of a transaction list (duplicate-last rule on odd levels).

    Parameters
    ----------
    txids
        Txids in block order (at least one).

    Returns
    -------
    bytes
        The root, internal order, as stored in the block header.

    Raises
    ------
    InputError
        If ``txids`` is empty or holds a malformed hash.
    """
    return compute_merkle_root(txids)[0]


def merkle_branch(txids: Sequence[bytes | str], index: int) -> list[bytes]:
    """Merkle branch for the transaction at ``index``.

    Parameters
    ----------
    txids
        Txids of the whole block, in order.
    index
        Position of the transaction in the block (0 is the coinbase).

    Returns
    -------
    list of bytes
        Sibling hashes from the leaf level up, internal order; on an odd level
        the last node's sibling is itself.

    Raises
    ------
    InputError
        If ``index`` is out of range or a txid is malformed.
    """
    level = _leaves(txids)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(level):
        raise InputError("index", index, f"an int from 0 to {len(level) - 1}")
    branch: list[bytes] = []
    pos = index
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        branch.append(level[pos ^ 1])
        level = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        pos >>= 1
    return branch


def root_from_branch(txid: bytes | str, branch: Sequence[bytes], index: int) -> bytes:
    """Fold a merkle branch from a leaf up to the root it implies.

    Parameters
    ----------
    txid
        The leaf: bytes in internal order or display-order hex.
    branch
        Sibling hashes, leaf level first, internal order.
    index
        Position of the leaf; bit ``k`` tells whether the level-``k`` sibling
        is on the left (1) or the right (0).

    Returns
    -------
    bytes
        The implied root, internal order.

    Raises
    ------
    InputError
        If a hash is malformed, ``index`` is negative or not below
        ``2**len(branch)`` (a longer index would be ambiguous), or the branch is
        longer than 32 levels.
    """
    node = as_internal_hash(txid, "txid")
    if len(branch) > _MAX_BRANCH_LENGTH:
        raise InputError("branch", f"{len(branch)} hashes", f"at most {_MAX_BRANCH_LENGTH}")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < (1 << len(branch)):
        raise InputError("index", index, f"an int from 0 to 2**{len(branch)} - 1")
    for level, sibling in enumerate(branch):
        other = as_internal_hash(sibling, f"branch[{level}]")
        node = hash_pair(other, node) if (index >> level) & 1 else hash_pair(node, other)
    return node


def verify_merkle_branch(
    txid: bytes | str, branch: Sequence[bytes], index: int, root: bytes | str
) -> bool:
    """Check that ``branch`` proves ``txid`` at ``index`` under ``root``.

    Parameters
    ----------
    txid
        The transaction id: bytes in internal order or display-order hex.
    branch
        Sibling hashes, leaf level first, internal order.
    index
        Position of the transaction in its block.
    root
        Expected merkle root (a header's ``merkle_root``): bytes in internal
        order or display-order hex.

    Returns
    -------
    bool
        True when the folded branch equals ``root``; False when it differs or
        the index does not fit the branch length.

    Raises
    ------
    InputError
        If a hash is malformed.
    """
    expected = as_internal_hash(root, "root")
    try:
        return root_from_branch(txid, branch, index) == expected
    except InputError as exc:
        if exc.field in ("index", "branch"):
            return False
        raise


@dataclass(frozen=True, slots=True)
class MerkleBlockMatch:
    """A transaction a partial merkle tree proves, with its position and branch.

    Parameters
    ----------
    txid
        Txid, internal order.
    index
        Position in the block.
    branch
        Merkle branch (leaf level first, internal order) rebuilt from the tree.
    """

    txid: bytes
    index: int
    branch: tuple[bytes, ...]

    @property
    def txid_hex(self) -> str:
        """Txid in display order."""
        return display_hex(self.txid)


def _tree_width(total: int, height: int) -> int:
    return (total + (1 << height) - 1) >> height


def _tree_height(total: int) -> int:
    height = 0
    while _tree_width(total, height) > 1:
        height += 1
    return height


@dataclass(frozen=True, slots=True)
class MerkleBlock:
    """A BIP37 ``CMerkleBlock``: a header and a partial merkle tree (``gettxoutproof``).

    Parameters
    ----------
    header
        The block header.
    total_transactions
        Number of transactions in the block.
    hashes
        Hashes of the partial tree in depth-first order, internal order.
    flags
        Flag bytes; bit ``p`` (least significant first) is the ``p``-th flag
        of the depth-first traversal.
    """

    header: BlockHeader
    total_transactions: int
    hashes: tuple[bytes, ...]
    flags: bytes

    @classmethod
    def from_bytes(cls, raw: bytes) -> MerkleBlock:
        """Parse a serialised ``CMerkleBlock`` (the bytes of ``gettxoutproof``'s hex).

        Parameters
        ----------
        raw
            The serialisation, nothing before or after it.

        Returns
        -------
        MerkleBlock
            The parsed structure (not yet verified; see :meth:`verify`).

        Raises
        ------
        SpvError
            If the bytes are truncated, have trailing data or hold more hashes
            than the block has transactions.
        """
        if not isinstance(raw, bytes | bytearray | memoryview):
            raise SpvError(f"merkle block: got {type(raw).__name__}, expected bytes")
        reader = ByteReader(bytes(raw), "merkle block", SpvError)
        header = BlockHeader.from_bytes(reader.read(HEADER_SIZE_BYTES, "header"))
        total = reader.u32("total transactions")
        count = reader.compact_size("hash count", limit=MAX_BLOCK_TRANSACTIONS)
        hashes = tuple(reader.read(HASH_SIZE_BYTES, "hash") for _ in range(count))
        flags = reader.var_bytes("flag bytes")
        reader.expect_end()
        return cls(header, total, hashes, flags)

    def serialize(self) -> bytes:
        """Serialise as Bitcoin Core does.

        Returns
        -------
        bytes
            Header, total (uint32), CompactSize-prefixed hashes and flag bytes.
        """
        return (
            self.header.serialize()
            + self.total_transactions.to_bytes(4, "little")
            + compact_size(len(self.hashes))
            + b"".join(self.hashes)
            + compact_size(len(self.flags))
            + self.flags
        )

    def extract(self) -> tuple[bytes, tuple[MerkleBlockMatch, ...]]:
        """Rebuild the root and the matched transactions (Core's ``ExtractMatches``).

        Returns
        -------
        tuple of (bytes, tuple of MerkleBlockMatch)
            The computed merkle root (internal order) and the matched
            transactions in block order, each with its merkle branch.

        Raises
        ------
        SpvError
            If the tree is malformed: no transactions or more than a block can
            hold, more hashes than transactions, fewer flag bits than hashes,
            running out of bits or hashes, unused hashes or flag bytes, or a
            node whose two children are equal (CVE-2012-2459).
        """
        total = self.total_transactions
        what = f"merkle block {self.header.hash_hex()}"
        if not 1 <= total <= MAX_BLOCK_TRANSACTIONS:
            raise SpvError(
                f"{what}: total transactions {total}, expected 1 to {MAX_BLOCK_TRANSACTIONS}"
            )
        if len(self.hashes) > total:
            raise SpvError(
                f"{what}: {len(self.hashes)} hashes, expected at most {total} (one per tx)"
            )
        bit_count = 8 * len(self.flags)
        if bit_count < len(self.hashes):
            raise SpvError(f"{what}: {bit_count} flag bits, expected at least {len(self.hashes)}")
        bits = [(self.flags[p // 8] >> (p % 8)) & 1 == 1 for p in range(bit_count)]
        nodes: dict[tuple[int, int], bytes] = {}
        leaves: list[tuple[int, bytes]] = []
        cursor = [0, 0]  # bits used, hashes used

        def traverse(height: int, pos: int) -> bytes:
            if cursor[0] >= len(bits):
                raise SpvError(f"{what}: ran out of flag bits, expected more in the tree")
            parent_of_match = bits[cursor[0]]
            cursor[0] += 1
            if height == 0 or not parent_of_match:
                if cursor[1] >= len(self.hashes):
                    raise SpvError(f"{what}: ran out of hashes, expected more in the tree")
                node = self.hashes[cursor[1]]
                cursor[1] += 1
                if height == 0 and parent_of_match:
                    leaves.append((pos, node))
            else:
                left = traverse(height - 1, pos * 2)
                if pos * 2 + 1 < _tree_width(total, height - 1):
                    right = traverse(height - 1, pos * 2 + 1)
                    if right == left:
                        raise SpvError(
                            f"{what}: node at height {height}, position {pos} has two equal "
                            "children, expected distinct ones (CVE-2012-2459 mutation)"
                        )
                else:
                    right = left
                node = hash_pair(left, right)
            nodes[(height, pos)] = node
            return node

        height = _tree_height(total)
        root = traverse(height, 0)
        if (cursor[0] + 7) // 8 != len(self.flags):
            raise SpvError(
                f"{what}: {cursor[0]} flag bits used of {len(self.flags)} bytes, "
                "expected every flag byte used"
            )
        if cursor[1] != len(self.hashes):
            raise SpvError(f"{what}: {cursor[1]} hashes used of {len(self.hashes)}, expected all")
        matches = []
        for index, txid in leaves:
            branch = []
            for level in range(height):
                pos = index >> level
                sibling = pos ^ 1
                if sibling >= _tree_width(total, level):
                    sibling = pos
                branch.append(nodes[(level, sibling)])
            matches.append(MerkleBlockMatch(txid, index, tuple(branch)))
        return root, tuple(matches)

    def verify(self) -> tuple[MerkleBlockMatch, ...]:
        """Extract the matches and check the rebuilt root against the header.

        Returns
        -------
        tuple of MerkleBlockMatch
            The proven transactions, in block order.

        Raises
        ------
        SpvError
            If the tree is malformed (see :meth:`extract`) or its root differs
            from the header's merkle root.
        """
        root, matches = self.extract()
        if root != self.header.merkle_root:
            raise SpvError(
                f"merkle block {self.header.hash_hex()}: partial tree root {display_hex(root)}, "
                f"expected the header's merkle root {display_hex(self.header.merkle_root)}"
            )
        return matches


def build_merkle_block(
    header: BlockHeader, txids: Sequence[bytes | str], matches: Iterable[int]
) -> MerkleBlock:
    """Build the ``CMerkleBlock`` proving some transactions of a block (as Core does).

    Parameters
    ----------
    header
        The block's header.
    txids
        All txids of the block, in order.
    matches
        Positions of the transactions to prove.

    Returns
    -------
    MerkleBlock
        The partial merkle tree, as ``gettxoutproof`` would serialise it.

    Raises
    ------
    InputError
        If ``txids`` is empty, a hash is malformed or a position is out of range.
    """
    leaves = _leaves(txids)
    total = len(leaves)
    matched = set(matches)
    for index in matched:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < total:
            raise InputError("matches", index, f"positions from 0 to {total - 1}")
    bits: list[bool] = []
    hashes: list[bytes] = []

    def subtree_hash(height: int, pos: int) -> bytes:
        if height == 0:
            return leaves[pos]
        left = subtree_hash(height - 1, pos * 2)
        has_right = pos * 2 + 1 < _tree_width(total, height - 1)
        right = subtree_hash(height - 1, pos * 2 + 1) if has_right else left
        return hash_pair(left, right)

    def build(height: int, pos: int) -> None:
        first, last = pos << height, min((pos + 1) << height, total)
        parent_of_match = any(first <= index < last for index in matched)
        bits.append(parent_of_match)
        if height == 0 or not parent_of_match:
            hashes.append(subtree_hash(height, pos))
        else:
            build(height - 1, pos * 2)
            if pos * 2 + 1 < _tree_width(total, height - 1):
                build(height - 1, pos * 2 + 1)

    build(_tree_height(total), 0)
    flags = bytearray((len(bits) + 7) // 8)
    for p, bit in enumerate(bits):
        flags[p // 8] |= int(bit) << (p % 8)
    return MerkleBlock(header, total, tuple(hashes), bytes(flags))
