"""Canonical JSON: one byte string per document, so that digests agree everywhere.

A document is serialised as RFC 8785 (JSON Canonicalization Scheme) restricted
to the values the proof formats use: objects, arrays, strings, integers,
booleans and null, never floats (amounts are decimal strings, ratios too).
For that subset RFC 8785 is what :func:`json.dumps` writes with

* keys sorted (all keys are ASCII, so code point and UTF-16 order agree);
* no whitespace: ``","`` and ``":"`` separators;
* non-ASCII characters written as themselves, in UTF-8.

:func:`canonical_json` refuses floats and non-string keys instead of writing
something another implementation would write differently.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hashnation.proofs.errors import ProofInputError

__all__ = ["canonical_json", "sha256_hex"]


def _check(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ProofInputError(f"{where} key", key, "a string key")
            _check(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check(item, f"{where}[{i}]")
    elif isinstance(value, float):
        raise ProofInputError(where, value, "no float in canonical JSON (use a decimal string)")
    elif value is not None and not isinstance(value, str | int | bool):
        raise ProofInputError(where, type(value).__name__, "a JSON value")


def canonical_json(document: Any) -> bytes:
    """Serialise a JSON document canonically (RFC 8785 for strings, integers, no floats).

    Parameters
    ----------
    document
        Objects, arrays, strings, integers, booleans and null.

    Returns
    -------
    bytes
        UTF-8 text, keys sorted, no insignificant whitespace, no trailing newline.

    Raises
    ------
    ProofInputError
        If the document holds a float, a non-string key or a non-JSON value.
    """
    _check(document, "$")
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """SHA-256 of some bytes, as 64 lower-case hex digits.

    Parameters
    ----------
    data
        The bytes.

    Returns
    -------
    str
        The digest in hex.
    """
    return hashlib.sha256(data).hexdigest()
