"""Raw transaction and block parsing on real mainnet blocks (legacy and SegWit)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hashnation.bitcoin.header import BlockHeader
from hashnation.chain.merkle import compute_merkle_root, merkle_root
from hashnation.chain.transactions import parse_block, parse_transaction
from hashnation.errors import ChainError

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "chain"


def _block(height: int) -> tuple[bytes, dict[str, Any]]:
    raw = bytes.fromhex((VECTORS / f"block{height}.hex").read_text("ascii").strip())
    meta = json.loads((VECTORS / f"block{height}.json").read_text("utf-8"))
    return raw, meta


@pytest.fixture(scope="module")
def block277647() -> tuple[bytes, dict[str, Any]]:
    return _block(277647)


@pytest.fixture(scope="module")
def block574200() -> tuple[bytes, dict[str, Any]]:
    return _block(574200)


def test_legacy_block_277647_parses_completely(block277647: tuple[bytes, dict[str, Any]]) -> None:
    raw, meta = block277647
    block = parse_block(raw)
    assert len(raw) == int(meta["size_bytes"]) == 149_164
    assert len(block.transactions) == int(meta["tx_count"]) == 213
    assert block.header.hash_hex() == meta["block_hash"]
    assert block.header.serialize().hex() == meta["header_hex"]
    assert [tx.txid_hex for tx in block.transactions] == meta["txids"]
    assert all(tx.txid == tx.wtxid and not tx.has_witness for tx in block.transactions)
    assert merkle_root(block.txids) == block.header.merkle_root
    assert block.transactions[0].is_coinbase
    assert not any(tx.is_coinbase for tx in block.transactions[1:])
    assert 80 + 1 + sum(tx.size_bytes for tx in block.transactions) == len(raw)  # 213 < 0xfd


def test_segwit_block_574200_txids_and_wtxids(block574200: tuple[bytes, dict[str, Any]]) -> None:
    raw, meta = block574200
    block = parse_block(raw)
    assert len(block.transactions) == int(meta["tx_count"]) == 3315
    assert block.header.hash_hex() == meta["block_hash"]
    assert [tx.txid_hex for tx in block.transactions] == meta["txids"]
    assert [tx.wtxid_hex for tx in block.transactions] == meta["wtxids"]
    assert sum(tx.has_witness for tx in block.transactions) == int(meta["segwit_tx_count"])
    assert merkle_root(block.txids) == block.header.merkle_root
    assert block.header.merkle_root[::-1].hex() == meta["merkle_root"]


def test_segwit_witness_commitment_574200(block574200: tuple[bytes, dict[str, Any]]) -> None:
    # BIP141: the coinbase commits to the wtxid root (coinbase wtxid taken as zero)
    # with the coinbase witness reserved value: sha256d(root || reserved).
    from hashnation.bitcoin.header import double_sha256

    raw, meta = block574200
    block = parse_block(raw)
    coinbase = block.transactions[0]
    leaves = [bytes(32)] + [tx.wtxid for tx in block.transactions[1:]]
    commitment = double_sha256(merkle_root(leaves) + coinbase.inputs[0].witness[0])
    assert commitment.hex() == meta["witness_commitment"]
    header = bytes.fromhex("6a24aa21a9ed")
    committed = [o.script_pubkey for o in coinbase.outputs if o.script_pubkey[:6] == header]
    assert committed[-1][6:38] == commitment


def test_each_transaction_reparses_alone(block574200: tuple[bytes, dict[str, Any]]) -> None:
    raw, _ = block574200
    block = parse_block(raw)
    offset = 80 + 3
    for tx in block.transactions[:200]:
        alone = parse_transaction(raw[offset : offset + tx.size_bytes])
        assert alone == tx
        offset += tx.size_bytes


def test_segwit_tx_fields(block574200: tuple[bytes, dict[str, Any]]) -> None:
    raw, meta = block574200
    block = parse_block(raw)
    tx = next(tx for tx in block.transactions if tx.has_witness and not tx.is_coinbase)
    assert tx.txid_hex in meta["txids"] and tx.wtxid_hex in meta["wtxids"]
    assert all(len(i.prev_txid) == 32 for i in tx.inputs)
    assert any(i.witness for i in tx.inputs)
    assert all(o.value_sat >= 0 for o in tx.outputs)


def test_spv_proof_tx_parses(chain_vectors: dict[str, Any]) -> None:
    proof = chain_vectors["spv"]["proof"]
    tx = parse_transaction(bytes.fromhex(proof["tx_hex"]))
    assert tx.txid_hex == proof["txid"]
    assert tx.version == 1 and tx.locktime == 0 and len(tx.inputs) == 1
    assert [o.value_sat for o in tx.outputs] == [3092758, 546, 0]
    assert tx.inputs[0].prev_vout == 0


def test_block_170_spend_fields(chain: Any) -> None:
    tx = chain.txs["f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"].tx
    assert tx.inputs[0].outpoint == (
        "0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9",
        0,
    )
    assert [o.value_sat for o in tx.outputs] == [1_000_000_000, 4_000_000_000]
    assert tx.outputs[0].script_pubkey_hex.startswith("4104ae1a62fe09c5f51b")
    assert tx.outputs[0].script_pubkey_hex.endswith("ac")


@pytest.fixture(scope="module")
def chain_vectors() -> dict[str, Any]:
    return {"spv": json.loads((VECTORS / "spv_merkle_proof_mainnet.json").read_text("utf-8"))}


def test_mutated_block_list_is_flagged(block277647: tuple[bytes, dict[str, Any]]) -> None:
    raw, _ = block277647
    txids = parse_block(raw).txids
    root, mutated = compute_merkle_root(txids)
    assert not mutated
    # 213 txs: duplicating the last one gives the same root (CVE-2012-2459)...
    same_root, flagged = compute_merkle_root([*txids, txids[-1]])
    assert same_root == root
    # ...but Core's mutation flag catches it.
    assert flagged


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda raw: raw[:-1], "locktime"),
        (lambda raw: raw + b"\x00", "trailing"),
        (lambda raw: raw[:4] + b"\x00\x02" + raw[6:], "segwit flag"),
        (lambda raw: raw[:4] + b"\xfd\x01\x00" + raw[5:], "canonical"),
    ],
    ids=["truncated", "trailing", "bad-flag", "non-canonical"],
)
def test_malformed_transactions_raise_chain_error(
    chain_vectors: dict[str, Any], mangle: Any, message: str
) -> None:
    raw = bytes.fromhex(chain_vectors["spv"]["proof"]["tx_hex"])
    with pytest.raises(ChainError, match=message):
        parse_transaction(mangle(raw))


def test_block_without_transactions_is_refused(chain: Any) -> None:
    with pytest.raises(ChainError, match="transaction count"):
        parse_block(chain.headers[0] + b"\x00")
    assert BlockHeader.from_bytes(chain.headers[0]).hash_hex().startswith("000000000019d6")
