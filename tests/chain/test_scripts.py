"""Addresses to scripts (BIP173/BIP350 vectors, real mainnet keys) and script hashes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from hashnation.chain.scripts import (
    address_to_script,
    electrum_scripthash,
    esplora_scripthash,
    resolve_script,
)
from hashnation.errors import InputError, PrivateKeyError

HAL_PUBKEY = (
    "04ae1a62fe09c5f51b13905f07f06b99a2f7159b2225f374cd378d71302fa28414e7aab37397f554a7"
    "df5f142c21c1b7303b8a0626f1baded5c72a704f7e6cd84c"
)


def _hash160(data: bytes) -> bytes:
    try:
        ripemd = hashlib.new("ripemd160")
    except ValueError:  # pragma: no cover - OpenSSL builds without RIPEMD-160
        pytest.skip("hashlib has no ripemd160 here")
    ripemd.update(hashlib.sha256(data).digest())
    return ripemd.digest()


VECTORS = Path(__file__).resolve().parents[1] / "vectors"
BIP173 = json.loads((VECTORS / "bip173_bech32.json").read_text("utf-8"))
BIP350 = json.loads((VECTORS / "bip350_bech32m.json").read_text("utf-8"))
VALID = [v for v in BIP350["valid_segwit_addresses"]] + [
    v for v in BIP173["valid_segwit_addresses"] if v["valid_under_bip350"]
]
INVALID = [v["address"] for v in BIP350["invalid_segwit_addresses"]]
INVALID += [v["address"] for v in BIP173["invalid_segwit_addresses"]]
INVALID += [v["address"] for v in BIP173["valid_segwit_addresses"] if not v["valid_under_bip350"]]


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v["address"][:16])
def test_bip173_bip350_valid_addresses(vector: dict[str, Any]) -> None:
    assert address_to_script(vector["address"]).hex() == vector["scriptPubKey"].lower()


@pytest.mark.parametrize("address", INVALID)
def test_bip173_bip350_invalid_addresses(address: str) -> None:
    with pytest.raises(InputError, match="address"):
        address_to_script(address)


def test_genesis_pubkey_address(chain: Any) -> None:
    # The genesis coinbase pays a pubkey whose P2PKH address is 1A1zP1eP5...
    coinbase = chain.txs[chain.block_txids[0][0][::-1].hex()].tx
    pubkey = coinbase.outputs[0].script_pubkey[1:-1]
    script = address_to_script("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
    assert script == b"\x76\xa9\x14" + _hash160(pubkey) + b"\x88\xac"


def test_hal_finney_address() -> None:
    script = address_to_script("1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3")
    assert script == b"\x76\xa9\x14" + _hash160(bytes.fromhex(HAL_PUBKEY)) + b"\x88\xac"


def test_p2sh_address_shape() -> None:
    script = address_to_script("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy")
    assert script[:2] == b"\xa9\x14" and script[-1:] == b"\x87" and len(script) == 23


@pytest.mark.parametrize(
    "address",
    [
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7Kv8f3t4",  # mixed case
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",  # Base58Check checksum
        "",
    ],
)
def test_invalid_addresses(address: str) -> None:
    with pytest.raises(InputError, match="address"):
        address_to_script(address)


def test_resolve_script_accepts_address_or_hex() -> None:
    p2pk = "41" + HAL_PUBKEY + "ac"
    resolved = resolve_script(p2pk)
    assert resolved.address is None and resolved.script_hex == p2pk
    resolved = resolve_script("1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3")
    assert resolved.address == "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3"
    for bad in ("", "zz", "not an address", 5):
        with pytest.raises(InputError, match="script"):
            resolve_script(bad)  # type: ignore[arg-type]


def test_script_hashes() -> None:
    script = bytes.fromhex("41" + HAL_PUBKEY + "ac")
    digest = hashlib.sha256(script).digest()
    assert electrum_scripthash(script) == digest[::-1].hex()
    assert esplora_scripthash(script) == digest.hex()


def test_private_key_is_refused_and_not_echoed() -> None:
    wif = "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ"  # the Bitcoin wiki's example
    with pytest.raises(PrivateKeyError) as info:
        resolve_script(wif)
    assert wif not in str(info.value)


@pytest.mark.parametrize(
    "script",
    [
        "0014751e76e8199196d454941c45d1b3a323f1433bd6",
        "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
        "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
        "76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac",
    ],
)
def test_script_hex_is_taken_as_script(script: str) -> None:
    assert resolve_script(script).script_hex == script
