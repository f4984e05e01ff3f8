"""Private keys kept out of messages and logs: find them in text and hide them.

Nothing in HashNation ever needs a private key, yet a user may paste one where a public
key, an address or a reference is asked for. The parsers refuse it
(:class:`~hashnation.errors.PrivateKeyError`); this module makes sure that no error
message, response body or log line repeats it, whatever field it was pasted into:

- :func:`private_key_kind` names the first piece of private key material in a text:
  an extended private key (``xprv``, ``tprv``, SLIP-132 ``yprv``/``zprv``/..., or any
  Base58Check string whose 78-byte payload holds private key data), a WIF key
  (Base58Check, version 0x80 or 0xEF) or a BIP39 seed phrase (12 or more consecutive
  words of the English list);
- :func:`redact` replaces each such key in a text by :data:`KEY_NOT_SHOWN` (the whole
  text when it holds a seed phrase);
- :func:`shown_value` gives what a message may say about a value received:
  :data:`PRIVATE_KEY_NOT_SHOWN` when it holds private key material, else its ``repr``.

:class:`~hashnation.errors.HashNationError` passes every message through :func:`redact`,
and the web app's log filter (:mod:`hashnation.web.security`) every log line. The checks
are written for recall: a false match only hides a piece of text, it never refuses
anything. A 64-digit hex string (a raw private key, or a transaction id) is left alone here;
the descriptor parser refuses it where a key is expected.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any, Final
from urllib.parse import unquote_plus

__all__ = [
    "KEY_NOT_SHOWN",
    "PRIVATE_KEY_NOT_SHOWN",
    "private_key_kind",
    "redact",
    "shown_value",
]

PRIVATE_KEY_NOT_SHOWN: Final = "a private key (not shown)"
"""What a message says instead of a value holding private key material."""

KEY_NOT_SHOWN: Final = "<private key not shown>"
"""What replaces a private key inside a longer text (a log line, a message)."""

_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX: Final = {char: i for i, char in enumerate(_ALPHABET)}
_RUN: Final = re.compile(r"[1-9A-HJ-NP-Za-km-z]{50,}")
_PRV: Final = re.compile(r"[A-Za-z]prv[1-9A-HJ-NP-Za-km-z]{20,}")
_WORD: Final = re.compile(r"[A-Za-z]+")
_SEED_MIN_WORDS: Final = 12
_MAX_RUN: Final = 200
_MAX_DECODES: Final = 3  # percent-decoding rounds; "%25" nested deeper is left as it is

_EXTENDED_KEY_BYTES: Final = 78


def _b58check(run: str) -> bytes | None:
    """Decode a Base58Check string; None when it is not one (never raises)."""
    if len(run) > _MAX_RUN:
        return None
    number = 0
    for char in run:
        number = number * 58 + _INDEX[char]
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    raw = b"\x00" * (len(run) - len(run.lstrip("1"))) + body
    if len(raw) < 5:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        return None
    return payload


def _payload_kind(payload: bytes) -> str | None:
    if len(payload) == _EXTENDED_KEY_BYTES and payload[45] == 0:
        return "extended private key"
    if payload[0] in (0x80, 0xEF) and (
        len(payload) == 33 or (len(payload) == 34 and payload[33] == 1)
    ):
        return "WIF private key"
    return None


def _run_kind(run: str) -> str | None:
    """Name the kind of private key a Base58 run is, or None."""
    if _PRV.fullmatch(run):
        return "extended private key"
    payload = _b58check(run)
    return None if payload is None else _payload_kind(payload)


@lru_cache(maxsize=1)
def _bip39_words() -> frozenset[str]:
    from embit.wordlists.bip39 import WORDLIST

    return frozenset(WORDLIST)


def _has_seed_phrase(text: str) -> bool:
    words = _WORD.findall(text)
    if len(words) < _SEED_MIN_WORDS:
        return False
    known = _bip39_words()
    run = 0
    for word in words:
        run = run + 1 if word.lower() in known else 0
        if run >= _SEED_MIN_WORDS:
            return True
    return False


def private_key_kind(text: str, *, _depth: int = 0) -> str | None:
    """Name the first kind of private key material found in a text.

    Parameters
    ----------
    text
        Any text: a field's value, a message, a log line.

    Returns
    -------
    str or None
        ``"extended private key"``, ``"WIF private key"`` or ``"BIP39 seed phrase"``;
        None when the text holds none of them.
    """
    for match in _RUN.finditer(text):
        found = _run_kind(match.group())
        if found is not None:
            return found
    for match in _PRV.finditer(text):  # a key glued to other Base58 characters
        if _run_kind(match.group()) is not None:
            return "extended private key"
    if _has_seed_phrase(text):
        return "BIP39 seed phrase"
    if "%" in text and _depth < _MAX_DECODES:  # a key percent-encoded (``%28L4rK...%29``)
        decoded = unquote_plus(text)
        if decoded != text:
            return private_key_kind(decoded, _depth=_depth + 1)
    return None


def redact(text: str, *, _depth: int = 0) -> str:
    """Hide the private keys in a text.

    Parameters
    ----------
    text
        Any text.

    Returns
    -------
    str
        The text with each extended private key or WIF key replaced by
        :data:`KEY_NOT_SHOWN`; a text holding a BIP39 seed phrase is replaced whole by
        ``"<N characters not shown: they hold a BIP39 seed phrase>"``. A key found only
        once the text is percent-decoded (a URL in an access log line) is hidden in the
        decoded text. A text with none is returned unchanged (the same object).
    """
    if _has_seed_phrase(text):
        return f"<{len(text)} characters not shown: they hold a BIP39 seed phrase>"

    def hide(match: re.Match[str]) -> str:
        run = match.group()
        return KEY_NOT_SHOWN if _run_kind(run) is not None else run

    shown = _RUN.sub(hide, text)
    if _PRV.search(shown):
        shown = _PRV.sub(KEY_NOT_SHOWN, shown)
    if "%" in shown and _depth < _MAX_DECODES:  # a key percent-encoded: hide it decoded
        decoded = unquote_plus(shown)
        if decoded != shown and private_key_kind(decoded, _depth=_depth + 1) is not None:
            shown = redact(decoded, _depth=_depth + 1)
    return shown if shown != text else text


def _texts(value: Any) -> str:
    """Write a value out as text for the secret scan (containers with their repr)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    return repr(value)


def shown_value(value: Any) -> str:
    """Write a value received for a message: its ``repr``, unless it holds a private key.

    Parameters
    ----------
    value
        The value (a string, a number, a list, a mapping, ...).

    Returns
    -------
    str
        :data:`PRIVATE_KEY_NOT_SHOWN` when the value holds private key material,
        else ``repr(value)``.
    """
    if isinstance(value, bool | int | float) or value is None:
        return repr(value)
    if private_key_kind(_texts(value)) is not None:
        return PRIVATE_KEY_NOT_SHOWN
    return repr(value)
