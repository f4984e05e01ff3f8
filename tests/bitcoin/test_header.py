"""Block headers: parsing, serialisation, hashing and proof of work on real mainnet headers."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from hashnation.bitcoin.difficulty import compact_to_target
from hashnation.bitcoin.header import HEADER_SIZE_BYTES, BlockHeader, double_sha256
from hashnation.errors import ConsensusError

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text("utf-8"))


GENESIS: dict[str, Any] = _load("consensus_facts.json")["genesis_block_mainnet"]
BITCOINJS: dict[str, Any] = _load("chain/bitcoinjs_block_fixtures_mainnet.json")
BTCD: dict[str, Any] = _load("chain/btcd_blocks_1_255_mainnet.json")


def _genesis_from_fields() -> BlockHeader:
    # Fields as Bitcoin Core's CreateGenesisBlock gives them; hashes are quoted in display order.
    return BlockHeader(
        version=GENESIS["version"],
        prev_block_hash=bytes.fromhex(GENESIS["hashPrevBlock"])[::-1],
        merkle_root=bytes.fromhex(GENESIS["hashMerkleRoot"])[::-1],
        time=GENESIS["nTime"],
        bits=int(GENESIS["nBits"], 16),
        nonce=GENESIS["nNonce"],
    )


def test_genesis_header_from_core_fields() -> None:
    header = _genesis_from_fields()
    assert header.serialize().hex() == GENESIS["header_hex"]
    assert header.hash_hex() == GENESIS["hash"]
    assert header.hash() == bytes.fromhex(GENESIS["hash"])[::-1]
    assert header.check_pow()
    assert header.target() == compact_to_target(0x1D00FFFF)


def test_genesis_header_parsed_from_hex() -> None:
    header = BlockHeader.from_hex(GENESIS["header_hex"])
    assert header == _genesis_from_fields()
    assert header.merkle_root[::-1].hex() == GENESIS["hashMerkleRoot"]


def test_genesis_coinbase_hashes_to_merkle_root() -> None:
    # bitcoinjs' genesis fixture holds the whole block: header, tx count 0x01, coinbase tx.
    block = next(b for b in BITCOINJS["blocks"] if b["fixture"]["height"] == 0)["fixture"]
    raw = bytes.fromhex(block["hex"])
    assert raw[HEADER_SIZE_BYTES] == 1
    coinbase = raw[HEADER_SIZE_BYTES + 1 :]
    assert double_sha256(coinbase)[::-1].hex() == GENESIS["hashMerkleRoot"]
    assert double_sha256(raw[:HEADER_SIZE_BYTES])[::-1].hex() == GENESIS["hash"]


@pytest.mark.parametrize(
    "block", [b["fixture"] for b in BITCOINJS["blocks"]], ids=lambda b: str(b["height"])
)
def test_bitcoinjs_mainnet_headers(block: dict[str, Any]) -> None:
    raw = bytes.fromhex(block["hex"])[:HEADER_SIZE_BYTES]
    header = BlockHeader.from_bytes(raw)
    assert header.serialize() == raw
    assert header.version == block["version"]
    assert header.prev_block_hash.hex() == block["prevHash"]  # fixture: internal order
    assert header.merkle_root.hex() == block["merkleRoot"]
    assert header.time == block["timestamp"]
    assert header.bits == block["bits"]
    assert header.nonce == block["nonce"]
    assert header.hash().hex() == block["hash"]
    assert header.hash_hex() == block["id"]
    assert header.check_pow()


def test_btcd_blocks_link_and_pass_pow() -> None:
    blocks = BTCD["blocks"]
    assert [b["height"] for b in blocks] == list(range(1, 256))
    previous_hash = GENESIS["hash"]
    for block in blocks:
        header = BlockHeader.from_hex(block["block_hex"][: 2 * HEADER_SIZE_BYTES])
        assert header.prev_block_hash[::-1].hex() == previous_hash == block["prev_block_hash"]
        assert header.hash_hex() == block["block_hash"], block["height"]
        assert header.merkle_root[::-1].hex() == block["merkle_root"]
        assert (header.time, header.bits, header.nonce, header.version) == (
            block["time"],
            block["nbits"],
            block["nonce"],
            block["version"],
        )
        assert header.check_pow(), block["height"]
        previous_hash = header.hash_hex()


def test_serialize_round_trips_every_vector_header() -> None:
    hexes = [GENESIS["header_hex"]]
    hexes += [b["block_hex"][: 2 * HEADER_SIZE_BYTES] for b in BTCD["blocks"]]
    hexes += [c["header_hex"] for c in _load("chain/bitcoinj_checkpoints_mainnet.json")]
    for vector in _load("chain/retarget_mainnet.json")["retarget_vectors"]:
        hexes += [vector[key]["header_hex"] for key in vector if key.endswith("period")]
    assert len(hexes) == 1 + 255 + 436 + 27
    for header_hex in hexes:
        header = BlockHeader.from_hex(header_hex)
        assert header.serialize().hex() == header_hex
        assert BlockHeader.from_bytes(header.serialize()) == header


def test_changed_nonce_fails_pow() -> None:
    # As bitcoinjs' deliberately broken fixture: a real header with another nonce.
    header = _genesis_from_fields()
    changed = dataclasses.replace(header, nonce=header.nonce + 1)
    assert changed.hash_hex() != GENESIS["hash"]
    assert not changed.check_pow()


def test_check_pow_refuses_bad_bits() -> None:
    header = _genesis_from_fields()
    assert not dataclasses.replace(header, bits=0x1D80FFFF).check_pow()  # sign bit
    assert not dataclasses.replace(header, bits=0xFF123456).check_pow()  # overflow
    assert not dataclasses.replace(header, bits=0x1D000000).check_pow()  # zero target
    assert not dataclasses.replace(header, bits=0x207FFFFF).check_pow()  # above mainnet powLimit
    easy = dataclasses.replace(header, bits=0x207FFFFF)  # regtest-style bits, new hash
    assert easy.check_pow(pow_limit=2**256 - 1) == (
        int(easy.hash_hex(), 16) <= compact_to_target(0x207FFFFF)
    )
    with pytest.raises(ConsensusError, match="bits"):
        dataclasses.replace(header, bits=0x1D80FFFF).target()


@pytest.mark.parametrize("length", [0, 1, 79, 81, 160])
def test_bad_length_raises(length: int) -> None:
    with pytest.raises(ConsensusError) as excinfo:
        BlockHeader.from_bytes(bytes(length))
    assert excinfo.value.field == "raw"
    assert "80 bytes" in str(excinfo.value)


@pytest.mark.parametrize(
    "header_hex", ["", "zz" * 80, GENESIS["header_hex"][:-2], GENESIS["header_hex"] + "00"]
)
def test_bad_hex_raises(header_hex: str) -> None:
    with pytest.raises(ConsensusError):
        BlockHeader.from_hex(header_hex)


def test_from_bytes_rejects_non_bytes() -> None:
    with pytest.raises(ConsensusError, match="raw"):
        BlockHeader.from_bytes(GENESIS["header_hex"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("version", 2**31),
        ("version", -(2**31) - 1),
        ("prev_block_hash", bytes(31)),
        ("merkle_root", bytes(33)),
        ("merkle_root", "00" * 32),
        ("time", -1),
        ("bits", 2**32),
        ("nonce", 1.0),
        ("nonce", True),
    ],
)
def test_constructor_checks_fields(field: str, value: Any) -> None:
    with pytest.raises(ConsensusError) as excinfo:
        dataclasses.replace(_genesis_from_fields(), **{field: value})
    assert excinfo.value.field == field


def test_header_is_frozen() -> None:
    header = _genesis_from_fields()
    with pytest.raises(dataclasses.FrozenInstanceError):
        header.nonce = 0  # type: ignore[misc]


def test_negative_version_round_trips() -> None:
    # nVersion is a signed int32 in Bitcoin Core.
    header = dataclasses.replace(_genesis_from_fields(), version=-1)
    raw = header.serialize()
    assert raw[:4] == b"\xff\xff\xff\xff"
    assert BlockHeader.from_bytes(raw).version == -1
