"""Watch-only wallets from output script descriptors (BIP380-386, BIP387 leaves, BIP389).

A descriptor such as ``wsh(sortedmulti(2,xpub.../0/*,xpub.../0/*,xpub.../0/*))`` names every
address of a wallet without holding any private key. This module parses such descriptors,
derives their addresses and scans them with a gap limit, so that the reserve can be watched
from public information only.

Why embit
---------
Descriptor parsing, BIP32 public derivation, script construction and Bech32/Bech32m coding
come from `embit <https://github.com/diybitcoinhardware/embit>`_. It is pure Python with an
optional bundled libsecp256k1 (loaded through ctypes, with a pure-Python fallback), small,
without runtime dependencies, and implements BIP380-386 descriptors and BIP32. What embit
accepts but the BIPs do not (capital ``H`` hardened markers, trailing ``/`` in key origins,
uncompressed keys under segwit or taproot, oversize P2SH scripts, multipath tuples of different
lengths, unknown address prefixes) is checked here before or after embit parses.

Watch-only, always
------------------
Private key material is refused wherever it appears, *before* anything is parsed, so that
no object derived from a secret is ever built: extended private keys (``xprv``, ``tprv`` and
SLIP-132 variants, or any extended key whose key data is private), WIF keys, 64-digit hex
strings outside ``tr()`` (raw private keys) and BIP39 seed phrases (12 or more consecutive
words from the English list). The error is :class:`~hashnation.errors.PrivateKeyError`, whose
message never repeats the secret. Other errors show the text received, but with long strings
that are not public keys, and texts holding BIP39 words, left out.

A 64-digit hex string inside ``tr()`` is an x-only public key by the grammar and is accepted;
a raw private key placed there cannot be told apart from one.

Supported forms
---------------
========================  ============================================================
``kind``                  descriptor
========================  ============================================================
``pkh``                   ``pkh(KEY)``
``wpkh``                  ``wpkh(KEY)``
``sh-wpkh``               ``sh(wpkh(KEY))``
``sh-multi`` ...          ``sh(multi|sortedmulti|pk|pkh(...))``
``wsh-multi`` ...         ``wsh(multi|sortedmulti|pk|pkh(...))``
``sh-wsh-multi`` ...      ``sh(wsh(multi|sortedmulti|pk|pkh(...)))``
``tr``                    ``tr(KEY)``, key path only
``tr-tree``               ``tr(KEY,TREE)``, leaves ``pk``, ``multi_a``, ``sortedmulti_a``
``wsh-miniscript``        ``wsh(MINISCRIPT)``, only with ``allow_miniscript=True``
``sh-wsh-miniscript``     ``sh(wsh(MINISCRIPT))``, only with ``allow_miniscript=True``
========================  ============================================================

``KEY`` is a hex public key (x-only in ``tr()``), or an ``xpub``/``tpub`` with an optional
``[fingerprint/path]`` origin, unhardened steps, at most one BIP389 ``/<a;b;...>`` step and an
optional final ``/*``. Hardened steps after an extended public key cannot be derived without
the private key and are refused; give the ``xpub`` at the last hardened level instead.
Top-level ``pk()``, ``multi()``, ``combo()``, ``raw()`` and ``addr()`` are not supported.
Other miniscript inside ``wsh()`` (for instance a 2-of-3 with a timelocked recovery key,
``wsh(or_d(multi(2,A,B,C),and_v(v:pkh(R),older(52560))))``) is refused unless the caller
asks for it with ``allow_miniscript=True``: the custody module can build and finalize spends
of such scripts, other consumers of this module may not. Hash locks (``sha256(H)`` ...) stay
refused either way, because their 64-digit hex argument cannot be told from a raw private key.

The network (``"main"`` or ``"test"``) follows the extended keys' version bytes (``xpub`` or
``tpub``); a descriptor with hex keys only is mainnet unless ``network="test"`` is given.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from embit import base58, bech32, bip32, ec
from embit.descriptor import Descriptor
from embit.descriptor.arguments import AllowedDerivation, KeyOrigin
from embit.descriptor.checksum import checksum as _embit_checksum
from embit.descriptor.miniscript import Miniscript
from embit.networks import NETWORKS
from embit.script import Script
from embit.wordlists.bip39 import WORDLIST

from hashnation.errors import DescriptorError, InputError, PrivateKeyError

__all__ = [
    "DEFAULT_GAP_LIMIT",
    "KINDS",
    "MAX_DESCRIPTOR_CHARS",
    "DerivedAddress",
    "Network",
    "ReserveDescriptors",
    "WatchDescriptor",
    "derive_addresses",
    "descriptor_checksum",
    "parse_descriptor",
    "scan_with_gap_limit",
    "script_pubkey_from_address",
    "verify_checksum",
    "xpub_from_slip132",
]

Network = Literal["main", "test"]
"""Bitcoin network of a descriptor: ``"main"`` (xpub, ``bc1``) or ``"test"`` (tpub, ``tb1``)."""

DEFAULT_GAP_LIMIT: Final[int] = 20
"""Consecutive unused addresses after which a scan stops (BIP44 "address gap limit")."""

MAX_DESCRIPTOR_CHARS: Final[int] = 20_000
"""Longest descriptor text accepted [characters]."""

KINDS: Final[frozenset[str]] = frozenset(
    {"pkh", "wpkh", "sh-wpkh", "tr", "tr-tree"}
    | {
        f"{prefix}-{op}"
        for prefix in ("sh", "wsh", "sh-wsh")
        for op in ("multi", "sortedmulti", "pk", "pkh")
    }
    | {"wsh-miniscript", "sh-wsh-miniscript"}
)
"""Every value :attr:`WatchDescriptor.kind` can take."""

_HARDENED: Final = 0x8000_0000
_FIELD: Final = "descriptor"
_SUPPORTED: Final = (
    "a supported descriptor: pkh(KEY), wpkh(KEY), sh(wpkh(KEY)), "
    "sh(...), wsh(...) or sh(wsh(...)) around multi(), sortedmulti(), pk() or pkh(), "
    "or tr(KEY) with an optional tree of pk(), multi_a() and sortedmulti_a() leaves"
)

# BIP380 checksum alphabets.
_INPUT_CHARSET: Final = (
    "0123456789()[],'/*abcdefgh@:$%{}"
    "IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~"
    'ijklmnopqrstuvwxyzABCDEFGH`#"\\ '
)
_CHECKSUM_CHARSET: Final = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_INPUT_CHARS: Final = frozenset(_INPUT_CHARSET)

_BASE58: Final = frozenset("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_WORDS: Final = frozenset(WORDLIST)
_SEED_MIN_WORDS: Final = 12
_WORDS_NOT_SHOWN: Final = 3
_LONG_RUN: Final = 40
_SHOWN_CHARS: Final = 400

_RUN = re.compile(r"[0-9A-Za-z]+")
_RUN_OR_PAREN = re.compile(r"[0-9A-Za-z_]+|[()]")
_PRV_TEXT = re.compile(r"[A-Za-z]prv[1-9A-HJ-NP-Za-km-z]{40,}")
_STEP = re.compile(r"([0-9]{1,10})([h']?)")
_FINGERPRINT = re.compile(r"[0-9a-fA-F]{8}")

_SCRIPT_OPS: Final = frozenset({"multi", "sortedmulti", "pk", "pkh"})
_LEAF_OPS: Final = frozenset({"pk", "multi_a", "sortedmulti_a"})
_MAX_MULTI_KEYS_WSH: Final = 20  # MAX_PUBKEYS_PER_MULTISIG
_MAX_MULTI_KEYS_SH: Final = 16  # OP_16, and 520 bytes of redeem script
_MAX_MULTI_A_KEYS: Final = 999  # MAX_PUBKEYS_PER_MULTI_A
_MAX_P2SH_SCRIPT_BYTES: Final = 520  # MAX_SCRIPT_ELEMENT_SIZE
_MAX_TAPTREE_DEPTH: Final = 128  # TAPROOT_CONTROL_MAX_NODE_COUNT

_XPUB_VERSIONS: Final[dict[bytes, Network]] = {
    NETWORKS["main"]["xpub"]: "main",
    NETWORKS["test"]["xpub"]: "test",
}
_SLIP132_PUB: Final = ("xpub", "ypub", "zpub", "Ypub", "Zpub")
_NETWORK_NAMES: Final[tuple[Network, ...]] = ("main", "test")


# --------------------------------------------------------------------------- secrets


def _b58check(run: str) -> bytes | None:
    """Decode base58check, or None; never raises (the error text could hold key bytes)."""
    if len(run) > 120 or not set(run) <= _BASE58:
        return None
    try:
        payload = base58.decode_check(run)
    except Exception:
        return None
    return bytes(payload)


def _run_secret_kind(run: str, *, in_tr: bool) -> str | None:
    """Name the kind of secret an alphanumeric run is, or None if it looks public."""
    n = len(run)
    if n == 64 and set(run) <= _HEX:
        return None if in_tr else "64-digit hex string (raw private key)"
    if n == 66 and run[:2] in ("0x", "0X") and set(run[2:]) <= _HEX:
        return "hex private key"
    if _PRV_TEXT.search(run):
        return "extended private key"
    if set(run) <= _BASE58:
        if n in (51, 52) and run[0] in "5KL9c":
            return "WIF private key"
        if n >= _LONG_RUN:
            payload = _b58check(run)
            if payload is not None:
                if len(payload) == 78 and payload[45] == 0:
                    return "extended private key"
                if (
                    len(payload) in (33, 34)
                    and payload[0] in (0x80, 0xEF)
                    and (len(payload) == 33 or payload[33] == 1)
                ):
                    return "WIF private key"
    return None


def _seed_word_run(text: str) -> int:
    """Longest run of consecutive BIP39 English words (numbers between them are skipped)."""
    best = current = 0
    for token in _RUN.findall(text):
        if token.isdigit():
            continue
        if token.lower() in _WORDS:
            current += 1
            best = max(best, current)
        else:
            current = 0
    return best


def _secret_kind(text: str) -> str | None:
    """Name the first kind of private key material found in ``text``, or None."""
    if _seed_word_run(text) >= _SEED_MIN_WORDS:
        return "BIP39 seed phrase"
    stack: list[str] = []
    previous = ""
    for match in _RUN_OR_PAREN.finditer(text):
        token = match.group()
        if token == "(":
            stack.append(previous)
        elif token == ")":
            if stack:
                stack.pop()
        else:
            kind = _run_secret_kind(token, in_tr="tr" in stack)
            if kind is not None:
                return kind
        previous = token
    return None


def _refuse_secrets(text: str, field_name: str) -> None:
    kind = _secret_kind(text)
    if kind is not None:
        raise PrivateKeyError(field_name, kind)


def _is_public_xkey(run: str) -> bool:
    payload = _b58check(run)
    return payload is not None and len(payload) == 78 and payload[45] in (2, 3)


def _shown(text: str, *, words_hidden: bool = True) -> str:
    """``text`` as it may appear in a message: long non-key strings and seed words left out.

    With ``words_hidden`` (for text received), a text holding several BIP39 words is not
    shown at all: it may be a seed phrase with a typo.
    """
    if words_hidden:
        words = sum(1 for token in _RUN.findall(text) if token.lower() in _WORDS)
        if words >= _WORDS_NOT_SHOWN:
            return f"<{len(text)} characters not shown: they include words from the BIP39 list>"

    def keep_or_hide(match: re.Match[str]) -> str:
        run = match.group()
        if len(run) < _LONG_RUN or set(run) <= _HEX or _is_public_xkey(run):
            return run
        return f"<{len(run)}-character string not shown>"

    shown = _RUN.sub(keep_or_hide, text)
    if len(shown) > _SHOWN_CHARS:
        shown = f"{shown[:_SHOWN_CHARS]}... ({len(text)} characters)"
    return shown


def _reason(exc: Exception) -> str:
    """Give embit's error text for a message (``from None`` keeps its traceback out)."""
    return _shown(str(exc) or type(exc).__name__, words_hidden=False)


# --------------------------------------------------------------------------- checksum


def descriptor_checksum(body: str, *, field_name: str = _FIELD) -> str:
    """Compute the BIP380 checksum of a descriptor without ``#checksum``.

    Parameters
    ----------
    body
        Descriptor text, without the ``#`` and checksum.
    field_name
        Name of the field in error messages.

    Returns
    -------
    str
        The 8-character checksum.

    Raises
    ------
    DescriptorError
        If ``body`` holds a character outside the BIP380 input character set.
    """
    bad = sorted({ch for ch in body if ch not in _INPUT_CHARS})
    if bad:
        raise DescriptorError(
            field_name,
            _shown(body),
            f"characters from the BIP380 descriptor character set (not {''.join(bad)!r})",
        )
    return str(_embit_checksum(body))


def verify_checksum(text: str, *, field_name: str = _FIELD) -> str:
    """Check the ``#checksum`` of a descriptor, if it has one, and return the descriptor body.

    A descriptor without ``#`` is accepted as it is (the checksum is optional on input).

    Parameters
    ----------
    text
        Descriptor, with or without ``#checksum``.
    field_name
        Name of the field in error messages.

    Returns
    -------
    str
        ``text`` without the ``#`` and checksum.

    Raises
    ------
    DescriptorError
        If the checksum is empty, not 8 characters from the checksum alphabet, or not the
        checksum of the body; the message gives the checksum received and the one expected.
    PrivateKeyError
        If ``text`` holds private key material.
    """
    _refuse_secrets(text, field_name)
    if "#" not in text:
        descriptor_checksum(text, field_name=field_name)
        return text
    body, given = text.split("#", 1)
    if len(given) != 8 or not set(given) <= set(_CHECKSUM_CHARSET):
        raise DescriptorError(
            field_name,
            _shown(text),
            f"8 checksum characters from {_CHECKSUM_CHARSET!r} after '#', got {given!r}",
        )
    expected = descriptor_checksum(body, field_name=field_name)
    if given != expected:
        raise DescriptorError(
            field_name,
            given,
            f"checksum {expected!r}, the BIP380 checksum of {_shown(body)!r}",
        )
    return body


# --------------------------------------------------------------------------- key expressions


def _bad_key(token: str, field_name: str, why: str) -> DescriptorError:
    return DescriptorError(field_name, _shown(token), f"a key expression with {why}")


def _path_index(step: str, token: str, field_name: str, *, hardened_ok: bool) -> int:
    match = _STEP.fullmatch(step)
    if match is None:
        raise _bad_key(
            token, field_name, f"steps NUM, NUMh or NUM' (NUM a decimal < 2^31), not {step!r}"
        )
    index = int(match.group(1))
    if index >= _HARDENED:
        raise _bad_key(token, field_name, f"step indices below 2^31, not {step!r}")
    if match.group(2):
        if not hardened_ok:
            raise _bad_key(
                token,
                field_name,
                f"unhardened steps after the key, not {step!r} (hardened derivation needs "
                "the private key: give the xpub at the last hardened level)",
            )
        index += _HARDENED
    return index


def _check_key_expression(token: str, field_name: str) -> int:
    """Check a key expression's origin and path; return its multipath tuple length (0: none)."""
    rest = token
    if rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            raise _bad_key(token, field_name, "a key origin closed by ']'")
        fingerprint, *origin_steps = rest[1:end].split("/")
        if _FINGERPRINT.fullmatch(fingerprint) is None:
            raise _bad_key(token, field_name, "an 8-hex-digit fingerprint in the key origin")
        for step in origin_steps:
            _path_index(step, token, field_name, hardened_ok=True)
        rest = rest[end + 1 :]
    if "[" in rest or "]" in rest:
        raise _bad_key(token, field_name, "at most one key origin, before the key")
    key, *steps = rest.split("/")
    if not key or not key.isalnum():
        raise _bad_key(token, field_name, "a public key after the key origin")
    tuple_len = 0
    for position, step in enumerate(steps):
        if step.startswith("<"):
            if not step.endswith(">"):
                raise _bad_key(token, field_name, "a multipath step closed by '>'")
            if tuple_len:
                raise _bad_key(token, field_name, "at most one multipath step")
            items = step[1:-1].split(";")
            if len(items) < 2:
                raise _bad_key(token, field_name, "at least two indices in a multipath step")
            values = [_path_index(i, token, field_name, hardened_ok=False) for i in items]
            if len(set(values)) != len(values):
                raise _bad_key(token, field_name, "distinct indices in a multipath step")
            tuple_len = len(items)
        elif step.startswith("*"):
            if step != "*":
                raise _bad_key(
                    token, field_name, "unhardened children '/*' (hardened needs the private key)"
                )
            if position != len(steps) - 1:
                raise _bad_key(token, field_name, "'/*' only as the last step")
        else:
            _path_index(step, token, field_name, hardened_ok=False)
    return tuple_len


def _check_key_expressions(body: str, field_name: str) -> None:
    parts = re.split(r"([(),{}])", body)
    tuple_lengths: set[int] = set()
    for position, token in enumerate(parts):
        if not token or token in "(),{}":
            continue
        following = parts[position + 1] if position + 1 < len(parts) else ""
        if following == "(" or token.isdigit():
            continue  # a function name or a threshold
        tuple_len = _check_key_expression(token, field_name)
        if tuple_len:
            tuple_lengths.add(tuple_len)
    if len(tuple_lengths) > 1:
        raise DescriptorError(
            field_name,
            _shown(body),
            f"multipath steps of one length in every key (BIP389), not {sorted(tuple_lengths)}",
        )


# --------------------------------------------------------------------------- structure


def _threshold(ms: Any, field_name: str, shown: str, max_keys: int) -> None:
    name = type(ms).NAME
    k = int(ms.args[0].num)
    keys = ms.args[1:]
    if not 1 <= k <= len(keys) <= max_keys:
        raise DescriptorError(
            field_name,
            shown,
            f"{name}(k, ...) with 1 <= k <= n <= {max_keys} keys, not k={k}, n={len(keys)}",
        )
    if len({str(key) for key in keys}) != len(keys):
        raise DescriptorError(field_name, shown, f"distinct keys in {name}()")


def _check_leaf(ms: Any, field_name: str, shown: str) -> None:
    name = getattr(type(ms), "NAME", "")
    if name not in _LEAF_OPS or any(isinstance(arg, Miniscript) for arg in ms.args):
        raise DescriptorError(
            field_name, shown, f"tr() leaves pk(), multi_a() or sortedmulti_a(), not {name}()"
        )
    if name != "pk":
        _threshold(ms, field_name, shown, _MAX_MULTI_A_KEYS)


def _check_tree(tree: Any, depth: int, field_name: str, shown: str) -> None:
    if depth > _MAX_TAPTREE_DEPTH:
        raise DescriptorError(field_name, shown, f"a tr() tree at most {_MAX_TAPTREE_DEPTH} deep")
    node = tree.tree
    if node is None:
        return
    if isinstance(node, tuple):
        for child in node:
            _check_tree(child, depth + 1, field_name, shown)
    else:
        _check_leaf(node.miniscript, field_name, shown)


def _kind(emb: Any, field_name: str, shown: str, *, allow_miniscript: bool = False) -> str:
    if emb.taproot:
        _check_tree(emb.taptree, 0, field_name, shown)
        return "tr-tree" if emb.taptree else "tr"
    if emb.miniscript is None:
        if emb.wpkh:
            return "sh-wpkh" if emb.sh else "wpkh"
        return "pkh"
    ms = emb.miniscript
    name = getattr(type(ms), "NAME", "")
    if name not in _SCRIPT_OPS or any(isinstance(arg, Miniscript) for arg in ms.args):
        if allow_miniscript and emb.wsh:
            return "sh-wsh-miniscript" if emb.sh else "wsh-miniscript"
        raise DescriptorError(field_name, shown, _SUPPORTED)
    if name in ("multi", "sortedmulti"):
        _threshold(ms, field_name, shown, _MAX_MULTI_KEYS_WSH if emb.wsh else _MAX_MULTI_KEYS_SH)
    prefix = "sh-wsh" if emb.sh and emb.wsh else "wsh" if emb.wsh else "sh"
    return f"{prefix}-{name}"


def _network(emb: Any, requested: Network | None, field_name: str, shown: str) -> Network:
    found: set[Network] = set()
    segwit = bool(emb.is_segwit)
    for key in emb.keys:
        if key.is_private:  # unreachable after the text checks; kept as a second lock
            raise PrivateKeyError(field_name, "private key")
        inner = key.key
        if isinstance(inner, bip32.HDKey):
            network = _XPUB_VERSIONS.get(bytes(inner.version))
            if network is None:
                raise DescriptorError(
                    field_name,
                    shown,
                    "xpub or tpub extended keys (convert SLIP-132 ypub/zpub keys with "
                    "xpub_from_slip132)",
                )
            found.add(network)
        elif isinstance(inner, ec.PublicKey):
            if segwit and not inner.compressed:
                raise DescriptorError(
                    field_name, shown, "compressed public keys under wpkh(), wsh() and tr()"
                )
        else:
            raise DescriptorError(field_name, shown, "public keys, not key hashes")
    if len(found) > 1:
        raise DescriptorError(field_name, shown, "extended keys of one network (xpub or tpub)")
    if requested is not None and found and found != {requested}:
        raise DescriptorError(
            field_name, shown, f"{requested!r} keys, as requested (the keys are {found.pop()!r})"
        )
    if found:
        return found.pop()
    return requested if requested is not None else "main"


# --------------------------------------------------------------------------- fast derivation


class _RangedXpub(bip32.HDKey):  # type: ignore[misc]
    """An xpub whose unhardened child public keys skip embit's per-child ``HDKey`` checks.

    embit builds a full ``HDKey`` for every child (serializing it to base58 to check its
    version); a watch-only wallet only needs the child's public key. The arithmetic is BIP32
    CKDpub: ``I = HMAC-SHA512(c_par, ser_P(K_par) || ser_32(i))``, ``K_i = K_par + I_L * G``,
    using the same secp256k1 backend as embit.
    """

    def __init__(self, parent: Any) -> None:
        super().__init__(
            parent.key,
            parent.chain_code,
            version=parent.version,
            depth=parent.depth,
            fingerprint=parent.fingerprint,
            child_number=parent.child_number,
        )
        self._parent_sec: bytes = parent.sec()
        self._parent_point: Any = ec.secp256k1.ec_pubkey_parse(self._parent_sec)

    def derive(self, path: Any) -> Any:
        if isinstance(path, list) and len(path) == 1 and 0 <= path[0] < _HARDENED:
            data = self._parent_sec + int(path[0]).to_bytes(4, "big")
            tweak = hmac.new(self.chain_code, data, hashlib.sha512).digest()[:32]
            secp = ec.secp256k1
            combine = getattr(secp, "ec_pubkey_combine", None)
            if combine is None:  # pure-Python backend
                return ec.PublicKey(secp.ec_pubkey_add(self._parent_point, tweak))
            # I_L * G by the generator tables, then one point addition: same point as
            # ec_pubkey_add(K_par, I_L), and faster with libsecp256k1.
            return ec.PublicKey(combine(self._parent_point, secp.ec_pubkey_create(tweak)))
        return super().derive(path)


def _prepare_branch(emb: Any, branch: int) -> Any:
    """One branch of ``emb`` with each key's fixed path derived once, ready for ``derive(i)``."""
    prepared = emb.branch(branch)
    for key in prepared.keys:
        if not key.is_extended or key.allowed_derivation is None:
            continue
        steps = [int(step) for step in key.allowed_derivation.indexes if step is not None]
        ranged = None in key.allowed_derivation.indexes
        base = key.origin or KeyOrigin(key.key.my_fingerprint, [])
        parent = key.key.derive(steps) if steps else key.key
        key.origin = KeyOrigin(base.fingerprint, list(base.derivation) + steps)
        if ranged:
            key.key = _RangedXpub(parent)
            key.allowed_derivation = AllowedDerivation([None])
        else:
            key.key = parent.key
            key.allowed_derivation = None
    return prepared


def _segwit_address(spk: bytes, hrp: str) -> str | None:
    if len(spk) < 4 or spk[1] != len(spk) - 2 or not 2 <= spk[1] <= 40:
        return None
    if spk[0] == 0:
        version, encoding = 0, bech32.Encoding.BECH32
    elif 0x51 <= spk[0] <= 0x60:
        version, encoding = spk[0] - 0x50, bech32.Encoding.BECH32M
    else:
        return None
    return str(bech32.bech32_encode(encoding, hrp, [version, *bech32.convertbits(spk[2:], 8, 5)]))


def _address(spk: bytes, network: Network) -> str:
    net = NETWORKS[network]
    segwit = _segwit_address(spk, net["bech32"])
    if segwit is not None:
        return segwit
    return str(Script(spk).address(net))


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class WatchDescriptor:
    """A parsed, public-only output descriptor. Build it with :func:`parse_descriptor`.

    Two instances are equal when their :attr:`normalized` texts and networks are.

    Attributes
    ----------
    text
        The text as given (outer whitespace included).
    normalized
        Canonical text (``h`` for hardened steps) with its ``#checksum``.
    kind
        Script form, one of :data:`KINDS` (``wpkh``, ``wsh-sortedmulti``, ``tr`` ...).
    is_ranged
        True if some key ends in ``/*``, so the descriptor names many addresses.
    network
        ``"main"`` or ``"test"``.
    branch_count
        Number of BIP389 multipath branches (1 without a ``/<a;b>`` step). Branch 0 is
        receive, branch 1 change.
    """

    text: str = field(compare=False)
    normalized: str
    kind: str
    is_ranged: bool
    network: Network
    branch_count: int
    _branches: tuple[Any, ...] = field(repr=False, compare=False)

    @property
    def is_multipath(self) -> bool:
        """True if the descriptor has a BIP389 ``/<a;b;...>`` step."""
        return self.branch_count > 1

    def __str__(self) -> str:
        return self.normalized


@dataclass(frozen=True)
class DerivedAddress:
    """One address of a descriptor.

    Attributes
    ----------
    index
        Child index substituted for ``/*`` (0 for a non-ranged descriptor).
    address
        Address string for the descriptor's network.
    script_pubkey_hex
        Output script, lowercase hex.
    branch
        Multipath branch: 0 receive, 1 change.
    """

    index: int
    address: str
    script_pubkey_hex: str
    branch: int


def parse_descriptor(
    text: str,
    *,
    network: Network | None = None,
    field_name: str = _FIELD,
    allow_miniscript: bool = False,
) -> WatchDescriptor:
    """Parse a public output descriptor for watching.

    The text is screened for private key material first (see the module notes), then the
    checksum is verified if present (and added to :attr:`WatchDescriptor.normalized` if not),
    then the key expressions and script structure are checked.

    Parameters
    ----------
    text
        Descriptor, with or without ``#checksum``; outer whitespace is ignored.
    network
        ``"main"`` or ``"test"``. With extended keys it must match their version bytes; with
        hex keys only it picks the network (default ``"main"``).
    field_name
        Name of the field in error messages.
    allow_miniscript
        Also accept miniscript inside ``wsh()`` or ``sh(wsh())`` beyond ``multi()``,
        ``sortedmulti()``, ``pk()`` and ``pkh()`` (kinds ``wsh-miniscript`` and
        ``sh-wsh-miniscript``), such as a quorum with a timelocked recovery key. embit checks
        the miniscript's types; private keys are refused as for every other form.

    Returns
    -------
    WatchDescriptor
        The parsed descriptor.

    Raises
    ------
    PrivateKeyError
        If the text holds an xprv/tprv, a WIF key, a raw hex private key or a BIP39 seed
        phrase. The message does not contain it.
    DescriptorError
        If the descriptor is malformed, has a wrong checksum, or is not a supported form.
    """
    if not isinstance(text, str):
        raise DescriptorError(field_name, type(text).__name__, "a descriptor string")
    if len(text) > MAX_DESCRIPTOR_CHARS:
        raise DescriptorError(
            field_name, f"{len(text)} characters", f"at most {MAX_DESCRIPTOR_CHARS} characters"
        )
    _refuse_secrets(text, field_name)
    if network not in (None, "main", "test"):
        raise DescriptorError("network", network, "'main' or 'test'")
    stripped = text.strip()
    if any(ch.isspace() for ch in stripped):
        raise DescriptorError(field_name, _shown(stripped), "a descriptor without spaces")
    body = verify_checksum(stripped, field_name=field_name)
    shown = _shown(body)
    if body.split("(", 1)[0] not in ("pkh", "wpkh", "sh", "wsh", "tr") or not body.endswith(")"):
        raise DescriptorError(field_name, shown, _SUPPORTED)
    _check_key_expressions(body, field_name)
    try:
        emb = Descriptor.from_string(body)
    except Exception as exc:  # embit raises many types (ValueError, AssertionError, ...)
        raise DescriptorError(field_name, shown, f"a valid descriptor ({_reason(exc)})") from None
    kind = _kind(emb, field_name, shown, allow_miniscript=allow_miniscript)
    net = _network(emb, network, field_name, shown)
    branch_count = int(emb.num_branches)
    branches = tuple(_prepare_branch(emb, branch) for branch in range(branch_count))
    for prepared in branches:
        try:
            first = prepared.derive(0)
            first.script_pubkey()
        except Exception as exc:
            raise DescriptorError(
                field_name, shown, f"a derivable descriptor ({_reason(exc)})"
            ) from None
        if emb.sh and not emb.wsh and emb.miniscript is not None:
            size = len(first.redeem_script().data)
            if size > _MAX_P2SH_SCRIPT_BYTES:
                raise DescriptorError(
                    field_name,
                    shown,
                    f"a P2SH redeem script of at most {_MAX_P2SH_SCRIPT_BYTES} bytes, "
                    f"not {size} (use wsh() for larger multisig)",
                )
    canonical = str(emb)
    return WatchDescriptor(
        text=text,
        normalized=f"{canonical}#{descriptor_checksum(canonical, field_name=field_name)}",
        kind=kind,
        is_ranged=bool(emb.is_wildcard),
        network=net,
        branch_count=branch_count,
        _branches=branches,
    )


def _check_int(field_name: str, value: object, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InputError(field_name, value, f"an int in [{minimum}, {maximum}]")
    return value


def derive_addresses(
    desc: WatchDescriptor,
    start: int,
    count: int,
    *,
    change: bool = False,
    branch: int | None = None,
) -> list[DerivedAddress]:
    """Derive the addresses of child indices ``start .. start + count - 1``.

    A non-ranged descriptor has exactly one address, at index 0: it is returned when that
    index lies in the range asked for.

    Parameters
    ----------
    desc
        Parsed descriptor.
    start
        First child index, >= 0.
    count
        Number of addresses, >= 0; ``start + count`` may not pass 2^31 (unhardened indices).
    change
        Derive the change branch (multipath branch 1) instead of receive (branch 0). Only a
        multipath descriptor (``/<0;1>/*``) has one.
    branch
        Multipath branch to derive, ``0 .. branch_count - 1``, for tuples longer than
        ``<0;1>``; when given, it replaces ``change``.

    Returns
    -------
    list of DerivedAddress
        In index order.

    Raises
    ------
    InputError
        If ``start``, ``count`` or ``branch`` is out of range.
    DescriptorError
        If ``change`` is asked of a descriptor without multipath branches, or (with odds
        below 2^-127) BIP32 gives no valid key for an index.
    """
    start = _check_int("start", start, 0, _HARDENED - 1)
    count = _check_int("count", count, 0, _HARDENED - start)
    if branch is not None:
        branch = _check_int("branch", branch, 0, desc.branch_count - 1)
    elif change and desc.branch_count < 2:
        raise DescriptorError(
            "change",
            change,
            "a multipath descriptor (/<0;1>/*) for change addresses; this one has one branch",
        )
    else:
        branch = 1 if change else 0
    prepared = desc._branches[branch]
    if desc.is_ranged:
        indices = range(start, start + count)
    else:
        indices = range(1 if start == 0 and count > 0 else 0)
    derived: list[DerivedAddress] = []
    for index in indices:
        try:
            spk = bytes(prepared.derive(index).script_pubkey().data)
        except ValueError:
            raise DescriptorError(
                "index", index, "an index with a valid BIP32 child key (skip this one)"
            ) from None
        derived.append(DerivedAddress(index, _address(spk, desc.network), spk.hex(), branch))
    return derived


def scan_with_gap_limit(
    desc: WatchDescriptor,
    is_used: Callable[[str], bool],
    gap_limit: int = DEFAULT_GAP_LIMIT,
) -> list[DerivedAddress]:
    """Derive addresses until ``gap_limit`` consecutive ones are unused, as wallets do.

    This is the BIP44 account-discovery rule: a wallet that meets ``gap_limit`` unused
    addresses in a row assumes none after them is used and stops. A used address further
    out is not found (raise ``gap_limit`` to reach it). The receive branch is scanned, and
    for a multipath descriptor the change branch too (branches 0 and 1). A non-ranged
    descriptor gives its one address.

    Parameters
    ----------
    desc
        Parsed descriptor.
    is_used
        Called once per derived address; True if it has ever received funds.
    gap_limit
        Unused addresses in a row that end a branch, >= 1.

    Returns
    -------
    list of DerivedAddress
        Every address derived, used ones and the trailing ``gap_limit`` unused ones (the
        lookahead), receive branch first, each in index order.

    Raises
    ------
    InputError
        If ``gap_limit`` is not an int >= 1.
    """
    gap_limit = _check_int("gap_limit", gap_limit, 1, _HARDENED)
    found: list[DerivedAddress] = []
    for change in (False, True)[: min(desc.branch_count, 2)]:
        if not desc.is_ranged:
            found.extend(derive_addresses(desc, 0, 1, change=change))
            continue
        index = unused_run = 0
        while unused_run < gap_limit and index < _HARDENED:
            batch = derive_addresses(
                desc, index, min(gap_limit - unused_run, _HARDENED - index), change=change
            )
            for derived in batch:
                found.append(derived)
                unused_run = 0 if is_used(derived.address) else unused_run + 1
            index += len(batch)
    return found


def xpub_from_slip132(key: str) -> str:
    """Rewrite a SLIP-132 extended public key (ypub, zpub, ...) with xpub/tpub version bytes.

    BIP84 and wallets that follow SLIP-132 show account keys as ``zpub``; descriptors take
    the same key as ``xpub`` (mainnet) or ``tpub`` (testnet) and say the script type in the
    descriptor instead. ``xpub`` and ``tpub`` are returned unchanged.

    Parameters
    ----------
    key
        Base58check extended public key.

    Returns
    -------
    str
        The same key with ``xpub``/``tpub`` version bytes.

    Raises
    ------
    PrivateKeyError
        If ``key`` is an extended private key (zprv, ...).
    DescriptorError
        If ``key`` is not a known extended public key.
    """
    if not isinstance(key, str):
        raise DescriptorError("key", type(key).__name__, "an extended public key string")
    run = key.strip()
    _refuse_secrets(run, "key")
    payload = _b58check(run)
    if payload is not None and len(payload) == 78 and payload[45] in (2, 3):
        for net_name in _NETWORK_NAMES:
            net = NETWORKS[net_name]
            if any(payload[:4] == net[name] for name in _SLIP132_PUB):
                return str(base58.encode_check(net["xpub"] + payload[4:]))
    raise DescriptorError(
        "key",
        _shown(run),
        "an extended public key (xpub, ypub, zpub, Ypub, Zpub or their testnet forms)",
    )


def script_pubkey_from_address(address: str, *, network: Network | None = None) -> str:
    """Decode a mainnet or testnet address into its output script (hex).

    Base58 P2PKH/P2SH and segwit Bech32 (v0) / Bech32m (v1-v16) addresses are accepted, with
    the BIP173/BIP350 rules: one case throughout, HRP ``bc`` or ``tb``, valid padding,
    program lengths 2-40 bytes (20 or 32 for v0).

    Parameters
    ----------
    address
        Address string.
    network
        If given, the address must belong to it.

    Returns
    -------
    str
        scriptPubKey, lowercase hex.

    Raises
    ------
    PrivateKeyError
        If ``address`` is private key material.
    InputError
        If ``address`` is not a valid address (of ``network``, if given).
    """
    expected = "a mainnet or testnet address (base58 P2PKH/P2SH, bech32/bech32m segwit)"
    if not isinstance(address, str):
        raise InputError("address", type(address).__name__, expected)
    _refuse_secrets(address, "address")
    found: tuple[Network, bytes] | None = None
    for net_name in _NETWORK_NAMES:
        net = NETWORKS[net_name]
        try:
            version, program = bech32.decode(net["bech32"], address)
        except Exception:
            version, program = None, None
        if version is not None and program is not None:
            op = 0 if version == 0 else 0x50 + int(version)
            found = (net_name, bytes([op, len(program), *program]))
            break
    if found is None and len(address) <= 40:
        payload = _b58check(address)
        if payload is not None and len(payload) == 21:
            for net_name in _NETWORK_NAMES:
                net = NETWORKS[net_name]
                if payload[:1] == net["p2pkh"]:
                    found = (net_name, b"\x76\xa9\x14" + payload[1:] + b"\x88\xac")
                elif payload[:1] == net["p2sh"]:
                    found = (net_name, b"\xa9\x14" + payload[1:] + b"\x87")
    if found is None:
        raise InputError("address", _shown(address), expected)
    if network is not None and found[0] != network:
        raise InputError("address", address, f"a {network!r} address, not {found[0]!r}")
    return found[1].hex()


class ReserveDescriptors:
    """Named watch-only descriptors of a reserve (label -> :class:`WatchDescriptor`).

    Labels are unique, and so are descriptors (by normalized text), so that no wallet is
    counted twice. All descriptors share one network. :meth:`to_dict` and :meth:`from_dict`
    give a JSON-able form for storage; it holds normalized descriptor texts only.
    """

    FORMAT_VERSION: Final[int] = 1

    def __init__(self) -> None:
        self._items: dict[str, WatchDescriptor] = {}

    @staticmethod
    def _check_label(label: object) -> str:
        expected = "a non-empty string of at most 100 characters, no outer spaces"
        if not isinstance(label, str):
            raise InputError("label", type(label).__name__, expected)
        _refuse_secrets(label, "label")
        if not label or label != label.strip() or len(label) > 100:
            raise InputError("label", _shown(label), expected)
        return label

    @property
    def network(self) -> Network | None:
        """Network of the descriptors, or None while the set is empty."""
        return next(iter(self._items.values())).network if self._items else None

    def add(self, label: str, descriptor: WatchDescriptor | str) -> WatchDescriptor:
        """Add a descriptor under a new label.

        Parameters
        ----------
        label
            Unique name, e.g. ``"cold-storage-2of3"``.
        descriptor
            A parsed descriptor, or descriptor text (parsed with :func:`parse_descriptor`,
            miniscript allowed: a reserve may have a timelocked recovery path).

        Returns
        -------
        WatchDescriptor
            The descriptor added.

        Raises
        ------
        InputError
            If the label is malformed or taken.
        DescriptorError
            If the descriptor is invalid, already present under another label, or of another
            network than the others.
        PrivateKeyError
            If descriptor text holds private key material.
        """
        label = self._check_label(label)
        field_name = f"reserve[{label!r}]"
        if label in self._items:
            raise InputError("label", label, "a label not yet used in this reserve")
        if isinstance(descriptor, str):
            descriptor = parse_descriptor(descriptor, field_name=field_name, allow_miniscript=True)
        elif not isinstance(descriptor, WatchDescriptor):
            raise DescriptorError(
                field_name, type(descriptor).__name__, "a WatchDescriptor or descriptor text"
            )
        for other_label, other in self._items.items():
            if other == descriptor:
                raise DescriptorError(
                    field_name,
                    descriptor.normalized,
                    f"a descriptor not yet in this reserve (it is {other_label!r})",
                )
        if self.network is not None and descriptor.network != self.network:
            raise DescriptorError(
                field_name,
                descriptor.network,
                f"the reserve's network {self.network!r}",
            )
        self._items[label] = descriptor
        return descriptor

    def remove(self, label: str) -> WatchDescriptor:
        """Remove and return the descriptor under ``label``.

        Raises
        ------
        InputError
            If no descriptor has that label.
        """
        if label not in self._items:
            raise InputError("label", label, f"one of {sorted(self._items)}")
        return self._items.pop(label)

    def __getitem__(self, label: str) -> WatchDescriptor:
        if label not in self._items:
            raise InputError("label", label, f"one of {sorted(self._items)}")
        return self._items[label]

    def __contains__(self, label: object) -> bool:
        return label in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[tuple[str, WatchDescriptor]]:
        """(label, descriptor) pairs in insertion order."""
        return list(self._items.items())

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: ``{"version": 1, "descriptors": {label: normalized text}}``."""
        return {
            "version": self.FORMAT_VERSION,
            "descriptors": {label: desc.normalized for label, desc in self._items.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReserveDescriptors:
        """Rebuild a set from :meth:`to_dict` output; every descriptor is parsed again.

        Raises
        ------
        InputError
            If ``data`` is not of that form.
        DescriptorError, PrivateKeyError
            As :meth:`add`.
        """
        if not isinstance(data, Mapping) or data.get("version") != cls.FORMAT_VERSION:
            raise InputError(
                "reserve", type(data).__name__, f"a mapping with 'version': {cls.FORMAT_VERSION}"
            )
        items = data.get("descriptors")
        if not isinstance(items, Mapping):
            raise InputError(
                "reserve.descriptors", type(items).__name__, "a mapping label -> descriptor"
            )
        reserve = cls()
        for label, text in items.items():
            if not isinstance(text, str):
                raise InputError(f"reserve[{label!r}]", type(text).__name__, "descriptor text")
            reserve.add(label, text)
        return reserve
