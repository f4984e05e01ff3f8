"""A second, deliberately plain implementation of the version-1 hashes, for the tests.

Written from ``docs/proof-of-liabilities.md`` with nothing but :mod:`hashlib`
and :mod:`hmac`, one obvious loop per level, so that the fast builder
(numpy records, forked workers) is checked against code anyone can read.
"""

from __future__ import annotations

import hashlib
import hmac


def u64(value: int) -> bytes:
    return value.to_bytes(8, "big")


def field(text: str) -> bytes:
    raw = text.encode("utf-8")
    return bytes([len(raw)]) + raw


def nonce(secret: bytes, height: int, customer_id: str) -> bytes:
    message = b"hashnation-por-v1-nonce" + u64(height) + field(customer_id)
    return hmac.new(secret, message, hashlib.sha256).digest()


def leaf(nonce_: bytes, asset: str, customer_id: str, part: int, amount: int) -> bytes:
    message = (
        b"\x00" + nonce_ + field(asset) + field(customer_id) + part.to_bytes(4, "big") + u64(amount)
    )
    return hashlib.sha256(message).digest()


def node(left: tuple[bytes, int], right: tuple[bytes, int]) -> tuple[bytes, int]:
    digest = hashlib.sha256(b"\x01" + left[0] + u64(left[1]) + right[0] + u64(right[1])).digest()
    return digest, left[1] + right[1]


def pad(level: int) -> tuple[bytes, int]:
    return hashlib.sha256(b"\x02" + bytes([level])).digest(), 0


def root(leaves: list[tuple[bytes, int]]) -> tuple[bytes, int]:
    level, number = list(leaves), 0
    while len(level) > 1:
        if len(level) % 2:
            level.append(pad(number))
        level = [node(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        number += 1
    return level[0]
