"""PSBT coordination for the reserve's m-of-n custody: build, inspect, combine, finalize.

The platform is a *coordinator*, never a signer. It builds an unsigned PSBT (BIP174) that
spends the reserve's UTXOs, hands copies to the cosigners, reads back what each of them
signed, combines the copies, and finalizes and extracts the transaction once the spending
policy is met. It never receives, derives from or stores a private key: descriptors come
from :func:`~hashnation.reserve.descriptors.parse_descriptor`, which refuses private key
material, and PSBT text that looks like an xprv, a WIF key or a seed phrase is refused
before it is decoded, its content never repeated in the error.

The roles are those of BIP174/BIP370 as implemented by ``btclib_wallet``:

=====================  =================================================================
role                   here
=====================  =================================================================
Creator and Updater    :func:`build_spend`: coin selection, change to the descriptor's
                       change branch, ``witness_utxo``/``non_witness_utxo``, redeem and
                       witness scripts, taproot leaves and every key's BIP32 origin
Signer                 the cosigners, outside the platform
(reader)               :func:`inspect_psbt`: inputs, outputs, fee, and per input which
                       cosigners signed (verified signatures only) and what is missing
Combiner               :func:`combine_psbts`
Input Finalizer        :func:`finalize_psbt`, with the BIP379 miniscript satisfier for
                       scripts beyond ``multi()`` (a timelocked recovery path included)
Transaction Extractor  :func:`extract_transaction`, which runs the script engine
=====================  =================================================================

Supported descriptors are the spendable kinds of
:mod:`~hashnation.reserve.descriptors`: ``wsh(multi|sortedmulti(...))``,
``sh(wsh(...))``, ``tr(KEY, multi_a|sortedmulti_a|pk(...))``, single-key ``wpkh``,
``sh(wpkh)``, ``pkh``, legacy ``sh(multi(...))``, and, parsed with
``allow_miniscript=True``, ``wsh(MINISCRIPT)`` such as
``wsh(or_d(multi(2,A,B,C),and_v(v:pkh(R),older(52560))))``: a 2-of-3 quorum with a
recovery key usable alone after 52,560 blocks (about a year).

Every function here is pure: no file, database, network or clock. Errors are
:class:`~hashnation.errors.PsbtError` (one line: field, shortened value, what was
expected and why), :class:`~hashnation.errors.InputError` for a bad argument and
:class:`~hashnation.errors.PrivateKeyError` for private key material.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import math
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, Final, cast

from btclib.exceptions import BTClibException
from btclib.fee import DUST_RELAY_FEE_RATE, FeeRate, dust_threshold
from btclib.script import Witness, is_p2ms_var, is_p2sh, is_p2tr, type_and_payload
from btclib.script.engine import verify_transaction
from btclib.script.script_pub_key import p2ms_m_and_keys_var
from btclib.script.taproot import leaf_hash as tap_leaf_hash
from btclib.tx import OutPoint, Tx, TxIn, TxOut
from btclib.tx.tx_in import input_weight
from btclib_wallet.bip32 import BIP32KeyOrigin
from btclib_wallet.coin_selection import Candidate, select_coins
from btclib_wallet.descriptors import Descriptor as LibDescriptor
from btclib_wallet.descriptors import (
    miniscript,
    miniscript_sizer,
    miniscript_solver,
    multipath_descriptors,
)
from btclib_wallet.descriptors import parse as lib_parse
from btclib_wallet.psbt import (
    Psbt,
    PsbtIn,
    combine,
    ecdsa_sig_hash,
    estimated_input_sizes,
    extract_tx,
    finalize,
    taproot_sig_hash,
)
from btclib_wallet.psbt.psbt import PSBT_MAGIC_BYTES
from btclib_wallet.psbt.psbt_utils import PSBT_V0
from btclib_wallet.tx_builder import DEFAULT_MAX_FEE, build_psbt
from ecc.ecc import dsa, ssa
from ecc.exceptions import EccException

from hashnation.errors import (
    DescriptorError,
    HashNationError,
    InputError,
    PrivateKeyError,
    PsbtError,
)
from hashnation.reserve.descriptors import (
    Network,
    WatchDescriptor,
    _address,
    _refuse_secrets,
    _secret_kind,
    derive_addresses,
    script_pubkey_from_address,
)

__all__ = [
    "MAX_FEE_RATE_SAT_PER_VB",
    "MAX_PSBT_BYTES",
    "MIN_FEE_RATE_SAT_PER_VB",
    "CosignerKey",
    "InputSummary",
    "OutputSummary",
    "PsbtSummary",
    "SignatureGroup",
    "SpendPath",
    "SpendableUtxo",
    "build_spend",
    "combine_psbts",
    "extract_transaction",
    "finalize_psbt",
    "inspect_psbt",
    "parse_psbt",
    "psbt_sha256",
    "psbt_to_base64",
    "psbt_to_bytes",
    "spend_id",
    "verify_spend",
]

MIN_FEE_RATE_SAT_PER_VB: Final[float] = 1.0
"""Lowest fee rate :func:`build_spend` accepts [sat/vB] (the usual minimum relay fee)."""

MAX_FEE_RATE_SAT_PER_VB: Final[float] = 1_000.0
"""Highest fee rate :func:`build_spend` accepts [sat/vB]; above it a typo is likelier."""

MAX_PSBT_BYTES: Final[int] = 16 * 1024 * 1024
"""Largest PSBT :func:`parse_psbt` reads [bytes] (text forms are limited accordingly)."""

_FIELD: Final = "psbt"
_HARDENED: Final = 0x8000_0000
_SEQUENCE_FINAL: Final = 0xFFFF_FFFF
_SEQUENCE_RBF: Final = 0xFFFF_FFFD  # BIP125 replaceable, no relative lock
_SEQ_DISABLE: Final = 1 << 31
_SEQ_TYPE_SECONDS: Final = 1 << 22
_SEQ_MASK: Final = 0xFFFF
_SEQ_UNIT_SECONDS: Final = 512
_LOCKTIME_THRESHOLD: Final = 500_000_000
_MAX_SAT: Final = 21_000_000 * 100_000_000
_SIGHASH_ALL: Final = 0x01
_SIGHASH_DEFAULT: Final = 0x00
_MAX_PATHS: Final = 64
_SHOWN_PREFIX: Final = 24
_MAX_REASON_CHARS: Final = 300

_LIB_NETWORK: Final[dict[str, str]] = {"main": "mainnet", "test": "testnet"}
_LIB_ERRORS: Final = (BTClibException, EccException, ValueError, TypeError, IndexError, KeyError)
_PRINTABLE_RUN = re.compile(rb"[\x20-\x7e]{40,}")


# --------------------------------------------------------------------------- errors


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    if len(line) > _MAX_REASON_CHARS:
        line = f"{line[:_MAX_REASON_CHARS]}..."
    return line


def _reason(exc: BaseException) -> str:
    return _one_line(str(exc) or type(exc).__name__)


def _short(text: str) -> str:
    """Shorten a received text for a message: its start and its length."""
    text = text.strip()
    if len(text) <= _SHOWN_PREFIX:
        return text
    return f"{text[:_SHOWN_PREFIX]}... ({len(text)} characters)"


@contextmanager
def _mapped(field_name: str, value: Any, expected: str) -> Iterator[None]:
    """Turn an exception of btclib, btclib_wallet or ecc into a one-line PsbtError."""
    try:
        yield
    except HashNationError:
        raise
    except _LIB_ERRORS as exc:
        raise PsbtError(field_name, value, f"{expected} ({_reason(exc)})") from None


# --------------------------------------------------------------------------- UTXOs


def _check_int(field_name: str, value: object, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InputError(field_name, value, f"an int in [{minimum}, {maximum}]")
    return value


def _check_hex(field_name: str, value: object, *, exact_chars: int | None = None) -> str:
    expected = f"{exact_chars} lowercase hex digits" if exact_chars else "lowercase hex"
    if not isinstance(value, str):
        raise InputError(field_name, type(value).__name__, expected)
    if exact_chars != 64:  # a txid is 64 hex digits, as a raw private key would be
        _refuse_secrets(value, field_name)
    ok = (
        len(value) % 2 == 0
        and all(ch in "0123456789abcdef" for ch in value)
        and (exact_chars is None or len(value) == exact_chars)
    )
    if not ok or not value:
        raise InputError(field_name, _short(value), expected)
    return value


@dataclass(frozen=True)
class SpendableUtxo:
    """An unspent output of the reserve, as a spend needs it.

    Attributes
    ----------
    txid
        Funding transaction id, 64 hex digits in display (RPC) order.
    vout
        Output index in the funding transaction.
    value_sat
        Amount [sat].
    script_pubkey_hex
        Output script, lowercase hex; it must be the descriptor's script at
        (``branch``, ``index``).
    label
        Label of the descriptor in the reserve file.
    branch
        Descriptor branch: 0 receive, 1 change (BIP389 multipath element).
    index
        Child index substituted for ``/*``.
    funding_tx_hex
        The whole funding transaction, raw hex, for the PSBT's ``non_witness_utxo``:
        hardware signers want it to check the amounts they sign for, and legacy
        (non-segwit) inputs cannot be signed without it. Optional for segwit inputs.
    height
        Height of the block that confirmed the funding transaction, if known.
    """

    txid: str
    vout: int
    value_sat: int
    script_pubkey_hex: str
    label: str
    branch: int
    index: int
    funding_tx_hex: str | None = None
    height: int | None = None

    @property
    def outpoint(self) -> str:
        """``txid:vout``."""
        return f"{self.txid}:{self.vout}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (every field, ``None`` for absent optional ones)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, field_name: str = "utxo") -> SpendableUtxo:
        """Build and check a UTXO from :meth:`to_dict` output (unknown keys refused).

        Raises
        ------
        InputError
            If a field is missing, unknown or out of range.
        PrivateKeyError
            If a text field holds private key material.
        """
        if not isinstance(data, Mapping):
            raise InputError(field_name, type(data).__name__, "a JSON object")
        names = {f.name for f in cls.__dataclass_fields__.values()}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InputError(field_name, unknown[0], f"only the keys {sorted(names)}")
        required = ("txid", "vout", "value_sat", "script_pubkey_hex", "label", "branch", "index")
        for name in required:
            if name not in data:
                raise InputError(f"{field_name}.{name}", None, "a value (the key is missing)")
        utxo = cls(**{name: data[name] for name in names if name in data})
        utxo.check(field_name)
        return utxo

    def check(self, field_name: str = "utxo") -> None:
        """Check every field's type and range (not the script against a descriptor).

        Raises
        ------
        InputError
            If a field is out of range.
        """
        _check_hex(f"{field_name}.txid", self.txid, exact_chars=64)
        _check_int(f"{field_name}.vout", self.vout, 0, 0xFFFF_FFFE)
        _check_int(f"{field_name}.value_sat", self.value_sat, 1, _MAX_SAT)
        _check_hex(f"{field_name}.script_pubkey_hex", self.script_pubkey_hex)
        if not isinstance(self.label, str) or not self.label:
            raise InputError(f"{field_name}.label", self.label, "a descriptor label")
        _refuse_secrets(self.label, f"{field_name}.label")
        _check_int(f"{field_name}.branch", self.branch, 0, 255)
        _check_int(f"{field_name}.index", self.index, 0, _HARDENED - 1)
        if self.funding_tx_hex is not None:
            _check_hex(f"{field_name}.funding_tx_hex", self.funding_tx_hex)
        if self.height is not None:
            _check_int(f"{field_name}.height", self.height, 0, 10_000_000)


# --------------------------------------------------------------------------- descriptors


@dataclass(frozen=True)
class _Branch:
    """One chain of a reserve descriptor: receive (0), change (1) or a further branch."""

    branch: int
    watch: WatchDescriptor
    watch_branch: int
    lib: LibDescriptor

    def script(self, index: int) -> bytes:
        """Output script at ``index``, derived by both implementations and compared."""
        derived = derive_addresses(self.watch, index, 1, branch=self.watch_branch)
        if not derived or derived[0].index != index:
            raise InputError("index", index, "0, the only index of a non-ranged descriptor")
        embit_script = bytes.fromhex(derived[0].script_pubkey_hex)
        with _mapped("descriptor", _short(self.watch.normalized), "a derivable descriptor"):
            lib_script = bytes(self.lib.script_pub_key(index).script)
        if embit_script != lib_script:
            raise DescriptorError(
                "descriptor",
                _short(self.watch.normalized),
                f"a descriptor whose two implementations agree at index {index} "
                f"(branch {self.branch}): {embit_script.hex()} vs {lib_script.hex()}",
            )
        return embit_script


def _lib_descriptors(watch: WatchDescriptor) -> list[LibDescriptor]:
    network = _LIB_NETWORK[watch.network]
    with _mapped("descriptor", _short(watch.normalized), "a descriptor the PSBT library can spend"):
        texts = multipath_descriptors(watch.normalized, network)
        parsed = [lib_parse(text, network) for text in texts]
        for desc in parsed:
            node = _miniscript_node(desc)
            if node is not None and not node.is_sane():
                raise PsbtError(
                    "descriptor",
                    _short(watch.normalized),
                    "a sane miniscript (non-malleable, every spend signed, no timelock "
                    "mixing, distinct keys)",
                )
    return parsed


def _branches(
    descriptor: WatchDescriptor, change_descriptor: WatchDescriptor | None
) -> list[_Branch]:
    if not isinstance(descriptor, WatchDescriptor):
        raise InputError("descriptor", type(descriptor).__name__, "a WatchDescriptor")
    libs = _lib_descriptors(descriptor)
    branches = [_Branch(i, descriptor, i, lib) for i, lib in enumerate(libs)]
    if change_descriptor is not None:
        if not isinstance(change_descriptor, WatchDescriptor):
            raise InputError(
                "change_descriptor", type(change_descriptor).__name__, "a WatchDescriptor"
            )
        if descriptor.is_multipath:
            raise InputError(
                "change_descriptor",
                _short(change_descriptor.normalized),
                "None: a multipath descriptor (/<0;1>/*) has its own change branch",
            )
        if change_descriptor.is_multipath or change_descriptor.network != descriptor.network:
            raise InputError(
                "change_descriptor",
                _short(change_descriptor.normalized),
                f"a single-branch descriptor of the {descriptor.network!r} network",
            )
        branches.append(_Branch(1, change_descriptor, 0, _lib_descriptors(change_descriptor)[0]))
    return branches


def _branch(branches: Sequence[_Branch], number: int, field_name: str) -> _Branch:
    for item in branches:
        if item.branch == number:
            return item
    if number == 1:
        raise InputError(
            field_name,
            number,
            "a branch the descriptor has: use a multipath descriptor (/<0;1>/*) or give "
            "change_descriptor for change",
        )
    raise InputError(field_name, number, f"one of {[b.branch for b in branches]}")


def _is_segwit_kind(kind: str) -> bool:
    return kind in ("wpkh", "sh-wpkh", "tr", "tr-tree") or kind.startswith(("wsh-", "sh-wsh-"))


def _miniscript_node(lib: LibDescriptor) -> miniscript.Miniscript | None:
    """Return the miniscript inside ``wsh()`` or ``sh(wsh())``, or None."""
    inner: Any = lib
    for _ in range(3):
        node = getattr(inner, "node", None)
        if isinstance(node, miniscript.Miniscript):
            return node
        inner = getattr(inner, "inner", None)
    return None


# --------------------------------------------------------------------------- sizing


def _taproot_leaf_sizes(psbt_in: PsbtIn) -> list[int] | None:
    best: list[int] | None = None
    for control, (script, _version) in psbt_in.taproot_leaf_scripts.items():
        try:
            node = miniscript.from_script(script, miniscript.TAPSCRIPT)
        except _LIB_ERRORS:
            return None
        stack = node.max_witness_stack
        if stack is None:
            continue
        sizes = [*stack, len(script), len(control)]
        if best is None or sum(sizes) + len(sizes) > sum(best) + len(best):
            best = sizes
    return best


def _sizer(psbt_in: PsbtIn, tx_in: TxIn) -> list[int] | None:
    """Witness sizes for the inputs btclib_wallet does not size by itself.

    A miniscript witness script is sized by its largest satisfaction, and a taproot input
    by its largest leaf spend: the estimate, and so the fee, is an upper bound whichever
    path the cosigners end up using.
    """
    if psbt_in.taproot_leaf_scripts:
        return _taproot_leaf_sizes(psbt_in)
    return miniscript_sizer(psbt_in, tx_in)


def _input_weight(psbt_in: PsbtIn, sequence: int) -> int:
    assert psbt_in.previous_tx_id is not None and psbt_in.output_index is not None
    tx_in = TxIn(
        OutPoint(psbt_in.previous_tx_id, psbt_in.output_index),
        b"",
        sequence,
        Witness(),
        check_validity=False,
    )
    script_sig_size, witness_sizes = estimated_input_sizes(psbt_in, tx_in, sizer=_sizer)
    witness = Witness([b"\x00" * size for size in witness_sizes]) if witness_sizes else None
    return int(input_weight(b"\x00" * script_sig_size, witness))


# --------------------------------------------------------------------------- policy


def _older_units(value: int) -> tuple[int | None, int | None]:
    """BIP68 relative lock: (blocks, seconds), one of them None."""
    if value & _SEQ_TYPE_SECONDS:
        return None, (value & _SEQ_MASK) * _SEQ_UNIT_SECONDS
    return value & _SEQ_MASK, None


@dataclass(frozen=True)
class _RawPath:
    groups: tuple[tuple[int, tuple[bytes, ...]], ...] = ()
    older: int | None = None
    after: int | None = None
    hashes: int = 0

    def merged(self, other: _RawPath) -> _RawPath:
        def top(a: int | None, b: int | None) -> int | None:
            return b if a is None else a if b is None else max(a, b)

        return _RawPath(
            self.groups + other.groups,
            top(self.older, other.older),
            top(self.after, other.after),
            self.hashes + other.hashes,
        )


def _product(left: list[_RawPath], right: list[_RawPath]) -> list[_RawPath]:
    return [a.merged(b) for a, b in itertools.product(left, right)][:_MAX_PATHS]


def _node_keys(node: miniscript.Miniscript) -> tuple[bytes, ...]:
    keys = [bytes(key.pub_key or b"") for key in node.keys]
    # a tapscript key is held as a compressed key; signatures are filed under x-only keys
    return tuple(
        key[1:] if exp.x_only and len(key) == 33 else key
        for key, exp in zip(keys, node.keys, strict=True)
    )


def _paths(node: miniscript.Miniscript) -> list[_RawPath]:
    """Every way to satisfy a miniscript, as signature groups and lock requirements."""
    frag = node.fragment
    subs = node.subs
    if frag.endswith(":"):
        return _paths(subs[0])
    if frag == "0":
        return []
    if frag == "1":
        return [_RawPath()]
    if frag in ("pk_k", "pk_h"):
        return [_RawPath(((1, _node_keys(node)),))]
    if frag in ("multi", "multi_a"):
        return [_RawPath(((node.threshold, _node_keys(node)),))]
    if frag == "older":
        return [_RawPath(older=node.threshold)]
    if frag == "after":
        return [_RawPath(after=node.threshold)]
    if frag in ("sha256", "hash256", "ripemd160", "hash160"):
        return [_RawPath(hashes=1)]
    if frag in ("and_v", "and_b", "and_n"):
        return _product(_paths(subs[0]), _paths(subs[1]))
    if frag in ("or_b", "or_c", "or_d", "or_i"):
        return (_paths(subs[0]) + _paths(subs[1]))[:_MAX_PATHS]
    if frag == "andor":
        return (_product(_paths(subs[0]), _paths(subs[1])) + _paths(subs[2]))[:_MAX_PATHS]
    if frag == "thresh":
        found: list[_RawPath] = []
        for chosen in itertools.combinations(subs, node.threshold):
            combined = [_RawPath()]
            for sub in chosen:
                combined = _product(combined, _paths(sub))
            found.extend(combined)
            if len(found) >= _MAX_PATHS:
                break
        return found[:_MAX_PATHS]
    raise PsbtError("script", frag, "a miniscript fragment this coordinator can describe")


# --------------------------------------------------------------------------- summaries


@dataclass(frozen=True)
class CosignerKey:
    """A public key of a spending policy and the cosigner it belongs to.

    Attributes
    ----------
    pubkey
        Public key, hex: 33 bytes compressed, or 32 bytes x-only in taproot.
    fingerprint
        Master key fingerprint of the cosigner (8 hex digits), as the PSBT's BIP32
        derivation gives it; None when the PSBT names no origin for the key.
    path
        BIP32 derivation path from that master key (``m/48h/0h/0h/2h/0/5``), or None.
    """

    pubkey: str
    fingerprint: str | None
    path: str | None


@dataclass(frozen=True)
class SignatureGroup:
    """``threshold`` signatures out of ``keys``.

    Attributes
    ----------
    threshold
        Signatures required [count].
    keys
        The keys that may sign.
    signed
        The keys with a signature in the PSBT that verifies against this spend.
    """

    threshold: int
    keys: tuple[CosignerKey, ...]
    signed: tuple[CosignerKey, ...]

    @property
    def satisfied(self) -> bool:
        """True when at least ``threshold`` of ``keys`` signed."""
        return len(self.signed) >= self.threshold


@dataclass(frozen=True)
class SpendPath:
    """One way an input's script can be spent.

    Attributes
    ----------
    name
        ``"multisig"``, ``"single key"``, ``"path N"`` for miniscript, ``"key path"`` or
        ``"leaf N path M"`` for taproot.
    groups
        Signature groups that must all be satisfied.
    relative_lock_blocks
        ``older()`` in blocks the input must have aged [blocks], or None.
    relative_lock_seconds
        ``older()`` in time [s] (multiples of 512 s), or None.
    absolute_lock_height
        ``after()`` block height, or None.
    absolute_lock_time
        ``after()`` Unix time [s], or None.
    hash_locks
        Hash preimages the path needs [count].
    locks_met
        True when the PSBT's input sequence, lock time and version already meet the
        path's time locks (a timelocked path spent early would be invalid).
    satisfied
        True when the groups are signed and the locks met (and no preimage is needed).
    """

    name: str
    groups: tuple[SignatureGroup, ...]
    relative_lock_blocks: int | None
    relative_lock_seconds: int | None
    absolute_lock_height: int | None
    absolute_lock_time: int | None
    hash_locks: int
    locks_met: bool
    satisfied: bool

    @property
    def required_signatures(self) -> int:
        """Signatures the path needs [count]."""
        return sum(group.threshold for group in self.groups)

    @property
    def signatures_present(self) -> int:
        """Signatures that count towards the path [count], at most its thresholds."""
        return sum(min(len(group.signed), group.threshold) for group in self.groups)

    @property
    def is_timelocked(self) -> bool:
        """True if the path has an ``older()`` or ``after()`` lock."""
        return any(
            v is not None
            for v in (
                self.relative_lock_blocks,
                self.relative_lock_seconds,
                self.absolute_lock_height,
                self.absolute_lock_time,
            )
        )


@dataclass(frozen=True)
class InputSummary:
    """One input of a PSBT.

    Attributes
    ----------
    index
        Position in the transaction.
    outpoint
        ``txid:vout`` spent.
    value_sat
        Amount spent [sat], or None if the PSBT lacks the UTXO.
    script_type
        ``p2wsh``, ``p2sh``, ``p2tr``, ``p2wpkh``, ``p2pkh`` ...
    branch
        Descriptor branch (0 receive, 1 change) when the descriptor derives the script
        spent, else None.
    descriptor_index
        Child index of the descriptor that derives the script spent, else None.
    required_signatures
        Signatures the primary path needs (``m`` of an m-of-n) [count].
    cosigner_count
        Keys of the primary path (``n``) [count].
    signed
        Keys with a verified signature, on any path.
    invalid_signatures
        Public keys (hex) whose signature in the PSBT does not verify.
    paths
        Every spending path, primary (untimelocked, most keys) first.
    sequence
        The input's nSequence.
    amount_vouched
        True when the PSBT holds the whole funding transaction (``non_witness_utxo``) or
        the input is taproot, so that a signer can check the amount it signs for.
    finalized
        True when the input already carries its final scriptSig/witness.
    satisfied
        True when the signatures present spend the input (the satisfier's answer).
    """

    index: int
    outpoint: str
    value_sat: int | None
    script_type: str
    branch: int | None
    descriptor_index: int | None
    required_signatures: int | None
    cosigner_count: int | None
    signed: tuple[CosignerKey, ...]
    invalid_signatures: tuple[str, ...]
    paths: tuple[SpendPath, ...]
    sequence: int
    amount_vouched: bool
    finalized: bool
    satisfied: bool

    @property
    def missing_signatures(self) -> int | None:
        """Signatures still needed on the primary path [count], None if unknown."""
        if not self.paths:
            return None
        primary = self.paths[0]
        return primary.required_signatures - primary.signatures_present


@dataclass(frozen=True)
class OutputSummary:
    """One output of a PSBT.

    Attributes
    ----------
    index
        Position in the transaction.
    address
        Address of the script on the descriptor's network, or None if it has none.
    script_pubkey_hex
        Output script, hex.
    amount_sat
        Amount [sat].
    is_change
        True when the reserve's descriptor derives exactly this script (the whole
        script is compared; a key origin alone is never taken as proof).
    branch
        Descriptor branch of a change output, else None.
    descriptor_index
        Child index of a change output, else None.
    """

    index: int
    address: str | None
    script_pubkey_hex: str
    amount_sat: int
    is_change: bool
    branch: int | None
    descriptor_index: int | None


@dataclass(frozen=True)
class PsbtSummary:
    """What a PSBT spends, pays, costs and still needs. JSON-able through :meth:`to_dict`.

    Attributes
    ----------
    spend_id
        Id of the unsigned transaction (hex, display order); for segwit spends it is
        also the final txid.
    psbt_sha256
        SHA-256 of the serialized PSBT, hex.
    psbt_version
        0 (BIP174) or 2 (BIP370).
    inputs, outputs
        Per input and per output summaries.
    input_total_sat
        Sum of the amounts spent [sat], None if an input lacks its UTXO.
    output_total_sat
        Sum of the outputs [sat].
    change_total_sat
        Sum of the change outputs [sat].
    fee_sat
        Fee [sat], None if unknown.
    vsize_vb
        Virtual size of the signed transaction [vB]: exact once finalized, else an upper
        bound (72-byte signatures, largest satisfaction).
    fee_rate_sat_per_vb
        ``fee_sat / vsize_vb`` [sat/vB].
    lock_time
        nLockTime of the transaction.
    signers
        Master fingerprints (hex) with at least one verified signature.
    satisfied
        True when every input is satisfied: the PSBT can be finalized.
    """

    spend_id: str
    psbt_sha256: str
    psbt_version: int
    inputs: tuple[InputSummary, ...]
    outputs: tuple[OutputSummary, ...]
    input_total_sat: int | None
    output_total_sat: int
    change_total_sat: int
    fee_sat: int | None
    vsize_vb: int | None
    fee_rate_sat_per_vb: float | None
    lock_time: int
    signers: tuple[str, ...]
    satisfied: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form; each input also gets ``missing_signatures``."""
        doc = asdict(self)
        for item, summary in zip(doc["inputs"], self.inputs, strict=True):
            item["missing_signatures"] = summary.missing_signatures
            for path_doc, path in zip(item["paths"], summary.paths, strict=True):
                path_doc["required_signatures"] = path.required_signatures
        return doc


# --------------------------------------------------------------------------- PSBT I/O


def psbt_to_bytes(psbt: Psbt) -> bytes:
    """Serialize a PSBT (the BIP174 binary form, as written to ``.psbt`` files)."""
    with _mapped(_FIELD, "<psbt>", "a valid PSBT"):
        return bytes(psbt.serialize())


def psbt_to_base64(psbt: Psbt) -> str:
    """Serialize a PSBT as base64 text, the form wallets exchange as text."""
    return base64.b64encode(psbt_to_bytes(psbt)).decode("ascii")


def psbt_sha256(psbt: Psbt) -> str:
    """SHA-256 of the serialized PSBT, hex: what the approvals log records."""
    return hashlib.sha256(psbt_to_bytes(psbt)).hexdigest()


def spend_id(psbt: Psbt) -> str:
    """Id of the PSBT's unsigned transaction, hex in display order.

    Every copy of one spend (signed by anyone, combined, finalized) has the same id, and
    for a spend of segwit or taproot inputs it is the txid of the final transaction.
    """
    with _mapped(_FIELD, "<psbt>", "a valid PSBT"):
        return bytes(psbt.tx.id).hex()


def _refuse_embedded_secrets(raw: bytes, field_name: str) -> None:
    """Refuse a PSBT whose bytes hold private key text (an xprv, WIF or seed in any field)."""
    for match in _PRINTABLE_RUN.finditer(raw):
        kind = _secret_kind(match.group().decode("ascii"))
        if kind is not None:
            raise PrivateKeyError(field_name, kind)


def _decode_text(token: str, field_name: str) -> bytes:
    if token.startswith("cHNidP8"):
        try:
            raw = base64.b64decode(token, validate=True)
        except (binascii.Error, ValueError):
            raw = None
        if raw is None or base64.b64encode(raw).decode("ascii") != token:
            _refuse_secrets(token, field_name)
            raise PsbtError(field_name, _short(token), "canonical base64 text (RFC 4648)")
        return raw
    try:
        return bytes.fromhex(token)
    except ValueError:
        _refuse_secrets(token, field_name)
        raise PsbtError(field_name, _short(token), "an even number of hex digits") from None


def parse_psbt(data: str | bytes, *, field_name: str = _FIELD) -> Psbt:
    r"""Read a PSBT given as raw bytes, base64 text or hex text (BIP174 or BIP370).

    Text that is not a PSBT is screened for private key material (xprv/tprv, WIF, raw hex
    keys, BIP39 seed phrases) and refused without being repeated; so is a PSBT whose
    bytes carry such text in any field.

    Parameters
    ----------
    data
        The PSBT: bytes starting with ``psbt\xff`` (or holding base64/hex text), or text
        in base64 (``cHNidP8...``) or hex (``70736274ff...``); outer whitespace is ignored.
    field_name
        Name of the field in error messages.

    Returns
    -------
    btclib_wallet.psbt.Psbt
        The parsed, validated PSBT.

    Raises
    ------
    PrivateKeyError
        If the input is or holds private key material.
    PsbtError
        If the input is not a valid PSBT; the message names the reason on one line.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if len(raw) > MAX_PSBT_BYTES:
            raise PsbtError(field_name, f"<{len(raw)} bytes>", f"at most {MAX_PSBT_BYTES} bytes")
        if not raw.startswith(PSBT_MAGIC_BYTES):
            try:
                text = raw.decode("ascii")
            except UnicodeDecodeError:
                raise PsbtError(
                    field_name,
                    f"<{len(raw)} bytes>",
                    "a PSBT: binary starting with 'psbt\\xff', base64 or hex text",
                ) from None
            return parse_psbt(text, field_name=field_name)
        shown = f"<{len(raw)} bytes>"
    elif isinstance(data, str):
        if len(data) > 2 * MAX_PSBT_BYTES:
            raise PsbtError(
                field_name, f"<{len(data)} characters>", f"at most {MAX_PSBT_BYTES} bytes"
            )
        tokens = data.split()
        token = tokens[0] if len(tokens) == 1 else ""
        if not (token.startswith("cHNidP8") or token.lower().startswith("70736274ff")):
            _refuse_secrets(data, field_name)
            raise PsbtError(
                field_name,
                _short(data),
                "a PSBT in base64 (starting 'cHNidP8') or hex (starting '70736274ff')",
            )
        raw = _decode_text(token, field_name)
        shown = _short(token)
    else:
        raise PsbtError(field_name, type(data).__name__, "PSBT bytes or text")
    _refuse_embedded_secrets(raw, field_name)
    with _mapped(field_name, shown, "a valid PSBT (BIP174/BIP370)"):
        return Psbt.parse(raw)


# --------------------------------------------------------------------------- building


def _fee_rate(value: object) -> FeeRate:
    expected = f"a fee rate in [{MIN_FEE_RATE_SAT_PER_VB:g}, {MAX_FEE_RATE_SAT_PER_VB:g}] sat/vB"
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InputError("fee_rate_sat_per_vb", value, expected)
    rate = float(value)
    if not math.isfinite(rate) or not MIN_FEE_RATE_SAT_PER_VB <= rate <= MAX_FEE_RATE_SAT_PER_VB:
        raise InputError("fee_rate_sat_per_vb", value, expected)
    return FeeRate.from_sats_per_vbyte(Decimal(str(value)).quantize(Decimal("0.001")))


def _destination(i: int, item: object, network: Network) -> TxOut:
    name = f"destinations[{i}]"
    if not isinstance(item, tuple | list) or len(item) != 2:
        raise InputError(name, type(item).__name__, "a pair (address, amount_sat)")
    address, amount_sat = item
    try:
        spk = bytes.fromhex(script_pubkey_from_address(address, network=network))
    except PrivateKeyError:
        raise
    except InputError as exc:
        raise InputError(f"{name}.address", exc.value, exc.expected) from None
    _check_int(f"{name}.amount_sat", amount_sat, 1, _MAX_SAT)
    threshold = int(dust_threshold(spk, DUST_RELAY_FEE_RATE))
    if amount_sat < threshold:
        raise InputError(
            f"{name}.amount_sat",
            amount_sat,
            f"at least {threshold} sat: less is dust for that output script and is not relayed",
        )
    return TxOut(amount_sat, spk)


def _funding_tx(utxo: SpendableUtxo, name: str) -> Tx:
    assert utxo.funding_tx_hex is not None
    with _mapped(f"{name}.funding_tx_hex", _short(utxo.funding_tx_hex), "a raw transaction"):
        tx = Tx.parse(bytes.fromhex(utxo.funding_tx_hex))
    if bytes(tx.id).hex() != utxo.txid:
        raise InputError(
            f"{name}.funding_tx_hex",
            f"transaction {bytes(tx.id).hex()}",
            f"the transaction {utxo.txid} (the UTXO's txid)",
        )
    if utxo.vout >= len(tx.vout):
        raise InputError(
            f"{name}.vout", utxo.vout, f"an output of the funding tx (< {len(tx.vout)})"
        )
    out = tx.vout[utxo.vout]
    if (
        out.value != utxo.value_sat
        or bytes(out.script_pub_key.script).hex() != utxo.script_pubkey_hex
    ):
        raise InputError(
            f"{name}.funding_tx_hex",
            f"output {utxo.vout} of {out.value} sat to {bytes(out.script_pub_key.script).hex()}",
            f"{utxo.value_sat} sat to {utxo.script_pubkey_hex}, as the UTXO says",
        )
    return tx


def _timelock(branches: Sequence[_Branch], field_name: str) -> tuple[int | None, int | None]:
    """Return (older, after) of the descriptor's timelocked path, read from branch 0."""
    node = _miniscript_node(branches[0].lib)
    if node is not None:
        for path in _paths(node):
            if path.older is not None or path.after is not None:
                return path.older, path.after
    raise InputError(
        field_name,
        True,
        "a descriptor with a timelocked recovery path (older() or after() in a miniscript)",
    )


def _psbt_input(
    utxo: SpendableUtxo,
    item: _Branch,
    sequence: int,
    segwit: bool,
    name: str,
) -> PsbtIn:
    spk = bytes.fromhex(utxo.script_pubkey_hex)
    non_witness = _funding_tx(utxo, name) if utxo.funding_tx_hex is not None else None
    if not segwit and non_witness is None:
        raise InputError(
            f"{name}.funding_tx_hex",
            None,
            "the funding transaction: a legacy (non-segwit) input cannot be signed without it",
        )
    psbt_in = PsbtIn(
        previous_tx_id=bytes.fromhex(utxo.txid),
        output_index=utxo.vout,
        non_witness_utxo=non_witness,
        witness_utxo=TxOut(utxo.value_sat, spk) if segwit else None,
        sequence=sequence,
        check_validity=False,
    )
    dummy = Psbt(2, [psbt_in], [], PSBT_V0, {}, fallback_lock_time=0, check_validity=False)
    with _mapped(name, utxo.outpoint, "an input the descriptor can describe"):
        updated = item.lib.update_psbt_input(dummy, 0, utxo.index)
    return updated.inputs[0]


def _global_xpubs(branches: Sequence[_Branch]) -> dict[bytes, BIP32KeyOrigin]:
    """PSBT_GLOBAL_XPUB entries: each extended key of the descriptor and its origin."""
    from btclib.base58 import decode as b58decode

    found: dict[bytes, BIP32KeyOrigin] = {}
    for item in branches:
        for key in item.lib.key_expressions:
            if not key.xkey or key.origin is None:
                continue
            xpub = bytes(b58decode(key.xkey))
            if len(xpub) == 78 and xpub[4] == len(key.origin.der_path):
                found[xpub] = key.origin
    return found


def build_spend(
    descriptor: WatchDescriptor,
    utxos: Sequence[SpendableUtxo],
    destinations: Sequence[tuple[str, int]],
    fee_rate_sat_per_vb: float,
    change_index: int,
    *,
    label: str | None = None,
    change_descriptor: WatchDescriptor | None = None,
    recovery_path: bool = False,
    long_term_fee_rate_sat_per_vb: float = 10.0,
    max_fee_sat: int = DEFAULT_MAX_FEE,
    rng: random.Random | None = None,
) -> Psbt:
    """Build the unsigned PSBT paying ``destinations`` from the reserve's UTXOs.

    Coin selection is btclib_wallet's (Bitcoin Core's branch-and-bound, knapsack and
    single random draw; the selection of least waste is kept). Change goes to the
    descriptor's change branch (``/1/*`` of a ``/<0;1>/*`` descriptor, or
    ``change_descriptor``) at ``change_index``, or to the fee when it would be dust.
    Inputs carry ``witness_utxo`` (segwit), ``non_witness_utxo`` (when the funding
    transaction is given), redeem/witness scripts or taproot leaves, and every key's
    BIP32 origin; the change output carries its scripts and origins, so that hardware
    signers can verify it returns to the reserve. Inputs signal BIP125 replacement
    (nSequence ``0xfffffffd``), so the fee can be bumped.

    Parameters
    ----------
    descriptor
        The reserve descriptor the UTXOs belong to.
    utxos
        Candidate UTXOs; each must be the descriptor's script at its (branch, index).
    destinations
        ``(address, amount_sat)`` pairs [sat], on the descriptor's network.
    fee_rate_sat_per_vb
        Fee rate [sat/vB], in [:data:`MIN_FEE_RATE_SAT_PER_VB`,
        :data:`MAX_FEE_RATE_SAT_PER_VB`], applied to an upper bound of the signed size.
    change_index
        Child index of the change address on the change branch.
    label
        If given, every UTXO's ``label`` must be this one.
    change_descriptor
        Change descriptor for a descriptor without multipath branches.
    recovery_path
        Spend through the descriptor's timelocked path: inputs get the ``older()``
        value as nSequence (or the transaction the ``after()`` value as nLockTime).
    long_term_fee_rate_sat_per_vb
        Fee rate expected when the change is spent later [sat/vB]; weighs the choice
        between creating change and paying it to the fee (Core's waste metric).
    max_fee_sat
        Largest fee paid [sat] (Core's ``-maxtxfee`` default, 0.1 BTC).
    rng
        Random generator for the randomized selection algorithms (seed it to reproduce a
        selection); a fresh one from system entropy by default.

    Returns
    -------
    btclib_wallet.psbt.Psbt
        The unsigned version 0 PSBT; its unsigned txid is :func:`spend_id`.

    Raises
    ------
    InputError
        For a bad argument: fee rate out of range, a destination on another network or
        below the dust threshold, a UTXO not derived by the descriptor, a duplicate UTXO,
        insufficient funds, a recovery path the descriptor does not have.
    PsbtError
        If the library refuses to build the spend (e.g. the fee exceeds ``max_fee_sat``).
    """
    fee_rate = _fee_rate(fee_rate_sat_per_vb)
    long_term = _fee_rate(long_term_fee_rate_sat_per_vb)
    change_index = _check_int("change_index", change_index, 0, _HARDENED - 1)
    max_fee_sat = _check_int("max_fee_sat", max_fee_sat, 0, _MAX_SAT)
    branches = _branches(descriptor, change_descriptor)
    segwit = _is_segwit_kind(descriptor.kind)

    if isinstance(destinations, str | bytes) or not destinations:
        raise InputError("destinations", destinations, "at least one (address, amount_sat)")
    outputs = [_destination(i, item, descriptor.network) for i, item in enumerate(destinations)]

    sequence, lock_time = _SEQUENCE_RBF, 0
    if recovery_path:
        older, after = _timelock(branches, "recovery_path")
        if older is not None:
            sequence = older
        if after is not None:
            lock_time = after  # enforced: the inputs' sequence is not final

    if isinstance(utxos, str | bytes) or not utxos:
        raise InputError("utxos", utxos, "at least one SpendableUtxo")
    seen: set[str] = set()
    inputs: dict[str, PsbtIn] = {}
    candidates: list[Candidate] = []
    for i, utxo in enumerate(utxos):
        name = f"utxos[{i}]"
        if not isinstance(utxo, SpendableUtxo):
            raise InputError(name, type(utxo).__name__, "a SpendableUtxo")
        utxo.check(name)
        if label is not None and utxo.label != label:
            raise InputError(f"{name}.label", utxo.label, f"{label!r}, the descriptor spent")
        if utxo.outpoint in seen:
            raise InputError(name, utxo.outpoint, "each outpoint once")
        seen.add(utxo.outpoint)
        item = _branch(branches, utxo.branch, f"{name}.branch")
        derived = item.script(utxo.index).hex()
        if derived != utxo.script_pubkey_hex:
            raise InputError(
                f"{name}.script_pubkey_hex",
                utxo.script_pubkey_hex,
                f"{derived}, the descriptor's script at branch {utxo.branch} index {utxo.index}",
            )
        psbt_in = _psbt_input(utxo, item, sequence, segwit, name)
        inputs[utxo.outpoint] = psbt_in
        with _mapped(name, utxo.outpoint, "an input whose signed size can be estimated"):
            weight = _input_weight(psbt_in, sequence)
        candidates.append(
            Candidate(
                OutPoint(bytes.fromhex(utxo.txid), utxo.vout),
                TxOut(utxo.value_sat, bytes.fromhex(utxo.script_pubkey_hex)),
                weight,
            )
        )

    change_item = _branch(branches, 1, "change_index")
    change_script = change_item.script(change_index)
    total_in = sum(u.value_sat for u in utxos)
    total_out = sum(out.value for out in outputs)
    funds_expected = (
        f"UTXOs worth the {total_out} sat paid plus the fee at {fee_rate_sat_per_vb} sat/vB"
    )
    if total_in <= total_out:
        raise InputError("utxos", f"{total_in} sat in {len(utxos)} UTXOs", funds_expected)
    try:
        selection = select_coins(
            candidates,
            outputs,
            fee_rate,
            long_term,
            change_script,
            max(c.weight for c in candidates),
            rng=rng if rng is not None else random.Random(),
        )
    except BTClibException:
        raise InputError("utxos", f"{total_in} sat in {len(utxos)} UTXOs", funds_expected) from None
    chosen = sorted(
        selection.selected, key=lambda c: (bytes(c.outpoint.tx_id).hex(), c.outpoint.vout)
    )
    selected = [inputs[f"{bytes(c.outpoint.tx_id).hex()}:{c.outpoint.vout}"] for c in chosen]
    with _mapped("spend", f"{len(selected)} inputs", "a spend the PSBT library can fund"):
        try:
            funded = build_psbt(
                selected,
                outputs,
                fee_rate,
                change_script,
                lock_time=lock_time,
                max_fee=max_fee_sat,
                sizer=_sizer,
            )
        except BTClibException as exc:
            if "the inputs are worth" in str(exc):
                raise InputError(
                    "utxos", f"{total_in} sat in {len(utxos)} UTXOs", funds_expected
                ) from None
            raise
        psbt = funded.psbt
        if funded.change_index is not None:
            psbt = change_item.lib.update_psbt_output(psbt, funded.change_index, change_index)
        xpubs = _global_xpubs(branches)
        if xpubs:
            psbt.hd_key_paths = {**psbt.hd_key_paths, **xpubs}
        psbt.assert_valid()
    return psbt


# --------------------------------------------------------------------------- inspecting


def _origin_key(pubkey: bytes, origin: BIP32KeyOrigin | None) -> CosignerKey:
    if origin is None:
        return CosignerKey(pubkey.hex(), None, None)
    steps = [f"{step - _HARDENED}h" if step >= _HARDENED else str(step) for step in origin.der_path]
    return CosignerKey(
        pubkey.hex(), bytes(origin.master_fingerprint).hex(), "/".join(["m", *steps])
    )


def _key_info(psbt_in: PsbtIn, pubkey: bytes) -> CosignerKey:
    if len(pubkey) == 32:
        entry = psbt_in.taproot_hd_key_paths.get(pubkey)
        if entry is None:
            for sec, origin in psbt_in.hd_key_paths.items():
                if sec[1:] == pubkey:
                    return _origin_key(pubkey, origin)
        return _origin_key(pubkey, entry[1] if entry else None)
    return _origin_key(pubkey, psbt_in.hd_key_paths.get(pubkey))


def _prev_out(psbt_in: PsbtIn) -> TxOut | None:
    if psbt_in.non_witness_utxo is not None:
        vout = psbt_in.output_index or 0
        outs = psbt_in.non_witness_utxo.vout
        return outs[vout] if vout < len(outs) else None
    return psbt_in.witness_utxo


def _verified_ecdsa(psbt: Psbt, i: int) -> tuple[dict[bytes, bytes], list[str]]:
    psbt_in = psbt.inputs[i]
    expected = _SIGHASH_ALL if psbt_in.sig_hash_type is None else psbt_in.sig_hash_type
    good: dict[bytes, bytes] = {}
    bad: list[str] = []
    for pubkey, sig in psbt_in.partial_sigs.items():
        try:
            ok = sig[-1] == expected and bool(
                dsa.verify_(ecdsa_sig_hash(psbt, i, hash_type=sig[-1]), pubkey, sig[:-1])
            )
        except _LIB_ERRORS:
            ok = False
        if ok:
            good[pubkey] = sig
        else:
            bad.append(pubkey.hex())
    return good, bad


def _taproot_hash_type(sig: bytes) -> int | None:
    if len(sig) == 64:
        return _SIGHASH_DEFAULT
    if len(sig) == 65 and sig[64] in (_SIGHASH_ALL,):
        return sig[64]
    return None


def _verified_taproot(
    psbt: Psbt, i: int, output_key: bytes
) -> tuple[bool, dict[bytes, dict[bytes, bytes]], list[str]]:
    """(key path signed, {leaf hash: {x-only key: sig}}, invalid keys) of a taproot input."""
    psbt_in = psbt.inputs[i]
    bad: list[str] = []
    key_ok = False
    sig = psbt_in.taproot_key_spend_signature
    if sig:
        hash_type = _taproot_hash_type(sig)
        try:
            key_ok = hash_type is not None and bool(
                ssa.verify_(taproot_sig_hash(psbt, i, hash_type=hash_type), output_key, sig[:64])
            )
        except _LIB_ERRORS:
            key_ok = False
        if not key_ok:
            bad.append(psbt_in.taproot_internal_key.hex())
    leaves: dict[bytes, dict[bytes, bytes]] = {}
    for key_data, leaf_sig in psbt_in.taproot_script_spend_signatures.items():
        xonly, leaf = key_data[:32], key_data[32:]
        hash_type = _taproot_hash_type(leaf_sig)
        try:
            ok = hash_type is not None and bool(
                ssa.verify_(
                    taproot_sig_hash(psbt, i, leaf_hash=leaf, hash_type=hash_type),
                    xonly,
                    leaf_sig[:64],
                )
            )
        except _LIB_ERRORS:
            ok = False
        if ok:
            leaves.setdefault(leaf, {})[xonly] = leaf_sig
        else:
            bad.append(xonly.hex())
    return key_ok, leaves, bad


def _locks_met(path: _RawPath, tx: Tx, sequence: int) -> bool:
    if path.older is not None:
        if tx.version < 2 or sequence & _SEQ_DISABLE:
            return False
        if (path.older & _SEQ_TYPE_SECONDS) != (sequence & _SEQ_TYPE_SECONDS):
            return False
        if (path.older & _SEQ_MASK) > (sequence & _SEQ_MASK):
            return False
    if path.after is not None:
        if sequence == _SEQUENCE_FINAL:
            return False
        if (path.after >= _LOCKTIME_THRESHOLD) != (tx.lock_time >= _LOCKTIME_THRESHOLD):
            return False
        if path.after > tx.lock_time:
            return False
    return True


def _spend_path(
    name: str, raw: _RawPath, psbt_in: PsbtIn, signed: Mapping[bytes, bytes], tx: Tx, seq: int
) -> SpendPath:
    groups = tuple(
        SignatureGroup(
            threshold,
            tuple(_key_info(psbt_in, key) for key in keys),
            tuple(_key_info(psbt_in, key) for key in keys if key in signed),
        )
        for threshold, keys in raw.groups
    )
    blocks, seconds = _older_units(raw.older) if raw.older is not None else (None, None)
    height = raw.after if raw.after is not None and raw.after < _LOCKTIME_THRESHOLD else None
    time = raw.after if raw.after is not None and raw.after >= _LOCKTIME_THRESHOLD else None
    locks_met = _locks_met(raw, tx, seq)
    return SpendPath(
        name=name,
        groups=groups,
        relative_lock_blocks=blocks,
        relative_lock_seconds=seconds,
        absolute_lock_height=height,
        absolute_lock_time=time,
        hash_locks=raw.hashes,
        locks_met=locks_met,
        satisfied=locks_met and raw.hashes == 0 and all(g.satisfied for g in groups),
    )


def _ordered(paths: list[SpendPath]) -> tuple[SpendPath, ...]:
    """Primary path first: no time lock, then the most keys (the m-of-n quorum)."""
    ranked = sorted(
        enumerate(paths),
        key=lambda item: (
            item[1].is_timelocked,
            -sum(len(g.keys) for g in item[1].groups),
            item[0],
        ),
    )
    return tuple(path for _, path in ranked)


def _script_paths(
    psbt: Psbt, i: int, script: bytes, signed: Mapping[bytes, bytes], tx: Tx
) -> tuple[list[SpendPath], bool | None]:
    """Paths of a p2ms/p2wsh/p2sh script and whether the satisfier accepts the signatures."""
    psbt_in = psbt.inputs[i]
    seq = tx.vin[i].sequence
    if is_p2ms_var(script):
        m, keys = p2ms_m_and_keys_var(script)
        raw = _RawPath(((m, tuple(bytes(k) for k in keys)),))
        path = _spend_path("multisig", raw, psbt_in, signed, tx, seq)
        return [path], path.satisfied
    known = {**dict.fromkeys(psbt_in.hd_key_paths), **dict.fromkeys(psbt_in.partial_sigs)}
    from btclib.hashes import hash160

    try:
        node = miniscript.from_script(script, miniscript.P2WSH, {hash160(k): k for k in known})
    except _LIB_ERRORS:
        return [], None
    raws = _paths(node)
    paths = [
        _spend_path(f"path {n + 1}", raw, psbt_in, signed, tx, seq) for n, raw in enumerate(raws)
    ]
    spend = miniscript.SpendContext(
        sha256_preimages=psbt_in.sha256_preimages,
        hash256_preimages=psbt_in.hash256_preimages,
        ripemd160_preimages=psbt_in.ripemd160_preimages,
        hash160_preimages=psbt_in.hash160_preimages,
        locktime=tx.lock_time,
        sequence=seq,
        version=tx.version,
    )
    try:
        node.satisfy(cast(Any, dict(signed)), spend)
        satisfied = True
    except _LIB_ERRORS:
        satisfied = False
    return paths, satisfied


def _taproot_paths(
    psbt: Psbt, i: int, output_key: bytes, tx: Tx
) -> tuple[list[SpendPath], bool, list[CosignerKey], list[str]]:
    psbt_in = psbt.inputs[i]
    seq = tx.vin[i].sequence
    key_ok, leaf_sigs, bad = _verified_taproot(psbt, i, output_key)
    signed_keys: list[CosignerKey] = []
    paths: list[SpendPath] = []
    satisfied = key_ok
    internal = psbt_in.taproot_internal_key
    if internal:
        signed = {internal: b""} if key_ok else {}
        raw = _RawPath(((1, (internal,)),))
        paths.append(_spend_path("key path", raw, psbt_in, signed, tx, seq))
        if key_ok:
            signed_keys.append(_key_info(psbt_in, internal))
    for number, (script, version) in enumerate(psbt_in.taproot_leaf_scripts.values()):
        leaf = tap_leaf_hash(version, script)
        sigs = leaf_sigs.get(leaf, {})
        signed_keys.extend(_key_info(psbt_in, key) for key in sigs)
        try:
            node = miniscript.from_script(script, miniscript.TAPSCRIPT)
        except _LIB_ERRORS:
            continue
        for n, raw in enumerate(_paths(node)):
            path = _spend_path(f"leaf {number + 1} path {n + 1}", raw, psbt_in, sigs, tx, seq)
            paths.append(path)
        spend = miniscript.SpendContext(locktime=tx.lock_time, sequence=seq, version=tx.version)
        try:
            node.satisfy(cast(Any, dict(sigs)), spend)
            satisfied = True
        except _LIB_ERRORS:
            pass
    unique = list({key.pubkey: key for key in signed_keys}.values())
    return paths, satisfied, unique, bad


def _locate(
    branches: Sequence[_Branch], script: bytes, origins: Sequence[BIP32KeyOrigin]
) -> tuple[int | None, int | None]:
    """(branch, index) of the descriptor that derives ``script``, read from the key origins.

    The origin's last step is the claimed index; the claim is accepted only if the
    descriptor derives exactly ``script`` there.
    """
    indices = {int(o.der_path[-1]) for o in origins if o.der_path and o.der_path[-1] < _HARDENED}
    for index in sorted(indices):
        for item in branches:
            if not item.watch.is_ranged and index != 0:
                continue
            try:
                if item.script(index) == script:
                    return item.branch, index
            except HashNationError:
                continue
    for item in branches:
        if not item.watch.is_ranged:
            try:
                if item.script(0) == script:
                    return item.branch, 0
            except HashNationError:
                continue
    return None, None


def _origins(psbt_map: Any) -> list[BIP32KeyOrigin]:
    found = list(psbt_map.hd_key_paths.values())
    found += [entry[1] for entry in psbt_map.taproot_hd_key_paths.values()]
    return found


def _estimated_vsize(psbt: Psbt) -> int | None:
    try:
        if all(p.final_script_sig or p.final_script_witness for p in psbt.inputs):
            return int(extract_tx(psbt, verify_scripts=False, max_fee_rate=None).vsize)
        return int(psbt.vsize_estimate(_sizer))
    except _LIB_ERRORS:
        return None


def inspect_psbt(
    psbt: Psbt,
    descriptor: WatchDescriptor | None = None,
    *,
    change_descriptor: WatchDescriptor | None = None,
) -> PsbtSummary:
    """Summarize a PSBT: inputs, outputs, fee, signatures present and missing.

    Only signatures that verify against this spend are counted (ECDSA against BIP143 or
    legacy sighashes, Schnorr against BIP341/BIP342), each attributed to a cosigner by the
    master fingerprint of its key's BIP32 origin. Whether an input is satisfied is the
    BIP379 satisfier's answer (or the multisig threshold), so it agrees with
    :func:`finalize_psbt`.

    Parameters
    ----------
    psbt
        The PSBT, e.g. from :func:`parse_psbt`.
    descriptor
        The reserve descriptor, to tell which inputs it derives and which outputs are
        change; without it ``branch``, ``descriptor_index`` are None and no output is
        change.
    change_descriptor
        Change descriptor of a descriptor without multipath branches.

    Returns
    -------
    PsbtSummary
        The summary.

    Raises
    ------
    PsbtError
        If the PSBT is not valid.
    """
    if not isinstance(psbt, Psbt):
        raise PsbtError(_FIELD, type(psbt).__name__, "a parsed PSBT (use parse_psbt)")
    with _mapped(_FIELD, "<psbt>", "a valid PSBT"):
        psbt.assert_valid()
        tx = psbt.tx
    branches = _branches(descriptor, change_descriptor) if descriptor is not None else []
    network: Network = descriptor.network if descriptor is not None else "main"

    inputs: list[InputSummary] = []
    all_signers: dict[str, None] = {}
    for i, psbt_in in enumerate(psbt.inputs):
        prev = _prev_out(psbt_in)
        spk = bytes(prev.script_pub_key.script) if prev is not None else b""
        script_type = str(type_and_payload(spk)[0]) if spk else "unknown"
        finalized = bool(psbt_in.final_script_sig or psbt_in.final_script_witness)
        signed: list[CosignerKey] = []
        bad: list[str] = []
        paths: list[SpendPath] = []
        satisfied: bool | None = None
        if spk and is_p2tr(spk):
            paths, satisfied, signed, bad = _taproot_paths(psbt, i, spk[2:34], tx)
        elif spk:
            good, bad = _verified_ecdsa(psbt, i)
            signed = [_key_info(psbt_in, key) for key in good]
            if psbt_in.witness_script:
                script = psbt_in.witness_script
            elif is_p2sh(spk) and psbt_in.redeem_script:
                script = psbt_in.redeem_script
            else:
                script = spk
            if script_type == "p2sh" and psbt_in.redeem_script:
                inner_type = str(type_and_payload(psbt_in.redeem_script)[0])
                script_type = f"p2sh-{inner_type}" if inner_type.startswith("p2w") else script_type
            single = type_and_payload(script)[0] in ("p2wpkh", "p2pkh", "p2pk")
            if single:
                keys = tuple(psbt_in.hd_key_paths) or tuple(good)
                raw = _RawPath(((1, keys),)) if keys else _RawPath()
                path = _spend_path("single key", raw, psbt_in, good, tx, tx.vin[i].sequence)
                paths, satisfied = [path], bool(good) and path.satisfied
            else:
                paths, satisfied = _script_paths(psbt, i, script, good, tx)
        ordered = _ordered(paths)
        primary = ordered[0] if ordered else None
        branch_no, index = (
            _locate(branches, spk, _origins(psbt_in)) if branches and spk else (None, None)
        )
        for key in signed:
            if key.fingerprint is not None:
                all_signers[key.fingerprint] = None
        inputs.append(
            InputSummary(
                index=i,
                outpoint=f"{bytes(tx.vin[i].prev_out.tx_id).hex()}:{tx.vin[i].prev_out.vout}",
                value_sat=int(prev.value) if prev is not None else None,
                script_type=script_type,
                branch=branch_no,
                descriptor_index=index,
                required_signatures=primary.required_signatures if primary else None,
                cosigner_count=(
                    len({k.pubkey for g in primary.groups for k in g.keys}) if primary else None
                ),
                signed=tuple(signed),
                invalid_signatures=tuple(bad),
                paths=ordered,
                sequence=int(tx.vin[i].sequence),
                amount_vouched=psbt_in.non_witness_utxo is not None or script_type == "p2tr",
                finalized=finalized,
                satisfied=finalized or bool(satisfied),
            )
        )

    outputs: list[OutputSummary] = []
    for j, (psbt_out, tx_out) in enumerate(zip(psbt.outputs, tx.vout, strict=True)):
        spk = bytes(tx_out.script_pub_key.script)
        branch_no, index = _locate(branches, spk, _origins(psbt_out)) if branches else (None, None)
        try:
            address: str | None = _address(spk, network)
        except Exception:  # a script without an address (OP_RETURN, bare multisig ...)
            address = None
        outputs.append(
            OutputSummary(
                index=j,
                address=address,
                script_pubkey_hex=spk.hex(),
                amount_sat=int(tx_out.value),
                is_change=branch_no is not None,
                branch=branch_no,
                descriptor_index=index,
            )
        )

    values = [item.value_sat for item in inputs]
    input_total = sum(v for v in values if v is not None) if None not in values else None
    output_total = sum(o.amount_sat for o in outputs)
    fee = input_total - output_total if input_total is not None else None
    vsize = _estimated_vsize(psbt)
    return PsbtSummary(
        spend_id=spend_id(psbt),
        psbt_sha256=psbt_sha256(psbt),
        psbt_version=int(psbt.version),
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        input_total_sat=input_total,
        output_total_sat=output_total,
        change_total_sat=sum(o.amount_sat for o in outputs if o.is_change),
        fee_sat=fee,
        vsize_vb=vsize,
        fee_rate_sat_per_vb=(round(fee / vsize, 3) if fee is not None and vsize else None),
        lock_time=int(tx.lock_time),
        signers=tuple(sorted(all_signers)),
        satisfied=bool(inputs) and all(item.satisfied for item in inputs),
    )


# --------------------------------------------------------------------------- roles


def _check_psbts(psbts: object) -> list[Psbt]:
    if isinstance(psbts, str | bytes) or not isinstance(psbts, Sequence) or not psbts:
        raise PsbtError("psbts", type(psbts).__name__, "a non-empty sequence of PSBTs")
    for k, psbt in enumerate(psbts):
        if not isinstance(psbt, Psbt):
            raise PsbtError(f"psbts[{k}]", type(psbt).__name__, "a parsed PSBT")
    return list(psbts)


def combine_psbts(psbts: Sequence[Psbt]) -> Psbt:
    """Merge copies of one spend signed by different cosigners (BIP174 Combiner).

    Each copy's signatures are verified first, so that a bad signature is refused with the
    copy and input it came in, instead of being merged.

    Parameters
    ----------
    psbts
        Copies of one PSBT (same unsigned transaction).

    Returns
    -------
    btclib_wallet.psbt.Psbt
        A new PSBT with the union of the copies' fields.

    Raises
    ------
    PsbtError
        If the copies are of different spends, or one carries a signature that does not
        verify.
    """
    items = _check_psbts(psbts)
    first = spend_id(items[0])
    for k, psbt in enumerate(items):
        other = spend_id(psbt)
        if other != first:
            raise PsbtError(
                f"psbts[{k}]", f"spend {other}", f"a copy of spend {first} (the first PSBT's)"
            )
        summary = inspect_psbt(psbt)
        for item in summary.inputs:
            if item.invalid_signatures:
                raise PsbtError(
                    f"psbts[{k}]",
                    f"input {item.index} ({item.outpoint})",
                    "signatures that verify against this spend; the one by key "
                    f"{item.invalid_signatures[0]} does not",
                )
    with _mapped("psbts", f"{len(items)} PSBTs", "copies of one PSBT that combine"):
        return combine(items)


def _shortfall(item: InputSummary) -> str:
    where = f"input {item.index} ({item.outpoint})"
    if not item.paths:
        return f"{where} has no signature that satisfies its script"
    primary = item.paths[0]
    text = (
        f"{where} has {primary.signatures_present} of {primary.required_signatures} "
        f"required signatures (needs {primary.required_signatures - primary.signatures_present}"
        " more)"
    )
    for path in item.paths[1:]:
        if path.is_timelocked and all(g.satisfied for g in path.groups) and not path.locks_met:
            need = (
                f"{path.relative_lock_blocks} blocks"
                if path.relative_lock_blocks is not None
                else f"{path.relative_lock_seconds} s"
                if path.relative_lock_seconds is not None
                else f"lock time {path.absolute_lock_height or path.absolute_lock_time}"
            )
            text += f"; its timelocked {path.name} is signed but needs {need} set on the input"
    return text


def finalize_psbt(psbt: Psbt, descriptor: WatchDescriptor | None = None) -> Psbt:
    """Build every input's final scriptSig and witness (BIP174 Input Finalizer).

    Multisig inputs are finalized by btclib_wallet; miniscript inputs (a timelocked
    recovery path included) by the BIP379 non-malleable satisfier, which picks the
    path the signatures, the input's nSequence and the lock time allow.

    Parameters
    ----------
    psbt
        The combined, signed PSBT.
    descriptor
        The reserve descriptor, used to describe inputs in errors (optional).

    Returns
    -------
    btclib_wallet.psbt.Psbt
        A new, finalized PSBT.

    Raises
    ------
    PsbtError
        If an input lacks signatures (the message names each such input and how many
        signatures it still needs), or a signature does not verify.
    """
    summary = inspect_psbt(psbt, descriptor)
    short = [item for item in summary.inputs if not item.satisfied]
    if short:
        raise PsbtError(
            _FIELD,
            f"spend {summary.spend_id}",
            "a PSBT with enough signatures to finalize: "
            + "; ".join(_shortfall(item) for item in short),
        )
    with _mapped(_FIELD, f"spend {summary.spend_id}", "a PSBT that finalizes"):
        return finalize(psbt, solver=miniscript_solver)


def extract_transaction(psbt: Psbt) -> tuple[str, str]:
    """Extract the network transaction of a finalized PSBT (BIP174 Transaction Extractor).

    Every input's scripts are run by btclib's script engine against the outputs they
    spend, and a fee above Core's ``-maxfeerate`` default (0.1 BTC/kvB) is refused.

    Parameters
    ----------
    psbt
        A PSBT returned by :func:`finalize_psbt`.

    Returns
    -------
    tuple of str
        ``(raw transaction hex, txid)``.

    Raises
    ------
    PsbtError
        If an input is not finalized or the transaction does not verify.
    """
    if not isinstance(psbt, Psbt):
        raise PsbtError(_FIELD, type(psbt).__name__, "a parsed PSBT")
    for i, psbt_in in enumerate(psbt.inputs):
        if not (psbt_in.final_script_sig or psbt_in.final_script_witness):
            raise PsbtError(
                _FIELD, f"input {i}", "a finalized PSBT (finalize it first: input not final)"
            )
    with _mapped(_FIELD, f"spend {spend_id(psbt)}", "a finalized PSBT whose scripts verify"):
        tx = extract_tx(psbt)
        return bytes(tx.serialize(include_witness=True)).hex(), bytes(tx.id).hex()


def verify_spend(tx_hex: str, prevouts: Sequence[tuple[int, str]]) -> None:
    """Run btclib's script engine over every input of a signed transaction.

    Parameters
    ----------
    tx_hex
        Raw transaction, hex.
    prevouts
        For each input in order, the output it spends: ``(value_sat, script_pubkey_hex)``
        [sat, hex].

    Raises
    ------
    PsbtError
        If the transaction cannot be read or an input's script fails (field ``tx``).
    InputError
        If ``prevouts`` is malformed.
    """
    if not isinstance(tx_hex, str):
        raise PsbtError("tx", type(tx_hex).__name__, "a raw transaction in hex")
    with _mapped("tx", _short(tx_hex), "a raw transaction in hex"):
        tx = Tx.parse(bytes.fromhex(tx_hex.strip()))
    outs: list[TxOut] = []
    for k, item in enumerate(prevouts):
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise InputError(f"prevouts[{k}]", item, "a pair (value_sat, script_pubkey_hex)")
        value = _check_int(f"prevouts[{k}].value_sat", item[0], 0, _MAX_SAT)
        script = _check_hex(f"prevouts[{k}].script_pubkey_hex", item[1])
        outs.append(TxOut(value, bytes.fromhex(script)))
    with _mapped("tx", f"transaction {bytes(tx.id).hex()}", "inputs whose scripts verify"):
        verify_transaction(outs, tx)
