"""Fast construction of Merkle-sum trees (the hashes of :mod:`hashnation.proofs.hashing`).

Each level of a tree is a ``(count, 40)`` array of ``uint8`` records, a
record being a node's 32-byte digest followed by its sum as a big-endian
``u64``: exactly the bytes an internal node hashes for each child. So the
preimage of parent ``i`` is ``0x01`` followed by records ``2i`` and ``2i+1``,
read straight out of the level buffer; the parents' sums are vectorised
numpy additions of the children's.

All levels of a build live in one anonymous shared memory map. With
``workers > 1`` on a platform that can fork, a pool of forked processes
shares it: each worker takes a contiguous range of a level (leaves, or the
parents of the level below), hashes it and writes digests and sums in place;
the parent process only closes odd levels with their padding record. Small
inputs are built in-process, where forking would cost more than it saves.

This module trusts its input (the public builders in
:mod:`hashnation.proofs.liabilities` check ranges first): every amount and the
total are at most :data:`~hashnation.proofs.hashing.MAX_AMOUNT`, so no
``uint64`` sum can wrap.
"""

from __future__ import annotations

import hashlib
import mmap
import multiprocessing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hashnation.proofs.hashing import (
    DIGEST_SIZE,
    LEAF_PREFIX,
    NODE_PREFIX,
    NonceDeriver,
    pad_digest,
)

__all__ = ["RECORD_SIZE", "LeafInput", "TreeLevels", "build_trees", "level_sizes"]

RECORD_SIZE = 40
"""Bytes per node record: digest (32) then ``u64`` sum, big-endian (8)."""

PARALLEL_MIN_NODES = 65_536
"""Fewer leaves or parents than this in a stage are hashed in-process."""

_RECORD_VOID = np.dtype((np.void, 40))
_BLOCK = 65_536
"""Leaves handled per block of list operations (bounds the memory of a stage)."""
_LEN_BYTE = [bytes((i,)) for i in range(256)]
_STATE: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class LeafInput:
    """The leaves of one asset's tree, and where each goes in the tree.

    The leaves are hashed in the order given here, which should follow the
    customer list (reading ids in order is much faster than at random), and
    each leaf is written at its shuffled tree position.

    Parameters
    ----------
    asset
        Asset code.
    customers
        Index of each leaf's customer in the build's id list.
    parts
        Part number of each leaf (0 when balances are not split).
    amounts
        Amount of each leaf [smallest unit of the asset], ``uint64``.
    digests
        Leaf digests when they are given rather than computed (an audit of a
        disclosed leaf file), ``(n, 32)`` ``uint8``; ``customers`` and ``parts``
        are then ignored.
    positions
        Tree position of each leaf (a permutation of ``0..n-1``); ``None``
        when the leaves are given in tree order.
    """

    asset: str
    customers: npt.NDArray[np.int64]
    parts: npt.NDArray[np.int64]
    amounts: npt.NDArray[np.uint64]
    digests: npt.NDArray[np.uint8] | None = None
    positions: npt.NDArray[np.int64] | None = None


@dataclass(frozen=True, slots=True)
class TreeLevels:
    """The levels of one built tree.

    Parameters
    ----------
    asset
        Asset code.
    leaf_count
        Leaves, without padding.
    levels
        ``(count, 40)`` record arrays, leaves first; every level but the top
        one holds an even number of records (a padding record closes an odd one).
    """

    asset: str
    leaf_count: int
    levels: tuple[npt.NDArray[np.uint8], ...]

    @property
    def root(self) -> tuple[bytes, int]:
        """Root digest and total [smallest unit]."""
        top = self.levels[-1]
        return bytes(top[0, :DIGEST_SIZE]), int.from_bytes(bytes(top[0, DIGEST_SIZE:]), "big")


def level_sizes(leaf_count: int) -> list[int]:
    """Count the records of each level of a tree of ``leaf_count`` leaves, padding included.

    Parameters
    ----------
    leaf_count
        Number of leaves (>= 1).

    Returns
    -------
    list of int
        Leaves level first; the last entry is 1 (the root).
    """
    sizes = []
    count = leaf_count
    while count > 1:
        stored = count + (count % 2)
        sizes.append(stored)
        count = stored // 2
    sizes.append(1)
    return sizes


def _tails(parts: npt.NDArray[np.int64], amounts: npt.NDArray[np.uint64]) -> list[bytes]:
    """``u32(part) || u64(amount)`` of each leaf, as one 12-byte string each."""
    table = np.empty((len(parts), 12), dtype=np.uint8)
    table[:, :4] = parts.astype(">u4").view(np.uint8).reshape(-1, 4)
    table[:, 4:] = amounts.astype(">u8").view(np.uint8).reshape(-1, 8)
    flat = table.tobytes()
    return [flat[i : i + 12] for i in range(0, len(flat), 12)]


def _leaf_digests(slot: int, lo: int, hi: int) -> bytes:
    """Digests of leaves ``lo..hi`` of input ``slot``, concatenated."""
    state = _STATE
    leaves: LeafInput = state["inputs"][slot]
    ids: Sequence[str] = state["ids"]
    nonce_for: Any = state["deriver"].nonce_for_field
    head = LEAF_PREFIX
    asset_field = _LEN_BYTE[len(leaves.asset)] + leaves.asset.encode("ascii")
    sha = hashlib.sha256
    lengths = _LEN_BYTE
    blocks = []
    for start in range(lo, hi, _BLOCK):
        stop = min(hi, start + _BLOCK)
        raw = [ids[c].encode("utf-8") for c in leaves.customers[start:stop].tolist()]
        fields = [lengths[len(r)] + r for r in raw]
        nonces = list(map(nonce_for, fields))
        tails = _tails(leaves.parts[start:stop], leaves.amounts[start:stop])
        blocks.append(
            b"".join(
                [
                    sha(head + nonce + asset_field + field + tail).digest()
                    for nonce, field, tail in zip(nonces, fields, tails, strict=True)
                ]
            )
        )
    return b"".join(blocks)


def _node_digests(offset: int, lo: int, hi: int) -> bytes:
    """Digests of parents ``lo..hi`` of the level whose records start at byte ``offset``."""
    view = memoryview(_STATE["levels"])
    start = offset + 2 * RECORD_SIZE * lo
    chunk = bytes(view[start : offset + 2 * RECORD_SIZE * hi])
    sha = hashlib.sha256
    prefix = NODE_PREFIX
    step = 2 * RECORD_SIZE
    digests = [sha(prefix + chunk[i : i + step]).digest() for i in range(0, len(chunk), step)]
    return b"".join(digests)


def _records(offset: int, count: int) -> npt.NDArray[np.uint8]:
    """Return the ``(count, 40)`` records starting at byte ``offset`` of the levels map."""
    flat = np.frombuffer(_STATE["levels"], dtype=np.uint8, count=count * RECORD_SIZE, offset=offset)
    return flat.reshape(count, RECORD_SIZE)


def _sums(records: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint64]:
    """Return the big-endian ``u64`` sums of some records as native integers."""
    return records[:, DIGEST_SIZE:].view(">u8").reshape(-1).astype(np.uint64)


def _task(job: tuple[str, int, int, int, int]) -> None:
    """Fill records ``lo..hi`` of a level: hash them, and write digests and sums in place.

    ``("leaves", slot, target, lo, hi)`` computes leaves of input ``slot`` into the
    level starting at byte ``target``; ``("nodes", source, target, lo, hi)`` computes
    parents from the child level starting at byte ``source``.
    """
    kind, arg, target, lo, hi = job
    if kind == "nodes":
        digests = np.frombuffer(_node_digests(arg, lo, hi), dtype=np.uint8)
        children = _records(arg + 2 * lo * RECORD_SIZE, 2 * (hi - lo))
        sums = _sums(children[0::2]) + _sums(children[1::2])
        _write(_records(target + lo * RECORD_SIZE, hi - lo), digests, sums)
        return
    leaves: LeafInput = _STATE["inputs"][arg]
    if leaves.digests is None:
        digests = np.frombuffer(_leaf_digests(arg, lo, hi), dtype=np.uint8)
    else:
        digests = leaves.digests[lo:hi].reshape(-1)
    if leaves.positions is None:
        _write(_records(target + lo * RECORD_SIZE, hi - lo), digests, leaves.amounts[lo:hi])
        return
    chunk = np.empty((hi - lo, RECORD_SIZE), dtype=np.uint8)
    _write(chunk, digests, leaves.amounts[lo:hi])
    # Scatter whole 40-byte records to their shuffled tree positions.
    level = np.frombuffer(
        _STATE["levels"], dtype=_RECORD_VOID, count=len(leaves.amounts), offset=target
    )
    level[leaves.positions[lo:hi]] = chunk.view(_RECORD_VOID).reshape(-1)


def _write(
    records: npt.NDArray[np.uint8], digests: npt.NDArray[np.uint8], sums: npt.NDArray[np.uint64]
) -> None:
    """Write digests and big-endian sums into ``(k, 40)`` records."""
    records[:, :DIGEST_SIZE] = digests.reshape(-1, DIGEST_SIZE)
    records[:, DIGEST_SIZE:] = sums.astype(">u8").view(np.uint8).reshape(-1, 8)


def _ranges(count: int, parts: int) -> list[tuple[int, int]]:
    bounds = [count * i // parts for i in range(parts + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(parts) if bounds[i] < bounds[i + 1]]


class _Runner:
    """Runs a stage over ranges, in a forked pool or in-process."""

    def __init__(self, workers: int, widest: int) -> None:
        self.pool: Any = None
        self.workers = 1
        if (
            workers > 1
            and widest >= PARALLEL_MIN_NODES
            and "fork" in multiprocessing.get_all_start_methods()
        ):
            self.pool = multiprocessing.get_context("fork").Pool(workers)
            self.workers = workers

    def run(self, kind: str, arg: int, target: int, count: int) -> None:
        if self.pool is None or count < PARALLEL_MIN_NODES:
            _task((kind, arg, target, 0, count))
        else:
            jobs = [(kind, arg, target, lo, hi) for lo, hi in _ranges(count, self.workers)]
            self.pool.map(_task, jobs)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join()


def build_trees(
    inputs: Sequence[LeafInput],
    ids: Sequence[str],
    deriver: NonceDeriver | None,
    workers: int = 1,
) -> list[TreeLevels]:
    """Build one Merkle-sum tree per input.

    Parameters
    ----------
    inputs
        Leaves of each tree, in tree order; each non-empty.
    ids
        Customer ids, indexed by :attr:`LeafInput.customers`.
    deriver
        Nonce derivation of the build's secret and height (``None`` when
        every input gives its leaf digests).
    workers
        Processes hashing in parallel (1: in this process).

    Returns
    -------
    list of TreeLevels
        One per input, in order.
    """
    sizes = [level_sizes(len(leaves.amounts)) for leaves in inputs]
    total_records = sum(sum(s) for s in sizes)
    levels_map = mmap.mmap(-1, max(1, total_records * RECORD_SIZE))
    _STATE.clear()
    _STATE.update({"inputs": list(inputs), "ids": ids, "deriver": deriver, "levels": levels_map})
    runner = _Runner(workers, max(s[0] for s in sizes))
    trees: list[TreeLevels] = []
    try:
        offset = 0
        for slot, (leaves, level_counts) in enumerate(zip(inputs, sizes, strict=True)):
            offsets = []
            for count in level_counts:
                offsets.append(offset)
                offset += count * RECORD_SIZE
            filled = len(leaves.amounts)
            runner.run("leaves", slot, offsets[0], filled)
            for level in range(1, len(level_counts) + 1):
                records = _records(offsets[level - 1], level_counts[level - 1])
                if len(records) > filled:  # close an odd level with a padding record
                    records[filled, :DIGEST_SIZE] = np.frombuffer(
                        pad_digest(level - 1), dtype=np.uint8
                    )
                    records[filled, DIGEST_SIZE:] = 0
                if level == len(level_counts):
                    break
                filled = level_counts[level - 1] // 2
                runner.run("nodes", offsets[level - 1], offsets[level], filled)
            views = tuple(_records(o, c) for o, c in zip(offsets, level_counts, strict=True))
            trees.append(TreeLevels(leaves.asset, len(leaves.amounts), views))
    finally:
        runner.close()
        _STATE.clear()
    return trees
