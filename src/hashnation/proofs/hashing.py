"""The hashes of the liabilities tree, byte for byte (format version 1).

Everything an independent verifier needs to recompute a tree is here; the
same rules are written out in ``docs/proof-of-liabilities.md``. Integers are
big-endian and unsigned: ``u8``, ``u32`` and ``u64`` are 1, 4 and 8 bytes.

Nonce (per customer and height; the custodian's ``secret`` is never published)::

    nonce = HMAC-SHA256(secret, "hashnation-por-v1-nonce" || u64(height)
                                || u8(len(id)) || id)

Leaf (one per part of a customer's balance in one asset)::

    leaf = SHA256(0x00 || nonce || u8(len(asset)) || asset
                  || u8(len(id)) || id || u32(part) || u64(amount))

Internal node, committing to both children's digests *and* both sums::

    node = SHA256(0x01 || left.digest || u64(left.sum) || right.digest || u64(right.sum))
    node.sum = left.sum + right.sum

Padding: a level with an odd number of nodes (more than one) gets one padding
node at its end, ``digest = SHA256(0x02 || u8(level))`` (level 0 holds the
leaves) and ``sum = 0``. The root is the single node of the top level.

Ranges: every amount, every node sum and so the total are integers in
``[0, 2**63 - 1]`` (:data:`MAX_AMOUNT`); a ``u64`` holds them with a bit to
spare, so no sum can wrap. ``id`` is the customer id in UTF-8 (1 to 128
bytes), ``asset`` the asset code in ASCII (2 to 12 bytes).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

__all__ = [
    "DIGEST_SIZE",
    "LEAF_PREFIX",
    "MAX_AMOUNT",
    "MAX_ID_BYTES",
    "MAX_PARTS",
    "NODE_PREFIX",
    "NONCE_TAG",
    "PAD_PREFIX",
    "NonceDeriver",
    "derive_nonce",
    "leaf_digest",
    "leaf_message",
    "node_digest",
    "pad_digest",
    "tree_depth",
]

DIGEST_SIZE: Final = 32
"""Bytes of every digest and nonce."""
MAX_AMOUNT: Final = 2**63 - 1
"""Largest amount, node sum and total [smallest unit of the asset]."""
MAX_ID_BYTES: Final = 128
"""Longest customer id, in UTF-8 bytes."""
MAX_PARTS: Final = 64
"""Most leaves one balance may be split into."""
LEAF_PREFIX: Final = b"\x00"
NODE_PREFIX: Final = b"\x01"
PAD_PREFIX: Final = b"\x02"
NONCE_TAG: Final = b"hashnation-por-v1-nonce"

_sha256 = hashlib.sha256


def _u64(value: int) -> bytes:
    return value.to_bytes(8, "big")


def _field(text: str) -> bytes:
    raw = text.encode("utf-8")
    return bytes([len(raw)]) + raw


def derive_nonce(secret: bytes, height: int, customer_id: str) -> bytes:
    """Per-customer nonce at a height: HMAC-SHA256 of the custodian's secret.

    Parameters
    ----------
    secret
        The custodian's secret key (32 bytes or more); never published.
    height
        Block height the liabilities are taken at.
    customer_id
        The customer's id.

    Returns
    -------
    bytes
        32 bytes, given to the customer with their proof.
    """
    message = NONCE_TAG + _u64(height) + _field(customer_id)
    return hmac.digest(secret, message, "sha256")


class NonceDeriver:
    """:func:`derive_nonce` for many customers at one height, twice as fast.

    HMAC's inner and outer hash states after the key block, and the inner
    state after the constant ``tag || u64(height)``, are computed once; each
    customer then costs two compressions. The result is exactly HMAC-SHA256.

    Parameters
    ----------
    secret
        The custodian's secret key.
    height
        Block height.
    """

    def __init__(self, secret: bytes, height: int) -> None:
        key = secret if len(secret) <= 64 else _sha256(secret).digest()
        key = key.ljust(64, b"\x00")
        self._inner = _sha256(bytes(b ^ 0x36 for b in key))
        self._inner.update(NONCE_TAG + _u64(height))
        self._outer = _sha256(bytes(b ^ 0x5C for b in key))

    def nonce_for_field(self, id_field: bytes) -> bytes:
        """Nonce of the customer whose id is encoded as ``u8(len(id)) || id``."""
        inner = self._inner.copy()
        inner.update(id_field)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def __call__(self, customer_id: str) -> bytes:
        """Nonce of ``customer_id`` (same as :func:`derive_nonce`)."""
        return self.nonce_for_field(_field(customer_id))


def leaf_message(nonce: bytes, asset: str, customer_id: str, part: int, amount: int) -> bytes:
    """Return the bytes whose SHA-256 is a leaf digest (see the module docstring).

    Parameters
    ----------
    nonce
        The customer's 32-byte nonce.
    asset
        Asset code.
    customer_id
        Customer id.
    part
        Which part of the balance this leaf holds (0 when not split).
    amount
        Amount of the part [smallest unit of the asset].

    Returns
    -------
    bytes
        The leaf preimage.
    """
    return (
        LEAF_PREFIX
        + nonce
        + _field(asset)
        + _field(customer_id)
        + part.to_bytes(4, "big")
        + _u64(amount)
    )


def leaf_digest(nonce: bytes, asset: str, customer_id: str, part: int, amount: int) -> bytes:
    """Digest of a leaf: SHA-256 of :func:`leaf_message`.

    Parameters
    ----------
    nonce
        The customer's 32-byte nonce.
    asset
        Asset code.
    customer_id
        Customer id.
    part
        Part number of the balance.
    amount
        Amount of the part [smallest unit of the asset].

    Returns
    -------
    bytes
        32 bytes.
    """
    return _sha256(leaf_message(nonce, asset, customer_id, part, amount)).digest()


def node_digest(left: bytes, left_sum: int, right: bytes, right_sum: int) -> bytes:
    """Digest of an internal node: both child digests and both child sums.

    Parameters
    ----------
    left, right
        Child digests, 32 bytes each.
    left_sum, right_sum
        Child sums [smallest unit of the asset], each in ``[0, MAX_AMOUNT]``.

    Returns
    -------
    bytes
        32 bytes.
    """
    return _sha256(NODE_PREFIX + left + _u64(left_sum) + right + _u64(right_sum)).digest()


def pad_digest(level: int) -> bytes:
    """Digest of the padding node closing an odd level (sum 0).

    Parameters
    ----------
    level
        Level of the tree, 0 for the leaves.

    Returns
    -------
    bytes
        32 bytes.
    """
    return _sha256(PAD_PREFIX + bytes([level])).digest()


def tree_depth(leaf_count: int) -> int:
    """Levels above the leaves: ``ceil(log2(leaf_count))``, 0 for one leaf.

    Parameters
    ----------
    leaf_count
        Number of leaves (>= 1).

    Returns
    -------
    int
        Length of every inclusion path.
    """
    return (leaf_count - 1).bit_length()
