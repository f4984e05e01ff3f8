"""The version-1 hashes, byte for byte, against the plain reference implementation."""

from __future__ import annotations

import hashlib
import hmac
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hashnation.proofs.hashing import (
    MAX_AMOUNT,
    NonceDeriver,
    derive_nonce,
    leaf_digest,
    leaf_message,
    node_digest,
    pad_digest,
    tree_depth,
)

IDS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@+-",
    min_size=1,
    max_size=128,
)


def test_leaf_preimage_layout() -> None:
    nonce = bytes(range(32))
    message = leaf_message(nonce, "BTC", "alice", 3, 150_000_000)
    assert message == (
        b"\x00"
        + nonce
        + b"\x03BTC"
        + b"\x05alice"
        + b"\x00\x00\x00\x03"
        + (150_000_000).to_bytes(8, "big")
    )
    assert leaf_digest(nonce, "BTC", "alice", 3, 150_000_000) == hashlib.sha256(message).digest()


def test_node_commits_to_both_sums() -> None:
    left, right = b"\x11" * 32, b"\x22" * 32
    expected = hashlib.sha256(
        b"\x01" + left + (5).to_bytes(8, "big") + right + (7).to_bytes(8, "big")
    ).digest()
    assert node_digest(left, 5, right, 7) == expected
    # Same parent total, other split between the children: another digest.
    assert node_digest(left, 4, right, 8) != expected
    assert node_digest(right, 7, left, 5) != expected  # order matters


def test_padding_and_depth() -> None:
    assert pad_digest(0) == hashlib.sha256(b"\x02\x00").digest()
    assert pad_digest(5) != pad_digest(6)
    assert [tree_depth(n) for n in (1, 2, 3, 4, 5, 8, 9, 2**20, 2**20 + 1)] == [
        0,
        1,
        2,
        2,
        3,
        3,
        4,
        20,
        21,
    ]


@given(secret=st.binary(min_size=32, max_size=100), height=st.integers(0, 2**31 - 1), cid=IDS)
def test_nonce_is_hmac_sha256(secret: bytes, height: int, cid: str) -> None:
    message = (
        b"hashnation-por-v1-nonce" + height.to_bytes(8, "big") + bytes([len(cid)]) + cid.encode()
    )
    expected = hmac.new(secret, message, hashlib.sha256).digest()
    assert derive_nonce(secret, height, cid) == expected
    # The mid-state shortcut the builder uses gives exactly HMAC-SHA256.
    assert NonceDeriver(secret, height)(cid) == expected


@given(
    nonce=st.binary(min_size=32, max_size=32),
    asset=st.sampled_from(["BTC", "USDT", "USDC"]),
    cid=IDS,
    part=st.integers(0, 63),
    amount=st.integers(0, MAX_AMOUNT),
)
def test_leaf_matches_reference(
    reference: ModuleType, nonce: bytes, asset: str, cid: str, part: int, amount: int
) -> None:
    assert leaf_digest(nonce, asset, cid, part, amount) == reference.leaf(
        nonce, asset, cid, part, amount
    )


@pytest.mark.parametrize("secret", [b"k" * 32, b"k" * 64, b"k" * 65, b"k" * 200])
def test_long_and_block_sized_keys(secret: bytes) -> None:
    # HMAC hashes keys longer than the block; the mid-state code must do the same.
    assert NonceDeriver(secret, 7)("bob") == derive_nonce(secret, 7, "bob")
