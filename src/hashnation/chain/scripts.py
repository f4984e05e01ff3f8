"""Output scripts: addresses to ``scriptPubKey`` and the script hashes indexers use.

Chain sources index history by the locking script. A holding is named either
by an address (Base58Check P2PKH/P2SH, Bech32 SegWit v0 or Bech32m v1+) or,
for scripts without an address such as early pay-to-pubkey outputs, by the
``scriptPubKey`` in hex. :func:`resolve_script` accepts both.

* Electrum's *script hash* is ``sha256(scriptPubKey)`` shown byte-reversed
  (:func:`electrum_scripthash`).
* Esplora's ``/scripthash/:hash`` takes ``sha256(scriptPubKey)`` in plain
  (not reversed) hex (:func:`esplora_scripthash`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from hashnation.errors import InputError, PrivateKeyError

__all__ = [
    "ScriptTarget",
    "address_to_script",
    "electrum_scripthash",
    "esplora_scripthash",
    "resolve_script",
]

_EXPECTED = "a Bitcoin address (Base58Check or Bech32/Bech32m) or a scriptPubKey in hex"


def address_to_script(address: str) -> bytes:
    """Locking script (``scriptPubKey``) an address stands for.

    Decoding is the reserve pillar's
    :func:`~hashnation.reserve.descriptors.script_pubkey_from_address`: mainnet or
    testnet Base58Check P2PKH/P2SH, Bech32 SegWit v0 or Bech32m v1+ (BIP173/BIP350).

    Parameters
    ----------
    address
        The address.

    Returns
    -------
    bytes
        The ``scriptPubKey``.

    Raises
    ------
    PrivateKeyError
        If the string is private key material (it is never echoed).
    InputError
        If the address is malformed or its checksum fails.
    """
    # Imported here: the reserve pillar may use the chain package, not the reverse at import.
    from hashnation.reserve.descriptors import script_pubkey_from_address

    return bytes.fromhex(script_pubkey_from_address(address))


@dataclass(frozen=True, slots=True)
class ScriptTarget:
    """What a caller named and the script it resolves to.

    Parameters
    ----------
    label
        The string given: an address or script hex.
    script
        The ``scriptPubKey``.
    address
        The address when ``label`` was one, else ``None``.
    """

    label: str
    script: bytes
    address: str | None

    @property
    def script_hex(self) -> str:
        """The ``scriptPubKey`` in hex."""
        return self.script.hex()


def resolve_script(target: str) -> ScriptTarget:
    """Resolve an address or a ``scriptPubKey`` hex string to its script.

    An address is tried first (its checksum makes a false match practically
    impossible); otherwise the string must be non-empty hex.

    Parameters
    ----------
    target
        An address or script hex.

    Returns
    -------
    ScriptTarget
        The label, script and (when given) address.

    Raises
    ------
    PrivateKeyError
        If ``target`` is private key material (never echoed).
    InputError
        If ``target`` is neither.
    """
    if not isinstance(target, str) or not target.strip():
        raise InputError("script", target, _EXPECTED)
    text = target.strip()
    try:
        return ScriptTarget(text, address_to_script(text), text)
    except PrivateKeyError:
        raise
    except InputError:
        pass
    try:
        script = bytes.fromhex(text)
    except ValueError:
        raise InputError("script", target, _EXPECTED) from None
    if not script:
        raise InputError("script", target, _EXPECTED)
    return ScriptTarget(text, script, None)


def electrum_scripthash(script: bytes) -> str:
    """Electrum protocol script hash: ``sha256(script)`` byte-reversed, in hex.

    Parameters
    ----------
    script
        The ``scriptPubKey``.

    Returns
    -------
    str
        64 hex digits.
    """
    return hashlib.sha256(script).digest()[::-1].hex()


def esplora_scripthash(script: bytes) -> str:
    """Esplora ``/scripthash/:hash`` key: ``sha256(script)`` in plain hex.

    Parameters
    ----------
    script
        The ``scriptPubKey``.

    Returns
    -------
    str
        64 hex digits.
    """
    return hashlib.sha256(script).hexdigest()
