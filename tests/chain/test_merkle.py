"""Merkle roots, branches and partial merkle trees against real mainnet blocks and proofs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hashnation.bitcoin.header import BlockHeader
from hashnation.chain.merkle import (
    MerkleBlock,
    build_merkle_block,
    merkle_branch,
    merkle_root,
    root_from_branch,
    verify_merkle_branch,
)
from hashnation.errors import InputError, SpvError

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "chain"


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text("utf-8"))


SPV = _load("spv_merkle_proof_mainnet.json")["proof"]
BLOCKS = {height: _load(f"block{height}.json") for height in (277647, 413567, 574200)}


def _branch_cases() -> list[tuple[int, dict[str, Any]]]:
    return [(h, b) for h, meta in BLOCKS.items() for b in meta["merkle_branches"]]


@pytest.mark.parametrize(
    ("height", "case"), _branch_cases(), ids=lambda v: str(v if isinstance(v, int) else v["index"])
)
def test_vector_branches_verify(height: int, case: dict[str, Any]) -> None:
    meta = BLOCKS[height]
    branch = [bytes.fromhex(h) for h in case["branch_internal_order_hex"]]
    root = BlockHeader.from_hex(meta["header_hex"]).merkle_root
    assert meta["txids"][case["index"]] == case["txid"]
    # txid as display hex and as internal bytes; root as header bytes and display hex.
    assert verify_merkle_branch(case["txid"], branch, case["index"], root)
    assert verify_merkle_branch(bytes.fromhex(case["txid"])[::-1], branch, case["index"], root)
    assert verify_merkle_branch(case["txid"], branch, case["index"], meta["merkle_root"])


@pytest.mark.parametrize(("height", "case"), _branch_cases())
def test_computed_branches_equal_vectors(height: int, case: dict[str, Any]) -> None:
    txids = BLOCKS[height]["txids"]
    expected = [bytes.fromhex(h) for h in case["branch_internal_order_hex"]]
    assert merkle_branch(txids, case["index"]) == expected


@pytest.mark.parametrize("height", sorted(BLOCKS))
def test_merkle_root_of_vector_blocks(height: int) -> None:
    meta = BLOCKS[height]
    assert merkle_root(meta["txids"])[::-1].hex() == meta["merkle_root"]


def test_last_odd_leaf_pairs_with_itself() -> None:
    # Block 413567 has 1557 txs: the last one's first sibling is itself.
    meta = BLOCKS[413567]
    last = next(b for b in meta["merkle_branches"] if b["index"] == 1556)
    assert last["branch_internal_order_hex"][0] == bytes.fromhex(last["txid"])[::-1].hex()


def test_real_spv_proof_verifies() -> None:
    header = BlockHeader.from_hex(SPV["header_hex"])
    branch = [bytes.fromhex(h) for h in SPV["branch_internal_order_hex"]]
    assert header.hash_hex() == SPV["block_hash"] and header.check_pow()
    assert verify_merkle_branch(SPV["txid"], branch, SPV["index"], header.merkle_root)
    assert root_from_branch(SPV["txid"], branch, SPV["index"])[::-1].hex() == SPV["merkle_root"]


@pytest.mark.parametrize("level", [0, 5, 11])
def test_modified_spv_branch_fails(level: int) -> None:
    header = BlockHeader.from_hex(SPV["header_hex"])
    branch = [bytes.fromhex(h) for h in SPV["branch_internal_order_hex"]]
    branch[level] = bytes([branch[level][0] ^ 1]) + branch[level][1:]
    assert not verify_merkle_branch(SPV["txid"], branch, SPV["index"], header.merkle_root)


def test_wrong_index_or_txid_fails() -> None:
    header = BlockHeader.from_hex(SPV["header_hex"])
    branch = [bytes.fromhex(h) for h in SPV["branch_internal_order_hex"]]
    assert not verify_merkle_branch(SPV["txid"], branch, SPV["index"] + 1, header.merkle_root)
    assert not verify_merkle_branch(SPV["txid"], branch, 1 << 12, header.merkle_root)
    assert not verify_merkle_branch(SPV["txid"], branch, -1, header.merkle_root)
    other = "00" * 31 + "01"
    assert not verify_merkle_branch(other, branch, SPV["index"], header.merkle_root)
    with pytest.raises(InputError, match="txid"):
        verify_merkle_branch("xyz", branch, 0, header.merkle_root)


def test_single_transaction_block(chain: Any) -> None:
    coinbase = chain.block_txids[1][0]
    assert merkle_root([coinbase]) == BlockHeader.from_bytes(chain.headers[1]).merkle_root
    assert merkle_branch([coinbase], 0) == []
    assert verify_merkle_branch(coinbase, [], 0, coinbase)


# -- partial merkle trees (gettxoutproof) ----------------------------------------------------


def _header(height: int) -> BlockHeader:
    return BlockHeader.from_hex(BLOCKS[height]["header_hex"])


@pytest.mark.parametrize("matches", [[0], [1], [212], [0, 5, 100, 212], list(range(213))])
def test_merkle_block_round_trip_277647(matches: list[int]) -> None:
    txids = BLOCKS[277647]["txids"]
    block = build_merkle_block(_header(277647), txids, matches)
    parsed = MerkleBlock.from_bytes(block.serialize())
    assert parsed == block
    found = parsed.verify()
    assert [m.index for m in found] == matches
    assert [m.txid_hex for m in found] == [txids[i] for i in matches]
    for match in found:
        assert list(match.branch) == merkle_branch(txids, match.index)


def test_merkle_block_matches_independent_builder(chain: Any, servers: Any) -> None:
    # The test servers build CMerkleBlocks with their own code: same bytes.
    txid = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
    raw = chain.merkle_block([txid], chain.hashes[170])
    ours = build_merkle_block(
        BlockHeader.from_bytes(chain.headers[170]), chain.block_txids[170], [1]
    )
    assert ours.serialize() == raw
    (match,) = MerkleBlock.from_bytes(raw).verify()
    assert (match.txid_hex, match.index) == (txid, 1)


def test_merkle_block_from_large_block_413567() -> None:
    txids = BLOCKS[413567]["txids"]
    block = build_merkle_block(_header(413567), txids, [777, 1556])
    found = MerkleBlock.from_bytes(block.serialize()).verify()
    expected = {b["index"]: b for b in BLOCKS[413567]["merkle_branches"]}
    for match in found:
        vector = [bytes.fromhex(h) for h in expected[match.index]["branch_internal_order_hex"]]
        assert list(match.branch) == vector


def test_cve_2012_2459_duplicate_subtree_is_rejected() -> None:
    # 213 txs; claiming 214 with the last duplicated keeps the root but the tree
    # then holds a node with two equal children.
    txids = BLOCKS[277647]["txids"]
    header = _header(277647)
    forged = build_merkle_block(header, [*txids, txids[-1]], [213])
    root, _ = build_merkle_block(header, txids, [212]).extract()
    assert root == header.merkle_root
    with pytest.raises(SpvError, match="CVE-2012-2459"):
        MerkleBlock.from_bytes(forged.serialize()).verify()


def test_tampered_merkle_block_hash_fails_root() -> None:
    block = build_merkle_block(_header(277647), BLOCKS[277647]["txids"], [100])
    hashes = list(block.hashes)
    hashes[2] = bytes([hashes[2][0] ^ 0x80]) + hashes[2][1:]
    tampered = MerkleBlock(block.header, block.total_transactions, tuple(hashes), block.flags)
    with pytest.raises(SpvError, match="expected the header's merkle root"):
        MerkleBlock.from_bytes(tampered.serialize()).verify()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda b: MerkleBlock(b.header, 0, b.hashes, b.flags), "total transactions 0"),
        (lambda b: MerkleBlock(b.header, 2, b.hashes, b.flags), "hashes, expected at most 2"),
        (lambda b: MerkleBlock(b.header, b.total_transactions, b.hashes[:-1], b.flags), "ran out"),
        (
            lambda b: MerkleBlock(b.header, b.total_transactions, b.hashes, b.flags + b"\x00"),
            "flag",
        ),
        (
            lambda b: MerkleBlock(
                b.header, b.total_transactions, (*b.hashes, b.hashes[0]), b.flags
            ),
            "hashes used",
        ),
    ],
    ids=["zero-total", "too-many-hashes", "missing-hash", "extra-flag-byte", "extra-hash"],
)
def test_malformed_partial_trees_are_rejected(edit: Any, message: str) -> None:
    block = build_merkle_block(_header(277647), BLOCKS[277647]["txids"], [7])
    with pytest.raises(SpvError, match=message):
        edit(block).verify()


def test_truncated_merkle_block_bytes() -> None:
    raw = build_merkle_block(_header(277647), BLOCKS[277647]["txids"], [7]).serialize()
    with pytest.raises(SpvError, match="merkle block"):
        MerkleBlock.from_bytes(raw[:-1])
    with pytest.raises(SpvError, match="trailing"):
        MerkleBlock.from_bytes(raw + b"\x00")
